/**
 * Limits of one program run. The manifest may lower or raise each within the caps below; the
 * caps keep one request from monopolising a node. All of them are deterministic except
 * `wallTimeMs`, which is only a backstop: hitting it makes the node abstain, never a result.
 */
export type ProgramLimits = {
  /** Fuel units (about one per wasm instruction executed; see runtime/instrument.ts). */
  fuel: number;
  /** Maximum linear memory in 64 KiB pages, enforced by rewriting `memory.grow`. */
  memoryPages: number;
  /** Bytes the program may write on stdout; more is the `output_limit` outcome. */
  outputBytes: number;
  /** Wall-clock backstop in milliseconds. */
  wallTimeMs: number;
};

export const DEFAULT_LIMITS: ProgramLimits = {
  fuel: 100_000_000,
  memoryPages: 256,
  outputBytes: 64 * 1024,
  wallTimeMs: 2_000,
};

export const LIMIT_CAPS: ProgramLimits = {
  fuel: 10_000_000_000,
  memoryPages: 2_048,
  outputBytes: 1024 * 1024,
  wallTimeMs: 10_000,
};

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
