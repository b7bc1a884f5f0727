import { createHash } from "node:crypto";
import type { Command } from "commander";
import { getAddress, keccak256, parseEther, toHex, zeroAddress, type Address, type Hex } from "viem";
import { BaseError, InvalidInputError } from "../protocol/errors.ts";
import { encodeInstructions, instructionsHash, Op, type Instruction } from "../protocol/instructions.ts";
import { instructionsForChain, type InstructionsByChain } from "../protocol/programOutput.ts";
import { contextToJson, CONTEXT_VARIABLES, type ProgramContext } from "../protocol/programContext.ts";
import { buildRecordBody, recordBodyHash, resultForChain } from "../protocol/record.ts";
import { ResultStatus } from "../protocol/result.ts";
import { buildProgram } from "../programs/toolchain.ts";
import { ModuleRejectedError, RunAbandonedError } from "../runtime/errors.ts";
import { NanoRuntime, type ExecutionRequest, type PipelineOutcome } from "../runtime/executor.ts";
import { readModuleSections } from "../runtime/moduleSections.ts";
import { resultStatusOf } from "../runtime/outcome.ts";
import { prepareProgram } from "../runtime/prepare.ts";
import { openProgramPath, readInputFile } from "../runtime/programFiles.ts";
import { inspectJsProgram, registerProgramNew } from "./programNew.ts";
import { registerPublishCommand } from "./programPublish.ts";

/**
 * `versatus program ...`: build, inspect, run and simulate programs locally, with the same
 * runtime the operators use. Exit codes: 0 whenever the program could be tried, whatever its
 * outcome (a trap is the program's result, not the command's failure); 1 for usage errors.
 */
export function registerProgramCommands(root: Command): void {
  const program = root.command("program").description("Build, inspect, run and simulate WebAssembly programs");
  registerProgramNew(program);

  program
    .command("build")
    .description("Compile a program directory (versatus.json + sources) and write build/<name>.vpkg")
    .argument("<dir>", "program directory")
    .option("--force", "recompile even if the sources did not change")
    .action((dir: string, options: { force?: boolean }) =>
      guard(() => {
        const built = buildProgram(dir, { force: options.force ?? false, log: (line) => console.log(line) });
        const state = built.origin === "committed" ? "committed package" : built.compiled ? "built" : "up to date";
        console.log(`${state}: ${built.name} ${built.manifest.version}`);
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
        if (pkg.manifest.engine) return inspectJsProgram(pkg, options.json ?? false);
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

  // The request context (protocol/programContext.ts) a node would take from the chain event; every
  // field is a flag so a local run sees exactly what the network's would.
  const withRequestOptions = (command: Command) =>
    command
      .requiredOption("--input <file|->", "request input: a file, or - for stdin")
      .option("--requester <address>", "who made the request (VERSATUS_REQUESTER)", DEFAULT_REQUESTER)
      .option(
        "--value <amount>",
        "the escrowed amount, fee included, in the asset's smallest unit or with an `ether` suffix, e.g. 0.3ether (VERSATUS_AMOUNT)",
        DEFAULT_VALUE,
      )
      .option("--token <address>", "the escrowed asset, the zero address for ETH (VERSATUS_ASSET)", zeroAddress)
      .option("--fee <amount>", "the oracle's fee of that asset, like --value (VERSATUS_FEE)", "0")
      .option("--chain-id <id>", "the origin chain (VERSATUS_ORIGIN_CHAIN_ID; default chain of actions)")
      .option("--origin-chain <id>", "alias of --chain-id")
      .option("--request-id <bytes32>", "request id (seeds random_get); default keccak256(input)")
      .option("--block <number>", "the request's block number (VERSATUS_BLOCK_NUMBER)", "1")
      .option("--timestamp <seconds>", "Unix time of the request's block: the program's clock starts here", "0")
      .option("--oracle <address>", "the origin chain's oracle (VERSATUS_ORACLE)", DEFAULT_ORACLE)
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
      const { bodyHash, chains: ingest } = ingestorView(result);
      if (options.json) {
        const ingestJson = ingest.map((chain) => ({ ...chain, instructions: chain.instructions.map(instructionJson) }));
        return console.log(JSON.stringify({ ...result.json, bodyHash, ingest: ingestJson }, null, 2));
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
        `\nbodyHash ${bodyHash}: the execution record body (SPEC 5) as the operators build it; the network signs the same one when the context flags match the request's event and fee.`,
      );
    }),
  );

  registerPublishCommand(program);
}

/** Dev account 7 of the local chains: the requester of the devnet's flows. */
const DEFAULT_REQUESTER = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
/** The ExecutableOracle of the devnet's chains (the deployer's second contract, the same on both). */
const DEFAULT_ORACLE = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
/** 1 ether. */
const DEFAULT_VALUE = "1000000000000000000";

type RequestOptions = {
  input: string;
  requester: string;
  value: string;
  token: string;
  fee: string;
  chainId?: string;
  originChain?: string;
  requestId?: string;
  block: string;
  timestamp: string;
  oracle: string;
  json?: boolean;
};

type Execution = {
  names: string[];
  programIds: Hex[];
  request: ExecutionRequest & { context: ProgramContext };
  outcome: PipelineOutcome | undefined;
  /** Set when no deterministic outcome exists: module rejected or run abandoned. */
  failure: { kind: "rejected" | "abandoned"; message: string } | undefined;
  json: Record<string, unknown>;
};

