/**
 * Run limits. The manifest's limits (fuel, memory pages, output bytes, wall time; defaults and
 * caps live with the package format in protocol/programPackage.ts because they are part of the
 * programId) are all deterministic except `wallTimeMs`, only a backstop: hitting it makes the
 * node abstain, never a result. Fuel is about one unit per wasm instruction (runtime/instrument.ts),
 * memory pages are 64 KiB, enforced by rewriting `memory.grow`.
 */
export { DEFAULT_LIMITS, LIMIT_CAPS, type ProgramLimits } from "../protocol/programPackage.ts";

/** Largest module the runtime loads at all. */
export const MAX_MODULE_BYTES = 16 * 1024 * 1024;

/** Largest stdin (the request input). */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** Diagnostics beyond this are dropped (stderr is informative only, never an outcome). */
export const STDERR_CAP_BYTES = 16 * 1024;

/**
 * Call-depth budget in frame units. A frame costs `1 + ceil(locals / 8)` units, because a V8 wasm
 * frame measured about 64 bytes plus 8 per local; 8192 units is then about 512 KiB of machine
 * stack, half of V8's default 984 KiB limit on the main thread and an eighth of the worker stacks
 * the pool asks for, so the injected check always fires before V8's own (which is not
 * deterministic across tiers and would only make the node abstain).
 */
export const CALL_DEPTH_BUDGET = 8_192;

/** Machine stack of pool workers; see CALL_DEPTH_BUDGET. */
export const WORKER_STACK_MB = 4;
