import { decodeFunctionData, getAddress, type Address, type Hex, type PublicClient } from "viem";
import { instructionIngestorAbi } from "./abis.ts";
import type { Result, ResultStatusCode } from "./result.ts";

/**
 * Reading back what an ingestor ingested: the signed Result and its signatures are not in the
 * `ResultIngested` event (only bodyHash and the DA pointer are), so disputes and finalisation
 * take them from the ingest transaction's calldata. Shared by the watcher and the CLI.
 */

/** The Result and signatures exactly as they were ingested (read back from the ingest transaction). */
export type IngestedCall = { result: Result; signatures: Hex[] };

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
    const [r, , signatures] = decoded.args as unknown as [RawResult, unknown, Hex[]];
    if (r.requestId.toLowerCase() !== id || r.originChainId !== originChainId) return undefined;
    return { result: toResult(r), signatures: [...signatures] };
  }
  if (decoded.functionName === "ingestBatch") {
    const [results, , signatures] = decoded.args as unknown as [RawResult[], unknown, Hex[][]];
    const index = results.findIndex((r) => r.requestId.toLowerCase() === id && r.originChainId === originChainId);
    if (index < 0) return undefined;
    return { result: toResult(results[index]!), signatures: [...signatures[index]!] };
  }
  return undefined;
}
