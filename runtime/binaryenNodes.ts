import binaryen from "binaryen";
import { ModuleRejectedError } from "./errors.ts";

/**
 * Typed access to binaryen's per-expression accessors (Block.getChildren, If.setCondition, ...),
 * which binaryen.js provides but its type declarations omit. Only the expression kinds of the
 * features programs may use (runtime/features.ts) are listed: the validator has refused the rest.
 */
type Ref = binaryen.ExpressionRef;
type Get = (expr: Ref) => Ref;
type Set = (expr: Ref, child: Ref) => void;

type Accessors = {
  Block: {
    getChildren(expr: Ref): Ref[];
    setChildAt(expr: Ref, index: number, child: Ref): void;
    insertChildAt(expr: Ref, index: number, child: Ref): void;
  };
  If: { getCondition: Get; setCondition: Set; getIfTrue: Get; setIfTrue: Set; getIfFalse: Get; setIfFalse: Set };
  Loop: { getBody: Get; setBody: Set };
  Break: { getCondition: Get; setCondition: Set; getValue: Get; setValue: Set };
  Switch: { getCondition: Get; setCondition: Set; getValue: Get; setValue: Set };
  Call: {
    getOperands(expr: Ref): Ref[];
    setOperandAt(expr: Ref, index: number, child: Ref): void;
    isReturn(expr: Ref): boolean;
  };
  CallIndirect: {
    getTarget: Get;
    setTarget: Set;
    getOperands(expr: Ref): Ref[];
    setOperandAt(expr: Ref, index: number, child: Ref): void;
    isReturn(expr: Ref): boolean;
  };
  LocalSet: { getValue: Get; setValue: Set };
  GlobalSet: { getValue: Get; setValue: Set };
  Load: { getPtr: Get; setPtr: Set };
  Store: { getPtr: Get; setPtr: Set; getValue: Get; setValue: Set };
  Unary: { getValue: Get; setValue: Set };
  Binary: { getLeft: Get; setLeft: Set; getRight: Get; setRight: Set };
  Select: { getIfTrue: Get; setIfTrue: Set; getIfFalse: Get; setIfFalse: Set; getCondition: Get; setCondition: Set };
  Drop: { getValue: Get; setValue: Set };
  Return: { getValue: Get; setValue: Set };
  MemoryGrow: { getDelta: Get; setDelta: Set };
  MemoryInit: { getDest: Get; setDest: Set; getOffset: Get; setOffset: Set; getSize: Get; setSize: Set };
  MemoryCopy: { getDest: Get; setDest: Set; getSource: Get; setSource: Set; getSize: Get; setSize: Set };
  MemoryFill: { getDest: Get; setDest: Set; getValue: Get; setValue: Set; getSize: Get; setSize: Set };
  Function: {
    getName(func: binaryen.FunctionRef): string;
    getParams(func: binaryen.FunctionRef): binaryen.Type;
    getResults(func: binaryen.FunctionRef): binaryen.Type;
    getNumLocals(func: binaryen.FunctionRef): number;
    getBody(func: binaryen.FunctionRef): Ref;
    setBody(func: binaryen.FunctionRef, body: Ref): void;
  };
  _BinaryenFunctionAddVar(func: binaryen.FunctionRef, type: binaryen.Type): number;
};

export const nodes = binaryen as unknown as Accessors;

/**
 * binaryen keeps function names only if debug info is on when it reads and writes a module, and
 * trap messages (part of an outcome) name the function. instrumentModule used to turn it on only
 * before writing, so the first module a process read lost its names: a message that depended on
 * process history. It is on from the start in every thread that loads the runtime.
 */
binaryen.setDebugInfo(true);

/** A child slot of an expression: how to read it and how to put a rewritten child back. */
export type ChildSlot = { get: () => Ref; set: (child: Ref) => void };

function slot(expr: Ref, get: Get, set: Set): ChildSlot {
  return { get: () => get(expr), set: (child) => set(expr, child) };
}

/** binaryen's expression ids by number ("TableCopy" for binaryen.TableCopyId), for messages. */
const EXPRESSION_NAMES = new Map<number, string>(
  Object.entries(binaryen as unknown as Record<string, unknown>)
    .filter(([key, value]) => key.endsWith("Id") && key !== "InvalidId" && typeof value === "number")
    .map(([key, value]) => [value as number, key.slice(0, -2)]),
);

/**
 * The child slots of an expression in evaluation order. An expression kind outside the allowed
 * features that the feature check let through (table.copy passes as bulk memory) is refused with
 * a deterministic ModuleRejectedError: the runtime does not meter it.
 */
