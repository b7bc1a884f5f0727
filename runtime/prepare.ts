import { createHash } from "node:crypto";
import { checkModule } from "./loadChecks.ts";
import { INSTRUMENTATION_VERSION, instrumentModule } from "./instrument.ts";
import type { ProgramLimits } from "./limits.ts";
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

/**
 * Checks, instruments and compiles a module, or returns the cached result for the same bytes and
 * memory limit. Throws ModuleRejectedError when a load-time rule is broken.
 */
export function prepareProgram(moduleBytes: Uint8Array, options: PrepareOptions): PreparedProgram {
  const metering = options.metering !== false;
  const key = createHash("sha256")
    .update(moduleBytes)
    .update(`|instrumentation ${INSTRUMENTATION_VERSION}|pages ${options.limits.memoryPages}|metering ${metering}`)
    .digest("hex");
  const cached = prepared.get(key);
  if (cached) return { ...cached, name: options.name, limits: options.limits };

  const sections = checkModule(moduleBytes, options.limits.memoryPages);
  const declared = sections.memories[0]!;
  const memory = {
    initial: declared.initial,
    maximum: Math.min(declared.maximum ?? Infinity, options.limits.memoryPages),
  };
  const instrumentStart = performance.now();
  const instrumented = instrumentModule(moduleBytes, { maxMemoryPages: options.limits.memoryPages, metering });
  const compileStart = performance.now();
  const module = new WebAssembly.Module(instrumented);
  const done = performance.now();
  const program: PreparedProgram = {
    key,
    name: options.name,
    limits: options.limits,
    module,
    memory,
    moduleBytes: moduleBytes.length,
    instrumentedBytes: instrumented.length,
    instrumentMs: compileStart - instrumentStart,
    compileMs: done - compileStart,
  };
  prepared.set(key, program);
  return program;
}

/** Forgets every prepared program (benchmarks use it to measure cold preparation). */
export function clearPreparedPrograms(): void {
  prepared.clear();
}
