/**
 * The Versatus SDK for programs written in TypeScript or JavaScript. A program is bundled with
 * esbuild into one script (`versatus program build`) and runs inside the QuickJS engine the
 * runtime meters (runtime/js): it reads the request input, the request context and a random
 * stream seeded by the request id, and returns actions, which become instructions on chain.
 *
 *     import { inputJson, run, transfer } from "@versatus/sdk";
 *     run(() => {
 *       const { to, amount } = inputJson<{ to: string; amount: string }>();
 *       return [transfer(to, BigInt(amount))];
 *     });
 *
 * Everything here is deterministic: the same request gives the same output and fuel on every
 * node. `Date` reads the request's timestamp, `Math.random` is seeded by the request id, and
 * there is no I/O, no timers and no `fetch`, `require` or `process`.
 */

/** 0x-prefixed hex. */
export type Hex = `0x${string}`;
/** 0x + 40 hex digits (mixed case must be a valid EIP-55 checksum). */
export type Address = Hex;
/** An amount: a bigint, or a decimal string, between 0 and 2^256-1. */
export type Amount = bigint | string | number;
/** A chain id: defaults to the request's origin chain. */
export type ChainId = bigint | number | string;

export type TransferAction = { op: "transfer"; to: Address; amount: string; chainId?: string };
export type CallAction = { op: "call"; target: Address; data: Hex; amount?: string };
export type MintAction = { op: "mint"; token: Address; to: Address; amount: string; chainId?: string };
export type BurnAction = { op: "burn"; amount: string; token?: Address; chainId?: string };
export type CreateAction = { op: "create"; kind: string; salt: Hex; init: Hex; chainId?: string };
export type Action = TransferAction | CallAction | MintAction | BurnAction | CreateAction;

/** What every run knows about its request. */
export type Request = { requestId: Hex; originChainId: bigint; timestamp: bigint };

/** The request context (protocol/programContext.ts), as WebAssembly programs read it. */
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
  timestamp: bigint;
  programId: Hex;
};

/** The global the runtime's prelude defines (runtime/js/prelude.ts). */
type Host = {
  input: Uint8Array;
  inputText(): string;
  inputJson(): unknown;
  request: { requestId: string; originChainId: string; timestamp: string };
  context: Record<string, string> | null;
  random(): number;
  randomBytes(count: number): Uint8Array;
  write(text: string): void;
  output(value: unknown): void;
  exit(code: number): never;
  run(main: () => unknown): void;
};

declare const versatus: Host;

function host(): Host {
  if (typeof versatus === "undefined") {
    throw new Error("the Versatus SDK runs inside the Versatus runtime (versatus program run)");
  }
  return versatus;
}

/** The request input, as bytes. */
export function input(): Uint8Array {
  return host().input;
}

/** The request input decoded as UTF-8. */
export function inputText(): string {
  return host().inputText();
}

/** The request input parsed as JSON; throws (uncaught: exit code 1) when it is not JSON. */
export function inputJson<T = unknown>(): T {
  return host().inputJson() as T;
}

/** The request id, origin chain and timestamp (Unix seconds). */
export function request(): Request {
  const r = host().request;
  return { requestId: r.requestId as Hex, originChainId: BigInt(r.originChainId), timestamp: BigInt(r.timestamp) };
}

/** The full request context when the node provides it (every node does for on-chain requests), else null. */
export function context(): ProgramContext | null {
  const c = host().context;
  if (c === null) return null;
  return {
    requestId: c.requestId as Hex,
    originChainId: BigInt(c.originChainId!),
    oracle: c.oracle as Address,
    requester: c.requester as Address,
    asset: c.asset as Address,
    amount: BigInt(c.amount!),
    fee: BigInt(c.fee!),
    blockNumber: BigInt(c.blockNumber!),
    timestamp: BigInt(c.timestamp!),
    programId: c.programId as Hex,
  };
}