export function childSlots(expr: Ref): ChildSlot[] {
  const id = binaryen.getExpressionId(expr);
  const n = nodes;
  switch (id) {
    case binaryen.BlockId:
      return n.Block.getChildren(expr).map((child, index) => ({
        get: () => child,
        set: (c: Ref) => n.Block.setChildAt(expr, index, c),
      }));
    case binaryen.IfId:
      return [
        slot(expr, n.If.getCondition, n.If.setCondition),
        slot(expr, n.If.getIfTrue, n.If.setIfTrue),
        slot(expr, n.If.getIfFalse, n.If.setIfFalse),
      ];
    case binaryen.LoopId:
      return [slot(expr, n.Loop.getBody, n.Loop.setBody)];
    case binaryen.BreakId:
      return [slot(expr, n.Break.getValue, n.Break.setValue), slot(expr, n.Break.getCondition, n.Break.setCondition)];
    case binaryen.SwitchId:
      return [
        slot(expr, n.Switch.getValue, n.Switch.setValue),
        slot(expr, n.Switch.getCondition, n.Switch.setCondition),
      ];
    case binaryen.CallId:
      return n.Call.getOperands(expr).map((child, index) => ({
        get: () => child,
        set: (c: Ref) => n.Call.setOperandAt(expr, index, c),
      }));
    case binaryen.CallIndirectId:
      return [
        ...n.CallIndirect.getOperands(expr).map((child, index) => ({
          get: () => child,
          set: (c: Ref) => n.CallIndirect.setOperandAt(expr, index, c),
        })),
        slot(expr, n.CallIndirect.getTarget, n.CallIndirect.setTarget),
      ];
    case binaryen.LocalSetId:
      return [slot(expr, n.LocalSet.getValue, n.LocalSet.setValue)];
    case binaryen.GlobalSetId:
      return [slot(expr, n.GlobalSet.getValue, n.GlobalSet.setValue)];
    case binaryen.LoadId:
      return [slot(expr, n.Load.getPtr, n.Load.setPtr)];
    case binaryen.StoreId:
      return [slot(expr, n.Store.getPtr, n.Store.setPtr), slot(expr, n.Store.getValue, n.Store.setValue)];
    case binaryen.UnaryId:
      return [slot(expr, n.Unary.getValue, n.Unary.setValue)];
    case binaryen.BinaryId:
      return [slot(expr, n.Binary.getLeft, n.Binary.setLeft), slot(expr, n.Binary.getRight, n.Binary.setRight)];
    case binaryen.SelectId:
      return [
        slot(expr, n.Select.getIfTrue, n.Select.setIfTrue),
        slot(expr, n.Select.getIfFalse, n.Select.setIfFalse),
        slot(expr, n.Select.getCondition, n.Select.setCondition),
      ];
    case binaryen.DropId:
      return [slot(expr, n.Drop.getValue, n.Drop.setValue)];
    case binaryen.ReturnId:
      return [slot(expr, n.Return.getValue, n.Return.setValue)];
    case binaryen.MemoryGrowId:
      return [slot(expr, n.MemoryGrow.getDelta, n.MemoryGrow.setDelta)];
    case binaryen.MemoryInitId:
      return [
        slot(expr, n.MemoryInit.getDest, n.MemoryInit.setDest),
        slot(expr, n.MemoryInit.getOffset, n.MemoryInit.setOffset),
        slot(expr, n.MemoryInit.getSize, n.MemoryInit.setSize),
      ];
    case binaryen.MemoryCopyId:
      return [
        slot(expr, n.MemoryCopy.getDest, n.MemoryCopy.setDest),
        slot(expr, n.MemoryCopy.getSource, n.MemoryCopy.setSource),
        slot(expr, n.MemoryCopy.getSize, n.MemoryCopy.setSize),
      ];
    case binaryen.MemoryFillId:
      return [
        slot(expr, n.MemoryFill.getDest, n.MemoryFill.setDest),
        slot(expr, n.MemoryFill.getValue, n.MemoryFill.setValue),
        slot(expr, n.MemoryFill.getSize, n.MemoryFill.setSize),
      ];
    case binaryen.LocalGetId:
    case binaryen.GlobalGetId:
    case binaryen.ConstId:
    case binaryen.MemorySizeId:
    case binaryen.NopId:
    case binaryen.UnreachableId:
    case binaryen.DataDropId:
      return [];
    default:
      throw new ModuleRejectedError(
        "forbidden_feature",
        `uses an instruction the runtime does not meter (${EXPRESSION_NAMES.get(id) ?? `binaryen expression #${id}`})`,
      );
  }
}

/**
 * binaryen.js's `global.get`/`global.set` builders copy the global's name onto emscripten's stack
 * and never pop it (unlike most builders, they are not wrapped in its stack-preserving helper).
 * The fuel pass calls them a few times per charge point, so after enough instrumentations (or one
 * module with enough charge points) the stack runs into binaryen's heap and every later call in
 * that process fails or corrupts memory. Modules read here get replacements that pass names
 * interned once in binaryen's heap (malloc'd, never freed: the instrumenter uses two names).
 */
type Heap = { _malloc(size: number): number; HEAPU8: Uint8Array };
type Builders = {
  _BinaryenGlobalGet(module: number, name: number, type: binaryen.Type): Ref;
  _BinaryenGlobalSet(module: number, name: number, value: Ref): Ref;
};
const heap = binaryen as unknown as Heap & Builders;
const interned = new Map<string, number>();

function internName(name: string): number {
  let pointer = interned.get(name);
  if (pointer !== undefined) return pointer;
  const bytes = new TextEncoder().encode(name);
  pointer = heap._malloc(bytes.length + 1);
  if (!pointer) throw new Error("binaryen is out of memory");
  // HEAPU8 is replaced when binaryen's memory grows: read it after malloc.
  heap.HEAPU8.set(bytes, pointer);
  heap.HEAPU8[pointer + bytes.length] = 0;
  interned.set(name, pointer);
  return pointer;
}

/** Replaces a module's leaking global builders with ones that leave binaryen's stack as they found it. */
export function plugGlobalBuilderLeak(module: binaryen.Module): binaryen.Module {
  const ptr = module.ptr;
  (module as { global: binaryen.Module["global"] }).global = {
    get: (name: string, type: binaryen.Type) => heap._BinaryenGlobalGet(ptr, internName(name), type),
    set: (name: string, value: Ref) => heap._BinaryenGlobalSet(ptr, internName(name), value),
  };
  return module;
}

const readBinary = binaryen.readBinary;
(binaryen as { readBinary: typeof binaryen.readBinary }).readBinary = (data: Uint8Array) =>
  plugGlobalBuilderLeak(readBinary(data));
