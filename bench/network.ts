/**
 * `npm run bench:network` (issue 12 item 8): the peer-to-peer operator network on this machine.
 *
 * 1. Gossip among 4 and 16 nodes, each its own OS process (network/ startOperatorNetwork on
 *    loopback, bootstrap list = the first node): propagation latency (publish → delivered to the
 *    application, after validation, on every other node; one clock, one machine) p50/p99, and
 *    messages delivered per second per node while every node publishes.
 * 2. Request → result latency at low load (one request at a time, mined → `ResultIngested` seen,
 *    polled every 25 ms) on the two local chains: the four-node devnet (four `versatus node`
 *    processes, each with its own Redis database, linked only by libp2p) and, in the same run on
 *    the same chains, the landed single-Redis pipeline (everything in one process, as bench:pipeline).
 *
 * Prints a table and writes bench/results/network.json. Options: --requests N (default 20),
 * --skip-gossip, --skip-latency. Child mode (internal): `node bench/network.ts --peer <config.json>`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  createPublicClient,
  createWalletClient,
  http,
  keccak256,
  stringToHex,
  toHex,
  type Address,
  type Hex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { percentile } from "./stats.ts";

const self = fileURLToPath(import.meta.url);
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const flag = (name: string) => process.argv.includes(`--${name}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------- child: one gossip node

type PeerConfig = { index: number; key: Hex; operators: Address[]; bootstrap: string[]; chainId: number };

async function runPeer(configFile: string): Promise<void> {
  const { startOperatorNetwork } = await import("../network/index.ts");
  const config = JSON.parse(readFileSync(configFile, "utf8")) as PeerConfig;
  const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");
  const net = await startOperatorNetwork({
    network: "bench",
    account: privateKeyToAccount(config.key),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap: config.bootstrap,
    chains: [config.chainId],
    membership: async () => ({ operators: config.operators, watchers: [] }),
  });
  let received = 0;
  net.onRequest((a) => {
    received++;
    // blockNumber carries the publisher's send time (ms): same machine, same clock
    if (a.logIndex === 1) out({ recv: a.requestId, at: Date.now(), sentAt: Number(a.blockNumber) });
  });
  out({ ready: true, peerId: net.peerId, address: net.addresses()[0] });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line) as { cmd: string; count?: number; intervalMs?: number; tag?: string };
    if (cmd.cmd === "status") {
      const s = net.status();
      const mesh = Math.min(...s.topics.filter((t) => t.topic.includes("/requests/")).map((t) => t.mesh));
      out({ status: true, peers: s.peers.filter((p) => p.bound).length, mesh });
    } else if (cmd.cmd === "publish") {
      // logIndex 1: a latency probe (each receiver reports it); 0: throughput traffic (counted only)
      const probe = cmd.tag === "latency" ? 1 : 0;
      const started = Date.now();
      for (let n = 0; n < cmd.count!; n++) {
        const due = started + n * cmd.intervalMs!;
        if (due > Date.now()) await sleep(due - Date.now());
        const sentAt = Date.now();
        await net
          .announceRequest({
            chainId: String(config.chainId),
            requestId: keccak256(toHex(`${cmd.tag}-${config.index}-${n}-${sentAt}`)),
            blockNumber: String(sentAt),
            blockHash: keccak256(toHex(`block-${n}`)),
            txHash: keccak256(toHex(`tx-${config.index}-${n}`)),
            logIndex: probe,
          })
          .catch(() => undefined);
      }
      out({ published: cmd.count, tag: cmd.tag });
    } else if (cmd.cmd === "count") {
      out({ received });
    } else if (cmd.cmd === "stop") {
      await net.close();
      process.exit(0);
    }
  }
}

// ---------------------------------------------------------------- parent: gossip among N processes

type Child = {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  waiters: ((l: Record<string, unknown>) => boolean)[];
};

function startChild(config: PeerConfig, dir: string): Child {
  const file = join(dir, `peer-${config.index}.json`);
  writeFileSync(file, JSON.stringify(config));
  const proc = spawn(process.execPath, [self, "--peer", file], { stdio: ["pipe", "pipe", "inherit"], detached: true });
  const child: Child = { proc, lines: [], waiters: [] };
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    child.lines.push(parsed);
    child.waiters = child.waiters.filter((w) => !w(parsed));
  });
  return child;
}

function next(
  child: Child,
  match: (l: Record<string, unknown>) => boolean,
  ms = 60_000,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("a gossip node did not answer in time")), ms);
    child.waiters.push((l) => {
      if (!match(l)) return false;
      clearTimeout(timer);
      resolve(l);
      return true;
    });
  });
}
const send = (child: Child, cmd: unknown) => child.proc.stdin!.write(JSON.stringify(cmd) + "\n");

async function measureGossip(
  n: number,
): Promise<{ p50: number; p99: number; delivered: number; expected: number; perNodePerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), `versatus-bench-gossip-${n}-`));
  const keys = Array.from({ length: n }, () => generatePrivateKey());
  const operators = keys.map((k) => privateKeyToAccount(k).address);
  const children: Child[] = [];
  try {
    const first = startChild({ index: 0, key: keys[0]!, operators, bootstrap: [], chainId: 31337 }, dir);
    children.push(first);
    const ready = await next(first, (l) => l.ready === true);
    const bootstrap = [
      `${ready.address as string}`.includes("/p2p/")
        ? (ready.address as string)
        : `${ready.address as string}/p2p/${ready.peerId as string}`,
    ];
    for (let i = 1; i < n; i++)
      children.push(startChild({ index: i, key: keys[i]!, operators, bootstrap, chainId: 31337 }, dir));
    await Promise.all(children.slice(1).map((c) => next(c, (l) => l.ready === true, 120_000)));
    // formed: every node bound to its peers and in a mesh on the requests topic
    const want = Math.min(n - 1, 4);
    const until = Date.now() + 120_000;
    for (;;) {
      const statuses = await Promise.all(
        children.map((c) => {
          const answer = next(c, (l) => l.status === true, 10_000);
          send(c, { cmd: "status" });
          return answer;
        }),
      );
      if (statuses.every((s) => (s.peers as number) >= want && (s.mesh as number) >= Math.min(want, 3))) break;
      if (Date.now() > until) throw new Error(`gossip mesh of ${n} did not form: ${JSON.stringify(statuses)}`);
      await sleep(500);
    }
    await sleep(2_000);

    // latency: each node in turn publishes 10 probes, 100 ms apart
    const probes = 10;
    for (const c of children) {
      const done = next(c, (l) => l.published !== undefined && l.tag === "latency");
      send(c, { cmd: "publish", count: probes, intervalMs: 100, tag: "latency" });
      await done;
    }
    await sleep(2_000);
    const latencies = children
      .flatMap((c) => c.lines.filter((l) => l.recv !== undefined))
      .map((l) => (l.at as number) - (l.sentAt as number))
      .sort((a, b) => a - b);

    // throughput: every node publishes 40/s for 5 s (under the 200/s per-origin limit)
    const counts0 = await Promise.all(children.map(async (c) => (await askCount(c)).received as number));
    const seconds = 5;
    const rate = 40;
    const started = Date.now();
    await Promise.all(
      children.map((c) => {
        const done = next(c, (l) => l.published !== undefined && l.tag === "throughput", 60_000);
        send(c, { cmd: "publish", count: rate * seconds, intervalMs: 1000 / rate, tag: "throughput" });
        return done;
      }),
    );
    await sleep(1_000);
    const elapsed = (Date.now() - started) / 1000;
    const counts1 = await Promise.all(children.map(async (c) => (await askCount(c)).received as number));
    const perNode = counts1.map((c, i) => (c - counts0[i]!) / elapsed);
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      delivered: latencies.length,
      expected: n * probes * (n - 1),
      perNodePerSecond: round(perNode.reduce((a, b) => a + b, 0) / n),
    };
  } finally {
    for (const c of children) {
      try {
        process.kill(-c.proc.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

async function askCount(c: Child) {
  const answer = next(c, (l) => l.received !== undefined, 10_000);
  send(c, { cmd: "count" });
  return answer;
}

// ---------------------------------------------------------------- request → result latency

async function measureRequests(requests: number): Promise<{ nodes4: number[]; single: number[]; notes: string[] }> {
  const { prepareDevnet, devKey } = await import("../cli/devnet/prepare.ts");
  const { clearNetworkState, devnetRedis, hasRedisServer, redisDbUrl, startRedisServer } =
    await import("../cli/devnet/redis.ts");
  const { startDevnetServices, OPERATOR_ACCOUNTS } = await import("../cli/devnet/services.ts");
  const { operatorCluster } = await import("../cli/devnet/cluster.ts");
  const { executableOracleAbi, instructionIngestorAbi } = await import("../protocol/generated/abis.ts");
  const notes: string[] = [];
  const work = mkdtempSync(join(tmpdir(), "versatus-bench-network-"));
  // a throwaway redis-server of its own when installed (no other run's databases touched)
  const redis = hasRedisServer()
    ? await startRedisServer({ logFile: join(work, "redis.log") })
    : await devnetRedis(undefined, join(work, "redis.log"));
  const { chains, programs, running } = await prepareDevnet({
    root: process.cwd(),
    storeDir: join(work, "programs"),
    deploymentsDir: join(work, "deployments"),
    log: () => {},
    reuseChains: false,
    posters: OPERATOR_ACCOUNTS,
  });
  const chainA = chains[0]!;
  const transport = http(chainA.rpcUrl);
  const publicClient = createPublicClient({ transport });
  const wallet = createWalletClient({ account: privateKeyToAccount(devKey(7)), transport });
  const programId = programs["payout-splitter"]!.programId;
  const input = stringToHex(
    JSON.stringify({ recipients: [{ to: "0x000000000000000000000000000000000000dEaD", weight: 1 }] }),
  );
  const ticker = setInterval(() => void publicClient.request({ method: "evm_mine" } as never).catch(() => {}), 1_000);

  /** One request at a time: mined → its ResultIngested seen. */
  const sequential = async (count: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const hash = await wallet.writeContract({
        address: chainA.oracle,
        abi: executableOracleAbi,
        functionName: "request",
        args: [programId, input, 3600n],
        value: 10n ** 15n,
        chain: null,
      });
      const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 });
      const minedAt = Date.now();
      const requestId = receipt.logs.find((l) => l.address.toLowerCase() === chainA.oracle.toLowerCase())
        ?.topics[1] as Hex;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const logs = await publicClient.getContractEvents({
          address: chainA.ingestor,
          abi: instructionIngestorAbi,
          eventName: "ResultIngested",
          args: { requestId },
          fromBlock: receipt.blockNumber,
        });
        if (logs.length) {
          out.push(Date.now() - minedAt);
          break;
        }
        if (Date.now() > deadline) {
          notes.push(`request ${requestId} not fulfilled within 60 s`);
          break;
        }
        await sleep(25);
      }
      await sleep(200);
    }
    return out;
  };

  try {
    // ---- the four-node devnet
    const cluster = await (
      await operatorCluster({
        work,
        network: "bench",
        chains,
        redisUrl: redis.url,
        keys: OPERATOR_ACCOUNTS.map((index) => devKey(index)),
      })
    ).start();
    let nodes4: number[];
    try {
      await sequential(2); // warm-up (programs loaded, connections open): not counted
      nodes4 = await sequential(requests);
    } finally {
      await cluster.close();
    }

    // ---- the landed single-Redis pipeline, same chains, everything in this process
    const single = redisDbUrl(redis.url, 5);
    await clearNetworkState(single);
    const services = await startDevnetServices({
      chains,
      redisUrl: single,
      storeDir: join(work, "programs"),
      dataDir: work,
      watcher: false,
    });
    let singleLatencies: number[];
    try {
      await sequential(2);
      singleLatencies = await sequential(requests);
    } finally {
      await services.close();
      await clearNetworkState(single);
    }
    return { nodes4, single: singleLatencies, notes };
  } finally {
    clearInterval(ticker);
    await Promise.all(running.map((c) => c.stop()));
    await redis.stop();
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const requests = Number(arg("requests") ?? 20);
  const report: Record<string, unknown> = {};
  if (!flag("skip-gossip")) {
    for (const n of [4, 16]) {
      const g = await measureGossip(n);
      report[`gossip_ms_p50_${n}_nodes`] = g.p50;
      report[`gossip_ms_p99_${n}_nodes`] = g.p99;
      report[`gossip_delivered_${n}_nodes`] = `${g.delivered}/${g.expected}`;
      report[`messages_per_second_per_node_${n}_nodes`] = g.perNodePerSecond;
      if (n === 16) report.messages_per_second_per_node = g.perNodePerSecond;
    }
  }
  if (!flag("skip-latency")) {
    const { nodes4, single, notes } = await measureRequests(requests);
    const sorted4 = [...nodes4].sort((a, b) => a - b);
    const sorted1 = [...single].sort((a, b) => a - b);
    report.requests_each = requests;
    report.nodes4_latency_ms_p50 = percentile(sorted4, 50);
    report.nodes4_latency_ms_p90 = percentile(sorted4, 90);
    report.nodes4_fulfilled = nodes4.length;
    report.single_redis_latency_ms_p50 = percentile(sorted1, 50);
    report.single_redis_latency_ms_p90 = percentile(sorted1, 90);
    report.single_redis_fulfilled = single.length;
    if (notes.length) report.notes = notes;
  }
  report.targets = "nodes4_latency_ms_p50 <= 300; gossip_ms_p99_16_nodes <= 50";
  report.machine = "one machine, 2 cores: every node process, both hardhat chains and this driver share them";
  console.table(Object.entries(report).map(([metric, value]) => ({ metric, value })));
  mkdirSync("bench/results", { recursive: true });
  // merge: a run with --skip-* keeps the other half of an earlier run
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(readFileSync("bench/results/network.json", "utf8")) as Record<string, unknown>;
  } catch {
    // first run
  }
  writeFileSync("bench/results/network.json", JSON.stringify({ ...previous, ...report }, null, 2) + "\n");
  console.log("wrote bench/results/network.json");
  process.exit(0);
}

// No top-level await (issue 13): the script runs in main() or, as a child, runPeer().
const peer = arg("peer");
if (process.argv[1] === self)
  (peer ? runPeer(peer) : main()).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
