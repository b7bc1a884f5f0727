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

/**
 * Largest stdin (the request input, or a pipeline step's input). A larger input is the
 * `input_limit` outcome before the program runs: the input is part of the request, so every node
 * reaches the same verdict.
 */
export const MAX_INPUT_BYTES = 1024 * 1024;

/**
 * Most entries a module's tables may declare (in total: without reference types there is at most
 * one). Tables cannot grow, so this bounds what each instance allocates; a module over it is
 * refused at load (`table`). C, Rust and AssemblyScript programs need one entry per function
 * whose address is taken: hundreds to a few thousand.
 */
export const MAX_TABLE_ENTRIES = 65_536;

/** Fuel per table entry, charged with the other instantiation costs on entering `_start`. */
export const TABLE_ENTRY_FUEL = 1;

/** Diagnostics beyond this are dropped (stderr is informative only, never an outcome). */
export const STDERR_CAP_BYTES = 16 * 1024;

/**
 * Call-depth budget in frame units. A frame costs `1 + ceil(slots / 8)` units, where slots are the
 * function's locals (parameters included) plus its deepest operand stack plus 4 for the injected
 * code, because a V8 wasm frame measured about 64 bytes plus 8 per local or operand-stack value
 * (Liftoff gives each a stack slot); 8192 units is then about 512 KiB of machine
 * stack, half of V8's default 984 KiB limit on the main thread and an eighth of the worker stacks
 * the pool asks for, so the injected check always fires before V8's own (which is not
 * deterministic across tiers and would only make the node abstain).
 */
export const CALL_DEPTH_BUDGET = 8_192;

/** Machine stack of pool workers; see CALL_DEPTH_BUDGET. */
export const WORKER_STACK_MB = 4;
