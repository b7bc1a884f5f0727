import { Queue } from "bullmq";
import { connectRedis, type RedisClient } from "../protocol/redis.ts";
import { getAbiItem, getAddress, type Address, type Hex } from "viem";
import { executableOracleAbi, instructionIngestorAbi } from "../protocol/generated/abis.ts";
import type { PostJob, RequestJob } from "../protocol/jobs.ts";
import { closeRedis, isConnectionError, settleWithin, type DependencyMonitor, type Logger } from "../protocol/ops.ts";
import { QUEUE_PREFIX, STATE_PREFIX, jobIds, queueNames, redisKeys } from "../protocol/queues.ts";
import {
  createChainClients,
  RequestStatusCode,
  settlementState,
  type ChainClients,
  type TransportOverrides,
} from "./chains.ts";
import type { IngestorConfig } from "./config.ts";
import { collectorKeys } from "./keys.ts";
import { createIngestorMetrics, type IngestorMetrics } from "./metrics.ts";

/**
 * Hands requests back to the scheduler. Wire it to PART A's scheduler:
 * `onOrphanRequests: (jobs) => relayer.scheduler.schedule(jobs)` (it skips requests that already
 * have scheduling state, so a false positive costs nothing).
 */
export type OrphanHandler = (jobs: RequestJob[]) => Promise<unknown>;

export type ReconcileReport = {
  chainId: string;
  fromBlock: bigint;
  toBlock: bigint;
  /** ExecutionRequested events in the window. */
  scanned: number;
  /** Of those, with no state in Redis (no scheduling, no quorum, no post). */
  stateless: number;
  /** Of those, still Open and unexpired on chain: handed to the scheduler. */
  orphans: RequestJob[];
  /**
   * Requests whose result this domain posted (its collector's `done` key, a completed post job)
   * but which are Open again on chain: the ingestion was lost (a reorg dropped its block). Their
   * post jobs were run again.
   */
  reposted: Hex[];
  /**
   * Cross-chain results (another chain's requests, a MINT here) this domain posted to this chain
   * whose ingestion is not here although their origin ingested them (a reorg of this chain dropped
   * it, or the post job ran out of attempts): their post jobs were run again.
   */
  remoteReposted: { originChainId: string; requestId: Hex }[];
};

export const executionRequested = getAbiItem({ abi: executableOracleAbi, name: "ExecutionRequested" });
const resultIngested = getAbiItem({ abi: instructionIngestorAbi, name: "ResultIngested" });

/** A lost ingestion is posted again at most this often per request (a result the chain keeps skipping must not loop). */
export const MAX_REPOSTS = 3;
const repostsKey = (chainId: string, requestId: string) =>
  `${STATE_PREFIX}:reposts:${chainId}:${requestId.toLowerCase()}`;
const remoteRepostsKey = (targetChainId: string, originChainId: string, requestId: string) =>
  `${STATE_PREFIX}:reposts:${targetChainId}:${originChainId}:${requestId.toLowerCase()}`;

/**
 * Counts one more repost of a request (kept a day) and says whether it is still allowed; the first
 * refusal is logged as an error (a result the chain keeps dropping or refusing must not loop).
 */
async function mayRepost(redis: RedisClient, key: string, logger: Logger, context: object): Promise<boolean> {
  const count = await redis.incr(key);
  await redis.expire(key, 86_400);
  if (count <= MAX_REPOSTS) return true;
  if (count === MAX_REPOSTS + 1)
    logger.error(context, "a posted result is still not ingested after the last repost: left as it is");
  return false;
}

/**
 * One reconciliation pass over one chain (SPEC 6: the chain is the source of truth). Scans
 * `ExecutionRequested` in the last `lookbackBlocks` blocks; every request that has no state in
 * Redis (scheduler state, partial quorum, or a finished quorum whose posts are queued), is still
 * Open on chain, unexpired and older than `graceMs`, is rebuilt as a RequestJob and handed to
 * `onOrphanRequests`. With Redis wiped (FLUSHALL), this is how the open requests come back.
 */
