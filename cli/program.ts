import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { keccak256, toHex, type Hex } from "viem";
import { BaseError, InvalidInputError } from "../protocol/errors.ts";
import { encodeInstructions, instructionsHash, Op, type Instruction } from "../protocol/instructions.ts";
import { instructionsForChain, type InstructionsByChain } from "../protocol/programOutput.ts";
import { inputHash, ResultStatus } from "../protocol/result.ts";
import { buildProgram } from "../programs/toolchain.ts";
import { ModuleRejectedError, RunAbandonedError } from "../runtime/errors.ts";
import { NanoRuntime, type ExecutionRequest, type PipelineOutcome } from "../runtime/executor.ts";
import { readModuleSections } from "../runtime/moduleSections.ts";
import { resultStatusOf } from "../runtime/outcome.ts";
import { prepareProgram } from "../runtime/prepare.ts";
import { openProgramPath } from "../runtime/programFiles.ts";

/**
 * `versatus program ...`: build, inspect, run and simulate programs locally, with the same
 * runtime the operators use. Exit codes: 0 whenever the program could be tried, whatever its
 * outcome (a trap is the program's result, not the command's failure); 1 for usage errors.
 */
export function registerProgramCommands(root: Command): void {
  const program = root.command("program").description("Build, inspect, run and simulate WebAssembly programs");

  program
    .command("build")
    .description("Compile a program directory (versatus.json + sources) and write build/<name>.vpkg")
    .argument("<dir>", "program directory")
    .option("--force", "recompile even if the sources did not change")
    .action((dir: string, options: { force?: boolean }) =>
      guard(() => {
        const built = buildProgram(dir, { force: options.force ?? false });
        console.log(`${built.compiled ? "built" : "up to date"}: ${built.name} ${built.manifest.version}`);
        console.log(`module     ${built.modulePath} (${built.package.module.length} bytes)`);
        console.log(`package    ${built.packagePath} (${built.package.bytes.length} bytes)`);
        console.log(`programId  ${built.package.programId}`);
      }),
    );

  program
    .command("inspect")
    .description("Show a package's programId, manifest, imports and exports, and whether the runtime accepts it")
    .argument("<pkg>", ".vpkg, .wasm or built program directory")
    .option("--json", "print JSON")
    .action((path: string, options: { json?: boolean }) =>
      guard(() => {
        const pkg = openProgramPath(path);
        const sections = readModuleSections(pkg.module);
        let verdict = "accepted";
        let instrumentedBytes: number | undefined;
        try {
          instrumentedBytes = prepareProgram(pkg.module, {
            name: pkg.manifest.name,
            limits: pkg.manifest.limits,
          }).instrumentedBytes;
        } catch (error) {
          if (!(error instanceof ModuleRejectedError)) throw error;
          verdict = error.shortMessage;
        }
        const report = {
          programId: pkg.programId,
          manifest: pkg.manifest,
          packageBytes: pkg.bytes.length,
          moduleBytes: pkg.module.length,
          moduleSha256: `0x${createHash("sha256").update(pkg.module).digest("hex")}`,
          imports: sections.imports.map((entry) => `${entry.module}.${entry.name}`),
          exports: sections.exports.map((entry) => `${entry.name} (${entry.kind})`),
          memory: sections.memories.map((m) => ({ initialPages: m.initial, maximumPages: m.maximum ?? null })),
          runtime: verdict,
          instrumentedBytes: instrumentedBytes ?? null,
        };
        if (options.json) return console.log(JSON.stringify(report, null, 2));
        console.log(`programId    ${report.programId}`);
        console.log(`name         ${pkg.manifest.name} ${pkg.manifest.version}`);
        console.log(
          `limits       fuel ${pkg.manifest.limits.fuel}, memory ${pkg.manifest.limits.memoryPages} pages, output ${pkg.manifest.limits.outputBytes} bytes, wall time ${pkg.manifest.limits.wallTimeMs} ms`,
        );
        console.log(
          `sizes        package ${report.packageBytes} bytes, module ${report.moduleBytes} bytes${instrumentedBytes ? `, instrumented ${instrumentedBytes} bytes` : ""}`,
        );
        console.log(`module hash  ${report.moduleSha256} (sha256)`);
        console.log(
          `memory       ${report.memory.map((m) => `${m.initialPages} pages initial, max ${m.maximumPages ?? "none"}`).join("; ")}`,
        );
        console.log(`imports      ${report.imports.join(", ") || "(none)"}`);
        console.log(`exports      ${report.exports.join(", ")}`);
        console.log(`runtime      ${verdict}`);
      }),
    );

  const withRequestOptions = (command: Command) =>
    command
      .requiredOption("--input <file|->", "request input: a file, or - for stdin")
      .option("--request-id <bytes32>", "request id (seeds random_get); default keccak256(input)")
      .option("--timestamp <seconds>", "Unix time the program's clock starts at", "0")
      .option("--origin-chain <id>", "chain the request came from (default chain of actions)", "31337")
      .option("--json", "print JSON");

  withRequestOptions(
    program
      .command("run")
      .description("Run a program on an input and print its outcome")
      .argument("<pkg>", ".vpkg, .wasm or built program directory")
      .option("--then <pkg...>", "further programs of a pipeline, fed the previous stdout"),
  ).action((path: string, options: RequestOptions & { then?: string[] }) =>
    guardAsync(async () => {
      const result = await execute([path, ...(options.then ?? [])], options);
      if (options.json) return console.log(JSON.stringify(result.json, null, 2));
      printOutcome(result);
    }),
  );

  withRequestOptions(
    program
      .command("simulate")
      .description("Run a program and show what each chain's InstructionIngestor would receive")
      .argument("<pkg>", ".vpkg, .wasm or built program directory")
      .option("--then <pkg...>", "further programs of a pipeline, fed the previous stdout"),
  ).action((path: string, options: RequestOptions & { then?: string[] }) =>
    guardAsync(async () => {
      const result = await execute([path, ...(options.then ?? [])], options);
      const ingest = ingestorView(result);
      if (options.json) {
        const ingestJson = ingest.map((chain) => ({ ...chain, instructions: chain.instructions.map(instructionJson) }));
        return console.log(JSON.stringify({ ...result.json, ingest: ingestJson }, null, 2));
      }
      printOutcome(result);
      console.log("");
      console.log("What each chain's InstructionIngestor would receive (EIP-712 Result fields, then Instruction[]):");
      for (const chain of ingest) {
        console.log(`\nchain ${chain.chainId}`);
        for (const [key, value] of Object.entries(chain.result)) console.log(`  ${key.padEnd(17)} ${value}`);
        console.log(`  instructions     ${chain.instructions.length === 0 ? "[] (none)" : ""}`);
        for (const ix of chain.instructions) console.log(`    ${describeInstruction(ix)}`);
        console.log(
          `  abi.encode       ${chain.encoded.length > 130 ? `${chain.encoded.slice(0, 130)}… (${(chain.encoded.length - 2) / 2} bytes)` : chain.encoded}`,
        );
      }
      console.log(
        `\nbodyHash is provisional: keccak256 over the record fields known here; the collector's record encoding (SPEC 5) is authoritative.`,
      );
    }),
  );
}

