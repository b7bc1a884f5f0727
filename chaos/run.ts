/**
 * A chaos run on a chaos world: requests at a steady rate while the schedule breaks things, then
 * settling (waiting for the network, then refunding what expired after moving the chains' clocks
 * past the deadlines) and the checks of issue 15: every request fulfilled, failed-and-refunded or
 * refunded, none lost, none ingested twice, each oracle's balance exactly its open escrows plus
 * its fee ledger, the omni token's supply unchanged. Used by bench/chaos.ts and test/chaos/.
 */
import { encodeFunctionData, toEventSelector, type AbiEvent, type Hex } from "viem";
import { executableOracleAbi, instructionIngestorAbi } from "../protocol/generated/abis.ts";
import { beginFault, chainRpc, minePending, type ActiveFault } from "./faults.ts";
import { createLoad, MIX } from "./load.ts";
import { omniSupply, readLedger, type Ledger } from "./ledger.ts";
import { startObserver, topDistinct, warnings, type Seen } from "./observe.ts";
import { forceFullGc, type AfterGc } from "./forceGc.ts";
import { growth, sampleGroup, type ResourceSample } from "./procStats.ts";
import { countByKind, type FaultWindow } from "./schedule.ts";
import { latencySplit, type LatencySample } from "./latency.ts";
import type { ChaosWorld } from "./world.ts";

export type RunOptions = {
  requests: number;
  /** Requests per second offered (all chains together). */
  rate: number;
  schedule: FaultWindow[];
  ttlS?: number;
  /** Longest wait for the network to settle what is open before refunding the rest. */
  settleS?: number;
  /** Refund what is open once settling made no progress for this long (default 60 s). */
  stallS?: number;
  /** Resource sample period. */
  sampleMs?: number;
  /**
   * At the end, force a full GC in every node (chaos/forceGc.ts; the world starts its nodes with
   * `--inspect-port=0`) and sample their RSS again: what is left is memory in use, not V8's slack.
   */
  gcAtEnd?: boolean;
  /**
   * Also force that full GC this many seconds into the run (after warm-up): the after-GC RSS then
   * has two samples, and their slope is growth that survives collection (a leak), not V8's slack.
   */
  gcAtS?: number;
  log?: (line: string) => void;
};

export type FaultRecord = {
  kind: string;
  target: number;
  beganS: number;
  endedS: number;
  detail: string;
  error?: string;
};

