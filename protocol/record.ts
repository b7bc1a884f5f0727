import {
  bytesToHex,
  decodeAbiParameters,
  encodeAbiParameters,
  getAddress,
  hexToBytes,
  isAddress,
  isHex,
  keccak256,
  size,
  type Address,
  type Hex,
} from "viem";
import { z } from "zod";
import { InvalidInputError } from "./errors.ts";
import { instructionAbiComponents, instructionsHash, Op, type Instruction, type OpCode } from "./instructions.ts";
import { normalizeContext, type ProgramContext } from "./programContext.ts";
import { inputHash, ResultStatus, type Result, type ResultStatusCode } from "./result.ts";
import type { Attribution } from "./scheduling.ts";

/**
 * The execution record of SPEC 5: what the collector writes to DA before posting a result, and
 * what watchers read back to re-execute it.
 *
 * Encoding (version 2), chosen so that Solidity can recompute `bodyHash` with plain `abi.encode`:
 *
 *   body      = (uint256 originChainId, address oracle, bytes32 requestId, bytes32 programId,
 *                address requester, address asset, uint256 amount, uint256 fee,
 *                uint64 blockNumber, uint64 timestamp,
 *                bytes input, uint8 status, bytes stdout, bytes stderr, uint64 fuelUsed,
 *                (uint256 chainId, Instruction[] instructions)[] instructions)
 *
 * The first ten fields are the program's request context (protocol/programContext.ts, the
 * variables the program read): `bodyHash` covers what the program saw, so a watcher re-executing
 * from the record runs it with the same context. Version 1 had no context fields.
 *   bodyHash  = keccak256(abi.encode(uint8 2, body))          (RECORD_BODY_VERSION: unchanged since v2)
 *   record v2 = abi.encode(uint8 2, body, (uint256 chainId, address signer, bytes signature)[] signatures)
 *   record v3 = abi.encode(uint8 3, body, signatures, (address operator, uint8 how, address sharedFrom,
 *                          address slotOf, uint16 sharerBps)[] attributions)
 *
 * Version 3 (RECORD_VERSION, what encodeRecord writes) adds an unsigned envelope field: who actually
 * did the work (protocol/scheduling.ts `attributeWork`). `bodyHash` cannot cover it (operators sign
 * before anyone knows who steals), so it is the collector's statement, checkable by anyone from the
 * quorum rule, the signatures and the share offers (docs/scheduling.md). The body and `bodyHash` are
 * the same in both versions; a v2 record still decodes (with no attributions).
 *
 * Canonical form (the decoder rejects anything else, so one record has exactly one encoding and
 * one content address): instruction groups sorted by strictly increasing chainId and never empty;
 * signatures sorted by (chainId, signer) strictly increasing, 65 bytes each, and only for chains
 * that receive a result (the origin chain and every chain with instructions); attributions sorted
 * by strictly increasing operator, each a signer of the record, `sharedFrom` and `sharerBps` set
 * only for `shared-in`, `slotOf` only for `stolen` (zero address / 0 otherwise); stderr at most
 * STDERR_CAP_BYTES; and the ABI words exactly as `abi.encode` writes them (re-encoding the
 * decoded value must give back the same bytes).
 */
export const RECORD_VERSION = 3;

/** The version word inside `bodyHash` (the body's encoding has not changed since record v2). */
export const RECORD_BODY_VERSION = 2;

/** Record versions decodeRecord reads. */
export const READABLE_RECORD_VERSIONS = [2, 3] as const;

/** stderr is diagnostics: it is kept (capped) so a watcher can see why a program failed. */
export const STDERR_CAP_BYTES = 4096;

export const SIGNATURE_BYTES = 65;

export type ChainInstructions = { chainId: bigint; instructions: Instruction[] };

