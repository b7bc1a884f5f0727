import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { BaseError } from "../../protocol/errors.ts";
import { QUEUE_PREFIX, STATE_PREFIX } from "../../protocol/queues.ts";
import { spawnManaged, type ManagedProcess } from "./processes.ts";

export async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The Redis the devnet uses: `REDIS_URL` (default 127.0.0.1:6379) if it answers; otherwise a
 * throwaway `redis-server` on a free port (its own process group, log in `logFile`) when one is
 * installed; otherwise a clear error.
 */
export async function devnetRedis(
  url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  logFile = join(tmpdir(), `versatus-devnet-redis-${process.pid}.log`),
): Promise<{
  url: string;
  stop: () => Promise<void>;
}> {
  if (await answers(url)) return { url, stop: async () => {} };
  if (!hasRedisServer()) {
    throw new BaseError(`No Redis answers at ${url} and redis-server is not installed`, {
      hints: ["Start Redis (e.g. `redis-server --daemonize yes`) or set REDIS_URL to one that runs."],
    });
  }
  const started = await startRedisServer({ logFile });
  return { url: started.url, stop: started.stop };
}

/** Deletes the network's keys (queues, cursors, schedules) so fresh chains start from fresh state. */
export async function clearNetworkState(url: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  let deleted = 0;
  try {
    for (const pattern of [`${QUEUE_PREFIX}:*`, `${STATE_PREFIX}*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        if (keys.length) deleted += await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    await redis.quit();
  }
  return deleted;
}

/** `url` with its database index replaced by `db` (redis://host:port/db). */
export function redisDbUrl(url: string, db: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

/**
 * A `redis-server` of its own on `host` (a free port unless given), in its own process group, no
 * persistence, log in `logFile`. Tests and benchmarks give each node one (nothing shared with
 * other tests' databases, and reachable on a bridge address from network namespaces).
 */
export async function startRedisServer(options: {
  host?: string;
  port?: number;
  logFile: string;
  name?: string;
}): Promise<{
  url: string;
  process: ManagedProcess;
  stop: () => Promise<void>;
}> {
  const host = options.host ?? "127.0.0.1";
  // a port probed free can be taken before redis-server binds it: try again on another one
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort(host));
    const process = spawnManaged({
      name: options.name ?? `redis-server :${port}`,
      command: "redis-server",
      args: ["--port", String(port), "--bind", host, "--save", "", "--appendonly", "no", "--protected-mode", "no"],
      logFile: options.logFile,
    });
    const url = `redis://${host}:${port}`;
    const deadline = Date.now() + 10_000;
    while (!(await answers(url)) && process.running() && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    if (process.running() && (await answers(url)))
      return { url, process, stop: async () => void (await process.stop(3_000)) };
    await process.stop(1_000);
    if (attempt >= 3 || options.port !== undefined)
      throw new BaseError(`redis-server on ${host}:${port} did not start (log: ${options.logFile})`);
  }
}

/** Whether `redis-server` is installed. */
export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}
