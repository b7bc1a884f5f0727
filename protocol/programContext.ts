import type { Address, Hex } from "viem";

/**
 * The request context (SPEC 4): what a program may know about the request besides its input.
 * Every node takes it from the origin chain's `ExecutionRequested` event and the oracle's fee at
 * the request's block (never from another node's word), so it is byte-identical everywhere.
 * Programs see it as WASI environment variables, in exactly the order of CONTEXT_VARIABLES.
 */
export type ProgramContext = {
  requestId: Hex;
  originChainId: bigint;
  oracle: Address;
  requester: Address;
  /** Escrowed asset; the zero address for ETH. */
  asset: Address;
  /** The whole escrow, fee included. */
  amount: bigint;
  /** The oracle's fee of `asset` at the request's block. */
  fee: bigint;
  blockNumber: bigint;
  /** Unix seconds of the request's block (the program's clock starts here). */
  timestamp: bigint;
  programId: Hex;
};

/** Environment variable names, in the order programs see them. */
export const CONTEXT_VARIABLES = [
  ["VERSATUS_REQUEST_ID", "requestId"],
  ["VERSATUS_ORIGIN_CHAIN_ID", "originChainId"],
  ["VERSATUS_ORACLE", "oracle"],
  ["VERSATUS_REQUESTER", "requester"],
  ["VERSATUS_ASSET", "asset"],
  ["VERSATUS_AMOUNT", "amount"],
  ["VERSATUS_FEE", "fee"],
  ["VERSATUS_BLOCK_NUMBER", "blockNumber"],
  ["VERSATUS_TIMESTAMP", "timestamp"],
  ["VERSATUS_PROGRAM_ID", "programId"],
] as const satisfies readonly (readonly [string, keyof ProgramContext])[];

/**
 * `NAME=value` lines: numbers in decimal, addresses and ids as lowercase 0x-hex (addresses 20
 * bytes, ids 32), so the bytes a program reads do not depend on how a node spells them.
 */
export function contextEnvironment(context: ProgramContext): string[] {
  return CONTEXT_VARIABLES.map(([name, key]) => {
    const value = context[key];
    return `${name}=${typeof value === "bigint" ? value.toString(10) : value.toLowerCase()}`;
  });
}

/**
 * What every node knows of a request without asking anyone: the origin chain's
 * `ExecutionRequested` event (as protocol/jobs.ts RequestJob carries it) and its block.
 */
export type RequestEventFields = {
  chainId: string;
  oracle: Address;
  requestId: Hex;
  programId: Hex;
  requester: Address;
  token: Address;
  amount: string;
  blockNumber: string;
  /** Unix seconds of the request's block. */
  blockTimestamp: string;
};

/**
 * The one way a node builds a program's context: the request event plus the oracle's fee of its
 * asset at the request's block (protocol/ruleContext.ts `requestFee`). A node that cannot read the
 * fee must not guess it (the context would differ from its peers'): it abstains or retries.
 */
export function contextOfRequest(request: RequestEventFields, fee: bigint): ProgramContext {
  return normalizeContext({
    requestId: request.requestId,
    originChainId: BigInt(request.chainId),
    oracle: request.oracle,
    requester: request.requester,
    asset: request.token,
    amount: BigInt(request.amount),
    fee,
    blockNumber: BigInt(request.blockNumber),
    timestamp: BigInt(request.blockTimestamp),
    programId: request.programId,
  });
}

/** Addresses and ids in lowercase hex, so two nodes' contexts compare (and encode) equal. */
export function normalizeContext(context: ProgramContext): ProgramContext {
  validateContext(context);
  return {
    ...context,
    requestId: context.requestId.toLowerCase() as Hex,
    oracle: context.oracle.toLowerCase() as Address,
    requester: context.requester.toLowerCase() as Address,
    asset: context.asset.toLowerCase() as Address,
    programId: context.programId.toLowerCase() as Hex,
  };
}

const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** Throws a TypeError naming the first field that is not what the record body can hold. */
export function validateContext(context: ProgramContext): void {
  const uint = (key: keyof ProgramContext, max: bigint) => {
    const value = context[key];
    if (typeof value !== "bigint" || value < 0n || value > max) {
      throw new TypeError(`context.${key}: expected an unsigned integer <= ${max}, got ${String(value)}`);
    }
  };
  const hex = (key: keyof ProgramContext, pattern: RegExp, what: string) => {
    const value = context[key];
    if (typeof value !== "string" || !pattern.test(value)) {
      throw new TypeError(`context.${key}: expected ${what}, got ${String(value)}`);
    }
  };
  hex("requestId", BYTES32, "32 bytes of 0x-hex");
  uint("originChainId", UINT256_MAX);
  hex("oracle", ADDRESS, "a 20-byte 0x address");
  hex("requester", ADDRESS, "a 20-byte 0x address");
  hex("asset", ADDRESS, "a 20-byte 0x address");
  uint("amount", UINT256_MAX);
  uint("fee", UINT256_MAX);
  uint("blockNumber", UINT64_MAX);
  uint("timestamp", UINT64_MAX);
  hex("programId", BYTES32, "32 bytes of 0x-hex");
}

/** The JSON form (queues, CLI): integers as decimal strings. */
export type ProgramContextJson = Record<keyof ProgramContext, string>;

export function contextToJson(context: ProgramContext): ProgramContextJson {
  const out = {} as Record<string, string>;
  for (const [, key] of CONTEXT_VARIABLES) {
    const value = context[key];
    out[key] = typeof value === "bigint" ? value.toString(10) : value.toLowerCase();
  }
  return out as ProgramContextJson;
}

/** Parses the JSON form; throws a TypeError naming the bad field. */
export function contextFromJson(value: unknown): ProgramContext {
  if (typeof value !== "object" || value === null) throw new TypeError("context: expected an object");
  const json = value as Record<string, unknown>;
  const uint = (key: string): bigint => {
    const field = json[key];
    if (typeof field !== "string" || !/^(0|[1-9][0-9]*)$/.test(field)) {
      throw new TypeError(`context.${key}: expected a decimal integer string`);
    }
    return BigInt(field);
  };
  const text = (key: string): string => {
    const field = json[key];
    if (typeof field !== "string") throw new TypeError(`context.${key}: expected a 0x-hex string`);
    return field;
  };
  return normalizeContext({
    requestId: text("requestId") as Hex,
    originChainId: uint("originChainId"),
    oracle: text("oracle") as Address,
    requester: text("requester") as Address,
    asset: text("asset") as Address,
    amount: uint("amount"),
    fee: uint("fee"),
    blockNumber: uint("blockNumber"),
    timestamp: uint("timestamp"),
    programId: text("programId") as Hex,
  });
}

/** Field names that differ between two contexts (empty when they are the same). */
export function contextDifferences(a: ProgramContext, b: ProgramContext): (keyof ProgramContext)[] {
  return CONTEXT_VARIABLES.map(([, key]) => key).filter((key) => {
    const x = a[key];
    const y = b[key];
    return typeof x === "bigint" ? x !== y : String(x).toLowerCase() !== String(y).toLowerCase();
  });
}
