/**
 * Redis Cluster benchmark (issue 18): one operator's job flow through its queue layout
 * (work queue → results queue → a post queue per target chain, each hop a BullMQ job plus the
 * worker's `done` mark), first on one redis-server, then on a three-master cluster (three
 * replicas), in the same run and with the same client settings; then once more on the cluster
 * with the master serving the results queue SIGKILLed a third of the way through.
 *
 * - jobs_per_second: end-to-end jobs (all three hops done) per second of wall clock.
 * - failover_lost: jobs whose add was acknowledged but that never finished their last hop.
 * - failover_duplicated: extra runs of a hop's processor for a job that hop already ran.
 *
 * Redis servers are started by the benchmark on loopback ports 7100 (single) and 7101-7106
 * (cluster), with no persistence, and killed at the end. Prints a table and writes
 * bench/results/cluster.json. Run: npm run bench:cluster [-- --jobs N --chains C]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { RedisConfig } from "../protocol/config.ts";
import { QUEUE_PREFIX, queueNames, redisKeys } from "../protocol/queues.ts";
import { connectRedis, type RedisClient } from "../protocol/redis.ts";
import { clusterUnavailable, LocalCluster } from "../test/cluster/localCluster.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const JOBS = arg("jobs", 3000);
const CHAINS = arg("chains", 3);
/** Jobs each hop's worker runs at once (the worker's and collector's own concurrency is of this order). */
const CONCURRENCY = arg("concurrency", 32);
const SINGLE_PORT = 7100;
const OPERATOR = "0x000000000000000000000000000000000000c1a5";

/** As the services' jobs: a hop that failed on a lost connection is retried, not dropped. */
const JOB_OPTIONS = { removeOnComplete: true, attempts: 20, backoff: { type: "fixed", delay: 500 } } as const;

type Run = { jobsPerSecond: number; lost: number; duplicated: number; seconds: number };

/**
 * Pushes JOBS jobs through work → results → post-<chain> on `config` and waits for every
 * acknowledged one to finish (or `settleMs` of no progress). `fault` runs once JOBS/3 jobs are done.
 */
async function flow(config: RedisConfig, fault?: () => Promise<void>, settleMs = 20_000): Promise<Run> {
  const connection: RedisClient = connectRedis(config);
  const chains = Array.from({ length: CHAINS }, (_, i) => 1_000 + i);
  const work = new Queue(queueNames.work(OPERATOR), { connection, prefix: QUEUE_PREFIX });
  const results = new Queue(queueNames.results, { connection, prefix: QUEUE_PREFIX });
  const posts = new Map(chains.map((c) => [c, new Queue(queueNames.post(c), { connection, prefix: QUEUE_PREFIX })]));
  const runs = { work: new Map<string, number>(), results: new Map<string, number>(), post: new Map<string, number>() };
  const count = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
  let faulted = false;
  const options = { connection, prefix: QUEUE_PREFIX, concurrency: CONCURRENCY };
  const workers = [
    new Worker(
      work.name,
      async (job) => {
        count(runs.work, job.id!);
        await results.add("result", job.data, { ...JOB_OPTIONS, jobId: job.id! });
        await connection.sadd(redisKeys.done(job.data.chain, job.id!.split(":")[1]!), OPERATOR);
      },
      options,
    ),
    new Worker(
      results.name,
      async (job) => {
        count(runs.results, job.id!);
        await posts.get(job.data.chain)!.add("post", job.data, { ...JOB_OPTIONS, jobId: job.id! });
      },
      options,
    ),
    ...chains.map(
      (c) =>
        new Worker(
          queueNames.post(c),
          async (job) => {
            count(runs.post, job.id!);
            if (!faulted && fault && runs.post.size >= JOBS / 3) {
              faulted = true;
              void fault();
            }
          },
          options,
        ),
    ),
  ];
  for (const w of workers) w.on("error", () => {}); // connection errors during a failover are expected
  const acknowledged = new Set<string>();
  const started = performance.now();
  for (let i = 0; i < JOBS; i += 100) {
    const batch = Array.from({ length: Math.min(100, JOBS - i) }, (_, j) => {
      const chain = chains[(i + j) % CHAINS]!;
      const id = `${chain}:${(i + j).toString(16).padStart(8, "0")}:${OPERATOR}`;
      return { name: "work", data: { chain, n: i + j }, opts: { ...JOB_OPTIONS, jobId: id } };
    });
    const added = await work.addBulk(batch).catch(() => []);
    for (const job of added) acknowledged.add(job.id!);
  }
  let last = runs.post.size;
  let quietSince = Date.now();
  while (runs.post.size < acknowledged.size && Date.now() - quietSince < settleMs) {
    await new Promise((r) => setTimeout(r, 50));
    if (runs.post.size !== last) [last, quietSince] = [runs.post.size, Date.now()];
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((w) => w.close(true)));
  await Promise.all([work, results, ...posts.values()].map((q) => q.close()));
  connection.disconnect();
  const extra = (map: Map<string, number>) => [...map.values()].reduce((sum, n) => sum + n - 1, 0);
  return {
    jobsPerSecond: Math.round(runs.post.size / seconds),
    lost: [...acknowledged].filter((id) => !runs.post.has(id)).length,
    duplicated: extra(runs.work) + extra(runs.results) + extra(runs.post),
    seconds: Math.round(seconds * 10) / 10,
  };
}

