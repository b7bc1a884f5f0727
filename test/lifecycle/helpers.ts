import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { Writable } from "node:stream";
import { pino } from "pino";
import { join } from "node:path";

/** The `versatus` launcher. */
export const BIN = new URL("../../cli/bin.js", import.meta.url).pathname;
/** Redis database of the lifecycle tests. */
export const LIFECYCLE_REDIS_DB = 10;
export const redisUrl = `${(process.env.REDIS_URL ?? "redis://127.0.0.1:6379").replace(/\/\d+$/, "")}/${LIFECYCLE_REDIS_DB}`;

export const ADDRESS_1 = "0x0000000000000000000000000000000000000001";
export const ADDRESS_2 = "0x0000000000000000000000000000000000000002";
export const OPERATOR = "0x00000000000000000000000000000000000000a1";
/** Hardhat dev keys (local chains only). */
export const DEV_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
export const DEV_KEY_2 = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

export type Exit = { code: number | null; signal: NodeJS.Signals | null; at: number };

export type Service = {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr so far. */
  output: () => string;
  exited: Promise<Exit>;
  /** Resolves with the first output line matching `pattern` (rejects after `ms` or on exit). */
  waitFor: (pattern: RegExp, ms?: number) => Promise<string>;
};

const spawned: ChildProcess[] = [];

/**
 * Starts `node cli/bin.js ...args` in its own process group (so a test can signal one process
 * or the group, and the cleanup can kill everything it left).
 */
export function startCli(args: string[], options: { env?: Record<string, string>; node?: string } = {}): Service {
  // The services' environment overrides win over their config file: the test runner's REDIS_URL
  // would replace the dead or proxied Redis a test puts in the config.
  const { REDIS_URL: _runnerRedis, ...inherited } = process.env;
  const child = spawn(options.node ?? process.execPath, [BIN, ...args], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...inherited, LOG_LEVEL: "info", ...options.env },
  });
  spawned.push(child);
  let text = "";
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    for (const listener of listeners) listener();
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const waitFor = (pattern: RegExp, ms = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = text.split("\n").find((l) => pattern.test(l));
        if (line !== undefined) {
          done();
          resolve(line);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no output matching ${pattern} within ${ms} ms; output:\n${text}`));
      }, ms);
      void exited.then(() => {
        setTimeout(() => {
          check();
          done();
          reject(new Error(`exited before printing ${pattern}; output:\n${text}`));
        }, 50);
      });
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return { child, pid: child.pid!, output: () => text, exited, waitFor };
}

/** SIGKILLs the process group of everything started here that is still running. */
export function killAllStarted(): void {
  for (const child of spawned.splice(0)) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone (or `ms` passed); returns whether it is gone. */
export async function gone(pid: number, ms = 5_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

/** A local port nothing listens on (bound once, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Holds a local port (an ops server's port in use); close() frees it. */
export async function occupiedPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const dir = mkdtempSync(join(tmpdir(), "versatus-lifecycle-"));
let files = 0;
export function configFile(content: unknown): string {
  const path = join(dir, `config-${files++}.json`);
  writeFileSync(path, JSON.stringify(content, null, 2));
  return path;
}
export const programsDir = dir;

/** The pino JSON lines of `output`. */
export function logLines(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/** The URL of the service's /metrics + /healthz server, from its "started" log line or its listening socket. */
export function opsUrl(output: string): string | undefined {
  return output.match(/"metrics":"(http:\/\/127\.0\.0\.1:\d+)"/)?.[1];
}

/** A system Node older than 22.18 (the launcher then re-runs itself on the pinned one), if any. */
export function oldSystemNode(): string | undefined {
  const which = spawnSync("which", ["-a", "node"], { encoding: "utf8" });
  for (const candidate of [...new Set([...(which.stdout ?? "").split("\n").filter(Boolean), "/usr/bin/node"])]) {
    const version = spawnSync(candidate, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout?.trim();
    if (!version) continue;
    const [major, minor] = version.split(".").map(Number) as [number, number];
    if (major < 22 || (major === 22 && minor < 18)) return candidate;
  }
  return undefined;
}

/** Config pieces for services whose dependencies are down. */
export function chainAt(rpcUrl: string, chainId = 31337) {
  return { chainId, rpcUrl, oracle: ADDRESS_1, ingestor: ADDRESS_2, pollIntervalMs: 200 };
}

/** Serves an in-process chain's provider as JSON-RPC over HTTP, so the CLI (another process) can use it. */
export async function rpcBridge(chain: {
  connection: { provider: unknown };
}): Promise<{ url: string; server: Server }> {
  const provider = chain.connection.provider as {
    request: (a: { method: string; params?: unknown }) => Promise<unknown>;
  };
  const answer = async (call: { id: unknown; method: string; params?: unknown }) => {
    try {
      return {
        jsonrpc: "2.0",
        id: call.id,
        result: await provider.request({ method: call.method, params: call.params }),
      };
    } catch (error) {
      const e = error as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: call.id,
        error: { code: e.code ?? -32000, message: e.message ?? String(error), data: e.data },
      };
    }
  };
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const parsed = JSON.parse(body) as
        { id: unknown; method: string; params?: unknown } | { id: unknown; method: string; params?: unknown }[];
      void (Array.isArray(parsed) ? Promise.all(parsed.map(answer)) : answer(parsed)).then((reply) =>
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify(reply, (_, v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v))),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** The log lines a DependencyMonitor wrote about `dependency` ("redis", "rpc of chain 31337"). */
export function dependencyLines(output: string, dependency: string): Record<string, unknown>[] {
  return logLines(output).filter((l) => l.dependency === dependency);
}

/** What every service must do when SIGTERM/SIGINT arrives: exit 0 within this long, whatever is down. */
export const STOP_BOUND_MS = 12_000;

export async function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Sends `signal` and checks the service (one process, no launcher here) is gone in bounded time with status 0. */
export async function stopsWithin(service: Service, signal: NodeJS.Signals, boundMs = STOP_BOUND_MS) {
  const sentAt = Date.now();
  process.kill(service.pid, signal);
  const exit = await Promise.race([
    service.exited,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), boundMs + 5_000).unref()),
  ]);
  expect(exit, `still running ${boundMs + 5_000} ms after ${signal}:\n${service.output()}`).to.not.equal(undefined);
  expect(exit!.at - sentAt, service.output()).to.be.lessThan(boundMs);
  expect({ code: exit!.code, signal: exit!.signal }, service.output()).to.deep.equal({ code: 0, signal: null });
  expect(await gone(service.pid, 1_000)).to.equal(true);
}

/** A pino logger whose lines land in `lines`. */
export function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level: "info" }, sink) };
}
