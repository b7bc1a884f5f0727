import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { DEFAULT_MAX_OLD_SPACE_MB, maxOldSpaceFlag } from "../node/heap.ts";
import { spawnManaged, type Exit, type ManagedProcess } from "./processes.ts";
import { clearNetworkState, redisDbUrl } from "./redis.ts";

/** The `versatus` launcher. */
export const VERSATUS_BIN = fileURLToPath(new URL("../bin.js", import.meta.url));

export type NodeRole = "relay" | "compute" | "collect" | "post" | "watch" | "persist" | "gateway";
export const OPERATOR_ROLES: NodeRole[] = ["relay", "compute", "collect", "post"];

/** What a node needs to know about one chain (the chain entry of `versatus node`'s config). */
export type ClusterChain = {
  chainId: number;
  rpcUrl: string;
  oracle: Address;
  ingestor: Address;
  /** The StakingRegistry: the active set (membership) and, for the watcher, its registry. */
  registry: Address;
  disputeManager?: Address;
};

export type NodeSpec = {
  /** 1-based; the node's directory is `node-<index>` (the watcher's `watcher`). */
  name: string;
  /** Operator (or watcher) key: VERSATUS_OPERATOR_KEY. */
  key: Hex;
  /** Poster key (VERSATUS_POSTER_KEY); default: the operator key (each operator posts its own turns). */
  posterKey?: Hex;
  roles: NodeRole[];
  redisUrl: string;
  /** Address the node listens on (libp2p and its ops server). */
  host: string;
  /** libp2p TCP port (0 = any free one: the address is read back from GET /network). */
  p2pPort: number;
  /** Ops server port (0 = any free one: read back from the node's "node started" log line). */
  opsPort: number;
  /** Run the node inside this network namespace (`ip netns exec`). */
  netns?: string;
  env?: Record<string, string>;
  /** Extra Node options of the node process (e.g. `--inspect-port=0`: chaos/forceGc.ts). */
  execArgv?: string[];
  /** Peers this node must see before the cluster counts as started (default: the cluster's minPeers). */
  minPeers?: number;
  /** The node's `content` config (persist/gateway roles, docs/content.md); its dataDir defaults to `<dir>/content`. */
  content?: Record<string, unknown>;
  /** The node's `network.recoveryThreads` (signer recovery off the main thread); default: the config's. */
  recoveryThreads?: number;
};

export type ClusterOptions = {
  /** node-<i>/ under it: node.json, peer.key, node.log */
  dir: string;
  network: string;
  chains: ClusterChain[];
  programsDir: string;
  daDir: string;
  nodes: NodeSpec[];
  /** Extra settings merged into every node's config (tests: faster stealing, limits, ...). */
  overrides?: (spec: NodeSpec) => Record<string, unknown>;
  /** Join an existing network through these addresses (default: the first node started here). */
  bootstrap?: string[];
  /** Wait until every node sees this many peers (default: all the others). */
  minPeers?: number;
  startTimeoutMs?: number;
};

export type PeerStatusJson = {
  peerId: string;
  operator?: string | null;
  role?: string | null;
  bound?: boolean;
  score?: number;
  addrs?: string[];
};

/** network/'s `OperatorNetwork.status()`. */
export type P2pStatusJson = {
  peerId?: string;
  operator?: string;
  addresses?: string[];
  peers?: PeerStatusJson[];
  topics?: { topic: string; peers: number; mesh: number }[];
  banned?: { peerId: string; until: number }[];
  messages?: { accepted: Record<string, number>; rejected: Record<string, number>; ignored: Record<string, number> };
  [key: string]: unknown;
};

/** A node's GET /network: `{ operator, roles, network: <p2p status>, membership, quorum, requests, backpressure }`. */
export type NetworkStatusJson = {
  operator?: string | null;
  roles?: string[];
  network?: P2pStatusJson;
  requests?: unknown[];
  backpressure?: unknown[];
  [key: string]: unknown;
};

