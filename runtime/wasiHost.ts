import { createHash } from "node:crypto";
import {
  ClockId,
  Errno,
  RIGHT_FD_READ,
  RIGHT_FD_WRITE,
  STDERR,
  STDIN,
  STDOUT,
  WASI_FUNCTIONS,
  WASI_MODULE,
} from "./wasiAbi.ts";

/**
 * Our own WASI preview1 host (Node's `node:wasi` trusts the guest and reaches the real system).
 * Everything a program can observe comes from the request: stdin is the input, the clock starts at
 * the request's timestamp and advances with fuel used, randomness is a SHA-256 stream keyed by the
 * request id. There are no files and no sockets; the environment is the request context
 * (protocol/programContext.ts `contextEnvironment`), never the host's. Unimplemented calls return
 * ENOSYS.
 */
export type WasiContext = {
  stdin: Uint8Array;
  /** argv; argv[0] is the program name. */
  args: readonly string[];
  /** Environment `NAME=value` lines (the request context), in the order programs see them. */
  env: readonly string[];
  /** Wall-clock time the program sees at start, in nanoseconds since the Unix epoch. */
  clockStartNs: bigint;
  /** Seed of random_get (the request id bytes). */
  randomSeed: Uint8Array;
  stdoutLimit: number;
  stderrLimit: number;
};

/** Thrown through the guest by proc_exit; ends the run with that exit code. */
export class ProcExitSignal {
  readonly code: number;
  constructor(code: number) {
    this.code = code;
  }
}

/** Thrown through the guest when stdout would exceed its cap. */
export class OutputLimitSignal {
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
}

/** Thrown through the guest when a host call's own fuel charge exhausts the budget. */
export class HostFuelSignal {}

/** The instance-side state the host needs once the module is instantiated. */
export type GuestBinding = {
  memory: WebAssembly.Memory;
  fuel: WebAssembly.Global;
};

/** Fuel a host call costs on top of its bytes: keeps a syscall-heavy loop from being cheap. */
const HOST_CALL_FUEL = 100n;
/** One fuel unit per 64 bytes a host call copies. */
const HOST_BYTES_PER_FUEL = 64;

type HostFunction = (...args: never[]) => number | void;

const encoder = new TextEncoder();
const EMPTY_CONTEXT: WasiContext = {
  stdin: new Uint8Array(0),
  args: [],
  env: [],
  clockStartNs: 0n,
  randomSeed: new Uint8Array(0),
  stdoutLimit: 0,
  stderrLimit: 0,
};

/**
 * One host serves many runs (building the import object costs more than a small program's whole
 * run): `begin` resets every piece of per-run state, `bind` attaches the new instance.
 */
export class WasiHost {
  readonly imports: WebAssembly.Imports;
  private context: WasiContext = EMPTY_CONTEXT;
  private guest: GuestBinding | undefined;
  private view: DataView | undefined;
  private stdinOffset = 0;
  private stdoutChunks: Uint8Array[] = [];
  private stdoutBytes = 0;
  private stderrChunks: Uint8Array[] = [];
  private stderrBytes = 0;
  private stderrDropped = 0;
  private fuelLimit = 0n;
  private lastClockNs = -1n;
  private random = new RandomStream(new Uint8Array(0));
  private args: Uint8Array[] = [];
  private env: Uint8Array[] = [];

  constructor() {
    const functions: Record<string, HostFunction> = {};
    for (const name of Object.keys(WASI_FUNCTIONS)) functions[name] = () => this.call(() => Errno.NOSYS);
    Object.assign(functions, this.implemented());
    this.imports = { [WASI_MODULE]: functions as WebAssembly.ModuleImports };
  }

  /** Starts a run: nothing of the previous run stays visible. */
  begin(context: WasiContext, fuelLimit: bigint): void {
    this.context = context;
    this.fuelLimit = fuelLimit;
    this.guest = undefined;
    this.view = undefined;
    this.stdinOffset = 0;
    this.stdoutChunks = [];
    this.stdoutBytes = 0;
    this.stderrChunks = [];
    this.stderrBytes = 0;
    this.stderrDropped = 0;
    this.lastClockNs = -1n;
    this.random = new RandomStream(context.randomSeed);
    this.args = context.args.map((arg) => encoder.encode(`${arg}\0`));
    this.env = context.env.map((line) => encoder.encode(`${line}\0`));
  }

  bind(guest: GuestBinding): void {
    this.guest = guest;
  }

  stdout(): Uint8Array {
    return concat(this.stdoutChunks, this.stdoutBytes);
  }

