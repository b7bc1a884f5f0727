import { createHash } from "node:crypto";
import { hexToBytes, type Hex } from "viem";
import { contextEnvironment, type ProgramContext } from "../../protocol/programContext.ts";
import { InvalidOutputError, parseProgramOutput } from "../../protocol/programOutput.ts";
import { RunAbandonedError } from "../errors.ts";
import { DEPTH_EXPORT, FUEL_EXPORT, MEMORY_IMPORT } from "../loadChecks.ts";
import { CALL_DEPTH_BUDGET, STDERR_CAP_BYTES } from "../limits.ts";
import type { RunOutcome } from "../outcome.ts";
import type { RunInput } from "../runInstance.ts";
import type { PreparedEngine } from "./engine.ts";
import { ENGINE_DATA_END, ENGINE_EXPORTS, STACK_LOW_EXPORT, STACK_POINTER_EXPORT, START_EXPORT } from "./engineAbi.ts";
import { EngineAbortSignal, EngineExitSignal, EngineFuelSignal, EngineHost } from "./host.ts";
import { PRELUDE_SOURCE } from "./prelude.ts";

/** A JavaScript program ready to run: the compiled engine and the program's script. */
export type JsProgram = { engine: EngineModule; script: Uint8Array };

/** What the runner needs of a prepared engine (the pool sends these to its workers). */
export type EngineModule = Pick<PreparedEngine, "key" | "module" | "memory">;

/** The run input, with the request context once the runtime carries it. */
export type JsRunInput = RunInput & { context?: ProgramContext };

/**
 * QuickJS's own JavaScript stack limit, in bytes of the engine's C stack (5 MiB, in linear memory,
 * so the check is deterministic). The wasm call-depth budget usually ends deep recursion first.
 */
const JS_STACK_BYTES = 1024 * 1024;
const EVAL_FLAG_STRICT = 8;

