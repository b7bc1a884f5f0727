import type { Address, Hex } from "viem";
import type { OpCode } from "./instructions.ts";
import { contextFromJson, type ProgramContextJson } from "./programContext.ts";
import { buildRecordBody, type ExecutionRecordBody } from "./record.ts";

/**
 * Payloads carried by the queues of protocol/queues.ts. Everything is JSON: bigints travel as
 * decimal strings, bytes as 0x-hex.
 */

/** An `ExecutionRequested` event as the relayer saw it (after confirmations). */
export type RequestJob = {
  chainId: string;
  oracle: Address;
  requestId: Hex;
  programId: Hex;
  requester: Address;
  token: Address;
  amount: string;
  deadline: string;
  input: Hex;
  blockNumber: string;
  /** Unix seconds of the request's block: the program's fixed clock. */
  blockTimestamp: string;
  transactionHash: Hex;
  logIndex: number;
};

/** Work assigned to one operator: the request, plus when the scheduler will give it to someone else. */
export type WorkJob = RequestJob & {
  operator: Address;
  /** Unix ms after which the scheduler reassigns this work (work stealing). */
  reassignAfter: number;
};

/** Instructions and signed Result of one target chain. */
export type SignedChainResult = {
  chainId: string;
  ingestor: Address;
  /** Result fields as signed (bigints as decimal strings). */
  result: {
    requestId: Hex;
    originChainId: string;
    programId: Hex;
    inputHash: Hex;
    status: 0 | 1;
    instructionsHash: Hex;
    bodyHash: Hex;
  };
  instructions: { op: number; target: Address; amount: string; data: Hex }[];
  signature: Hex;
};

/** What a worker pushes to the results queue after running a request. */
export type ResultJob = {
  operator: Address;
  originChainId: string;
  oracle: Address;
  requestId: Hex;
  programId: Hex;
  /**
   * The request context the program ran with (from the origin's event and the fee at its block):
   * part of the record body. Its originChainId, oracle, requestId and programId equal the fields
   * above.
   */
  context: ProgramContextJson;
  input: Hex;
  outcome: {
    kind: string;
    status: 0 | 1;
    exitCode: number | null;
    fuelUsed: string;
    stdout: Hex;
    stderr: Hex;
    message: string;
  };
  /** One entry per chain the result touches (the origin always, even with no instructions). */
  chains: SignedChainResult[];
};

/** A quorum-signed result ready to post on `chainId`. */
export type PostJob = {
  chainId: string;
  originChainId: string;
  requestId: Hex;
  result: SignedChainResult["result"];
  instructions: SignedChainResult["instructions"];
  /** Signatures ordered by ascending signer address, as the ingestor requires. */
  signatures: Hex[];
  daPointer: Hex;
};

// ---------------------------------------------------------------------------------------------
// Scheduling contract between the relayer and the workers (added with the relayer and worker).
// ---------------------------------------------------------------------------------------------

/** Job kinds a worker may accept; the relayer only schedules `execute` today. */
export const JOB_KINDS = ["execute"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * What a worker writes to `redisKeys.operators` (field = its lower-case address) every few
 * seconds, and what the scheduler reads before choosing a quorum.
 */
export type OperatorReport = {
  /** Jobs waiting or running in the operator's work queue. */
  depth: number;
  /** Depth at which the operator counts as full: the scheduler prefers others (SPEC 6). */
  capacity: number;
  /** Job kinds it runs. */
  kinds: string[];
  /** Program ids (lower-case 0x hex) it runs; null = every program. */
  programs: string[] | null;
  /** Unix ms of the report; an old report counts as "unknown". */
  updatedAt: number;
};

/**
 * The execution record body (SPEC 5) a ResultJob stands for: the fields the worker hashed into
 * `bodyHash`, rebuilt with protocol/record.ts `buildRecordBody` (the one builder): the context,
 * the input, `outcome.status`, `outcome.stdout`, `outcome.stderr` (capped), `outcome.fuelUsed`
 * and the non-empty `chains[].instructions` (none at all when status is PROGRAM_ERROR). Throws
 * on a malformed context or body.
 */
export function recordBodyOfResultJob(job: ResultJob): ExecutionRecordBody {
  return buildRecordBody(contextFromJson(job.context), {
    input: job.input,
    status: job.outcome.status,
    stdout: job.outcome.stdout,
    stderr: job.outcome.stderr,
    fuelUsed: BigInt(job.outcome.fuelUsed),
    instructions: job.chains.map((c) => ({
      chainId: BigInt(c.chainId),
      instructions: c.instructions.map((ix) => ({
        op: ix.op as OpCode,
        target: ix.target,
        amount: BigInt(ix.amount),
        data: ix.data,
      })),
    })),
  });
}
