import { hashTypedData, keccak256, type Address, type Hex, type TypedDataDomain } from "viem";
import { recoverDigestSigner } from "./signerRecovery.ts";

/** Result status of SPEC 3.2 (normative). */
export const ResultStatus = { OK: 0, PROGRAM_ERROR: 1 } as const;
export type ResultStatusCode = (typeof ResultStatus)[keyof typeof ResultStatus];

/** The EIP-712 struct every operator signs (SPEC 3.2, normative). */
export type Result = {
  requestId: Hex;
  originChainId: bigint;
  programId: Hex;
  inputHash: Hex;
  status: ResultStatusCode;
  instructionsHash: Hex;
  bodyHash: Hex;
};

export const resultTypes = {
  Result: [
    { name: "requestId", type: "bytes32" },
    { name: "originChainId", type: "uint256" },
    { name: "programId", type: "bytes32" },
    { name: "inputHash", type: "bytes32" },
    { name: "status", type: "uint8" },
    { name: "instructionsHash", type: "bytes32" },
    { name: "bodyHash", type: "bytes32" },
  ],
} as const;

/** Domain of the InstructionIngestor on the chain the result is ingested on. */
export function resultDomain(chainId: bigint | number, ingestor: Address): TypedDataDomain {
  return { name: "Versatus", version: "1", chainId: BigInt(chainId), verifyingContract: ingestor };
}

/** `inputHash` of a request: keccak256 of the raw input bytes. */
export function inputHash(input: Hex): Hex {
  return keccak256(input);
}

/** Recoveries kept by {@link recoverResultSigner} (a few seconds of results at saturation). */
const RECOVERED_MAX = 8_192;
const recovered = new Map<string, Address>();

/**
 * The signer of `result` for the ingestor `ingestor` on chain `chainId`. A gossiped result is
 * checked by the network layer (protocol/gossip.ts) and again by the collector (ingestor/verify.ts)
 * in the same process: the second check finds the (digest, signature) pair it already recovered
 * and costs a hash instead of a secp256k1 recovery (the node's largest CPU cost after startup in
 * the issue 14 profile). Only successful recoveries are kept; the key holds the exact signature.
 * The recovery itself runs on a recovery thread when the process configured some
 * (protocol/signerRecovery.ts).
 */
export async function recoverResultSigner(
  chainId: bigint | number,
  ingestor: Address,
  result: Result,
  signature: Hex,
): Promise<Address> {
  const digest = hashTypedData({
    domain: resultDomain(chainId, ingestor),
    types: resultTypes,
    primaryType: "Result",
    message: result,
  });
  const key = `${digest}:${signature.toLowerCase()}`;
  const known = recovered.get(key);
  if (known) return known;
  const signer = await recoverDigestSigner(digest, signature);
  recovered.set(key, signer);
  if (recovered.size > RECOVERED_MAX) recovered.delete(recovered.keys().next().value!);
  return signer;
}
