import binaryen from "binaryen";
import { childSlots, nodes } from "./binaryenNodes.ts";
import { ModuleRejectedError } from "./errors.ts";
import { assertAllowedFeatures, captureStderr } from "./features.ts";
import { CALL_DEPTH_BUDGET } from "./limits.ts";
import { DEPTH_EXPORT, FUEL_EXPORT, MEMORY_IMPORT } from "./loadChecks.ts";

/**
 * Injects deterministic metering into a checked module:
 * - fuel: an i64 global counting down. Each function entry, loop head, `if` arm and the code
 *   after a branch inside a block is charged the number of expressions it contains up to the next
 *   charge point (one unit per expression: about one per instruction executed); `memory.fill/copy/init` are
 *   also charged one unit per 64 bytes and `memory.grow` 1024 units per page. Below zero, the code traps and the runtime reads the
 *   global to report `out_of_fuel`.
 * - call depth: an i32 global raised by the frame cost on entry and lowered on every exit; over
 *   CALL_DEPTH_BUDGET it traps and the runtime reports `too_deep`.
 * - memory: `memory.grow` fails (returns -1, as a full memory would) beyond the page limit.
 * The result depends only on the input bytes, the limits baked in, binaryen's pinned version and
 * INSTRUMENTATION_VERSION, so it is cached by the hash of those.
 */
export const INSTRUMENTATION_VERSION = 1;

export type InstrumentOptions = {
  maxMemoryPages: number;
  depthBudget?: number;
  /** false: only the counters, no charges or checks (the benchmark's unmetered baseline). */
  metering?: boolean;
};

const FUEL = "versatus$fuel";
const DEPTH = "versatus$depth";
const BULK_BYTES_SHIFT = 6;
const FUEL_PER_PAGE = 1024;

export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): Uint8Array {
  const { result: module, output } = captureStderr(() => {
    try {
      return binaryen.readBinary(bytes);
    } catch (error) {
      throw new ModuleRejectedError("malformed", `binaryen cannot read it: ${(error as Error).message}`);
    }
  });
  try {
    if (!module) throw new ModuleRejectedError("malformed", "binaryen cannot read it", output);
    assertAllowedFeatures(module);
    new Meter(module, options.maxMemoryPages, options.depthBudget ?? CALL_DEPTH_BUDGET).run(options.metering !== false);
    importMemory(module);
    const { result: valid, output: problems } = captureStderr(() => module.validate());
    if (!valid) throw new Error(`instrumented module does not validate (runtime bug):\n${problems.slice(0, 2000)}`);
    // Keep function names so trap messages can say where a program failed.
    binaryen.setDebugInfo(true);
    return module.emitBinary();
  } finally {
    module?.dispose();
  }
}

// MEMORY_IMPORT lives in loadChecks.ts (no binaryen): the pool worker threads import it.
export { MEMORY_IMPORT } from "./loadChecks.ts";

/**
 * Turns the module's own memory into an import of the same size. Allocating a fresh 32-bit memory
 * (with its guard region) is most of the cost of instantiating a small program; importing lets
 * the runtime hand each run a zeroed memory it recycled, which to the program is identical to a
 * new one (instantiation still writes the data segments).
 */
function importMemory(module: binaryen.Module): void {
  const memoryExport = module.getExport("memory");
  const internalName = binaryen.getExportInfo(memoryExport).value;
  module.addMemoryImport(internalName, MEMORY_IMPORT.module, MEMORY_IMPORT.name);
}

type Segment = { cost: number };

class Meter {
  private readonly module: binaryen.Module;
  private readonly maxPages: number;
  private readonly depthBudget: number;
  private func = 0 as binaryen.FunctionRef;
  private frameCost = 0;
  private resultLocal = -1;
  /** Branches (br, br_if, br_table) rewritten so far: tells a block where its children may stop. */
  private branches = 0;

  constructor(module: binaryen.Module, maxPages: number, depthBudget: number) {
    this.module = module;
    this.maxPages = maxPages;
    this.depthBudget = depthBudget;
  }

