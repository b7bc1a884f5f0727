import binaryen from "binaryen";
import { ModuleRejectedError } from "./errors.ts";

/**
 * WebAssembly features a program may use. Threads, SIMD (relaxed SIMD is non-deterministic by
 * design), exceptions, tail calls, GC, multiple or 64-bit memories and the rest are refused: they
 * are not needed by C, Rust or AssemblyScript programs built for WASI, and each would need its own
 * metering and determinism review.
 */
const F = binaryen.Features as unknown as Record<string, number>;
function flag(name: string): number {
  const value = F[name];
  if (value === undefined) throw new Error(`binaryen has no feature flag ${name}: check the pinned binaryen version`);
  return value;
}

export const ALLOWED_FEATURES =
  flag("MVP") |
  flag("MutableGlobals") |
  flag("SignExt") |
  flag("NontrappingFPToInt") |
  flag("BulkMemory") |
  flag("BulkMemoryOpt") |
  // Only an encoding detail of call_indirect's table index, which LLVM emits.
  flag("CallIndirectOverlong");

export const ALLOWED_FEATURE_NAMES = ["mutable-globals", "sign-ext", "nontrapping-float-to-int", "bulk-memory"];

/** Refused features, probed one by one to name the one a module uses. */
const REFUSED_FEATURES: ReadonlyArray<[string, number]> = [
  ["simd128", flag("SIMD128")],
  ["relaxed-simd", flag("RelaxedSIMD")],
  ["threads (atomics, shared memory)", flag("Atomics")],
  ["exception-handling", flag("ExceptionHandling")],
  ["tail-call", flag("TailCall")],
  ["reference-types", flag("ReferenceTypes")],
  ["multivalue", flag("Multivalue")],
  ["gc", flag("GC")],
  ["memory64", flag("Memory64")],
  ["multi-memory", flag("MultiMemory")],
  ["extended-const", flag("ExtendedConst")],
  ["strings", flag("Strings")],
  ["stack-switching", flag("StackSwitching")],
  ["shared-everything", flag("SharedEverything")],
  ["fp16", flag("FP16")],
];

/**
 * Validates a binaryen module against the allowed features, naming the refused feature it uses.
 * binaryen's validator prints its findings to stderr; they are captured into the error details.
 */
export function assertAllowedFeatures(module: binaryen.Module): void {
  module.setFeatures(ALLOWED_FEATURES);
  const { result: valid, output } = captureStderr(() => module.validate());
  if (valid) return;
  let feature = "unknown";
  for (const [name, flag] of REFUSED_FEATURES) {
    module.setFeatures(ALLOWED_FEATURES | flag);
    if (captureStderr(() => module.validate()).result) {
      feature = name;
      break;
    }
  }
  module.setFeatures(ALLOWED_FEATURES);
  const firstLines = output.split("\n").slice(0, 4).join("\n");
  if (feature === "unknown") throw new ModuleRejectedError("malformed", "the module does not validate", firstLines);
  throw new ModuleRejectedError(
    "forbidden_feature",
    `uses the WebAssembly feature "${feature}"; programs may use only ${ALLOWED_FEATURE_NAMES.join(", ")}`,
    firstLines,
  );
}

/** Runs `body` with process.stderr writes captured (synchronous code only). */
export function captureStderr<T>(body: () => T): { result: T; output: string } {
  const original = process.stderr.write;
  let output = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    output += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: body(), output };
  } finally {
    process.stderr.write = original;
  }
}
