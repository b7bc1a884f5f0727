/**
 * Watcher benchmark: detection latency of wrong results. On the in-process chain with the suite
 * (staking included) deployed as `npx hardhat deploy` does, a faulty quorum (operators 1..3)
 * ingests N results whose record says PROGRAM_ERROR where the program succeeds; the watcher runs
 * its normal loop (pollIntervalMs 50) and challenges each one. Measured per result:
 *   - ingest → challenge: ingest transaction mined → its DisputeOpened observed (outside view,
 *     10 ms polling of the chain);
 *   - watcher: ingest event seen → challenge mined (the watcher's own histogram).
 * Prints a table and writes bench/results/watcher.json. Run: npm run bench:watcher
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { stringToHex, type Hex } from "viem";
import type { ExecutionRecordBody } from "../protocol/record.ts";
import { createWatcherWorld } from "../test/watcher/helpers.ts";
import { createProgress } from "../protocol/progress.ts";
import { percentile } from "./stats.ts";

const N = Number(process.env.BENCH_WATCHER_RESULTS ?? 50);
// No top-level await (issue 13, nodejs/node#53238): the script runs in main().
async function main(): Promise<void> {
  const world = await createWatcherWorld();
  const faulty = (body: ExecutionRecordBody): ExecutionRecordBody => ({
    ...body,
    status: 1,
    stdout: "0x",
    stderr: stringToHex("forged"),
    fuelUsed: 1n,
    instructions: [],
  });

  // Automine gives every block at least +1 s of chain time, so the localhost 12 s window is ~12 blocks,
  // fewer than this loop mines per second: widen the phases (chain seconds) as far as the registry's
  // slashable window allows (the DisputeManager refuses phases that outlast it), with no extensions.
  {
    const p = await world.dispute.params();
    const window = Number(await world.registry.slashableWindow());
    await (
      await world.dispute.connect(world.chain.owner).setParams({
        ...p.toObject(),
        challengeWindow: Math.floor(window * 0.5),
        commitPeriod: Math.floor(window * 0.2),
        revealPeriod: Math.floor(window * 0.2),
        maxExtensions: 0,
      })
    ).wait();
  }

  const ingestedAt = new Map<string, number>();
  const challengedAt = new Map<string, number>();
  let polling = true;
  let lastBlock = 0;
  const poller = (async () => {
    while (polling) {
      const logs = await world.dispute.queryFilter(world.dispute.filters.DisputeOpened(), lastBlock);
      const now = performance.now();
      for (const l of logs) {
        const id = (l.args.requestId as string).toLowerCase();
        if (!challengedAt.has(id)) challengedAt.set(id, now);
        lastBlock = Math.max(lastBlock, l.blockNumber);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  const watcher = await world.start();
  // drive the watcher's own loop (as `versatus watcher run` does)
  let looping = true;
  const loop = (async () => {
    while (looping) {
      await watcher.tickOnce();
      await new Promise((r) => setTimeout(r, world.config.options.pollIntervalMs));
    }
  })();

  const started = performance.now();
  const requests: Hex[] = [];
  const progress = createProgress();
  const ingesting = progress.bar("faulty results ingested", N);
  for (let i = 0; i < N; i++) {
    const { requestId, input } = await world.request();
    const body = faulty(await world.honestBody(requestId, input));
    await world.ingest(body);
    ingestedAt.set(requestId, performance.now());
    requests.push(requestId);
    ingesting.tick();
  }
  ingesting.done();
  const challenging = progress.bar("challenged by the watcher", N);
  const deadline = Date.now() + 120_000;
  while (challengedAt.size < N && Date.now() < deadline) {
    challenging.update(challengedAt.size);
    await new Promise((r) => setTimeout(r, 20));
  }
  challenging.update(challengedAt.size);
  challenging.done();
  const elapsed = (performance.now() - started) / 1000;
  looping = false;
  polling = false;
  await loop;
  await poller;

  const latencies = requests
    .filter((id) => challengedAt.has(id))
    .map((id) => challengedAt.get(id)! - ingestedAt.get(id)!)
    .sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  const histogram = (await watcher.metrics.detectionLatency.get()).values;
  const count = histogram.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
  const sum = histogram.find((v) => v.metricName?.endsWith("_sum"))?.value ?? 0;
  const result = {
    results: N,
    challenged: latencies.length,
    elapsedSeconds: Number(elapsed.toFixed(2)),
    ingestToChallengeMs: {
      p50: Math.round(pct(50)),
      p90: Math.round(pct(90)),
      p99: Math.round(pct(99)),
      max: Math.round(latencies.at(-1) ?? NaN),
      mean: Math.round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
    },
    watcherSeenToChallengeMinedMs: { count, mean: Math.round((sum / Math.max(1, count)) * 1000) },
    pollIntervalMs: world.config.options.pollIntervalMs,
    runtimeThreads: 2,
  };
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/watcher.json", JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result));
  console.table({
    "ingest → challenge (outside view)": { ...result.ingestToChallengeMs },
    "seen → challenge mined (watcher)": { mean: result.watcherSeenToChallengeMinedMs.mean },
  });
  await world.close();
  if (latencies.length < N) {
    console.error(`only ${latencies.length} of ${N} faulty results were challenged`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