export type ExecutionRecordBody = {
  originChainId: bigint;
  oracle: Address;
  requestId: Hex;
  programId: Hex;
  /** The request context (with the four fields above): see protocol/programContext.ts. */
  requester: Address;
  asset: Address;
  amount: bigint;
  fee: bigint;
  blockNumber: bigint;
  timestamp: bigint;
  input: Hex;
  status: ResultStatusCode;
  stdout: Hex;
  stderr: Hex;
  fuelUsed: bigint;
  /** Instructions per destination chain (SPEC 3.3), one group per chain. */
  instructions: ChainInstructions[];
};

/** One operator's EIP-712 signature over the Result it signed for `chainId`. */
export type OperatorSignature = { chainId: bigint; signer: Address; signature: Hex };

/** Who did the work (protocol/scheduling.ts `Attribution`), as the record's envelope carries it. */
export type RecordAttribution = Attribution;

export type ExecutionRecord = {
  body: ExecutionRecordBody;
  signatures: OperatorSignature[];
  /**
   * Unsigned envelope (record v3): one entry per signer that the collector could attribute, sorted
   * by operator. Not covered by `bodyHash`. Absent or empty: not known (every v2 record).
   */
  attributions?: RecordAttribution[];
};

/** `how` on the wire (uint8). */
export const ATTRIBUTION_HOW = [
  "quorum",
  "shared-in",
  "stolen",
  "extra",
] as const satisfies readonly Attribution["how"][];

const chainInstructionsComponents = [
  { name: "chainId", type: "uint256" },
  { name: "instructions", type: "tuple[]", components: instructionAbiComponents },
] as const;

export const recordBodyAbiComponents = [
  { name: "originChainId", type: "uint256" },
  { name: "oracle", type: "address" },
  { name: "requestId", type: "bytes32" },
  { name: "programId", type: "bytes32" },
  { name: "requester", type: "address" },
  { name: "asset", type: "address" },
  { name: "amount", type: "uint256" },
  { name: "fee", type: "uint256" },
  { name: "blockNumber", type: "uint64" },
  { name: "timestamp", type: "uint64" },
  { name: "input", type: "bytes" },
  { name: "status", type: "uint8" },
  { name: "stdout", type: "bytes" },
  { name: "stderr", type: "bytes" },
  { name: "fuelUsed", type: "uint64" },
  { name: "instructions", type: "tuple[]", components: chainInstructionsComponents },
] as const;

const signatureComponents = [
  { name: "chainId", type: "uint256" },
  { name: "signer", type: "address" },
  { name: "signature", type: "bytes" },
] as const;

const bodyParams = [
  { name: "version", type: "uint8" },
  { name: "body", type: "tuple", components: recordBodyAbiComponents },
] as const;

const attributionComponents = [
  { name: "operator", type: "address" },
  { name: "how", type: "uint8" },
  { name: "sharedFrom", type: "address" },
  { name: "slotOf", type: "address" },
  { name: "sharerBps", type: "uint16" },
] as const;

const recordParamsV2 = [
  ...bodyParams,
  { name: "signatures", type: "tuple[]", components: signatureComponents },
] as const;

const recordParams = [
  ...recordParamsV2,
  { name: "attributions", type: "tuple[]", components: attributionComponents },
] as const;

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

function fail(field: string, expected: string, details?: string): never {
  throw new InvalidInputError(field, expected, details === undefined ? {} : { details });
}

function checkBytes(field: string, value: unknown, exactBytes?: number): void {
  if (typeof value !== "string" || !isHex(value, { strict: true }) || value.length % 2 !== 0) {
    fail(field, exactBytes === undefined ? "0x-prefixed hex bytes" : `${exactBytes} bytes as 0x-hex`);
  }
  if (exactBytes !== undefined && size(value) !== exactBytes) {
    fail(field, `${exactBytes} bytes`, `got ${size(value)} bytes`);
  }
}

function checkUint(field: string, value: unknown, max: bigint): void {
  if (typeof value !== "bigint" || value < 0n || value > max) fail(field, `an unsigned integer <= ${max}`);
}

function checkAddress(field: string, value: unknown): void {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) fail(field, "a 20-byte address");
}

