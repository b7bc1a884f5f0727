import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { STATE_PREFIX } from "./queues.ts";
import type { Result, ResultStatusCode } from "./result.ts";

/**
 * Equivocation evidence (SPEC 3.5): signatures one operator made over a `Result` under one
 * ingestor's EIP-712 domain. The collector is the service that sees conflicting signatures (two
 * bodies signed by one operator for one request), so it appends both to a Redis stream that every
 * watcher reads; a watcher that holds two different Results signed by one operator for one
 * (originChainId, requestId) calls `StakingRegistry.proveEquivocation`.
 *
 * Stream `{versatus}evidence`, one entry per signature, field `data` = JSON {@link EvidenceJson}.
 */
export const EVIDENCE_STREAM = `${STATE_PREFIX}evidence`;
/** Entries kept in the stream (approximate trim). */
export const EVIDENCE_STREAM_MAXLEN = 100_000;

export type EvidenceJson = {
  result: {
    requestId: Hex;
    originChainId: string;
    programId: Hex;
    inputHash: Hex;
    status: number;
    instructionsHash: Hex;
    bodyHash: Hex;
  };
  signature: Hex;
  signer: Address;
  ingestorChainId: string;
  ingestor: Address;
};

export type Evidence = {
  result: Result;
  signature: Hex;
  signer: Address;
  ingestorChainId: bigint;
  ingestor: Address;
};

export function evidenceToJson(evidence: Evidence): EvidenceJson {
  return {
    result: { ...evidence.result, originChainId: evidence.result.originChainId.toString() },
    signature: evidence.signature,
    signer: getAddress(evidence.signer),
    ingestorChainId: evidence.ingestorChainId.toString(),
    ingestor: getAddress(evidence.ingestor),
  };
}

const bytes32 = (v: unknown): v is Hex => typeof v === "string" && isHex(v, { strict: true }) && v.length === 66;
const uint = (v: unknown): v is string => typeof v === "string" && /^(0|[1-9][0-9]*)$/.test(v);

/** Parses one stream entry; undefined when malformed (the stream is input from other processes). */
export function evidenceFromJson(text: string): Evidence | undefined {
  let value: EvidenceJson;
  try {
    value = JSON.parse(text) as EvidenceJson;
  } catch {
    return undefined;
  }
  const r = value?.result;
  if (
    !r ||
    !bytes32(r.requestId) ||
    !uint(r.originChainId) ||
    !bytes32(r.programId) ||
    !bytes32(r.inputHash) ||
    (r.status !== 0 && r.status !== 1) ||
    !bytes32(r.instructionsHash) ||
    !bytes32(r.bodyHash) ||
    typeof value.signature !== "string" ||
    !isHex(value.signature, { strict: true }) ||
    value.signature.length !== 132 ||
    typeof value.signer !== "string" ||
    !isAddress(value.signer, { strict: false }) ||
    !uint(value.ingestorChainId) ||
    typeof value.ingestor !== "string" ||
    !isAddress(value.ingestor, { strict: false })
  ) {
    return undefined;
  }
  return {
    result: {
      requestId: r.requestId.toLowerCase() as Hex,
      originChainId: BigInt(r.originChainId),
      programId: r.programId.toLowerCase() as Hex,
      inputHash: r.inputHash.toLowerCase() as Hex,
      status: r.status as ResultStatusCode,
      instructionsHash: r.instructionsHash.toLowerCase() as Hex,
      bodyHash: r.bodyHash.toLowerCase() as Hex,
    },
    signature: value.signature.toLowerCase() as Hex,
    signer: getAddress(value.signer),
    ingestorChainId: BigInt(value.ingestorChainId),
    ingestor: getAddress(value.ingestor),
  };
}
