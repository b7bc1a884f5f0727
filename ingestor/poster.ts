import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { connectRedis, type RedisClient } from "../protocol/redis.ts";
import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  decodeEventLog,
  encodeFunctionData,
  getAddress,
  type Abi,
  type Hex,
  type TransactionReceipt,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { executableOracleAbi, instructionIngestorAbi, omniTokenAbi } from "../protocol/generated/abis.ts";
import { InvalidInputError } from "../protocol/errors.ts";
import type { PostJob } from "../protocol/jobs.ts";
import { closeRedis, isConnectionError, settleWithin, type DependencyMonitor, type Logger } from "../protocol/ops.ts";
import { QUEUE_PREFIX, queueNames } from "../protocol/queues.ts";
import { batchCapacity, flushDecision } from "../protocol/postBatch.ts";
import {
  createChainClients,
  createPosterWallet,
  settlementState,
  type ChainClients,
  type TransportOverrides,
} from "./chains.ts";
import type { IngestorConfig } from "./config.ts";
import { createIngestorMetrics, type IngestorMetrics } from "./metrics.ts";
import { startSnapshotKeeper, type SnapshotKeeperHandle } from "./snapshotKeeper.ts";
import { TxSender } from "./txSender.ts";

/** The ingestor's ABI plus the errors a dispersal can bubble up, so reverts decode by name. */
const postAbi = [
  ...instructionIngestorAbi,
  ...executableOracleAbi.filter((e) => e.type === "error"),
  ...omniTokenAbi.filter((e) => e.type === "error"),
] as const satisfies Abi;

export type PostOutcome =
  { outcome: "ingested"; txHash: Hex; batchSize: number } | { outcome: "skipped"; reason: string; txHash?: Hex };

export type StartPosterParameters = {
  config: IngestorConfig;
  logger: Logger;
  metrics?: IngestorMetrics;
  transports?: TransportOverrides;
  /** Chains to post on (decimal chain ids); default: every configured chain. */
  chainIds?: string[];
  /** Told when Redis is unreachable or back (one log line, /healthz); else its errors are logged. */
  redisHealth?: DependencyMonitor;
};

export type PosterHandle = {
  readonly workers: ReadonlyMap<string, Worker<PostJob, PostOutcome>>;
  /** The activity-snapshot keeper of each chain (none when `poster.snapshotKeeper.mode` is off). */
  readonly snapshotKeepers: ReadonlyMap<string, SnapshotKeeperHandle>;
  /** Stops taking jobs, posts what is in hand, closes connections. Safe to call twice. */
  close(): Promise<void>;
};

/**
 * How long close() waits for the batches in hand to be posted; after that their jobs go back to
 * the queue (posting is idempotent: the next poster finds them ingested, or posts them).
 */
const POSTER_CLOSE_MS = 10_000;

type Pending = {
  /** Unix ms when the job joined the batch. */
  at: number;
  /** Ms since the result before it joined (Infinity for the first): a lone result is not lingered on. */
  gapBefore: number;
  job: Job<PostJob, PostOutcome>;
  token: string | undefined;
  resolve: (value: PostOutcome) => void;
  reject: (error: unknown) => void;
};

type Classified =
  | { kind: "skip"; reason: string }
  | { kind: "rate_limited" }
  | { kind: "permanent"; reason: string }
  | { kind: "transient"; error: unknown };

/** Decodes a revert (estimateGas/simulation) into what the poster should do with that result. */
function classify(error: unknown): Classified {
  if (!(error instanceof ViemBaseError)) return { kind: "transient", error };
  const reverted = error.walk(
    (e) => e instanceof ContractFunctionRevertedError,
  ) as ContractFunctionRevertedError | null;
  if (!reverted) return { kind: "transient", error };
  const name = reverted.data?.errorName ?? reverted.signature ?? reverted.reason ?? "unknown revert";
  if (name === "Ingestor_AlreadyIngested") return { kind: "skip", reason: "already_ingested" };
  if (name === "Ingestor_RequestNotSettleable") return { kind: "skip", reason: "not_settleable" };
  if (name === "OmniToken_RateLimited") return { kind: "rate_limited" };
  return { kind: "permanent", reason: name };
}

