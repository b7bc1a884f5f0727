import { ENGINE_IMPORT_MODULE } from "./engineAbi.ts";

/**
 * The deterministic host of the QuickJS engine's Emscripten imports. Everything the engine can
 * observe through it comes from the request: the clock is the request's timestamp (fixed: no
 * time passes inside a run), the time zone is UTC, the environment is empty, there are no timers,
 * files or host functions. Every call costs fuel like a WASI call (100 units plus 1 per 64 bytes),
 * growing memory 1024 units per page and never past the program's page limit.
 */
const HOST_CALL_FUEL = 100n;
const HOST_BYTES_PER_FUEL = 64;
const FUEL_PER_PAGE = 1024n;
const PAGE_BYTES = 65_536;
const ENOSYS = 52;
const ESPIPE = 70;
const EBADF = 8;

/** The engine called abort() or failed an assertion: a deterministic trap. */
export class EngineAbortSignal {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

/** A host call's own fuel charge exhausted the budget. */
export class EngineFuelSignal {}

/** The engine called exit(). */
export class EngineExitSignal {
  readonly code: number;
  constructor(code: number) {
    this.code = code;
  }
}

export type EngineRunContext = {
  /** Milliseconds since the Unix epoch the engine's clock reads (the request's timestamp). */
  nowMs: number;
  maxPages: number;
  /** Engine diagnostics (fd_write) are kept up to this many bytes, with the program's stderr. */
  stderrLimit: number;
};

export class EngineHost {
  readonly imports: WebAssembly.Imports;
  private memory: WebAssembly.Memory | undefined;
  private fuel: WebAssembly.Global | undefined;
  private context: EngineRunContext = { nowMs: 0, maxPages: 0, stderrLimit: 0 };
  private diagnostics: number[] = [];

  constructor() {
    const calls: Record<string, (...args: never[]) => unknown> = {
      // __assert_fail, abort
      b: () => this.call(0, () => this.abort("assertion failed")),
      q: () => this.call(0, () => this.abort("abort()")),
      // _emscripten_runtime_keepalive_clear
      l: () => this.call(0, () => undefined),
      // _localtime_js(time: i64, tm: i32): always UTC
      m: (time: bigint, tm: number) => this.call(40, () => this.writeTm(time, tm)),
      // _setitimer_js: no timers
      j: () => this.call(0, () => ENOSYS),
      // _tzset_js(timezone, daylight, std_name, dst_name)
      n: (timezone: number, daylight: number, stdName: number, dstName: number) =>
        this.call(16, () => this.writeTz(timezone, daylight, stdName, dstName)),
      // emscripten_date_now
      p: () => this.call(0, () => this.context.nowMs),
      // emscripten_resize_heap(requested bytes)
      k: (requested: number) => this.call(0, () => this.grow(requested >>> 0)),
      // environ_get, environ_sizes_get: empty environment
      e: () => this.call(0, () => 0),
      f: (count: number, size: number) =>
        this.call(8, () => {
          const view = this.view();
          view.setUint32(count, 0, true);
          view.setUint32(size, 0, true);
          return 0;
        }),
      // fd_close, fd_seek
      d: () => this.call(0, () => EBADF),
      o: () => this.call(0, () => ESPIPE),
      // fd_write(fd, iovs, iovcnt, nwritten): kept as diagnostics
      c: (fd: number, iovs: number, count: number, written: number) =>
        this.call(0, () => this.write(fd, iovs, count, written)),
      // proc_exit
      r: (code: number) => this.call(0, () => this.exit(code)),
      // quickjs-emscripten host callbacks: never enabled by the runner
      s: () => this.call(0, () => this.abort("host function call")),
      i: () => this.call(0, () => 0),
      h: () => this.call(0, () => this.abort("module loader")),
      g: () => this.call(0, () => this.abort("module loader")),
      t: () => this.call(0, () => undefined),
    };
    this.imports = { [ENGINE_IMPORT_MODULE]: calls as unknown as WebAssembly.ModuleImports };
  }

  begin(context: EngineRunContext): void {
    this.context = context;
    this.diagnostics = [];
  }

  bind(memory: WebAssembly.Memory, fuel: WebAssembly.Global): void {
    this.memory = memory;
    this.fuel = fuel;
  }

  takeDiagnostics(): Uint8Array {
    return Uint8Array.from(this.diagnostics);
  }

  charge(units: bigint): void {
    const fuel = this.fuel!;
    const remaining = (fuel.value as bigint) - units;
    fuel.value = remaining;
    if (remaining < 0n) throw new EngineFuelSignal();
  }

  private call<T>(bytes: number, body: () => T): T {
    this.charge(HOST_CALL_FUEL + BigInt(Math.floor(bytes / HOST_BYTES_PER_FUEL)));
    return body();
  }

  private view(): DataView {
    return new DataView(this.memory!.buffer);
  }

  private abort(reason: string): never {
    throw new EngineAbortSignal(reason);
  }

  private exit(code: number): never {
    throw new EngineExitSignal(code);
  }

  private grow(requested: number): number {
    const memory = this.memory!;
    const current = memory.buffer.byteLength / PAGE_BYTES;
    const wanted = Math.ceil(requested / PAGE_BYTES);
    if (wanted <= current) return 1;
    if (wanted > this.context.maxPages) return 0;
    const pages = wanted - current;
    this.charge(FUEL_PER_PAGE * BigInt(pages));
    memory.grow(pages);
    return 1;
  }

  private write(fd: number, iovs: number, count: number, written: number): number {
    if (fd !== 1 && fd !== 2) return EBADF;
    if (count < 0 || count > 1024) return 28; // EINVAL
    const view = this.view();
    const bytes = new Uint8Array(this.memory!.buffer);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const base = view.getUint32(iovs + i * 8, true);
      const length = view.getUint32(iovs + i * 8 + 4, true);
      if (base + length > bytes.length) return 21; // EFAULT
      this.charge(BigInt(Math.floor(length / HOST_BYTES_PER_FUEL)));
      const room = Math.max(0, this.context.stderrLimit - this.diagnostics.length);
      for (let j = 0; j < Math.min(room, length); j++) this.diagnostics.push(bytes[base + j]!);
      total += length;
    }
    view.setUint32(written, total, true);
    return 0;
  }

  private writeTm(time: bigint, tm: number): void {
    const date = new Date(Number(time) * 1000);
    const view = this.view();
    const fields = [
      date.getUTCSeconds(),
      date.getUTCMinutes(),
      date.getUTCHours(),
      date.getUTCDate(),
      date.getUTCMonth(),
      date.getUTCFullYear() - 1900,
      date.getUTCDay(),
      dayOfYear(date),
      0, // isdst
      0, // gmtoff
    ];
    fields.forEach((value, index) => view.setInt32(tm + index * 4, value | 0, true));
  }

  private writeTz(timezone: number, daylight: number, stdName: number, dstName: number): void {
    const view = this.view();
    view.setUint32(timezone, 0, true);
    view.setInt32(daylight, 0, true);
    const bytes = new Uint8Array(this.memory!.buffer);
    for (const at of [stdName, dstName]) bytes.set([0x55, 0x54, 0x43, 0], at); // "UTC\0"
  }
}

function dayOfYear(date: Date): number {
  const start = Date.UTC(date.getUTCFullYear(), 0, 1);
  return Math.floor((date.getTime() - start) / 86_400_000);
}
