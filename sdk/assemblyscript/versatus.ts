// The request context for Versatus programs written in AssemblyScript.
//
// Every node gives a program the context of the request it runs (taken from the origin chain's
// ExecutionRequested event and the oracle's fee at the request's block) as WASI environment
// variables, identical on every node and covered by the execution record (SPEC 4, 5; the
// variables are listed in sdk/c/versatus.h and protocol/programContext.ts).
//
//   import { readContext } from "path/to/sdk/assemblyscript/versatus";
//   const ctx = readContext();
//   if (ctx == null) ...            // a bare run without a request
//   ctx!.requester                  // "0x" + 40 lowercase hex
//   ctx!.spendable()                // escrow minus fee, a decimal string
//
// Compile with --runtime stub (or any runtime) and `--exportStart _start`, as the examples do.

@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function environ_sizes_get(count: usize, size: usize): i32;

@external("wasi_snapshot_preview1", "environ_get")
declare function environ_get(environ: usize, buffer: usize): i32;

const sizes = memory.data(8);

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** The request context: who asked, what was escrowed, where and when. */
export class Context {
  /** bytes32 request id, 0x + 64 lowercase hex. */
  requestId: string = "";
  originChainId: u64 = 0;
  /** The origin chain's oracle (0x + 40 lowercase hex). */
  oracle: string = "";
  /** Who made and paid for the request. */
  requester: string = "";
  /** Escrowed token; ZERO_ADDRESS for ETH. */
  asset: string = "";
  /** The whole escrow, fee included: a decimal string (uint256). */
  amount: string = "0";
  /** The oracle's fee: a decimal string (uint256). */
  fee: string = "0";
  blockNumber: u64 = 0;
  /** Unix seconds of the request's block. */
  timestamp: u64 = 0;
  programId: string = "";

  /** True when the escrow is ETH. */
  isEth(): bool {
    return this.asset == ZERO_ADDRESS;
  }

  /** What the program may spend: amount - fee as a decimal string, or null if the fee exceeds it. */
  spendable(): string | null {
    return subtractDecimal(this.amount, this.fee);
  }

  /** Whether `address` (any case) is the requester. */
  isRequester(address: string): bool {
    return address.toLowerCase() == this.requester;
  }
}

/** All `NAME=value` variables of the environment, in order. */
export function environment(): string[] {
  if (environ_sizes_get(sizes, sizes + 4) != 0) return [];
  const count = load<u32>(sizes);
  const bytes = load<u32>(sizes, 4);
  if (count == 0) return [];
  const pointers = new ArrayBuffer(<i32>count * 4);
  const buffer = new ArrayBuffer(<i32>bytes);
  if (environ_get(changetype<usize>(pointers), changetype<usize>(buffer)) != 0) return [];
  const out = new Array<string>(0);
  const end = changetype<usize>(buffer) + <usize>bytes;
  for (let i: u32 = 0; i < count; i++) {
    const start = <usize>load<u32>(changetype<usize>(pointers) + <usize>(i * 4));
    let stop = start;
    while (stop < end && load<u8>(stop) != 0) stop++;
    out.push(String.UTF8.decodeUnsafe(start, stop - start));
  }
  return out;
}

function isDecimal(value: string): bool {
  if (value.length == 0 || value.length > 78 || (value.length > 1 && value.charCodeAt(0) == 0x30)) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isHex(value: string, digits: i32): bool {
  if (value.length != digits + 2 || !value.startsWith("0x")) return false;
  for (let i = 2; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function toU64(value: string, ok: StaticArray<bool>): u64 {
  if (!isDecimal(value) || value.length > 20) {
    ok[0] = false;
    return 0;
  }
  let out: u64 = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = <u64>(value.charCodeAt(i) - 0x30);
    if (out > (U64.MAX_VALUE - digit) / 10) {
      ok[0] = false;
      return 0;
    }
    out = out * 10 + digit;
  }
  return out;
}

/**
 * The request context, or null when the run has none (a bare run without a request: an empty
 * environment). A malformed context (which no node gives) is also null.
 */
export function readContext(): Context | null {
  const env = environment();
  const ctx = new Context();
  const ok = new StaticArray<bool>(1);
  ok[0] = true;
  let seen = 0;
  for (let i = 0; i < env.length; i++) {
    const line = env[i];
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const name = line.substring(0, eq);
    const value = line.substring(eq + 1);
    if (name == "VERSATUS_REQUEST_ID") ctx.requestId = value;
    else if (name == "VERSATUS_ORIGIN_CHAIN_ID") ctx.originChainId = toU64(value, ok);
    else if (name == "VERSATUS_ORACLE") ctx.oracle = value;
    else if (name == "VERSATUS_REQUESTER") ctx.requester = value;
    else if (name == "VERSATUS_ASSET") ctx.asset = value;
    else if (name == "VERSATUS_AMOUNT") ctx.amount = value;
    else if (name == "VERSATUS_FEE") ctx.fee = value;
    else if (name == "VERSATUS_BLOCK_NUMBER") ctx.blockNumber = toU64(value, ok);
    else if (name == "VERSATUS_TIMESTAMP") ctx.timestamp = toU64(value, ok);
    else if (name == "VERSATUS_PROGRAM_ID") ctx.programId = value;
    else continue;
    seen++;
  }
  if (seen != 10 || !ok[0]) return null;
  const wellFormed =
    isHex(ctx.requestId, 64) &&
    isHex(ctx.oracle, 40) &&
    isHex(ctx.requester, 40) &&
    isHex(ctx.asset, 40) &&
    isHex(ctx.programId, 64) &&
    isDecimal(ctx.amount) &&
    isDecimal(ctx.fee);
  return wellFormed ? ctx : null;
}

/** a - b for canonical decimal strings (any length); null when b > a. */
export function subtractDecimal(a: string, b: string): string | null {
  if (b.length > a.length || (b.length == a.length && b > a)) return null;
  const digits = new Array<i32>(a.length);
  let borrow = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a.length - 1 - i;
    const bi = b.length - 1 - i;
    let d = <i32>(a.charCodeAt(ai) - 0x30) - borrow - (bi >= 0 ? <i32>(b.charCodeAt(bi) - 0x30) : 0);
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 10;
    digits[ai] = d;
  }
  let start = 0;
  while (start < digits.length - 1 && digits[start] == 0) start++;
  let out = "";
  for (let i = start; i < digits.length; i++) out += String.fromCharCode(0x30 + digits[i]);
  return out;
}
