import { getAddress, isHex, keccak256, size, type Address, type Hex } from "viem";
import { instructionsHash, type Instruction, type OpCode } from "../protocol/instructions.ts";
import { recordBodyOfResultJob, type ResultJob, type SignedChainResult } from "../protocol/jobs.ts";
import { contextDifferences } from "../protocol/programContext.ts";
import {
  instructionsForChain,
  recordBodyHash,
  recordContext,
  resultChains,
  SIGNATURE_BYTES,
  type ExecutionRecordBody,
} from "../protocol/record.ts";
import { recoverResultSigner, type Result } from "../protocol/result.ts";
import { enforceOutputRule, type ControllerResolver } from "../protocol/conservation.ts";
import type { InstructionsByChain } from "../protocol/programOutput.ts";
import type { RequestRecord } from "../protocol/ruleContext.ts";
import type { ChainClients, OperatorSetView } from "./chains.ts";

/** Half the secp256k1 order: the ingestor rejects signatures with a higher s (malleability). */
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** Why a result job was ignored. Every reason is permanent: the same bytes will never verify. */
export type RejectReason =
  | "malformed"
  | "unknown_chain"
  | "wrong_oracle"
  | "chains_mismatch"
  | "fields_mismatch"
  | "body_hash_mismatch"
  | "bad_signature"
  | "signer_mismatch"
  | "inactive_operator"
  | "unknown_request"
  | "context_mismatch"
  | "output_rule";

export type VerifiedResult = {
  ok: true;
  operator: Address;
  originChainId: bigint;
  requestId: Hex;
  bodyHash: Hex;
  body: ExecutionRecordBody;
  /** Per result chain (ascending chainId): the Result, its instructions and this operator's signature. */
  chains: { chainId: bigint; result: Result; instructions: Instruction[]; signature: Hex }[];
};

export type Rejected = { ok: false; reason: RejectReason; detail: string };

const isBytes = (value: unknown, bytes?: number): value is Hex =>
  typeof value === "string" &&
  isHex(value, { strict: true }) &&
  value.length % 2 === 0 &&
  (bytes === undefined || size(value) === bytes);

const isUint = (value: unknown): value is string => typeof value === "string" && /^(0|[1-9][0-9]*)$/.test(value);

function reject(reason: RejectReason, detail: string): Rejected {
  return { ok: false, reason, detail };
}

function toInstructions(list: SignedChainResult["instructions"]): Instruction[] {
  return list.map((ix) => ({
    op: ix.op as OpCode,
    target: getAddress(ix.target),
    amount: BigInt(ix.amount),
    data: ix.data.toLowerCase() as Hex,
  }));
}

