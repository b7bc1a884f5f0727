import binaryen from "binaryen";
import { ModuleRejectedError, type RejectionReason } from "./errors.ts";
import { captureStderr } from "./features.ts";
import { instrumentModule } from "./instrument.ts";
import { checkModule } from "./loadChecks.ts";
import type { MemoryShape } from "./memoryRecycler.ts";
import { checkExpressionDepth, checkModuleShape } from "./moduleShape.ts";

/**
 * One load, as a loader thread runs it (runtime/loaderWorker.ts): structural limits, the load-time
 * rules, instrumentation and V8's validation of the result (the caller compiles it, with
 * WebAssembly.compile off its event loop: only bytes cross threads). Never call it on a service's main thread: binaryen runs
 * here, and binaryen state is what the loader isolates (runtime/loader.ts).
 */
export type LoadRequest = { id: number; bytes: Uint8Array; memoryPages: number; metering: boolean };

/**
 * `stage` says where a rejection came from: "rules" are plain JavaScript over the bytes (the
 * verdict cannot depend on anything else), "binaryen" went through binaryen, whose verdict counts
 * only from a loader thread that had not run earlier loads (runtime/loader.ts confirms it).
 */
export type LoadReply =
  | {
      id: number;
      kind: "ok";
      /** The instrumented module; the caller compiles it (V8 has validated it here). */
      instrumented: Uint8Array;
      memory: MemoryShape;
      instrumentMs: number;
      validateMs: number;
    }
  | {
      id: number;
      kind: "rejected";
      stage: "rules" | "binaryen";
      reason: RejectionReason;
      message: string;
      details: string | undefined;
    }
  | { id: number; kind: "failed"; message: string };

/** The reply of the fixed rejection a module gets when V8 refuses its instrumented form. */
const BEYOND_ENGINE_LIMITS = "its instrumented form is beyond the WebAssembly engine's limits (code size per function)";

export function loadModule(request: LoadRequest): LoadReply {
  const { id } = request;
  const rejected = (error: ModuleRejectedError, stage: "rules" | "binaryen"): LoadReply => ({
    id,
    kind: "rejected",
    stage,
    reason: error.reason,
    message: error.shortMessage.replace(/^Module rejected \([a-z_]+\): /, ""),
    details: error.details,
  });
  let memory: MemoryShape;
  try {
    checkModuleShape(request.bytes);
    const declared = checkModule(request.bytes, request.memoryPages).memories[0]!;
    memory = { initial: declared.initial, maximum: Math.min(declared.maximum ?? Infinity, request.memoryPages) };
  } catch (error) {
    if (error instanceof ModuleRejectedError) return rejected(error, "rules");
    return { id, kind: "failed", message: describe(error) };
  }
  let instrumented: Uint8Array;
  const instrumentStart = performance.now();
  try {
    checkDepth(request.bytes);
    instrumented = instrumentModule(request.bytes, { maxMemoryPages: request.memoryPages, metering: request.metering });
  } catch (error) {
    if (error instanceof ModuleRejectedError) return rejected(error, "binaryen");
    return { id, kind: "failed", message: describe(error) };
  }
  const validateStart = performance.now();
  // The input passed V8's validation; its instrumented form fails only on V8's size limits.
  if (!WebAssembly.validate(instrumented))
    return rejected(new ModuleRejectedError("too_large", BEYOND_ENGINE_LIMITS), "binaryen");
  const done = performance.now();
  return {
    id,
    kind: "ok",
    instrumented,
    memory,
    instrumentMs: validateStart - instrumentStart,
    validateMs: done - validateStart,
  };
}

/** Reads the module once to measure its expression depth (binaryen reads any depth iteratively). */
function checkDepth(bytes: Uint8Array): void {
  const { result: module } = captureStderr(() => {
    try {
      return binaryen.readBinary(bytes);
    } catch {
      // instrumentModule reads it again and reports why it cannot.
      return undefined;
    }
  });
  if (!module) return;
  try {
    checkExpressionDepth(module);
  } finally {
    module.dispose();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