export async function reconcileChain(parameters: {
  chain: ChainClients;
  redis: RedisClient;
  lookbackBlocks: number;
  logChunkBlocks: number;
  graceMs: number;
  /** How far back (by finish time) this chain's cross-chain post jobs are checked (see {@link repostLostRemoteIngestions}). */
  remoteHorizonMs: number;
  /** Every configured chain (the origins of cross-chain results posted here); without it none are checked. */
  chains?: readonly ChainClients[];
  onOrphanRequests: OrphanHandler;
  logger: Logger;
}): Promise<ReconcileReport> {
  const { chain, redis } = parameters;
  const client = chain.publicClient;
  const head = await client.getBlock({ blockTag: "latest" });
  const toBlock = head.number;
  const fromBlock = toBlock > BigInt(parameters.lookbackBlocks) ? toBlock - BigInt(parameters.lookbackBlocks) : 0n;
  const chainId = String(chain.chainId);
  const logs = [];
  for (const [start, end] of blockChunks(fromBlock, toBlock, parameters.logChunkBlocks))
    logs.push(
      ...(await client.getLogs({ address: chain.oracle, event: executionRequested, fromBlock: start, toBlock: end })),
    );
  const report: ReconcileReport = {
    chainId,
    fromBlock,
    toBlock,
    scanned: logs.length,
    stateless: 0,
    orphans: [],
    reposted: [],
    remoteReposted: [],
  };
  if (parameters.chains && parameters.chains.length > 1)
    report.remoteReposted = await repostLostRemoteIngestions({
      chain,
      chains: parameters.chains,
      redis,
      fromBlock,
      toBlock,
      logChunkBlocks: parameters.logChunkBlocks,
      horizonMs: parameters.remoteHorizonMs,
      graceMs: parameters.graceMs,
      logger: parameters.logger,
    });
  if (logs.length === 0) return report;
  // Redis first (cheap): anything some service is already handling is skipped.
  const pipeline = redis.pipeline();
  for (const log of logs) {
    const id = log.args.requestId!;
    pipeline.exists(redisKeys.request(chainId, id), collectorKeys.quorum(chainId, id));
    pipeline.exists(collectorKeys.done(chainId, id));
  }
  const exists = (await pipeline.exec()) ?? [];
  // a failed EXISTS counts as state: nothing is handed over on a guess
  const inWork = (i: number) => exists[2 * i]?.[1] !== 0;
  const posted = (i: number) => exists[2 * i + 1]?.[1] !== 0;
  const stateless = logs.filter((_, i) => !inWork(i) && !posted(i));
  report.stateless = stateless.length;
  const nowSeconds = head.timestamp;
  // posted, nothing in progress, and not past its deadline (the log says when: no chain read for the expired)
  const postedOnly = logs.filter(
    (log, i) => !inWork(i) && exists[2 * i + 1]?.[1] === 1 && log.args.deadline! >= nowSeconds,
  );
  if (postedOnly.length > 0) {
    report.reposted = await repostLostIngestions({
      chain,
      redis,
      requestIds: await notIngested(chain, postedOnly, fromBlock, toBlock, parameters.logChunkBlocks),
      nowSeconds,
      graceMs: parameters.graceMs,
      logger: parameters.logger,
    });
  }
  const blockTimes = new Map<bigint, bigint>();
  for (const log of stateless) {
    const requestId = log.args.requestId! as Hex;
    const escrow = await client.readContract({
      address: chain.oracle,
      abi: executableOracleAbi,
      functionName: "escrowOf",
      args: [requestId],
    });
    if (escrow.status !== RequestStatusCode.Open || nowSeconds > escrow.deadline) continue;
    let timestamp = blockTimes.get(log.blockNumber!);
    if (timestamp === undefined) {
      timestamp = (await client.getBlock({ blockNumber: log.blockNumber! })).timestamp;
      blockTimes.set(log.blockNumber!, timestamp);
    }
    if ((nowSeconds - timestamp) * 1000n < BigInt(parameters.graceMs)) continue;
    report.orphans.push(requestJobOfLog(chainId, chain.oracle, log, timestamp));
  }
  if (report.orphans.length > 0) {
    parameters.logger.warn(
      { chainId, orphans: report.orphans.length, requestIds: report.orphans.slice(0, 10).map((o) => o.requestId) },
      "open requests with no pending work: handing them back to the scheduler",
    );
    await parameters.onOrphanRequests(report.orphans);
  }
  return report;
}

