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
