import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RedisClient } from "./redis.ts";
import { pino, type Logger } from "pino";
import { getHeapStatistics } from "node:v8";
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Operations helpers every service shares (SPEC 6): a pino JSON logger, a prom-client registry of
 * its own (so several services can run in one process, as the devnet does), and one small HTTP
 * server with `/metrics` (Prometheus text format) and `/healthz` (200 when healthy, 503 when not,
 * JSON body with the details).
 */

export type Health = { ok: boolean; details?: Record<string, unknown> };

export type OpsServerOptions = {
  /** 0 picks a free port (the bound port is in the returned handle). */
  port: number;
  host?: string;
  registry: Registry;
  /** Called on every GET /healthz; a throw counts as unhealthy. */
  health: () => Health | Promise<Health>;
  /** More GET endpoints answering JSON, by path (e.g. an operator node's `/network`). */
  routes?: Record<string, () => unknown>;
};

const jsonBigint = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);

export type OpsServer = {
  port: number;
  url: string;
  /** Stops listening; safe to call twice. */
  close: () => Promise<void>;
};

/**
 * Starts the `/metrics` + `/healthz` endpoint of one service.
 *
 * @example
 * const registry = createRegistry("relayer");
 * const ops = await startOpsServer({ port: 9464, registry, health: () => ({ ok: true }) });
 * // curl http://127.0.0.1:9464/healthz
 * await ops.close();
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    if (path === "/metrics") {
      options.registry
        .metrics()
        .then((text) => res.writeHead(200, { "content-type": options.registry.contentType }).end(text))
        .catch((error: unknown) => res.writeHead(500).end(String(error)));
      return;
    }
    if (path === "/healthz") {
      Promise.resolve()
        .then(() => options.health())
        .catch((error: unknown): Health => ({ ok: false, details: { error: String(error) } }))
        .then((health) =>
          res
            .writeHead(health.ok ? 200 : 503, { "content-type": "application/json" })
            .end(JSON.stringify({ ok: health.ok, ...(health.details ?? {}) })),
        );
      return;
    }
    const route = options.routes?.[path ?? ""];
    if (route) {
      Promise.resolve()
        .then(route)
        .then(
          (body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body, jsonBigint)),
          (error: unknown) =>
            res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: String(error) })),
        );
      return;
    }
    res.writeHead(404).end();
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A registry of one service, with the Node process metrics and a `service` label on everything. */
export function createRegistry(service: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: "versatus_" });
    // the bound the process runs with (e.g. a node's heap.maxOldSpaceMb), which the defaults leave out
    new Gauge({
      name: "versatus_nodejs_heap_size_limit_bytes",
      help: "V8 heap size limit of this process (v8.getHeapStatistics().heap_size_limit)",
      registers: [registry],
      collect() {
        this.set(getHeapStatistics().heap_size_limit);
      },
    });
  }
  return registry;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** The JSON logger of one service; modules take a child logger with `{ module }`. */
export function createLogger(service: string, level: LogLevel = "info"): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}

/**
 * Whether `error` says that a dependency cannot be reached (refused, unknown host, timed out,
 * connection dropped), as opposed to a bad request or a bug.
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (
    typeof code === "string" &&
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE)$/.test(code)
  )
    return true;
  const message = error instanceof Error ? error.message : String(error);
  return /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|Connection is closed|socket hang up|fetch failed|HTTP request failed|took too long to respond/i.test(
    message,
  );
}

export type DependencyHealth = {
  ok: boolean;
  /** What it is, e.g. "redis" or "rpc 31337". */
  name: string;
  /** Where it is expected (credentials redacted). */
  where: string;
  /** ISO time it went down (absent while up). */
  downSince?: string;
  /** Failures seen since it went down. */
  failures?: number;
  lastError?: string;
};

/**
 * Tracks one dependency (Redis, a chain's RPC) for the logs and /healthz: the first failure is
 * logged once at `warn` with what, where and since when, then a reminder every `remindEveryMs`
 * (default 60 s) while it stays down, and one `info` line when it is back. A dependency that flaps
 * or retries every 50 ms thus gives one line a minute, not twenty a second.
 *
 * @example
 * const redisHealth = new DependencyMonitor({ name: "redis", where: redactUrl(url), log });
 * watchRedis(redis, redisHealth);
 * // /healthz: { dependencies: { redis: redisHealth.health() } }
 */
export class DependencyMonitor {
  readonly name: string;
  readonly where: string;
  private readonly log: Logger;
  private readonly remindEveryMs: number;
  private downSince: number | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private lastLogAt = 0;
  private everUp = false;

