/**
 * The network a chaos run attacks, all on loopback: two chains (chaos/chainHost.ts, each its own
 * process), a fault proxy in front of each chain's RPC, the DA layer (an EigenDA-proxy fake behind
 * a fault proxy as the primary, the local store as the fallback), one redis-server per node, four
 * operator nodes (`versatus node`, roles relay + compute + collect + post in one process each) and
 * a watcher node (role watch), linked by libp2p (cli/devnet/cluster.ts). Everything it starts is
 * stopped by `close()`; `processGroups()` lists what must be gone afterwards.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Hex } from "viem";
import { devAccount } from "../deploy/context.ts";
import { OPERATOR_ROLES, startCluster, type Cluster, type ClusterNode, type NodeSpec } from "../cli/devnet/cluster.ts";
import { spawnManaged, type ManagedProcess } from "../cli/devnet/processes.ts";
import { startRedisServer } from "../cli/devnet/redis.ts";
import { hardhatCommand, hardhatEnv } from "../scripts/localChains.ts";
import { startFakeEigenDaProxy, type FakeEigenDaProxy } from "../cli/devnet/eigendaFake.ts";
import type { HostedChain } from "./chainHost.ts";
import { startFaultProxy, type FaultProxy } from "./rpcProxy.ts";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const OPERATOR_INDICES = [1, 2, 3, 4];
export const WATCHER_INDEX = 9;
export const devKey = (index: number) => devAccount(index).privateKey as Hex;

export type ChaosChain = HostedChain & { process: ManagedProcess; proxy: FaultProxy };

export type NodeRedis = { url: string; port: number; process: ManagedProcess; logFile: string };

export type ChaosWorld = {
  dir: string;
  chains: ChaosChain[];
  /** Operator nodes (dev:1..4): relay, compute, collect and post run in each node's one process. */
  nodes: ClusterNode[];
  /** The watch-role node (dev:9), when started. */
  watcher?: ClusterNode;
  redis: NodeRedis[];
  da: { fake: FakeEigenDaProxy; proxy: FaultProxy };
  programs: Record<string, Hex>;
  /** Depth (blocks dropped) of each reorg injected so far. */
  reorgDepths: number[];
  /** Poster transactions replaced in each stuck-poster window. */
  replacedPosterTxs: number[];
  /** Stops node `node`'s redis-server (its data is gone: nothing is persisted). */
  redisDown: (node: number) => Promise<void>;
  /** Starts it again, empty, on the same port. */
  redisUp: (node: number) => Promise<void>;
  /** Process groups started for this world (nodes, redis-servers, chains), for the leftover check. */
  processGroups: () => number[];
  close: () => Promise<void>;
};

