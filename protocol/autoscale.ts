import { keccak256, type Address, type Hex } from "viem";
import { operatorId, rankByDistance, requestKey, type Quorum } from "./quorum.ts";

/**
 * Auto-scaling quorums (SPEC 6, the seed's rule), as pure functions: no I/O and no clock, every time
 * passed in, so every node that folds the same samples in the same order reaches the same state.
 * docs/scheduling.md ("Auto-scaling quorums") explains the rule and its inputs; in short:
 *
 * - **Sample**: one per request, `startedAtMs - requestedAtMs` (request → start of execution).
 * - **Add**: `streak` (1,000) consecutive samples of one program over `slowAboveMs` (15 s) → the
 *   program is served by one more quorum.
 * - **Drop**: `streak` consecutive samples under `fastBelowMs` (50 ms) → the quorum farthest from the
 *   program by average XOR distance stops serving it. Never below one quorum.
 * - **Quorums of a program**: the active set ranked by XOR distance to `programKey(programId)`, cut
 *   into consecutive disjoint groups of `size`: quorum 0 is the `size` closest operators, quorum 1
 *   the next closest `size`, and so on; at most `floor(active / size)` of them.
 * - **Routing**: a request goes to quorum `requestKey mod count` (uniform, no coordinator).
 * - **Peak-load pricing**: `peakLoadQuote` raises a base fee by `surchargeBps` per extra quorum.
 */

/** The seed's thresholds (SPEC 6). */
export const AUTOSCALE_RULE = {
  /** A sample strictly above this is slow (request → start of execution, ms). */
  slowAboveMs: 15_000,
  /** A sample strictly below this is fast. */
  fastBelowMs: 50,
  /** Consecutive slow (fast) samples of one program that add (drop) a quorum. */
  streak: 1_000,
} as const;

export type ScalingRule = { slowAboveMs: number; fastBelowMs: number; streak: number };

/** What a program's quote rises by for each quorum beyond the first, in basis points of the base fee. */
export const PEAK_SURCHARGE_BPS = 5_000;

const BPS = 10_000n;

/** `keccak256(programId)`: a program's position on the XOR ring (hashed again so it never equals a request key). */
export function programKey(programId: Hex): Hex {
  return keccak256(programId.toLowerCase() as Hex);
}

// ---------------------------------------------------------------------------------------------
// The rule: one program's streaks and quorum count
// ---------------------------------------------------------------------------------------------

export type ProgramScaling = {
  /** Quorums serving the program (>= 1). */
  quorums: number;
  /** Consecutive samples over `slowAboveMs` since the last add (or the last sample that was not slow). */
  slowStreak: number;
  /** Consecutive samples under `fastBelowMs` since the last drop (or the last sample that was not fast). */
  fastStreak: number;
};

export const INITIAL_SCALING: ProgramScaling = Object.freeze({ quorums: 1, slowStreak: 0, fastStreak: 0 });

/**
 * What happened on one sample: `add` (one quorum more), `drop` (one fewer), `capped` (a full slow
 * streak while already at `maxQuorums`: nothing added), or nothing.
 */
export type ScalingStep = { state: ProgramScaling; event: "add" | "drop" | "capped" | null };

/**
 * Folds one request's latency into a program's state. A sample that is neither slow nor fast ends
 * both streaks; a slow one ends the fast streak and vice versa. A streak that fires starts again at
 * zero, so the next add (drop) needs another `streak` consecutive samples. Dropping below one
 * quorum is impossible: a full fast streak at one quorum just restarts the count.
 */
export function observeLatency(
  state: ProgramScaling,
  latencyMs: number,
  limits: { maxQuorums: number },
  rule: ScalingRule = AUTOSCALE_RULE,
): ScalingStep {
  if (!Number.isFinite(latencyMs)) throw new RangeError(`latency must be a finite number of ms, got ${latencyMs}`);
  const slow = latencyMs > rule.slowAboveMs;
  const fast = latencyMs < rule.fastBelowMs;
  const slowStreak = slow ? state.slowStreak + 1 : 0;
  const fastStreak = fast ? state.fastStreak + 1 : 0;
  if (slowStreak >= rule.streak) {
    if (state.quorums >= limits.maxQuorums) return { state: { ...state, slowStreak: 0, fastStreak }, event: "capped" };
    return { state: { quorums: state.quorums + 1, slowStreak: 0, fastStreak }, event: "add" };
  }
  if (fastStreak >= rule.streak) {
    if (state.quorums <= 1) return { state: { ...state, slowStreak, fastStreak: 0 }, event: null };
    return { state: { quorums: state.quorums - 1, slowStreak, fastStreak: 0 }, event: "drop" };
  }
  return { state: { quorums: state.quorums, slowStreak, fastStreak }, event: null };
}