/** Validates everything canonical-ness requires of a body. Throws InvalidInputError naming the field. */
export function validateRecordBody(body: ExecutionRecordBody): void {
  checkUint("record.originChainId", body.originChainId, UINT256_MAX);
  checkAddress("record.oracle", body.oracle);
  checkBytes("record.requestId", body.requestId, 32);
  checkBytes("record.programId", body.programId, 32);
  checkAddress("record.requester", body.requester);
  checkAddress("record.asset", body.asset);
  checkUint("record.amount", body.amount, UINT256_MAX);
  checkUint("record.fee", body.fee, UINT256_MAX);
  checkUint("record.blockNumber", body.blockNumber, UINT64_MAX);
  checkUint("record.timestamp", body.timestamp, UINT64_MAX);
  checkBytes("record.input", body.input);
  if (body.status !== ResultStatus.OK && body.status !== ResultStatus.PROGRAM_ERROR) {
    fail("record.status", "0 (OK) or 1 (PROGRAM_ERROR)", `got ${String(body.status)}`);
  }
  checkBytes("record.stdout", body.stdout);
  checkBytes("record.stderr", body.stderr);
  if (size(body.stderr) > STDERR_CAP_BYTES) {
    fail("record.stderr", `at most ${STDERR_CAP_BYTES} bytes (use capStderr)`, `got ${size(body.stderr)} bytes`);
  }
  checkUint("record.fuelUsed", body.fuelUsed, UINT64_MAX);
  let previousChain = -1n;
  body.instructions.forEach((group, i) => {
    const where = `record.instructions[${i}]`;
    checkUint(`${where}.chainId`, group.chainId, UINT256_MAX);
    if (group.chainId <= previousChain) fail(`${where}.chainId`, "chain ids in strictly increasing order");
    previousChain = group.chainId;
    if (group.instructions.length === 0)
      fail(`${where}.instructions`, "at least one instruction (omit chains without any)");
    group.instructions.forEach((ix, j) => {
      const at = `${where}.instructions[${j}]`;
      if (!Object.values(Op).includes(ix.op)) fail(`${at}.op`, "an opcode 0..4", `got ${String(ix.op)}`);
      checkAddress(`${at}.target`, ix.target);
      checkUint(`${at}.amount`, ix.amount, UINT256_MAX);
      checkBytes(`${at}.data`, ix.data);
    });
  });
}

/** What the one record-body builder needs besides the context: the run's outcome as it will be signed. */
export type RecordRun = {
  input: Hex;
  status: ResultStatusCode;
  stdout: Hex;
  stderr: Hex;
  fuelUsed: bigint;
  /** Per chain, in any order; empty groups are dropped, and PROGRAM_ERROR keeps none. */
  instructions: readonly ChainInstructions[];
};

/**
 * The one function that builds an execution record body (SPEC 5): the worker after a run, the
 * collector from a worker's result job, the watcher's re-execution and `versatus program simulate`
 * all go through it, so the same request and run give the same bytes (and `bodyHash`) everywhere.
 */
export function buildRecordBody(context: ProgramContext, run: RecordRun): ExecutionRecordBody {
  const ctx = normalizeContext(context);
  const instructions =
    run.status === ResultStatus.OK
      ? run.instructions
          .filter((g) => g.instructions.length > 0)
          .map((g) => ({
            chainId: g.chainId,
            instructions: g.instructions.map((ix) => ({
              op: ix.op,
              target: getAddress(ix.target),
              amount: ix.amount,
              data: ix.data.toLowerCase() as Hex,
            })),
          }))
          .sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0))
      : [];
  return {
    originChainId: ctx.originChainId,
    oracle: getAddress(ctx.oracle),
    requestId: ctx.requestId,
    programId: ctx.programId,
    requester: getAddress(ctx.requester),
    asset: getAddress(ctx.asset),
    amount: ctx.amount,
    fee: ctx.fee,
    blockNumber: ctx.blockNumber,
    timestamp: ctx.timestamp,
    input: run.input.toLowerCase() as Hex,
    status: run.status,
    stdout: run.stdout.toLowerCase() as Hex,
    stderr: capStderr(run.stderr.toLowerCase() as Hex),
    fuelUsed: run.fuelUsed,
    instructions,
  };
}

