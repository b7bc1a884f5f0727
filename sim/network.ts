import { getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import {
  AUTOSCALE_RULE,
  AutoScaler,
  maxQuorums,
  peakLoadMultiplierBps,
  peakLoadQuote,
  programQuorums,
  routeIndex,
  type ScalingRule,
} from "../protocol/autoscale.ts";
import { EventQueue } from "./eventQueue.ts";
import { SeededRandom } from "./random.ts";

/**
 * A discrete-event simulation of the operator network serving one hot program (issue 17, item 5):
 * virtual time, a seeded random source, no wall clock and no sockets, so a run is a pure function
 * of its options. The scaling decisions come from the real protocol code: program quorums and
 * routing (`programQuorums`, `routeIndex`), the rule (`AutoScaler`), the quote (`peakLoadQuote`).
 *
 * What is modelled:
 * - requests arrive as a Poisson process whose rate follows `load` (piecewise linear, requests/s);
 * - each request is routed to one of the program's quorums; every member gets it after a dispatch
 *   delay (confirmation, announcement gossip and scheduling: `dispatchMs`, uniform);
 * - every node runs `slotsPerNode` executions at once and queues the rest first in, first out; an
 *   execution takes an Erlang-2 time of mean `serviceMeanMs` times the node's speed (0.8–1.25);
 * - a request's sample is its first start among its members, minus its arrival; samples are folded
 *   into the scaler in the order executions start (protocol/autoscale.ts `compareSamples`).
 *
 * What is not: other programs' load, stealing and sharing (only the program's quorums hold it, so
 * standbys refuse it: SPEC 6 "another quorum is required to hold and serve it"), operator churn,
 * and fetching the program when a quorum is added (a new quorum starts serving at once).
 */

export type LoadPoint = { atS: number; rps: number };

export type SimulationOptions = {
  seed: number;
  nodes: number;
  quorumSize: number;
  slotsPerNode: number;
  serviceMeanMs: number;
  dispatchMs: readonly [number, number];
  /** Offered load over time: linear between points; the load ends at the last point. */
  load: readonly LoadPoint[];
  /** Width of one timeline bucket. */
  bucketS: number;
  /** The oracle's base fee the quote starts from (wei), for the price line. */
  baseFeeWei: bigint;
  /** Default: the SPEC 6 rule (protocol/autoscale.ts AUTOSCALE_RULE). */
  rule?: ScalingRule;
};

export const DEFAULT_SIMULATION: SimulationOptions = {
  seed: 17,
  nodes: 1_000,
  quorumSize: 4,
  slotsPerNode: 4,
  serviceMeanMs: 400,
  dispatchMs: [10, 30],
  load: [
    { atS: 0, rps: 2 },
    { atS: 120, rps: 2 },
    { atS: 420, rps: 45 },
    { atS: 720, rps: 45 },
    { atS: 1_020, rps: 2 },
    { atS: 3_000, rps: 2 },
  ],
  bucketS: 10,
  baseFeeWei: 1_000_000_000_000_000n,
};

export type TimelinePoint = {
  t_s: number;
  offered_rps: number;
  started: number;
  quorums: number;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  latency_max_ms: number | null;
  price_bps: number;
  quote_wei: string;
};

export type SimulationResult = {
  nodes: number;
  seed: number;
  quorum_size: number;
  slots_per_node: number;
  service_mean_ms: number;
  rule: ScalingRule;
  duration_s: number;
  requests: number;
  quorums_added: number;
  quorums_dropped: number;
  quorums_capped: number;
  max_quorums: number;
  final_quorums: number;
  peak_latency_ms: number;
  /** Median sample of the load's last minute. */
  final_latency_ms: number;
  peak_price_bps: number;
  final_price_bps: number;
  events: { t_s: number; kind: string; quorums: number }[];
  timeline: TimelinePoint[];
};

type Sim = {
  queue: EventQueue<SimEvent>;
  random: SeededRandom;
};

type SimEvent =
  { kind: "arrival" } | { kind: "dispatch"; node: number; request: number } | { kind: "done"; node: number };

type NodeState = { speed: number; busy: number; waiting: number[]; head: number };
type RequestState = { arrivedAt: number; requestId: Hex; firstStart: number };

const CHAIN_ID = "31337";

/** The offered load (requests/s) at `tS`: linear between the points, 0 after the last. */
export function loadAt(load: readonly LoadPoint[], tS: number): number {
  for (let i = 1; i < load.length; i++) {
    const a = load[i - 1]!;
    const b = load[i]!;
    if (tS <= b.atS) return a.rps + ((b.rps - a.rps) * (tS - a.atS)) / Math.max(b.atS - a.atS, 1e-9);
  }
  return 0;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Runs the simulation; the result depends only on `options`. */
export function simulateNetwork(options: SimulationOptions = DEFAULT_SIMULATION): SimulationResult {
  const rule = options.rule ?? AUTOSCALE_RULE;
  if (options.load.length < 2) throw new RangeError("load needs at least two points");
  const random = new SeededRandom(options.seed);
  const sim: Sim = { queue: new EventQueue<SimEvent>(), random };
  const operators: Address[] = Array.from({ length: options.nodes }, (_, i) =>
    getAddress(`0x${keccak256(stringToHex(`sim ${options.seed} operator ${i}`)).slice(26)}`),
  );
  const index = new Map(operators.map((a, i) => [a, i]));
  const program = keccak256(stringToHex(`sim ${options.seed} hot program`));
  const nodes: NodeState[] = operators.map(() => ({ speed: random.between(0.8, 1.25), busy: 0, waiting: [], head: 0 }));
  const limit = maxQuorums(operators.length, options.quorumSize);
  const scaler = new AutoScaler({ rule });
  const quorumsByCount = new Map<number, number[][]>();
  const quorumsOf = (count: number): number[][] => {
    let q = quorumsByCount.get(count);
    if (!q) {
      q = programQuorums({ programId: program, activeSet: operators, size: options.quorumSize, count }).map((members) =>
        members.map((m) => index.get(m)!),
      );
      quorumsByCount.set(count, q);
    }
    return q;
  };

  const durationMs = options.load[options.load.length - 1]!.atS * 1000;
  const peakRps = Math.max(...options.load.map((p) => p.rps));
  const requests: RequestState[] = [];
  const events: SimulationResult["events"] = [];
  const bucketMs = options.bucketS * 1000;
  const buckets: { latencies: number[]; arrivals: number; quorums: number }[] = [];
  const bucket = (t: number) => {
    const i = Math.floor(t / bucketMs);
    while (buckets.length <= i) buckets.push({ latencies: [], arrivals: 0, quorums: scaler.quorums(program) });
    return buckets[i]!;
  };
  let peakLatency = 0;

  const startWork = (t: number, n: number) => {
    const node = nodes[n]!;
    while (node.busy < options.slotsPerNode && node.head < node.waiting.length) {
      const r = node.waiting[node.head++]!;
      if (node.head > 1024) {
        node.waiting.splice(0, node.head);
        node.head = 0;
      }
      node.busy++;
      const request = requests[r]!;
      if (request.firstStart < 0) {
        request.firstStart = t;
        const latency = t - request.arrivedAt;
        peakLatency = Math.max(peakLatency, latency);
        bucket(t).latencies.push(latency);
        const event = scaler.observe(
          {
            programId: program,
            chainId: CHAIN_ID,
            requestId: request.requestId,
            requestedAtMs: request.arrivedAt,
            startedAtMs: t,
          },
          { maxQuorums: limit },
        );
        if (event) events.push({ t_s: Math.round(t) / 1000, kind: event.kind, quorums: event.quorums });
        bucket(t).quorums = scaler.quorums(program);
      }
      // Erlang-2: the sum of two exponentials of half the mean, scaled by the node's speed
      const service =
        node.speed * (random.exponential(options.serviceMeanMs / 2) + random.exponential(options.serviceMeanMs / 2));
      sim.queue.push(t + service, { kind: "done", node: n });
    }
  };

  // arrivals: a Poisson process at the peak rate, thinned to the load at each instant
  const nextArrival = (t: number) => {
    let at = t;
    for (;;) {
      at += random.exponential(1000 / peakRps);
      if (at > durationMs) return;
      if (random.next() * peakRps < loadAt(options.load, at / 1000)) break;
    }
    sim.queue.push(at, { kind: "arrival" });
  };
  nextArrival(0);

  for (let item = sim.queue.pop(); item; item = sim.queue.pop()) {
    const { at: t, event } = item;
    if (event.kind === "arrival") {
      const r = requests.length;
      const requestId = random.bytes32();
      requests.push({ arrivedAt: t, requestId, firstStart: -1 });
      bucket(t).arrivals++;
      const quorums = quorumsOf(scaler.quorums(program));
      const members = quorums[routeIndex(CHAIN_ID, requestId, quorums.length)]!;
      for (const n of members)
        sim.queue.push(t + random.between(options.dispatchMs[0], options.dispatchMs[1]), {
          kind: "dispatch",
          node: n,
          request: r,
        });
      nextArrival(t);
    } else if (event.kind === "dispatch") {
      nodes[event.node]!.waiting.push(event.request);
      startWork(t, event.node);
    } else {
      nodes[event.node]!.busy--;
      startWork(t, event.node);
    }
  }

  // carry the quorum count through buckets without samples
  let quorums = 1;
  const timeline: TimelinePoint[] = buckets.map((b, i) => {
    if (b.latencies.length > 0) quorums = b.quorums;
    else b.quorums = quorums;
    const sorted = [...b.latencies].sort((x, y) => x - y);
    const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    return {
      t_s: (i + 1) * options.bucketS,
      offered_rps: b.arrivals / options.bucketS,
      started: sorted.length,
      quorums: b.quorums,
      latency_p50_ms: round(percentile(sorted, 0.5)),
      latency_p99_ms: round(percentile(sorted, 0.99)),
      latency_max_ms: round(sorted.length ? sorted[sorted.length - 1]! : null),
      price_bps: peakLoadMultiplierBps(b.quorums),
      quote_wei: peakLoadQuote(options.baseFeeWei, b.quorums).toString(),
    };
  });

  const lastMinute = requests
    .filter((r) => r.arrivedAt >= durationMs - 60_000 && r.firstStart >= 0)
    .map((r) => r.firstStart - r.arrivedAt)
    .sort((x, y) => x - y);
  const count = (kind: string) => events.filter((e) => e.kind === kind).length;
  const prices = timeline.map((p) => p.price_bps);
  return {
    nodes: options.nodes,
    seed: options.seed,
    quorum_size: options.quorumSize,
    slots_per_node: options.slotsPerNode,
    service_mean_ms: options.serviceMeanMs,
    rule: { ...rule },
    duration_s: durationMs / 1000,
    requests: requests.length,
    quorums_added: count("add"),
    quorums_dropped: count("drop"),
    quorums_capped: count("capped"),
    max_quorums: Math.max(1, ...timeline.map((p) => p.quorums)),
    final_quorums: scaler.quorums(program),
    peak_latency_ms: Math.round(peakLatency * 10) / 10,
    final_latency_ms: Math.round((percentile(lastMinute, 0.5) ?? 0) * 10) / 10,
    peak_price_bps: Math.max(...prices),
    final_price_bps: peakLoadMultiplierBps(scaler.quorums(program)),
    events,
    timeline,
  };
}
