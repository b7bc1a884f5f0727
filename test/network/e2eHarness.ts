/**
 * Shared spawn and teardown of the multi-process network tests (test/network/e2e*.test.ts and
 * netns*.test.ts) and of bench:network: an in-process chain served over HTTP JSON-RPC
 * (cli/devnet/inProcessChain.ts, so node processes reach it), one `redis-server` per node, `versatus node` processes in their own process
 * groups (cli/devnet/cluster.ts), and optionally network namespaces joined by a bridge.
 * Everything started here is stopped by `close()`, and a process exit SIGKILLs what is left.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import type { Hex } from "viem";
import { devAccount } from "../../deploy/context.ts";
import {
  OPERATOR_ROLES,
  startCluster,
  type Cluster,
  type ClusterChain,
  type ClusterNode,
  type NodeSpec,
} from "../../cli/devnet/cluster.ts";
import { serveRpc } from "../../cli/devnet/inProcessChain.ts";
import { startRedisServer } from "../../cli/devnet/redis.ts";
import { builtProgram } from "../fixtures/programs.ts";
import { deployTestSuite, type Suite } from "../helpers/suite.ts";

export const OPERATORS = [1, 2, 3, 4];
/** Funded dev accounts that are not operators, posters or watchers in config/deploy/localhost.json. */
export const OUTSIDER = 12;
/** Node timing short enough for a fault (a stopped role, a partition) to be healed within a test. */
export const FAST_FAULT_TIMING = {
  quorum: 3,
  stealAfterMs: 2_000,
  stealStepMs: 500,
  postFallbackMs: 1_500,
  reconcileIntervalMs: 5_000,
  reconcileGraceMs: 2_000,
  membershipRefreshMs: 2_000,
  reportIntervalMs: 1_000,
};

const devKey = (index: number) => devAccount(index).privateKey as Hex;

// ---------------------------------------------------------------- network namespaces

export type Namespaces = {
  bridge: string;
  /** Address of the bridge in the root namespace (chain RPC and Redis listen there). */
  hostAddress: string;
  names: string[];
  /** Address of node i's interface inside namespace `names[i]`. */
  addresses: string[];
  /** The root-namespace end of namespace i's veth pair (a port of the bridge). */
  hostEnds: string[];
  /** Bytes sent and received so far on namespace i's veth (root end). */
  bytes: (i: number) => { rx: number; tx: number };
  /** Takes namespace i's interface down (a partition) or up again (healed). */
  link: (i: number, up: boolean) => void;
  remove: () => void;
};

function ip(args: string[], allowFail = false): string {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0 && !allowFail)
    throw new Error(`ip ${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim()}`);
  return r.stdout ?? "";
}

/** Why namespaces cannot be made here, or undefined when they can (tries one and removes it). */
export function namespacesUnavailable(): string | undefined {
  if (process.platform !== "linux") return `network namespaces are Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "creating network namespaces needs root";
  const probe = `vxprobe${process.pid % 100000}`;
  const made = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (made.error) return `the \`ip\` command is not available (${made.error.message})`;
  if (made.status !== 0) return `ip netns add failed: ${made.stderr.trim()}`;
  spawnSync("ip", ["netns", "del", probe]);
  const veth = spawnSync("ip", ["link", "add", `${probe}a`, "type", "veth", "peer", "name", `${probe}b`], {
    encoding: "utf8",
  });
  if (veth.status !== 0) return `veth pairs cannot be created: ${veth.stderr.trim()}`;
  spawnSync("ip", ["link", "del", `${probe}a`]);
  return undefined;
}

/**
 * `count` namespaces, each with a veth whose peer is in a bridge of the root namespace, on a /24
 * of 10.(77..).x. Interface names are short (15 bytes max) and unique per process. Partly made
 * ones are removed if a step fails.
 */
