// Part of `npm run bench:runtime` (bench/runtime.ts runs it in a child process): builds the
// TypeScript examples and measures them on the metered QuickJS engine. Prints JSON
// { <name>: ProgramResult } on stdout. Argument: JSON { <program name>: <input> }.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { keccak256, stringToHex } from "viem";
import { buildProgram } from "../programs/toolchain.ts";
import type { ProgramPackage } from "../protocol/programPackage.ts";
import { prepareJsProgram } from "../runtime/js/program.ts";
import { JsRunner, type JsRunInput } from "../runtime/js/runner.ts";
import type { ProgramResult } from "./runtime.ts";
import { ascending, percentile } from "./stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const COLD_RUNS = 15;
const WARM_RUNS = 1000;

const percentileOf = (samples: number[], p: number) => percentile(ascending(samples), p);
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/**
 * A TypeScript program: the engine is instrumented and compiled once (instrument_ms, compile_ms);
 * cold = the first run on a new runner (which starts the engine into its snapshot), warm = a run
 * from the snapshot on a runner that has one.
 */
function measureJsProgram(pkg: ProgramPackage, input: unknown): ProgramResult {
  const program = prepareJsProgram(pkg);
  const request = { ...runInput(program, input), script: program.script };
  const coldUs: number[] = [];
  let fuel = 0n;
  for (let i = 0; i < COLD_RUNS; i++) {
    const runner = new JsRunner();
    const start = performance.now();
    const outcome = runner.run({ engine: program, script: program.script }, request);
    coldUs.push((performance.now() - start) * 1000);
    if (outcome.outcome !== "ok") throw new Error(`${pkg.manifest.name} did not run ok: ${outcome.message}`);
    if (i > 0 && outcome.fuelUsed !== fuel) throw new Error(`${pkg.manifest.name}: fuel differs between runs`);
    fuel = outcome.fuelUsed;
  }
  const runner = new JsRunner();
  for (let i = 0; i < 50; i++) runner.run({ engine: program, script: program.script }, request);
  const warmUs: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    const start = performance.now();
    const outcome = runner.run({ engine: program, script: program.script }, request);
    warmUs.push((performance.now() - start) * 1000);
    if (outcome.fuelUsed !== fuel) throw new Error(`${pkg.manifest.name}: fuel differs between runs`);
  }
  return {
    bytes: pkg.module.length,
    instrument_ms: round(program.instrumentMs, 2),
    compile_ms: round(program.compileMs, 2),
    cold_run_us_p50: round(percentileOf(coldUs, 50)),
    warm_run_us_p50: round(percentileOf(warmUs, 50)),
    warm_run_us_p99: round(percentileOf(warmUs, 99)),
    fuel_per_run: Number(fuel),
    engine_startup_fuel: Number(runner.startupFuel(program)),
  };
}

function runInput(program: { name: string; limits: JsRunInput["limits"] }, input: unknown): JsRunInput {
  return {
    stdin: new TextEncoder().encode(JSON.stringify(input)),
    requestId: keccak256(stringToHex("bench")),
    timestamp: 1_700_000_000n,
    originChainId: 31337n,
    programName: program.name,
    limits: program.limits,
    parseOutput: true,
  };
}

const examples = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;
const results: Record<string, ProgramResult> = {};
for (const [name, input] of Object.entries(examples)) {
  results[name] = measureJsProgram(buildProgram(join(root, "programs", name)).package, input);
}
process.stdout.write(JSON.stringify(results));
