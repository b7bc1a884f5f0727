import {
  decodeFunctionData,
  getAddress,
  recoverTypedDataAddress,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { instructionIngestorAbi } from "./generated/abis.ts";
import type { Instruction, OpCode } from "./instructions.ts";
import { resultDomain, resultTypes, type Result, type ResultStatusCode } from "./result.ts";

/**
 * Reading back what an ingestor ingested: the signed Result and its signatures are not in the
 * `ResultIngested` event (only bodyHash and the DA pointer are), so disputes and finalisation
 * take them from the ingest transaction's calldata. Shared by the watcher and the CLI.
 */

/**
 * The Result, its instructions and signatures exactly as they were ingested (read back from the
 * ingest transaction). `instructions` is absent when the call was rebuilt from a DA record.
 */
export type IngestedCall = { result: Result; signatures: Hex[]; instructions?: Instruction[] };

type RawInstruction = { op: number; target: Address; amount: bigint; data: Hex };
const toInstructions = (list: readonly RawInstruction[]): Instruction[] =>
  list.map((ix) => ({
    op: ix.op as OpCode,
    target: getAddress(ix.target),
    amount: ix.amount,
    data: ix.data.toLowerCase() as Hex,
  }));

type RawResult = {
  requestId: Hex;
  originChainId: bigint;
  programId: Hex;
  inputHash: Hex;
  status: number;
  instructionsHash: Hex;
  bodyHash: Hex;
};

const toResult = (r: RawResult): Result => ({
  requestId: r.requestId.toLowerCase() as Hex,
  originChainId: r.originChainId,
  programId: r.programId.toLowerCase() as Hex,
  inputHash: r.inputHash.toLowerCase() as Hex,
  status: r.status as ResultStatusCode,
  instructionsHash: r.instructionsHash.toLowerCase() as Hex,
  bodyHash: r.bodyHash.toLowerCase() as Hex,
});

/**
 * Decodes `ingest` / `ingestBatch` calldata of the transaction that ingested (originChainId,
 * requestId). Undefined when the transaction did not call the ingestor directly (e.g. through
 * a multisig): the caller then rebuilds the Result from the DA record.
 */
export async function decodeIngestedCall(
  client: PublicClient,
  ingestor: Address,
  transactionHash: Hex,
  originChainId: bigint,
  requestId: Hex,
): Promise<IngestedCall | undefined> {
  const tx = await client.getTransaction({ hash: transactionHash });
  if (!tx.to || getAddress(tx.to) !== getAddress(ingestor)) return undefined;
  let decoded;
  try {
    decoded = decodeFunctionData({ abi: instructionIngestorAbi, data: tx.input });
  } catch {
    return undefined;
  }
  const id = requestId.toLowerCase();
  if (decoded.functionName === "ingest") {
    const [r, ix, signatures] = decoded.args as unknown as [RawResult, RawInstruction[], Hex[]];
    if (r.requestId.toLowerCase() !== id || r.originChainId !== originChainId) return undefined;
    return { result: toResult(r), signatures: [...signatures], instructions: toInstructions(ix) };
  }
  if (decoded.functionName === "ingestBatch") {
    const [results, ix, signatures] = decoded.args as unknown as [RawResult[], RawInstruction[][], Hex[][]];
    const index = results.findIndex((r) => r.requestId.toLowerCase() === id && r.originChainId === originChainId);
    if (index < 0) return undefined;
    return {
      result: toResult(results[index]!),
      signatures: [...signatures[index]!],
      instructions: toInstructions(ix[index]!),
    };
  }
  return undefined;
}

/**
 * The signers of an ingested Result, recovered from its signatures under the ingesting chain's
 * EIP-712 domain, in ascending address order: the full list a challenge names as the accused (the
 * DisputeManager checks it against the signers commitment recorded at ingestion).
 */
export async function recoverSigners(call: IngestedCall, chainId: bigint, ingestor: Address): Promise<Address[]> {
  const signers = await Promise.all(
    call.signatures.map((signature) =>
      recoverTypedDataAddress({
        domain: resultDomain(chainId, ingestor),
        types: resultTypes,
        primaryType: "Result",
        message: call.result,
        signature,
      }),
    ),
  );
  return [...new Set(signers.map((s) => getAddress(s)))].sort((a, b) =>
    BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0,
  );
}