type RequestOptions = { input: string; requestId?: string; timestamp: string; originChain: string; json?: boolean };

type Execution = {
  names: string[];
  programIds: Hex[];
  request: ExecutionRequest;
  outcome: PipelineOutcome | undefined;
  /** Set when no deterministic outcome exists: module rejected or run abandoned. */
  failure: { kind: "rejected" | "abandoned"; message: string } | undefined;
  json: Record<string, unknown>;
};

async function execute(paths: string[], options: RequestOptions): Promise<Execution> {
  const request = readRequest(options);
  const packages = paths.map(openProgramPath);
  const runtime = new NanoRuntime({ size: 1 });
  const base = { names: packages.map((p) => p.manifest.name), programIds: packages.map((p) => p.programId), request };
  try {
    const programs = await Promise.all(packages.map((pkg) => runtime.load(pkg)));
    const outcome = await runtime.executePipeline(programs, request);
    return { ...base, outcome, failure: undefined, json: outcomeJson(outcome) };
  } catch (error) {
    if (!(error instanceof ModuleRejectedError || error instanceof RunAbandonedError)) throw error;
    const failure = {
      kind: error instanceof ModuleRejectedError ? "rejected" : "abandoned",
      message: error.message,
    } as const;
    return { ...base, outcome: undefined, failure, json: { outcome: failure.kind, message: failure.message } };
  } finally {
    await runtime.close();
  }
}

function readRequest(options: RequestOptions): ExecutionRequest {
  let input: Uint8Array;
  try {
    input = new Uint8Array(readFileSync(options.input === "-" ? 0 : options.input));
  } catch (error) {
    throw new InvalidInputError("--input", "a readable file or - for stdin", { details: (error as Error).message });
  }
  const requestId = (options.requestId ?? keccak256(input)) as Hex;
  if (!/^0x[0-9a-fA-F]{64}$/.test(requestId))
    throw new InvalidInputError("--request-id", "32 bytes of 0x-prefixed hex");
  if (!/^\d+$/.test(options.timestamp)) throw new InvalidInputError("--timestamp", "Unix seconds");
  if (!/^[1-9]\d*$/.test(options.originChain)) throw new InvalidInputError("--origin-chain", "a positive chain id");
  return { input, requestId, timestamp: BigInt(options.timestamp), originChainId: BigInt(options.originChain) };
}