/** How many disjoint quorums of `size` an active set can hold (at least one, even when smaller). */
export function maxQuorums(activeSetSize: number, size: number): number {
  if (!Number.isInteger(size) || size < 1) throw new RangeError("quorum size must be a positive integer");
  return Math.max(1, Math.floor(activeSetSize / size));
}

// ---------------------------------------------------------------------------------------------
// Which operators serve a program, and which quorum serves a request
// ---------------------------------------------------------------------------------------------

/** Mean XOR distance from `key` to the members' ids (integer division: exact and the same on every node). */
export function averageDistance(key: Hex, members: readonly Address[]): bigint {
  if (members.length === 0) return 0n;
  const k = BigInt(key);
  let sum = 0n;
  for (const m of members) sum += k ^ BigInt(operatorId(m));
  return sum / BigInt(members.length);
}

/**
 * A program's quorums: the active set ranked by XOR distance to `programKey(programId)`, cut into
 * `count` consecutive disjoint groups of `size` (quorum 0 the closest). `count` is clamped to what
 * the active set can hold.
 */
export function programQuorums(args: {
  programId: Hex;
  activeSet: readonly Address[];
  size: number;
  count: number;
}): Address[][] {
  const ranked = rankByDistance(programKey(args.programId), args.activeSet);
  const count = Math.min(Math.max(1, Math.floor(args.count)), maxQuorums(ranked.length, args.size));
  return Array.from({ length: count }, (_, i) => ranked.slice(i * args.size, (i + 1) * args.size));
}

/**
 * The quorum a drop removes: the one farthest from the program by average XOR distance (ties: the
 * later one). With quorums from `programQuorums` this is always the last (the groups are
 * consecutive in distance), which is why a drop keeps quorums 0 .. count-2 and moves no member of
 * them. Returns -1 when there is nothing to drop (one quorum or none).
 */
export function farthestQuorum(programId: Hex, quorums: readonly (readonly Address[])[]): number {
  if (quorums.length <= 1) return -1;
  const key = programKey(programId);
  let farthest = 0;
  let farthestDistance = -1n;
  quorums.forEach((q, i) => {
    const d = averageDistance(key, q);
    if (d >= farthestDistance) {
      farthest = i;
      farthestDistance = d;
    }
  });
  return farthest;
}

/** Which of a program's `count` quorums serves a request: `requestKey(chainId, requestId) mod count`. */
export function routeIndex(chainId: number | bigint | string, requestId: Hex, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError("a program has at least one quorum");
  return Number(BigInt(requestKey(chainId, requestId)) % BigInt(count));
}

/**
 * The quorum of a request of a program served by `count` quorums (count > 1; with one quorum the
 * node keeps protocol/quorum.ts `deriveQuorum`): `members` are the routed quorum's operators,
 * `standby` every other active operator, both in XOR order from the request's key, so sharing and
 * stealing (protocol/scheduling.ts) work unchanged.
 */
