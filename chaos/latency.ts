/**
 * Issue 15's "p99 latency outside fault windows unchanged": each request's latency (sent by the
 * driver → its result first seen on its origin chain), split by whether a fault was on at any
 * moment in between. A request that saw no fault is the network's normal service; comparing its
 * percentiles with a fault-free run at the same rate (the soak) says whether faults slow down the
 * requests they do not touch.
 */
import { ascending, percentile } from "../bench/stats.ts";

/** Seconds since the run's start. */
export type LatencySample = { sentS: number; seenS: number; chainId?: number; requestId?: string; kind?: string };
export type Window = { beganS: number; endedS: number };
export type LatencyStats = { n: number; p50_ms: number; p99_ms: number; max_ms: number };

export function latencyStats(latenciesMs: readonly number[]): LatencyStats {
  const sorted = ascending(latenciesMs);
  return {
    n: sorted.length,
    p50_ms: Math.round(percentile(sorted, 50)),
    p99_ms: Math.round(percentile(sorted, 99)),
    max_ms: sorted.length > 0 ? Math.round(sorted[sorted.length - 1]!) : NaN,
  };
}

/** Overlap of the closed intervals [sent, seen] and [began, ended]. */
const overlaps = (s: LatencySample, w: Window) => s.sentS <= w.endedS && w.beganS <= s.seenS;

/**
 * Latency percentiles of the requests no fault window touched and of those one did. A window still
 * open at the end (`endedS` not finite) counts as open until the last sample.
 */
export function latencySplit(
  samples: readonly LatencySample[],
  windows: readonly Window[],
): { outside_faults: LatencyStats; during_faults: LatencyStats; slowest_outside_faults: LatencySample[] } {
  const last = Math.max(0, ...samples.map((s) => s.seenS));
  const closed = windows.map((w) => ({ beganS: w.beganS, endedS: Number.isFinite(w.endedS) ? w.endedS : last }));
  const outside: LatencySample[] = [];
  const during: LatencySample[] = [];
  for (const s of samples) (closed.some((w) => overlaps(s, w)) ? during : outside).push(s);
  const ms = (s: LatencySample) => (s.seenS - s.sentS) * 1000;
  return {
    outside_faults: latencyStats(outside.map(ms)),
    during_faults: latencyStats(during.map(ms)),
    // the tail no fault explains, with ids to look up in the nodes' logs
    slowest_outside_faults: [...outside].sort((x, y) => ms(y) - ms(x)).slice(0, 10),
  };
}