async function singleRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "versatus-bench-redis-"));
  const child = spawn(
    "redis-server",
    ["--port", String(SINGLE_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${SINGLE_PORT}`;
  for (let tries = 0; ; tries++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await probe.connect();
      break;
    } catch (error) {
      if (tries > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      probe.disconnect();
    }
  }
  return {
    url,
    stop: async () => {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// No top-level await (issue 13, nodejs/node#53238): the script runs in main().
async function main(): Promise<void> {
  const missing = clusterUnavailable();
  if (missing) throw new Error(`bench:cluster needs redis-server and redis-cli: ${missing}`);
  const single = await singleRedis();
  const cluster = new LocalCluster();
  try {
    await cluster.start();
    console.log(`${JOBS} jobs, ${CHAINS} chains, concurrency ${CONCURRENCY} per hop`);
    const one = await flow({ url: single.url });
    console.log(`single redis: ${one.jobsPerSecond} jobs/s`);
    const three = await flow(cluster.config());
    console.log(`cluster: ${three.jobsPerSecond} jobs/s`);
    await cluster.restartEmpty();
    const resultsKey = `${QUEUE_PREFIX}:${queueNames.results}:wait`;
    const victim = await cluster.masterOf(resultsKey);
    let promotedAfterMs = 0;
    const failover = await flow(
      cluster.config(),
      async () => {
        const killedAt = Date.now();
        await cluster.killMaster(victim);
        promotedAfterMs = Date.now() - killedAt;
        // a job active on the lost master is picked up again once its lock expires and the stalled
        // check runs (BullMQ's defaults, 30 s each, as the services use): wait past both
      },
      75_000,
    );
    console.log(`failover: lost ${failover.lost}, duplicated ${failover.duplicated}`);

    const results = {
      jobs: JOBS,
      chains: CHAINS,
      concurrency_per_hop: CONCURRENCY,
      single_jobs_per_second: one.jobsPerSecond,
      cluster_jobs_per_second: three.jobsPerSecond,
      failover_jobs_per_second: failover.jobsPerSecond,
      failover_promoted_after_ms: promotedAfterMs,
      failover_lost: failover.lost,
      failover_duplicated: failover.duplicated,
      cluster_node_timeout_ms: 1_000,
      // one client process and seven servers on this machine: the numbers move with its load
      cpus: cpus().length,
      load_average_1m_at_end: Math.round(loadavg()[0]! * 10) / 10,
      measured_at: new Date().toISOString(),
    };
    console.table([
      {
        setup: "one redis-server",
        "jobs/s": one.jobsPerSecond,
        seconds: one.seconds,
        lost: one.lost,
        duplicated: one.duplicated,
      },
      {
        setup: "cluster, 3 masters + 3 replicas",
        "jobs/s": three.jobsPerSecond,
        seconds: three.seconds,
        lost: three.lost,
        duplicated: three.duplicated,
      },
      {
        setup: `cluster, master of ${queueNames.results} SIGKILLed`,
        "jobs/s": failover.jobsPerSecond,
        seconds: failover.seconds,
        lost: failover.lost,
        duplicated: failover.duplicated,
      },
    ]);
    const out = join(dirname(fileURLToPath(import.meta.url)), "results", "cluster.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    await cluster.close();
    await single.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
