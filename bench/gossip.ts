/**
 * Gossip propagation among N in-process operator nodes on loopback (issue 12 item 8):
 * `node bench/gossip.ts [nodes] [messages]` prints JSON; `measureGossip` is what bench/network.ts
 * (multi-process, 16 nodes) builds on. Every node is a real `startOperatorNetwork` with its own
 * operator key and binding; messages are request announcements (validated like any other:
 * binding, active set, rate, decoding), published round-robin by every node.
 *
 * - latency: one message every `intervalMs`; for each (message, receiver) the time from the
 *   publish call to the receiver's handler (one process, one clock), p50 / p99 over all of them;
 * - throughput: `messages` published as fast as the publishers go; messages delivered per second
 *   per node until the last receiver has them all.
 * In one process all nodes share the CPU (2 cores here), so these are upper bounds of what
 * separate processes measure.
 */
import { pathToFileURL } from "node:url";
import { keccak256, numberToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startOperatorNetwork, type OperatorNetwork, type RequestAnnouncement } from "../network/index.ts";
import { gossipTopics } from "../protocol/gossip.ts";
import { percentile } from "./stats.ts";

export type GossipBenchOptions = {
  nodes: number;
  messages: number;
  /** Pause between latency-phase messages. Default 10 ms. */
  intervalMs?: number;
  network?: string;
  chainId?: number;
};

export type GossipBenchResult = {
  nodes: number;
  messages: number;
  /** Time until every node was bound to every other and subscribed. */
  mesh_ready_ms: number;
  gossip_ms_p50: number;
  gossip_ms_p90: number;
  gossip_ms_p99: number;
  gossip_ms_max: number;
  /** Deliveries that never came (of messages × (nodes − 1)). */
  lost: number;
  messages_per_second_per_node: number;
};

const round = (x: number) => Math.round(x * 100) / 100;

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function announcement(chainId: number, n: number): RequestAnnouncement {
  const id = keccak256(numberToHex(n, { size: 32 }));
  return { chainId: String(chainId), requestId: id, blockNumber: String(n), blockHash: id, txHash: id, logIndex: 0 };
}

export async function measureGossip(options: GossipBenchOptions): Promise<GossipBenchResult> {
  const { nodes, messages } = options;
  const chainId = options.chainId ?? 31337;
  const network = options.network ?? "bench";
  const interval = options.intervalMs ?? 10;
  const accounts = Array.from({ length: nodes }, () => privateKeyToAccount(generatePrivateKey()));
  const active = { operators: accounts.map((a) => a.address), watchers: [] };
  const nets: OperatorNetwork[] = [];
  const started = Date.now();
  try {
    const open = async (index: number, bootstrap: string[]) => {
      const net = await startOperatorNetwork({
        network,
        account: accounts[index]!,
        listen: ["/ip4/127.0.0.1/tcp/0"],
        bootstrap,
        chains: [chainId],
        membership: async () => active,
        limits: { messagesPerSecondPerPeer: 100_000 },
      });
      nets.push(net);
      return net;
    };
    const first = await open(0, []);
    await Promise.all(accounts.slice(1).map((_, i) => open(i + 1, [first.addresses()[0]!])));
    const topic = gossipTopics(network).requests(chainId);
    // Ready: every node holds every other's binding and has a few topic peers (gossip does the rest).
    const ready = (n: OperatorNetwork) =>
      n.status().bindings >= nodes - 1 &&
      n.status().topics.find((t) => t.topic === topic)!.peers >= Math.min(nodes - 1, 4);
    await until(() => nets.every(ready), 120_000, "the mesh").catch((error: unknown) => {
      const counts = nets.map((n) => `${n.libp2p.getConnections().length}/${n.status().bindings}`);
      throw new Error(`${String(error)} (connections/bindings per node: ${counts.join(" ")})`);
    });
    const meshReady = Date.now() - started;

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let received = 0;
    for (const net of nets) {
      net.onRequest((a) => {
        const at = sentAt.get(a.requestId);
        if (at !== undefined) latencies.push(performance.now() - at);
        received++;
      });
    }
    // Latency phase: paced.
    for (let n = 0; n < messages; n++) {
      const a = announcement(chainId, n);
      sentAt.set(a.requestId, performance.now());
      await nets[n % nodes]!.announceRequest(a);
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
    const expected = messages * (nodes - 1);
    await until(() => received >= expected, 10_000, "the paced messages").catch(() => undefined);
    const lost = expected - received;
    const sorted = [...latencies].sort((a, b) => a - b);

    // Throughput phase: as fast as they go.
    received = 0;
    const burstStart = performance.now();
    await Promise.all(
      Array.from({ length: messages }, (_, n) =>
        nets[n % nodes]!.announceRequest(announcement(chainId, 1_000_000 + n)),
      ),
    );
    await until(() => received >= expected, 60_000, "the burst").catch(() => undefined);
    const seconds = (performance.now() - burstStart) / 1000;

    return {
      nodes,
      messages,
      mesh_ready_ms: meshReady,
      gossip_ms_p50: round(percentile(sorted, 50)),
      gossip_ms_p90: round(percentile(sorted, 90)),
      gossip_ms_p99: round(percentile(sorted, 99)),
      gossip_ms_max: round(sorted.at(-1) ?? NaN),
      lost,
      messages_per_second_per_node: round(received / nodes / seconds),
    };
  } finally {
    await Promise.allSettled(nets.map((n) => n.close()));
  }
}

// No top-level await (issue 13): the script runs in main().
async function main(): Promise<void> {
  const nodes = Number(process.argv[2] ?? 4);
  const messages = Number(process.argv[3] ?? 200);
  console.log(JSON.stringify(await measureGossip({ nodes, messages }), null, 2));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