/** Shape check of an untrusted queue payload (a worker may be buggy or hostile). */
function wellFormed(job: ResultJob): string | undefined {
  if (typeof job !== "object" || job === null) return "not an object";
  if (!isBytes(job.operator, 20)) return "operator";
  if (!isUint(job.originChainId)) return "originChainId";
  if (!isBytes(job.oracle, 20)) return "oracle";
  if (!isBytes(job.requestId, 32)) return "requestId";
  if (!isBytes(job.programId, 32)) return "programId";
  if (!isBytes(job.input)) return "input";
  const c = job.context;
  if (typeof c !== "object" || c === null) return "context";
  if (
    c.originChainId !== job.originChainId ||
    c.oracle?.toLowerCase() !== job.oracle.toLowerCase() ||
    c.requestId?.toLowerCase() !== job.requestId.toLowerCase() ||
    c.programId?.toLowerCase() !== job.programId.toLowerCase()
  ) {
    return "context (originChainId, oracle, requestId and programId must equal the job's)";
  }
  const o = job.outcome;
  if (typeof o !== "object" || o === null) return "outcome";
  if (o.status !== 0 && o.status !== 1) return "outcome.status";
  if (!isUint(o.fuelUsed) || BigInt(o.fuelUsed) >= 1n << 64n) return "outcome.fuelUsed";
  if (!isBytes(o.stdout)) return "outcome.stdout";
  if (!isBytes(o.stderr)) return "outcome.stderr";
  if (!Array.isArray(job.chains) || job.chains.length === 0) return "chains";
  for (const [i, c] of job.chains.entries()) {
    if (typeof c !== "object" || c === null || !isUint(c.chainId)) return `chains[${i}].chainId`;
    if (!isBytes(c.signature, SIGNATURE_BYTES)) return `chains[${i}].signature`;
    const r = c.result;
    if (typeof r !== "object" || r === null) return `chains[${i}].result`;
    if (!isBytes(r.requestId, 32) || !isBytes(r.programId, 32) || !isBytes(r.inputHash, 32))
      return `chains[${i}].result`;
    if (!isBytes(r.instructionsHash, 32) || !isBytes(r.bodyHash, 32) || !isUint(r.originChainId))
      return `chains[${i}].result`;
    if (!Array.isArray(c.instructions)) return `chains[${i}].instructions`;
    for (const [j, ix] of c.instructions.entries()) {
      const ok =
        typeof ix === "object" &&
        ix !== null &&
        Number.isInteger(ix.op) &&
        ix.op >= 0 &&
        ix.op <= 4 &&
        isBytes(ix.target, 20) &&
        isUint(ix.amount) &&
        BigInt(ix.amount) < 1n << 256n &&
        isBytes(ix.data);
      if (!ok) return `chains[${i}].instructions[${j}]`;
    }
  }
  return undefined;
}

/**
 * Checks one worker's result job completely: well-formed; every chain configured; the chain list is
 * exactly the record's result chains; every Result field derives from the body (so the record the
 * collector writes hashes to the signed bodyHash); each signature is 65 bytes, low-s, recovers to
 * the claimed operator under that chain's EIP-712 domain, and the operator is active there.
 * Anything else is rejected, never retried, and never blocks the quorum of the others.
 */
export async function verifyResultJob(
  job: ResultJob,
  chains: ReadonlyMap<string, ChainClients>,
  operatorSet: (chain: ChainClients) => Promise<OperatorSetView>,
): Promise<VerifiedResult | Rejected> {
  const bad = wellFormed(job);
  if (bad) return reject("malformed", bad);
  const origin = chains.get(job.originChainId);
  if (!origin) return reject("unknown_chain", `origin chain ${job.originChainId} is not configured`);
  if (getAddress(job.oracle) !== origin.oracle) return reject("wrong_oracle", job.oracle);
  let body: ExecutionRecordBody;
  let bodyHash: Hex;
  try {
    // The execution record body every honest operator signed (SPEC 5), rebuilt with the one builder.
    body = recordBodyOfResultJob(job);
    bodyHash = recordBodyHash(body);
  } catch (error) {
    return reject("malformed", error instanceof Error ? error.message.split("\n")[0]! : String(error));
  }
  const expectedChains = resultChains(body).map(String);
  const given = job.chains.map((c) => c.chainId);
  if (new Set(given).size !== given.length || [...given].sort().join() !== [...expectedChains].sort().join()) {
    return reject("chains_mismatch", `got [${given.join(",")}], the record needs [${expectedChains.join(",")}]`);
  }
  const operator = getAddress(job.operator);
  const inputHashValue = keccak256(body.input);
  const verified: VerifiedResult["chains"] = [];
  for (const entry of job.chains) {
    const target = chains.get(entry.chainId);
    if (!target) return reject("unknown_chain", `chain ${entry.chainId} is not configured`);
    const instructions = toInstructions(entry.instructions);
    // The instructions posted must be the record's for that chain (none on PROGRAM_ERROR).
    if (instructionsHash(instructions) !== instructionsHash(instructionsForChain(body, target.chainId))) {
      return reject("fields_mismatch", `chain ${entry.chainId}: instructions differ from the record's`);
    }
    const result: Result = {
      requestId: body.requestId,
      originChainId: body.originChainId,
      programId: body.programId,
      inputHash: inputHashValue,
      status: body.status,
      instructionsHash: instructionsHash(instructions),
      bodyHash,
    };
    const r = entry.result;
    const same =
      r.requestId.toLowerCase() === result.requestId &&
      BigInt(r.originChainId) === result.originChainId &&
      r.programId.toLowerCase() === result.programId &&
      r.inputHash.toLowerCase() === result.inputHash &&
      r.status === result.status &&
      r.instructionsHash.toLowerCase() === result.instructionsHash;
    if (!same) return reject("fields_mismatch", `chain ${entry.chainId}`);
    if (r.bodyHash.toLowerCase() !== bodyHash) return reject("body_hash_mismatch", `chain ${entry.chainId}`);
    const signature = entry.signature.toLowerCase() as Hex;
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = Number.parseInt(signature.slice(130, 132), 16);
    if (s === 0n || s > SECP256K1_HALF_N || (v !== 27 && v !== 28)) return reject("bad_signature", "high s or bad v");
    let signer: Address;
    try {
      signer = await recoverResultSigner(target.chainId, target.ingestor, result, signature);
    } catch {
      return reject("bad_signature", `chain ${entry.chainId}: does not recover`);
    }
    if (signer !== operator) return reject("signer_mismatch", `chain ${entry.chainId}: recovers to ${signer}`);
    const set = await operatorSet(target);
    if (!set.active.has(operator.toLowerCase())) return reject("inactive_operator", `${operator} on ${entry.chainId}`);
    verified.push({ chainId: target.chainId, result, instructions, signature });
  }
  verified.sort((a, b) => (a.chainId < b.chainId ? -1 : 1));
  return {
    ok: true,
    operator,
    originChainId: body.originChainId,
    requestId: body.requestId,
    bodyHash,
    body,
    chains: verified,
  };
}

