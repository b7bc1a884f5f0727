import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { connectRedis, describeRedis } from "../protocol/redis.ts";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { createPublicClient, getAddress, http, type Address, type Hex, type PublicClient } from "viem";
import type { ControllerResolver } from "../protocol/conservation.ts";
import { privateKeyToAccount } from "viem/accounts";
import { isPastDeadline, latestBlockClock } from "../protocol/chainClock.ts";
import { Closer } from "../protocol/closer.ts";
import { BaseError, InvalidInputError } from "../protocol/errors.ts";
import type { OperatorReport, ResultJob, WorkJob } from "../protocol/jobs.ts";
import {
  closeRedis,
  createLogger,
  createRegistry,
  DependencyMonitor,
  isConnectionError,
  settleWithin,
  startOpsServer,
  watchRedis,
  type Health,
  type Logger,
  type OpsServer,
} from "../protocol/ops.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../protocol/queues.ts";
import { monitoredTransport, RpcMonitors } from "../protocol/rpcHealth.ts";
import { chainControllerResolver, NoChainClientError, requestFee } from "../protocol/ruleContext.ts";
import { RunAbandonedError } from "../runtime/errors.ts";
import { NanoRuntime } from "../runtime/executor.ts";
import type { WorkerConfig } from "./config.ts";
import { executeWork, type OutcomeTamper } from "./execute.ts";
import { ProgramStore, type ProgramNetworkSource } from "./programStore.ts";
import { stageTimer } from "../protocol/stageTimer.ts";

/**
 * The compute agent of one operator (SPEC 6): consumes `queueNames.work(operator)`, fetches and
 * verifies the program, runs it, signs the Result per chain, pushes a ResultJob to
 * `queueNames.results` (job id `jobIds.result`) and then adds the operator to
 * `redisKeys.done(chainId, requestId)` (the scheduler's "this work is done" mark). Every
 * `reportIntervalMs` it writes its backpressure report (OperatorReport) to `redisKeys.operators`.
 *
 * The output rule (SPEC 3.4, protocol/conservation.ts) is applied to every run before signing: an
 * output that mints what it did not burn, mints or burns a token its program does not control,
 * burns another token than the escrowed one or spends beyond escrow minus fee is signed as
 * PROGRAM_ERROR. The rule reads each chain (token controllers, the request's fee at its block)
 * through the chains' `rpcUrl` (or `options.clients`); a mint or burn on a chain without an RPC
 * makes the operator abstain (NoChainClientError, permanent). The program's context
 * (protocol/programContext.ts) is the work job's request event plus that fee: an operator without
 * an RPC for the origin cannot know it and abstains on every request of that chain.
 *
 * Failures: a permanent one (hash mismatch, malformed package, program not accepted, a chain
 * without a configured ingestor) fails the job at once (BullMQ UnrecoverableError); a transient
 * one (program not found yet, Redis hiccup, wall-clock backstop = abstain) is retried by BullMQ
 * up to the attempts the relayer set, after which the scheduler gives the work to someone else.
 *
 * @example
 * const worker = await startWorker(loadWorkerConfig({ file: "worker.json" }), { privateKey: process.env.OPERATOR_KEY });
 * process.once("SIGTERM", () => worker.close());
 */
export type WorkerOptions = {
  privateKey: Hex;
  /** Fault injection (devnet demo and tests only; not in the config schema): a lying operator. */
  tamper?: OutcomeTamper;
  logger?: Logger;
  registry?: Registry;
  /** Share one runtime pool between several in-process workers (the devnet); not closed by close(). */
  runtime?: NanoRuntime;
  /** false: no /metrics + /healthz server. Default true. */
  opsServer?: boolean;
  /** Packages by content address from the node's content network (the node passes it; config.programs.network orders it). */
  programNetwork?: ProgramNetworkSource["fetch"];
  /**
   * Per chainId (decimal string): a viem client instead of one built from the chain's rpcUrl (the
   * in-process chains of tests and the devnet). The output rule reads token controllers and the
   * request's fee through these.
   */
  clients?: Record<string, PublicClient>;
  /** Tests only: answers `isController` instead of the chains. */
  controllers?: ControllerResolver;
  /** Tests only: answers the request's fee (the origin's `feeOf` at the request block) instead of the chain. */
  fees?: (work: WorkJob) => Promise<bigint>;
  /**
   * Called with every ResultJob once it is in the domain's results queue (an operator node
   * gossips it to the other operators' collectors). A failure is logged, never fails the job: the
   * result is already in this domain, and a node that misses it steals after the deadline.
   */
  onResult?: (result: ResultJob) => Promise<void>;
  /** Called with every backpressure report (an operator node signs and gossips it). */
  onReport?: (report: OperatorReport) => void;
};

