import { hash } from "node:crypto";
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

/**
 * What host calls cost, in fuel (about a nanosecond of work per unit, like the code's own fuel):
 * every call pays a base price, then its real work: each iovec it walks, each byte it copies, each
 * random byte it hashes. The work-dependent part is computed from lengths that were validated
 * first, so no argument can make a charge negative (a credit) or skip it.
 */
export const HOST_FUEL = {
  /** Every call: crossing into JavaScript and back. */
  call: 100n,
  /** Each iovec fd_read/fd_write walks (read two u32s, bounds-check, slice). */
  iovec: 128n,
  /** Bytes copied per fuel unit (stdin in, stdout/stderr out). */
  bytesPerUnit: 64n,
  /** Each byte of random_get: a SHA-256 block (about 1 µs) yields 32 bytes. */
  randomByte: 64n,
} as const;

/**
 * Largest length any host call accepts: the memory cap (LIMIT_CAPS.memoryPages × 64 KiB) is far
 * below it. Lengths arrive as i32; a negative one is a length of 2 GiB or more, which no program
 * memory can hold, so it is EINVAL before anything is charged.
 */
const MAX_HOST_LENGTH = 0x7fff_ffff;

/**
 * A guest pointer or length that does not fit the guest's memory: EFAULT for the program. A class
 * of its own so that nothing else (a RangeError from the host's own stack limit, for one) can ever
 * be mistaken for it and answered with an errno.
 */
class GuestFault {}

/** Guest memory access for host calls: every read and write is bounds-checked (EFAULT). */
export class GuestView {
  private readonly view: DataView;
  constructor(buffer: ArrayBuffer) {
    this.view = new DataView(buffer);
  }
  get byteLength(): number {
    return this.view.byteLength;
  }
  private at(pointer: number, size: number): number {
    const offset = pointer >>> 0;
    if (offset + size > this.view.byteLength) throw new GuestFault();
    return offset;
  }
  getUint32(pointer: number, littleEndian = true): number {
    return this.view.getUint32(this.at(pointer, 4), littleEndian);
  }
  setUint8(pointer: number, value: number): void {
    this.view.setUint8(this.at(pointer, 1), value);
  }
  setUint16(pointer: number, value: number, littleEndian = true): void {
    this.view.setUint16(this.at(pointer, 2), value, littleEndian);
  }
  setUint32(pointer: number, value: number, littleEndian = true): void {
    this.view.setUint32(this.at(pointer, 4), value, littleEndian);
  }
  setBigUint64(pointer: number, value: bigint, littleEndian = true): void {
    this.view.setBigUint64(this.at(pointer, 8), value, littleEndian);
  }
  /** `length` bytes of guest memory at `pointer` (both unsigned), or EFAULT. */
  bytes(pointer: number, length: number): Uint8Array {
    const size = length >>> 0;
    return new Uint8Array(this.view.buffer, this.at(pointer, size), size);
  }
}

/**
 * An iovec array fd_read/fd_write received, already bounds-checked (the array and every buffer).
 * Not materialized: a program may pass millions of iovecs, and reading two u32s again is cheaper
 * than an object per iovec.
 */
