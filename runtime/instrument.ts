import binaryen from "binaryen";
import { childSlots, nodes } from "./binaryenNodes.ts";
import { ModuleRejectedError } from "./errors.ts";
import { assertAllowedFeatures, captureStderr } from "./features.ts";
import { CALL_DEPTH_BUDGET, MAX_TABLE_ENTRIES, TABLE_ENTRY_FUEL } from "./limits.ts";
import { DEPTH_EXPORT, FAULT_EXPORT, FUEL_EXPORT, MEMORY_IMPORT } from "./loadChecks.ts";

/**
 * Injects deterministic metering into a checked module:
 * - fuel: an i64 global counting down. Each function entry, loop head, `if` arm and the code
 *   after a branch inside a block is charged the number of expressions it contains up to the next
 *   charge point (one unit per expression: about one per instruction executed); `memory.fill/copy/init` are
 *   also charged one unit per 64 bytes and `memory.grow` 1024 units per page it gets. Entering
 *   `_start` also charges what instantiating the module cost (setupFuel). Below zero, the code
 *   traps and the runtime reads the global to report `out_of_fuel`.
 * - call depth: an i32 global raised by the frame cost on entry and lowered on every exit; over
 *   CALL_DEPTH_BUDGET it traps and the runtime reports `too_deep`. The frame cost counts the
 *   function's locals and its deepest operand stack, which is what V8's frame holds.
 * - memory: `memory.grow` fails (returns -1, as a full memory would) beyond the page limit.
 * - floats: every operation that may produce a NaN has its result canonicalized (see
 *   NAN_PRODUCING_UNARY and _BINARY), so NaN bits never depend on the CPU or on which V8 tier compiled the code.
 * - tables: refused over MAX_TABLE_ENTRIES (they cannot grow: table.grow needs reference types).
 * The result depends only on the input bytes, the limits baked in, binaryen's pinned version and
 * INSTRUMENTATION_VERSION, so it is cached by the hash of those.
 */
export const INSTRUMENTATION_VERSION = 2;

export type InstrumentOptions = {
  maxMemoryPages: number;
  depthBudget?: number;
  /** false: only the counters, no charges, checks or NaN canonicalization (the benchmark's unmetered baseline). */
  metering?: boolean;
};

const FUEL = "versatus$fuel";
const DEPTH = "versatus$depth";
const FAULT = "versatus$fault";
const BULK_BYTES_SHIFT = 6;
const FUEL_PER_PAGE = 1024;
/** Operand-stack slots the injected code may add on top of the program's own deepest stack. */
const INJECTED_STACK_SLOTS = 4;
/** V8 stack slots (8 bytes each) per frame unit of CALL_DEPTH_BUDGET. */
const SLOTS_PER_FRAME_UNIT = 8;
/** The largest wasm memory, in pages: a memory without a declared maximum may grow to it. */
const WASM32_MAX_PAGES = 65_536;

/**
 * Float operations whose NaN results are not fully specified by WebAssembly (any "arithmetic NaN"
 * may come out, and V8's Liftoff and TurboFan, like different CPUs, pick different ones). Their
 * results are canonicalized: a NaN becomes the positive quiet NaN with an empty payload
 * (f32 0x7fc00000, f64 0x7ff8000000000000), as Wasmtime's NaN canonicalization does. abs, neg,
 * copysign, loads, stores, constants and reinterpretations only move bits, which the
 * specification fixes exactly, so they are left alone.
 */
const NAN_PRODUCING_UNARY = binaryenOps(
  ["Sqrt", "Ceil", "Floor", "Trunc", "Nearest"]
    .flatMap((op) => [`${op}Float32`, `${op}Float64`])
    .concat(["PromoteFloat32", "DemoteFloat64"]),
);
const NAN_PRODUCING_BINARY = binaryenOps(
  ["Add", "Sub", "Mul", "Div", "Min", "Max"].flatMap((op) => [`${op}Float32`, `${op}Float64`]),
);

