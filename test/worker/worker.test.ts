import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { network } from "hardhat";
import {
  bytesToHex,
  createPublicClient,
  custom,
  getAddress,
  hexToBytes,
  recoverTypedDataAddress,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { devAccount } from "../../deploy/context.ts";
import { instructionsHash } from "../../protocol/instructions.ts";
import { recordBodyOfResultJob, type OperatorReport, type ResultJob, type WorkJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import { contextOfRequest, contextToJson } from "../../protocol/programContext.ts";
import { recordBodyHash, recordContext, type ExecutionRecordBody } from "../../protocol/record.ts";
import { resultDomain, resultTypes } from "../../protocol/result.ts";
import { NanoRuntime } from "../../runtime/executor.ts";
import { loadWorkerConfig, startWorker, type WorkerHandle, type WorkOutcome } from "../../worker/index.ts";
import { ProgramHashMismatchError, ProgramStore } from "../../worker/programStore.ts";
import { address, builtProgram, builtPrograms } from "../fixtures/programs.ts";
import { eventually, flushedRedis, redisUrl, requestJob, workJob } from "./helpers.ts";

const DB = 7;
const INGESTOR_A = getAddress("0x00000000000000000000000000000000000a1a1a");
const INGESTOR_B = getAddress("0x00000000000000000000000000000000000b2b2b");
/** The fee every request of these tests pays (answered without a chain). */
const FEE = 10n;

describe("worker: runs assigned work, signs per chain, pushes results", function () {
  this.timeout(60_000);
  const operatorWallet = devAccount(1);
  const operator = getAddress(operatorWallet.address);
  let redis: Redis;
  let worker: WorkerHandle;
  let runtime: NanoRuntime;
  let server: Server;
  let workQueue: Queue<WorkJob>;
  let results: Queue<ResultJob>;
  let payout: Hex;
  let mover: Hex;
  let raffle: Hex;
  let echo: Hex;
  /** The omni token of these tests: token-mover and attack-echo are its controllers (answered without a chain). */
  const VOMNI = getAddress(address(3));

  before(async () => {
    builtPrograms();
    redis = await flushedRedis(DB);
    const dir = mkdtempSync(join(tmpdir(), "versatus-programs-"));
    payout = builtProgram("payout-splitter").package.programId;
    mover = builtProgram("token-mover").package.programId;
    raffle = builtProgram("raffle").package.programId;
    echo = builtProgram("attack-echo").package.programId;
    writeFileSync(join(dir, "attack-echo.vpkg"), builtProgram("attack-echo").package.bytes);
    // payout-splitter on disk under its name (found by content hash), token-mover only over HTTP,
    // raffle on disk under its programId but with one byte changed
    writeFileSync(join(dir, "payout-splitter.vpkg"), builtProgram("payout-splitter").package.bytes);
    const tampered = Uint8Array.from(builtProgram("raffle").package.bytes);
    tampered[tampered.length - 1]! ^= 0xff;
    writeFileSync(join(dir, `${raffle}.vpkg`), tampered);
    server = createServer((req, res) => {
      if (req.url === `/${mover}`) res.writeHead(200).end(builtProgram("token-mover").package.bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const storeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    runtime = new NanoRuntime({ size: 1 });
    const config = loadWorkerConfig({
      raw: {
        chains: [
          { chainId: 31337, ingestor: INGESTOR_A },
          { chainId: 31338, ingestor: INGESTOR_B },
        ],
        programs: { dirs: [dir], urls: [storeUrl] },
        capacity: 7,
        redis: { url: redisUrl(DB) },
        operations: { logLevel: "warn" },
      },
      env: {},
    });
    worker = await startWorker(config, {
      privateKey: operatorWallet.privateKey as Hex,
      logger: pino({ level: "silent" }),
      controllers: async (_chainId, token, programId) => token === VOMNI && (programId === mover || programId === echo),
      fees: async () => FEE,
    });
    workQueue = new Queue(queueNames.work(operator), { connection: redis, prefix: QUEUE_PREFIX });
    results = new Queue(queueNames.results, { connection: redis, prefix: QUEUE_PREFIX });
  });

  after(async () => {
    await worker?.close();
    await worker?.close(); // safe twice
    await workQueue?.close();
    await results?.close();
    await runtime?.close();
    server?.close();
    await redis?.flushdb();
    await redis?.quit();
  });

  async function run(work: WorkJob): Promise<ResultJob> {
    await workQueue.add("execute", work, { jobId: jobIds.work(work.chainId, work.requestId, work.operator) });
    const job = await eventually(
      async () => (await results.getJob(jobIds.result(work.chainId, work.requestId, operator))) ?? undefined,
      "the result job",
    );
    return job.data;
  }

  async function recover(chain: ResultJob["chains"][number], chainId: bigint, ingestor: Address) {
    return recoverTypedDataAddress({
      domain: resultDomain(chainId, ingestor),
      types: resultTypes,
      primaryType: "Result",
      message: { ...chain.result, originChainId: BigInt(chain.result.originChainId) },
      signature: chain.signature,
    });
  }

  /** The body computed independently of the worker: a direct runtime run, laid out as SPEC 5 says. */
  async function expectedBody(work: WorkJob): Promise<ExecutionRecordBody> {
    const context = contextOfRequest(work, FEE);
    const direct = await runtime.execute(
      await runtime.load(builtProgram(work.programId === payout ? "payout-splitter" : "token-mover").package),
      {
        input: hexToBytes(work.input),
        requestId: work.requestId,
        timestamp: BigInt(work.blockTimestamp),
        originChainId: BigInt(work.chainId),
        context,
      },
    );
    const ok = direct.outcome === "ok";
    return {
      originChainId: BigInt(work.chainId),
      oracle: work.oracle,
      requestId: work.requestId,
      programId: work.programId,
      requester: getAddress(work.requester),
      asset: getAddress(work.token),
      amount: BigInt(work.amount),
      fee: FEE,
      blockNumber: BigInt(work.blockNumber),
      timestamp: BigInt(work.blockTimestamp),
      input: work.input,
      status: ok ? 0 : 1,
      stdout: bytesToHex(direct.stdout),
      stderr: bytesToHex(direct.stderr),
      fuelUsed: direct.fuelUsed,
      instructions: ok
        ? [...direct.instructions!.entries()]
            .sort(([a], [b]) => Number(a - b))
            .map(([chainId, instructions]) => ({ chainId, instructions }))
        : [],
    };
  }

  it("test_worker_runsProgram_signsOriginResult_bodyHashMatchesRecordCodec", async () => {
    const request = requestJob({
      label: "split",
      programId: payout,
      // no amount: the splitter splits the escrow minus the fee (its context)
      input: {
        recipients: [
          { to: address(1), weight: 1 },
          { to: address(2), weight: 3 },
        ],
      },
      amount: 1000n + FEE,
    });
    const result = await run(workJob(request, operator));
    expect(result.operator).to.equal(operator);
    expect(result.outcome.status).to.equal(0);
    expect(result.chains.map((c) => c.chainId)).to.deep.equal(["31337"]);
    const [origin] = result.chains;
    expect(origin!.instructions.map((ix) => ix.amount)).to.deep.equal(["250", "750"]);
    expect(await recover(origin!, 31337n, INGESTOR_A)).to.equal(operator);
    // the signature is bound to the ingestor's domain: another chain's domain recovers someone else
    expect(await recover(origin!, 31338n, INGESTOR_B)).to.not.equal(operator);

    const body = await expectedBody(workJob(request, operator));
    expect(origin!.result.bodyHash).to.equal(recordBodyHash(body));
    expect(recordBodyHash(recordBodyOfResultJob(result))).to.equal(origin!.result.bodyHash);
    expect(origin!.result.instructionsHash).to.equal(instructionsHash(body.instructions[0]!.instructions));

    expect(await redis.sismember(redisKeys.done(31337, request.requestId), operator.toLowerCase())).to.equal(1);
  });

  it("test_worker_context_fromTheRequestEventAndFee_inTheResultJobAndTheBody", async () => {
    const request = requestJob({
      label: "context",
      programId: payout,
      input: { recipients: [{ to: address(1), weight: 1 }] },
    });
    const result = await run(workJob(request, operator));
    const context = contextOfRequest(request, FEE);
    expect(result.context).to.deep.equal(contextToJson(context));
    expect(result.context).to.include({
      requester: request.requester.toLowerCase(),
      fee: String(FEE),
      blockNumber: "12",
    });
    const body = recordBodyOfResultJob(result);
    expect(recordContext(body)).to.deep.equal(context);
    // the splitter paid what was escrowed (1 ether by default) minus the fee
    expect(result.chains[0]!.instructions[0]!.amount).to.equal(String(10n ** 18n - FEE));
  });

  /** Another operator's worker on chain 31337 only, with the same program store. */
  const secondWorker = (privateKey: Hex, options: Partial<Parameters<typeof startWorker>[1]> = {}) =>
    startWorker(
      loadWorkerConfig({
        raw: {
          chains: [{ chainId: 31337, ingestor: INGESTOR_A }],
          programs: { dirs: worker.config.programs.dirs },
          redis: { url: redisUrl(DB) },
          operations: { logLevel: "warn" },
        },
        env: {},
      }),
      { privateKey, logger: pino({ level: "silent" }), opsServer: false, ...options },
    );

  it("test_worker_withoutOriginRpc_abstains_ratherThanGuessTheFee", async () => {
    const other = devAccount(2);
    const blind = await secondWorker(other.privateKey as Hex);
    const queue = new Queue<WorkJob>(queueNames.work(getAddress(other.address)), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    try {
      const request = requestJob({
        label: "blind",
        programId: payout,
        input: { recipients: [{ to: address(1), weight: 1 }] },
      });
      const work = workJob(request, getAddress(other.address));
      const id = jobIds.work(work.chainId, work.requestId, work.operator);
      await queue.add("execute", work, { jobId: id, attempts: 3 });
      const failed = await eventually(async () => {
        const job = await queue.getJob(id);
        return job && (await job.getState()) === "failed" ? job : undefined;
      }, "the job to fail");
      expect(failed.attemptsMade).to.equal(1); // permanent for this operator: the scheduler gives it to another
      expect(failed.failedReason).to.contain("No RPC for chain 31337");
      expect(await results.getJob(jobIds.result(work.chainId, work.requestId, getAddress(other.address)))).to.equal(
        undefined,
      );
    } finally {
      await queue.close();
      await blind.close();
    }
  });

  it("judges the deadline by the chain's clock: runs work the machine's clock calls late, skips work the chain calls late", async () => {
    // An in-process chain's clock starts at Hardhat's start: late in a long run it is behind this
    // machine's clock. Here it is two hours behind.
    const connection = await network.create({
      network: "chainA",
      override: { initialDate: new Date(Date.now() - 2 * 3_600_000) },
    });
    const chainClient = createPublicClient({ transport: custom(connection.provider) });
    const chainNow = (await chainClient.getBlock({ blockTag: "latest" })).timestamp;
    expect(Number(chainNow)).to.be.lessThan(Date.now() / 1000 - 3_600);
    const other = devAccount(3);
    const skewed = await secondWorker(other.privateKey as Hex, {
      clients: { "31337": chainClient as PublicClient },
      fees: async () => FEE,
    });
    const self = getAddress(other.address);
    const queue = new Queue<WorkJob>(queueNames.work(self), { connection: redis, prefix: QUEUE_PREFIX });
    const outcome = async (label: string, deadline: bigint) => {
      const request = requestJob({
        label,
        programId: payout,
        input: { recipients: [{ to: address(1), weight: 1 }] },
        deadline,
      });
      const work = workJob(request, self);
      const id = jobIds.work(work.chainId, work.requestId, work.operator);
      await queue.add("execute", work, { jobId: id });
      // finishedOn and returnvalue come from one read (getState() would be a second, later one)
      const done = await eventually(async () => {
        const job = await queue.getJob(id);
        return job?.finishedOn && !job.failedReason ? job : undefined;
      }, `${label} to complete`);
      return done.returnvalue as WorkOutcome;
    };
    try {
      // 30 minutes past by this machine's clock, 90 minutes ahead by the chain's
      const live = await outcome("late by the wall clock", BigInt(Math.floor(Date.now() / 1000) - 1_800));
      expect(live).to.have.property("status", 0);
      // past by the chain's clock (beyond the grace period)
      const dead = await outcome("late by the chain", chainNow - 3_600n);
      expect(dead).to.deep.equal({ skipped: "past_deadline" });
    } finally {
      await queue.close();
      await skewed.close();
      await connection.close();
    }
  });

  it("test_worker_crossChainOutput_signsEachChainWithItsOwnDomain (program fetched over HTTP)", async () => {
    const request = requestJob({
      label: "move",
      programId: mover,
      input: { token: address(3), to: address(4), amount: "5000", destinationChainId: 31338 },
      token: VOMNI,
      amount: 5000n + FEE,
    });
    const result = await run(workJob(request, operator));
    expect(result.outcome.status).to.equal(0);
    expect(result.chains.map((c) => c.chainId)).to.deep.equal(["31337", "31338"]);
    const [a, b] = result.chains;
    expect(a!.ingestor).to.equal(INGESTOR_A);
    expect(b!.ingestor).to.equal(INGESTOR_B);
    expect(await recover(a!, 31337n, INGESTOR_A)).to.equal(operator);
    expect(await recover(b!, 31338n, INGESTOR_B)).to.equal(operator);
    expect(await recover(b!, 31337n, INGESTOR_A)).to.not.equal(operator);
    expect(a!.result.bodyHash).to.equal(b!.result.bodyHash);
    expect(a!.result.bodyHash).to.equal(recordBodyHash(await expectedBody(workJob(request, operator))));
    expect(a!.instructions[0]!.op).to.equal(3); // BURN on the origin
    expect(b!.instructions[0]!.op).to.equal(2); // MINT on the destination
  });

  // The output rule (SPEC 3.4): the worker signs PROGRAM_ERROR for an output that breaks it.
  const breaking = async (label: string, actions: unknown[]) => {
    const request = requestJob({ label, programId: echo, input: { actions }, token: VOMNI, amount: 100n + FEE });
    return run(workJob(request, operator));
  };
  const burn100 = { op: "burn", amount: "100" };
  const mintTo = (token: string, amount = "100") => ({ op: "mint", chainId: 31338, token, to: address(4), amount });

  it("test_worker_outputRule_twoMints_signsProgramError_originOnly", async () => {
    const result = await breaking("two mints", [burn100, mintTo(VOMNI), mintTo(VOMNI)]);
    expect(result.outcome.status).to.equal(1);
    expect(result.outcome.kind).to.equal("invalid_output");
    expect(result.outcome.message).to.contain("more than this result burned of it (100)");
    expect(result.chains.map((c) => c.chainId)).to.deep.equal(["31337"]);
    expect(result.chains[0]!.instructions).to.deep.equal([]);
    expect(await recover(result.chains[0]!, 31337n, INGESTOR_A)).to.equal(operator);
  });

  it("test_worker_outputRule_foreignMint_signsProgramError", async () => {
    const result = await breaking("foreign mint", [burn100, mintTo(address(5))]);
    expect(result.outcome.status).to.equal(1);
    expect(result.outcome.message).to.contain("whose controllers do not include program");
  });

  it("test_worker_outputRule_backedMint_signsOk_withBurnTargetBoundToTheToken", async () => {
    const result = await breaking("backed mint", [burn100, mintTo(VOMNI)]);
    expect(result.outcome.status).to.equal(0);
    expect(result.chains[0]!.instructions).to.deep.equal([{ op: 3, target: VOMNI, amount: "100", data: "0x" }]);
  });

  it("test_worker_programError_status1_originOnly_noInstructions", async () => {
    const request = requestJob({ label: "bad split", programId: payout, input: { recipients: [] } });
    const result = await run(workJob(request, operator));
    expect(result.outcome.status).to.equal(1);
    expect(result.outcome.kind).to.equal("exit");
    expect(result.chains).to.have.length(1);
    expect(result.chains[0]!.chainId).to.equal("31337");
    expect(result.chains[0]!.instructions).to.deep.equal([]);
    expect(result.chains[0]!.result.instructionsHash).to.equal(instructionsHash([]));
    expect(await recover(result.chains[0]!, 31337n, INGESTOR_A)).to.equal(operator);
    expect(result.chains[0]!.result.bodyHash).to.equal(recordBodyHash(await expectedBody(workJob(request, operator))));
  });

  it("test_worker_rejectsPackageWhoseHashMismatches_permanently", async () => {
    const request = requestJob({ label: "raffle", programId: raffle, input: { prize: "1", winners: 1, entries: [] } });
    const work = workJob(request, operator);
    const id = jobIds.work(work.chainId, work.requestId, work.operator);
    await workQueue.add("execute", work, { jobId: id, attempts: 3 });
    const failed = await eventually(async () => {
      const job = await workQueue.getJob(id);
      return job && (await job.getState()) === "failed" ? job : undefined;
    }, "the job to fail");
    expect(failed.attemptsMade).to.equal(1); // not retried
    expect(failed.failedReason).to.contain("does not hash to");
    expect(await results.getJob(jobIds.result(work.chainId, work.requestId, operator))).to.equal(undefined);
    expect(await redis.scard(redisKeys.done(31337, request.requestId))).to.equal(0);
  });

  it("test_programStore_mismatchIsPermanentError", async () => {
    const store = new ProgramStore({ dirs: worker.config.programs.dirs });
    const error = await store.get(raffle).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ProgramHashMismatchError);
    expect((error as ProgramHashMismatchError).permanent).to.equal(true);
    expect((await store.get(payout)).programId).to.equal(payout);
  });

  it("test_worker_reportsBackpressure_andServesHealthAndMetrics", async () => {
    const report = JSON.parse((await redis.hget(redisKeys.operators, operator.toLowerCase()))!) as OperatorReport;
    expect(report.capacity).to.equal(7);
    expect(report.kinds).to.deep.equal(["execute"]);
    expect(report.programs).to.equal(null);
    expect(report.depth).to.be.a("number");
    const health = await fetch(`${worker.ops!.url}/healthz`);
    expect(health.status).to.equal(200);
    const metrics = await (await fetch(`${worker.ops!.url}/metrics`)).text();
    expect(metrics).to.contain('versatus_worker_jobs_total{outcome="ok",service="worker"}');
  });

  it("test_workerConfig_errorsNameTheField", () => {
    expect(() =>
      loadWorkerConfig({ raw: { chains: [{ chainId: 1, ingestor: "0x12" }], programs: { dirs: ["x"] } }, env: {} }),
    ).to.throw(/chains\.0\.ingestor/);
    expect(() => loadWorkerConfig({ raw: { chains: [{ chainId: 1, ingestor: INGESTOR_A }] }, env: {} })).to.throw(
      /programs/,
    );
  });
});