  stderr(): Uint8Array {
    return concat(this.stderrChunks, this.stderrBytes);
  }

  /** Bytes of stderr that did not fit its cap. */
  get stderrTruncatedBytes(): number {
    return this.stderrDropped;
  }

  private implemented(): Record<string, HostFunction> {
    return {
      args_sizes_get: (countPtr: number, sizePtr: number) =>
        this.call((view) => {
          view.setUint32(countPtr, this.args.length, true);
          view.setUint32(
            sizePtr,
            this.args.reduce((sum, arg) => sum + arg.length, 0),
            true,
          );
        }),
      args_get: (argvPtr: number, bufPtr: number) =>
        this.call((view) => {
          let cursor = bufPtr;
          this.args.forEach((arg, index) => {
            view.setUint32(argvPtr + index * 4, cursor, true);
            this.bytesAt(cursor, arg.length).set(arg);
            cursor += arg.length;
          });
        }),
      // The environment is the request context, the same on every node: nothing of the host leaks in.
      environ_sizes_get: (countPtr: number, sizePtr: number) =>
        this.call((view) => {
          view.setUint32(countPtr, this.env.length, true);
          view.setUint32(
            sizePtr,
            this.env.reduce((sum, line) => sum + line.length, 0),
            true,
          );
        }),
      environ_get: (environPtr: number, bufPtr: number) =>
        this.call((view) => {
          let cursor = bufPtr;
          let copied = 0;
          this.env.forEach((line, index) => {
            view.setUint32(environPtr + index * 4, cursor, true);
            this.bytesAt(cursor, line.length).set(line);
            cursor += line.length;
            copied += line.length;
          });
          this.chargeBytes(copied);
        }),
      clock_res_get: (id: number, resPtr: number) =>
        this.call((view) => {
          if (!isClock(id)) return Errno.INVAL;
          view.setBigUint64(resPtr, 1n, true);
        }),
      clock_time_get: (id: number, _precision: bigint, timePtr: number) =>
        this.call((view) => {
          if (!isClock(id)) return Errno.INVAL;
          const elapsed = this.elapsedNs();
          view.setBigUint64(timePtr, id === ClockId.REALTIME ? this.context.clockStartNs + elapsed : elapsed, true);
        }),
      fd_read: (fd: number, iovs: number, iovsLength: number, nreadPtr: number) =>
        this.call((view) => {
          if (fd !== STDIN) return Errno.BADF;
          let total = 0;
          for (let i = 0; i < iovsLength; i++) {
            const remaining = this.context.stdin.length - this.stdinOffset;
            if (remaining === 0) break;
            const length = Math.min(view.getUint32(iovs + i * 8 + 4, true), remaining);
            const target = this.bytesAt(view.getUint32(iovs + i * 8, true), length);
            target.set(this.context.stdin.subarray(this.stdinOffset, this.stdinOffset + length));
            this.stdinOffset += length;
            total += length;
          }
          this.chargeBytes(total);
          view.setUint32(nreadPtr, total, true);
        }),
      fd_write: (fd: number, iovs: number, iovsLength: number, nwrittenPtr: number) =>
        this.call((view) => {
          if (fd !== STDOUT && fd !== STDERR) return Errno.BADF;
          let total = 0;
          for (let i = 0; i < iovsLength; i++) {
            const length = view.getUint32(iovs + i * 8 + 4, true);
            const data = this.bytesAt(view.getUint32(iovs + i * 8, true), length);
            if (fd === STDOUT) this.writeStdout(data);
            else this.writeStderr(data);
            total += length;
          }
          this.chargeBytes(total);
          view.setUint32(nwrittenPtr, total, true);
        }),
      fd_fdstat_get: (fd: number, statPtr: number) =>
        this.call((view) => {
          if (fd > STDERR) return Errno.BADF;
          // Filetype "unknown" (0): not a terminal, so C stdio buffers fully (fewer host calls).
          view.setUint8(statPtr, 0);
          view.setUint16(statPtr + 2, 0, true);
          view.setBigUint64(statPtr + 8, fd === STDIN ? RIGHT_FD_READ : RIGHT_FD_WRITE, true);
          view.setBigUint64(statPtr + 16, 0n, true);
        }),
      fd_close: (fd: number) => this.call(() => (fd > STDERR ? Errno.BADF : Errno.SUCCESS)),
      fd_seek: (fd: number) => this.call(() => (fd > STDERR ? Errno.BADF : Errno.SPIPE)),
      fd_tell: (fd: number) => this.call(() => (fd > STDERR ? Errno.BADF : Errno.SPIPE)),
      // No preopened directories: libc's start-up scan ends at fd 3 and finds no file system.
      fd_prestat_get: () => this.call(() => Errno.BADF),
      fd_prestat_dir_name: () => this.call(() => Errno.BADF),
      path_open: () => this.call(() => Errno.NOTCAPABLE),
      random_get: (bufPtr: number, length: number) =>
        this.call(() => {
          this.chargeBytes(length);
          this.random.fill(this.bytesAt(bufPtr, length));
        }),
      sched_yield: () => this.call(() => {}),
      proc_exit: (code: number) => {
        throw new ProcExitSignal(code >>> 0);
      },
    };
  }

