// `npm run bench:runtime`: measures the nano-runtime on the example programs and writes
// bench/results/runtime.json in the shape issue 3 fixes:
//   { programs: { <name>: { bytes, instrument_ms, compile_ms, cold_run_us_p50, warm_run_us_p50,
//     warm_run_us_p99 } }, metering_overhead_ratio, runs_per_second }
// warm = cached compiled module, fresh instance; cold = first run of a freshly compiled module;
// overhead = metered / unmetered CPU time on a compute-heavy program; runs/s = the worker pool
// on every core running the C example. Targets: warm p50 <= 100 us and >= 10,000 runs/s for the
// C example, overhead <= 1.6.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { keccak256, stringToHex } from "viem";
import { buildProgram, programDirectories, readManifestFile } from "../programs/toolchain.ts";
import type { ProgramPackage } from "../protocol/programPackage.ts";
import { RuntimePool } from "../runtime/pool.ts";
import { clearPreparedPrograms, prepareProgram, type PreparedProgram } from "../runtime/prepare.ts";
import { InstanceRunner, type RunInput } from "../runtime/runInstance.ts";
import { createProgress } from "../protocol/progress.ts";
import { ascending, percentile } from "./stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const address = (digit: number) => `0x${String(digit).repeat(40)}`;

/** The example programs and an input each, as a request would carry it. */
const EXAMPLES: Record<string, unknown> = {
  "payout-splitter": {
    amount: "1000000000000000000",
    recipients: [1, 2, 3, 4].map((d, i) => ({ to: address(d), weight: i + 1 })),
  },
  "token-mover": { token: address(3), to: address(4), amount: "5000", destinationChainId: 31338 },
  raffle: { prize: "1000", winners: 3, entries: [1, 2, 3, 4, 5, 6, 7, 8].map(address) },
};
/** The TypeScript ports (QuickJS engine under the same metering), with the same inputs. */
const TS_EXAMPLES: Record<string, unknown> = {
  "payout-splitter-ts": EXAMPLES["payout-splitter"],
  "token-mover-ts": EXAMPLES["token-mover"],
};
const TS_TARGET_US = 2000;
const C_EXAMPLE = "payout-splitter";
const COMPUTE_PROGRAM = "bench-compute";

const WARM_RUNS = 3000;
const COLD_RUNS = 15;
const POOL_RUNS = 30000;

export type ProgramResult = {
  bytes: number;
  instrument_ms: number;
  compile_ms: number;
  cold_run_us_p50: number;
  warm_run_us_p50: number;
  warm_run_us_p99: number;
  fuel_per_run: number;
  /** TypeScript programs: fuel of the engine's start-up, made once into the snapshot runs start from. */
  engine_startup_fuel?: number;
};

const percentileOf = (samples: number[], p: number) => percentile(ascending(samples), p);

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

function runInput(program: PreparedProgram, input: unknown): RunInput {
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

function prepare(pkg: ProgramPackage, metering = true): PreparedProgram {
  return prepareProgram(pkg.module, { name: pkg.manifest.name, limits: pkg.manifest.limits, metering });
}

function measureProgram(pkg: ProgramPackage, input: unknown): ProgramResult {
  const instrumentMs: number[] = [];
  const compileMs: number[] = [];
  const coldUs: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    clearPreparedPrograms();
    const program = prepare(pkg);
    instrumentMs.push(program.instrumentMs);
    compileMs.push(program.compileMs);
    const runner = new InstanceRunner();
    const start = performance.now();
    const outcome = runner.run(program, runInput(program, input));
    coldUs.push((performance.now() - start) * 1000);
    if (outcome.outcome !== "ok") throw new Error(`${pkg.manifest.name} did not run ok: ${outcome.message}`);
  }
  const program = prepare(pkg);
  const fuel = new InstanceRunner().run(program, runInput(program, input)).fuelUsed;
  const runner = new InstanceRunner();
  const request = runInput(program, input);
  for (let i = 0; i < 200; i++) runner.run(program, request);
  const warmUs: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    const start = performance.now();
    runner.run(program, request);
    warmUs.push((performance.now() - start) * 1000);
  }
  return {
    bytes: pkg.module.length,
    instrument_ms: round(percentileOf(instrumentMs, 50), 2),
    compile_ms: round(percentileOf(compileMs, 50), 2),
    cold_run_us_p50: round(percentileOf(coldUs, 50)),
    warm_run_us_p50: round(percentileOf(warmUs, 50)),
    warm_run_us_p99: round(percentileOf(warmUs, 99)),
    fuel_per_run: Number(fuel),
  };
}

/** CPU time of `runs` runs on this thread, after a warm-up that lets V8 tier up. */
function cpuTimeMs(program: PreparedProgram, runs: number): number {
  const runner = new InstanceRunner();
  const request = runInput(program, {});
  for (let i = 0; i < 3; i++) runner.run(program, request);
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) runner.run(program, request);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function meteringOverhead(pkg: ProgramPackage): { ratio: number; meteredMs: number; unmeteredMs: number } {
  const metered = prepare(pkg, true);
  const unmetered = prepare(pkg, false);
  // Alternate to spread any drift (frequency scaling, GC) over both sides.
  let meteredMs = 0;
  let unmeteredMs = 0;
  for (let i = 0; i < 3; i++) {
    unmeteredMs += cpuTimeMs(unmetered, 5);
    meteredMs += cpuTimeMs(metered, 5);
  }
  return {
    ratio: round(meteredMs / unmeteredMs, 3),
    meteredMs: round(meteredMs / 15, 2),
    unmeteredMs: round(unmeteredMs / 15, 2),
  };
}

