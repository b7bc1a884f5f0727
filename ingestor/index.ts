import { Queue } from "bullmq";
import { connectRedis, describeRedis } from "../protocol/redis.ts";
import type { Registry } from "prom-client";
import type { DaClient } from "../da/index.ts";
import {
  closeRedis,
  createLogger,
  createRegistry,
  DependencyMonitor,
  settleWithin,
  startOpsServer,
  watchRedis,
  type Health,
  type Logger,
  type OpsServer,
} from "../protocol/ops.ts";
import { QUEUE_PREFIX, queueNames, redisKeys } from "../protocol/queues.ts";
import { monitoredTransport, RpcMonitors } from "../protocol/rpcHealth.ts";
import { chainTransport, type TransportOverrides } from "./chains.ts";
import { startCollector, type CollectorHandle, type StartCollectorParameters } from "./collector.ts";
import type { IngestorConfig } from "./config.ts";
import { createIngestorMetrics, type IngestorMetrics } from "./metrics.ts";
import { startPoster, type PosterHandle } from "./poster.ts";
import { startReconciler, type OrphanHandler, type ReconcilerHandle } from "./reconcile.ts";

export { loadIngestorConfig, ingestorConfigSchema, type IngestorConfig, type IngestorConfigInput } from "./config.ts";
export { startCollector, type CollectorHandle } from "./collector.ts";
export { startPoster, type PosterHandle } from "./poster.ts";
export { startReconciler, reconcileChain, type OrphanHandler, type ReconcilerHandle } from "./reconcile.ts";

/** Bound on each role's stop (each also bounds its own). */
const ROLE_CLOSE_MS = 12_000;

export type IngestorOptions = {
  logger?: Logger;
  registry?: Registry;
  /** Per chainId (decimal string): a viem transport instead of http(rpcUrl) (in-process chains). */
  transports?: TransportOverrides;
  /** A DA client shared with the caller (else one is built from config.da and closed on close()). */
  da?: DaClient;
  /**
   * Where reconciliation hands open requests that have no pending work, e.g.
   * `(jobs) => relayer.scheduler.schedule(jobs)` in one process. Default: the domain's
   * `redisKeys.requests` list, which the relay role (`versatus relayer`, or a node's relay role)
   * drains, so a standalone ingestor reschedules a lost request too.
   */
  onOrphanRequests?: OrphanHandler;
  /**
   * How long after its threshold is reached this collector's post job for one request waits
   * (the node's per-request poster rotation: 0 for the first poster, then fallback delays).
   */
  postDelayMs?: (args: { target: string; originChainId: string; requestId: `0x${string}` }) => number;
  /** Who did the work, for the record's envelope (see startCollector's `attribute`). */
  attribute?: StartCollectorParameters["attribute"];
  /** false: no /metrics + /healthz server (default true). */
  opsServer?: boolean;
  /** How often the queue-depth gauges are sampled (default 5 s; 0 = never). */
  queueDepthIntervalMs?: number;
};

export type IngestorHandle = {
  config: IngestorConfig;
  registry: Registry;
  metrics: IngestorMetrics;
  collector: CollectorHandle | undefined;
  poster: PosterHandle | undefined;
  reconciler: ReconcilerHandle | undefined;
  ops: OpsServer | undefined;
  /** Graceful stop: no new jobs, jobs in hand finish (or go back to the queue), connections closed. Safe to call twice. */
  close(): Promise<void>;
};

/**
 * Starts the roles of the ingestor service that the config enables (collector, poster,
 * reconciler), one metrics registry and the /metrics + /healthz server.
 *
 * @example
 * const ingestor = await startIngestor(loadIngestorConfig({ file: "ingestor.json" }), {
 *   onOrphanRequests: (jobs) => relayer.scheduler.schedule(jobs),
 * });
 * process.once("SIGTERM", () => void ingestor.close());
 */