  /**
   * Runs one host call: charges its base fuel, gives it a fresh view of memory (which may have
   * grown), and turns an out-of-bounds pointer into EFAULT rather than a host exception.
   */
  private call(body: (view: DataView) => number | void): number {
    this.charge(HOST_CALL_FUEL);
    try {
      return body(this.memoryView()) ?? Errno.SUCCESS;
    } catch (error) {
      if (error instanceof RangeError) return Errno.FAULT;
      throw error;
    }
  }

  private memoryView(): DataView {
    const buffer = this.requireGuest().memory.buffer;
    if (this.view?.buffer !== buffer) this.view = new DataView(buffer);
    return this.view;
  }

  private bytesAt(pointer: number, length: number): Uint8Array {
    const buffer = this.requireGuest().memory.buffer;
    if (pointer + length > buffer.byteLength) throw new RangeError("guest pointer out of bounds");
    return new Uint8Array(buffer, pointer, length);
  }

  private requireGuest(): GuestBinding {
    if (!this.guest) throw new Error("WasiHost used before bind(): instantiate the module first");
    return this.guest;
  }

  private writeStdout(data: Uint8Array): void {
    if (this.stdoutBytes + data.length > this.context.stdoutLimit)
      throw new OutputLimitSignal(this.context.stdoutLimit);
    this.stdoutChunks.push(data.slice());
    this.stdoutBytes += data.length;
  }

  private writeStderr(data: Uint8Array): void {
    const room = Math.max(0, this.context.stderrLimit - this.stderrBytes);
    const kept = data.subarray(0, room);
    if (kept.length > 0) {
      this.stderrChunks.push(kept.slice());
      this.stderrBytes += kept.length;
    }
    this.stderrDropped += data.length - kept.length;
  }

  private chargeBytes(bytes: number): void {
    this.charge(BigInt(Math.floor(bytes / HOST_BYTES_PER_FUEL)));
  }

  private charge(units: bigint): void {
    const fuel = this.requireGuest().fuel;
    const remaining = (fuel.value as bigint) - units;
    fuel.value = remaining;
    if (remaining < 0n) throw new HostFuelSignal();
  }

  /** Time advances one nanosecond per fuel unit, and strictly between two reads. */
  private elapsedNs(): bigint {
    const used = this.fuelLimit - (this.requireGuest().fuel.value as bigint);
    this.lastClockNs = used > this.lastClockNs ? used : this.lastClockNs + 1n;
    return this.lastClockNs;
  }
}

function isClock(id: number): boolean {
  return (
    id === ClockId.REALTIME ||
    id === ClockId.MONOTONIC ||
    id === ClockId.PROCESS_CPUTIME ||
    id === ClockId.THREAD_CPUTIME
  );
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Deterministic randomness: block i is sha256(seed || "versatus/random" || u64be(i)); bytes are
 * consumed in order, so the stream does not depend on how the program splits its reads.
 */
class RandomStream {
  private readonly seed: Uint8Array;
  private counter = 0n;
  private block = new Uint8Array(0);
  private offset = 0;
  constructor(seed: Uint8Array) {
    this.seed = seed;
  }
  fill(target: Uint8Array): void {
    let written = 0;
    while (written < target.length) {
      if (this.offset === this.block.length) this.nextBlock();
      const take = Math.min(target.length - written, this.block.length - this.offset);
      target.set(this.block.subarray(this.offset, this.offset + take), written);
      this.offset += take;
      written += take;
    }
  }
  private nextBlock(): void {
    const counter = new Uint8Array(8);
    new DataView(counter.buffer).setBigUint64(0, this.counter++);
    this.block = createHash("sha256").update(this.seed).update("versatus/random").update(counter).digest();
    this.offset = 0;
  }
}