function outcomeJson(outcome: PipelineOutcome): Record<string, unknown> {
  const decoder = new TextDecoder();
  return {
    outcome: outcome.outcome,
    exitCode: outcome.exitCode,
    fuelUsed: outcome.fuelUsed.toString(),
    message: outcome.message,
    stdout: decoder.decode(outcome.stdout),
    stderr: decoder.decode(outcome.stderr),
    instructions: outcome.instructions ? instructionsJson(outcome.instructions) : null,
    ...(outcome.steps.length > 1
      ? { steps: outcome.steps.map((s) => ({ ...s, fuelUsed: s.fuelUsed.toString() })) }
      : {}),
  };
}

function instructionsJson(byChain: InstructionsByChain): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [chainId, list] of byChain) {
    out[chainId.toString()] = list.map(instructionJson);
  }
  return out;
}

function instructionJson(ix: Instruction): Record<string, unknown> {
  return { op: ix.op, opName: OP_NAMES[ix.op], target: ix.target, amount: ix.amount.toString(), data: ix.data };
}

const OP_NAMES = Object.fromEntries(Object.entries(Op).map(([name, code]) => [code, name])) as Record<number, string>;

function describeInstruction(ix: Instruction): string {
  return `${OP_NAMES[ix.op]!.padEnd(8)} target ${ix.target} amount ${ix.amount} data ${ix.data.length > 74 ? `${ix.data.slice(0, 74)}…` : ix.data}`;
}

function printOutcome(result: Execution): void {
  console.log(`program    ${result.names.join(" | ")}`);
  console.log(`programId  ${result.programIds.join(" | ")}`);
  if (result.failure) {
    console.log(
      `outcome    ${result.failure.kind} (no result: ${result.failure.kind === "rejected" ? "PROGRAM_ERROR on every node" : "the node abstains"})`,
    );
    console.log(`message    ${result.failure.message}`);
    return;
  }
  const outcome = result.outcome!;
  const decoder = new TextDecoder();
  console.log(
    `outcome    ${outcome.outcome}${outcome.exitCode !== null ? ` (exit code ${outcome.exitCode})` : ""}: ${outcome.message}`,
  );
  console.log(`fuel used  ${outcome.fuelUsed}`);
  console.log(`stdout     ${decoder.decode(outcome.stdout).trimEnd() || "(empty)"}`);
  if (outcome.stderr.length > 0) console.log(`stderr     ${decoder.decode(outcome.stderr).trimEnd()}`);
  if (outcome.instructions) {
    for (const [chainId, list] of outcome.instructions) {
      console.log(`chain ${chainId}: ${list.length} instruction(s), instructionsHash ${instructionsHash(list)}`);
      for (const ix of list) console.log(`  ${describeInstruction(ix)}`);
    }
  }
}

type ChainView = { chainId: string; result: Record<string, string>; instructions: Instruction[]; encoded: Hex };

/** Per chain, the Result (SPEC 3.2) and Instruction[] the ingestor would get from this run. */
function ingestorView(result: Execution): ChainView[] {
  const { request } = result;
  const outcome = result.outcome;
  const ok = outcome?.outcome === "ok";
  const byChain: InstructionsByChain = ok && outcome.instructions ? outcome.instructions : new Map();
  const chains = [request.originChainId, ...[...byChain.keys()].filter((id) => id !== request.originChainId)];
  const status = outcome ? resultStatusOf(outcome.outcome) : ResultStatus.PROGRAM_ERROR;
  const bodyHash = keccak256(
    toHex(
      JSON.stringify({
        originChainId: request.originChainId.toString(),
        requestId: request.requestId,
        programId: result.programIds[0],
        input: toHex(request.input),
        status,
        stdout: toHex(outcome?.stdout ?? new Uint8Array(0)),
        fuelUsed: (outcome?.fuelUsed ?? 0n).toString(),
      }),
    ),
  );
  return chains.map((chainId) => {
    // PROGRAM_ERROR disperses nothing: the origin chain gets the result with no instructions.
    const instructions = instructionsForChain(byChain, chainId);
    return {
      chainId: chainId.toString(),
      result: {
        requestId: request.requestId,
        originChainId: request.originChainId.toString(),
        programId: result.programIds[0]!,
        inputHash: inputHash(toHex(request.input)),
        status: `${status} (${status === ResultStatus.OK ? "OK" : "PROGRAM_ERROR"})`,
        instructionsHash: instructionsHash(instructions),
        bodyHash: `${bodyHash} (provisional)`,
      },
      instructions,
      encoded: encodeInstructions(instructions),
    };
  });
}

function guard(body: () => void): void {
  try {
    body();
  } catch (error) {
    fail(error);
  }
}

async function guardAsync(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    fail(error);
  }
}

function fail(error: unknown): void {
  console.error(
    error instanceof BaseError
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error),
  );
  process.exitCode = 1;
}