  /** Adds the exported counters; `inject` false leaves the code as is (benchmarks' baseline). */
  run(inject: boolean): void {
    const m = this.module;
    m.addGlobal(FUEL, binaryen.i64, true, m.i64.const(0, 0));
    m.addGlobal(DEPTH, binaryen.i32, true, m.i32.const(0));
    m.addGlobalExport(FUEL, FUEL_EXPORT);
    m.addGlobalExport(DEPTH, DEPTH_EXPORT);
    if (!inject) return;
    const count = m.getNumFunctions();
    const defined: binaryen.FunctionRef[] = [];
    for (let i = 0; i < count; i++) {
      const func = m.getFunctionByIndex(i);
      if (!binaryen.getFunctionInfo(func).module) defined.push(func);
    }
    for (const func of defined) this.instrumentFunction(func);
  }

  private instrumentFunction(func: binaryen.FunctionRef): void {
    const m = this.module;
    this.func = func;
    const locals = nodes.Function.getNumLocals(func);
    this.frameCost = 1 + Math.ceil(locals / 8);
    const results = nodes.Function.getResults(func);
    this.resultLocal = results === binaryen.none ? -1 : nodes._BinaryenFunctionAddVar(func, results);

    const entry: Segment = { cost: 0 };
    const body = this.rewrite(nodes.Function.getBody(func), entry);
    const exit =
      this.resultLocal < 0
        ? [body, this.leave()]
        : [m.local.set(this.resultLocal, body), this.leave(), m.local.get(this.resultLocal, results)];
    nodes.Function.setBody(func, m.block(null, [this.charge(entry.cost), ...this.enter(), ...exit], results));
  }

  /** Rewrites children first, then the node itself; counts every original node into `segment`. */
  private rewrite(expr: binaryen.ExpressionRef, segment: Segment): binaryen.ExpressionRef {
    segment.cost += 1;
    const id = binaryen.getExpressionId(expr);
    if (id === binaryen.LoopId) {
      nodes.Loop.setBody(expr, this.chargedSegment(nodes.Loop.getBody(expr)));
      return expr;
    }
    if (id === binaryen.IfId) {
      // Each arm is charged when taken, so a big branch not taken costs nothing.
      nodes.If.setCondition(expr, this.rewrite(nodes.If.getCondition(expr), segment));
      nodes.If.setIfTrue(expr, this.chargedSegment(nodes.If.getIfTrue(expr)));
      const ifFalse = nodes.If.getIfFalse(expr);
      if (ifFalse) nodes.If.setIfFalse(expr, this.chargedSegment(ifFalse));
      return expr;
    }
    if (id === binaryen.BlockId) {
      this.rewriteBlockChildren(expr, segment);
      return expr;
    }
    if (id === binaryen.BreakId || id === binaryen.SwitchId) this.branches += 1;
    for (const slot of childSlots(expr)) {
      const child = slot.get();
      if (child) slot.set(this.rewrite(child, segment));
    }
    switch (id) {
      case binaryen.ReturnId:
        return this.rewriteReturn(expr);
      case binaryen.MemoryGrowId:
        return this.rewriteGrow(expr);
      case binaryen.MemoryFillId:
      case binaryen.MemoryCopyId:
      case binaryen.MemoryInitId:
        return this.rewriteBulk(expr);
      case binaryen.CallId:
      case binaryen.CallIndirectId:
        if ((id === binaryen.CallId ? nodes.Call : nodes.CallIndirect).isReturn(expr)) {
          throw new ModuleRejectedError("forbidden_feature", "uses tail calls");
        }
        return expr;
      default:
        return expr;
    }
  }

  /**
   * A block's children run in order until one branches away, so the children after one that
   * contains a branch start a new charge point: code a branch skips is not charged.
   */
  private rewriteBlockChildren(block: binaryen.ExpressionRef, segment: Segment): void {
    const children = nodes.Block.getChildren(block);
    const splits: Array<{ index: number; segment: Segment }> = [];
    let current = segment;
    children.forEach((child, index) => {
      const branchesBefore = this.branches;
      nodes.Block.setChildAt(block, index, this.rewrite(child, current));
      if (this.branches !== branchesBefore && index < children.length - 1) {
        current = { cost: 0 };
        splits.push({ index: index + 1, segment: current });
      }
    });
    for (const split of splits.reverse())
      nodes.Block.insertChildAt(block, split.index, this.charge(split.segment.cost));
  }

