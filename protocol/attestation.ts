/**
 * Batch attestation (issue 14): the quorum signs one EIP-712 `ResultBatch(Result[] results)` over a
 * batch of Results, so `InstructionIngestor.ingestAttested` verifies the batch's signatures once
 * instead of per result. Signing a batch attests every Result in it: for equivocation and fraud
 * proofs (`StakingRegistry.proveEquivocation`, `proveUnbackedMint`, `proveForeignMint`) a batch
 * signature is written as evidence for one of its Results with {@link batchEvidence} (the 65-byte
 * signature followed by the batch's struct hashes). The on-chain mirror is
 * contracts/core/ResultSignatures.sol.
 */
import {
  concat,
  hashStruct,
  hashTypedData,
  keccak256,
  recoverTypedDataAddress,
  type Address,
  type Hex,
  type LocalAccount,
} from "viem";
import { resultDomain, resultTypes, type Result } from "./result.ts";

/** EIP-712 types of a batch attestation: the batch and the Result it lists. */
export const resultBatchTypes = {
  ResultBatch: [{ name: "results", type: "Result[]" }],
  Result: resultTypes.Result,
} as const;

/** The EIP-712 struct hash of one Result (what the ingestor's `ResultTypedData.structHash` computes). */
export function resultStructHash(result: Result): Hex {
  return hashStruct({ data: result, primaryType: "Result", types: resultTypes });
}

/** The EIP-712 digest an operator signs to attest `results` (in this order) for the ingestor
 * `ingestor` on chain `chainId`: `InstructionIngestor.batchDigest(results)`. */
export function batchDigest(chainId: bigint | number, ingestor: Address, results: readonly Result[]): Hex {
  if (results.length === 0) throw new Error("batchDigest: a batch needs at least one result");
  return hashTypedData({
    domain: resultDomain(chainId, ingestor),
    types: resultBatchTypes,
    primaryType: "ResultBatch",
    message: { results: [...results] },
  });
}

/** `account` attests `results` as one batch for the ingestor `ingestor` on chain `chainId`. */
export async function signBatch(
  account: LocalAccount,
  chainId: bigint | number,
  ingestor: Address,
  results: readonly Result[],
): Promise<Hex> {
  if (results.length === 0) throw new Error("signBatch: a batch needs at least one result");
  return account.signTypedData({
    domain: resultDomain(chainId, ingestor),
    types: resultBatchTypes,
    primaryType: "ResultBatch",
    message: { results: [...results] },
  });
}

/** The signer of a batch attestation. */
export async function recoverBatchSigner(
  chainId: bigint | number,
  ingestor: Address,
  results: readonly Result[],
  signature: Hex,
): Promise<Address> {
  return recoverTypedDataAddress({
    domain: resultDomain(chainId, ingestor),
    types: resultBatchTypes,
    primaryType: "ResultBatch",
    message: { results: [...results] },
    signature,
  });
}

/** Orders batch signatures as `ingestAttested` requires (strictly ascending signer address);
 * throws on two signatures by one signer. */
export function orderBatchSignatures(signed: readonly { signer: Address; signature: Hex }[]): Hex[] {
  const sorted = [...signed].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  for (let i = 1; i < sorted.length; i++) {
    if (BigInt(sorted[i]!.signer) === BigInt(sorted[i - 1]!.signer)) {
      throw new Error(`orderBatchSignatures: ${sorted[i]!.signer} signed twice`);
    }
  }
  return sorted.map((s) => s.signature);
}

/** A batch signature as evidence that its signer attested one of the batch's Results: the 65-byte
 * signature followed by the struct hashes of all the batch's Results in order (the registry's
 * proofs accept it wherever they accept a result signature). */
export function batchEvidence(signature: Hex, results: readonly Result[]): Hex {
  if ((signature.length - 2) / 2 !== 65) throw new Error("batchEvidence: the signature must be 65 bytes");
  if (results.length === 0) throw new Error("batchEvidence: a batch needs at least one result");
  return concat([signature, ...results.map(resultStructHash)]);
}

/** keccak256 of the concatenated struct hashes: the `Result[]` member of the signed struct. */
export function batchResultsHash(results: readonly Result[]): Hex {
  return keccak256(concat(results.map(resultStructHash)));
}
