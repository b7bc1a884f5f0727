/**
 * `npm run chaos` (issue 15 items 3 and 4): requests over both chains while every fault kind is
 * injected repeatedly (chaos/schedule.ts), then the checks (chaos/run.ts). Writes
 * bench/results/chaos.json and bench/results/chaos-timeline.svg.
 *
 * Options: --requests N (default 10000), --rate R requests/s (default 8), --repeats K times each
 * fault kind (default 3), --window S seconds each fault is on (default 8), --ttl S (default 900).
 * Soak: --soak 30m (or 1800s): no faults, half the measured capacity (--rate overrides; default
 * half of the smaller of `rate_rps` and `capacity_rps` of the last chaos run, else 1/s), RSS and
 * open fds of every role sampled every 10 s and reported as least-squares slopes (MB/min,
 * fds/min) over the whole run and its second half, then each node's memory after a forced full GC, under `soak` in the same JSON. The target (no
 * role's RSS growing more than 1 MB/min) is checked on the second-half slope of the Versatus
 * processes (node-1..4, watcher). --heap-mb M sets every node's heap.maxOldSpaceMb (default: the
 * node config's default).
 * --out FILE writes the report there instead (and its timeline SVG as FILE-timeline.svg), for a run
 * that should not replace the recorded one. VERSATUS_KEEP_TEST_DIR=1 keeps the run's directory.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Hex } from "viem";
import { describeGroups, groupsLeftBehind } from "../cli/devnet/processes.ts";
import { buildProgram } from "../programs/toolchain.ts";
import { hardhatCommand, hardhatEnv } from "../scripts/localChains.ts";
import { runChaos, summarize, BUCKET_S } from "../chaos/run.ts";
import { buildSchedule, countByKind } from "../chaos/schedule.ts";
import { REPO_ROOT, startChaosWorld } from "../chaos/world.ts";
import { DEFAULT_MAX_OLD_SPACE_MB } from "../cli/node/config.ts";
import { timelineSvg } from "./timelinePlot.ts";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const RESULTS = join(REPO_ROOT, "bench", "results");

/** "30m", "90s", "1h", "600" (seconds) → seconds. */
export function durationSeconds(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`--soak: expected a duration such as 30m, 90s or 1h; got "${text}"`);
  return Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1);
}

const PROGRAMS = ["payout-splitter", "payout-splitter-ts", "token-mover"];