const toResult = (job: PostJob) => ({
  requestId: job.result.requestId,
  originChainId: BigInt(job.result.originChainId),
  programId: job.result.programId,
  inputHash: job.result.inputHash,
  status: job.result.status,
  instructionsHash: job.result.instructionsHash,
  bodyHash: job.result.bodyHash,
});

const toInstructions = (job: PostJob) =>
  job.instructions.map((ix) => ({
    op: ix.op,
    target: getAddress(ix.target),
    amount: BigInt(ix.amount),
    data: ix.data,
  }));

function callData(jobs: PostJob[]): Hex {
  if (jobs.length === 1) {
    const job = jobs[0]!;
    return encodeFunctionData({
      abi: instructionIngestorAbi,
      functionName: "ingest",
      args: [toResult(job), toInstructions(job), job.signatures, job.daPointer],
    });
  }
  return encodeFunctionData({
    abi: instructionIngestorAbi,
    functionName: "ingestBatch",
    args: [jobs.map(toResult), jobs.map(toInstructions), jobs.map((j) => j.signatures), jobs.map((j) => j.daPointer)],
  });
}

/**
 * The poster (SPEC 6): per target chain, drains queueNames.post(BigInt(chainId)) in batches formed
 * by protocol/postBatch.ts: while a transaction is in flight the next batch fills (group commit);
 * a batch carries at most what fits in half the block gas limit at the gas per result the last
 * batch needed (`maxBatchSize` at most); a lone result goes at once, results streaming in wait at
 * most `maxBatchWaitMs` for company. It checks the
 * chain before acting (already ingested, refunded, expired → done; a cross-chain result waits
 * until its origin chain has ingested it), simulates the batch and, when it would revert, simulates
 * its results one by one so that one bad result cannot block the others: a MINT over the rate limit waits
 * `rateLimitDelayMs`, a result the contract rejects for good fails permanently, the rest is
 * posted with `ingestBatch` (or `ingest` for one). One TxSender per chain owns the poster key's
 * nonce, bumps fees of stuck transactions and tracks receipts; transient errors retry with backoff.
 * With `poster.snapshotKeeper.mode` on, an activity-snapshot keeper per chain
 * (ingestor/snapshotKeeper.ts) shares that TxSender and is told of every ingest mined.
 */
