import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { BaseError } from "../../protocol/errors.ts";
import { QUEUE_PREFIX } from "../../protocol/queues.ts";

async function answers(url: string): Promise<boolean> {
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The Redis the devnet uses: `REDIS_URL` (default 127.0.0.1:6379) if it answers; otherwise a
 * throwaway `redis-server` on a free port when one is installed; otherwise a clear error.
 */
export async function devnetRedis(url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"): Promise<{
  url: string;
  stop: () => Promise<void>;
}> {
  if (await answers(url)) return { url, stop: async () => {} };
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    throw new BaseError(`No Redis answers at ${url} and redis-server is not installed`, {
      hints: ["Start Redis (e.g. `redis-server --daemonize yes`) or set REDIS_URL to one that runs."],
    });
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const started = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await answers(started)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await answers(started))) throw new BaseError(`redis-server on port ${port} did not start`);
  return {
    url: started,
    stop: async () => {
      child.kill("SIGTERM");
    },
  };
}

/** Deletes the network's keys (queues, cursors, schedules) so fresh chains start from fresh state. */
export async function clearNetworkState(url: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${QUEUE_PREFIX}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
  return deleted;
}