export type RunResult = {
  ledger: Ledger;
  sent: number;
  sendErrors: number;
  supplyBefore: bigint;
  faults: FaultRecord[];
  durationS: number;
  /** Per 5-second bucket since the start: requests sent and results ingested (both chains). */
  timeline: { t: number; sent: number; ingested: number }[];
  /** Per process group (node-1..4, watcher, chains, redis of node-i): samples of RSS (MB) and fds. */
  resources: Record<string, ResourceSample[]>;
  /** Per node (gcAtEnd): RSS of its process group and its V8 heap after a forced full GC, or why not. */
  afterGc: Record<string, (AfterGc & { groupRssMb: number }) | { error: string }>;
  /** Per node (gcAtS): the same, early in the run, with the second of the run it was taken. */
  afterGcEarly: Record<string, (AfterGc & { groupRssMb: number; atS: number }) | { error: string }>;
  /** Second of the run the end-of-run GC (gcAtEnd) was taken. */
  afterGcAtS?: number;
  refundedAtEnd: number;
  /** Per fault kind: distinct unhealthy /healthz answers and warn/error log lines during its windows. */
  seen: Record<string, Seen>;
  /**
   * Per request whose result its origin chain ingested: when the driver sent it and when the
   * monitor (polling every 250 ms) first saw its `ResultIngested` on the origin, in seconds since
   * the start. A result a reorg dropped and the network posted again keeps its first sighting.
   */
  latencies: LatencySample[];
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const BUCKET_S = 5;

export async function runChaos(world: ChaosWorld, options: RunOptions): Promise<RunResult> {
  const log = options.log ?? (() => {});
  const ttlS = options.ttlS ?? 900;
  const load = createLoad(world, { ttlS });
  await load.setup();
  const supplyBefore = await omniSupply(world);
  const started = Date.now();
  const since = () => (Date.now() - started) / 1000;

  // ---- resources: each role's process group, sampled
  const resources: RunResult["resources"] = {};
  const groups = (): [string, number][] => [
    ...world.nodes.map((n) => [n.spec.name, n.process.pid] as [string, number]),
    ...(world.watcher ? [["watcher", world.watcher.process.pid] as [string, number]] : []),
    ...world.chains.map((c) => [`chain ${c.chainId}`, c.process.pid] as [string, number]),
    ...world.redis.map(
      (r, i) => [`redis ${i < world.nodes.length ? `node-${i + 1}` : "watcher"}`, r.process.pid] as [string, number],
    ),
  ];
  const sample = () => {
    for (const [name, pgid] of groups()) {
      const s = sampleGroup(pgid);
      if (s)
        (resources[name] ??= []).push({ t: Math.round(since()), rssMb: Math.round(s.rssMb * 10) / 10, fds: s.fds });
    }
  };
  sample();
  const allNodes = () => [...world.nodes, ...(world.watcher ? [world.watcher] : [])];
  const observer = startObserver(allNodes);
  const sampler = setInterval(sample, options.sampleMs ?? 5_000);
  let afterGcEarly: RunResult["afterGcEarly"] = {};
  /** A full GC forced in every node, one after the other; each node's memory after it, or why not. */
  const gcEveryNode = async (what: string) => {
    const out: Record<string, (AfterGc & { groupRssMb: number; atS: number }) | { error: string }> = {};
    for (const n of allNodes()) {
      try {
        const after = await forceFullGc(n.process.pid, n.logFile);
        await sleep(1_000);
        const groupRssMb = Math.round((sampleGroup(n.process.pid)?.rssMb ?? 0) * 10) / 10;
        out[n.spec.name] = { ...after, groupRssMb, atS: Math.round(since()) };
      } catch (error) {
        out[n.spec.name] = { error: (error as Error).message };
      }
      log(`${what}, ${n.spec.name}: ${JSON.stringify(out[n.spec.name])}`);
    }
    return out;
  };
  let earlyGc: Promise<void> = Promise.resolve();
  const earlyGcTimer =
    options.gcAtS === undefined
      ? undefined
      : setTimeout(() => {
          earlyGc = (async () => {
            afterGcEarly = await gcEveryNode("early forced full GC");
          })();
        }, options.gcAtS * 1000);

  // ---- throughput: results ingested per bucket, read from the chains as the run goes
  const ingestedAt: number[] = [];
  /** `${originChainId}:${requestId}` → first seen on its origin chain (s since the start) */
  const firstSeenOnOrigin = new Map<string, number>();
  const cursors = world.chains.map(() => 0n);
  let monitoring = true;
  const monitor = (async () => {
    while (monitoring) {
      for (const [i, c] of world.chains.entries()) {
        try {
          const head = BigInt(await chainRpc<Hex>(c.rpcUrl, "eth_blockNumber"));
          if (head < cursors[i]!) cursors[i] = head; // a reorg went below what was read
          if (head <= cursors[i]!) continue;
          const logs = await chainRpc<{ topics: Hex[] }[]>(c.rpcUrl, "eth_getLogs", [
            {
              address: c.ingestor,
              fromBlock: `0x${(cursors[i]! + 1n).toString(16)}`,
              toBlock: `0x${head.toString(16)}`,
              topics: [INGESTED_TOPIC],
            },
          ]);
          cursors[i] = head;
          const now = since();
          for (const l of logs) {
            ingestedAt.push(now);
            const [, requestId, origin] = l.topics;
            if (!requestId || !origin || BigInt(origin) !== BigInt(c.chainId)) continue;
            const key = `${c.chainId}:${requestId.toLowerCase()}`;
            if (!firstSeenOnOrigin.has(key)) firstSeenOnOrigin.set(key, now);
          }
        } catch {
          // the chain is busy with a fault: next round
        }
      }
      await sleep(250);
    }
  })();

  // ---- faults on schedule
  const faults: FaultRecord[] = [];
  const active = new Set<ActiveFault>();
  const timers: NodeJS.Timeout[] = [];
  const pending: Promise<void>[] = [];
  for (const w of options.schedule) {
    timers.push(
      setTimeout(() => {
        const record: FaultRecord = { kind: w.kind, target: w.target, beganS: since(), endedS: NaN, detail: "" };
        faults.push(record);
        pending.push(
          (async () => {
            let fault: ActiveFault | undefined;
            try {
              fault = await beginFault(world, w, load);
              record.detail = fault.detail;
              active.add(fault);
              log(`+${record.beganS.toFixed(0)}s fault on: ${w.kind} (${fault.detail})`);
              await sleep(w.durationS * 1000);
            } catch (error) {
              record.error = (error as Error).message;
              log(`fault ${w.kind} failed to begin: ${record.error}`);
            } finally {
              if (fault && active.delete(fault)) {
                try {
                  await fault.end();
                } catch (error) {
                  record.error = `end: ${(error as Error).message}`;
                  log(`fault ${w.kind} failed to end: ${record.error}`);
                }
              }
              record.endedS = since();
              log(`+${record.endedS.toFixed(0)}s fault off: ${w.kind}#${w.target}`);
            }
          })(),
        );
      }, w.startS * 1000),
    );
  }

  // ---- the load: a steady rate over the mix
  const sentAt: number[] = [];
  let sendErrors = 0;
  for (let i = 0; i < options.requests; i++) {
    const due = started + (i * 1000) / options.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const [kind, chain] = MIX[i % MIX.length]!;
    const record = await load.send(kind, chain % world.chains.length);
    if (record?.error) sendErrors++;
    sentAt.push(since());
    if (i > 0 && i % 500 === 0) log(`+${since().toFixed(0)}s sent ${i} requests (${ingestedAt.length} results seen)`);
  }
  log(`+${since().toFixed(0)}s all ${options.requests} requests sent; ${sendErrors} send errors`);

  // ---- heal: the schedule runs out (windows still due start and end), then nothing stays broken
  const lastEnd = Math.max(0, ...options.schedule.map((w) => w.startS + w.durationS));
  if (lastEnd > since()) await sleep((lastEnd - since()) * 1000 + 500);
  for (const t of timers) clearTimeout(t);
  await Promise.all(pending);
  for (const c of world.chains) {
    c.proxy.set(undefined);
    await chainRpc(c.rpcUrl, "evm_setAutomine", [true]).catch(() => undefined);
    await minePending(c.rpcUrl).catch(() => undefined);
  }
  world.da.proxy.set(undefined);
  for (let i = 0; i < world.redis.length; i++) await world.redisUp(i);
  for (const n of [...world.nodes, ...(world.watcher ? [world.watcher] : [])])
    if (!n.process.running()) await n.restart();

  // ---- settle: the network finishes what it can
  const settleS = options.settleS ?? 600;
  const settleUntil = Date.now() + settleS * 1000;
  let ledger = await readLedger(world);
  let best = ledger.open.length;
  let lastProgress = Date.now();
  while (
    ledger.open.length > 0 &&
    Date.now() < settleUntil &&
    Date.now() - lastProgress < (options.stallS ?? 60) * 1000
  ) {
    await sleep(3_000);
    ledger = await readLedger(world);
    if (ledger.open.length < best) {
      best = ledger.open.length;
      lastProgress = Date.now();
    }
    log(`+${since().toFixed(0)}s settling: ${ledger.open.length} open`);
  }

  // ---- what is still open expires: the chains' clocks move past every deadline, then refunds
  let refundedAtEnd = 0;
  const stillOpen = ledger.open.filter((o) => o.fate === "open");
  if (stillOpen.length > 0) {
    log(`${stillOpen.length} requests still open: moving the clocks ${ttlS + 60} s on and refunding them`);
    for (const c of world.chains) {
      await chainRpc(c.rpcUrl, "evm_increaseTime", [ttlS + 60]);
      await chainRpc(c.rpcUrl, "evm_mine");
    }
    await sleep(2_000);
    // the network may still ingest some (or skip them: deadline passed); refund what stays open
    ledger = await readLedger(world);
    for (const o of ledger.open.filter((x) => x.fate === "open")) {
      const chain = world.chains.findIndex((c) => c.chainId === o.chainId);
      try {
        await load.call(
          chain,
          world.chains[chain]!.oracle as Hex,
          encodeFunctionData({ abi: executableOracleAbi, functionName: "refund", args: [o.requestId] }),
        );
        refundedAtEnd++;
      } catch (error) {
        log(`refund of ${o.requestId} failed: ${(error as Error).message}`);
      }
    }
    await sleep(2_000);
    ledger = await readLedger(world);
  }
  monitoring = false;
  await monitor;
  const latencies = await requestLatencies(world, load.sent, firstSeenOnOrigin, started);
  await observer.stop();
  const seen: Record<string, Seen> = {};
  for (const f of faults) {
    const from = started + f.beganS * 1000;
    const to = started + (Number.isFinite(f.endedS) ? f.endedS : f.beganS + 10) * 1000 + 5_000;
    const s = (seen[f.kind] ??= { unhealthy: [], logs: [] });
    s.unhealthy.push(
      ...observer.samples
        .filter((h) => h.at >= from && h.at <= to && h.status !== 200)
        .map((h) => `${h.node} ${h.status || "no answer"} ${h.body}`),
    );
    s.logs.push(...warnings(allNodes(), from, to));
  }
  log(
    `warn/error log lines during the run: ${warnings(allNodes(), started, Date.now()).length} (${allNodes()
      .map((n) => n.logFile)
      .join(", ")})`,
  );
  for (const s of Object.values(seen)) {
    s.unhealthy = topDistinct(s.unhealthy, 4);
    s.logs = topDistinct(s.logs, 6);
  }
  clearInterval(sampler);
  sample();
  clearTimeout(earlyGcTimer);
  await earlyGc;
  const afterGcAtS = options.gcAtEnd ? Math.round(since()) : undefined;
  const afterGc: RunResult["afterGc"] = options.gcAtEnd ? await gcEveryNode("after a forced full GC") : {};

  const durationS = since();
  const buckets = Math.ceil(durationS / BUCKET_S);
  const timeline = Array.from({ length: buckets }, (_, b) => ({ t: b * BUCKET_S, sent: 0, ingested: 0 }));
  for (const t of sentAt) timeline[Math.min(buckets - 1, Math.floor(t / BUCKET_S))]!.sent++;
  for (const t of ingestedAt) timeline[Math.min(buckets - 1, Math.floor(t / BUCKET_S))]!.ingested++;
  log(`faults: ${JSON.stringify(countByKind(options.schedule))}`);
  return {
    ledger,
    sent: load.sent.length,
    sendErrors,
    supplyBefore,
    faults,
    durationS,
    timeline,
    resources,
    afterGc,
    afterGcEarly,
    ...(afterGcAtS === undefined ? {} : { afterGcAtS }),
    refundedAtEnd,
    seen,
    latencies,
  };
}

/**
 * Pairs each sent request (by its transaction hash, through the origin's `ExecutionRequested`) with
 * the first sighting of its result on that chain.
 */
async function requestLatencies(
  world: ChaosWorld,
  sent: readonly { chain: number; hash: Hex; sentAtMs: number; kind: string }[],
  firstSeen: ReadonlyMap<string, number>,
  startedMs: number,
): Promise<LatencySample[]> {
  const requestIdOfTx = new Map<string, string>();
  for (const c of world.chains) {
    const logs = await chainRpc<{ topics: Hex[]; transactionHash: Hex }[]>(c.rpcUrl, "eth_getLogs", [
      { address: c.oracle, fromBlock: "0x0", toBlock: "latest", topics: [REQUESTED_TOPIC] },
    ]);
    for (const l of logs)
      requestIdOfTx.set(l.transactionHash.toLowerCase(), `${c.chainId}:${l.topics[1]!.toLowerCase()}`);
  }
  const samples: LatencySample[] = [];
  for (const r of sent) {
    const key = requestIdOfTx.get(r.hash.toLowerCase());
    const seenS = key === undefined ? undefined : firstSeen.get(key);
    if (seenS === undefined || key === undefined) continue;
    const [chainId, requestId] = key.split(":");
    samples.push({ sentS: (r.sentAtMs - startedMs) / 1000, seenS, chainId: Number(chainId), requestId, kind: r.kind });
  }
  return samples;
}

/** Topic 0 of `ExecutionRequested` (request id ↔ the transaction that made it). */
const REQUESTED_TOPIC = toEventSelector(
  executableOracleAbi.find((e) => e.type === "event" && e.name === "ExecutionRequested") as AbiEvent,
);

/** Topic 0 of `ResultIngested` (read with plain eth_getLogs by the throughput monitor). */
const INGESTED_TOPIC = toEventSelector(
  instructionIngestorAbi.find((e) => e.type === "event" && e.name === "ResultIngested") as AbiEvent,
);

/** Summary of a run in the report's shape (issue 15). */
export function summarize(result: RunResult, requested: number) {
  const l = result.ledger;
  const lost = l.open.length;
  const rss: Record<string, number> = {};
  const fdsMax: Record<string, number> = {};
  const rssSlope: Record<string, number> = {};
  const rssSlopeSecondHalf: Record<string, number> = {};
  const fdSlope: Record<string, number> = {};
  const fdSlopeSecondHalf: Record<string, number> = {};
  const growthByRole: Record<string, ReturnType<typeof growth>> = {};
  for (const [name, samples] of Object.entries(result.resources)) {
    const g = (growthByRole[name] = growth(samples));
    rss[name] = g.rss_max_mb;
    fdsMax[name] = g.fds_max;
    rssSlope[name] = g.rss_mb_per_min;
    rssSlopeSecondHalf[name] = g.rss_mb_per_min_second_half;
    fdSlope[name] = g.fds_per_min;
    fdSlopeSecondHalf[name] = g.fds_per_min_second_half;
  }
  const faults: Record<string, number> = {};
  for (const f of result.faults)
    if (!f.error?.startsWith("end") && f.detail) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
  return {
    requests: requested,
    requests_on_chain: l.requests,
    fulfilled: l.fulfilled,
    failed_refunded: l.failed_refunded,
    refunded: l.refunded,
    refunded_after_deadline_at_end: result.refundedAtEnd,
    lost,
    lost_detail: l.open.slice(0, 20),
    duplicated: l.duplicated,
    escrow_exact: l.escrow_exact,
    escrow: l.escrow,
    supply_conserved: l.supply === result.supplyBefore,
    faults,
    fault_errors: result.faults.filter((f) => f.error).map((f) => `${f.kind}#${f.target}: ${f.error}`),
    duration_s: Math.round(result.durationS),
    send_errors: result.sendErrors,
    rss_mb_max: rss,
    fds_max: fdsMax,
    rss_mb_per_min: rssSlope,
    rss_mb_per_min_second_half: rssSlopeSecondHalf,
    fds_per_min: fdSlope,
    fds_per_min_second_half: fdSlopeSecondHalf,
    growth: growthByRole,
    after_gc: result.afterGc,
    after_gc_early: result.afterGcEarly,
    rss_mb_per_min_between_gcs: rssSlopeBetweenGcs(result),
    latency: {
      ...latencySplit(
        result.latencies,
        result.faults.map((f) => ({ beganS: f.beganS, endedS: f.endedS })),
      ),
      measured: "driver sent → ResultIngested first seen on the origin chain (polled every 250 ms)",
    },
  };
}

/**
 * Per node: the change of its process group's RSS between the early and the end-of-run forced GC,
 * per minute. Both samples follow a full collection, so V8's uncollected garbage is not in it.
 */
export function rssSlopeBetweenGcs(result: Pick<RunResult, "afterGc" | "afterGcEarly" | "afterGcAtS">) {
  const slopes: Record<string, number> = {};
  for (const [name, early] of Object.entries(result.afterGcEarly)) {
    const end = result.afterGc[name];
    if ("error" in early || !end || "error" in end || result.afterGcAtS === undefined) continue;
    const minutes = (result.afterGcAtS - early.atS) / 60;
    if (minutes > 0) slopes[name] = Math.round(((end.groupRssMb - early.groupRssMb) / minutes) * 100) / 100;
  }
  return slopes;
}
