import type { Hex } from "viem";
import type { ProgramContext } from "../protocol/programContext.ts";
import type { ProgramPackage } from "../protocol/programPackage.ts";
import { isJsPackage, prepareJsProgram, type PreparedJsProgram } from "./js/program.ts";
import { ModuleLoader, type LoaderOptions } from "./loader.ts";
import { RuntimePool, type PoolOptions } from "./pool.ts";
import { prepareProgramAsync, type PreparedProgram } from "./prepare.ts";
import type { RunOutcome } from "./outcome.ts";
import type { RunInput } from "./runInstance.ts";

/** What a request gives the program (SPEC 4): everything it can observe comes from here. */
export type ExecutionRequest = {
  input: Uint8Array;
  requestId: Hex;
  /** Seconds since the Unix epoch; the program's clock starts here (e.g. the request's block time). */
  timestamp: bigint;
  originChainId: bigint;
  /**
   * The request context (requester, escrow, fee, ...), served to the program as WASI environment
   * variables (protocol/programContext.ts `contextEnvironment`). Absent: an empty environment.
   * Every step of a pipeline sees the same context.
   */
  context?: ProgramContext;
};

export type PipelineStep = { name: string; outcome: RunOutcome["outcome"]; fuelUsed: bigint; message: string };

/** A pipeline's outcome: the failing step's (or the last step's) outcome, fuel summed over steps. */
export type PipelineOutcome = RunOutcome & { steps: PipelineStep[]; failedStep: number | null };

/**
 * The nano-runtime as services use it: load a package once, then execute requests on the worker
 * pool. Outcomes are deterministic; a run that cannot end deterministically rejects with
 * RunAbandonedError and the node abstains.
 */
export type RuntimeOptions = PoolOptions & { loader?: LoaderOptions };

export class NanoRuntime {
  private readonly pool: RuntimePool;
  private readonly loader: ModuleLoader;

  constructor(options: RuntimeOptions = {}) {
    const { loader, ...pool } = options;
    this.pool = new RuntimePool(pool);
    this.loader = new ModuleLoader(loader);
  }

  /**
   * Checks, instruments and compiles a package (cached) in a loader thread, off this event loop
   * and within a time budget (runtime/loader.ts). Throws ModuleRejectedError (a verdict every node
   * reaches: PROGRAM_ERROR) or LoadAbandonedError (no verdict: the node abstains). A JavaScript
   * package runs on the QuickJS engine, instrumented once per node (runtime/js/program.ts).
   */
  async load(pkg: ProgramPackage): Promise<PreparedProgram> {
    if (isJsPackage(pkg)) return prepareJsProgram(pkg);
    return prepareProgramAsync(pkg.module, { name: pkg.manifest.name, limits: pkg.manifest.limits }, this.loader);
  }

  execute(program: PreparedProgram, request: ExecutionRequest): Promise<RunOutcome> {
    checkContext(request);
    return this.pool.run(program, runInput(program, request, request.input, true));
  }

  /**
   * Runs programs in sequence, each one's stdout the next one's stdin (SPEC 4). Atomic: the first
   * step that does not end `ok` ends the pipeline with its outcome, and only the last step's
   * output becomes instructions.
   */
  async executePipeline(programs: readonly PreparedProgram[], request: ExecutionRequest): Promise<PipelineOutcome> {
    if (programs.length === 0) throw new RangeError("a pipeline needs at least one program");
    checkContext(request);
    const steps: PipelineStep[] = [];
    let stdin = request.input;
    let fuelUsed = 0n;
    for (const [index, program] of programs.entries()) {
      const last = index === programs.length - 1;
      const outcome = await this.pool.run(program, runInput(program, request, stdin, last));
      fuelUsed += outcome.fuelUsed;
      steps.push({
        name: program.name,
        outcome: outcome.outcome,
        fuelUsed: outcome.fuelUsed,
        message: outcome.message,
      });
      if (outcome.outcome !== "ok" || last) {
        const failed = outcome.outcome !== "ok";
        const message = programs.length > 1 ? `step ${index} (${program.name}): ${outcome.message}` : outcome.message;
        return { ...outcome, fuelUsed, message, steps, failedStep: failed ? index : null };
      }
      stdin = outcome.stdout;
    }
    throw new Error("unreachable: the last step always returns");
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.loader.close()]);
  }
}

/** A context must agree with the request's own id, clock and origin (they seed the same run). */
function checkContext(request: ExecutionRequest): void {
  const context = request.context;
  if (!context) return;
  if (
    context.requestId.toLowerCase() !== request.requestId.toLowerCase() ||
    context.timestamp !== request.timestamp ||
    context.originChainId !== request.originChainId
  ) {
    throw new TypeError("ExecutionRequest: context.requestId, timestamp and originChainId must equal the request's");
  }
}

function runInput(
  program: PreparedProgram,
  request: ExecutionRequest,
  stdin: Uint8Array,
  parseOutput: boolean,
): RunInput {
  return {
    stdin,
    requestId: request.requestId,
    timestamp: request.timestamp,
    originChainId: request.originChainId,
    ...(request.context ? { context: request.context } : {}),
    programName: program.name,
    limits: program.limits,
    parseOutput,
    ...("script" in program ? { script: (program as PreparedJsProgram).script } : {}),
  };
}
