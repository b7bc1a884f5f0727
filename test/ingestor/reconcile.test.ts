import { expect } from "chai";
import { network } from "hardhat";
import type { Hex } from "viem";
import { MAX_REPOSTS, startReconciler } from "../../ingestor/reconcile.ts";
import { collectorKeys } from "../../ingestor/keys.ts";
import type { RequestJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import { schedulerSchema } from "../../relayer/config.ts";
import { Scheduler } from "../../relayer/scheduler.ts";
import { Queue, Worker } from "bullmq";
import type { PostJob } from "../../protocol/jobs.ts";
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
  /** A success Result for the request, signed by a quorum (3 of the 4 dev operators). */
  const signedResult = async (requestId: Hex, input: Hex) => {
    const result = makeResult({
      requestId,
      originChainId: chain.chainId,
      programId: chain.programId,
      input,
      status: 1,
    });
    const signatures = await signResult(
      operatorWallets().slice(0, 3),
      chain.chainId,
      chain.addresses.InstructionIngestor,
      result,
    );
    return { result, signatures };
  };
  /** A reconciler run by hand whose orphans are collected in `handed`. */
  const collectingReconciler = async () => {
    const handed: RequestJob[] = [];
    const reconciler = await startReconciler({
      config: testConfig([chain], { redisUrl: redis.url, daDir: da.dir }),
      logger: silentLogger,
      transports: transportsOf([chain]),
      autoStart: false,
      onOrphanRequests: async (jobs) => void handed.push(...jobs),
    });
    return { handed, reconciler };
  };
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
    const { result, signatures: sigs } = await signedResult(ingested, "0x04");
    await (await chain.ingestor.connect(chain.poster).ingest(result, [], sigs, "0x")).wait();
    await chain.connection.provider.request({ method: "evm_increaseTime", params: [10] });
    await chain.connection.provider.request({ method: "evm_mine", params: [] });

    const { handed, reconciler } = await collectingReconciler();
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

  it("posts again a result whose ingestion a reorg dropped (the request is Open again, its post job done)", async () => {
    await redis.redis.flushdb();
    const provider = chain.connection.provider;
    const requestId = (await requestEth(chain, chain.requester, chain.ethers.parseEther("0.01"), "0x0a")) as Hex;
    const { result, signatures } = await signedResult(requestId, "0x0a");
    // the domain posted it: collector's done key, a completed post job, the result on chain...
    const queue = new Queue<PostJob>(queueNames.post(chain.chainId), { connection: redis.redis, prefix: QUEUE_PREFIX });
    const jobId = jobIds.post(chain.chainId, chain.chainId, requestId);
    await queue.add("post", { requestId } as unknown as PostJob, { jobId });
    const runs: string[] = [];
    const workerConnection = redis.redis.duplicate();
    const worker = new Worker<PostJob>(queueNames.post(chain.chainId), async (job) => void runs.push(job.id!), {
      connection: redis.redis.duplicate(),
      prefix: QUEUE_PREFIX,
    });
    const completed = async (n: number) => {
      for (let i = 0; i < 200 && runs.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      for (let i = 0; i < 200 && (await (await queue.getJob(jobId))!.getState()) !== "completed"; i++)
        await new Promise((r) => setTimeout(r, 25));
    };
    const snapshot = await provider.request({ method: "evm_snapshot", params: [] });
    await (await chain.ingestor.connect(chain.poster).ingest(result, [], signatures, "0x")).wait();
    await redis.redis.set(collectorKeys.done(chain.chainId, requestId), "0x00");
    await completed(1);
    // ...then a reorg drops the block that ingested it
    await provider.request({ method: "evm_revert", params: [snapshot] });
    await provider.request({ method: "evm_mine", params: [] });

    const { handed, reconciler } = await collectingReconciler();
    try {
      const [report] = await reconciler.runOnce();
      expect(report!.reposted).to.deep.equal([requestId]);
      // not an orphan: the signed result exists, it is posted again
      expect(handed.map((j) => j.requestId)).to.not.include(requestId.toLowerCase());
      await completed(2);
      expect(runs).to.deep.equal([jobId, jobId]);

      // a result the chain keeps refusing is not posted forever
      for (let pass = 2; pass <= MAX_REPOSTS + 2; pass++) {
        await reconciler.runOnce();
        await completed(Math.min(pass + 1, MAX_REPOSTS + 1));
      }
      expect(runs).to.have.length(MAX_REPOSTS + 1);

      // once ingested on the live branch, nothing is posted again
      await redis.redis.del(`{versatus}:reposts:${chain.chainId}:${requestId.toLowerCase()}`);
      await (await chain.ingestor.connect(chain.poster).ingest(result, [], signatures, "0x")).wait();
      const [after] = await reconciler.runOnce();
      expect(after!.reposted).to.deep.equal([]);
    } finally {
      await reconciler.close();
      await worker.close();
      await worker.disconnect();
      await workerConnection.quit();
      await queue.close();
    }
  });
});
