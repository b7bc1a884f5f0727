import { Cluster, Redis } from "ioredis";
import type { RedisConfig } from "./config.ts";
import { redactUrl } from "./errors.ts";

/** The client every service holds: one Redis, or a Redis Cluster that follows MOVED/ASK redirects. */
export type RedisClient = Redis | Cluster;

/**
 * Opens the connection `config` describes (protocol/config.ts `redisSchema`). Commands never fail
 * for lack of retries (`maxRetriesPerRequest: null`, as BullMQ requires): while Redis is away they
 * wait, and the service's DependencyMonitor reports it. On a cluster the client reads the slot map
 * from the seed nodes, refreshes it on MOVED and every `slotsRefreshIntervalMs`, and retries a
 * command while a failover promotes a replica (CLUSTERDOWN / TRYAGAIN).
 *
 * @example
 * const redis = connectRedis(config.redis); // { url } or { cluster: { nodes: ["redis://h:7001"] } }
 */
export function connectRedis(config: RedisConfig, options: { lazyConnect?: boolean } = {}): RedisClient {
  if (!config.cluster) return new Redis(config.url, { maxRetriesPerRequest: null, lazyConnect: options.lazyConnect });
  const seeds = config.cluster.nodes.map((node) => new URL(node));
  const first = seeds[0]!;
  return new Cluster(
    seeds.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    {
      lazyConnect: options.lazyConnect,
      scaleReads: "master",
      slotsRefreshInterval: config.cluster.slotsRefreshIntervalMs,
      // A replica is promoted once its master missed cluster-node-timeout (15 s by default) plus an
      // election: a command on the lost master is retried every 500 ms for ~30 s before it fails.
      retryDelayOnFailover: 500,
      retryDelayOnClusterDown: 500,
      maxRedirections: 64,
      clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
      redisOptions: {
        maxRetriesPerRequest: null,
        username: first.username ? decodeURIComponent(first.username) : undefined,
        password: first.password ? decodeURIComponent(first.password) : undefined,
        tls: first.protocol === "rediss:" ? {} : undefined,
      },
    },
  );
}

/** Where `config` points, without credentials, for logs and /healthz. */
export function describeRedis(config: RedisConfig): string {
  if (!config.cluster) return redactUrl(config.url);
  return `cluster ${config.cluster.nodes.map(redactUrl).join(",")}`;
}
