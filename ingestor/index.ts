import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { Registry } from "prom-client";
import type { DaClient } from "../da/index.ts";
import { createLogger, createRegistry, startOpsServer, type Logger, type OpsServer } from "../protocol/ops.ts";
import { QUEUE_PREFIX, queueNames } from "../protocol/queues.ts";
import type { TransportOverrides } from "./chains.ts";
import { startCollector, type CollectorHandle } from "./collector.ts";
import type { IngestorConfig } from "./config.ts";
import { createIngestorMetrics, type IngestorMetrics } from "./metrics.ts";
import { startPoster, type PosterHandle } from "./poster.ts";
import { startReconciler, type OrphanHandler, type ReconcilerHandle } from "./reconcile.ts";

export { loadIngestorConfig, ingestorConfigSchema, type IngestorConfig, type IngestorConfigInput } from "./config.ts";
export { startCollector, type CollectorHandle } from "./collector.ts";
export { startPoster, type PosterHandle } from "./poster.ts";
export { startReconciler, reconcileChain, type OrphanHandler, type ReconcilerHandle } from "./reconcile.ts";

export type IngestorOptions = {
  logger?: Logger;
  registry?: Registry;
  /** Per chainId (decimal string): a viem transport instead of http(rpcUrl) (in-process chains). */
  transports?: TransportOverrides;
  /** A DA client shared with the caller (else one is built from config.da and closed on close()). */
  da?: DaClient;
  /**
   * Where reconciliation hands open requests that have no pending work, e.g.
   * `(jobs) => relayer.scheduler.schedule(jobs)`. Without it, orphans are only logged.
   */
  onOrphanRequests?: OrphanHandler;
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
  const common = { config, logger, metrics, transports: options.transports };
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
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  redis.on("error", (err) => logger.warn({ err: err.message }, "redis error"));
  let sampler: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  handle.close = () => {
    closing ??= (async () => {
      if (sampler) clearInterval(sampler);
      // Reverse start order: the reconciler stops feeding, the collector stops queueing posts,
      // the poster posts what it holds.
      for (const service of [...started].reverse()) {
        await service.close().catch((err: unknown) => logger.error({ err }, "closing a role failed"));
      }
      await redis.quit().catch(() => redis.disconnect());
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
      handle.collector = await startCollector({ ...common, ...(options.da ? { da: options.da } : {}) });
      started.push(handle.collector);
    }
    if (config.reconcile.enabled) {
      const onOrphanRequests: OrphanHandler =
        options.onOrphanRequests ??
        (async (jobs) =>
          logger.warn(
            { orphans: jobs.map((j) => `${j.chainId}:${j.requestId}`) },
            "orphan requests found but no scheduler is wired (IngestorOptions.onOrphanRequests)",
          ));
      handle.reconciler = await startReconciler({ ...common, onOrphanRequests });
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
    if (options.opsServer ?? true) {
      handle.ops = await startOpsServer({
        port: config.operations.httpPort,
        registry,
        health: async () => {
          const pong = await redis.ping().catch(() => "down");
          const roles = {
            collector: handle.collector ? handle.collector.worker.isRunning() : "off",
            poster: handle.poster ? [...handle.poster.workers.values()].every((w) => w.isRunning()) : "off",
            reconciler: handle.reconciler ? true : "off",
          };
          return {
            ok: pong === "PONG" && roles.collector !== false && roles.poster !== false,
            details: { redis: pong, ...roles },
          };
        },
      });
      started.unshift(handle.ops);
    }
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