export function createNamespaces(count: number): Namespaces {
  const tag = `vx${(process.pid % 10000).toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
  const subnet = `10.${77 + (process.pid % 50)}.${process.pid % 200}`;
  const bridge = `${tag}br`;
  const names = Array.from({ length: count }, (_, i) => `${tag}n${i}`);
  const hostEnds = names.map((_, i) => `${tag}h${i}`);
  const addresses = names.map((_, i) => `${subnet}.${10 + i}`);
  const hostAddress = `${subnet}.1`;
  const remove = () => {
    for (const name of names) ip(["netns", "del", name], true);
    for (const end of hostEnds) ip(["link", "del", end], true);
    ip(["link", "del", bridge], true);
  };
  try {
    ip(["link", "add", bridge, "type", "bridge"]);
    ip(["addr", "add", `${hostAddress}/24`, "dev", bridge]);
    ip(["link", "set", bridge, "up"]);
    names.forEach((name, i) => {
      ip(["netns", "add", name]);
      ip(["link", "add", hostEnds[i]!, "type", "veth", "peer", "name", "eth0", "netns", name]);
      ip(["link", "set", hostEnds[i]!, "master", bridge, "up"]);
      ip(["-n", name, "addr", "add", `${addresses[i]}/24`, "dev", "eth0"]);
      ip(["-n", name, "link", "set", "eth0", "up"]);
      ip(["-n", name, "link", "set", "lo", "up"]);
    });
  } catch (error) {
    remove();
    throw error;
  }
  const stat = (end: string, what: string) => Number(readFileSync(`/sys/class/net/${end}/statistics/${what}`, "utf8"));
  return {
    bridge,
    hostAddress,
    names,
    addresses,
    hostEnds,
    bytes: (i) => ({ rx: stat(hostEnds[i]!, "rx_bytes"), tx: stat(hostEnds[i]!, "tx_bytes") }),
    link: (i, up) => void ip(["-n", names[i]!, "link", "set", "eth0", up ? "up" : "down"]),
    remove,
  };
}

/** Namespaces and interfaces of this tag still present (should be none after remove()). */
export function leftoverInterfaces(ns: Namespaces): string[] {
  const links = ip(["-o", "link", "show"], true);
  const spaces = ip(["netns", "list"], true);
  return [
    ...ns.names.filter((n) => spaces.includes(n)),
    ...links
      .split("\n")
      .filter((l) => l.includes(ns.bridge.slice(0, -2)))
      .map((l) => l.split(":")[1]!.trim()),
  ];
}

// ---------------------------------------------------------------- the world

export type NetWorld = {
  suite: Suite;
  connection: NetworkConnection;
  chain: ClusterChain;
  programs: Record<string, Hex>;
  dir: string;
  cluster: Cluster;
  nodes: ClusterNode[];
  namespaces?: Namespaces;
  /** The shape test/e2e/harness.ts's request helpers take. */
  world: { a: { suite: Suite }; programs: Record<string, Hex> };
  /** Starts one more node (e.g. an outsider) joined to the cluster. */
  addNode: (spec: Partial<NodeSpec> & { name: string; key: Hex }) => Promise<ClusterNode>;
  close: () => Promise<void>;
};

/**
 * A chain (in-process, deployed as `npx hardhat deploy` does, the operators allowed to post), the
 * payout-splitter published, and `operators` nodes (dev accounts 1..4) as separate processes, each
 * with its own redis-server. With `namespaces`, node i runs in namespace i on its own address and
 * the chain's RPC and the Redis servers listen on the bridge address.
 */
export async function createNetWorld(options: {
  operators?: number[];
  namespaces?: boolean;
  overrides?: (spec: NodeSpec) => Record<string, unknown>;
  env?: Record<string, string>;
}): Promise<NetWorld> {
  const operators = options.operators ?? OPERATORS;
  const cleanups: (() => Promise<void> | void)[] = [];
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
    const dir = mkdtempSync(join(tmpdir(), "versatus-net-"));
    // VERSATUS_KEEP_TEST_DIR=1 keeps the nodes' configs and logs for a look after the run
    if (!process.env.VERSATUS_KEEP_TEST_DIR) cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const namespaces = options.namespaces ? createNamespaces(operators.length + 1) : undefined;
    if (namespaces) cleanups.push(() => namespaces.remove());
    const host = (i: number) => namespaces?.addresses[i] ?? "127.0.0.1";
    const rootHost = namespaces?.hostAddress ?? "127.0.0.1";

    const connection = await network.create("chainA");
    const suite = await deployTestSuite(connection, {
      posters: ["dev:5", ...operators.map((i) => `dev:${i}`)],
    });
    const rpc = await serveRpc(connection, rootHost);
    cleanups.push(rpc.close);
    const chain: ClusterChain = {
      chainId: Number(suite.chainId),
      rpcUrl: rpc.url,
      oracle: suite.addresses.ExecutableOracle as Hex,
      ingestor: suite.addresses.InstructionIngestor as Hex,
      registry: suite.addresses.StakingRegistry as Hex,
      disputeManager: suite.addresses.DisputeManager as Hex,
    };
    const programsDir = join(dir, "programs");
    mkdirSync(programsDir, { recursive: true });
    const programs: Record<string, Hex> = {};
    for (const name of ["payout-splitter"]) {
      const pkg = builtProgram(name).package;
      writeFileSync(join(programsDir, `${pkg.programId}.vpkg`), pkg.bytes);
      programs[name] = pkg.programId;
      await (await suite.oracle.connect(suite.owner).publish(pkg.programId, name, "x")).wait();
    }

    const redisFor = async (name: string) => {
      const redis = await startRedisServer({
        host: rootHost,
        logFile: join(dir, name, "redis.log"),
        name: `redis of ${name}`,
      });
      cleanups.push(redis.stop);
      return redis.url;
    };
    let nextNs = 0;
    const specFor = async (
      name: string,
      key: Hex,
      roles = OPERATOR_ROLES,
      env?: Record<string, string>,
    ): Promise<NodeSpec> => {
      const i = nextNs++;
      const h = host(i);
      return {
        name,
        key,
        roles,
        redisUrl: await redisFor(name),
        host: h,
        // inside its own namespace every port is free; on loopback the node binds port 0 and says
        // which it got (a port probed free here could be taken before the node binds it)
        p2pPort: namespaces ? 4001 : 0,
        opsPort: namespaces ? 9464 : 0,
        ...(namespaces ? { netns: namespaces.names[i]! } : {}),
        ...(env || options.env ? { env: { ...options.env, ...env } } : {}),
      };
    };
    const specs: NodeSpec[] = [];
    for (const [i, index] of operators.entries()) specs.push(await specFor(`node-${i + 1}`, devKey(index)));
    const clusterOptions = {
      dir,
      network: "e2e",
      chains: [chain],
      programsDir,
      daDir: join(dir, "da"),
      nodes: specs,
      ...(options.overrides ? { overrides: options.overrides } : {}),
      // connected to the bootstrap node; whether they find each other is for the tests to check
      minPeers: 1,
      startTimeoutMs: 60_000,
    };
    const cluster = await startCluster(clusterOptions);
    cleanups.push(cluster.close);
    const nodes = [...cluster.nodes];
    const addNode: NetWorld["addNode"] = async (extra) => {
      const spec = { ...(await specFor(extra.name, extra.key, extra.roles, extra.env)), ...extra };
      const more = await startCluster({
        ...clusterOptions,
        nodes: [spec],
        minPeers: 1,
        bootstrap: [nodes[0]!.multiaddr],
      });
      cleanups.push(more.close);
      nodes.push(...more.nodes);
      return more.nodes[0]!;
    };
    return {
      suite,
      connection,
      chain,
      programs,
      dir,
      cluster,
      nodes,
      ...(namespaces ? { namespaces } : {}),
      world: { a: { suite }, programs },
      addNode,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${ms} ms${last ? ` (${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