/** Starts one chain host; resolves when it has written what it serves. */
export async function startChainHost(options: {
  network: "chainA" | "chainBSim";
  dir: string;
  programs: Record<string, Hex>;
  timeoutMs?: number;
}): Promise<HostedChain & { process: ManagedProcess }> {
  const out = join(options.dir, `${options.network}.json`);
  // compiled once before (`hardhat build`, or the test run's own build): two hosts compiling into
  // one artifacts folder at once would race
  const [command, args] = hardhatCommand(REPO_ROOT, ["run", "--no-compile", join(REPO_ROOT, "chaos", "chainHost.ts")]);
  const proc = spawnManaged({
    name: `chain ${options.network}`,
    command,
    args,
    cwd: REPO_ROOT,
    logFile: join(options.dir, `${options.network}.log`),
    env: hardhatEnv({
      CHAOS_CHAIN_NETWORK: options.network,
      CHAOS_CHAIN_OUT: out,
      CHAOS_PROGRAMS: JSON.stringify(options.programs),
    }),
  });
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  while (!existsSync(out)) {
    if (!proc.running()) throw new Error(`chain host ${options.network} exited; log ${proc.logFile}:\n${proc.log()}`);
    if (Date.now() > deadline) {
      await proc.stop(2_000);
      throw new Error(`chain host ${options.network} did not start in time; log ${proc.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ...(JSON.parse(readFileSync(out, "utf8")) as HostedChain), process: proc };
}

/** Node timing of a chaos network: fast stealing and fallback posting, so a lost node costs seconds. */
export const CHAOS_TIMING = {
  quorum: 3,
  stealAfterMs: 3_000,
  stealStepMs: 1_000,
  postFallbackMs: 3_000,
  reconcileIntervalMs: 10_000,
  reconcileGraceMs: 5_000,
  membershipRefreshMs: 5_000,
  reportIntervalMs: 1_000,
};

export async function startChaosWorld(options: {
  dir: string;
  /** name → programId; packages under `programsDir`. */
  programs: Record<string, Hex>;
  programsDir: string;
  watcher?: boolean;
  /** Chains already hosted (default: start chainA and chainBSim). */
  chains?: (HostedChain & { process: ManagedProcess })[];
  /** Every node's `heap.maxOldSpaceMb` (default: the node config's default). */
  heapMb?: number;
  log?: (line: string) => void;
}): Promise<ChaosWorld> {
  const log = options.log ?? (() => {});
  const cleanups: (() => Promise<void> | void)[] = [];
  const groups: number[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // every step runs even when one fails
      }
    }
  };
  try {
    mkdirSync(options.dir, { recursive: true });
    const hosted =
      options.chains ??
      (await Promise.all(
        (["chainA", "chainBSim"] as const).map((network) =>
          startChainHost({ network, dir: options.dir, programs: options.programs }),
        ),
      ));
    const chains: ChaosChain[] = [];
    for (const h of hosted) {
      groups.push(h.process.pid);
      cleanups.push(() => h.process.stop(5_000).then(() => undefined));
      const proxy = await startFaultProxy({ upstream: h.rpcUrl, name: `rpc ${h.chainId}` });
      cleanups.push(proxy.close);
      chains.push({ ...h, proxy });
    }
    log(`chains ${chains.map((c) => `${c.chainId} at ${c.rpcUrl} (proxy ${c.proxy.url})`).join(", ")}`);

    const fake = await startFakeEigenDaProxy();
    cleanups.push(fake.close);
    const daProxy = await startFaultProxy({ upstream: fake.url, name: "da" });
    cleanups.push(daProxy.close);

    const redis: NodeRedis[] = [];
    const names = [...OPERATOR_INDICES.map((_, i) => `node-${i + 1}`), ...(options.watcher ? ["watcher"] : [])];
    for (const name of names) {
      const logFile = join(options.dir, name, "redis.log");
      const started = await startRedisServer({ logFile, name: `redis of ${name}` });
      const entry: NodeRedis = {
        url: started.url,
        port: Number(new URL(started.url).port),
        process: started.process,
        logFile,
      };
      redis.push(entry);
      groups.push(started.process.pid);
      cleanups.push(() => entry.process.stop(3_000).then(() => undefined));
    }

    const specs: NodeSpec[] = names.map((name, i) => ({
      name,
      key: devKey(name === "watcher" ? WATCHER_INDEX : OPERATOR_INDICES[i]!),
      roles: name === "watcher" ? ["watch"] : OPERATOR_ROLES,
      redisUrl: redis[i]!.url,
      host: "127.0.0.1",
      p2pPort: 0,
      opsPort: 0,
      // REDIS_URL overrides a node's redis.url: one inherited from a test run would put every
      // node on one Redis
      env: { REDIS_URL: redis[i]!.url },
      // SIGUSR1 opens the inspector on a free port (five nodes, one default port): chaos/forceGc.ts
      execArgv: ["--inspect-port=0"],
    }));
    const daDir = join(options.dir, "da");
    const cluster: Cluster = await startCluster({
      dir: options.dir,
      network: "chaos",
      chains: chains.map((c) => ({
        chainId: c.chainId,
        rpcUrl: c.proxy.url,
        oracle: c.oracle as Hex,
        ingestor: c.ingestor as Hex,
        registry: c.registry as Hex,
        disputeManager: c.disputeManager as Hex,
      })),
      programsDir: options.programsDir,
      daDir,
      nodes: specs,
      overrides: () => ({
        chains: chains.map((c) => ({
          chainId: c.chainId,
          rpcUrl: c.proxy.url,
          oracle: c.oracle,
          ingestor: c.ingestor,
          registry: c.registry,
          disputeManager: c.disputeManager,
          confirmations: 0,
          // a reorg of the chaos run is at most a few blocks deep: the relay rescans this many
          reorgDepth: 16,
          pollIntervalMs: 100,
        })),
        // the primary DA layer is the one the schedule takes down; the local store takes over
        da: {
          primary: { layer: "eigenda", url: daProxy.url, putTimeoutMs: 5_000, getTimeoutMs: 5_000 },
          fallback: { layer: "local", dir: daDir },
        },
        timing: CHAOS_TIMING,
        ...(options.heapMb ? { heap: { maxOldSpaceMb: options.heapMb } } : {}),
      }),
      minPeers: 1,
      startTimeoutMs: 120_000,
    });
    cleanups.push(cluster.close);
    const nodes = cluster.nodes.filter((n) => n.spec.name !== "watcher");
    const watcher = cluster.nodes.find((n) => n.spec.name === "watcher");
    for (const n of cluster.nodes) groups.push(n.process.pid);
    writeFileSync(
      join(options.dir, "world.json"),
      JSON.stringify(
        { chains: chains.map(({ process: _p, proxy, ...c }) => ({ ...c, proxy: proxy.url })), da: daProxy.url },
        null,
        2,
      ),
    );

    const redisDown = async (node: number) => void (await redis[node]!.process.stop(3_000));
    const redisUp = async (node: number) => {
      const entry = redis[node]!;
      if (entry.process.running()) return;
      const again = await startRedisServer({ port: entry.port, logFile: entry.logFile, name: `redis of node ${node}` });
      entry.process = again.process;
      groups.push(again.process.pid);
    };

    return {
      dir: options.dir,
      chains,
      nodes,
      ...(watcher ? { watcher } : {}),
      redis,
      da: { fake, proxy: daProxy },
      programs: options.programs,
      reorgDepths: [],
      replacedPosterTxs: [],
      redisDown,
      redisUp,
      processGroups: () => [...groups, ...cluster.nodes.map((n) => n.process.pid)],
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