async function execute(paths: string[], options: RequestOptions): Promise<Execution> {
  const packages = paths.map(openProgramPath);
  const request = readRequest(options, packages[0]!.programId);
  const runtime = new NanoRuntime({ size: 1 });
  const base = { names: packages.map((p) => p.manifest.name), programIds: packages.map((p) => p.programId), request };
  try {
    const programs = await Promise.all(packages.map((pkg) => runtime.load(pkg)));
    const outcome = await runtime.executePipeline(programs, request);
    return {
      ...base,
      outcome,
      failure: undefined,
      json: { context: contextToJson(request.context), ...outcomeJson(outcome) },
    };
  } catch (error) {
    if (!(error instanceof ModuleRejectedError || error instanceof RunAbandonedError)) throw error;
    const failure = {
      kind: error instanceof ModuleRejectedError ? "rejected" : "abandoned",
      message: error.message,
    } as const;
    return {
      ...base,
      outcome: undefined,
      failure,
      json: { context: contextToJson(request.context), outcome: failure.kind, message: failure.message },
    };
  } finally {
    await runtime.close();
  }
}

function readRequest(options: RequestOptions, programId: Hex): ExecutionRequest & { context: ProgramContext } {
  let input: Uint8Array;
  try {
    input = readInputFile(options.input);
  } catch (error) {
    throw new InvalidInputError("--input", "a readable file or - for stdin", { details: (error as Error).message });
  }
  const requestId = (options.requestId ?? keccak256(input)) as Hex;
  if (!/^0x[0-9a-fA-F]{64}$/.test(requestId))
    throw new InvalidInputError("--request-id", "32 bytes of 0x-prefixed hex");
  const chainOption = options.chainId ?? options.originChain ?? "31337";
  if (options.chainId !== undefined && options.originChain !== undefined && options.chainId !== options.originChain)
    throw new InvalidInputError("--origin-chain", "the same chain as --chain-id (it is an alias)");
  const amount = (flag: string, value: string): bigint => {
    const ether = /^(\d+(\.\d{1,18})?)\s*ether$/.exec(value);
    return ether ? parseEther(ether[1]!) : uint(flag, value, U256);
  };
  const uint = (flag: string, value: string, max: bigint): bigint => {
    if (!/^(0|[1-9]\d*)$/.test(value) || BigInt(value) > max)
      throw new InvalidInputError(flag, `a decimal integer between 0 and ${max}`, { details: `got ${value}` });
    return BigInt(value);
  };
  const address = (flag: string, value: string): Address => {
    if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidInputError(flag, "a 20-byte 0x address");
    return getAddress(value.toLowerCase());
  };
  const U64 = (1n << 64n) - 1n;
  const U256 = (1n << 256n) - 1n;
  if (!/^[1-9]\d*$/.test(chainOption)) throw new InvalidInputError("--chain-id", "a positive chain id");
  const context: ProgramContext = {
    requestId: requestId.toLowerCase() as Hex,
    originChainId: uint("--chain-id", chainOption, U256),
    oracle: address("--oracle", options.oracle),
    requester: address("--requester", options.requester),
    asset: address("--token", options.token),
    amount: amount("--value", options.value),
    fee: amount("--fee", options.fee),
    blockNumber: uint("--block", options.block, U64),
    timestamp: uint("--timestamp", options.timestamp, U64),
    programId,
  };
  return {
    input,
    requestId: context.requestId,
    timestamp: context.timestamp,
    originChainId: context.originChainId,
    context,
  };
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
  console.log("context    (the request as the program sees it: WASI environment variables)");
  const context = contextToJson(result.request.context);
  for (const [name, key] of CONTEXT_VARIABLES) console.log(`  ${name.padEnd(24)} ${context[key]}`);
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

/**
 * Per chain, the Result (SPEC 3.2) and Instruction[] the ingestor would get from this run, with
 * the execution record body built exactly as the operators build it (protocol/record.ts
 * `buildRecordBody`, the context included): the bodyHash is the one an honest quorum signs for
 * this request, provided the flags match the chain's request event and fee.
 */
function ingestorView(result: Execution): { bodyHash: Hex; chains: ChainView[] } {
  const { request } = result;
  const outcome = result.outcome;
  const ok = outcome?.outcome === "ok";
  const byChain: InstructionsByChain = ok && outcome.instructions ? outcome.instructions : new Map();
  const status = outcome ? resultStatusOf(outcome.outcome) : ResultStatus.PROGRAM_ERROR;
  const body = buildRecordBody(request.context, {
    input: toHex(request.input),
    status,
    stdout: toHex(outcome?.stdout ?? new Uint8Array(0)),
    stderr: toHex(outcome?.stderr ?? new Uint8Array(0)),
    fuelUsed: outcome?.fuelUsed ?? 0n,
    instructions: [...byChain.entries()].map(([chainId, instructions]) => ({ chainId, instructions })),
  });
  const chains = [request.originChainId, ...[...byChain.keys()].filter((id) => id !== request.originChainId)];
  return {
    bodyHash: recordBodyHash(body),
    chains: chains.map((chainId) => {
      // PROGRAM_ERROR disperses nothing: the origin chain gets the result with no instructions.
      const instructions = status === ResultStatus.OK ? instructionsForChain(byChain, chainId) : [];
      const signed = resultForChain(body, chainId);
      return {
        chainId: chainId.toString(),
        result: {
          requestId: signed.requestId,
          originChainId: signed.originChainId.toString(),
          programId: signed.programId,
          inputHash: signed.inputHash,
          status: `${status} (${status === ResultStatus.OK ? "OK" : "PROGRAM_ERROR"})`,
          instructionsHash: signed.instructionsHash,
          bodyHash: signed.bodyHash,
        },
        instructions,
        encoded: encodeInstructions(instructions),
      };
    }),
  };
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