/** The p2p part of a node's status (older shapes put it at the top level). */
export const p2pOf = (status: NetworkStatusJson): P2pStatusJson =>
  status.network && typeof status.network === "object" ? status.network : (status as P2pStatusJson);

export type ClusterNode = {
  spec: NodeSpec;
  operator: Address;
  dir: string;
  configPath: string;
  logFile: string;
  opsUrl: string;
  process: ManagedProcess;
  peerId: string;
  /** The node's libp2p address with its peer id (a bootstrap entry for the others). */
  multiaddr: string;
  status: () => Promise<NetworkStatusJson>;
  /** Starts it again (same config, peer key, ports and Redis) after a stop or a kill. */
  restart: () => Promise<void>;
  /** The bootstrap list it restarts with (the first node has none at its first start). */
  rejoinWith: (bootstrap: string[]) => void;
  stop: () => Promise<Exit>;
  kill: () => Promise<Exit>;
};

export type Cluster = {
  nodes: ClusterNode[];
  close: () => Promise<void>;
};

/** A chain of a prepared devnet (cli/devnet/prepare.ts `DevnetChain`) as a node sees it. */
export function clusterChainOf(c: {
  chainId: number;
  rpcUrl: string;
  oracle: Address;
  ingestor: Address;
  operatorSet: Address;
  staking?: { registry: Address };
}): ClusterChain {
  return {
    chainId: c.chainId,
    rpcUrl: c.rpcUrl,
    oracle: c.oracle,
    ingestor: c.ingestor,
    registry: c.staking?.registry ?? c.operatorSet,
  };
}

/**
 * The benchmarks' operator cluster on a prepared devnet: one node per key with every operator role,
 * node `i` on Redis database `i + 1` of `redisUrl` (cleared first; its REDIS_URL set to it, as the
 * driver's own would override the config), libp2p and ops on free ports, programs and DA under
 * `work`, started once every node sees the three others.
 */
export async function operatorCluster(args: {
  work: string;
  network: string;
  chains: Parameters<typeof clusterChainOf>[0][];
  redisUrl: string;
  keys: Hex[];
  /** Extra environment of node `i` (0-based). */
  env?: (i: number) => Record<string, string>;
  /** Every node's `network.recoveryThreads`. */
  recoveryThreads?: number;
  overrides?: ClusterOptions["overrides"];
}): Promise<{ options: ClusterOptions; start: () => Promise<Cluster> }> {
  const nodes: NodeSpec[] = [];
  for (const [i, key] of args.keys.entries()) {
    const url = redisDbUrl(args.redisUrl, 1 + i);
    await clearNetworkState(url);
    nodes.push({
      name: `node-${i + 1}`,
      key,
      roles: OPERATOR_ROLES,
      redisUrl: url,
      env: { REDIS_URL: url, ...args.env?.(i) },
      host: "127.0.0.1",
      p2pPort: 0,
      opsPort: 0,
      ...(args.recoveryThreads === undefined ? {} : { recoveryThreads: args.recoveryThreads }),
    });
  }
  const options: ClusterOptions = {
    dir: join(args.work, "nodes"),
    network: args.network,
    chains: args.chains.map(clusterChainOf),
    programsDir: join(args.work, "programs"),
    daDir: join(args.work, "da"),
    nodes,
    minPeers: Math.min(3, nodes.length - 1),
    startTimeoutMs: 90_000,
    ...(args.overrides ? { overrides: args.overrides } : {}),
  };
  return { options, start: () => startCluster(options) };
}