/**
 * Of requests this domain posted, those with no `ResultIngested` for them on the chain's current
 * branch in `[fromBlock, toBlock]` (their ExecutionRequested lies in that window, so an ingestion
 * would too). One log scan, so the expensive reads below only touch the few that qualify.
 */
async function notIngested(
  chain: ChainClients,
  postedLogs: readonly { args: { requestId?: Hex } }[],
  fromBlock: bigint,
  toBlock: bigint,
  chunk: number,
): Promise<Hex[]> {
  const ingested = await ingestedRequestIds(chain, chain.chainId, fromBlock, toBlock, chunk);
  return postedLogs.map((l) => l.args.requestId!).filter((id) => !ingested.has(id.toLowerCase()));
}

/**
 * A posted request that is Open again on its chain (unexpired) lost its ingestion: the block that
 * held it was dropped in a reorg (SPEC 6: the chain is the source of truth). Every service has
 * moved on (the collector's `done` key drops late results, the scheduler dropped the request when
 * it closed), so nothing would post it again before its deadline. Its completed post job still
 * holds the quorum-signed result: it is run again (`retry("completed")`; the poster checks the
 * chain before sending, so a request ingested meanwhile is skipped), at most {@link MAX_REPOSTS}
 * times per request. A job completed less than `graceMs` ago is left alone (the chain read may be
 * behind the poster's receipt).
 */