/**
 * A verified result's context against the origin's request record: the program must have run with
 * the requester, escrow, fee, block and time the chain recorded (never a relayer's or a worker's
 * word). Undefined when they agree.
 */
export function checkVerifiedContext(verified: VerifiedResult, request: RequestRecord): Rejected | undefined {
  const context = recordContext(verified.body);
  const differences: string[] = contextDifferences(context, {
    ...context,
    programId: request.programId,
    requester: request.requester,
    asset: request.token,
    amount: request.amount,
    fee: request.fee,
    blockNumber: request.blockNumber,
    timestamp: request.blockTimestamp,
  });
  if (verified.body.input.toLowerCase() !== request.input.toLowerCase()) differences.push("input");
  if (differences.length === 0) return undefined;
  return reject("context_mismatch", `differs from the origin's request in ${differences.join(", ")}`);
}

/**
 * The collector's chain checks of a verified result against the origin's request: first its
 * context (checkVerifiedContext, every status), then the output rule (SPEC 3.4) on an OK result,
 * recomputed from the signed instructions and the request (escrow, fee, program): a worker's OK
 * result with an unbacked or foreign mint, a burn of another token or spending over escrow minus
 * fee is refused, so no quorum of such results is ever posted. PROGRAM_ERROR results carry no
 * instructions.
 */
export async function checkVerifiedOutputRule(
  verified: VerifiedResult,
  request: RequestRecord | undefined,
  controllers: ControllerResolver,
): Promise<Rejected | undefined> {
  if (request) {
    const wrongContext = checkVerifiedContext(verified, request);
    if (wrongContext) return wrongContext;
  }
  if (verified.body.status !== 0) return undefined;
  if (!request) return reject("unknown_request", `no request ${verified.requestId} on chain ${verified.originChainId}`);
  if (request.programId !== verified.body.programId.toLowerCase()) {
    return reject("output_rule", `the request runs program ${request.programId}, not ${verified.body.programId}`);
  }
  const byChain: InstructionsByChain = new Map(verified.chains.map((c) => [c.chainId, c.instructions]));
  const verdict = await enforceOutputRule(
    byChain,
    {
      originChainId: verified.originChainId,
      programId: request.programId,
      token: request.token,
      amount: request.amount,
      fee: request.fee,
    },
    controllers,
  );
  return verdict.ok ? undefined : reject("output_rule", verdict.message);
}
