import { DelayedError, Queue, Worker, type Job } from "bullmq";
import { connectRedis } from "../protocol/redis.ts";
import { randomUUID } from "node:crypto";
import type { Address, Hex } from "viem";
import { createDaClient, type DaClient } from "../da/index.ts";
import type { PostJob, ResultJob } from "../protocol/jobs.ts";
import { closeRedis, isConnectionError, settleWithin, type DependencyMonitor, type Logger } from "../protocol/ops.ts";
import { EVIDENCE_STREAM, EVIDENCE_STREAM_MAXLEN, evidenceToJson } from "../protocol/evidence.ts";
import { jobIds, QUEUE_PREFIX, queueNames } from "../protocol/queues.ts";
import { sortSignatures, type OperatorSignature, type RecordAttribution } from "../protocol/record.ts";
import {
  createChainClients,
  OperatorSets,
  settlementState,
  type ChainClients,
  type TransportOverrides,
} from "./chains.ts";
import { postingSigners } from "../protocol/scheduling.ts";
import type { IngestorConfig } from "./config.ts";
import { collectorKeys } from "./keys.ts";
import { createIngestorMetrics, type IngestorMetrics } from "./metrics.ts";
import { chainControllerResolver, readRequestRecord, type RequestRecord } from "../protocol/ruleContext.ts";
import { checkVerifiedOutputRule, verifyResultJob, type VerifiedResult } from "./verify.ts";
import { stageTimer, type StageTimer } from "../protocol/stageTimer.ts";

export type CollectorOutcome =
  | { outcome: "rejected"; reason: string }
  | { outcome: "late" }
  | { outcome: "pending"; signatures: number }
  | { outcome: "settled" }
  | { outcome: "posted"; daPointer: Hex; chains: string[] };

export type StartCollectorParameters = {
  config: IngestorConfig;
  logger: Logger;
  metrics?: IngestorMetrics;
  /** Per chainId (decimal string): a viem transport instead of the configured RPC URL. */
  transports?: TransportOverrides;
  /** A DA client to use instead of one built from `config.da` (the caller then closes it). */
  da?: DaClient;
  /** Told when Redis is unreachable or back (one log line, /healthz); else its errors are logged. */
  redisHealth?: DependencyMonitor;
  /** Delay of this collector's post job per target chain (the node's poster rotation); default 0. */
  postDelayMs?: (args: { target: string; originChainId: string; requestId: Hex }) => number;
  /**
   * Who did the work (protocol/scheduling.ts attributeWork), written to the record's unsigned
   * envelope; an operator node knows the quorum and the share offers. Absent: no attributions.
   */
  attribute?: (args: { originChainId: string; requestId: Hex; signers: Address[] }) => RecordAttribution[];
};

export type CollectorHandle = {
  readonly worker: Worker<ResultJob, CollectorOutcome>;
  /**
   * Reads a request's origin record (event and fee) ahead of its results, so the first result's
   * output-rule check finds it cached instead of waiting for three chain reads. Never throws.
   */
  prefetchRequest(originChainId: bigint, requestId: Hex, blockNumber?: bigint): void;
  /** Stops taking results, lets the ones in hand finish, closes connections. Safe to call twice. */
  close(): Promise<void>;
};

/** How long a quorum being finalised by another collector is waited for before this job looks again. */
const LOCK_MS = 30_000;
const LOCK_RETRY_MS = 250;
const TRANSIENT_RETRIES = 20;
/** How long close() waits for the results in hand. */
const COLLECTOR_CLOSE_MS = 8_000;

/**
 * The collector (SPEC 6): takes every worker's signed result from the results queue, keeps the
 * valid signatures per (originChainId, requestId, bodyHash) in Redis, and once `threshold`
 * matching signatures exist for every chain of the result, writes the execution record to DA and
 * queues one PostJob per target chain with a deterministic job id.
 *
 * @example
 * const collector = await startCollector({ config, logger });
 * // ... workers push ResultJobs to queueNames.results
 * await collector.close();
 */