/** binaryen's operation numbers (unary and binary operations are numbered separately). */
function binaryenOps(names: string[]): ReadonlySet<number> {
  return new Set(
    names.map((name) => {
      const value = (binaryen as unknown as Record<string, number | undefined>)[name];
      if (value === undefined) throw new Error(`binaryen has no operation ${name}: check the pinned binaryen version`);
      return value;
    }),
  );
}

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
    const tableEntries = checkTables(module);
    new Meter(module, options.maxMemoryPages, options.depthBudget ?? CALL_DEPTH_BUDGET).run(
      options.metering !== false,
      setupFuel(module, bytes, tableEntries),
    );
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

/**
 * Tables cannot grow (table.grow needs reference types, which are refused), so their declared
 * initial sizes are what every instance allocates: refused over MAX_TABLE_ENTRIES, instead of
 * letting V8 allocate (or fail to allocate, which would only make nodes abstain) a huge one per run.
 */
function checkTables(module: binaryen.Module): number {
  let entries = 0;
  for (let i = 0; i < module.getNumTables(); i++) {
    const info = binaryen.getTableInfo(module.getTableByIndex(i));
    if (info.initial > MAX_TABLE_ENTRIES) {
      throw new ModuleRejectedError(
        "table",
        `its table "${info.name}" has ${info.initial} entries, over the limit of ${MAX_TABLE_ENTRIES}`,
      );
    }
    entries += info.initial;
  }
  return entries;
}

/**
 * What instantiating the module costs each run, charged when `_start` is entered: its table
 * entries, its initial memory pages (zeroed for every run) like pages it grows, and its data
 * section like a bulk copy of that many bytes (an upper bound of what instantiation writes).
 */
function setupFuel(module: binaryen.Module, bytes: Uint8Array, tableEntries: number): number {
  const dataBytes = dataSectionBytes(bytes);
  const pages = module.getMemoryInfo().initial;
  return tableEntries * TABLE_ENTRY_FUEL + pages * FUEL_PER_PAGE + (dataBytes >> BULK_BYTES_SHIFT);
}

/** Size of the data section (id 11) of a module that V8 has already validated. */
function dataSectionBytes(bytes: Uint8Array): number {
  let offset = 8;
  const leb = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  let total = 0;
  while (offset < bytes.length) {
    const id = bytes[offset++]!;
    const size = leb();
    if (id === 11) total += size;
    offset += size;
  }
  return total;
}

type Segment = { cost: number };

/** binaryen.js's Const accessors, which its type declarations omit. */
const constants = (binaryen as unknown as { Const: { setValueI32(expr: binaryen.ExpressionRef, value: number): void } })
  .Const;

class Meter {
  private readonly module: binaryen.Module;
  private readonly maxPages: number;
  private readonly depthBudget: number;
  /** Pages memory.grow may reach: the page limit, or the module's own smaller maximum. */
  private readonly growLimit: number;
  private func = 0 as binaryen.FunctionRef;
  /** The frame-cost constants of the current function's enter/leave code, set once it is known. */
  private frameCostConsts: binaryen.ExpressionRef[] = [];
  /** Deepest operand stack of the current function's original code, in values. */
  private stackMax = 0;
  private resultLocal = -1;
  private floatTemps = new Map<binaryen.Type, number>();
  /** Branches (br, br_if, br_table) rewritten so far: tells a block where its children may stop. */
  private branches = 0;

  constructor(module: binaryen.Module, maxPages: number, depthBudget: number) {
    this.module = module;
    this.maxPages = maxPages;
    this.depthBudget = depthBudget;
    this.growLimit = Math.min(module.getMemoryInfo().max ?? WASM32_MAX_PAGES, maxPages);
  }

