import { expect } from "chai";
import { network } from "hardhat";
import type { Hex } from "viem";
import { startReconciler } from "../../ingestor/reconcile.ts";
import { collectorKeys } from "../../ingestor/keys.ts";
import type { RequestJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import { schedulerSchema } from "../../relayer/config.ts";
import { Scheduler } from "../../relayer/scheduler.ts";
import { Queue } from "bullmq";
import { getAddress, type Address } from "viem";
import { devAccount } from "../../deploy/context.ts";
import { makeResult, operatorWallets, requestEth, signResult } from "../helpers/suite.ts";
import { silentLogger, tempDir, testChain, testConfig, testRedis, transportsOf, type TestChain } from "./helpers.ts";

describe("ingestor: reconciliation rebuilds pending work from chain state", function () {
  this.timeout(60_000);
  let chain: TestChain;
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let da: ReturnType<typeof tempDir>;

  before(async () => {
    chain = await testChain(await network.create());
    redis = await testRedis(14);
    da = tempDir("versatus-reconcile-");
  });
  after(async () => {
    await redis.flush();
    await redis.redis.quit();
    da.remove();
  });

  it("finds every open, unexpired request with no pending work after FLUSHDB, and only those", async () => {
    const value = chain.ethers.parseEther("0.01");
    const open1 = (await requestEth(chain, chain.requester, value, "0x01")) as Hex;
    const open2 = (await requestEth(chain, chain.requester, value, "0x02")) as Hex;
    const scheduled = (await requestEth(chain, chain.requester, value, "0x03")) as Hex;
    const ingested = (await requestEth(chain, chain.requester, value, "0x04")) as Hex;
    const expiring = (await requestEth(chain, chain.requester, value, "0x05", 5n)) as Hex;
    const result = makeResult({
      requestId: ingested,
      originChainId: chain.chainId,
      programId: chain.programId,
      input: "0x04",
      status: 1,
    });
    const sigs = await signResult(
      operatorWallets().slice(0, 3),
      chain.chainId,
      chain.addresses.InstructionIngestor,
      result,
    );
    await (await chain.ingestor.connect(chain.poster).ingest(result, [], sigs, "0x")).wait();
    await chain.connection.provider.request({ method: "evm_increaseTime", params: [10] });
    await chain.connection.provider.request({ method: "evm_mine", params: [] });

    const handed: RequestJob[] = [];
    const config = testConfig([chain], { redisUrl: redis.url, daDir: da.dir });
    const reconciler = await startReconciler({
      config,
      logger: silentLogger,
      transports: transportsOf([chain]),
      autoStart: false,
      onOrphanRequests: async (jobs) => void handed.push(...jobs),
    });
    try {
      // With state in Redis: the scheduler owns `scheduled`, the collector owns open2's quorum.
      await redis.redis.hset(redisKeys.request(chain.chainId, scheduled), "state", "{}");
      await redis.redis.set(collectorKeys.done(chain.chainId, open2), "0x00");
      await reconciler.runOnce();
      expect(handed.map((j) => j.requestId)).to.deep.equal([open1.toLowerCase()]);

      // Redis wiped: everything still open comes back, nothing settled or expired does.
      handed.length = 0;
      await redis.redis.flushdb();
      await reconciler.runOnce();
      expect(handed.map((j) => j.requestId).sort()).to.deep.equal(
        [open1, open2, scheduled].map((r) => r.toLowerCase()).sort(),
      );
      expect(handed.map((j) => j.requestId)).to.not.include(expiring.toLowerCase());
      const job = handed.find((j) => j.requestId === open1.toLowerCase())!;
      expect(job.chainId).to.equal(chain.chainIdString);
      expect(job.input).to.equal("0x01");
      expect(job.programId).to.equal(chain.programId);
      expect(job.requester).to.equal(await chain.requester.getAddress());
      expect(job.amount).to.equal(String(value));
      expect(Number(job.blockTimestamp)).to.be.greaterThan(0);
    } finally {
      await reconciler.close();
      await reconciler.close();
    }
  });

  it("hands orphans to the relayer's scheduler, which queues work for a quorum of operators", async () => {
    await redis.redis.flushdb();
    const requestId = (await requestEth(chain, chain.requester, chain.ethers.parseEther("0.01"), "0x09")) as Hex;
    const operators = [1, 2, 3, 4].map((i) => getAddress(devAccount(i).address) as Address);
    const scheduler = new Scheduler({
      redis: redis.redis,
      config: schedulerSchema.parse({ quorum: 3 }),
      operators: () => operators,
      requestStatus: async () => "open",
      chainNow: async () => BigInt((await chain.ethers.provider.getBlock("latest"))!.timestamp),
      log: silentLogger,
    });
    const config = testConfig([chain], { redisUrl: redis.url, daDir: da.dir });
    const reconciler = await startReconciler({
      config,
      logger: silentLogger,
      transports: transportsOf([chain]),
      autoStart: false,
      onOrphanRequests: (jobs) => scheduler.schedule(jobs),
    });
    try {
      await reconciler.runOnce();
      expect(await redis.redis.exists(redisKeys.request(chain.chainId, requestId))).to.equal(1);
      let queued = 0;
      for (const operator of operators) {
        const queue = new Queue(queueNames.work(operator), { connection: redis.redis, prefix: QUEUE_PREFIX });
        if (await queue.getJob(jobIds.work(chain.chainId, requestId, operator))) queued++;
        await queue.close();
      }
      expect(queued).to.equal(3);
      // a second pass finds the scheduler's state and hands nothing back
      const [report] = await reconciler.runOnce();
      expect(report!.orphans.map((o) => o.requestId)).to.not.include(requestId.toLowerCase());
    } finally {
      await reconciler.close();
      await scheduler.close();
    }
  });
});