/** A number in [0, 1) from the stream seeded by the request id (the same as Math.random). */
export function random(): number {
  return host().random();
}

/** An integer in [0, bound) from the seeded stream (floor(random() * bound)). */
export function randomInt(bound: number): number {
  if (!Number.isSafeInteger(bound) || bound <= 0) throw new RangeError("randomInt needs a positive safe integer");
  return Math.floor(host().random() * bound);
}

/** Bytes from the seeded stream. */
export function randomBytes(count: number): Uint8Array {
  return host().randomBytes(count);
}

const MAX_UINT256 = (1n << 256n) - 1n;

/** An amount as the output format wants it: a decimal string of a uint256. */
export function amountString(amount: Amount): string {
  const value = typeof amount === "bigint" ? amount : BigInt(amount);
  if (value < 0n || value > MAX_UINT256) throw new RangeError(`amount ${value} is not a uint256`);
  return value.toString(10);
}

function chain(chainId: ChainId | undefined): { chainId?: string } {
  if (chainId === undefined) return {};
  const value = BigInt(chainId);
  if (value <= 0n) throw new RangeError(`chain id ${value} is not positive`);
  return { chainId: value.toString(10) };
}

/** Pays `amount` of the escrowed asset to `to` (on `chainId`, default the origin chain). */
export function transfer(to: Address | string, amount: Amount, chainId?: ChainId): TransferAction {
  return { op: "transfer", to: to as Address, amount: amountString(amount), ...chain(chainId) };
}

/** Calls `target` with `data` (and `amount` of value) on the origin chain. */
export function call(target: Address | string, data: Hex | string, amount?: Amount): CallAction {
  return {
    op: "call",
    target: target as Address,
    data: data as Hex,
    ...(amount === undefined ? {} : { amount: amountString(amount) }),
  };
}

/** Mints `amount` of an omni token this program controls to `to`. */
export function mint(token: Address | string, to: Address | string, amount: Amount, chainId?: ChainId): MintAction {
  return { op: "mint", token: token as Address, to: to as Address, amount: amountString(amount), ...chain(chainId) };
}

/** Burns `amount` of the escrowed tokens (naming the token makes the output rule check it). */
export function burn(amount: Amount, options: { token?: Address | string; chainId?: ChainId } = {}): BurnAction {
  return {
    op: "burn",
    amount: amountString(amount),
    ...(options.token === undefined ? {} : { token: options.token as Address }),
    ...chain(options.chainId),
  };
}

/** Deploys a contract through the factory: `kind` is a bytes32 or erc20, erc721, omnitoken. */
export function create(kind: string, salt: Hex | string, init: Hex | string, chainId?: ChainId): CreateAction {
  return { op: "create", kind, salt: salt as Hex, init: init as Hex, ...chain(chainId) };
}

/** Writes the program's output: `{"actions":[...]}`. Call it once. */
export function output(actions: readonly Action[]): void {
  host().output({ actions });
}

/** Writes a line to stderr (diagnostics only; the same as console.log inside the runtime). */
export function log(...values: unknown[]): void {
  (globalThis as unknown as { console: { log(...values: unknown[]): void } }).console.log(...values);
}

/** Refuses the request: the reason goes to stderr, the run ends with `code` (the `exit` outcome). */
export function fail(reason: string, code = 2): never {
  log(reason);
  return host().exit(code);
}

/**
 * Runs the program's main function. It returns its actions (or a promise of them; promise jobs run
 * to completion inside the run), or calls output() itself and returns nothing.
 */
export function run(main: () => readonly Action[] | void | Promise<readonly Action[] | void>): void {
  host().run(() => {
    const result = main();
    const wrap = (actions: readonly Action[] | void) => (actions === undefined ? undefined : { actions });
    return result instanceof Promise ? result.then(wrap) : wrap(result);
  });
}

/** True for 0x + 40 hex digits (checksums are checked by the node when it parses the output). */
export function isAddress(value: unknown): value is Address {
  return typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value);
}
