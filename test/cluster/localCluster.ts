import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { RedisConfig } from "../../protocol/config.ts";

/** Loopback ports of the test cluster (bus ports are these + 10000). */
export const CLUSTER_PORTS = [7101, 7102, 7103, 7104, 7105, 7106] as const;
/**
 * How long a master may be silent before its replica takes over. Short, so a failover happens
 * within the test; production clusters keep the 15 s default.
 */
const NODE_TIMEOUT_MS = 1_000;

/** Why the cluster tests cannot run here, or undefined when redis-server and redis-cli exist. */
export function clusterUnavailable(): string | undefined {
  for (const tool of ["redis-server", "redis-cli"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

/**
 * A started {@link LocalCluster} for a mocha `before` hook, or a skip of the suite with the reason
 * printed when redis-server or redis-cli is missing.
 */
export async function startClusterOrSkip(context: Mocha.Context): Promise<LocalCluster> {
  const missing = clusterUnavailable();
  if (missing) {
    console.log(`    skipped: ${missing}`);
    context.skip();
  }
  const cluster = new LocalCluster();
  await cluster.start();
  return cluster;
}

type ClusterNode = { id: string; port: number; master: boolean; masterId?: string; slots: string[] };

/** Parses `CLUSTER NODES`. */
function parseNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(" ");
      const port = Number(address!.split("@")[0]!.split(":")[1]);
      const master = flags!.split(",").includes("master") && !flags!.includes("fail");
      return { id: id!, port, master, masterId: masterId === "-" ? undefined : masterId, slots };
    });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`local cluster: timed out waiting for ${what}${last ? ` (${String(last)})` : ""}`);
}

/** One command to one node, over a short-lived plain connection. */
async function ask(port: number, ...command: string[]): Promise<string> {
  const redis = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {}); // a refused connection rejects connect() below
  try {
    await redis.connect();
    return String(await redis.call(command[0]!, ...command.slice(1)));
  } finally {
    redis.disconnect();
  }
}

/**
 * Six `redis-server` processes on loopback (three masters, one replica each) made into a cluster
 * with `redis-cli --cluster create`, in a temp dir, with no persistence. `close()` kills every
 * process it started and removes the dir; an exit of the test process kills them too.
 */
export class LocalCluster {
  private dir = mkdtempSync(join(tmpdir(), "versatus-cluster-"));
  private readonly processes = new Map<number, ChildProcess>();
  private readonly killAtExit = () => {
    for (const child of this.processes.values()) child.kill("SIGKILL");
  };

  /** The `redis` config of a service using this cluster. */
  config(): RedisConfig {
    return {
      cluster: { nodes: CLUSTER_PORTS.slice(0, 3).map((p) => `redis://127.0.0.1:${p}`), slotsRefreshIntervalMs: 1_000 },
    };
  }

  /** Starts six empty nodes and creates the cluster; resolves once every node says cluster_state:ok. */
  async start(): Promise<void> {
    for (const port of CLUSTER_PORTS) {
      if (await portOpen(port)) throw new Error(`local cluster: port ${port} is already in use`);
    }
    process.removeListener("exit", this.killAtExit);
    process.once("exit", this.killAtExit);
    for (const port of CLUSTER_PORTS) this.spawnNode(port);
    for (const port of CLUSTER_PORTS)
      await until(async () => ((await ask(port, "PING")) === "PONG" ? true : undefined), `node ${port}`, 10_000);
    const create = spawnSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...CLUSTER_PORTS.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "1",
        "--cluster-yes",
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await this.waitHealthy();
  }

  /** Resolves once every running node reports cluster_state:ok and every replica is in sync. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await until(
      async () => {
        for (const port of this.processes.keys()) {
          if (!(await ask(port, "CLUSTER", "INFO")).includes("cluster_state:ok")) return undefined;
          const replication = await ask(port, "INFO", "replication");
          if (replication.includes("role:slave") && !replication.includes("master_link_status:up")) return undefined;
        }
        const nodes = parseNodes(await ask(this.anyPort(), "CLUSTER", "NODES"));
        return nodes.filter((n) => n.master).length === 3 ? true : undefined;
      },
      "cluster_state:ok on every node",
      timeoutMs,
    );
  }

  /**
   * The port of the master serving `key`'s slot, as every running node sees it (right after a
   * failover some nodes still learn the new master by gossip: this waits until they agree).
   */
  async masterOf(key: string): Promise<number> {
    const slot = await this.keyslot(key);
    const serving = (nodes: ClusterNode[]) =>
      nodes.find(
        (n) =>
          n.master &&
          n.slots.some((range) => {
            const [from, to] = range.split("-").map(Number);
            return slot >= from! && slot <= (to ?? from)!;
          }),
      )?.port;
    return until(
      async () => {
        const views = await Promise.all(
          [...this.processes.keys()].map(async (port) => serving(parseNodes(await ask(port, "CLUSTER", "NODES")))),
        );
        return views.every((v) => v !== undefined && v === views[0]) ? views[0] : undefined;
      },
      `every node to agree on the master of slot ${slot}`,
      30_000,
    );
  }

  /** `CLUSTER KEYSLOT key`. */
  async keyslot(key: string): Promise<number> {
    return Number(await ask(this.anyPort(), "CLUSTER", "KEYSLOT", key));
  }

  /** SIGKILLs the node on `port` (no shutdown, no save) and waits until its replica took over. */
  async killMaster(port: number): Promise<number> {
    const child = this.processes.get(port);
    if (!child) throw new Error(`local cluster: no node on ${port}`);
    const nodes = parseNodes(await ask(port, "CLUSTER", "NODES"));
    const victim = nodes.find((n) => n.port === port)!;
    const replica = nodes.find((n) => n.masterId === victim.id)!;
    child.kill("SIGKILL");
    this.processes.delete(port);
    await until(
      async () =>
        parseNodes(await ask(replica.port, "CLUSTER", "NODES")).find((n) => n.port === replica.port)?.master
          ? true
          : undefined,
      `replica ${replica.port} promoted`,
      30_000,
    );
    await until(
      async () => ((await ask(replica.port, "CLUSTER", "INFO")).includes("cluster_state:ok") ? true : undefined),
      "cluster_state:ok after failover",
      30_000,
    );
    return replica.port;
  }

  /** Kills all six nodes, wipes their state, starts six empty ones and creates the cluster again. */
  async restartEmpty(): Promise<void> {
    await this.killAll();
    rmSync(this.dir, { recursive: true, force: true });
    this.dir = mkdtempSync(join(tmpdir(), "versatus-cluster-"));
    await this.start();
  }

  /** Kills every node it started and removes the temp dir. Safe to call twice. */
  async close(): Promise<void> {
    await this.killAll();
    process.removeListener("exit", this.killAtExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** SIGKILLs every node (the cluster is down until {@link restartEmpty}). */
  async killAll(): Promise<void> {
    const exits = [...this.processes.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    );
    this.processes.clear();
    await Promise.all(exits);
  }

  private anyPort(): number {
    const [port] = this.processes.keys();
    if (port === undefined) throw new Error("local cluster: no node runs");
    return port;
  }

  private spawnNode(port: number): void {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--cluster-node-timeout",
        String(NODE_TIMEOUT_MS),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
        "--logfile",
        join(this.dir, `redis-${port}.log`),
      ],
      { stdio: "ignore" },
    );
    this.processes.set(port, child);
  }
}
