import { network } from "hardhat";
import type { Hex } from "viem";
import { startCollector } from "../../ingestor/collector.ts";
import { createIngestorMetrics } from "../../ingestor/metrics.ts";
import { startPoster } from "../../ingestor/poster.ts";
import { eventually, makeResultJob, operatorKeys, resultsQueue, silentLogger, tempDir, testChain, testConfig, testRedis, transportsOf } from "./helpers.ts";

const N = Number(process.env.TP_N ?? 200);
describe("tmp throughput", function () {
  this.timeout(120_000);
  it("N requests", async () => {
    const chain = await testChain(await network.create());
    const redis = await testRedis(15);
    const da = tempDir("tp-");
    const config = testConfig([chain], { redisUrl: redis.url, daDir: da.dir, overrides: { poster: { maxBatchSize: 100, maxBatchWaitMs: 50 } } as never });
    const transports = transportsOf([chain]);
    const oracle = chain.oracle.connect(chain.requester);
    const ids: Hex[] = [];
    for (let i = 0; i < N; i++) {
      ids.push((await oracle.nextRequestId(await chain.requester.getAddress())) as Hex);
      await (await oracle.request(chain.programId, "0x01", 3600n, { value: 10n ** 15n })).wait();
    }
    const jobs = [];
    for (const id of ids) for (const k of operatorKeys) jobs.push(await makeResultJob(k, { origin: chain, requestId: id, input: "0x01" }));
    const q = resultsQueue(redis.url);
    const metrics = createIngestorMetrics();
    const collector = await startCollector({ config, logger: silentLogger, transports, metrics });
    const poster = await startPoster({ config, logger: silentLogger, transports });
    const t0 = Date.now();
    await q.addBulk(jobs.map((j) => ({ name: "result", data: j, opts: { jobId: `${j.requestId}:${j.operator}:x` } })));
    try {
      const { Queue } = await import("bullmq");
      const pq = new Queue("post-31337", { connection: redis.redis, prefix: "{versatus}" });
      let tq = 0;
      await eventually(async () => { const c = await pq.getJobCounts("completed"); if (!tq && c.completed > 0) { tq = Date.now() - t0; } return c.completed >= N; }, 30_000);
      console.log("first post completed at", tq);
      const m = await metrics.registry.getMetricsAsJSON();
      for (const x of m) if (x.name.includes("da_put") || x.name.includes("results_total")) console.log(x.name, JSON.stringify(x.values.filter((v) => !String(v.metricName).includes("bucket"))));
      const dt = Date.now() - t0;
      console.log(`${N} requests (${3 * N} results) in ${dt} ms → ${((N * 1000) / dt).toFixed(0)} fulfilled/s`);
    } finally {
      const done = (await Promise.all(ids.map((id) => chain.ingestor.isIngested(chain.chainId, id)))).filter(Boolean).length;
      console.log("ingested", done, "results counts", await q.getJobCounts(), "collector metrics");
      await collector.close(); await poster.close(); await q.close(); await redis.flush(); await redis.redis.quit(); da.remove();
    }
  });
});