export async function repostLostIngestions(parameters: {
  chain: ChainClients;
  redis: RedisClient;
  requestIds: readonly Hex[];
  nowSeconds: bigint;
  graceMs: number;
  logger: Logger;
}): Promise<Hex[]> {
  const { chain, redis, logger } = parameters;
  const chainId = String(chain.chainId);
  const reposted: Hex[] = [];
  if (parameters.requestIds.length === 0) return reposted;
  // the connection is the caller's: BullMQ does not close a connection it is given
  const queue = new Queue<PostJob>(queueNames.post(chainId), { connection: redis, prefix: QUEUE_PREFIX });
  try {
    for (const requestId of parameters.requestIds) {
      const escrow = await chain.publicClient.readContract({
        address: chain.oracle,
        abi: executableOracleAbi,
        functionName: "escrowOf",
        args: [requestId],
      });
      if (escrow.status !== RequestStatusCode.Open || parameters.nowSeconds > escrow.deadline) continue;
      const job = await queue.getJob(jobIds.post(chainId, chainId, requestId));
      if (!job?.finishedOn || Date.now() - job.finishedOn < parameters.graceMs) continue;
      if ((await job.getState()) !== "completed") continue;
      if (!(await mayRepost(redis, repostsKey(chainId, requestId), logger, { chainId, requestId }))) continue;
      await job.retry("completed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      reposted.push(requestId);
    }
  } finally {
    await queue.close();
  }
  if (reposted.length > 0)
    logger.warn(
      { chainId, reposted: reposted.length, requestIds: reposted.slice(0, 10) },
      "posted results no longer on chain (a reorg dropped them): posting them again",
    );
  return reposted;
}

/**
 * A cross-chain result (a MINT on `chain` for a request of another chain) is owed once its origin
 * ingested the request: the origin has burned or escrowed what the MINT pays out. The origin's own
 * reconciliation cannot see a MINT that went missing here, so `chain` checks its own post queue:
 * every cross-chain post job that finished (completed or failed) within `horizonMs` and is older
 * than `graceMs`, whose result is not ingested here while its origin ingested it, is run again
 * (the poster checks both chains before sending, and the ingestor refuses a second ingestion), at
 * most {@link MAX_REPOSTS} times per result. Two ways to get there: a reorg of `chain` dropped the
 * ingestion after the job completed, or the job used up its attempts during a long outage.
 * Cost per pass: two ZRANGEBYSCOREs, one log scan of `[fromBlock, toBlock]` per origin chain that
 * has candidates, and chain reads only for the candidates that scan does not find.
 */
export async function repostLostRemoteIngestions(parameters: {
  chain: ChainClients;
  chains: readonly ChainClients[];
  redis: RedisClient;
  fromBlock: bigint;
  toBlock: bigint;
  logChunkBlocks: number;
  horizonMs: number;
  graceMs: number;
  logger: Logger;
}): Promise<{ originChainId: string; requestId: Hex }[]> {
  const { chain, redis, logger } = parameters;
  const target = String(chain.chainId);
  const reposted: { originChainId: string; requestId: Hex }[] = [];
  const queue = new Queue<PostJob>(queueNames.post(target), { connection: redis, prefix: QUEUE_PREFIX });
  try {
    const now = Date.now();
    const since = now - parameters.horizonMs;
    const until = now - parameters.graceMs;
    // ids are `target:origin:requestId` (jobIds.post): the cross-chain ones are picked without loading jobs
    const candidates = new Map<string, Set<string>>(); // origin → request ids
    for (const state of ["completed", "failed"] as const) {
      const ids = await redis.zrangebyscore(queue.toKey(state), since, until);
      for (const id of ids) {
        const [jobTarget, origin, requestId] = id.split(":");
        if (jobTarget !== target || !origin || origin === target || !requestId) continue;
        let set = candidates.get(origin);
        if (!set) candidates.set(origin, (set = new Set()));
        set.add(requestId);
      }
    }
    for (const [origin, requestIds] of candidates) {
      const originChain = parameters.chains.find((c) => String(c.chainId) === origin);
      if (!originChain) continue; // the poster fails such a job permanently and says why
      const ingestedHere = await ingestedRequestIds(
        chain,
        BigInt(origin),
        parameters.fromBlock,
        parameters.toBlock,
        parameters.logChunkBlocks,
      );
      for (const requestId of requestIds) {
        if (ingestedHere.has(requestId)) continue;
        const id = requestId as Hex;
        // exact reads: an ingestion older than the scanned blocks, and what the origin says
        if ((await settlementState(chain, BigInt(origin), id)) !== "open") continue;
        if ((await settlementState(originChain, BigInt(origin), id)) !== "ingested") continue;
        const job = await queue.getJob(jobIds.post(target, origin, id));
        const state = await job?.getState();
        if (!job || (state !== "completed" && state !== "failed")) continue;
        const context = { chainId: target, originChainId: origin, requestId: id };
        if (!(await mayRepost(redis, remoteRepostsKey(target, origin, id), logger, context))) continue;
        await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
        reposted.push({ originChainId: origin, requestId: id });
      }
    }
  } finally {
    await queue.close();
  }
  if (reposted.length > 0)
    logger.warn(
      { chainId: target, reposted: reposted.length, results: reposted.slice(0, 10) },
      "cross-chain results ingested at their origin but not here (a reorg dropped them, or their post gave up): posting them again",
    );
  return reposted;
}

/** `[from, to]` cut into inclusive ranges of at most `chunk` blocks (one eth_getLogs each). */
function* blockChunks(from: bigint, to: bigint, chunk: number): Generator<[bigint, bigint]> {
  for (let start = from; start <= to; start += BigInt(chunk)) {
    const end = start + BigInt(chunk) - 1n;
    yield [start, end < to ? end : to];
  }
}

/** Lower-case ids of the requests of `originChainId` with a `ResultIngested` on `chain` in `[from, to]`. */
async function ingestedRequestIds(
  chain: ChainClients,
  originChainId: bigint,
  from: bigint,
  to: bigint,
  chunk: number,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const [start, end] of blockChunks(from, to, chunk)) {
    const found = await chain.publicClient.getLogs({
      address: chain.ingestor,
      event: resultIngested,
      args: { originChainId },
      fromBlock: start,
      toBlock: end,
    });
    for (const log of found) ids.add(log.args.requestId!.toLowerCase());
  }
  return ids;
}

/** A RequestJob rebuilt from an `ExecutionRequested` log and its block's timestamp. */
export function requestJobOfLog(
  chainId: string,
  oracle: Address,
  log: {
    args: {
      requestId?: Hex;
      programId?: Hex;
      requester?: Address;
      token?: Address;
      amount?: bigint;
      deadline?: bigint;
      input?: Hex;
    };
    blockNumber: bigint | null;
    transactionHash: Hex | null;
    logIndex: number | null;
  },
  timestamp: bigint,
): RequestJob {
  return {
    chainId,
    oracle: getAddress(oracle),
    requestId: log.args.requestId!,
    programId: log.args.programId!,
    requester: log.args.requester!,
    token: log.args.token!,
    amount: String(log.args.amount!),
    deadline: String(log.args.deadline!),
    input: log.args.input!,
    blockNumber: String(log.blockNumber),
    blockTimestamp: String(timestamp),
    transactionHash: log.transactionHash!,
    logIndex: log.logIndex!,
  };
}

