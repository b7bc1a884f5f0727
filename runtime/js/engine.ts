import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import binaryen from "binaryen";
import { ModuleRejectedError } from "../errors.ts";
import { captureStderr } from "../features.ts";
import { INSTRUMENTATION_VERSION, instrumentModule } from "../instrument.ts";
import { childSlots, nodes } from "../binaryenNodes.ts";
import { LruMap } from "../lru.ts";

/**
 * The JavaScript engine programs written in TypeScript/JavaScript run on: QuickJS compiled to
 * WebAssembly by Emscripten, as published on npm by quickjs-emscripten
 * (`@jitl/quickjs-wasmfile-release-sync`, pinned). The engine is content-addressed: its sha256 is
 * part of every JavaScript program's manifest (`engine`), so of its programId, and a node refuses
 * to run a program naming another engine.
 *
 * The engine is not trusted more than a program: it is instrumented by the same code as every
 * program (runtime/instrument.ts: fuel, call depth), runs with its memory handed in by the runtime
 * and capped at the program's page limit, and its Emscripten imports are served by a small
 * deterministic host (runtime/js/host.ts) with no clock, timers, files or environment.
 */
export {
  ENGINE_PACKAGE,
  ENGINE_VERSION,
  ENGINE_SHA256,
  ENGINE_ID,
  ENGINE_EXPORTS,
  ENGINE_IMPORT_MODULE,
  STACK_POINTER_EXPORT,
  STACK_LOW_EXPORT,
  START_EXPORT,
  ENGINE_DATA_END,
} from "./engineAbi.ts";
import {
  ENGINE_PACKAGE,
  ENGINE_VERSION,
  ENGINE_SHA256,
  ENGINE_EXPORTS,
  ENGINE_IMPORT_MODULE,
  STACK_POINTER_EXPORT,
  STACK_LOW_EXPORT,
  START_EXPORT,
  ENGINE_DATA_END,
} from "./engineAbi.ts";
const ENGINE_STACK_BYTES = 5 * 1024 * 1024;

/** Pages the engine's memory starts with: its data, its 5 MiB C stack, and a first heap. */
export const ENGINE_BASE_PAGES = 96;

let engineBytes: Uint8Array | undefined;

/** The pinned engine module, verified against ENGINE_SHA256. */
export function loadEngineBytes(): Uint8Array {
  if (engineBytes) return engineBytes;
  const require = createRequire(import.meta.url);
  const path = require.resolve(`${ENGINE_PACKAGE}/wasm`);
  const bytes = new Uint8Array(readFileSync(path));
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== ENGINE_SHA256) {
    throw new Error(
      `the JavaScript engine at ${path} has sha256 ${digest}, expected ${ENGINE_SHA256} (${ENGINE_PACKAGE}@${ENGINE_VERSION}); reinstall with npm ci`,
    );
  }
  engineBytes = bytes;
  return bytes;
}

export type PreparedEngine = {
  key: string;
  module: WebAssembly.Module;
  /** Initial and maximum pages of the engine's memory for this page limit. */
  memory: { initial: number; maximum: number };
  instrumentMs: number;
  compileMs: number;
};

const engines = new LruMap<string, PreparedEngine>(8);

/**
 * Instruments and compiles the engine for a page limit, once per node and limit (cached). The
 * engine's imported memory becomes a memory of its own exported as `memory` (what the shared
 * instrumentation expects), which the instrumentation turns back into the runtime's memory import.
 */
export function prepareEngine(maxMemoryPages: number): PreparedEngine {
  if (maxMemoryPages < ENGINE_BASE_PAGES + 4) {
    throw new ModuleRejectedError(
      "memory",
      `a JavaScript program needs at least ${ENGINE_BASE_PAGES + 4} pages of memory (limits.memoryPages), got ${maxMemoryPages}`,
    );
  }
  const bytes = loadEngineBytes();
  const key = createHash("sha256")
    .update(bytes)
    .update(`|js engine|instrumentation ${INSTRUMENTATION_VERSION}|pages ${maxMemoryPages}`)
    .digest("hex");
  const cached = engines.get(key);
  if (cached) return cached;
  const start = performance.now();
  const instrumented = instrumentInChild(maxMemoryPages);
  const compileStart = performance.now();
  const module = new WebAssembly.Module(instrumented);
  const done = performance.now();
  const moduleApi = WebAssembly.Module as unknown as { exports(m: WebAssembly.Module): { name: string }[] };
  const exported = new Set(moduleApi.exports(module).map((entry) => entry.name));
  for (const [name, letter] of Object.entries(ENGINE_EXPORTS)) {
    if (!exported.has(letter)) throw new Error(`the engine module has no export "${letter}" (${name})`);
  }
  const engine: PreparedEngine = {
    key,
    module,
    memory: { initial: ENGINE_BASE_PAGES, maximum: maxMemoryPages },
    instrumentMs: compileStart - start,
    compileMs: done - compileStart,
  };
  engines.set(key, engine);
  return engine;
}

/** The adapted, instrumented engine for a page limit, made in this process. */
export function instrumentEngineHere(maxMemoryPages: number): Uint8Array {
  return instrumentModule(adaptEngine(loadEngineBytes()), { maxMemoryPages });
}

const CHILD_SCRIPT = fileURLToPath(new URL("./instrumentEngine.ts", import.meta.url));

