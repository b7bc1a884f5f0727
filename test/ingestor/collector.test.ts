import { expect } from "chai";
import { network } from "hardhat";
import { Queue } from "bullmq";
import { parseEventLogs, type Address, type Hex } from "viem";
import { createDaClient } from "../../da/index.ts";
import { startCollector, type CollectorHandle } from "../../ingestor/collector.ts";
import { startPoster, type PosterHandle } from "../../ingestor/poster.ts";
import type { IngestorConfig } from "../../ingestor/config.ts";
import { instructionIngestorAbi } from "../../protocol/generated/abis.ts";
import { Op, type Instruction } from "../../protocol/instructions.ts";
import type { PostJob, ResultJob } from "../../protocol/jobs.ts";
import { jobIds, QUEUE_PREFIX, queueNames } from "../../protocol/queues.ts";
import { ETH_FEE, requestEth } from "../helpers/suite.ts";
import {
  eventually,
  makeResultJob,
  operatorKeys,
  postJobOf,
  pushResult,
  requestContext,
  resultsQueue,
  silentLogger,
  tempDir,
  testChain,
  testConfig,
  testRedis,
  transportsOf,
  type TestChain,
} from "./helpers.ts";

describe("ingestor: collector + poster (in-process chain, real Redis and DA store)", function () {
  this.timeout(60_000);
  let chain: TestChain;
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let da: ReturnType<typeof tempDir>;
  let config: IngestorConfig;
  let results: Queue<ResultJob>;
  const handles: { close(): Promise<void> }[] = [];

  before(async () => {
    chain = await testChain(await network.create());
    redis = await testRedis(13);
    da = tempDir("versatus-ingestor-");
    config = testConfig([chain], { redisUrl: redis.url, daDir: da.dir });
    results = resultsQueue(redis.url);
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
    await redis.flush();
  });
  after(async () => {
    await results.close();
    await redis.flush();
    await redis.redis.quit();
    da.remove();
  });

  const transports = () => transportsOf([chain]);
  const collector = async (cfg = config): Promise<CollectorHandle> => {
    const h = await startCollector({ config: cfg, logger: silentLogger, transports: transports() });
    handles.push(h);
    return h;
  };
  const poster = async (cfg = config): Promise<PosterHandle> => {
    const h = await startPoster({ config: cfg, logger: silentLogger, transports: transports() });
    handles.push(h);
    return h;
  };
  const newRequest = async (value = chain.ethers.parseEther("0.01"), input: Hex = "0xabcd") => {
    const requestId = (await requestEth(chain, chain.requester, value, input)) as Hex;
    return { origin: chain, requestId, input };
  };
  const ingestedLogs = async (requestId: Hex) => {
    const logs = await chain.connection.provider.request({
      method: "eth_getLogs",
      params: [{ address: chain.addresses.InstructionIngestor, fromBlock: "0x0", toBlock: "latest" }],
    });
    return parseEventLogs({ abi: instructionIngestorAbi, logs: logs as never, eventName: "ResultIngested" }).filter(
      (l) => l.args.requestId.toLowerCase() === requestId.toLowerCase(),
    );
  };
  const isIngested = (requestId: Hex) => chain.ingestor.isIngested(chain.chainId, requestId);
  const completedOutcome = async (job: ResultJob) => {
    const j = await results.getJob(jobIds.result(BigInt(job.originChainId), job.requestId, job.operator));
    // the job may complete between getJob and isCompleted: its returnvalue is then not loaded yet
    return (await j?.isCompleted())
      ? ((j!.returnvalue as { outcome: string; reason?: string } | null) ?? undefined)
      : undefined;
  };
  const other = async () => (await chain.other.getAddress()) as Address;

  it("posts once when the threshold is reached, with the record in DA (duplicates change nothing)", async () => {
    await collector();
    await poster();
    const request = await newRequest();
    const instructions: Instruction[] = [
      { op: Op.TRANSFER, target: await other(), amount: chain.ethers.parseEther("0.002"), data: "0x" },
    ];
    const before = await chain.ethers.provider.getBalance(await other());
    const jobs = await Promise.all(
      operatorKeys.map((k) => makeResultJob(k, request, { instructions: [{ chain, instructions }], stdout: "0x7b7d" })),
    );
    for (const job of jobs) await pushResult(results, job);
    await pushResult(results, jobs[0]!); // a repeated push: same job id
    await eventually(() => isIngested(request.requestId), 20_000, "ingest");
    // the 4th (late) result and a duplicate post job change nothing
    await eventually(() => completedOutcome(jobs[3]!), 10_000, "4th result processed");
    const postQueue = new Queue<PostJob>(queueNames.post(chain.chainId), {
      connection: redis.redis,
      prefix: QUEUE_PREFIX,
    });
    const postJob = await postQueue.getJob(jobIds.post(chain.chainId, chain.chainId, request.requestId));
    expect(postJob, "post job").to.not.equal(undefined);
    await postQueue.add("post", postJob!.data, { jobId: `dup-${request.requestId.slice(2, 10)}` });
    await eventually(
      async () =>
        (await postQueue.getJobCounts("waiting", "active", "delayed")).waiting === 0 &&
        (await postQueue.getJobCounts("active")).active === 0,
    );
    await postQueue.close();

    const logs = await ingestedLogs(request.requestId);
    expect(logs).to.have.length(1);
    expect((await chain.oracle.escrowOf(request.requestId)).status).to.equal(2n);
    expect(await chain.ethers.provider.getBalance(await other())).to.equal(before + chain.ethers.parseEther("0.002"));
    // The record is in DA under the pointer posted on chain, and hashes to the posted bodyHash.
    const daClient = createDaClient({ primary: { layer: "local", dir: da.dir } });
    const record = await daClient.get(logs[0]!.args.daPointer);
    await daClient.close();
    expect(record.body.requestId).to.equal(request.requestId.toLowerCase());
    expect(record.body.stdout).to.equal("0x7b7d");
    expect(record.signatures.length).to.be.gte(3);
    expect(logs[0]!.args.bodyHash).to.equal(jobs[0]!.chains[0]!.result.bodyHash);
  });

  it("ignores a garbage signature and still reaches the quorum with the honest ones", async () => {
    await collector();
    await poster();
    const request = await newRequest();
    const [a, b, c] = await Promise.all(operatorKeys.slice(0, 3).map((k) => makeResultJob(k, request)));
    const garbage = await makeResultJob(operatorKeys[3]!, request, { garbageSignature: true });
    // An operator signing a different body (wrong output) is just another group that never reaches quorum.
    for (const job of [a!, b!, garbage]) await pushResult(results, job);
    const rejected = await eventually(() => completedOutcome(garbage), 10_000, "garbage processed");
    expect(rejected.outcome).to.equal("rejected");
    expect(rejected.reason).to.be.oneOf(["bad_signature", "signer_mismatch"]);
    expect(await eventually(() => completedOutcome(b!))).to.deep.include({ outcome: "pending" });
    expect(await isIngested(request.requestId)).to.equal(false);
    await pushResult(results, c!);
    await eventually(() => isIngested(request.requestId), 20_000, "ingest");
    const logs = await ingestedLogs(request.requestId);
    expect(logs).to.have.length(1);
  });

  it("refuses results whose context differs from the origin's request (requester, escrow, fee): never posted", async () => {
    await collector();
    await poster();
    const request = await newRequest();
    const honest = await requestContext(request);
    const lies = [
      { ...honest, requester: (await other()).toLowerCase() as Hex },
      { ...honest, amount: honest.amount * 2n },
      { ...honest, fee: 0n },
    ];
    const jobs = await Promise.all(
      operatorKeys.slice(0, 3).map((k, i) => makeResultJob(k, request, { context: lies[i]! })),
    );
    // pushed under their own job ids: the same operators' honest results follow under the usual ones
    for (const [i, job] of jobs.entries()) await results.add("result", job, { jobId: `context-lie-${i}` });
    for (const i of jobs.keys()) {
      const outcome = await eventually(
        async () => {
          const j = await results.getJob(`context-lie-${i}`);
          return (await j?.isCompleted())
            ? ((await results.getJob(`context-lie-${i}`))!.returnvalue ?? undefined)
            : undefined;
        },
        10_000,
        "lying result processed",
      );
      expect(outcome).to.deep.equal({ outcome: "rejected", reason: "context_mismatch" });
    }
    expect(await isIngested(request.requestId)).to.equal(false);
    // the same operators with the chain's context reach the quorum
    for (const key of operatorKeys.slice(0, 3)) await pushResult(results, await makeResultJob(key, request));
    await eventually(() => isIngested(request.requestId), 20_000, "ingest");
  });

  it("posts a PROGRAM_ERROR result at once: the requester gets the escrow back minus the fee", async () => {
    await collector();
    await poster();
    const value = chain.ethers.parseEther("0.01");
    const request = await newRequest(value);
    const stderr = "0x" + Buffer.from("panicked at 'boom'").toString("hex");
    const jobs = await Promise.all(
      operatorKeys.slice(0, 3).map((k) => makeResultJob(k, request, { status: 1, stderr: stderr as Hex })),
    );
    const requester = await chain.requester.getAddress();
    const before = await chain.ethers.provider.getBalance(requester);
    for (const job of jobs) await pushResult(results, job);
    await eventually(() => isIngested(request.requestId), 20_000, "ingest");
    const logs = await ingestedLogs(request.requestId);
    expect(logs).to.have.length(1);
    expect(logs[0]!.args.status).to.equal(1);
    expect(await chain.ethers.provider.getBalance(requester)).to.equal(before + value - ETH_FEE);
  });

  it("drops results of a request already settled on chain (no post job)", async () => {
    await collector();
    const request = await newRequest();
    const jobs = await Promise.all(operatorKeys.slice(0, 3).map((k) => makeResultJob(k, request)));
    // settle it directly (as another collector would have)
    const { signResult, makeResult, operatorWallets } = await import("../helpers/suite.ts");
    const result = makeResult({
      requestId: request.requestId,
      originChainId: chain.chainId,
      programId: chain.programId,
      input: request.input,
      bodyHash: jobs[0]!.chains[0]!.result.bodyHash,
    });
    const sigs = await signResult(
      operatorWallets().slice(0, 3),
      chain.chainId,
      chain.addresses.InstructionIngestor,
      result,
    );
    await (await chain.ingestor.connect(chain.poster).ingest(result, [], sigs, "0x")).wait();
    for (const job of jobs) await pushResult(results, job);
    const outcomes = await Promise.all(jobs.map((job) => eventually(() => completedOutcome(job), 10_000, "result")));
    // whichever of them completed the quorum found the request settled; later ones are "late"
    expect(outcomes.map((o) => o.outcome)).to.include("settled");
    expect(outcomes.map((o) => o.outcome)).to.not.include("posted");
    const postQueue = new Queue(queueNames.post(chain.chainId), { connection: redis.redis, prefix: QUEUE_PREFIX });
    expect(await postQueue.count()).to.equal(0);
    await postQueue.close();
  });

  it("loses nothing when the collector restarts mid-quorum", async () => {
    const first = await collector();
    await poster();
    const request = await newRequest();
    const jobs = await Promise.all(operatorKeys.slice(0, 3).map((k) => makeResultJob(k, request)));
    await pushResult(results, jobs[0]!);
    await pushResult(results, jobs[1]!);
    await eventually(() => completedOutcome(jobs[1]!), 10_000, "2nd result");
    await first.close();
    await first.close(); // safe twice
    await collector();
    await pushResult(results, jobs[2]!);
    await eventually(() => isIngested(request.requestId), 20_000, "ingest after restart");
  });

  it("retries the quorum when the DA write fails transiently", async () => {
    const real = createDaClient({ primary: { layer: "local", dir: da.dir } });
    let failures = 2;
    const flaky = {
      put: async (record: Parameters<typeof real.put>[0]) => {
        if (failures-- > 0) throw new Error("DA unavailable (test)");
        return real.put(record);
      },
      close: () => real.close(),
    } as unknown as typeof real;
    const h = await startCollector({ config, logger: silentLogger, transports: transports(), da: flaky });
    handles.push(h, { close: () => real.close() });
    await poster();
    const request = await newRequest();
    for (const key of operatorKeys.slice(0, 3)) await pushResult(results, await makeResultJob(key, request));
    await eventually(() => isIngested(request.requestId), 20_000, "ingest after DA recovered");
    expect(failures).to.be.lessThan(0);
  });

  it("refuses a quorum whose output breaks the output rule (over budget, unbacked mint): nothing is posted", async () => {
    await collector();
    const token = chain.addresses.OmniToken as Address;
    const value = chain.ethers.parseEther("0.01");
    const to = await other();
    const plans: Instruction[][] = [
      [{ op: Op.TRANSFER, target: to, amount: value, data: "0x" }], // more than escrow - fee
      [{ op: Op.MINT, target: to, amount: 100n, data: `0x${token.slice(2).toLowerCase().padStart(64, "0")}` }], // no burn
    ];
    const postQueue = new Queue<PostJob>(queueNames.post(chain.chainId), {
      connection: redis.redis,
      prefix: QUEUE_PREFIX,
    });
    for (const [i, plan] of plans.entries()) {
      const request = await newRequest(value, `0x1${i}` as Hex);
      const jobs = await Promise.all(
        operatorKeys
          .slice(0, 3)
          .map((k) => makeResultJob(k, request, { instructions: [{ chain, instructions: plan }] })),
      );
      for (const job of jobs) await pushResult(results, job);
      for (const job of jobs) {
        const outcome = await eventually(() => completedOutcome(job), 10_000, `result ${i} processed`);
        expect(outcome).to.deep.include({ outcome: "rejected", reason: "output_rule" });
      }
      expect(await postQueue.getJob(jobIds.post(chain.chainId, chain.chainId, request.requestId))).to.equal(undefined);
    }
    await postQueue.close();
  });

  it("a batch with one result over budget and one unbacked mint does not block the others", async () => {
    await collector();
    const token = chain.addresses.OmniToken as Address;
    await (await chain.omniToken.connect(chain.owner).setMintLimit(chain.chainId, 10n, 3600n)).wait();
    const value = chain.ethers.parseEther("0.01");
    const requests: Awaited<ReturnType<typeof newRequest>>[] = [];
    for (let i = 0; i < 4; i++) requests.push(await newRequest(value, `0x0${i}` as Hex));
    const to = await other();
    const plans: Instruction[][] = [
      [{ op: Op.TRANSFER, target: to, amount: 1n, data: "0x" }],
      [{ op: Op.TRANSFER, target: to, amount: value, data: "0x" }], // more than escrow - fee
      [{ op: Op.MINT, target: to, amount: 100n, data: `0x${token.slice(2).toLowerCase().padStart(64, "0")}` }], // over the bucket
      [{ op: Op.TRANSFER, target: to, amount: 2n, data: "0x" }],
    ];
    const postQueue = new Queue<PostJob>(queueNames.post(chain.chainId), {
      connection: redis.redis,
      prefix: QUEUE_PREFIX,
    });
    for (const [i, request] of requests.entries()) {
      const jobs = await Promise.all(
        operatorKeys
          .slice(0, 3)
          .map((k) => makeResultJob(k, request, { instructions: [{ chain, instructions: plans[i]! }] })),
      );
      if (i === 1 || i === 2) {
        // An honest collector refuses these (output rule): a hostile or buggy one posts them anyway.
        await postQueue.add("post", postJobOf(jobs, chain.chainIdString), {
          jobId: jobIds.post(chain.chainId, chain.chainId, request.requestId),
          attempts: config.poster.attempts,
          backoff: { type: "exponential", delay: config.poster.retryDelayMs },
        });
      } else {
        for (const job of jobs) await pushResult(results, job);
      }
    }
    await eventually(async () => (await postQueue.count()) === 4, 20_000, "4 post jobs");
    const batchConfig = { ...config, poster: { ...config.poster, maxBatchWaitMs: 200 } };
    const posterHandle = await poster(batchConfig);
    await eventually(() => isIngested(requests[0]!.requestId), 20_000, "good results");
    await eventually(() => isIngested(requests[3]!.requestId), 20_000, "the other good result");
    // The batch skips the hostile ones (ResultSkipped 6 + the error ingest would revert with) and
    // the poster completes them as skipped with that error's selector: they can never ingest.
    const outcomeOf = async (i: number) => {
      const job = await postQueue.getJob(jobIds.post(chain.chainId, chain.chainId, requests[i]!.requestId));
      return eventually(
        async () => ((await job!.getState()) === "completed" ? job!.returnvalue : undefined),
        10_000,
        `job ${i}`,
      );
    };
    const selector = (signature: string) => chain.ethers.id(signature).slice(0, 10);
    expect(await outcomeOf(1)).to.deep.include({
      outcome: "skipped",
      reason: `skipped_6_${selector("Disperser_BudgetExceeded(bytes32,uint256,uint256)")}`,
    });
    expect(await outcomeOf(2)).to.deep.include({
      outcome: "skipped",
      reason: `skipped_6_${selector("Disperser_UnbackedMint(bytes32,address,uint256,uint256)")}`,
    });
    expect(await isIngested(requests[1]!.requestId)).to.equal(false);
    expect(await isIngested(requests[2]!.requestId)).to.equal(false);
    void posterHandle;
    await postQueue.close();
  });
});