async function poolThroughput(pkg: ProgramPackage, input: unknown): Promise<number> {
  const program = prepare(pkg);
  const pool = new RuntimePool({ size: availableParallelism() });
  try {
    const request = runInput(program, input);
    await Promise.all(Array.from({ length: 2000 }, () => pool.run(program, request)));
    const start = performance.now();
    await Promise.all(Array.from({ length: POOL_RUNS }, () => pool.run(program, request)));
    return Math.round(POOL_RUNS / ((performance.now() - start) / 1000));
  } finally {
    await pool.close();
  }
}

// TypeScript programs are built and measured in a child process (bench/runtimeTs.ts): binaryen.js
// leaks part of its stack on every instrumentation, and the engine's is big enough that the C
// rows' repeated cold instrumentations would run out of it in the same process.
const isTypeScript = (dir: string) => {
  const language = readManifestFile(dir).build?.language;
  return language === "typescript" || language === "javascript";
};
const packages = new Map(
  programDirectories(root)
    .filter((dir) => !isTypeScript(dir))
    .map((dir) => {
      const built = buildProgram(dir);
      return [built.name, built.package] as const;
    }),
);
const get = (name: string) => {
  const pkg = packages.get(name);
  if (!pkg) throw new Error(`program ${name} not found; run npm run programs:build`);
  return pkg;
};

const programs: Record<string, ProgramResult> = {};
const progress = createProgress({ title: "runtime benchmark", steps: Object.keys(EXAMPLES).length + 3 });
for (const [name, input] of Object.entries(EXAMPLES)) {
  const step = progress.start(`measure ${name}`);
  programs[name] = measureProgram(get(name), input);
  step.done();
}
const tsStep = progress.start("measure the TypeScript examples (bench/runtimeTs.ts)");
const tsRun = spawnSync(process.execPath, [join(root, "bench", "runtimeTs.ts"), JSON.stringify(TS_EXAMPLES)], {
  encoding: "utf8",
  maxBuffer: 16 * 1024 * 1024,
});
if (tsRun.status !== 0) throw new Error(`bench/runtimeTs.ts failed:\n${tsRun.stderr}`);
Object.assign(programs, JSON.parse(tsRun.stdout) as Record<string, ProgramResult>);
tsStep.done();
const cPayout = programs[C_EXAMPLE]!;
const tsPayout = programs["payout-splitter-ts"]!;
const payoutCVsTs = {
  input: "the same payout split (4 recipients) in C and in TypeScript",
  c_warm_run_us_p50: cPayout.warm_run_us_p50,
  ts_warm_run_us_p50: tsPayout.warm_run_us_p50,
  time_ratio: round(tsPayout.warm_run_us_p50 / cPayout.warm_run_us_p50),
  c_fuel_per_run: cPayout.fuel_per_run,
  ts_fuel_per_run: tsPayout.fuel_per_run,
  fuel_ratio: round(tsPayout.fuel_per_run / cPayout.fuel_per_run),
};
const meteringStep = progress.start("fuel metering overhead");
const overhead = meteringOverhead(get(COMPUTE_PROGRAM));
meteringStep.done();
const runsPerSecond = await progress.step("worker pool throughput", () =>
  poolThroughput(get(C_EXAMPLE), EXAMPLES[C_EXAMPLE]),
);
progress.done();

const result = {
  programs,
  payout_c_vs_ts: payoutCVsTs,
  metering_overhead_ratio: overhead.ratio,
  runs_per_second: runsPerSecond,
};
const outPath = join(root, "bench", "results", "runtime.json");
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);

const columns = [
  "program",
  "bytes",
  "instrument ms",
  "compile ms",
  "cold run us p50",
  "warm run us p50",
  "warm run us p99",
  "fuel/run",
];
const rows = Object.entries(programs).map(([name, r]) =>
  [
    name,
    r.bytes,
    r.instrument_ms,
    r.compile_ms,
    r.cold_run_us_p50,
    r.warm_run_us_p50,
    r.warm_run_us_p99,
    r.fuel_per_run,
  ].map(String),
);
const widths = columns.map((column, i) => Math.max(column.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) =>
  cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
console.log(line(columns));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of rows) console.log(line(row));
const c = programs[C_EXAMPLE]!;
const verdict = (ok: boolean) => (ok ? "meets target" : "MISSES target");
console.log("");
console.log(
  `warm run p50 (${C_EXAMPLE})   ${c.warm_run_us_p50} us   target <= 100 us   ${verdict(c.warm_run_us_p50 <= 100)}`,
);
console.log(
  `warm run p50 (payout-splitter-ts)   ${tsPayout.warm_run_us_p50} us   target <= ${TS_TARGET_US} us   ${verdict(tsPayout.warm_run_us_p50 <= TS_TARGET_US)}`,
);
console.log(
  `payout split C vs TS          ${payoutCVsTs.c_warm_run_us_p50} us vs ${payoutCVsTs.ts_warm_run_us_p50} us (x${payoutCVsTs.time_ratio}), fuel ${payoutCVsTs.c_fuel_per_run} vs ${payoutCVsTs.ts_fuel_per_run} (x${payoutCVsTs.fuel_ratio}); engine start-up ${tsPayout.engine_startup_fuel} fuel, once per worker`,
);
console.log(
  `metering overhead ratio       ${overhead.ratio} (${COMPUTE_PROGRAM}: ${overhead.meteredMs} ms metered vs ${overhead.unmeteredMs} ms unmetered per run)   target <= 1.6   ${verdict(overhead.ratio <= 1.6)}`,
);
console.log(
  `runs per second (${availableParallelism()} workers)   ${runsPerSecond}   target >= 10000   ${verdict(runsPerSecond >= 10_000)}`,
);
console.log(`\nwrote ${outPath}`);