/** The config `versatus node --config` reads (cli/node/config.ts), for one node of the cluster. */
export function nodeConfig(options: ClusterOptions, spec: NodeSpec, dir: string, bootstrap: string[]) {
  return {
    network: {
      name: options.network,
      listen: [`/ip4/${spec.host}/tcp/${spec.p2pPort}`],
      bootstrap,
      peerKeyFile: join(dir, "peer.key"),
      ...(spec.recoveryThreads === undefined ? {} : { recoveryThreads: spec.recoveryThreads }),
    },
    roles: spec.roles,
    redis: { url: spec.redisUrl },
    chains: options.chains.map((c) => ({
      chainId: c.chainId,
      rpcUrl: c.rpcUrl,
      oracle: c.oracle,
      ingestor: c.ingestor,
      registry: c.registry,
      ...(c.disputeManager ? { disputeManager: c.disputeManager } : {}),
      confirmations: 0,
      pollIntervalMs: 100,
    })),
    programs: { dirs: [options.programsDir] },
    da: { primary: { layer: "local", dir: options.daDir } },
    ...(spec.roles.includes("post") ? { poster: { maxBatchWaitMs: 50 } } : {}),
    ops: { port: spec.opsPort, host: spec.host },
    // every node of a cluster shares one working directory: the relative default would be shared too
    content: { dataDir: join(dir, "content"), ...spec.content },
    ...options.overrides?.(spec),
  };
}

/**
 * A node's keys, as `versatus node` reads them from the environment: the operator key (not for a
 * watch-only node), the poster key for the post role (default: the operator's own), the watcher's.
 */
export function nodeKeyEnv(spec: NodeSpec): Record<string, string> {
  const watchOnly = spec.roles.every((r) => r === "watch");
  return {
    ...(watchOnly ? {} : { VERSATUS_OPERATOR_KEY: spec.key }),
    ...(spec.roles.includes("post") ? { VERSATUS_POSTER_KEY: spec.posterKey ?? spec.key } : {}),
    ...(spec.roles.includes("watch") ? { WATCHER_KEY: spec.key } : {}),
  };
}

async function fetchJson(url: string, ms = 10_000): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(ms) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export const peerCount = (status: NetworkStatusJson): number => (p2pOf(status).peers ?? []).length;