export async function startCollector(parameters: StartCollectorParameters): Promise<CollectorHandle> {
  const { config } = parameters;
  const logger = parameters.logger.child({ module: "collector" });
  const metrics = parameters.metrics ?? createIngestorMetrics();
  const chains = new Map<string, ChainClients>(
    config.chains.map((c) => [String(c.chainId), createChainClients(c, parameters.transports)]),
  );
  const operatorSets = new OperatorSets({
    refreshMs: config.collector.operatorSetRefreshMs,
    fixed:
      config.collector.operators && config.collector.threshold
        ? { operators: config.collector.operators, threshold: config.collector.threshold }
        : undefined,
  });
  const ownsDa = parameters.da === undefined;
  const da = parameters.da ?? createDaClient(config.da, { logger: logger.child({ module: "da" }) });
  const redis = connectRedis(config.redis);
  const redisDown = (error: unknown) =>
    parameters.redisHealth ? parameters.redisHealth.down(error) : logger.warn({ err: error }, "redis error");
  redis.on("error", redisDown);
  const postQueues = new Map<string, Queue<PostJob>>();
  const postQueue = (chainId: string) => {
    let queue = postQueues.get(chainId);
    if (!queue) {
      queue = new Queue<PostJob>(queueNames.post(BigInt(chainId)), { connection: redis, prefix: QUEUE_PREFIX });
      postQueues.set(chainId, queue);
    }
    return queue;
  };
  const ttl = config.collector.pendingTtlSeconds;
  // The output rule's chain reads (SPEC 3.4): token controllers and the origin's request record.
  const controllers = chainControllerResolver((chainId) => chains.get(String(chainId))?.publicClient);
  const requestRecords = new Map<string, RequestRecord>();
  // One chain read per request, shared by a prefetch and the results that arrive while it runs.
  const recordReads = new Map<string, Promise<RequestRecord>>();
  function requestRecord(originChainId: bigint, requestId: Hex, likelyBlock?: bigint): Promise<RequestRecord> {
    const key = `${originChainId}:${requestId.toLowerCase()}`;
    const cached = requestRecords.get(key);
    if (cached) return Promise.resolve(cached);
    const reading = recordReads.get(key);
    if (reading) return reading;
    const origin = chains.get(String(originChainId));
    if (!origin) return Promise.reject(new Error(`origin chain ${originChainId} is not configured`));
    const read = (async () => {
      const record = await readRequestRecord(
        origin.publicClient,
        origin.oracle,
        requestId,
        BigInt(origin.config.startBlock),
        likelyBlock,
      );
      // The workers saw it after the relayer's confirmations: an RPC behind them is retried.
      if (!record) throw new Error(`request ${requestId} not found on chain ${originChainId} (yet)`);
      requestRecords.set(key, record);
      if (requestRecords.size > 10_000) requestRecords.delete(requestRecords.keys().next().value!);
      return record;
    })().finally(() => recordReads.delete(key));
    recordReads.set(key, read);
    return read;
  }

  async function finalize(
    verified: VerifiedResult,
    job: ResultJob,
    /** Per-stage times, and when the result's job was queued, for the log line. */
    timing: { stages: StageTimer; queuedAt: number },
  ): Promise<CollectorOutcome | "locked"> {
    const { originChainId, requestId, bodyHash } = verified;
    const origin = String(originChainId);
    const lockKey = collectorKeys.lock(origin, requestId);
    const token = randomUUID();
    const locked = await redis.set(lockKey, token, "PX", LOCK_MS, "NX");
    if (locked !== "OK") return "locked";
    try {
      if (await redis.exists(collectorKeys.done(origin, requestId))) return { outcome: "late" };
      const fields = await redis.hgetall(collectorKeys.quorum(origin, requestId));
      // Settlement: the origin decides. Refunded, expired or unknown there → nothing may be posted
      // anywhere (a MINT elsewhere would create tokens whose burn never happened).
      timing.stages.mark("lock");
      const originState = await settlementState(chains.get(origin)!, originChainId, requestId);
      const targets: string[] = [];
      if (originState === "open") targets.push(origin);
      if (originState === "open" || originState === "ingested") {
        for (const c of verified.chains) {
          if (c.chainId === originChainId) continue;
          const state = await settlementState(chains.get(String(c.chainId))!, originChainId, requestId);
          if (state === "open") targets.push(String(c.chainId));
        }
      }
      if (targets.length === 0) {
        await redis
          .multi()
          .set(collectorKeys.done(origin, requestId), bodyHash, "EX", ttl)
          .del(collectorKeys.quorum(origin, requestId))
          .exec();
        logger.info({ requestId, originChainId: origin, originState }, "request already settled: results dropped");
        return { outcome: "settled" };
      }
      timing.stages.mark("settlement");
      const signatures: OperatorSignature[] = [];
      for (const [field, value] of Object.entries(fields)) {
        const [kind, hash, chainId, operator] = field.split(":");
        if (kind !== "sig" || hash !== bodyHash) continue;
        signatures.push({ chainId: BigInt(chainId!), signer: operator as Hex, signature: value as Hex });
      }
      const sorted = sortSignatures(signatures);
      const started = performance.now();
      const signers = [...new Map(sorted.map((s) => [s.signer.toLowerCase(), s.signer])).values()];
      let attributions: RecordAttribution[] = [];
      try {
        attributions = parameters.attribute?.({ originChainId: origin, requestId, signers }) ?? [];
      } catch (err) {
        logger.warn({ err, requestId }, "could not attribute the work; the record carries no attributions");
      }
      timing.stages.mark("attribution");
      const put = await da.put({
        body: verified.body,
        signatures: sorted,
        ...(attributions.length > 0 ? { attributions } : {}),
      });
      metrics.daPutLatency.observe((performance.now() - started) / 1000);
      timing.stages.mark("da");
      const firstSeen = Number(fields[`first:${bodyHash}`] ?? Date.now());
      for (const target of targets) {
        const chain = verified.chains.find((c) => String(c.chainId) === target)!;
        const postJob: PostJob = {
          chainId: target,
          originChainId: origin,
          requestId,
          result: {
            requestId: chain.result.requestId,
            originChainId: origin,
            programId: chain.result.programId,
            inputHash: chain.result.inputHash,
            status: chain.result.status,
            instructionsHash: chain.result.instructionsHash,
            bodyHash: chain.result.bodyHash,
          },
          instructions: chain.instructions.map((ix) => ({ ...ix, amount: ix.amount.toString() })),
          signatures: postedSignatures(
            sorted.filter((s) => s.chainId === chain.chainId),
            attributions,
            (await operatorSets.get(chains.get(target)!)).threshold,
          ).map((s) => s.signature),
          daPointer: put.pointerHex,
        };
        const delay = parameters.postDelayMs?.({ target, originChainId: origin, requestId }) ?? 0;
        await postQueue(target).add("post", postJob, {
          jobId: jobIds.post(BigInt(target), BigInt(origin), requestId),
          ...(delay > 0 ? { delay } : {}),
          attempts: config.poster.attempts,
          backoff: { type: "exponential", delay: config.poster.retryDelayMs },
          removeOnComplete: { age: 3600, count: 100_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        });
      }
      await redis
        .multi()
        .set(collectorKeys.done(origin, requestId), bodyHash, "EX", ttl)
        .del(collectorKeys.quorum(origin, requestId))
        .exec();
      timing.stages.mark("post");
      metrics.quorumsReached.inc();
      metrics.quorumLatency.observe(Math.max(0, Date.now() - firstSeen) / 1000);
      logger.info(
        {
          requestId,
          originChainId: origin,
          bodyHash,
          status: job.outcome.status,
          targets,
          daPointer: put.pointerHex,
          signatures: sorted.length,
          sinceQueuedMs: Date.now() - timing.queuedAt,
          ms: timing.stages.ms,
        },
        "quorum reached: record in DA, posts queued",
      );
      return { outcome: "posted", daPointer: put.pointerHex, chains: targets };
    } finally {
      // release only our own lock
      await redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        1,
        lockKey,
        token,
      );
    }
  }

  async function process(job: Job<ResultJob, CollectorOutcome>, token?: string): Promise<CollectorOutcome> {
    const data = job.data;
    const stages = stageTimer();
    // A request whose quorum is already done needs no signature check (ecrecover is the
    // collector's main CPU cost): the late result is acknowledged at once.
    if (
      typeof data?.originChainId === "string" &&
      typeof data.requestId === "string" &&
      (await redis.exists(collectorKeys.done(data.originChainId, data.requestId)))
    ) {
      metrics.resultsReceived.inc({ outcome: "late" });
      return { outcome: "late" };
    }
    let verified = await verifyResultJob(data, chains, (chain) => operatorSets.get(chain));
    stages.mark("verify");
    if (verified.ok) {
      const ok = verified;
      const record = await requestRecord(ok.originChainId, ok.requestId, ok.body.blockNumber);
      stages.mark("record");
      verified = (await checkVerifiedOutputRule(ok, record, controllers)) ?? ok;
      stages.mark("outputRule");
    }
    if (!verified.ok) {
      metrics.resultsReceived.inc({ outcome: `rejected_${verified.reason}` });
      logger.warn(
        {
          jobId: job.id,
          operator: data?.operator,
          requestId: data?.requestId,
          reason: verified.reason,
          detail: verified.detail,
        },
        "result ignored",
      );
      return { outcome: "rejected", reason: verified.reason };
    }
    const origin = String(verified.originChainId);
    const { requestId, bodyHash } = verified;
    if (await redis.exists(collectorKeys.done(origin, requestId))) {
      metrics.resultsReceived.inc({ outcome: "late" });
      return { outcome: "late" };
    }
    const key = collectorKeys.quorum(origin, requestId);
    const write = redis.multi().hsetnx(key, `first:${bodyHash}`, String(Date.now()));
    for (const c of verified.chains) {
      write.hset(key, `sig:${bodyHash}:${c.chainId}:${verified.operator}`, c.signature);
      // the signed Result per (bodyHash, chain), kept so a conflicting signature can be proven
      write.hsetnx(key, `res:${bodyHash}:${c.chainId}`, JSON.stringify({ ...c.result, originChainId: origin }));
    }
    await write.expire(key, config.collector.pendingTtlSeconds).exec();
    const fields = await redis.hgetall(key);
    await reportEquivocation(verified, fields).catch((err: unknown) =>
      logger.warn({ err, requestId, operator: verified.operator }, "could not record equivocation evidence"),
    );
    let reached = true;
    let count = 0;
    for (const c of verified.chains) {
      const prefix = `sig:${bodyHash}:${c.chainId}:`;
      const n = Object.keys(fields).filter((f) => f.startsWith(prefix)).length;
      count = Math.max(count, n);
      const { threshold } = await operatorSets.get(chains.get(String(c.chainId))!);
      if (n < threshold) reached = false;
    }
    if (!reached) {
      metrics.resultsReceived.inc({ outcome: "pending" });
      return { outcome: "pending", signatures: count };
    }
    // Every job with this bodyHash carries the same body, so this one's is as good as any.
    stages.mark("quorum");
    const outcome = await finalize(verified, data, { stages, queuedAt: job.timestamp });
    if (outcome === "locked") {
      // Another collector is finalising this quorum: look again shortly (does not use an attempt).
      if (token) {
        await job.moveToDelayed(Date.now() + LOCK_RETRY_MS, token);
        throw new DelayedError();
      }
      return { outcome: "pending", signatures: count };
    }
    metrics.resultsReceived.inc({ outcome: outcome.outcome });
    return outcome;
  }

  /**
   * Equivocation (SPEC 3.5): this operator signed another body for the same request and chain
   * before. Both signatures go to the evidence stream the watchers read (once per pair).
   */
  async function reportEquivocation(verified: VerifiedResult, fields: Record<string, string>): Promise<void> {
    const { bodyHash, operator } = verified;
    const key = collectorKeys.quorum(String(verified.originChainId), verified.requestId);
    for (const c of verified.chains) {
      const suffix = `:${c.chainId}:${operator.toLowerCase()}`;
      for (const [field, signature] of Object.entries(fields)) {
        if (!field.startsWith("sig:") || !field.toLowerCase().endsWith(suffix)) continue;
        const otherHash = field.split(":")[1]!;
        if (otherHash === bodyHash) continue;
        const other = fields[`res:${otherHash}:${c.chainId}`];
        if (!other) continue;
        // one marker per unordered pair: two jobs processed at once each see the other's signature
        const pair = otherHash < bodyHash ? `${otherHash}:${bodyHash}` : `${bodyHash}:${otherHash}`;
        if ((await redis.hsetnx(key, `ev:${pair}${suffix}`, "1")) === 0) continue;
        const ingestor = chains.get(String(c.chainId))!.config.ingestor as Hex;
        const otherResult = JSON.parse(other) as { originChainId: string };
        const entries = [
          { result: { ...otherResult, originChainId: BigInt(otherResult.originChainId) }, signature },
          { result: c.result, signature: c.signature },
        ];
        for (const entry of entries) {
          const data = evidenceToJson({
            result: entry.result as VerifiedResult["chains"][number]["result"],
            signature: entry.signature as Hex,
            signer: operator,
            ingestorChainId: c.chainId,
            ingestor,
          });
          await redis.xadd(EVIDENCE_STREAM, "MAXLEN", "~", EVIDENCE_STREAM_MAXLEN, "*", "data", JSON.stringify(data));
        }
        metrics.resultsReceived.inc({ outcome: "equivocation" });
        logger.warn(
          { requestId: verified.requestId, operator, chainId: String(c.chainId), bodies: [otherHash, bodyHash] },
          "operator signed two different results for one request: evidence recorded",
        );
      }
    }
  }

  /**
   * Workers add result jobs without BullMQ attempts, so transient failures (RPC or DA down) are
   * retried here: the job goes back as delayed with exponential backoff (250 ms … 30 s) up to
   * TRANSIENT_RETRIES times, counted in Redis by job id.
   */
  async function processWithRetry(job: Job<ResultJob, CollectorOutcome>, token?: string): Promise<CollectorOutcome> {
    try {
      return await process(job, token);
    } catch (error) {
      if (error instanceof DelayedError || !token || job.id === undefined) throw error;
      const key = collectorKeys.retries(job.id);
      const [[, count]] = (await redis
        .multi()
        .incr(key)
        .expire(key, 24 * 3600)
        .exec()) as [[null, number]];
      if (count > TRANSIENT_RETRIES) throw error;
      const wait = Math.min(30_000, 250 * 2 ** (count - 1));
      logger.warn(
        {
          jobId: job.id,
          retry: count,
          inMs: wait,
          err: error instanceof Error ? error.message.split("\n")[0] : String(error),
        },
        "result processing failed: retrying",
      );
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError();
    }
  }

  const worker = new Worker<ResultJob, CollectorOutcome>(queueNames.results, processWithRetry, {
    connection: redis,
    prefix: QUEUE_PREFIX,
    concurrency: config.collector.concurrency,
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  worker.on("failed", (job, error) => logger.error({ jobId: job?.id, err: error }, "result job failed"));
  worker.on("error", (error) => {
    if (isConnectionError(error)) redisDown(error);
    else logger.error({ err: error }, "collector worker error");
  });
  await worker.waitUntilReady();
  logger.info({ chains: [...chains.keys()], concurrency: config.collector.concurrency }, "collector started");

  let closing: Promise<void> | undefined;
  return {
    worker,
    prefetchRequest(originChainId, requestId, blockNumber) {
      if (!chains.has(String(originChainId))) return;
      requestRecord(originChainId, requestId, blockNumber).catch((err: unknown) =>
        logger.debug({ err, requestId }, "request record prefetch failed; read again with its first result"),
      );
    },
    close() {
      closing ??= (async () => {
        // Bounded: with Redis unreachable the results in hand go back to the queue.
        const grace = redis.status === "ready" ? COLLECTOR_CLOSE_MS : 500;
        const done = await settleWithin(
          worker.close().then(
            () => true,
            (err: unknown) => void logger.warn({ err }, "closing the collector worker"),
          ),
          grace,
        );
        if (done === undefined) void worker.close(true).catch(() => {});
        await settleWithin(Promise.allSettled([...postQueues.values()].map((q) => q.close())), 1_000);
        if (ownsDa)
          await settleWithin(
            da.close().catch(() => {}),
            2_000,
          );
        await closeRedis(redis);
        logger.info("collector stopped");
      })();
      return closing;
    },
  };
}

/**
 * The signatures posted on one chain: when more than `threshold` matched, the first `threshold`
 * by the protocol's posting preference (protocol/scheduling.ts `postingSigners`: quorum members,
 * shared-in workers, stealers, then extra signers), so the fee, split among the posted signers,
 * goes to who was due to do the work and an extra signer earns nothing unless it was needed. The
 * record in DA keeps every signature. Returned in the ingestor's order (ascending signer).
 */
export function postedSignatures(
  signatures: readonly OperatorSignature[],
  attributions: readonly RecordAttribution[],
  threshold: number,
): OperatorSignature[] {
  if (signatures.length <= threshold || threshold <= 0) return [...signatures];
  const preference = postingSigners(attributions).map((a) => a.toLowerCase());
  const rank = (signer: string) => {
    const i = preference.indexOf(signer.toLowerCase());
    return i === -1 ? preference.length : i;
  };
  const chosen = signatures
    .map((s, i) => ({ s, i }))
    .sort((x, y) => rank(x.s.signer) - rank(y.s.signer) || x.i - y.i)
    .slice(0, threshold)
    .map(({ s }) => s);
  return sortSignatures(chosen);
}