async function main(): Promise<void> {
  const soak = arg("soak") ?? (process.env.npm_lifecycle_event === "soak" ? "30m" : undefined);
  // --out: a run that should not replace the recorded one (its timeline SVG goes next to it)
  const JSON_FILE = resolve(arg("out") ?? join(RESULTS, "chaos.json"));
  const SVG_FILE = JSON_FILE.replace(/\.json$/, "") + "-timeline.svg";
  const previous = existsSync(JSON_FILE)
    ? (JSON.parse(readFileSync(JSON_FILE, "utf8")) as Record<string, unknown>)
    : {};
  const soakS = soak ? durationSeconds(soak) : 0;
  // A soak runs at half of what the network keeps up with. `capacity_rps` is the best 30 s of the
  // last chaos run, the drain of a backlog: half of it (4.2/s here) fell behind. The rate that run
  // was offered and settled is the better measure, so the soak takes half of the smaller of the two.
  const sustained = Math.min(
    ...[Number(previous.capacity_rps ?? 0), Number(previous.rate_rps ?? 0)].filter((r) => r > 0),
  );
  const rate = Number(arg("rate") ?? (soak ? (Number.isFinite(sustained) ? sustained / 2 : 1) : 8));
  const requests = soak ? Math.round(rate * soakS) : Number(arg("requests") ?? 10_000);
  const repeats = Number(arg("repeats") ?? 3);
  const windowS = Number(arg("window") ?? 8);
  if (!(rate > 0) || !(requests > 0)) throw new Error("--rate and --requests must be positive numbers");
  const heapMb = arg("heap-mb") === undefined ? undefined : Number(arg("heap-mb"));
  if (heapMb !== undefined && !(Number.isInteger(heapMb) && heapMb >= 128))
    throw new Error(`--heap-mb: expected whole megabytes, at least 128; got "${arg("heap-mb")}"`);

  const [hh, hhArgs] = hardhatCommand(REPO_ROOT, ["build"]);
  const build = spawnSync(hh, hhArgs, { cwd: REPO_ROOT, env: hardhatEnv(), encoding: "utf8" });
  if (build.status !== 0) throw new Error(`hardhat build failed:\n${build.stdout}\n${build.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), "versatus-chaos-"));
  const log = (line: string) => console.log(`[chaos] ${line}`);
  const programsDir = join(dir, "programs");
  mkdirSync(programsDir, { recursive: true });
  const programs: Record<string, Hex> = {};
  for (const name of PROGRAMS) {
    const built = buildProgram(join(REPO_ROOT, "programs", name));
    copyFileSync(built.packagePath, join(programsDir, `${built.package.programId}.vpkg`));
    programs[name] = built.package.programId;
  }
  log(`run directory ${dir}; ${requests} requests at ${rate}/s${soak ? ` (soak ${soakS} s)` : ""}`);
  const world = await startChaosWorld({
    dir,
    programs,
    programsDir,
    watcher: true,
    log,
    ...(heapMb ? { heapMb } : {}),
  });
  // Ctrl-C or a process manager's SIGTERM: the chains, nodes and redis-servers run in process
  // groups of their own, so they are closed here, not left running
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: closing the chaos world (no report is written)`);
    void world
      .close()
      .catch((error: unknown) => console.error(error))
      .finally(() => {
        if (!process.env.VERSATUS_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
        process.exit(130);
      });
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // the machine is shared: its load average goes in the report next to the slopes
  const loads: number[] = [loadavg()[0]!];
  const loadSampler = setInterval(() => loads.push(loadavg()[0]!), 60_000);
  const groups = () => world.processGroups();
  let result;
  const schedule = soak
    ? []
    : buildSchedule({
        durationS: requests / rate,
        repeats,
        windowS,
        nodes: world.nodes.length,
        chains: world.chains.length,
      });
  log(`schedule: ${JSON.stringify(countByKind(schedule))}`);
  try {
    result = await runChaos(world, {
      requests,
      rate,
      schedule,
      ttlS: Number(arg("ttl") ?? 900),
      sampleMs: soak ? 10_000 : 5_000,
      gcAtEnd: Boolean(soak),
      // after warm-up (compiled WASM, the QuickJS engine, connections): the leak check's first sample
      ...(soak ? { gcAtS: Math.min(300, Math.round(soakS / 4)) } : {}),
      log,
    });
  } finally {
    clearInterval(loadSampler);
    const pids = groups();
    await world.close();
    const left = await groupsLeftBehind(pids);
    log(left.length ? `process groups left behind: ${describeGroups(left).join("; ")}` : "no process left behind");
    (globalThis as { leftBehind?: number[] }).leftBehind = left;
    if (!process.env.VERSATUS_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  }
  const summary = summarize(result, requests);
  const leftBehind = (globalThis as { leftBehind?: number[] }).leftBehind ?? [];
  // capacity: the best 30-second stretch of results ingested per second in this run
  const window = Math.max(1, Math.round(30 / BUCKET_S));
  let best = 0;
  for (let i = 0; i + window <= result.timeline.length; i++)
    best = Math.max(
      best,
      result.timeline.slice(i, i + window).reduce((s, b) => s + b.ingested, 0) / (window * BUCKET_S),
    );
  const machine =
    "one machine, 2 cores shared with other work: both chains, five node processes, five redis-servers and this driver";
  let report: Record<string, unknown>;
  const loadAverage = {
    min: Math.min(...loads),
    mean: Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 10) / 10,
    max: Math.max(...loads),
  };
  if (soak) {
    const versatus = [...world.nodes, ...(world.watcher ? [world.watcher] : [])].map((n) => n.spec.name);
    const over = versatus.filter((name) => (summary.rss_mb_per_min_second_half[name] ?? 0) > 1);
    report = {
      ...previous,
      soak: {
        duration_s: summary.duration_s,
        rate_rps: rate,
        requests: summary.requests,
        fulfilled: summary.fulfilled,
        failed_refunded: summary.failed_refunded,
        refunded: summary.refunded,
        lost: summary.lost,
        duplicated: summary.duplicated,
        escrow_exact: summary.escrow_exact,
        // no faults: every request is "outside"; the chaos run's outside_faults compares with this
        latency_ms: summary.latency.outside_faults,
        heap_max_old_space_mb: heapMb ?? DEFAULT_MAX_OLD_SPACE_MB,
        target: "no role's RSS growing more than 1 MB/min",
        target_checked_on: "second-half least-squares RSS slope of node-1..4 and the watcher",
        target_met: over.length === 0,
        over_target: over,
        rss_mb_per_min: summary.rss_mb_per_min,
        rss_mb_per_min_second_half: summary.rss_mb_per_min_second_half,
        fds_per_min: summary.fds_per_min,
        fds_per_min_second_half: summary.fds_per_min_second_half,
        after_full_gc: summary.after_gc,
        after_full_gc_early: summary.after_gc_early,
        // growth that survives a full GC, from the early forced GC to the end's: the leak measure
        rss_mb_per_min_between_gcs: summary.rss_mb_per_min_between_gcs,
        target_met_between_gcs:
          versatus.every((name) => summary.rss_mb_per_min_between_gcs[name] !== undefined) &&
          versatus.every((name) => summary.rss_mb_per_min_between_gcs[name]! <= 1),
        growth: summary.growth,
        rss_mb_max: summary.rss_mb_max,
        fds_max: summary.fds_max,
        samples: result.resources,
        no_process_left: leftBehind.length === 0,
        load_average_1m: loadAverage,
        machine,
      },
    };
  } else {
    report = {
      ...summary,
      rate_rps: rate,
      capacity_rps: Math.round(best * 100) / 100,
      no_process_left: leftBehind.length === 0,
      load_average_1m: loadAverage,
      reorg_depths: world.reorgDepths,
      replaced_poster_txs: world.replacedPosterTxs,
      schedule,
      fault_log: result.faults,
      operator_sees: result.seen,
      timeline: result.timeline,
      roles: "node-1..4 each run relay, compute, collect and post in one process; watcher runs watch",
      machine,
      ...(previous.soak ? { soak: previous.soak } : {}),
    };
    writeFileSync(
      SVG_FILE,
      timelineSvg({
        title: `chaos run: ${requests} requests at ${rate}/s, faults on (bands) against throughput`,
        yLabel: "per second (5 s buckets)",
        endT: summary.duration_s,
        series: [
          {
            name: "requests sent/s",
            color: "#1f77b4",
            points: result.timeline.map((b) => ({ t: b.t, y: b.sent / BUCKET_S })),
          },
          {
            name: "results ingested/s",
            color: "#2ca02c",
            points: result.timeline.map((b) => ({ t: b.t, y: b.ingested / BUCKET_S })),
          },
        ],
        bands: result.faults.map((f) => ({
          row: f.kind,
          from: f.beganS,
          to: Number.isFinite(f.endedS) ? f.endedS : f.beganS + 1,
        })),
      }),
    );
  }
  mkdirSync(dirname(JSON_FILE), { recursive: true });
  writeFileSync(JSON_FILE, JSON.stringify(report, null, 2) + "\n");
  const headline = Object.entries(soak ? (report.soak as Record<string, unknown>) : summary).filter(
    ([, v]) => typeof v !== "object" || v === null,
  );
  console.table(Object.fromEntries(headline));
  console.log(`latency (sent → ingested on the origin): ${JSON.stringify(summary.latency)}`);
  console.log(`wrote ${JSON_FILE}${soak ? "" : ` and ${SVG_FILE}`}`);
  const ok =
    summary.lost === 0 &&
    summary.duplicated === 0 &&
    summary.escrow_exact &&
    summary.supply_conserved &&
    leftBehind.length === 0;
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
