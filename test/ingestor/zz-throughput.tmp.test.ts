import { network } from "hardhat";
import type { Hex } from "viem";
import { startCollector } from "../../ingestor/collector.ts";
import { startPoster } from "../../ingestor/poster.ts";
import { eventually, makeResultJob, operatorKeys, pushResult, resultsQueue, silentLogger, tempDir, testChain, testConfig, testRedis, transportsOf } from "./helpers.ts";

describe("tmp throughput", function () {
  this.timeout(120_000);
  it("200 requests", async () => {
    const chain = await testChain(await network.create());
    const redis = await testRedis(12);
    const da = tempDir("tp-");
    const config = testConfig([chain], { redisUrl: redis.url, daDir: da.dir, overrides: { poster: { maxBatchSize: 100, maxBatchWaitMs: 50 } } as never });
    const transports = transportsOf([chain]);
    const oracle = chain.oracle.connect(chain.requester);
    const ids: Hex[] = [];
    for (let i = 0; i < 200; i++) {
      ids.push((await oracle.nextRequestId(await chain.requester.getAddress())) as Hex);
      await (await oracle.request(chain.programId, "0x01", 3600n, { value: 10n ** 15n })).wait();
    }
    const jobs = [];
    for (const id of ids) for (const k of operatorKeys.slice(0, 3)) jobs.push(await makeResultJob(k, { origin: chain, requestId: id, input: "0x01" }));
    const q = resultsQueue(redis.url);
    const collector = await startCollector({ config, logger: silentLogger, transports });
    const poster = await startPoster({ config, logger: silentLogger, transports });
    const t0 = Date.now();
    await q.addBulk(jobs.map((j) => ({ name: "result", data: j, opts: { jobId: `${j.requestId}:${j.operator}:x` } })));
    await eventually(async () => (await Promise.all(ids.slice(-5).map((id) => chain.ingestor.isIngested(chain.chainId, id)))).every(Boolean), 100_000);
    await eventually(async () => (await Promise.all(ids.map((id) => chain.ingestor.isIngested(chain.chainId, id)))).every(Boolean), 100_000);
    const dt = Date.now() - t0;
    console.log(`200 requests (600 results) in ${dt} ms → ${(200000 / dt).toFixed(0)} fulfilled/s`);
    await collector.close(); await poster.close(); await q.close(); await redis.flush(); await redis.redis.quit(); da.remove();
  });
});