  /** Rewrites code that starts a charge point of its own (a loop body, an `if` arm). */
  private chargedSegment(expr: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const segment: Segment = { cost: 0 };
    const body = this.rewrite(expr, segment);
    return this.module.block(null, [this.charge(segment.cost), body], binaryen.getExpressionType(body));
  }

  /** `return v` → `tmp = v; depth -= cost; return tmp`: the value is computed at the callee's depth. */
  private rewriteReturn(expr: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.module;
    const value = nodes.Return.getValue(expr);
    if (!value) return m.block(null, [this.leave(), expr], binaryen.unreachable);
    const type = binaryen.getExpressionType(value);
    if (type === binaryen.unreachable) return expr;
    return m.block(
      null,
      [m.local.set(this.resultLocal, value), this.leave(), m.return(m.local.get(this.resultLocal, type))],
      binaryen.unreachable,
    );
  }

  /** `memory.grow(n)` → fails with -1 past the page limit; growing is charged per page. */
  private rewriteGrow(expr: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.module;
    const delta = nodes.MemoryGrow.getDelta(expr);
    const pages = this.newLocal(binaryen.i32);
    nodes.MemoryGrow.setDelta(expr, m.local.get(pages, binaryen.i32));
    const perPage = m.i64.mul(m.i64.extend_u(m.local.get(pages, binaryen.i32)), m.i64.const(FUEL_PER_PAGE, 0));
    const overLimit = m.i32.gt_u(
      m.local.get(pages, binaryen.i32),
      m.i32.sub(m.i32.const(this.maxPages), m.memory.size()),
    );
    return m.block(
      null,
      [m.local.set(pages, delta), this.chargeDynamic(perPage), m.if(overLimit, m.i32.const(-1), expr)],
      binaryen.i32,
    );
  }

  /** Bulk memory operations are charged by their size, evaluated once, before they run. */
  private rewriteBulk(expr: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.module;
    const slots = childSlots(expr);
    const sets: binaryen.ExpressionRef[] = [];
    const temps: number[] = [];
    for (const slot of slots) {
      const local = this.newLocal(binaryen.i32);
      sets.push(m.local.set(local, slot.get()));
      slot.set(m.local.get(local, binaryen.i32));
      temps.push(local);
    }
    const size = m.local.get(temps[temps.length - 1]!, binaryen.i32);
    const cost = m.i64.shr_u(m.i64.extend_u(size), m.i64.const(BULK_BYTES_SHIFT, 0));
    return m.block(null, [...sets, this.chargeDynamic(cost), expr], binaryen.none);
  }

  private newLocal(type: binaryen.Type): number {
    return nodes._BinaryenFunctionAddVar(this.func, type);
  }

  private charge(units: number): binaryen.ExpressionRef {
    return this.chargeDynamic(this.module.i64.const(units, 0));
  }

  private chargeDynamic(units: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.module;
    return m.block(null, [
      m.global.set(FUEL, m.i64.sub(m.global.get(FUEL, binaryen.i64), units)),
      m.if(m.i64.lt_s(m.global.get(FUEL, binaryen.i64), m.i64.const(0, 0)), m.unreachable()),
    ]);
  }

  private enter(): binaryen.ExpressionRef[] {
    const m = this.module;
    return [
      m.global.set(DEPTH, m.i32.add(m.global.get(DEPTH, binaryen.i32), m.i32.const(this.frameCost))),
      m.if(m.i32.gt_u(m.global.get(DEPTH, binaryen.i32), m.i32.const(this.depthBudget)), m.unreachable()),
    ];
  }

  private leave(): binaryen.ExpressionRef {
    const m = this.module;
    return m.global.set(DEPTH, m.i32.sub(m.global.get(DEPTH, binaryen.i32), m.i32.const(this.frameCost)));
  }
}