export type WorkerHandle = {
  address: Address;
  config: WorkerConfig;
  worker: Worker<WorkJob>;
  registry: Registry;
  ops: OpsServer | undefined;
  store: ProgramStore;
  /** Writes the backpressure report now (also done on a timer). */
  report: () => Promise<OperatorReport>;
  /** Stops taking jobs, waits for the running ones, withdraws the report. Safe to call twice. */
  close: () => Promise<void>;
};

export type WorkOutcome = { status: 0 | 1; bodyHash: Hex; chains: string[] } | { skipped: "past_deadline" };

/** How long close() lets running jobs finish (then they go back to the queue for another operator). */
const CLOSE_JOBS_MS = 8_000;

export async function startWorker(config: WorkerConfig, options: WorkerOptions): Promise<WorkerHandle> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(options.privateKey ?? "")) {
    throw new InvalidInputError(
      `operator key (env ${config.operator.keyEnv})`,
      "a 0x-prefixed 32-byte hex private key",
    );
  }
  const account = privateKeyToAccount(options.privateKey);
  const address = account.address;
  if (config.operator.address && getAddress(config.operator.address) !== address) {
    throw new InvalidInputError("config operator.address", `the address of the key (${address})`);
  }
  const log = (options.logger ?? createLogger("worker", config.operations.logLevel)).child({
    module: "worker",
    operator: address,
  });
  const registry = options.registry ?? createRegistry("worker");
  const metrics = workerMetrics(registry);
  // The ops server first: a port that is taken or invalid fails the start before anything runs.
  let health = (): Health => ({ ok: false, details: { operator: address, starting: true } });
  const ops =
    (options.opsServer ?? true)
      ? await startOpsServer({ port: config.operations.httpPort, registry, health: () => health() })
      : undefined;
  try {
    return await startParts(ops);
  } catch (error) {
    await ops?.close();
    throw error;
  }

  async function startParts(ops: OpsServer | undefined): Promise<WorkerHandle> {
    const ingestors = new Map(config.chains.map((c) => [BigInt(c.chainId), getAddress(c.ingestor)]));
    // The output rule (SPEC 3.4) reads each chain: a token's controllers, the request's fee.
    const clients = new Map<bigint, PublicClient>();
    // An RPC that is down is logged once per outage and shown in /healthz, not only per job.
    const rpc = new RpcMonitors(config.chains, log, (id) => options.clients?.[String(id)] !== undefined);
    for (const chain of config.chains) {
      const given = options.clients?.[String(chain.chainId)];
      if (given) clients.set(BigInt(chain.chainId), given);
      else if (chain.rpcUrl)
        clients.set(
          BigInt(chain.chainId),
          createPublicClient({ transport: monitoredTransport(http(chain.rpcUrl), rpc.get(chain.chainId)!) }),
        );
    }
    const controllers = options.controllers ?? chainControllerResolver((chainId) => clients.get(chainId));
    // The fee at the request's block is part of the program's context: without an RPC for the
    // origin it is unknown, and a guessed context would differ from the other nodes'. Abstain
    // (permanent for this operator: the scheduler gives the work to another one).
    const feeOf = async (work: WorkJob): Promise<bigint> => {
      if (options.fees) return options.fees(work);
      const origin = clients.get(BigInt(work.chainId));
      if (!origin)
        throw new NoChainClientError(BigInt(work.chainId), "the request's fee (part of the program context)");
      return requestFee(origin, getAddress(work.oracle), getAddress(work.token), BigInt(work.blockNumber));
    };
    // A request is not worth running once the chain's clock is past its deadline (it can only be
    // refunded). The chain's clock, not this machine's: they can differ by minutes.
    const clock = latestBlockClock((chainId) => clients.get(BigInt(chainId)));
    const pastDeadline = async (work: WorkJob): Promise<boolean> => {
      try {
        return isPastDeadline(work.deadline, await clock.nowSeconds(work.chainId));
      } catch (error) {
        // Unknown: run it. A late result costs this node a run; a skipped live one costs the requester.
        log.debug({ err: error, chainId: work.chainId }, "chain time unavailable; running the job");
        return false;
      }
    };
    const acceptedPrograms = config.accept.programs?.map((p) => p.toLowerCase()) ?? null;
    const store = new ProgramStore({
      dirs: config.programs.dirs,
      urls: config.programs.urls,
      httpTimeoutMs: config.programs.httpTimeoutMs,
      cacheSize: config.programs.cacheSize,
      ...(options.programNetwork && config.programs.network !== "off"
        ? { network: { first: config.programs.network === "first", fetch: options.programNetwork } }
        : {}),
    });
    const ownRuntime = options.runtime === undefined;
    const runtime =
      options.runtime ?? new NanoRuntime(config.runtimeThreads === undefined ? {} : { size: config.runtimeThreads });

    const redisHealth = new DependencyMonitor({ name: "redis", where: describeRedis(config.redis), log });
    const redis = connectRedis(config.redis);
    watchRedis(redis, redisHealth);
    const workQueueName = queueNames.work(address);
    const workQueue = new Queue<WorkJob>(workQueueName, { connection: redis, prefix: QUEUE_PREFIX });
    const results = new Queue<ResultJob>(queueNames.results, { connection: redis, prefix: QUEUE_PREFIX });

    const processJob = async (job: Job<WorkJob>): Promise<WorkOutcome> => {
      const work = job.data;
      if (work.operator.toLowerCase() !== address.toLowerCase()) {
        throw new UnrecoverableError(`work for ${work.operator} reached the queue of ${address}`);
      }
      if (acceptedPrograms && !acceptedPrograms.includes(work.programId.toLowerCase())) {
        metrics.jobs.inc({ outcome: "refused" });
        throw new UnrecoverableError(`program ${work.programId} is not in accept.programs`);
      }
      const stages = stageTimer();
      // The package and the fee are read while the deadline is checked (each is a disk or chain
      // read on the request's path); a skipped job drops them, a failed read fails below.
      const packageRead = store.get(work.programId);
      const feeRead = feeOf(work);
      for (const read of [packageRead, feeRead]) read.catch(() => {});
      if (await pastDeadline(work)) {
        metrics.jobs.inc({ outcome: "skipped" });
        return { skipped: "past_deadline" };
      }
      stages.mark("deadline");
      const timer = metrics.duration.startTimer();
      try {
        const pkg = await packageRead;
        stages.mark("program");
        const fee = await feeRead;
        stages.mark("fee");
        const executed = await executeWork({
          job: work,
          fee,
          pkg,
          runtime,
          account,
          ingestors,
          tamper: options.tamper,
          rule: { controllers },
        });
        stages.mark("execute");
        await results.add("result", executed.result, {
          jobId: jobIds.result(work.chainId, work.requestId, address),
          removeOnComplete: { age: 3_600, count: 10_000 },
          removeOnFail: { age: 86_400 },
        });
        const doneKey = redisKeys.done(work.chainId, work.requestId);
        await redis
          .multi()
          .sadd(doneKey, address.toLowerCase())
          .pexpireat(doneKey, Number(work.deadline) * 1000 + 3_600_000)
          .exec();
        stages.mark("queue");
        if (options.onResult)
          await options
            .onResult(executed.result)
            .catch((error: unknown) =>
              log.warn({ err: error, requestId: work.requestId }, "could not publish the result to the network"),
            );
        stages.mark("publish");
        const status = executed.body.status;
        metrics.jobs.inc({ outcome: status === 0 ? "ok" : "program_error" });
        log.debug(
          {
            requestId: work.requestId,
            chainId: work.chainId,
            status,
            outcome: executed.outcome.outcome,
            sinceQueuedMs: Date.now() - job.timestamp,
            ms: stages.ms,
          },
          "result pushed",
        );
        return { status, bodyHash: executed.bodyHash, chains: executed.result.chains.map((c) => c.chainId) };
      } catch (error) {
        if (error instanceof RunAbandonedError) {
          metrics.jobs.inc({ outcome: "abstained" });
          log.warn({ requestId: work.requestId, err: error.shortMessage }, "run abandoned; abstaining");
          throw error;
        }
        if (error instanceof BaseError && error.permanent) {
          metrics.jobs.inc({ outcome: "failed" });
          log.error({ requestId: work.requestId, err: error.message }, "permanent failure");
          throw new UnrecoverableError(error.message);
        }
        metrics.jobs.inc({ outcome: "retry" });
        throw error;
      } finally {
        timer();
      }
    };

    const worker = new Worker<WorkJob, WorkOutcome>(workQueueName, processJob, {
      connection: redis,
      prefix: QUEUE_PREFIX,
      concurrency: config.concurrency,
      autorun: true,
    });
    worker.on("error", (err) => {
      // BullMQ's own connections repeat Redis's errors: counted, not logged again.
      if (isConnectionError(err)) redisHealth.down(err);
      else log.warn({ err: err.message }, "worker error");
    });
    worker.on("failed", (job, err) =>
      log.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, "work job failed"),
    );

    let lastReportAt = 0;
    const report = async (): Promise<OperatorReport> => {
      const counts = await workQueue.getJobCounts("waiting", "active", "delayed", "prioritized", "paused");
      const depth = Object.values(counts).reduce((a, b) => a + b, 0);
      const current: OperatorReport = {
        depth,
        capacity: config.capacity,
        kinds: [...config.accept.kinds],
        programs: acceptedPrograms,
        updatedAt: Date.now(),
      };
      await redis.hset(redisKeys.operators, address.toLowerCase(), JSON.stringify(current));
      metrics.depth.set(depth);
      lastReportAt = current.updatedAt;
      options.onReport?.(current);
      return current;
    };
    let closed = false;
    const reportFailed = (error: unknown) => {
      if (isConnectionError(error)) redisHealth.down(error);
      else log.warn({ err: String(error) }, "report failed");
    };
    // The first report is waited for briefly only: with Redis down the worker still starts (and
    // says so in its logs and /healthz); the timer reports once Redis is back.
    await settleWithin(report().catch(reportFailed), 2_000);
    const reportTimer = setInterval(() => {
      if (!closed) report().catch(reportFailed);
    }, config.reportIntervalMs);

    health = () => {
      const fresh = Date.now() - lastReportAt <= Math.max(10_000, 5 * config.reportIntervalMs);
      const ok = !closed && worker.isRunning() && redis.status === "ready" && fresh && rpc.allUp;
      return {
        ok,
        details: {
          operator: address,
          redis: redis.status,
          dependencies: { redis: redisHealth.health(), ...rpc.health() },
          running: worker.isRunning(),
          lastReportAt,
        },
      };
    };
    log.info(
      {
        queue: workQueueName,
        chains: [...ingestors.keys()].map(String),
        concurrency: config.concurrency,
        metrics: ops?.url,
      },
      "worker started",
    );

    // Every step runs even when one fails (protocol/closer.ts), bounded: with Redis unreachable
    // nothing that talks to it would ever return. The last added stops first.
    const down = () => redisHealth.isDown || redis.status !== "ready";
    const closer = new Closer(log);
    closer.add("redis", () => closeRedis(redis));
    if (ops) closer.add("ops server", () => ops.close());
    if (ownRuntime) closer.add("runtime", () => runtime.close());
    closer.add(
      "queues",
      () => Promise.allSettled([workQueue.close(), results.close()]),
      () => (down() ? 200 : 2_000),
    );
    closer.add(
      "report",
      () => redis.hdel(redisKeys.operators, address.toLowerCase()),
      () => (down() ? 200 : 2_000),
    );
    closer.add(
      "jobs in hand",
      async () => {
        if (
          (await settleWithin(
            worker.close().then(() => true),
            down() ? 500 : CLOSE_JOBS_MS,
          )) === undefined
        ) {
          log.warn("running jobs did not finish in time: they go back to the queue");
          void worker.close(true).catch(() => {});
        }
      },
      CLOSE_JOBS_MS + 1_000,
    );
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        closed = true;
        clearInterval(reportTimer);
        await closer.close();
        log.info("worker stopped");
      })());

    return { address, config, worker, registry, ops, store, report, close };
  }
}

function workerMetrics(registry: Registry) {
  return {
    jobs: new Counter({
      name: "versatus_worker_jobs_total",
      help: "Work jobs by outcome (ok, program_error, abstained, failed, retry, refused, skipped)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "versatus_worker_job_seconds",
      help: "Fetch + run + sign + push time of one work job",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    depth: new Gauge({
      name: "versatus_worker_queue_depth",
      help: "Jobs waiting or running in this operator's work queue (as last reported)",
      registers: [registry],
    }),
  };
}

export { loadWorkerConfig, workerConfigSchema, type WorkerConfig } from "./config.ts";