  constructor(options: { name: string; where: string; log: Logger; remindEveryMs?: number }) {
    this.name = options.name;
    this.where = options.where;
    this.log = options.log;
    this.remindEveryMs = options.remindEveryMs ?? 60_000;
  }

  /** Reports a failure to reach it. */
  down(error: unknown): void {
    const message = describeError(error);
    const now = Date.now();
    this.failures += 1;
    this.lastError = message;
    if (this.downSince === undefined) {
      this.downSince = now;
      this.lastLogAt = now;
      this.log.warn(
        { dependency: this.name, where: this.where, since: new Date(now).toISOString(), err: message },
        `${this.name} unreachable at ${this.where}: retrying (logged again every ${Math.round(this.remindEveryMs / 1000)} s while down)`,
      );
    } else if (now - this.lastLogAt >= this.remindEveryMs) {
      this.lastLogAt = now;
      this.log.warn(
        {
          dependency: this.name,
          where: this.where,
          since: new Date(this.downSince).toISOString(),
          downForS: Math.round((now - this.downSince) / 1000),
          failures: this.failures,
          err: message,
        },
        `${this.name} still unreachable at ${this.where}: retrying`,
      );
    }
  }

  /** Reports a success (logs the recovery once). */
  up(): void {
    this.everUp = true;
    if (this.downSince === undefined) return;
    this.log.info(
      {
        dependency: this.name,
        where: this.where,
        downForS: Math.round((Date.now() - this.downSince) / 1000),
        failures: this.failures,
      },
      `${this.name} reachable again at ${this.where}`,
    );
    this.downSince = undefined;
    this.failures = 0;
    this.lastError = undefined;
  }

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /** For /healthz: ok only once it has answered and while it has not failed since. */
  health(): DependencyHealth {
    if (this.downSince === undefined)
      return {
        ok: this.everUp,
        name: this.name,
        where: this.where,
        ...(this.everUp ? {} : { lastError: "not connected yet" }),
      };
    return {
      ok: false,
      name: this.name,
      where: this.where,
      downSince: new Date(this.downSince).toISOString(),
      failures: this.failures,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}

/**
 * Runs `attempt` until it succeeds, while its failures are connection errors (see
 * {@link isConnectionError}): each is reported to `monitor` (one log line per outage, /healthz),
 * the wait between tries doubles from `firstDelayMs` up to `maxDelayMs`. Any other error is thrown
 * at once. For a start that cannot go on without a dependency (a node's operator set): the service
 * waits and says why instead of exiting on a stack trace; a stop signal still ends it.
 *
 * @example
 * const set = await retryWhileUnreachable(() => readOperatorSet(client), rpcHealth);
 */
export async function retryWhileUnreachable<T>(
  attempt: () => Promise<T>,
  monitor: DependencyMonitor,
  options: { firstDelayMs?: number; maxDelayMs?: number } = {},
): Promise<T> {
  let delayMs = options.firstDelayMs ?? 500;
  for (;;) {
    try {
      const value = await attempt();
      monitor.up();
      return value;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      monitor.down(error);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? 10_000);
  }
}

/** One line about an error: its first line, plus viem's `details` (the cause an RPC call failed with). */
export function describeError(error: unknown): string {
  const first = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
  const details = (error as { details?: unknown } | undefined)?.details;
  return typeof details === "string" && details && !first.includes(details) ? `${first} ${details}` : first;
}

/** Feeds an ioredis connection's errors and reconnections into `monitor` (and nothing else logs them). */
export function watchRedis(redis: RedisClient, monitor: DependencyMonitor): void {
  redis.on("error", (error: unknown) => monitor.down(error));
  redis.on("ready", () => monitor.up());
  if (redis.status === "ready") monitor.up();
}

/** Resolves with `promise`'s value, or with `undefined` once `ms` passed (the promise is left running). */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long a service's close() waits for Redis to answer a command or a QUIT before it drops the
 * connection. With Redis unreachable ioredis (maxRetriesPerRequest: null) would otherwise wait
 * for it forever.
 */
export const REDIS_CLOSE_GRACE_MS = 2_000;

/**
 * Closes an ioredis connection in bounded time: QUIT when connected (pending replies arrive
 * first), then a hard disconnect after `graceMs` or at once when it is not connected.
 */
export async function closeRedis(redis: RedisClient, graceMs = REDIS_CLOSE_GRACE_MS): Promise<void> {
  if (redis.status === "end") return;
  if (redis.status === "ready") {
    const quit = redis.quit().then(
      () => true,
      () => false,
    );
    if (await settleWithin(quit, graceMs)) return;
  }
  redis.disconnect();
}

export type { Logger };