/** instrumentEngineHere in a child process (see runtime/js/instrumentEngine.ts). */
function instrumentInChild(maxMemoryPages: number): Uint8Array {
  const child = spawnSync(process.execPath, [...process.execArgv, CHILD_SCRIPT, String(maxMemoryPages)], {
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.status !== 0 || child.stdout.length === 0) {
    throw new Error(
      `instrumenting the JavaScript engine failed (exit ${child.status ?? child.signal}): ${child.stderr.toString().slice(0, 2000)}`,
    );
  }
  return new Uint8Array(child.stdout.buffer, child.stdout.byteOffset, child.stdout.length);
}

/**
 * Rewrites the Emscripten module into the shape the instrumentation takes: a memory of its own
 * (same data segments, ENGINE_BASE_PAGES initial pages) exported as `memory`, and its stack
 * pointer exported so the runner can reset it.
 */
/** What binaryen.js 123 actually returns for a data segment (its typings say otherwise). */
type RawSegment = { offset: number | null; data: ArrayBuffer; passive: boolean };

export function adaptEngine(bytes: Uint8Array): Uint8Array {
  const { result: module } = captureStderr(() => binaryen.readBinary(bytes));
  try {
    const segments: binaryen.MemorySegment[] = [];
    const segmentEnds: number[] = [];
    for (let i = 0; i < module.getNumMemorySegments(); i++) {
      const info = (module as unknown as { getMemorySegmentInfo(name: string): RawSegment }).getMemorySegmentInfo(
        String(i),
      );
      if (info.passive || info.offset === null) throw new Error("the engine module should have only active segments");
      segments.push({ offset: module.i32.const(info.offset), data: new Uint8Array(info.data) });
      segmentEnds.push(info.offset + info.data.byteLength);
    }
    // The imported memory's internal name, which every load and store refers to.
    const memoryName = "mimport$0";
    if (module.getMemoryInfo(memoryName).module !== ENGINE_IMPORT_MODULE) throw new Error("unexpected engine memory");
    module.setMemory(ENGINE_BASE_PAGES, 65536, "memory", segments, false, false, memoryName);
    if (module.getNumGlobals() !== 1) throw new Error("the engine module should have exactly one global");
    const dataEnd = Math.max(...segmentEnds);
    const stackTop = binaryen.getExpressionInfo(
      binaryen.getGlobalInfo(module.getGlobalByIndex(0)).init,
    ) as binaryen.ConstInfo;
    if (dataEnd > ENGINE_DATA_END || (stackTop.value as number) - ENGINE_STACK_BYTES !== ENGINE_DATA_END) {
      throw new Error(`unexpected engine memory layout (data ends at ${dataEnd}, stack top ${String(stackTop.value)})`);
    }
    const stackPointer = binaryen.getGlobalInfo(module.getGlobalByIndex(0)).name;
    module.addGlobalExport(stackPointer, STACK_POINTER_EXPORT);
    trackStackLowWater(module, stackPointer);
    // The start function runs at instantiation, before the runner has set the fuel: it becomes an
    // export the runner calls first, metered like the rest.
    const start = startFunctionIndex(bytes);
    if (start === null) throw new Error("the engine module should have a start function");
    const startName = binaryen.getFunctionInfo(module.getFunctionByIndex(start)).name;
    module.setStart(0 as binaryen.FunctionRef);
    module.addFunctionExport(startName, START_EXPORT);
    module.setFeatures(binaryen.Features.MVP | binaryen.Features.MutableGlobals | binaryen.Features.SignExt);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/** The start section's function index, read from the module bytes (null when there is none). */
function startFunctionIndex(bytes: Uint8Array): number | null {
  let at = 8;
  const leb = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const size = leb();
    const end = at + size;
    if (id === 8) return leb();
    at = end;
  }
  return null;
}

/**
 * Every `global.set $sp, v` becomes `global.set $sp, (t = v; if t < low then low = t; t)`: the
 * runner reads `low` after a run to know how deep the C stack went.
 */
function trackStackLowWater(module: binaryen.Module, stackPointer: string): void {
  const spInit = binaryen.getExpressionInfo(
    binaryen.getGlobalInfo(module.getGlobal(stackPointer)).init,
  ) as binaryen.ConstInfo;
  module.addGlobal(STACK_LOW_GLOBAL, binaryen.i32, true, module.i32.const(spInit.value as number));
  module.addGlobalExport(STACK_LOW_GLOBAL, STACK_LOW_EXPORT);
  const count = module.getNumFunctions();
  for (let i = 0; i < count; i++) {
    const func = module.getFunctionByIndex(i);
    if (binaryen.getFunctionInfo(func).module) continue;
    let temp = -1;
    const visit = (expr: binaryen.ExpressionRef): void => {
      if (binaryen.getExpressionId(expr) === binaryen.GlobalSetId) {
        const info = binaryen.getExpressionInfo(expr) as binaryen.GlobalSetInfo;
        if (info.name === stackPointer) {
          visit(info.value);
          if (temp < 0) temp = nodes._BinaryenFunctionAddVar(func, binaryen.i32);
          const m = module;
          const t = () => m.local.get(temp, binaryen.i32);
          nodes.GlobalSet.setValue(
            expr,
            m.block(
              null,
              [
                m.local.set(temp, info.value),
                m.if(
                  m.i32.lt_u(t(), m.global.get(STACK_LOW_GLOBAL, binaryen.i32)),
                  m.global.set(STACK_LOW_GLOBAL, t()),
                ),
                t(),
              ],
              binaryen.i32,
            ),
          );
          return;
        }
      }
      for (const slot of childSlots(expr)) {
        const child = slot.get();
        if (child) visit(child);
      }
    };
    const body = nodes.Function.getBody(func);
    if (body) visit(body);
  }
}

const STACK_LOW_GLOBAL = "versatus$splow";