/** One reconciliation pass over several chains; a chain that fails is logged and skipped (the next pass retries). */
export async function reconcileChains(parameters: {
  chains: readonly ChainClients[];
  redis: RedisClient;
  settings: { lookbackBlocks: number; logChunkBlocks: number; graceMs: number; remoteHorizonMs: number };
  onOrphanRequests: OrphanHandler;
  logger: Logger;
  /**
   * The service's monitor of a chain's RPC: an unreachable RPC is reported there (one line per
   * outage, /healthz) instead of an error with its stack on every pass.
   */
  rpcHealth?: (chainId: number) => DependencyMonitor | undefined;
}): Promise<ReconcileReport[]> {
  const reports: ReconcileReport[] = [];
  for (const chain of parameters.chains) {
    try {
      reports.push(
        await reconcileChain({
          chain,
          redis: parameters.redis,
          ...parameters.settings,
          chains: parameters.chains,
          onOrphanRequests: parameters.onOrphanRequests,
          logger: parameters.logger,
        }),
      );
    } catch (error) {
      const rpc = parameters.rpcHealth?.(chain.config.chainId);
      if (rpc && isConnectionError(error)) {
        if (!rpc.isDown) rpc.down(error); // else its transport or follower has said so already
        continue;
      }
      parameters.logger.error(
        { err: error, chainId: chain.config.chainId },
        "reconciliation pass failed (next pass retries)",
      );
    }
  }
  return reports;
}

export type StartReconcilerParameters = {
  config: IngestorConfig;
  logger: Logger;
  onOrphanRequests: OrphanHandler;
  metrics?: IngestorMetrics;
  transports?: TransportOverrides;
  /** false: no timer, call runOnce() yourself (tests). Default: config.reconcile.enabled. */
  autoStart?: boolean;
  /** Receives Redis's connection errors (else they are logged). */
  onRedisError?: (error: unknown) => void;
  /** Where an unreachable RPC is reported (see {@link reconcileChains}). */
  rpcHealth?: (chainId: number) => DependencyMonitor | undefined;
};

export type ReconcilerHandle = {
  /** One pass over every chain (also run at start when autoStart). */
  runOnce(): Promise<ReconcileReport[]>;
  /** Stops the timer and waits for a running pass. Safe to call twice. */
  close(): Promise<void>;
};

/** Runs {@link reconcileChain} on every configured chain at start and every `reconcile.intervalMs`. */
export async function startReconciler(parameters: StartReconcilerParameters): Promise<ReconcilerHandle> {
  const { config } = parameters;
  const logger = parameters.logger.child({ module: "reconcile" });
  const metrics = parameters.metrics ?? createIngestorMetrics();
  const chains = config.chains.map((c) => createChainClients(c, parameters.transports));
  const redis = connectRedis(config.redis);
  redis.on("error", parameters.onRedisError ?? ((err: unknown) => logger.warn({ err }, "redis error")));
  let running: Promise<ReconcileReport[]> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const runOnce = (): Promise<ReconcileReport[]> => {
    running ??= (async () => {
      const reports = await reconcileChains({
        chains,
        redis,
        settings: config.reconcile,
        onOrphanRequests: parameters.onOrphanRequests,
        logger,
        ...(parameters.rpcHealth ? { rpcHealth: parameters.rpcHealth } : {}),
      });
      for (const report of reports) metrics.orphans.inc({ chain: report.chainId }, report.orphans.length);
      return reports;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      void runOnce().finally(schedule);
    }, config.reconcile.intervalMs);
  };
  if (parameters.autoStart ?? config.reconcile.enabled) {
    void runOnce().finally(schedule);
  }
  logger.info(
    { intervalMs: config.reconcile.intervalMs, lookbackBlocks: config.reconcile.lookbackBlocks },
    "reconciler started",
  );

  let closing: Promise<void> | undefined;
  return {
    runOnce,
    close() {
      closing ??= (async () => {
        closed = true;
        if (timer) clearTimeout(timer);
        // Bounded: a pass waiting on an unreachable Redis or RPC is abandoned.
        await settleWithin(running?.catch(() => {}) ?? Promise.resolve(), 2_000);
        await closeRedis(redis);
      })();
      return closing;
    },
  };
}
