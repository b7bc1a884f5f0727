/**
 * The pinned QuickJS engine's names and layout, apart from runtime/js/engine.ts so that pool
 * worker threads (runtime/js/runner.ts, runtime/js/host.ts) can use them without loading binaryen,
 * whose module awaits at top level (see test/runtime/topLevelAwait.test.ts).
 */
export const ENGINE_PACKAGE = "@jitl/quickjs-wasmfile-release-sync";
export const ENGINE_VERSION = "0.32.0";
export const ENGINE_SHA256 = "105c3bed22d457e43e3d1c3c1c6959fda62a8fe06f0fc8a985303c3a2be72232";
/** What a JavaScript program's manifest names in `engine`. */
export const ENGINE_ID = `quickjs-${ENGINE_VERSION}@sha256:${ENGINE_SHA256}`;

/**
 * The engine's exports (Emscripten minifies their names; this table belongs to the pinned build
 * and is checked against the module when it loads).
 */
export const ENGINE_EXPORTS = {
  ctors: "u",
  malloc: "v",
  free: "M",
  newRuntime: "K",
  setMemoryLimit: "y",
  setMaxStackSize: "D",
  newContext: "N",
  freeValuePointer: "P",
  freeCString: "S",
  newArrayBuffer: "X",
  newString: "_",
  getString: "$",
  executePendingJob: "ga",
  getProp: "ha",
  setProp: "ja",
  resolveException: "na",
  evaluate: "pa",
  getGlobalObject: "ua",
  stackRestore: "Ma",
  stackAlloc: "Na",
  stackSave: "Oa",
} as const;

/** The engine's import module name (Emscripten's minified `env`). */
export const ENGINE_IMPORT_MODULE = "a";

/** Stack pointer global, exported under this name so a reused instance can be reset. */
export const STACK_POINTER_EXPORT = "versatus$sp";

/**
 * The lowest value the stack pointer took, exported so the runner restores only the part of the
 * C stack a run could have written (plus the data and the heap), not the whole memory.
 */
export const STACK_LOW_EXPORT = "versatus$splow";

/** The engine's start function, exported under this name and called by the runner. */
export const START_EXPORT = "versatus$start";

/**
 * Where the engine's static memory (data, then zero-initialised statics) ends: the bottom of its
 * 5 MiB C stack, which grows down from the stack pointer's initial value (checked when the engine
 * is adapted). Nothing is ever written between this and the stack's low-water mark.
 */
export const ENGINE_DATA_END = 90_208;
