import { createHash } from "node:crypto";
import { ModuleRejectedError, type RejectionReason } from "./errors.ts";
import { INSTRUMENTATION_VERSION } from "./instrument.ts";
import type { ProgramLimits } from "./limits.ts";
import { LoadAbandonedError, ModuleLoader, type LoadedModule } from "./loader.ts";
import { LruMap } from "./lru.ts";
import type { CompiledProgram } from "./runInstance.ts";

/**
 * A program ready to run: checked, instrumented and compiled once, then reused for every run
 * (each run still gets a fresh instance). `key` identifies the instrumented code; the pool's
 * workers cache compiled modules under it.
 */
export type PreparedProgram = CompiledProgram & {
  name: string;
  limits: ProgramLimits;
  moduleBytes: number;
  instrumentedBytes: number;
  instrumentMs: number;
  compileMs: number;
};

export type PrepareOptions = { name: string; limits: ProgramLimits; metering?: boolean };

const prepared = new LruMap<string, PreparedProgram>(128);
/** Rejections are verdicts on the bytes: the same bytes get the same one without another load. */
const rejected = new LruMap<string, { reason: RejectionReason; message: string; details: string | undefined }>(256);
const loading = new Map<string, Promise<PreparedProgram>>();

/** The loader of prepareProgram's synchronous form (tools, tests, builds); loaders are isolated per load. */
let sharedLoader: ModuleLoader | undefined;

function keyOf(moduleBytes: Uint8Array, options: PrepareOptions): string {
  const metering = options.metering !== false;
  return createHash("sha256")
    .update(moduleBytes)
    .update(`|instrumentation ${INSTRUMENTATION_VERSION}|pages ${options.limits.memoryPages}|metering ${metering}`)
    .digest("hex");
}

function cached(key: string, options: PrepareOptions): PreparedProgram | undefined {
  const refusal = rejected.get(key);
  if (refusal) throw new ModuleRejectedError(refusal.reason, refusal.message, refusal.details);
  const program = prepared.get(key);
  return program && { ...program, name: options.name, limits: options.limits };
}

function remember(
  key: string,
  options: PrepareOptions,
  moduleBytes: number,
  loaded: LoadedModule,
  module: WebAssembly.Module,
  compileMs: number,
): PreparedProgram {
  const program: PreparedProgram = {
    key,
    name: options.name,
    limits: options.limits,
    module,
    memory: loaded.memory,
    moduleBytes,
    instrumentedBytes: loaded.instrumented.length,
    instrumentMs: loaded.instrumentMs,
    compileMs,
  };
  prepared.set(key, program);
  return program;
}

function rememberRejection(key: string, error: unknown): never {
  if (error instanceof ModuleRejectedError)
    rejected.set(key, { reason: error.reason, message: verdictText(error), details: error.details });
  throw error;
}

function verdictText(error: ModuleRejectedError): string {
  return error.shortMessage.replace(/^Module rejected \([a-z_]+\): /, "");
}

/**
 * Checks, instruments and compiles a module in a loader thread (runtime/loader.ts), or returns the
 * cached result for the same bytes and memory limit. Throws ModuleRejectedError when a load-time
 * rule is broken (the same verdict on every node) and LoadAbandonedError when the load gave no
 * verdict (the node abstains). Services use this form: the caller's event loop stays free.
 */
export function prepareProgramAsync(
  moduleBytes: Uint8Array,
  options: PrepareOptions,
  loader: ModuleLoader,
): Promise<PreparedProgram> {
  const key = keyOf(moduleBytes, options);
  try {
    const hit = cached(key, options);
    if (hit) return Promise.resolve(hit);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  let pending = loading.get(key);
  if (!pending) {
    pending = loader
      .load({
        name: options.name,
        bytes: moduleBytes,
        memoryPages: options.limits.memoryPages,
        metering: options.metering !== false,
      })
      .then(
        async (loaded) => {
          // V8 compiles on its own background threads: this event loop stays free.
          const start = performance.now();
          const module = await compile(loaded, options.name);
          return remember(key, options, moduleBytes.length, loaded, module, performance.now() - start);
        },
        (error: unknown) => rememberRejection(key, error),
      )
      .finally(() => loading.delete(key));
    loading.set(key, pending);
  }
  return pending.then((program) => ({ ...program, name: options.name, limits: options.limits }));
}

/** The loader thread validated it, so a failure here is the node's (memory), not the module's. */
async function compile(loaded: LoadedModule, name: string): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(loaded.instrumented);
  } catch (error) {
    throw new LoadAbandonedError(name, `V8 did not compile the instrumented module: ${String(error)}`);
  }
}

/**
 * The synchronous form, for tools, tests and builds: the same isolated load, with the calling
 * thread blocked until it ends. Not for services (their event loop would stall meanwhile).
 */
export function prepareProgram(moduleBytes: Uint8Array, options: PrepareOptions): PreparedProgram {
  const key = keyOf(moduleBytes, options);
  const hit = cached(key, options);
  if (hit) return hit;
  sharedLoader ??= new ModuleLoader();
  try {
    const loaded = sharedLoader.loadSync({
      name: options.name,
      bytes: moduleBytes,
      memoryPages: options.limits.memoryPages,
      metering: options.metering !== false,
    });
    const start = performance.now();
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(loaded.instrumented);
    } catch (error) {
      throw new LoadAbandonedError(options.name, `V8 did not compile the instrumented module: ${String(error)}`);
    }
    return remember(key, options, moduleBytes.length, loaded, module, performance.now() - start);
  } catch (error) {
    return rememberRejection(key, error);
  }
}

/** Forgets every prepared program and rejection (benchmarks use it to measure cold preparation). */
export function clearPreparedPrograms(): void {
  prepared.clear();
  rejected.clear();
}