class Iovecs {
  readonly total: number;
  private readonly view: GuestView;
  private readonly base: number;
  private readonly count: number;
  constructor(view: GuestView, base: number, count: number) {
    this.view = view;
    this.base = base;
    this.count = count;
    let total = 0;
    this.forEach((pointer, length) => {
      view.bytes(pointer, length);
      total += length;
    });
    this.total = total;
  }
  /** Calls `visit(pointer, length)` for each iovec in order until it returns false. */
  forEach(visit: (pointer: number, length: number) => boolean | void): void {
    for (let i = 0; i < this.count; i++) {
      const at = this.base + i * 8;
      if (visit(this.view.getUint32(at, true), this.view.getUint32(at + 4, true)) === false) return;
    }
  }
}

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
  private view: GuestView | undefined;
  private viewBuffer: ArrayBuffer | undefined;
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
    this.viewBuffer = undefined;
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
          let cursor = bufPtr >>> 0;
          this.args.forEach((arg, index) => {
            view.setUint32((argvPtr >>> 0) + index * 4, cursor, true);
            view.bytes(cursor, arg.length).set(arg);
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
          const iovecs = this.iovecs(view, iovs, iovsLength);
          if (typeof iovecs === "number") return iovecs;
          // Each buffer is filled only as far as the input goes: the bytes charged are the bytes copied.
          const total = Math.min(iovecs.total, this.context.stdin.length - this.stdinOffset);
          view.setUint32(nreadPtr, total, true);
          this.chargeBytes(total);
          let left = total;
          iovecs.forEach((pointer, length) => {
            if (left === 0) return false;
            const take = Math.min(length, left);
            view.bytes(pointer, take).set(this.context.stdin.subarray(this.stdinOffset, this.stdinOffset + take));
            this.stdinOffset += take;
            left -= take;
          });
        }),
      fd_write: (fd: number, iovs: number, iovsLength: number, nwrittenPtr: number) =>
        this.call((view) => {
          if (fd !== STDOUT && fd !== STDERR) return Errno.BADF;
          const iovecs = this.iovecs(view, iovs, iovsLength);
          if (typeof iovecs === "number") return iovecs;
          const total = iovecs.total;
          // The count must fit the u32 the program reads back; nwritten is checked before any charge.
          if (total > 0xffff_ffff) return Errno.INVAL;
          view.setUint32(nwrittenPtr, 0, true);
          this.chargeBytes(total);
          iovecs.forEach((pointer, length) => {
            if (length === 0) return;
            const data = view.bytes(pointer, length);
            if (fd === STDOUT) this.writeStdout(data);
            else this.writeStderr(data);
          });
          view.setUint32(nwrittenPtr, total, true);
        }),
      fd_fdstat_get: (fd: number, statPtr: number) =>
        this.call((view) => {
          if (!isStdio(fd)) return Errno.BADF;
          // Filetype "unknown" (0): not a terminal, so C stdio buffers fully (fewer host calls).
          view.setUint8(statPtr, 0);
          view.setUint16(statPtr + 2, 0, true);
          view.setBigUint64(statPtr + 8, fd === STDIN ? RIGHT_FD_READ : RIGHT_FD_WRITE, true);
          view.setBigUint64(statPtr + 16, 0n, true);
        }),
      fd_close: (fd: number) => this.call(() => (isStdio(fd) ? Errno.SUCCESS : Errno.BADF)),
      fd_seek: (fd: number) => this.call(() => (isStdio(fd) ? Errno.SPIPE : Errno.BADF)),
      fd_tell: (fd: number) => this.call(() => (isStdio(fd) ? Errno.SPIPE : Errno.BADF)),
      // No preopened directories: libc's start-up scan ends at fd 3 and finds no file system.
      fd_prestat_get: () => this.call(() => Errno.BADF),
      fd_prestat_dir_name: () => this.call(() => Errno.BADF),
      path_open: () => this.call(() => Errno.NOTCAPABLE),
      random_get: (bufPtr: number, length: number) =>
        this.call((view) => {
          if (length < 0 || length > MAX_HOST_LENGTH) return Errno.INVAL;
          const target = view.bytes(bufPtr, length);
          this.charge(BigInt(length) * HOST_FUEL.randomByte);
          this.random.fill(target);
        }),
      sched_yield: () => this.call(() => {}),
      proc_exit: (code: number) => {
        throw new ProcExitSignal(code >>> 0);
      },
    };
  }

  /**
   * Runs one host call: charges its base fuel, gives it a bounds-checked view of memory (which
   * may have grown since the last call), and answers a pointer or length outside the memory with
   * EFAULT. Only that: any other exception (a signal ending the run, or a RangeError from the
   * host's own stack limit, which depends on the V8 tier and how deep the program is) passes
   * through the guest to InstanceRunner, which ends the run or abandons it. So what the program
   * sees never depends on how much JavaScript stack the host had left.
   */
  private call(body: (view: GuestView) => number | void): number {
    this.charge(HOST_FUEL.call);
    try {
      return body(this.memoryView()) ?? Errno.SUCCESS;
    } catch (error) {
      if (error instanceof GuestFault) return Errno.FAULT;
      throw error;
    }
  }

  private memoryView(): GuestView {
    const buffer = this.requireGuest().memory.buffer;
    if (this.view === undefined || this.viewBuffer !== buffer) {
      this.view = new GuestView(buffer);
      this.viewBuffer = buffer;
    }
    return this.view;
  }

  /**
   * Checks an iovec array before anything but the walk is charged or copied: the count must be
   * one memory could hold (EINVAL) and the array must lie in memory (EFAULT); the walk is charged
   * per iovec, then every buffer is checked (EFAULT).
   */
  private iovecs(view: GuestView, iovs: number, count: number): Iovecs | number {
    if (count < 0 || count > MAX_HOST_LENGTH / 8) return Errno.INVAL;
    view.bytes(iovs, count * 8);
    this.charge(BigInt(count) * HOST_FUEL.iovec);
    return new Iovecs(view, iovs >>> 0, count);
  }

  /** `length` bytes of guest memory at `pointer`, or EFAULT (inside `call`). */
  private bytesAt(pointer: number, length: number): Uint8Array {
    return this.memoryView().bytes(pointer, length);
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
    this.charge(BigInt(bytes) / HOST_FUEL.bytesPerUnit);
  }

  /** Charges `units` (never negative: callers pass validated sizes) against the fuel global. */
  private charge(units: bigint): void {
    if (units < 0n) throw new Error(`runtime bug: a negative host charge (${units})`);
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

/** Only the three standard streams exist; any other descriptor (negative ones too) is EBADF. */
function isStdio(fd: number): boolean {
  return fd === STDIN || fd === STDOUT || fd === STDERR;
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
  /** seed || "versatus/random" || u64be(counter): hashed in one call per block. */
  private readonly preimage: Uint8Array;
  private readonly counterView: DataView;
  private counter = 0n;
  private block = new Uint8Array(0);
  private offset = 0;
  constructor(seed: Uint8Array) {
    const tag = encoder.encode("versatus/random");
    this.preimage = new Uint8Array(seed.length + tag.length + 8);
    this.preimage.set(seed, 0);
    this.preimage.set(tag, seed.length);
    this.counterView = new DataView(this.preimage.buffer, seed.length + tag.length, 8);
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
    this.counterView.setBigUint64(0, this.counter++);
    this.block = hash("sha256", this.preimage, "buffer");
    this.offset = 0;
  }
}