export function routeRequest(args: {
  chainId: number | bigint | string;
  requestId: Hex;
  programId: Hex;
  activeSet: readonly Address[];
  size: number;
  count: number;
}): { index: number; quorum: Quorum } {
  const quorums = programQuorums(args);
  const index = routeIndex(args.chainId, args.requestId, quorums.length);
  const chosen = new Set(quorums[index]!.map((a) => a.toLowerCase()));
  const ranked = rankByDistance(requestKey(args.chainId, args.requestId), args.activeSet);
  return {
    index,
    quorum: {
      members: ranked.filter((a) => chosen.has(a.toLowerCase())),
      standby: ranked.filter((a) => !chosen.has(a.toLowerCase())),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The inputs every node folds, and the fold
// ---------------------------------------------------------------------------------------------

/** One request's measurement: the request's time and when its execution started (both unix ms). */
export type LatencySample = {
  programId: Hex;
  chainId: string;
  requestId: Hex;
  /** When the request was made (its block time on the origin chain), unix ms. */
  requestedAtMs: number;
  /** When its execution started, unix ms. */
  startedAtMs: number;
};

export type ScalingEvent = {
  programId: Hex;
  kind: "add" | "drop" | "capped";
  /** Quorums serving the program after the event. */
  quorums: number;
  /** The sample that fired it. */
  chainId: string;
  requestId: Hex;
  atMs: number;
};

/**
 * The order every node folds samples in: start of execution, then request time, origin chain and
 * request id. "Consecutive requests" are consecutive as their executions start, which is also the
 * order a live node learns them in (a request still queued behind a backlog has no sample yet).
 */
export function compareSamples(a: LatencySample, b: LatencySample): number {
  if (a.startedAtMs !== b.startedAtMs) return a.startedAtMs - b.startedAtMs;
  if (a.requestedAtMs !== b.requestedAtMs) return a.requestedAtMs - b.requestedAtMs;
  const ca = BigInt(a.chainId);
  const cb = BigInt(b.chainId);
  if (ca !== cb) return ca < cb ? -1 : 1;
  const ra = BigInt(a.requestId);
  const rb = BigInt(b.requestId);
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/**
 * Every program's scaling state, folded sample by sample. It holds no clock and does no I/O:
 * `observe` is the whole input, so two scalers fed the same samples in the same order hold the
 * same state (`replayScaling` sorts them into the canonical order first). A request is counted
 * once: a second sample for the same request is ignored (its quorum's other members report it too).
 */
export class AutoScaler {
  private readonly rule: ScalingRule;
  private readonly programs = new Map<string, ProgramScaling>();
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private readonly rememberRequests: number;

  constructor(options: { rule?: ScalingRule; rememberRequests?: number } = {}) {
    const rule = options.rule ?? AUTOSCALE_RULE;
    if (!(rule.streak >= 1 && Number.isInteger(rule.streak))) throw new RangeError("streak must be a positive integer");
    if (!(rule.fastBelowMs <= rule.slowAboveMs)) throw new RangeError("fastBelowMs must not exceed slowAboveMs");
    this.rule = rule;
    this.rememberRequests = options.rememberRequests ?? 100_000;
  }

  /**
   * Folds one sample. `maxQuorums` is what the active set can hold right now (`maxQuorums(active,
   * size)`). Returns the event the sample fired, if any.
   */
  observe(sample: LatencySample, limits: { maxQuorums: number }): ScalingEvent | null {
    const id = `${BigInt(sample.chainId)}:${sample.requestId.toLowerCase()}`;
    if (this.seen.has(id)) return null;
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > this.rememberRequests) this.seen.delete(this.seenOrder.shift()!);
    const program = sample.programId.toLowerCase() as Hex;
    const step = observeLatency(this.state(program), sample.startedAtMs - sample.requestedAtMs, limits, this.rule);
    this.programs.set(program, step.state);
    if (step.event === null) return null;
    return {
      programId: program,
      kind: step.event,
      quorums: step.state.quorums,
      chainId: sample.chainId,
      requestId: sample.requestId,
      atMs: sample.startedAtMs,
    };
  }

  /** A program's state (the initial one if it was never sampled). */
  state(programId: Hex): ProgramScaling {
    return this.programs.get(programId.toLowerCase()) ?? INITIAL_SCALING;
  }

  /** How many quorums serve a program. */
  quorums(programId: Hex): number {
    return this.state(programId).quorums;
  }

  /** Every sampled program and its state, by program id. */
  snapshot(): { programId: Hex; state: ProgramScaling }[] {
    return [...this.programs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([programId, state]) => ({ programId: programId as Hex, state }));
  }
}

/** The state every node reaches from a set of samples: sorted by `compareSamples`, then folded. */
export function replayScaling(
  samples: readonly LatencySample[],
  limits: { maxQuorums: number },
  rule: ScalingRule = AUTOSCALE_RULE,
): { scaler: AutoScaler; events: ScalingEvent[] } {
  const scaler = new AutoScaler({ rule, rememberRequests: Math.max(samples.length, 1) });
  const events: ScalingEvent[] = [];
  for (const sample of [...samples].sort(compareSamples)) {
    const event = scaler.observe(sample, limits);
    if (event) events.push(event);
  }
  return { scaler, events };
}

// ---------------------------------------------------------------------------------------------
// Peak-load pricing
// ---------------------------------------------------------------------------------------------

/**
 * The fee to quote for a request of a program served by `quorums` quorums: the base fee (the
 * oracle's `feeOf(token)`, the floor the chain enforces) raised by `surchargeBps` for each quorum
 * beyond the first, rounded up so a quote never undercuts the rule. Back to the base fee once the
 * extra quorums are dropped.
 */
export function peakLoadQuote(baseFee: bigint, quorums: number, surchargeBps: number = PEAK_SURCHARGE_BPS): bigint {
  if (baseFee < 0n) throw new RangeError(`base fee must not be negative, got ${baseFee}`);
  if (!Number.isInteger(quorums) || quorums < 1)
    throw new RangeError(`quorums must be a positive integer, got ${quorums}`);
  if (!Number.isInteger(surchargeBps) || surchargeBps < 0)
    throw new RangeError(`surchargeBps must be a non-negative integer, got ${surchargeBps}`);
  const multiplier = BPS + BigInt(surchargeBps) * BigInt(quorums - 1);
  return (baseFee * multiplier + BPS - 1n) / BPS;
}

/** The quote's multiplier in basis points (10,000 = the base fee), for metrics and plots. */
export function peakLoadMultiplierBps(quorums: number, surchargeBps: number = PEAK_SURCHARGE_BPS): number {
  return Number(peakLoadQuote(BPS, quorums, surchargeBps));
}