  /**
   * Adds the exported counters; `inject` false leaves the code as is (benchmarks' baseline).
   * `setupFuel` is charged on entering `_start`.
   */
  run(inject: boolean, setupFuel: number): void {
    const m = this.module;
    m.addGlobal(FUEL, binaryen.i64, true, m.i64.const(0, 0));
    m.addGlobal(DEPTH, binaryen.i32, true, m.i32.const(0));
    m.addGlobal(FAULT, binaryen.i32, true, m.i32.const(0));
    m.addGlobalExport(FUEL, FUEL_EXPORT);
    m.addGlobalExport(DEPTH, DEPTH_EXPORT);
    m.addGlobalExport(FAULT, FAULT_EXPORT);
    if (!inject) return;
    const start = binaryen.getExportInfo(m.getExport("_start")).value;
    const count = m.getNumFunctions();
    const defined: binaryen.FunctionRef[] = [];
    for (let i = 0; i < count; i++) {
      const func = m.getFunctionByIndex(i);
      if (!binaryen.getFunctionInfo(func).module) defined.push(func);
    }
    for (const func of defined) {
      this.instrumentFunction(func, nodes.Function.getName(func) === start ? setupFuel : 0);
    }
  }

  private instrumentFunction(func: binaryen.FunctionRef, entryFuel: number): void {
    const m = this.module;
    this.func = func;
    this.frameCostConsts = [];
    this.stackMax = 0;
    this.floatTemps = new Map();
    const results = nodes.Function.getResults(func);
    this.resultLocal = results === binaryen.none ? -1 : nodes._BinaryenFunctionAddVar(func, results);

    const entry: Segment = { cost: entryFuel };
    const body = this.rewrite(nodes.Function.getBody(func), entry, 0);
    const exit =
      this.resultLocal < 0
        ? [body, this.leave()]
        : [m.local.set(this.resultLocal, body), this.leave(), m.local.get(this.resultLocal, results)];
    nodes.Function.setBody(func, m.block(null, [this.charge(entry.cost), ...this.enter(), ...exit], results));
    // A V8 frame holds a slot per local (parameters, the program's and ours) and per value on the
    // operand stack, plus a fixed part: the frame cost is known only now that both are counted.
    const slots = nodes.Function.getNumLocals(func) + this.stackMax + INJECTED_STACK_SLOTS;
    const frameCost = 1 + Math.ceil(slots / SLOTS_PER_FRAME_UNIT);
    for (const constant of this.frameCostConsts) constants.setValueI32(constant, frameCost);
  }

