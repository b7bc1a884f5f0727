import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { createProgress } from "../protocol/progress.ts";
import { prepareDevnet } from "./devnet/prepare.ts";
import { clearNetworkState, devnetRedis, freePort, redisDbUrl } from "./devnet/redis.ts";
import { OPERATOR_ROLES, startCluster, type Cluster, type ClusterNode, type NodeSpec } from "./devnet/cluster.ts";
import { networkStatusRows } from "./network.ts";
import { privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "viem";
import { devKey } from "./devnet/prepare.ts";
import { createPublicClient, http } from "viem";
import { OPERATOR_ACCOUNTS, WATCHER_ACCOUNT } from "./devnet/services.ts";
import { savedNameRegistry, startDevnetNames } from "./devnet/dns.ts";
import { contentFlow } from "./devnet/content.ts";
import {
  failingFlow,
  faultyQuorumFlow,
  payoutFlow,
  stakingSummary,
  tokenMoveFlow,
  type FlowResult,
} from "./devnet/flows.ts";

/** Operators that lie in the "faulty quorum" flow (3 of 4: the threshold), and who they pay. */
const COLLUDERS = [1, 2, 3];
const ATTACKER_ACCOUNT = 8;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * `versatus devnet`: two local chains, the suite deployed on both (HoneSTake included), the example
 * programs published, four operator nodes (`versatus node`, threshold 3) as separate processes,
 * each with its own Redis database, linked only by libp2p on loopback, and the staked watcher as a
 * fifth node; then the sample flows (the last one: a faulty quorum caught and slashed) and a summary.
 * Keeps serving until Ctrl-C; `--once` exits after the flows (0 only if all succeeded).
 */
export function registerDevnetCommand(program: Command): void {
  program
    .command("devnet")
    .description("run a local devnet: 2 chains, the suite, 4 operator nodes and a watcher over libp2p, sample flows")
    .option("--once", "exit after the sample flows (exit code 0 only if all succeeded)")
    .option("--timeout <ms>", "how long each flow may take", "60000")
    .option("--verbose", "the nodes log at debug level (their JSON logs are in .versatus/devnet/nodes/<node>/node.log)")
    .option("--explorer", "serve the web explorer with --once too (it always runs when the devnet keeps serving)")
    .option("--no-explorer", "do not serve the web explorer")
    .action(async (opts: { once?: boolean; timeout: string; verbose?: boolean; explorer?: boolean }) => {
      process.exitCode = await runDevnet({
        once: !!opts.once,
        timeoutMs: Number(opts.timeout),
        verbose: !!opts.verbose,
        explorer: opts.explorer ?? !opts.once,
      });
    });
}

/** Preferred ports of the devnet's nodes (a taken one is replaced by a free one). */
const P2P_BASE_PORT = 4101;
const OPS_BASE_PORT = 9701;
/** Preferred ports of the two content gateways (node-3, node-4). */
const GATEWAY_BASE_PORT = 8481;
/** The operator nodes that also persist content and run a gateway (R = 2: both hold everything). */
const CONTENT_NODES = [3, 4];
/** Preferred port of the web explorer (a taken one is replaced by a free one). */
const EXPLORER_PORT = 8600;

async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(preferred, "127.0.0.1", () => server.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}

/** The devnet's nodes: `node-1..4` for operators dev:1..4 (Redis db 1..4), `watcher` for dev:9 (db 5). */
export async function devnetNodeSpecs(options: {
  redisUrl: string;
  colludeFile?: string;
  colluders?: number[];
  /** The NameRegistry the gateways' `GET /name/<name>` reads. */
  names?: { chainId: number; registry: Address };
}): Promise<NodeSpec[]> {
  const specs: NodeSpec[] = [];
  for (const [i, index] of OPERATOR_ACCOUNTS.entries()) {
    const collude = options.colludeFile && options.colluders?.includes(index);
    const content = CONTENT_NODES.indexOf(i + 1);
    specs.push({
      name: `node-${i + 1}`,
      key: devKey(index),
      roles: content < 0 ? OPERATOR_ROLES : [...OPERATOR_ROLES, "persist", "gateway"],
      ...(content < 0
        ? {}
        : {
            content: {
              replicas: CONTENT_NODES.length,
              reportIntervalMs: 500,
              gateway: {
                port: await portOr(GATEWAY_BASE_PORT + content),
                upload: true,
                ...(options.names ? { names: options.names } : {}),
              },
            },
          }),
      redisUrl: redisDbUrl(options.redisUrl, i + 1),
      host: "127.0.0.1",
      p2pPort: await portOr(P2P_BASE_PORT + i),
      opsPort: await portOr(OPS_BASE_PORT + i),
      ...(collude ? { env: { VERSATUS_DEVNET_COLLUDE: options.colludeFile! } } : {}),
    });
  }
  specs.push({
    name: "watcher",
    key: devKey(WATCHER_ACCOUNT),
    roles: ["watch"],
    redisUrl: redisDbUrl(options.redisUrl, OPERATOR_ACCOUNTS.length + 1),
    host: "127.0.0.1",
    p2pPort: await portOr(P2P_BASE_PORT + OPERATOR_ACCOUNTS.length),
    opsPort: await portOr(OPS_BASE_PORT + OPERATOR_ACCOUNTS.length),
    // it follows the chain and DA; gossip is optional for it (and operators may not count it yet)
    minPeers: 0,
  });
  return specs;
}

export async function runDevnet(options: {
  once: boolean;
  timeoutMs: number;
  verbose: boolean;
  /** Serve the web explorer (default: when not `once`). */
  explorer?: boolean;
}): Promise<number> {
  const withExplorer = options.explorer ?? !options.once;
  // Steps and their times on stderr (a redrawn line in a terminal, plain lines in CI); the devnet's
  // own lines stay on stdout unless the terminal is showing a step being drawn.
  const progress = createProgress({ title: "Versatus devnet" });
  const log = (line: string) =>
    progress.interactive ? progress.log(`[devnet] ${line}`) : console.log(`[devnet] ${line}`);
  const dataDir = join(repoRoot, ".versatus", "devnet");
  mkdirSync(dataDir, { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  // One stop per Ctrl-C: the terminal's SIGINT and the launcher's forwarded copy arrive together
  // (cli/bin.js); a repeat more than a second later exits at once.
  let stopAt: number | undefined;
  const onStop = () => {
    if (stopAt === undefined) {
      stopAt = Date.now();
      void stop().then(() => process.exit(0));
    } else if (Date.now() - stopAt > 1_000) process.exit(130);
  };
  // SIGHUP too (a closed terminal, or the launcher forwarding it): left to Node's default it would
  // end this process without its exit hook, and the chains and nodes would run on as orphans.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onStop);
  try {
    const redis = await progress.step("redis", () => devnetRedis(undefined, join(dataDir, "logs", "redis.log")));
    cleanups.push(redis.stop);
    log(`redis at ${redis.url} (each node its own database: node-1..4 in db 1..4, the watcher in db 5)`);
    const deploymentsDir = process.env.VERSATUS_DEPLOYMENTS_DIR ?? join(repoRoot, "deployments");
    const preparing = progress.start("two chains, the suite on both, the example programs");
    const { chains, programs, running } = await prepareDevnet({
      root: repoRoot,
      storeDir: join(dataDir, "programs"),
      deploymentsDir,
      log,
      posters: OPERATOR_ACCOUNTS,
    });
    cleanups.push(async () => void (await Promise.all(running.map((c) => c.stop()))));
    preparing.done();
    const specs = await devnetNodeSpecs({
      redisUrl: redis.url,
      colludeFile: join(dataDir, "collude.json"),
      colluders: COLLUDERS,
      names: { chainId: chains[0]!.chainId, registry: savedNameRegistry(deploymentsDir, chains[0]!.name) },
    });
    if (running.every((c) => c.process)) {
      // Fresh chains: any queue, cursor or schedule left in Redis belongs to chains that are gone.
      let cleared = 0;
      for (const spec of specs) cleared += await clearNetworkState(spec.redisUrl);
      if (cleared) log(`cleared ${cleared} Redis keys of an earlier devnet`);
    }
    for (const [name, { programId }] of Object.entries(programs)) log(`program ${name}: ${programId}`);

    // requests the colluding operators lie about (only the faulty-quorum flow adds to it): the
    // colluding nodes read the file before signing (cli/devnet/tamper.ts)
    const liesFile = join(dataDir, "lies.txt");
    writeFileSync(liesFile, "");
    writeFileSync(
      join(dataDir, "collude.json"),
      JSON.stringify({ attacker: privateKeyToAccount(devKey(ATTACKER_ACCOUNT)).address, lies: liesFile }) + "\n",
    );
    const lies = new Set<Hex>();
    const remember = lies.add.bind(lies);
    lies.add = (id: Hex) => {
      appendFileSync(liesFile, `${id}\n`);
      return remember(id);
    };

    const chainA = chains[0]!;
    const starting = progress.start("four operator nodes and the watcher (separate processes, libp2p)");
    const cluster: Cluster = await startCluster({
      dir: join(dataDir, "nodes"),
      network: "devnet",
      chains: chains.map((c) => ({
        chainId: c.chainId,
        rpcUrl: c.rpcUrl,
        oracle: c.oracle,
        ingestor: c.ingestor,
        registry: c.staking?.registry ?? chainA.operatorSet,
        ...(c.staking ? { disputeManager: c.staking.disputeManager } : {}),
      })),
      programsDir: join(dataDir, "programs"),
      daDir: join(dataDir, "da"),
      nodes: options.verbose ? specs.map((s) => ({ ...s, env: { ...s.env, LOG_LEVEL: "debug" } })) : specs,
      // every operator node must find the three others (bootstrap list: node-1 only)
      minPeers: OPERATOR_ACCOUNTS.length - 1,
      startTimeoutMs: 90_000,
    });
    cleanups.push(cluster.close);
    starting.done();
    const nodesFile = join(dataDir, "nodes.json");
    writeFileSync(
      nodesFile,
      JSON.stringify(
        cluster.nodes.map((n) => ({
          name: n.spec.name,
          operator: n.operator,
          roles: n.spec.roles,
          peerId: n.peerId,
          address: n.multiaddr,
          ops: n.opsUrl,
          redis: n.spec.redisUrl,
          pid: n.process.pid,
          log: n.logFile,
        })),
        null,
        2,
      ) + "\n",
    );
    log(
      `4 operator nodes (threshold 3) and the watcher (dev:${WATCHER_ACCOUNT}) run as separate processes, linked by libp2p; ` +
        `bootstrap ${cluster.nodes[0]!.multiaddr}; logs in ${join(dataDir, "nodes")}/*/node.log`,
    );
    for (const n of cluster.nodes)
      log(`  ${n.spec.name} pid ${n.process.pid} ${n.operator} peer ${n.peerId} ops ${n.opsUrl}`);

    if (withExplorer) {
      const serving = progress.start("the web explorer");
      // The explorer reads node-1's queues for its Bull Board: an operator sees its own domain.
      const { startExplorer } = await import("../explorer/server.ts");
      const explorer = await startExplorer({
        chains,
        port: EXPLORER_PORT,
        anyPortIfTaken: true,
        da: { dir: join(dataDir, "da") },
        redisUrl: redisDbUrl(redis.url, 1),
        devAccounts: true,
        network: "devnet",
        programDirs: [join(dataDir, "programs")],
        // its Network page: every node's auto-scaling state and content holdings (GET /network)
        nodes: cluster.nodes.map((n) => n.opsUrl),
        log,
      });
      cleanups.push(() => explorer.close());
      serving.done();
      log(
        `explorer: ${explorer.url} (requests, operators, disputes, queues, network; the example dApp is its "Example dApp" tab)`,
      );
    }

    // Names in global state (docs/dns.md): hello.versatus -> the payout splitter, and the DNS facade.
    const naming = progress.start("names: hello.versatus and the DNS facade");
    const names = await startDevnetNames({
      chain: chainA,
      deploymentsDir,
      programId: programs["payout-splitter"]!.programId,
      ownerKey: devKey(0),
    });
    cleanups.push(() => names.facade.close());
    naming.done();
    log(`dns: hello.versatus in the NameRegistry of chain ${chainA.chainId}; try: ${names.dig}`);

    // Automine chains only make blocks for transactions, and dispute phases are measured in block
    // time: an empty block a second keeps an idle chain's clock moving.
    const miners = chains.map((c) => createPublicClient({ transport: http(c.rpcUrl) }));
    const ticker = setInterval(() => {
      for (const client of miners) void client.request({ method: "evm_mine" } as never).catch(() => {});
    }, 1_000);
    cleanups.push(async () => clearInterval(ticker));

    const [, chainB] = chains as [(typeof chains)[0], (typeof chains)[0]];
    const results: FlowResult[] = [];
    for (const [name, flow] of [
      ["payout split", () => payoutFlow(chainA, programs, options.timeoutMs)],
      ["payout split (TypeScript)", () => payoutFlow(chainA, programs, options.timeoutMs, "payout-splitter-ts")],
      ["token move", () => tokenMoveFlow(chainA, chainB, programs, options.timeoutMs)],
      ["failing program", () => failingFlow(chainA, programs, options.timeoutMs)],
      ["faulty quorum", () => faultyQuorumFlow(chainA, programs, lies, options.timeoutMs)],
      [
        "content (2 gateways, one killed)",
        () =>
          contentFlow({
            nodes: CONTENT_NODES.map((n) => cluster.nodes[n - 1]!) as [ClusterNode, ClusterNode],
            dataDir,
            chain: chainA,
            deploymentsDir,
            ownerKey: devKey(0),
            timeoutMs: options.timeoutMs,
            log,
          }),
      ],
    ] as const) {
      log(`flow: ${name} ...`);
      const flowStep = progress.start(`flow: ${name}`);
      const result = await flow().catch((error: unknown): FlowResult => ({
        flow: name,
        ok: false,
        detail: (error as Error).message,
        latencyMs: 0,
      }));
      if (result.ok) flowStep.done();
      else flowStep.fail(result.detail);
      log(`flow: ${name} ${result.ok ? "succeeded" : "FAILED"} (${result.latencyMs} ms)`);
      results.push(result);
    }
    progress.done();
    console.log("\nVersatus devnet: summary");
    console.table(
      results.map((r) => ({
        flow: r.flow,
        result: r.ok ? "ok" : "FAILED",
        "latency ms": r.latencyMs,
        detail: r.detail,
      })),
    );
    console.table(
      Object.fromEntries(
        chains.map((c) => [`chain ${c.chainId}`, { rpc: c.rpcUrl, oracle: c.oracle, ingestor: c.ingestor }]),
      ),
    );
    const statuses = await Promise.all(
      cluster.nodes.map(async (n) => ({ url: n.opsUrl, status: await n.status().catch(() => undefined) })),
    );
    console.log("Nodes (versatus network status)");
    console.table(networkStatusRows(statuses));
    const standing = await stakingSummary(chainA, { operators: OPERATOR_ACCOUNTS, watcher: WATCHER_ACCOUNT });
    if (standing.length) {
      console.log(
        `HoneSTake on chain ${chainA.chainId} (reputation accrues from the fee ledger once an epoch and its window pass: versatus operator reputation)`,
      );
      console.table(standing);
    }
    console.log(`DNS facade (docs/dns.md): ${names.dig}`);
    const allOk = results.every((r) => r.ok);
    if (options.once) {
      await stop();
      return allOk ? 0 : 1;
    }
    log(
      "serving until Ctrl-C (request with `npx versatus request ...`; `npx versatus network status` shows the nodes)",
    );
    await new Promise(() => {});
    return 0;
  } catch (error) {
    console.error(`[devnet] ${(error as Error).message}`);
    await stop();
    return 1;
  }
}
