import { expect } from "chai";
import { network } from "hardhat";
import { ethers as E } from "ethers";
import type { Queue } from "bullmq";
import type { Address, Hex } from "viem";
import { startCollector } from "../../ingestor/collector.ts";
import { startPoster } from "../../ingestor/poster.ts";
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

  it("posts on both chains, the mint only after the origin ingested, exactly once", async () => {
    const config = testConfig([a, b], { redisUrl: redis.url, daDir: da.dir });
    const transports = transportsOf([a, b]);
    const collector = await startCollector({ config, logger: silentLogger, transports });
    const poster = await startPoster({ config, logger: silentLogger, transports });
    try {
      const amount = E.parseEther("40");
      const token = (await a.omniToken.getAddress()) as Address;
      await (await a.omniToken.connect(a.owner).transfer(a.requester, amount)).wait();
      await (await a.omniToken.connect(a.requester).approve(a.addresses.ExecutableOracle, amount)).wait();
      const requestId = (await a.oracle.nextRequestId(a.requester, a.programId, "0x")) as Hex;
      await (await a.oracle.connect(a.requester).requestWithToken(a.programId, "0x", 3600n, token, amount)).wait();
      const before = (await a.omniToken.totalSupply()) + (await b.omniToken.totalSupply());
      const recipient = (await b.other.getAddress()) as Address;
      // a BURN names the token it burns (the escrowed one)
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
      for (const key of operatorKeys.slice(0, 3)) {
        await pushResult(
          results,
          await makeResultJob(key, request, {
            instructions: [
              { chain: a, instructions: burn },
              { chain: b, instructions: mint },
            ],
          }),
        );
      }
      await eventually(() => b.ingestor.isIngested(a.chainId, requestId), 20_000, "mint on B");
      expect(await a.ingestor.isIngested(a.chainId, requestId)).to.equal(true);
      expect(await b.omniToken.balanceOf(recipient)).to.equal(amount);
      expect((await a.omniToken.totalSupply()) + (await b.omniToken.totalSupply())).to.equal(before);
      // exactly one ResultIngested on each chain
      expect(await a.ingestor.queryFilter(a.ingestor.filters.ResultIngested(requestId))).to.have.length(1);
      expect(await b.ingestor.queryFilter(b.ingestor.filters.ResultIngested(requestId))).to.have.length(1);
      // A late 4th result changes nothing.
      await pushResult(
        results,
        await makeResultJob(operatorKeys[3]!, request, {
          instructions: [
            { chain: a, instructions: burn },
            { chain: b, instructions: mint },
          ],
        }),
      );
      expect(await b.omniToken.balanceOf(recipient)).to.equal(amount);
    } finally {
      await collector.close();
      await poster.close();
    }
  });
});