  /**
   * Rewrites children first, then the node itself; counts every original node into `segment`.
   * `height` is the number of values already on the operand stack when `expr` starts.
   */
  private rewrite(expr: binaryen.ExpressionRef, segment: Segment, height: number): binaryen.ExpressionRef {
    segment.cost += 1;
    const id = binaryen.getExpressionId(expr);
    if (height + 1 > this.stackMax) this.stackMax = height + 1;
    if (id === binaryen.LoopId) {
      nodes.Loop.setBody(expr, this.chargedSegment(nodes.Loop.getBody(expr), height));
      return expr;
    }
    if (id === binaryen.IfId) {
      // Each arm is charged when taken, so a big branch not taken costs nothing.
      nodes.If.setCondition(expr, this.rewrite(nodes.If.getCondition(expr), segment, height));
      nodes.If.setIfTrue(expr, this.chargedSegment(nodes.If.getIfTrue(expr), height));
      const ifFalse = nodes.If.getIfFalse(expr);
      if (ifFalse) nodes.If.setIfFalse(expr, this.chargedSegment(ifFalse, height));
      return expr;
    }
    if (id === binaryen.BlockId) {
      this.rewriteBlockChildren(expr, segment, height);
      return expr;
    }
    if (id === binaryen.BreakId || id === binaryen.SwitchId) this.branches += 1;
    // Children run in order, each leaving its value on the stack for the next ones.
    let pending = height;
    for (const slot of childSlots(expr)) {
      const child = slot.get();
      if (!child) continue;
      slot.set(this.rewrite(child, segment, pending));
      if (binaryen.getExpressionType(child) !== binaryen.none) pending += 1;
    }
    switch (id) {
      case binaryen.UnaryId:
      case binaryen.BinaryId: {
        const ops = id === binaryen.UnaryId ? NAN_PRODUCING_UNARY : NAN_PRODUCING_BINARY;
        return ops.has((binaryen.getExpressionInfo(expr) as unknown as { op: number }).op)
          ? this.canonicalizeNan(expr)
          : expr;
      }
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
  private rewriteBlockChildren(block: binaryen.ExpressionRef, segment: Segment, height: number): void {
    const children = nodes.Block.getChildren(block);
    const splits: Array<{ index: number; segment: Segment }> = [];
    let current = segment;
    children.forEach((child, index) => {
      const branchesBefore = this.branches;
      nodes.Block.setChildAt(block, index, this.rewrite(child, current, height));
      if (this.branches !== branchesBefore && index < children.length - 1) {
        current = { cost: 0 };
        splits.push({ index: index + 1, segment: current });
      }
    });
    for (const split of splits.reverse())
      nodes.Block.insertChildAt(block, split.index, this.charge(split.segment.cost));
  }

  /** Rewrites code that starts a charge point of its own (a loop body, an `if` arm). */
  private chargedSegment(expr: binaryen.ExpressionRef, height: number): binaryen.ExpressionRef {
    const segment: Segment = { cost: 0 };
    const body = this.rewrite(expr, segment, height);
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

  /**
   * `memory.grow(n)` → -1 past the page limit, free of charge; otherwise 1024 fuel per page, then
   * the grow. Within the limit it can only fail if this node cannot commit the memory: that is
   * no result, so it sets the fault flag and traps, and the runtime abandons the run.
   */
  private rewriteGrow(expr: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.module;
    const delta = nodes.MemoryGrow.getDelta(expr);
    const pages = this.newLocal(binaryen.i32);
    const previous = this.newLocal(binaryen.i32);
    nodes.MemoryGrow.setDelta(expr, m.local.get(pages, binaryen.i32));
    const perPage = m.i64.mul(m.i64.extend_u(m.local.get(pages, binaryen.i32)), m.i64.const(FUEL_PER_PAGE, 0));
    const overLimit = m.i32.gt_u(
      m.local.get(pages, binaryen.i32),
      m.i32.sub(m.i32.const(this.growLimit), m.memory.size()),
    );
    const grow = m.block(
      null,
      [
        this.chargeDynamic(perPage),
        m.if(
          m.i32.eq(m.local.tee(previous, expr, binaryen.i32), m.i32.const(-1)),
          m.block(null, [m.global.set(FAULT, m.i32.const(1)), m.unreachable()]),
        ),
        m.local.get(previous, binaryen.i32),
      ],
      binaryen.i32,
    );
    return m.block(null, [m.local.set(pages, delta), m.if(overLimit, m.i32.const(-1), grow)], binaryen.i32);
  }

  /**
   * `op(...)` → `select(t = op(...), canonical NaN, t == t)`: the result if it is a number, the
   * canonical NaN otherwise. Branch-free; the temporary is reused (it lives for three instructions).
   */
  private canonicalizeNan(expr: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.module;
    const type = binaryen.getExpressionType(expr);
    if (type === binaryen.unreachable) return expr;
    let temp = this.floatTemps.get(type);
    if (temp === undefined) {
      temp = this.newLocal(type);
      this.floatTemps.set(type, temp);
    }
    const f32 = type === binaryen.f32;
    const canonical = f32 ? m.f32.const_bits(0x7fc0_0000) : m.f64.const_bits(0, 0x7ff8_0000);
    const same = f32
      ? m.f32.eq(m.local.get(temp, type), m.local.get(temp, type))
      : m.f64.eq(m.local.get(temp, type), m.local.get(temp, type));
    return m.select(same, m.local.tee(temp, expr, type), canonical, type);
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
      m.global.set(DEPTH, m.i32.add(m.global.get(DEPTH, binaryen.i32), this.frameCostConst())),
      m.if(m.i32.gt_u(m.global.get(DEPTH, binaryen.i32), m.i32.const(this.depthBudget)), m.unreachable()),
    ];
  }

  private leave(): binaryen.ExpressionRef {
    const m = this.module;
    return m.global.set(DEPTH, m.i32.sub(m.global.get(DEPTH, binaryen.i32), this.frameCostConst()));
  }

  /** A placeholder for the frame cost, which instrumentFunction fills in at the end. */
  private frameCostConst(): binaryen.ExpressionRef {
    const constant = this.module.i32.const(0);
    this.frameCostConsts.push(constant);
    return constant;
  }
}
