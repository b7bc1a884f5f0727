import { hexToBytes, type Hex } from "viem";
import { contextEnvironment, type ProgramContext } from "../protocol/programContext.ts";
import { InvalidOutputError, parseProgramOutput } from "../protocol/programOutput.ts";
import { RunAbandonedError } from "./errors.ts";
import { CALL_DEPTH_BUDGET, MAX_INPUT_BYTES, STDERR_CAP_BYTES, type ProgramLimits } from "./limits.ts";
import { DEPTH_EXPORT, FAULT_EXPORT, FUEL_EXPORT, MEMORY_IMPORT } from "./loadChecks.ts";
import type { RunOutcome } from "./outcome.ts";
import { MemoryRecycler, type MemoryShape } from "./memoryRecycler.ts";
import { JsRunner } from "./js/runner.ts";
import { HostFuelSignal, OutputLimitSignal, ProcExitSignal, WasiHost } from "./wasiHost.ts";

/** What one run needs besides the program: all of it comes from the request. */
export type RunInput = {
  stdin: Uint8Array;
  /** bytes32 request id: seeds random_get. */
  requestId: Hex;
  /** Seconds since the Unix epoch the program's clock starts at (e.g. the request's block time). */
  timestamp: bigint;
  /** Chain the request came from: the default chain of output actions. */
  originChainId: bigint;
  /** The request context: the program's WASI environment (`contextEnvironment`); none = empty. */
  context?: ProgramContext;
  programName: string;
  limits: ProgramLimits;
  /** Parse stdout into instructions (the last step of a pipeline); false for intermediate steps. */
  parseOutput: boolean;
  /** JavaScript programs: the script the engine (the compiled module) runs (runtime/js). */
  script?: Uint8Array;
};

/** What a thread needs to instantiate a program: its compiled code and its memory's shape. */
export type CompiledProgram = { key: string; module: WebAssembly.Module; memory: MemoryShape };

/**
 * Runs compiled (instrumented) programs synchronously on this thread, each run in a fresh
 * instance. One runner per thread: it reuses its WASI host and recycles memories between runs.
 * Pool workers use it; so do benchmarks that measure the bare run.
 */
export class InstanceRunner {
  private readonly host = new WasiHost();
  private readonly memories = new MemoryRecycler();
  private js: JsRunner | undefined;

  /** Drops what the runner keeps for a program (its spare memories). */
  forget(key: string): void {
    this.memories.forget(key);
  }

  run(program: CompiledProgram, input: RunInput): RunOutcome {
    if (input.stdin.length > MAX_INPUT_BYTES) {
      return {
        outcome: "input_limit",
        exitCode: null,
        fuelUsed: 0n,
        stdout: new Uint8Array(0),
        stderr: new Uint8Array(0),
        message: `the input is ${input.stdin.length} bytes, over the limit of ${MAX_INPUT_BYTES} bytes`,
      };
    }
    if (input.script) return (this.js ??= new JsRunner()).run({ engine: program, script: input.script }, input);
    const host = this.host;
    const fuelLimit = BigInt(input.limits.fuel);
    host.begin(
      {
        stdin: input.stdin,
        args: [input.programName],
        env: input.context ? contextEnvironment(input.context) : [],
        clockStartNs: input.timestamp * 1_000_000_000n,
        randomSeed: hexToBytes(input.requestId),
        stdoutLimit: input.limits.outputBytes,
        stderrLimit: STDERR_CAP_BYTES,
      },
      fuelLimit,
    );
    const memory = this.memories.take(program.key, program.memory);
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(program.module, {
        ...host.imports,
        [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory },
      });
    } catch (error) {
      this.memories.forget(program.key);
      // A data segment that does not fit is a property of the module, the same on every node.
      if (error instanceof WebAssembly.RuntimeError) {
        return {
          outcome: "trap",
          exitCode: null,
          fuelUsed: 0n,
          stdout: new Uint8Array(0),
          stderr: new Uint8Array(0),
          message: `trapped while instantiating: ${error.message}`,
        };
      }
      throw new RunAbandonedError("the module could not be instantiated", { cause: error });
    }
    const fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
    const depth = instance.exports[DEPTH_EXPORT] as WebAssembly.Global;
    const fault = instance.exports[FAULT_EXPORT] as WebAssembly.Global;
    fuel.value = fuelLimit;
    host.bind({ memory, fuel });
    try {
      return this.execute(instance, { fuel, depth, fault }, fuelLimit, input);
    } finally {
      this.memories.give(program.key, program.memory, memory);
    }
  }

  private execute(
    instance: WebAssembly.Instance,
    { fuel, depth, fault }: Record<"fuel" | "depth" | "fault", WebAssembly.Global>,
    fuelLimit: bigint,
    input: RunInput,
  ): RunOutcome {
    const host = this.host;
    const finish = (outcome: RunOutcome["outcome"], exitCode: number | null, message: string): RunOutcome => {
      const remaining = fuel.value as bigint;
      return {
        outcome,
        exitCode,
        fuelUsed: remaining < 0n ? fuelLimit : fuelLimit - remaining,
        stdout: host.stdout(),
        stderr: host.stderr(),
        message:
          host.stderrTruncatedBytes > 0
            ? `${message} (stderr truncated by ${host.stderrTruncatedBytes} bytes)`
            : message,
      };
    };

    let exitCode = 0;
    try {
      (instance.exports._start as () => void)();
    } catch (error) {
      if (error instanceof ProcExitSignal) exitCode = error.code;
      else if (error instanceof OutputLimitSignal) {
        return finish("output_limit", null, `stdout exceeded its limit of ${error.limit} bytes`);
      } else if (error instanceof HostFuelSignal) {
        return finish("out_of_fuel", null, `ran out of fuel (limit ${fuelLimit}) in a WASI call`);
      } else if (error instanceof WebAssembly.RuntimeError) {
        const where = trapLocation(error);
        if ((fault.value as number) !== 0)
          throw new RunAbandonedError(`memory.grow failed within the page limit on this node${where}`);
        if ((fuel.value as bigint) < 0n)
          return finish("out_of_fuel", null, `ran out of fuel (limit ${fuelLimit})${where}`);
        if ((depth.value as number) > CALL_DEPTH_BUDGET) {
          return finish("too_deep", null, `call depth exceeded ${CALL_DEPTH_BUDGET} frame units${where}`);
        }
        return finish("trap", null, `trapped: ${error.message}${where}`);
      } else if (error instanceof RangeError) {
        // V8's own stack limit, in the program or inside a host call (which never turns it into an
        // errno): where it hits depends on the tier that compiled each frame, so it is no result.
        throw new RunAbandonedError(`V8 stopped the program before the runtime's limits did: ${error.message}`);
      } else {
        throw new RunAbandonedError("the host failed while running the program", { cause: error });
      }
    }
    if (exitCode !== 0) return finish("exit", exitCode, `exited with code ${exitCode}`);
    const done = finish("ok", 0, "exited normally");
    if (!input.parseOutput) return done;
    try {
      return { ...done, instructions: parseProgramOutput(done.stdout, input.originChainId) };
    } catch (error) {
      if (!(error instanceof InvalidOutputError)) throw error;
      return { ...done, outcome: "invalid_output", message: error.shortMessage };
    }
  }
}

/** " in <function>" from the first wasm frame of a trap's stack, when V8 names one. */
function trapLocation(error: Error): string {
  const frame = (error.stack ?? "")
    .split("\n")
    .find((line) => line.includes("wasm://") || line.includes("wasm-function"));
  const name = frame?.trim().match(/^at (\S+)/)?.[1];
  return name ? ` in ${name}` : "";
}
