/**
 * When each fault is on: a list of windows, each a fault kind on one target from `startS` for
 * `durationS` seconds of the run. The schedule is data (printed, saved in the report, replayable);
 * chaos/run.ts walks it and asks chaos/faults.ts to begin and end each window.
 */
import { z } from "zod";

export const FAULT_KINDS = [
  "kill_node",
  "kill_watcher",
  "redis_restart",
  "redis_flushall",
  "rpc_drop",
  "rpc_delay",
  "rpc_5xx",
  "rpc_truncated",
  "rpc_stale_head",
  "reorg",
  "poster_stuck",
  "da_primary_down",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a fault kind acts on: a node (index into the operator nodes), a chain (index), or the DA layer. */
export const FAULT_TARGET: Record<FaultKind, "node" | "watcher" | "chain" | "da"> = {
  kill_node: "node",
  kill_watcher: "watcher",
  redis_restart: "node",
  redis_flushall: "node",
  rpc_drop: "chain",
  rpc_delay: "chain",
  rpc_5xx: "chain",
  rpc_truncated: "chain",
  rpc_stale_head: "chain",
  reorg: "chain",
  poster_stuck: "chain",
  da_primary_down: "da",
};

export const faultWindowSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  /** Node or chain index (0 for the watcher and the DA layer). */
  target: z.number().int().nonnegative(),
  startS: z.number().nonnegative(),
  durationS: z.number().positive(),
});
export type FaultWindow = z.infer<typeof faultWindowSchema>;
export const scheduleSchema = z.array(faultWindowSchema);

/** Chain-wide faults (they take the chain's one snapshot or its mining mode): never two at once on a chain. */
const EXCLUSIVE_ON_CHAIN = new Set<FaultKind>(["reorg", "poster_stuck"]);

/**
 * A schedule over `durationS` seconds with each of `kinds` on `repeats` times, windows of
 * `windowS` seconds spread evenly after a quiet `warmupS` and ending `cooldownS` before the end,
 * targets taken in turn (node 0, 1, 2, ... ; chain 0, 1, ...), so different nodes and chains are
 * hit. Windows of different kinds overlap (faults happen together); chain-exclusive kinds on one
 * chain and node faults on one node are shifted until they do not.
 */
export function buildSchedule(options: {
  durationS: number;
  kinds?: readonly FaultKind[];
  repeats?: number;
  windowS?: number;
  warmupS?: number;
  cooldownS?: number;
  nodes: number;
  chains: number;
}): FaultWindow[] {
  const kinds = options.kinds ?? FAULT_KINDS;
  const repeats = options.repeats ?? 3;
  const windowS = options.windowS ?? 8;
  const warmupS = options.warmupS ?? Math.min(10, options.durationS * 0.1);
  const cooldownS = options.cooldownS ?? Math.min(10, options.durationS * 0.1);
  const span = Math.max(windowS, options.durationS - warmupS - cooldownS - windowS);
  const total = kinds.length * repeats;
  const windows: FaultWindow[] = [];
  const counters: Record<string, number> = {};
  for (let slot = 0; slot < total; slot++) {
    // interleave kinds: slot k is kind k mod |kinds|, its (k div |kinds|)-th repeat
    const kind = kinds[slot % kinds.length]!;
    const n = (counters[kind] = (counters[kind] ?? 0) + 1) - 1;
    const place = FAULT_TARGET[kind];
    const target = place === "node" ? n % options.nodes : place === "chain" ? n % options.chains : 0;
    let startS = warmupS + (span * slot) / Math.max(1, total - 1 || 1);
    const clashes = (w: FaultWindow) =>
      w.startS < startS + windowS + 2 &&
      startS < w.startS + w.durationS + 2 &&
      ((FAULT_TARGET[w.kind] === "chain" &&
        place === "chain" &&
        w.target === target &&
        EXCLUSIVE_ON_CHAIN.has(w.kind) &&
        EXCLUSIVE_ON_CHAIN.has(kind)) ||
        (FAULT_TARGET[w.kind] === "node" && place === "node" && w.target === target));
    while (windows.some(clashes)) startS += 1;
    windows.push({ kind, target, startS: Math.round(startS * 10) / 10, durationS: windowS });
  }
  return windows.sort((a, b) => a.startS - b.startS);
}

/** How many windows of each kind a schedule holds. */
export function countByKind(windows: FaultWindow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of windows) out[w.kind] = (out[w.kind] ?? 0) + 1;
  return out;
}