/** The request context a record's program ran with (what a watcher re-executes it with). */
export function recordContext(body: ExecutionRecordBody): ProgramContext {
  return normalizeContext({
    requestId: body.requestId,
    originChainId: body.originChainId,
    oracle: body.oracle,
    requester: body.requester,
    asset: body.asset,
    amount: body.amount,
    fee: body.fee,
    blockNumber: body.blockNumber,
    timestamp: body.timestamp,
    programId: body.programId,
  });
}

/** Chains that receive a Result for this record: the origin chain and every chain with instructions. */
export function resultChains(body: ExecutionRecordBody): bigint[] {
  const chains = new Set<bigint>([body.originChainId, ...body.instructions.map((g) => g.chainId)]);
  return [...chains].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function validateRecord(record: ExecutionRecord): void {
  validateRecordBody(record.body);
  const chains = new Set(resultChains(record.body));
  let previous: OperatorSignature | undefined;
  record.signatures.forEach((sig, i) => {
    const where = `record.signatures[${i}]`;
    checkUint(`${where}.chainId`, sig.chainId, UINT256_MAX);
    if (!chains.has(sig.chainId))
      fail(`${where}.chainId`, "the origin chain or a chain with instructions", `got ${sig.chainId}`);
    checkAddress(`${where}.signer`, sig.signer);
    checkBytes(`${where}.signature`, sig.signature, SIGNATURE_BYTES);
    if (previous && compareSignatures(previous, sig) >= 0) {
      fail(`${where}`, "signatures sorted by (chainId, signer) with no duplicates");
    }
    previous = sig;
  });
  validateAttributions(record);
}

function validateAttributions(record: ExecutionRecord): void {
  const signers = new Set(record.signatures.map((s) => s.signer.toLowerCase()));
  let previous: bigint | undefined;
  (record.attributions ?? []).forEach((a, i) => {
    const where = `record.attributions[${i}]`;
    checkAddress(`${where}.operator`, a.operator);
    if (!signers.has(a.operator.toLowerCase())) fail(`${where}.operator`, "a signer of the record");
    const id = BigInt(a.operator);
    if (previous !== undefined && id <= previous) fail(where, "attributions sorted by operator with no duplicates");
    previous = id;
    if (!(ATTRIBUTION_HOW as readonly string[]).includes(a.how))
      fail(`${where}.how`, ATTRIBUTION_HOW.join(" | "), `got ${String(a.how)}`);
    const sharedIn = a.how === "shared-in";
    if (sharedIn) {
      checkAddress(`${where}.sharedFrom`, a.sharedFrom);
      if (BigInt(a.sharedFrom!) === 0n) fail(`${where}.sharedFrom`, "the member that shared");
      const bps = a.sharerBps;
      if (typeof bps !== "number" || !Number.isInteger(bps) || bps < 0 || bps > 10_000)
        fail(`${where}.sharerBps`, "an integer 0..10000");
    } else {
      if (a.sharedFrom !== undefined) fail(`${where}.sharedFrom`, "absent unless how is shared-in");
      if (a.sharerBps !== undefined) fail(`${where}.sharerBps`, "absent unless how is shared-in");
    }
    if (a.how === "stolen") {
      checkAddress(`${where}.slotOf`, a.slotOf);
      if (BigInt(a.slotOf!) === 0n) fail(`${where}.slotOf`, "the member whose slot was taken");
    } else if (a.slotOf !== undefined) fail(`${where}.slotOf`, "absent unless how is stolen");
  });
}

function attributionTuple(a: RecordAttribution) {
  return {
    operator: a.operator,
    how: ATTRIBUTION_HOW.indexOf(a.how),
    sharedFrom: a.sharedFrom ?? ZERO_ADDRESS,
    slotOf: a.slotOf ?? ZERO_ADDRESS,
    sharerBps: a.sharerBps ?? 0,
  };
}

function attributionOfTuple(t: {
  operator: Address;
  how: number;
  sharedFrom: Address;
  slotOf: Address;
  sharerBps: number;
}): RecordAttribution {
  const how = ATTRIBUTION_HOW[t.how];
  if (how === undefined) fail("record.attributions.how", ATTRIBUTION_HOW.join(" | "), `got ${t.how}`);
  const a: RecordAttribution = { operator: getAddress(t.operator), how };
  // Non-canonical tuples (a sharedFrom on a stolen slot, ...) keep their values so validation names them.
  if (how === "shared-in" || BigInt(t.sharedFrom) !== 0n) a.sharedFrom = getAddress(t.sharedFrom);
  if (how === "shared-in" || t.sharerBps !== 0) a.sharerBps = t.sharerBps;
  if (how === "stolen" || BigInt(t.slotOf) !== 0n) a.slotOf = getAddress(t.slotOf);
  return a;
}

function compareSignatures(a: OperatorSignature, b: OperatorSignature): number {
  if (a.chainId !== b.chainId) return a.chainId < b.chainId ? -1 : 1;
  const x = BigInt(a.signer);
  const y = BigInt(b.signer);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Puts signatures in canonical order (the collector gathers them in arrival order). */
export function sortSignatures(signatures: readonly OperatorSignature[]): OperatorSignature[] {
  return [...signatures].sort(compareSignatures);
}

/** Truncates stderr to the cap, so a chatty program cannot inflate the record. */
export function capStderr(stderr: Hex): Hex {
  return size(stderr) <= STDERR_CAP_BYTES ? stderr : (stderr.slice(0, 2 + 2 * STDERR_CAP_BYTES) as Hex);
}

function bodyTuple(body: ExecutionRecordBody) {
  return {
    ...body,
    instructions: body.instructions.map((g) => ({
      chainId: g.chainId,
      instructions: g.instructions.map((ix) => ({ ...ix })),
    })),
  };
}

/** `abi.encode(uint8 2, body)` (RECORD_BODY_VERSION): the bytes `bodyHash` covers. */
export function encodeRecordBody(body: ExecutionRecordBody): Hex {
  validateRecordBody(body);
  return encodeAbiParameters(bodyParams, [RECORD_BODY_VERSION, bodyTuple(body)]);
}

/** `bodyHash` of SPEC 3.2 / 5: keccak256 of the canonical body encoding. */
export function recordBodyHash(body: ExecutionRecordBody): Hex {
  return keccak256(encodeRecordBody(body));
}

/** Canonical bytes of a whole record (body + signatures + attributions): what goes to DA, always the current version. */
export function encodeRecord(record: ExecutionRecord): Uint8Array {
  return encodeRecordAs(record, RECORD_VERSION);
}

function encodeRecordAs(record: ExecutionRecord, version: (typeof READABLE_RECORD_VERSIONS)[number]): Uint8Array {
  validateRecord(record);
  const signatures = record.signatures.map((s) => ({ ...s }));
  if (version === 2) {
    if ((record.attributions ?? []).length > 0) fail("record.attributions", "none in a version 2 record");
    return hexToBytes(encodeAbiParameters(recordParamsV2, [2, bodyTuple(record.body), signatures]));
  }
  return hexToBytes(
    encodeAbiParameters(recordParams, [
      version,
      bodyTuple(record.body),
      signatures,
      (record.attributions ?? []).map(attributionTuple),
    ]),
  );
}

function decodeFailure(bytes: Uint8Array, cause: unknown): never {
  if (cause instanceof InvalidInputError) throw cause;
  throw new InvalidInputError(
    "record",
    `an ABI-encoded execution record (version ${READABLE_RECORD_VERSIONS.join(" or ")})`,
    { details: `could not decode ${bytes.length} bytes`, cause },
  );
}

/**
 * Decodes and checks a record (version 2 or 3; a v2 record has no attributions); rejects other
 * versions and any non-canonical encoding of the version it carries.
 */
export function decodeRecord(bytes: Uint8Array): ExecutionRecord {
  const hex = bytesToHex(bytes);
  let version: number;
  try {
    [version] = decodeAbiParameters([{ name: "version", type: "uint8" }], hex);
  } catch (cause) {
    decodeFailure(bytes, cause);
  }
  if (version !== 2 && version !== 3) {
    throw new InvalidInputError("record.version", READABLE_RECORD_VERSIONS.join(" or "), {
      details: `got ${version}`,
    });
  }
  let rawBody;
  let rawSignatures;
  let rawAttributions: readonly Parameters<typeof attributionOfTuple>[0][] | undefined;
  try {
    if (version === 2) {
      [, rawBody, rawSignatures] = decodeAbiParameters(recordParamsV2, hex);
    } else {
      [, rawBody, rawSignatures, rawAttributions] = decodeAbiParameters(recordParams, hex);
    }
  } catch (cause) {
    decodeFailure(bytes, cause);
  }
  const body: ExecutionRecordBody = {
    ...rawBody,
    status: rawBody.status as ResultStatusCode,
    instructions: rawBody.instructions.map((g) => ({
      chainId: g.chainId,
      instructions: g.instructions.map((ix) => ({ ...ix, op: ix.op as OpCode })),
    })),
  };
  const record: ExecutionRecord = {
    body,
    signatures: rawSignatures.map((s) => ({ ...s })),
    attributions: (rawAttributions ?? []).map(attributionOfTuple),
  };
  const canonical = encodeRecordAs(record, version as 2 | 3);
  if (bytesToHex(canonical) !== hex) {
    throw new InvalidInputError("record", "the canonical encoding", {
      details:
        "the bytes decode, but abi.encode of the decoded record differs (extra bytes, dirty padding or odd offsets)",
    });
  }
  return record;
}

/** Instructions of a record for one chain (empty when the record sends nothing there). */
export function instructionsForChain(body: ExecutionRecordBody, chainId: bigint): Instruction[] {
  return body.instructions.find((g) => g.chainId === chainId)?.instructions ?? [];
}

/** The EIP-712 Result the operators sign for `chainId` (SPEC 3.2), derived from the record. */
export function resultForChain(body: ExecutionRecordBody, chainId: bigint): Result {
  return {
    requestId: body.requestId,
    originChainId: body.originChainId,
    programId: body.programId,
    inputHash: inputHash(body.input),
    status: body.status,
    instructionsHash: instructionsHash(instructionsForChain(body, chainId)),
    bodyHash: recordBodyHash(body),
  };
}

// ---------------------------------------------------------------------------------------------
// JSON form (CLI, fixtures): integers as decimal strings, bytes as 0x-hex.
// ---------------------------------------------------------------------------------------------

const uintString = z.string().regex(/^(0|[1-9][0-9]*)$/, "a decimal integer string");
const hexString = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "0x-prefixed hex bytes");
const addressString = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 20-byte 0x address");

const instructionJson = z.object({
  op: z.number().int().min(0).max(4),
  target: addressString,
  amount: uintString,
  data: hexString,
});

export const executionRecordJsonSchema = z.object({
  body: z.object({
    originChainId: uintString,
    oracle: addressString,
    requestId: hexString,
    programId: hexString,
    requester: addressString,
    asset: addressString,
    amount: uintString,
    fee: uintString,
    blockNumber: uintString,
    timestamp: uintString,
    input: hexString,
    status: z.union([z.literal(0), z.literal(1)]),
    stdout: hexString,
    stderr: hexString,
    fuelUsed: uintString,
    instructions: z.array(z.object({ chainId: uintString, instructions: z.array(instructionJson) })),
  }),
  signatures: z.array(z.object({ chainId: uintString, signer: addressString, signature: hexString })),
  attributions: z
    .array(
      z.object({
        operator: addressString,
        how: z.enum(ATTRIBUTION_HOW),
        sharedFrom: addressString.optional(),
        slotOf: addressString.optional(),
        sharerBps: z.number().int().min(0).max(10_000).optional(),
      }),
    )
    .optional(),
});
export type ExecutionRecordJson = z.infer<typeof executionRecordJsonSchema>;

export function recordToJson(record: ExecutionRecord): ExecutionRecordJson {
  const { body } = record;
  return {
    body: {
      originChainId: body.originChainId.toString(),
      oracle: getAddress(body.oracle),
      requestId: body.requestId,
      programId: body.programId,
      requester: getAddress(body.requester),
      asset: getAddress(body.asset),
      amount: body.amount.toString(),
      fee: body.fee.toString(),
      blockNumber: body.blockNumber.toString(),
      timestamp: body.timestamp.toString(),
      input: body.input,
      status: body.status,
      stdout: body.stdout,
      stderr: body.stderr,
      fuelUsed: body.fuelUsed.toString(),
      instructions: body.instructions.map((g) => ({
        chainId: g.chainId.toString(),
        instructions: g.instructions.map((ix) => ({
          op: ix.op,
          target: getAddress(ix.target),
          amount: ix.amount.toString(),
          data: ix.data,
        })),
      })),
    },
    signatures: record.signatures.map((s) => ({
      chainId: s.chainId.toString(),
      signer: getAddress(s.signer),
      signature: s.signature,
    })),
    ...(record.attributions && record.attributions.length > 0
      ? { attributions: record.attributions.map((a) => attributionToJson(a)) }
      : {}),
  };
}

function attributionToJson(a: RecordAttribution): NonNullable<ExecutionRecordJson["attributions"]>[number] {
  return {
    operator: getAddress(a.operator),
    how: a.how,
    ...(a.sharedFrom !== undefined ? { sharedFrom: getAddress(a.sharedFrom) } : {}),
    ...(a.slotOf !== undefined ? { slotOf: getAddress(a.slotOf) } : {}),
    ...(a.sharerBps !== undefined ? { sharerBps: a.sharerBps } : {}),
  };
}

/** Parses the JSON form; errors name the offending field (e.g. `record.body.requestId`). */
export function recordFromJson(value: unknown): ExecutionRecord {
  const parsed = executionRecordJsonSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidInputError(["record", ...issue.path.map(String)].join("."), issue.message);
  }
  const { body, signatures, attributions } = parsed.data;
  const record: ExecutionRecord = {
    body: {
      originChainId: BigInt(body.originChainId),
      oracle: getAddress(body.oracle),
      requestId: body.requestId.toLowerCase() as Hex,
      programId: body.programId.toLowerCase() as Hex,
      requester: getAddress(body.requester),
      asset: getAddress(body.asset),
      amount: BigInt(body.amount),
      fee: BigInt(body.fee),
      blockNumber: BigInt(body.blockNumber),
      timestamp: BigInt(body.timestamp),
      input: body.input.toLowerCase() as Hex,
      status: body.status,
      stdout: body.stdout.toLowerCase() as Hex,
      stderr: body.stderr.toLowerCase() as Hex,
      fuelUsed: BigInt(body.fuelUsed),
      instructions: body.instructions.map((g) => ({
        chainId: BigInt(g.chainId),
        instructions: g.instructions.map((ix) => ({
          op: ix.op as OpCode,
          target: getAddress(ix.target),
          amount: BigInt(ix.amount),
          data: ix.data.toLowerCase() as Hex,
        })),
      })),
    },
    signatures: signatures.map((s) => ({
      chainId: BigInt(s.chainId),
      signer: getAddress(s.signer),
      signature: s.signature.toLowerCase() as Hex,
    })),
  };
  if (attributions !== undefined) {
    record.attributions = attributions.map((a) => ({
      operator: getAddress(a.operator),
      how: a.how,
      ...(a.sharedFrom !== undefined ? { sharedFrom: getAddress(a.sharedFrom) } : {}),
      ...(a.slotOf !== undefined ? { slotOf: getAddress(a.slotOf) } : {}),
      ...(a.sharerBps !== undefined ? { sharerBps: a.sharerBps } : {}),
    }));
  }
  validateRecord(record);
  return record;
}