type Engine = {
  [K in keyof typeof ENGINE_EXPORTS]: (...args: number[]) => number;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The engine right after start-up: what every run starts from. */
type Snapshot = {
  engineKey: string;
  memory: Uint8Array;
  stackPointer: number;
  /** The lowest the stack pointer went before the snapshot. */
  stackLow: number;
  rt: number;
  ctx: number;
  global: number;
  /** Fuel the start-up took (the same on every node; not charged to runs). */
  startupFuel: bigint;
  /** A program's snapshot: its script is already compiled, as the body of `__versatus_main`. */
  compiled: boolean;
};

/** Program snapshots a runner keeps (each is a copy of the engine's memory, ~6 MiB). */
const PROGRAM_SNAPSHOTS = 4;
const EVAL_FLAG_COMPILE_ONLY = 32;

type Live = {
  instance: WebAssembly.Instance;
  memory: WebAssembly.Memory;
  engine: Engine;
  fuel: WebAssembly.Global;
  depth: WebAssembly.Global;
  stackPointer: WebAssembly.Global;
  stackLow: WebAssembly.Global;
};

/** Fuel the engine's start-up may take when the snapshot is made. */
const STARTUP_FUEL = 1_000_000_000n;

/**
 * Runs JavaScript programs on the instrumented engine. The engine's start-up (runtime, context,
 * the prelude) is run once per engine into a snapshot of its memory and stack pointer; every run
 * starts from an exact copy of that snapshot, so nothing of a run survives into the next and the
 * fuel of a run depends only on the engine, the script and the request. Everything a run does is
 * metered by the same injected counters as any program; the start-up's fuel (a constant of the
 * engine, `startupFuel`) is not charged to runs.
 */
export class JsRunner {
  private readonly host = new EngineHost();
  private snapshot: Snapshot | undefined;
  private readonly programs = new Map<string, Snapshot>();
  private live: Live | undefined;

  /** Fuel the engine's start-up takes (made once per engine and runner). */
  startupFuel(engine: EngineModule): bigint {
    return this.snapshotFor(engine).startupFuel;
  }

  run(program: JsProgram, input: JsRunInput): RunOutcome {
    const host = this.host;
    const fuelLimit = BigInt(input.limits.fuel);
    const snapshot = this.programSnapshot(program, fuelLimit);
    const live = this.restore(program.engine, snapshot);
    const { fuel, depth } = live;
    host.begin({
      nowMs: Number(input.timestamp) * 1000,
      maxPages: input.limits.memoryPages,
      stderrLimit: STDERR_CAP_BYTES,
    });
    host.bind(live.memory, fuel);
    fuel.value = fuelLimit;
    depth.value = 0;

    const finish = (
      outcome: RunOutcome["outcome"],
      exitCode: number | null,
      message: string,
      stdout: Uint8Array = new Uint8Array(0),
      stderr: Uint8Array = host.takeDiagnostics(),
    ): RunOutcome => {
      const remaining = fuel.value as bigint;
      return {
        outcome,
        exitCode,
        fuelUsed: remaining < 0n ? fuelLimit : fuelLimit - remaining,
        stdout,
        stderr: stderr.length > STDERR_CAP_BYTES ? stderr.slice(0, STDERR_CAP_BYTES) : stderr,
        message,
      };
    };

    let result: [string, number | null, string, string];
    try {
      result = this.execute(live, snapshot, program.script, input);
    } catch (error) {
      if (error instanceof EngineFuelSignal) {
        return finish("out_of_fuel", null, `ran out of fuel (limit ${fuelLimit}) in an engine host call`);
      }
      if (error instanceof EngineExitSignal) {
        return finish(error.code === 0 ? "trap" : "exit", error.code, `the engine exited with code ${error.code}`);
      }
      if (error instanceof EngineAbortSignal) return finish("trap", null, `the engine aborted: ${error.reason}`);
      if (error instanceof WebAssembly.RuntimeError) {
        if ((fuel.value as bigint) < 0n) return finish("out_of_fuel", null, `ran out of fuel (limit ${fuelLimit})`);
        if ((depth.value as number) > CALL_DEPTH_BUDGET) {
          return finish("too_deep", null, `call depth exceeded ${CALL_DEPTH_BUDGET} frame units in the engine`);
        }
        return finish("trap", null, `the engine trapped: ${error.message}`);
      }
      if (error instanceof RangeError) {
        this.live = undefined;
        throw new RunAbandonedError(`V8 stopped the engine before the runtime's limits did: ${error.message}`);
      }
      this.live = undefined;
      throw new RunAbandonedError("the host failed while running the JavaScript engine", { cause: error });
    }

    const [kind, code, stdoutText, stderrText] = result;
    const diagnostics = host.takeDiagnostics();
    const stderr = concat(encoder.encode(stderrText), diagnostics);
    const stdout = encoder.encode(stdoutText);
    if (kind === "output_limit" || stdout.length > input.limits.outputBytes) {
      return finish(
        "output_limit",
        null,
        `stdout exceeded its limit of ${input.limits.outputBytes} bytes`,
        new Uint8Array(0),
        stderr,
      );
    }
    if (kind === "exit") return finish("exit", code, `exited with code ${code}`, stdout, stderr);
    if (kind === "uncaught") return finish("exit", 1, "uncaught exception (see stderr); exit code 1", stdout, stderr);
    if (kind === "pending") {
      return finish("exit", 1, "main's promise never settled; exit code 1", stdout, stderr);
    }
    const done = finish("ok", 0, "exited normally", stdout, stderr);
    if (!input.parseOutput) return done;
    try {
      return { ...done, instructions: parseProgramOutput(done.stdout, input.originChainId) };
    } catch (error) {
      if (!(error instanceof InvalidOutputError)) throw error;
      return { ...done, outcome: "invalid_output", message: error.shortMessage };
    }
  }

  private instantiate(prepared: EngineModule): Live {
    const memory = new WebAssembly.Memory({ initial: prepared.memory.initial, maximum: prepared.memory.maximum });
    const instance = new WebAssembly.Instance(prepared.module, {
      ...this.host.imports,
      [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory },
    });
    const engine = Object.fromEntries(
      Object.entries(ENGINE_EXPORTS).map(([name, letter]) => [name, instance.exports[letter]]),
    ) as Engine;
    return {
      instance,
      memory,
      engine,
      fuel: instance.exports[FUEL_EXPORT] as WebAssembly.Global,
      depth: instance.exports[DEPTH_EXPORT] as WebAssembly.Global,
      stackPointer: instance.exports[STACK_POINTER_EXPORT] as WebAssembly.Global,
      stackLow: instance.exports[STACK_LOW_EXPORT] as WebAssembly.Global,
    };
  }

  /** Starts the engine once: runtime, context, prelude; then keeps a copy of its memory. */
  private snapshotFor(prepared: EngineModule): Snapshot {
    if (this.snapshot?.engineKey === prepared.key) return this.snapshot;
    const live = this.instantiate(prepared);
    this.host.begin({ nowMs: 0, maxPages: prepared.memory.maximum, stderrLimit: 0 });
    this.host.bind(live.memory, live.fuel);
    live.fuel.value = STARTUP_FUEL;
    const { engine, memory } = live;
    (live.instance.exports[START_EXPORT] as () => void)();
    engine.ctors();
    const rt = engine.newRuntime();
    engine.setMaxStackSize(rt, JS_STACK_BYTES);
    const ctx = engine.newContext(rt, 0);
    if (!rt || !ctx) throw new Error("the JavaScript engine could not start");
    const global = engine.getGlobalObject(ctx);
    if (evaluate(engine, memory, ctx, encoder.encode(PRELUDE_SOURCE), "prelude.js", 0)) {
      throw new Error("the JavaScript prelude failed to load (runtime bug)");
    }
    if ((live.depth.value as number) !== 0) throw new Error("the engine start-up left a call depth");
    this.snapshot = {
      engineKey: prepared.key,
      memory: new Uint8Array(memory.buffer).slice(),
      stackPointer: live.stackPointer.value as number,
      stackLow: live.stackLow.value as number,
      rt,
      ctx,
      global,
      startupFuel: STARTUP_FUEL - (live.fuel.value as bigint),
      compiled: false,
    };
    this.live = live;
    return this.snapshot;
  }

  /**
   * The engine with the program's script compiled (not run), made once per program and runner:
   * parsing and compiling a bundle is most of a small program's work, and depends only on the
   * script. The script must first compile on its own as a global script (so wrapping it in a
   * function body cannot change where its tokens end: no code of it can run here); it then
   * becomes the body of `__versatus_main`, which each run calls. A script that does not compile
   * alone runs from the engine snapshot instead, evaluated per run, where its SyntaxError is the
   * run's (deterministic) outcome. Both paths depend only on the engine and the script.
   */
  private programSnapshot(program: JsProgram, fuelLimit: bigint): Snapshot {
    const base = this.snapshotFor(program.engine);
    const key = `${program.engine.key}|${scriptKey(program.script)}|${fuelLimit}`;
    const cached = this.programs.get(key);
    if (cached) {
      this.programs.delete(key);
      this.programs.set(key, cached);
      return cached;
    }
    let snapshot = base;
    try {
      snapshot = this.compileInto(program, base, fuelLimit) ?? base;
    } catch (error) {
      if (error instanceof RangeError || !isEngineStop(error)) throw error;
    }
    this.programs.set(key, snapshot);
    if (this.programs.size > PROGRAM_SNAPSHOTS) this.programs.delete(this.programs.keys().next().value!);
    return snapshot;
  }

  private compileInto(program: JsProgram, base: Snapshot, fuelLimit: bigint): Snapshot | undefined {
    const live = this.restore(program.engine, base);
    this.host.begin({ nowMs: 0, maxPages: program.engine.memory.maximum, stderrLimit: 0 });
    this.host.bind(live.memory, live.fuel);
    live.fuel.value = fuelLimit;
    live.depth.value = 0;
    const { engine, memory } = live;
    if (evaluate(engine, memory, base.ctx, program.script, "program.js", EVAL_FLAG_COMPILE_ONLY)) return undefined;
    // The compile-only value is dropped with this memory: start again from the engine snapshot.
    const again = this.restore(program.engine, base);
    again.fuel.value = fuelLimit;
    again.depth.value = 0;
    const source = concat(
      concat(
        encoder.encode('Object.defineProperty(globalThis, "__versatus_main", { value: function () {\n'),
        program.script,
      ),
      encoder.encode("\n}, configurable: true });"),
    );
    if (evaluate(again.engine, again.memory, base.ctx, source, "program.js", 0)) return undefined;
    if ((again.depth.value as number) !== 0) return undefined;
    return {
      ...base,
      memory: new Uint8Array(again.memory.buffer).slice(),
      stackPointer: again.stackPointer.value as number,
      stackLow: again.stackLow.value as number,
      compiled: true,
    };
  }

  /**
   * The engine as it was in the snapshot. The instance is reused while its memory has not grown
   * (a memory cannot shrink). Only what a run can have written is copied back: the static data,
   * the C stack from the lowest point the stack pointer reached (tracked by the engine's
   * instrumentation) up, and the heap; the rest of the stack region is never written, by any run
   * or snapshot. The stack pointer and its low-water mark are reset: that is all the engine's state.
   */
  private restore(prepared: EngineModule, snapshot: Snapshot): Live {
    let live = this.live;
    const heap = live ? new Uint8Array(live.memory.buffer) : undefined;
    if (!live || !heap || heap.length !== snapshot.memory.length) {
      live = this.instantiate(prepared);
      if (live.memory.buffer.byteLength < snapshot.memory.length) {
        live.memory.grow((snapshot.memory.length - live.memory.buffer.byteLength) / 65_536);
      }
      new Uint8Array(live.memory.buffer).set(snapshot.memory);
      this.live = live;
    } else {
      heap.set(snapshot.memory.subarray(0, ENGINE_DATA_END));
      const low = Math.max(ENGINE_DATA_END, Math.min(live.stackLow.value as number, snapshot.stackLow) & ~15);
      heap.set(snapshot.memory.subarray(low), low);
    }
    live.stackPointer.value = snapshot.stackPointer;
    live.stackLow.value = snapshot.stackLow;
    return live;
  }

  /** The run: set-up from the request, the script, its promise jobs, then the prelude's verdict. */
  private execute(
    live: Live,
    snapshot: Snapshot,
    script: Uint8Array,
    input: JsRunInput,
  ): [string, number | null, string, string] {
    const { engine, memory } = live;
    const { rt, ctx, global } = snapshot;
    const inputPointer = put(engine, memory, input.stdin, false);
    const inputBuffer = engine.newArrayBuffer(ctx, inputPointer, input.stdin.length);
    engine.setProp(ctx, global, newString(engine, memory, ctx, "__versatus_input"), inputBuffer);
    const inputString = engine.newString(ctx, put(engine, memory, input.stdin, true));
    engine.setProp(ctx, global, newString(engine, memory, ctx, "__versatus_input_text"), inputString);
    const setup = `__versatus_setup((function () { var b = globalThis.__versatus_input; delete globalThis.__versatus_input; return b; })(), (function () { var t = globalThis.__versatus_input_text; delete globalThis.__versatus_input_text; return t; })(), ${JSON.stringify(requestOf(input))}, ${JSON.stringify(contextOf(input))}, ${JSON.stringify(seedWords(input.requestId))}, ${input.limits.outputBytes});`;
    if (evaluate(engine, memory, ctx, encoder.encode(setup), "setup.js", 0)) {
      throw new EngineAbortSignal("the run's set-up failed");
    }

    let error = snapshot.compiled
      ? evaluate(engine, memory, ctx, MAIN_CALL, "main.js", 0)
      : evaluate(engine, memory, ctx, script, "program.js", 0);
    if (!error) {
      const lastContext = engine.malloc(4);
      for (;;) {
        const jobs = engine.executePendingJob(rt, -1, lastContext);
        const exception = engine.resolveException(ctx, jobs);
        if (exception) {
          error = exception;
          break;
        }
        if (Number(cString(memory, engine.getString(ctx, jobs))) <= 0) break;
      }
    }
    let finishCall = "__versatus_finish()";
    if (error) {
      engine.setProp(ctx, global, newString(engine, memory, ctx, "__versatus_error"), error);
      finishCall = "__versatus_finish(globalThis.__versatus_error)";
    }
    const source = encoder.encode(finishCall);
    const verdict = engine.evaluate(
      ctx,
      put(engine, memory, source, true),
      source.length,
      put(engine, memory, encoder.encode("finish.js"), true),
      0,
      EVAL_FLAG_STRICT,
    );
    if (engine.resolveException(ctx, verdict)) throw new EngineAbortSignal("the prelude's verdict failed");
    return JSON.parse(cString(memory, engine.getString(ctx, verdict))) as [string, number | null, string, string];
  }
}

/** Runs the compiled program once: `__versatus_main` is taken away before its body runs. */
const MAIN_CALL = encoder.encode(
  "(function () { var main = globalThis.__versatus_main; delete globalThis.__versatus_main; main(); })();",
);

function scriptKey(script: Uint8Array): string {
  return createHash("sha256").update(script).digest("hex");
}

function isEngineStop(error: unknown): boolean {
  return (
    error instanceof WebAssembly.RuntimeError ||
    error instanceof EngineAbortSignal ||
    error instanceof EngineFuelSignal ||
    error instanceof EngineExitSignal
  );
}

/** Evaluates a global script; returns the exception value pointer, or 0. */
function evaluate(
  engine: Engine,
  memory: WebAssembly.Memory,
  ctx: number,
  source: Uint8Array,
  name: string,
  flags: number,
): number {
  const code = put(engine, memory, source, true);
  const file = put(engine, memory, encoder.encode(name), true);
  const value = engine.evaluate(ctx, code, source.length, file, 0, flags);
  return engine.resolveException(ctx, value);
}

/** Copies bytes into a fresh allocation of the engine (NUL-terminated when asked). */
function put(engine: Engine, memory: WebAssembly.Memory, bytes: Uint8Array, terminate: boolean): number {
  const pointer = engine.malloc(bytes.length + (terminate ? 1 : 0) || 1);
  if (!pointer) throw new EngineAbortSignal("out of memory while passing data to the engine");
  const heap = new Uint8Array(memory.buffer);
  heap.set(bytes, pointer);
  if (terminate) heap[pointer + bytes.length] = 0;
  return pointer;
}

function newString(engine: Engine, memory: WebAssembly.Memory, ctx: number, text: string): number {
  return engine.newString(ctx, put(engine, memory, encoder.encode(text), true));
}

function cString(memory: WebAssembly.Memory, pointer: number): string {
  const heap = new Uint8Array(memory.buffer);
  const end = heap.indexOf(0, pointer);
  return decoder.decode(heap.subarray(pointer, end < 0 ? heap.length : end));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/** What every run knows about its request, as strings (the values a WASI program reads). */
function requestOf(input: JsRunInput): Record<string, string> {
  return {
    requestId: input.requestId.toLowerCase(),
    originChainId: input.originChainId.toString(10),
    timestamp: input.timestamp.toString(10),
  };
}

/** The request context as the same strings contextEnvironment gives WASI programs, or null. */
function contextOf(input: JsRunInput): Record<string, string> | null {
  if (!input.context) return null;
  const entries = contextEnvironment(input.context).map((line) => {
    const at = line.indexOf("=");
    const name = line
      .slice("VERSATUS_".length, at)
      .toLowerCase()
      .replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
    return [name, line.slice(at + 1)];
  });
  return Object.fromEntries(entries);
}

/** Four 32-bit words seeding Math.random: sha256(requestId ‖ "versatus/js-random"), first 16 bytes. */
function seedWords(requestId: Hex): number[] {
  const digest = createHash("sha256").update(hexToBytes(requestId)).update("versatus/js-random").digest();
  return [0, 4, 8, 12].map((at) => digest.readUInt32LE(at));
}
