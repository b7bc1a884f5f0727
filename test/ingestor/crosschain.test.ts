import { expect } from "chai";
import { network } from "hardhat";
import { ethers as E } from "ethers";
import { Queue } from "bullmq";
import { QUEUE_PREFIX, jobIds, queueNames } from "../../protocol/queues.ts";
import type { Address, Hex } from "viem";
import { startCollector } from "../../ingestor/collector.ts";
import { startPoster } from "../../ingestor/poster.ts";
import { startReconciler } from "../../ingestor/reconcile.ts";
import { Op, type Instruction } from "../../protocol/instructions.ts";
import type { ResultJob } from "../../protocol/jobs.ts";
import {
  eventually,
  makeResultJob,
  operatorKeys,
  pushResult,
  resultsQueue,
  silentLogger,
  tempDir,
  testChain,
  testConfig,
  testRedis,
  transportsOf,
  type TestChain,
} from "./helpers.ts";

describe("ingestor: a cross-chain result (burn on A, mint on B)", function () {
  this.timeout(60_000);
  let a: TestChain;
  let b: TestChain;
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let da: ReturnType<typeof tempDir>;
  let results: Queue<ResultJob>;

  before(async () => {
    a = await testChain(await network.create("chainA"));
    b = await testChain(await network.create("chainBSim"));
    redis = await testRedis(10);
    da = tempDir("versatus-crosschain-");
    results = resultsQueue(redis.url);
  });
  after(async () => {
    await results.close();
    await redis.flush();
    await redis.redis.quit();
    da.remove();
  });

  /** A token move of `amount` from A to a fresh address on B requested on A, and a quorum's three results pushed. */
  const moveAndPushResults = async (amount: bigint) => {
    const token = (await a.omniToken.getAddress()) as Address;
    await (await a.omniToken.connect(a.owner).transfer(a.requester, amount)).wait();
    await (await a.omniToken.connect(a.requester).approve(a.addresses.ExecutableOracle, amount)).wait();
    const requestId = (await a.oracle.nextRequestId(a.requester, a.programId, "0x")) as Hex;
    await (await a.oracle.connect(a.requester).requestWithToken(a.programId, "0x", 3600n, token, amount)).wait();
    // a fresh recipient on B: its balance is this move's alone
    const recipient = E.Wallet.createRandom().address as Address;
    const burn: Instruction[] = [{ op: Op.BURN, target: token, amount, data: "0x" }];
    const mint: Instruction[] = [
      {
        op: Op.MINT,
        target: recipient,
        amount,
        data: E.AbiCoder.defaultAbiCoder().encode(["address"], [token]) as Hex,
      },
    ];
    const request = { origin: a, requestId, input: "0x" as Hex };
    /** Operator `index`'s result (burn on A, mint on B), pushed to the results queue. */
    const pushResultOf = async (index: number) =>
      pushResult(
        results,
        await makeResultJob(operatorKeys[index]!, request, {
          instructions: [
            { chain: a, instructions: burn },
            { chain: b, instructions: mint },
          ],
        }),
      );
    for (const index of [0, 1, 2]) await pushResultOf(index);
    return { requestId, recipient, pushResultOf };
  };
  const supply = async () => (await a.omniToken.totalSupply()) + (await b.omniToken.totalSupply());

  it("a mint a reorg of B dropped after its post job completed is posted again by B's reconciliation, once", async () => {
    const config = testConfig([a, b], { redisUrl: redis.url, daDir: da.dir });
    const transports = transportsOf([a, b]);
    const collector = await startCollector({ config, logger: silentLogger, transports });
    const poster = await startPoster({ config, logger: silentLogger, transports });
    const reconciler = await startReconciler({
      config,
      logger: silentLogger,
      transports,
      autoStart: false,
      onOrphanRequests: async () => {},
    });
    try {
      const amount = E.parseEther("7");
      const before = await supply();
      const snapshot = await b.connection.provider.request({ method: "evm_snapshot", params: [] });
      const { requestId, recipient } = await moveAndPushResults(amount);
      await eventually(() => b.ingestor.isIngested(a.chainId, requestId), 20_000, "mint on B");
      const mintJob = jobIds.post(b.chainId, a.chainId, requestId);
      const postQueue = new Queue(queueNames.post(b.chainId), { connection: redis.redis, prefix: QUEUE_PREFIX });
      try {
        await eventually(
          async () => (await (await postQueue.getJob(mintJob))?.getState()) === "completed",
          10_000,
          "mint job completed",
        );
      } finally {
        await postQueue.close();
      }

      // B reorgs: the block with the mint is gone; A still holds the burn
      await b.connection.provider.request({ method: "evm_revert", params: [snapshot] });
      await b.connection.provider.request({ method: "evm_mine", params: [] });
      expect(await b.ingestor.isIngested(a.chainId, requestId)).to.equal(false);
      expect(await a.ingestor.isIngested(a.chainId, requestId)).to.equal(true);
      expect(await supply()).to.equal(before - amount);

      const reports = await reconciler.runOnce();
      const onB = reports.find((r) => r.chainId === String(b.chainId))!;
      expect(onB.remoteReposted).to.deep.equal([
        { originChainId: String(a.chainId), requestId: requestId.toLowerCase() },
      ]);
      expect(reports.find((r) => r.chainId === String(a.chainId))!.remoteReposted).to.deep.equal([]);
      await eventually(() => b.ingestor.isIngested(a.chainId, requestId), 20_000, "mint on B again");
      expect(await supply()).to.equal(before);
      expect(await b.ingestor.queryFilter(b.ingestor.filters.ResultIngested(requestId))).to.have.length(1);

      // minted on the live branch: the next pass leaves it alone
      const [, again] = [await reconciler.runOnce(), await reconciler.runOnce()];
      expect(again.find((r) => r.chainId === String(b.chainId))!.remoteReposted).to.deep.equal([]);
      expect(await b.ingestor.queryFilter(b.ingestor.filters.ResultIngested(requestId))).to.have.length(1);
      expect(await b.omniToken.balanceOf(recipient)).to.equal(amount);
    } finally {
      await reconciler.close();
      await collector.close();
      await poster.close();
    }
  });

  it("posts on both chains, the mint only after the origin ingested, exactly once", async () => {
    const config = testConfig([a, b], { redisUrl: redis.url, daDir: da.dir });
    const transports = transportsOf([a, b]);
    const collector = await startCollector({ config, logger: silentLogger, transports });
    const poster = await startPoster({ config, logger: silentLogger, transports });
    try {
      const amount = E.parseEther("40");
      const before = await supply();
      const { requestId, recipient, pushResultOf } = await moveAndPushResults(amount);
      await eventually(() => b.ingestor.isIngested(a.chainId, requestId), 20_000, "mint on B");
      expect(await a.ingestor.isIngested(a.chainId, requestId)).to.equal(true);
      expect(await b.omniToken.balanceOf(recipient)).to.equal(amount);
      expect(await supply()).to.equal(before);
      // exactly one ResultIngested on each chain
      expect(await a.ingestor.queryFilter(a.ingestor.filters.ResultIngested(requestId))).to.have.length(1);
      expect(await b.ingestor.queryFilter(b.ingestor.filters.ResultIngested(requestId))).to.have.length(1);
      // A late 4th result changes nothing.
      await pushResultOf(3);
      expect(await b.omniToken.balanceOf(recipient)).to.equal(amount);
    } finally {
      await collector.close();
      await poster.close();
    }
  });
});