export async function startPoster(parameters: StartPosterParameters): Promise<PosterHandle> {
  const { config } = parameters;
  const baseLogger = parameters.logger.child({ module: "poster" });
  const metrics = parameters.metrics ?? createIngestorMetrics();
  if (!config.posterKey) {
    throw new InvalidInputError("posterKey", "a 0x-prefixed 32-byte private key (set POSTER_KEY)");
  }
  const account = privateKeyToAccount(config.posterKey as Hex);
  const clients = new Map<string, ChainClients>(
    config.chains.map((c) => [String(c.chainId), createChainClients(c, parameters.transports)]),
  );
  const chainIds = parameters.chainIds ?? [...clients.keys()];
  const redis = connectRedis(config.redis);
  const redisDown = (error: unknown) =>
    parameters.redisHealth ? parameters.redisHealth.down(error) : baseLogger.warn({ err: error }, "redis error");
  redis.on("error", redisDown);
  const workers = new Map<string, Worker<PostJob, PostOutcome>>();
  const flushers: (() => Promise<void>)[] = [];
  const keepers = new Map<string, SnapshotKeeperHandle>();
  const { maxBatchSize, maxBatchWaitMs } = config.poster;

  for (const chainId of chainIds) {
    const chain = clients.get(chainId);
    if (!chain) throw new InvalidInputError("poster chainIds", `a configured chain id`, { details: `got ${chainId}` });
    const logger = baseLogger.child({ chainId });
    const sender = new TxSender({
      publicClient: chain.publicClient,
      walletClient: createPosterWallet(chain, account, parameters.transports),
      account,
      receiptTimeoutMs: config.poster.receiptTimeoutMs,
      feeBumpPercent: config.poster.feeBumpPercent,
      maxFeeBumps: config.poster.maxFeeBumps,
      logger,
      onFeeBump: () => metrics.feeBumps.inc({ chain: chainId }),
    });
    const keeper =
      config.poster.snapshotKeeper.mode === "off"
        ? undefined
        : startSnapshotKeeper({ chain, sender, account, config: config.poster.snapshotKeeper, logger, metrics });
    if (keeper) keepers.set(chainId, keeper);
    let pending: Pending[] = [];
    let timer: NodeJS.Timeout | undefined;
    let inFlight: Promise<void> | undefined;
    // as if a result had just arrived: a poster (re)starting on a backlog lingers to batch it
    let lastArrival = Date.now();
    // measured: the chain's block gas limit (read with the batch's clock) and the last batch's gas limit
    let blockGasLimit: bigint | undefined;
    let lastBatch: { gasLimit: bigint; size: number } | undefined;
    const capacity = () => batchCapacity({ maxBatchSize, blockGasLimit, lastBatch });
    /** Sends now, lingers, or leaves the results to the transaction in flight (protocol/postBatch.ts). */
    const schedule = () => {
      const oldest = pending[0];
      if (!oldest) return;
      const decision = flushDecision({
        queued: pending.length,
        capacity: capacity(),
        inFlight: inFlight !== undefined,
        oldestWaitedMs: Date.now() - oldest.at,
        gapBeforeOldestMs: oldest.gapBefore,
        lingerMs: maxBatchWaitMs,
      });
      if (decision.action === "send") void flush();
      else if (decision.action === "wait")
        timer ??= setTimeout(() => {
          timer = undefined;
          schedule();
        }, decision.ms);
    };

    const delay = async (item: Pending, ms: number, outcome: string) => {
      metrics.postOutcomes.inc({ chain: chainId, outcome });
      if (item.token) {
        await item.job.moveToDelayed(Date.now() + ms, item.token);
        item.reject(new DelayedError());
      } else item.reject(new Error(`retry later: ${outcome}`));
    };
    const done = (item: Pending, outcome: PostOutcome) => {
      metrics.postOutcomes.inc({ chain: chainId, outcome: outcome.outcome });
      if (outcome.outcome === "ingested")
        metrics.postLatency.observe({ chain: chainId }, (Date.now() - item.job.timestamp) / 1000);
      item.resolve(outcome);
    };
    const fail = (item: Pending, error: unknown, permanent: boolean) => {
      metrics.postOutcomes.inc({ chain: chainId, outcome: permanent ? "failed" : "retried" });
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      item.reject(permanent ? new UnrecoverableError(message) : error);
    };

    /** Chain check before acting: resolves or delays what needs no transaction; returns the rest. */
    const precheck = async (items: Pending[]): Promise<Pending[]> => {
      const keep: Pending[] = [];
      // one clock read per batch (and per origin chain) instead of one per result
      const clocks = new Map<string, Promise<bigint>>();
      const now = (c: ChainClients) => {
        const key = String(c.chainId);
        if (!clocks.has(key))
          clocks.set(
            key,
            c.publicClient.getBlock({ blockTag: "latest" }).then((b) => {
              if (c === chain) blockGasLimit = b.gasLimit;
              return b.timestamp;
            }),
          );
        return clocks.get(key)!;
      };
      await Promise.all(
        items.map(async (item) => {
          const job = item.job.data;
          const origin = BigInt(job.originChainId);
          try {
            const here = await settlementState(
              chain,
              origin,
              job.requestId,
              origin === chain.chainId ? await now(chain) : undefined,
            );
            if (here !== "open") return done(item, { outcome: "skipped", reason: here });
            if (origin !== chain.chainId) {
              const originChain = clients.get(job.originChainId);
              if (!originChain) {
                return fail(
                  item,
                  new Error(`origin chain ${job.originChainId} is not configured: cannot check it`),
                  true,
                );
              }
              const there = await settlementState(originChain, origin, job.requestId, await now(originChain));
              if (there === "open") return await delay(item, config.poster.retryDelayMs, "waiting_for_origin");
              if (there !== "ingested") return done(item, { outcome: "skipped", reason: `origin_${there}` });
            }
            keep.push(item);
          } catch (error) {
            fail(item, error, false);
          }
        }),
      );
      return keep;
    };

    const estimate = (items: Pending[]) =>
      items.length === 1
        ? chain.publicClient.estimateContractGas({
            account,
            address: chain.ingestor,
            abi: postAbi,
            functionName: "ingest",
            args: [
              toResult(items[0]!.job.data),
              toInstructions(items[0]!.job.data),
              items[0]!.job.data.signatures,
              items[0]!.job.data.daPointer,
            ],
          })
        : chain.publicClient.estimateContractGas({
            account,
            address: chain.ingestor,
            abi: postAbi,
            functionName: "ingestBatch",
            args: [
              items.map((i) => toResult(i.job.data)),
              items.map((i) => toInstructions(i.job.data)),
              items.map((i) => i.job.data.signatures),
              items.map((i) => i.job.data.daPointer),
            ],
          });

    /** Settles one result that fails on its own, by what the contract said. */
    const settleFailed = async (item: Pending, c: Exclude<Classified, { kind: "transient" }>) => {
      if (c.kind === "skip") done(item, { outcome: "skipped", reason: c.reason });
      else if (c.kind === "rate_limited") {
        logger.warn({ requestId: item.job.data.requestId }, "MINT over the rate limit: retrying later");
        await delay(item, config.poster.rateLimitDelayMs, "rate_limited");
      } else {
        logger.error({ requestId: item.job.data.requestId, error: c.reason }, "result rejected by the contract");
        fail(item, new Error(`rejected by the ingestor: ${c.reason}`), true);
      }
    };

    /**
     * Simulates the batch (estimateGas). When it would revert, simulates every result alone (in
     * parallel: reverting calls are the slow ones, so this costs one failing call per bad result,
     * where bisecting costs about two per level) and keeps the ones that pass, with the sum of
     * their single estimates as the gas limit (a batch costs less than its singles).
     */
    const simulate = async (items: Pending[]): Promise<{ items: Pending[]; gas: bigint } | undefined> => {
      try {
        return { items, gas: await estimate(items) };
      } catch (error) {
        const c = classify(error);
        if (c.kind === "transient" || items.length === 1) {
          if (c.kind === "transient") for (const item of items) fail(item, error, false);
          else await settleFailed(items[0]!, c);
          return undefined;
        }
      }
      const good: Pending[] = [];
      const gasOf = new Map<Pending, bigint>();
      await Promise.all(
        items.map(async (item) => {
          try {
            gasOf.set(item, await estimate([item]));
            good.push(item);
          } catch (error) {
            const c = classify(error);
            if (c.kind === "transient") fail(item, error, false);
            else await settleFailed(item, c);
          }
        }),
      );
      if (good.length === 0) return undefined;
      // keep the queue order
      good.sort((a, b) => items.indexOf(a) - items.indexOf(b));
      return { items: good, gas: good.reduce((sum, item) => sum + gasOf.get(item)!, 0n) };
    };

    const settleFromReceipt = (group: Pending[], receipt: TransactionReceipt) => {
      const ingested = new Set<string>();
      const skipped = new Map<string, number>();
      // reason 6: the result failed a check ingest would revert with; the selector names the error
      const rejected = new Map<string, Hex>();
      for (const log of receipt.logs) {
        if (getAddress(log.address) !== chain.ingestor) continue;
        try {
          const event = decodeEventLog({ abi: instructionIngestorAbi, data: log.data, topics: log.topics });
          if (event.eventName === "ResultIngested")
            ingested.add(`${event.args.originChainId}:${event.args.requestId.toLowerCase()}`);
          if (event.eventName === "ResultSkipped")
            skipped.set(`${event.args.originChainId}:${event.args.requestId.toLowerCase()}`, event.args.reason);
          if (event.eventName === "ResultRejected")
            rejected.set(`${event.args.originChainId}:${event.args.requestId.toLowerCase()}`, event.args.error);
        } catch {
          // not one of ours
        }
      }
      for (const item of group) {
        const key = `${item.job.data.originChainId}:${item.job.data.requestId.toLowerCase()}`;
        if (rejected.get(key)?.toLowerCase() === GAS_TOO_LOW) {
          // the batch ran short of the gas a bounded call needs: not the result's fault, retry it
          fail(item, new Error(`skipped for lack of gas in batch ${receipt.transactionHash}`), false);
          continue;
        }
        if (ingested.has(key))
          done(item, { outcome: "ingested", txHash: receipt.transactionHash, batchSize: group.length });
        else
          done(item, {
            outcome: "skipped",
            reason: `skipped_${skipped.get(key) ?? "unknown"}${rejected.has(key) ? `_${rejected.get(key)}` : ""}`,
            txHash: receipt.transactionHash,
          });
      }
    };

    const post = async (items: Pending[]) => {
      const open = await precheck(items);
      if (open.length === 0) return;
      const simulated = await simulate(open);
      for (const group of simulated ? [simulated] : []) {
        try {
          const data = callData(group.items.map((i) => i.job.data));
          // A batch skips (never reverts on) a result the Disperser cannot give its bounded calls'
          // gas, so estimateGas converges on a limit that skips results: reserve each result's
          // bounded-call gas on top (issue 10, dispersal no target can sink).
          const gas =
            (group.gas * 12n) / 10n + 10_000n + group.items.reduce((sum, i) => sum + boundedGasReserve(i.job.data), 0n);
          lastBatch = { gasLimit: gas, size: group.items.length };
          const receipt = await sender.send({ to: chain.ingestor, data, gas });
          metrics.gasUsed.inc({ chain: chainId }, Number(receipt.gasUsed));
          metrics.feeWei.inc({ chain: chainId }, Number(receipt.gasUsed * receipt.effectiveGasPrice));
          metrics.batches.inc({ chain: chainId, status: receipt.status });
          metrics.batchSize.observe({ chain: chainId }, group.items.length);
          if (receipt.status !== "success") {
            logger.warn(
              { txHash: receipt.transactionHash, size: group.items.length },
              "batch reverted on chain: retrying",
            );
            for (const item of group.items)
              fail(item, new Error(`transaction ${receipt.transactionHash} reverted`), false);
            continue;
          }
          logger.info(
            {
              txHash: receipt.transactionHash,
              size: group.items.length,
              gasUsed: String(receipt.gasUsed),
              queued: pending.length,
              capacity: capacity(),
            },
            "results posted",
          );
          keeper?.observeIngest(group.items.length);
          settleFromReceipt(group.items, receipt);
        } catch (error) {
          // A single `ingest` reverts when another poster (the rotation's fallback) got there between
          // this poster's simulation and its send: what the chain now shows settled is done, not retried.
          const open = await precheck(group.items).catch(() => group.items);
          if (open.length === 0) continue;
          logger.warn({ err: error, size: open.length }, "sending the batch failed: retrying");
          for (const item of open) fail(item, error, false);
        }
      }
    };

    const flush = (): Promise<void> => {
      if (inFlight) return inFlight;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const take = capacity();
      const items = pending.slice(0, take);
      pending = pending.slice(take);
      if (items.length === 0) return Promise.resolve();
      inFlight = post(items)
        .catch((error: unknown) => {
          logger.error({ err: error }, "posting failed");
          for (const item of items) fail(item, error, false);
        })
        .finally(() => {
          inFlight = undefined;
          // what arrived while the transaction was mined forms the next batch
          schedule();
        });
      return inFlight;
    };
    flushers.push(async () => {
      while (pending.length > 0 || inFlight) await flush();
    });

    const worker = new Worker<PostJob, PostOutcome>(
      queueNames.post(BigInt(chainId)),
      (job, token) =>
        new Promise<PostOutcome>((resolve, reject) => {
          const at = Date.now();
          pending.push({ at, gapBefore: at - lastArrival, job, token, resolve, reject });
          lastArrival = at;
          schedule();
        }),
      {
        connection: redis,
        prefix: QUEUE_PREFIX,
        // Twice the batch size: the next batch fills while the current transaction is mined.
        concurrency: maxBatchSize * 2,
        lockDuration: Math.max(30_000, config.poster.receiptTimeoutMs * (config.poster.maxFeeBumps + 2)),
      },
    );
    worker.on("error", (error) => {
      if (isConnectionError(error)) redisDown(error);
      else logger.error({ err: error }, "poster worker error");
    });
    worker.on("failed", (job, error) => {
      if (!(error instanceof DelayedError)) logger.warn({ jobId: job?.id, err: error.message }, "post job failed");
    });
    await worker.waitUntilReady();
    workers.set(chainId, worker);
    logger.info({ poster: account.address, maxBatchSize, maxBatchWaitMs }, "poster started");
  }

  let closing: Promise<void> | undefined;
  return {
    workers,
    snapshotKeepers: keepers,
    close() {
      closing ??= (async () => {
        await Promise.all([...keepers.values()].map((k) => k.close()));
        // Stop fetching, post what is in hand (worker.close waits for active jobs), then disconnect.
        // Bounded: with Redis or the chain unreachable the jobs in hand go back to the queue.
        const closed = [...workers.values()].map((w) => w.close());
        const grace = redis.status === "ready" ? POSTER_CLOSE_MS : 500;
        const flushed = await settleWithin(
          Promise.all(flushers.map((f) => f())).then(() => Promise.allSettled(closed)),
          grace,
        );
        if (flushed === undefined) {
          baseLogger.warn(
            { graceMs: grace },
            "poster: batches in hand not posted in time; their jobs go back to the queue",
          );
          for (const worker of workers.values()) void worker.close(true).catch(() => {});
        }
        await closeRedis(redis);
        baseLogger.info("poster stopped");
      })();
      return closing;
    },
  };
}

/** Waiting + delayed jobs of the post queue of each chain (for the queue-depth gauge). */
export async function postQueueDepths(redis: RedisClient, chainIds: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const chainId of chainIds) {
    const queue = new Queue(queueNames.post(BigInt(chainId)), { connection: redis, prefix: QUEUE_PREFIX });
    const counts = await queue.getJobCounts("waiting", "delayed", "prioritized", "active");
    out[queueNames.post(BigInt(chainId))] = (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
    await queue.close();
  }
  return out;
}

/** `Disperser_GasTooLow(uint256,uint256)`: a batch result skipped for lack of gas (retried). */
const GAS_TOO_LOW = "0x38c97d92";

/**
 * Gas the Disperser hands to bounded calls for one result (BoundedCall: 200k per CALL or MINT,
 * 100k per TRANSFER, 30k per controller check, plus the refund), reserved over the estimate.
 */
export function boundedGasReserve(job: PostJob): bigint {
  let reserve = 100_000n; // the refund's transfer
  for (const ix of job.instructions) {
    if (ix.op === 1 || ix.op === 2) reserve += 230_000n;
    else if (ix.op === 0) reserve += 100_000n;
    else if (ix.op === 3) reserve += 30_000n;
  }
  return reserve;
}