export async function startIngestor(config: IngestorConfig, options: IngestorOptions = {}): Promise<IngestorHandle> {
  const logger = options.logger ?? createLogger("ingestor", config.operations.logLevel);
  const registry = options.registry ?? createRegistry("ingestor");
  const metrics = createIngestorMetrics(registry);
  const redisHealth = new DependencyMonitor({ name: "redis", where: describeRedis(config.redis), log: logger });
  // Every role's clients of a chain share one monitored transport: an RPC that is down is logged
  // once per outage and shown in /healthz, whichever role found it.
  const rpc = new RpcMonitors(config.chains, logger, (id) => options.transports?.[String(id)] !== undefined);
  const transports = Object.fromEntries(
    config.chains.map((c) => [
      String(c.chainId),
      monitoredTransport(chainTransport(c, options.transports), rpc.get(c.chainId)!),
    ]),
  );
  const common = { config, logger, metrics, transports, redisHealth };
  const started: { close(): Promise<void> }[] = [];
  const handle: IngestorHandle = {
    config,
    registry,
    metrics,
    collector: undefined,
    poster: undefined,
    reconciler: undefined,
    ops: undefined,
    close: async () => {},
  };
  // The ops server first: a port that is taken or invalid fails the start before anything runs;
  // while the roles wait for Redis, /healthz says what is down.
  let health = async (): Promise<Health> => ({
    ok: false,
    details: { starting: true, dependencies: { redis: redisHealth.health(), ...rpc.health() } },
  });
  if (options.opsServer ?? true) {
    handle.ops = await startOpsServer({ port: config.operations.httpPort, registry, health: () => health() });
  }
  const redis = connectRedis(config.redis);
  watchRedis(redis, redisHealth);
  let sampler: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  handle.close = () => {
    closing ??= (async () => {
      if (sampler) clearInterval(sampler);
      // Reverse start order: the reconciler stops feeding, the collector stops queueing posts,
      // the poster posts what it holds. Each role bounds its own stop; this bounds it again.
      for (const service of [...started].reverse()) {
        const stoppedInTime = await settleWithin(
          service.close().then(
            () => true,
            (err: unknown) => void logger.error({ err }, "closing a role failed"),
          ),
          ROLE_CLOSE_MS,
        );
        if (stoppedInTime === undefined) logger.warn({ graceMs: ROLE_CLOSE_MS }, "a role did not stop in time");
      }
      // every step runs even when one fails (as protocol/closer.ts does)
      await handle.ops?.close().catch((err: unknown) => logger.error({ err }, "closing the ops server failed"));
      await closeRedis(redis);
      logger.info("ingestor stopped");
    })();
    return closing;
  };
  try {
    if (config.poster.enabled) {
      handle.poster = await startPoster(common);
      started.push(handle.poster);
    }
    if (config.collector.enabled) {
      handle.collector = await startCollector({
        ...common,
        ...(options.da ? { da: options.da } : {}),
        ...(options.postDelayMs ? { postDelayMs: options.postDelayMs } : {}),
        ...(options.attribute ? { attribute: options.attribute } : {}),
      });
      started.push(handle.collector);
    }
    if (config.reconcile.enabled) {
      const onOrphanRequests: OrphanHandler =
        options.onOrphanRequests ??
        (async (jobs) => {
          await redis.lpush(redisKeys.requests, ...jobs.map((job) => JSON.stringify(job)));
          logger.info(
            { orphans: jobs.map((j) => `${j.chainId}:${j.requestId}`) },
            "open requests handed to the relay role (list requests)",
          );
        });
      handle.reconciler = await startReconciler({
        ...common,
        onOrphanRequests,
        onRedisError: (error) => redisHealth.down(error),
        rpcHealth: (chainId) => rpc.get(chainId),
      });
      started.push(handle.reconciler);
    }
    const queues = [queueNames.results, ...config.chains.map((c) => queueNames.post(c.chainId))].map(
      (name) => new Queue(name, { connection: redis, prefix: QUEUE_PREFIX }),
    );
    started.unshift({ close: async () => void (await Promise.allSettled(queues.map((q) => q.close()))) });
    const interval = options.queueDepthIntervalMs ?? 5_000;
    if (interval > 0) {
      const sample = async () => {
        for (const queue of queues) {
          const c = await queue.getJobCounts("waiting", "delayed", "prioritized");
          metrics.queueDepth.set({ queue: queue.name }, (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0));
        }
      };
      sampler = setInterval(() => void sample().catch(() => {}), interval);
      sampler.unref();
    }
    health = async () => {
      const pong = await settleWithin(
        redis.ping().catch(() => "down"),
        1_000,
      );
      const roles = {
        collector: handle.collector ? handle.collector.worker.isRunning() : "off",
        poster: handle.poster ? [...handle.poster.workers.values()].every((w) => w.isRunning()) : "off",
        reconciler: handle.reconciler ? true : "off",
      };
      return {
        ok: pong === "PONG" && rpc.allUp && roles.collector !== false && roles.poster !== false,
        details: {
          redis: pong ?? "no answer",
          dependencies: { redis: redisHealth.health(), ...rpc.health() },
          ...roles,
        },
      };
    };
    logger.info(
      {
        roles: { collector: !!handle.collector, poster: !!handle.poster, reconciler: !!handle.reconciler },
        metrics: handle.ops?.url,
      },
      "ingestor started",
    );
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}