/**
 * Starts `options.nodes` as `versatus node --config <dir>/node.json` processes, each in its own
 * process group with its log in `<dir>/node.log`: the first node alone, then (with the first
 * node's address as their bootstrap list) the others; waits until each answers GET /network and
 * sees `minPeers` peers. On failure everything started is stopped before the error is thrown.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const nodes: ClusterNode[] = [];
  const deadlineMs = options.startTimeoutMs ?? 60_000;
  try {
    const first = await startNode(options, options.nodes[0]!, options.bootstrap ?? [], deadlineMs);
    nodes.push(first);
    const bootstrap = options.bootstrap ?? [first.multiaddr];
    nodes.push(
      ...(await Promise.all(options.nodes.slice(1).map((spec) => startNode(options, spec, bootstrap, deadlineMs)))),
    );
    // the first node started alone: should it restart, it joins through the others
    if (!options.bootstrap && nodes.length > 1) first.rejoinWith(nodes.slice(1).map((n) => n.multiaddr));
    const want = options.minPeers ?? nodes.length - 1;
    const until = Date.now() + deadlineMs;
    for (const node of nodes) {
      for (;;) {
        const seen = await node.status().then(peerCount, () => 0);
        if (seen >= (node.spec.minPeers ?? want)) break;
        if (!node.process.running()) throw new Error(`${node.spec.name} exited; log ${node.logFile}`);
        if (Date.now() > until)
          throw new Error(
            `${node.spec.name} sees ${seen} peers, not ${want}, after ${deadlineMs} ms; log ${node.logFile}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return {
    nodes,
    close: async () => void (await Promise.all(nodes.map((n) => n.stop()))),
  };
}

async function startNode(
  options: ClusterOptions,
  spec: NodeSpec,
  bootstrap: string[],
  timeoutMs: number,
): Promise<ClusterNode> {
  const dir = join(options.dir, spec.name);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, "node.json");
  // the node's heap bound goes on its command line (V8 sizes the heap at start): read from the
  // config it is given, so the node does not have to start itself again with it (cli/node/heap.ts)
  let heapMb = DEFAULT_MAX_OLD_SPACE_MB;
  const writeConfig = (s: NodeSpec, list = bootstrap) => {
    const config = nodeConfig(options, s, dir, list);
    heapMb = (config as { heap?: { maxOldSpaceMb?: number } }).heap?.maxOldSpaceMb ?? DEFAULT_MAX_OLD_SPACE_MB;
    writeFileSync(configPath, JSON.stringify(config, null, 2) + "\n");
  };
  writeConfig(spec);
  const logFile = join(dir, "node.log");
  // port 0: the node picks one and says which (its "node started" log line; GET /network for libp2p)
  let opsUrl = spec.opsPort ? `http://${spec.host}:${spec.opsPort}` : "";
  const launch = () => {
    const nodeArgs = [...(spec.execArgv ?? []), maxOldSpaceFlag(heapMb)];
    const [command, args] = spec.netns
      ? [
          "ip",
          ["netns", "exec", spec.netns, process.execPath, ...nodeArgs, VERSATUS_BIN, "node", "--config", configPath],
        ]
      : [process.execPath, [...nodeArgs, VERSATUS_BIN, "node", "--config", configPath]];
    return spawnManaged({
      name: spec.name,
      command,
      args: args as string[],
      logFile,
      // REDIS_URL overrides a config's redis.url: the parent's (the base the devnet derived every
      // node's database from) would put every node on one database, so each gets its own.
      env: {
        ...process.env,
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        REDIS_URL: spec.redisUrl,
        ...nodeKeyEnv(spec),
        ...spec.env,
      },
    });
  };
  const status = async () => {
    if (!opsUrl) throw new Error(`${spec.name} has not said where its ops server is yet`);
    return (await fetchJson(`${opsUrl}/network`)) as NetworkStatusJson;
  };
  const ready = async (proc: ManagedProcess): Promise<NetworkStatusJson> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!opsUrl)
        opsUrl = proc.log().match(/"msg":"node started"/) ? (proc.log().match(/"ops":"(http:[^"]+)"/)?.[1] ?? "") : "";
      try {
        const s = await status();
        if (p2pOf(s).peerId) return s;
      } catch {
        // not up yet
      }
      if (!proc.running())
        throw new Error(`${spec.name} exited before serving /network; log ${logFile}:\n${tail(proc)}`);
      if (Date.now() > until)
        throw new Error(`${spec.name} did not serve /network within ${timeoutMs} ms; log ${logFile}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  const node: ClusterNode = {
    spec,
    operator: privateKeyToAccount(spec.key).address,
    dir,
    configPath,
    logFile,
    opsUrl,
    process: launch(),
    peerId: "",
    multiaddr: "",
    rejoinWith: () => {},
    status,
    restart: async () => {
      await node.process.stop();
      node.process = launch();
      await ready(node.process);
      node.opsUrl = opsUrl;
    },
    stop: () => node.process.stop(),
    kill: () => node.process.kill(),
  };
  try {
    const s = p2pOf(await ready(node.process));
    node.peerId = s.peerId!;
    const tcp = (s.addresses ?? []).find((a) => a.startsWith(`/ip4/${spec.host}/tcp/`) && !a.includes("/ws"));
    const base = tcp ?? `/ip4/${spec.host}/tcp/${spec.p2pPort}`;
    node.multiaddr = base.includes("/p2p/") ? base : `${base}/p2p/${node.peerId}`;
    node.opsUrl = opsUrl;
    // a restart comes back on the same ports (peers and bootstrap lists know this address)
    const p2pPort = Number(/\/tcp\/(\d+)/.exec(node.multiaddr)?.[1] ?? spec.p2pPort);
    node.rejoinWith = (list) => writeConfig({ ...spec, p2pPort, opsPort: Number(new URL(opsUrl).port) }, list);
    node.rejoinWith(bootstrap);
  } catch (error) {
    await node.process.stop(2_000);
    throw error;
  }
  return node;
}

function tail(proc: ManagedProcess, lines = 20): string {
  return proc.log().trim().split("\n").slice(-lines).join("\n");
}
