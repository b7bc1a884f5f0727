/**
 * The scheduling rules the node calls, behind one adapter so the node does not care where they
 * live. TEMPORARY: minimal stand-ins written to the plan's interface of protocol/quorum.ts and
 * protocol/scheduling.ts (helper "sched"); once those land this file only re-exports them.
 */
import { getAddress, hashMessage, recoverMessageAddress, type Address, type Hex, type LocalAccount } from "viem";
import { rankOperators } from "./scheduler.ts";

export type Quorum = { members: Address[]; standby: Address[] };

export function deriveQuorum(args: {
  chainId: bigint | number | string;
  requestId: Hex;
  activeSet: readonly Address[];
  size: number;
}): Quorum {
  const ranked = rankOperators(args.chainId, args.requestId, args.activeSet);
  return { members: ranked.slice(0, args.size), standby: ranked.slice(args.size) };
}

export type BackpressureReport = {
  operator: Address;
  depth: number;
  capacity: number;
  kinds: string[];
  programs: string[] | null;
  issuedAt: number;
  signature: Hex;
};

export type ShareOffer = {
  chainId: string;
  requestId: Hex;
  from: Address;
  to: Address;
  report: BackpressureReport;
  issuedAt: number;
  signature: Hex;
};

function reportMessage(r: Omit<BackpressureReport, "signature">): string {
  return `versatus backpressure ${JSON.stringify([getAddress(r.operator), r.depth, r.capacity, r.kinds, r.programs, r.issuedAt])}`;
}
function offerMessage(s: Omit<ShareOffer, "signature">): string {
  return `versatus share ${JSON.stringify([s.chainId, s.requestId.toLowerCase(), getAddress(s.from), getAddress(s.to), hashMessage(reportMessage(s.report)), s.report.signature, s.issuedAt])}`;
}

export async function signBackpressureReport(
  account: LocalAccount,
  r: Omit<BackpressureReport, "signature">,
): Promise<BackpressureReport> {
  return { ...r, signature: await account.signMessage({ message: reportMessage(r) }) };
}

export type Verdict = { ok: true } | { ok: false; reason: "bad_signature" | "stale" | "future" | "malformed" };

export async function verifyBackpressureReport(
  r: BackpressureReport,
  opts: { now: number; maxAgeMs: number },
): Promise<Verdict> {
  if (typeof r?.issuedAt !== "number" || typeof r.depth !== "number") return { ok: false, reason: "malformed" };
  if (r.issuedAt > opts.now + 5_000) return { ok: false, reason: "future" };
  if (opts.now - r.issuedAt > opts.maxAgeMs) return { ok: false, reason: "stale" };
  try {
    const signer = await recoverMessageAddress({ message: reportMessage(r), signature: r.signature });
    return signer.toLowerCase() === r.operator.toLowerCase() ? { ok: true } : { ok: false, reason: "bad_signature" };
  } catch {
    return { ok: false, reason: "bad_signature" };
  }
}

export async function signShareOffer(account: LocalAccount, s: Omit<ShareOffer, "signature">): Promise<ShareOffer> {
  return { ...s, signature: await account.signMessage({ message: offerMessage(s) }) };
}

export async function verifyShareOffer(s: ShareOffer, opts: { now: number; maxAgeMs: number }): Promise<Verdict> {
  const report = await verifyBackpressureReport(s.report, opts);
  if (!report.ok) return report;
  if (s.report.operator.toLowerCase() !== s.from.toLowerCase() || s.report.depth < s.report.capacity)
    return { ok: false, reason: "malformed" };
  try {
    const signer = await recoverMessageAddress({ message: offerMessage(s), signature: s.signature });
    return signer.toLowerCase() === s.from.toLowerCase() ? { ok: true } : { ok: false, reason: "bad_signature" };
  } catch {
    return { ok: false, reason: "bad_signature" };
  }
}

export type TaskPlan = { action: "compute" | "share" | "steal" | "wait" | "none"; at: number; shareTo?: Address };

export type PlanTaskArgs = {
  chainId: bigint | number | string;
  requestId: Hex;
  activeSet: readonly Address[];
  quorumSize: number;
  self: Address;
  now: number;
  announcedAt: number;
  reports: ReadonlyMap<string, BackpressureReport>;
  signed: ReadonlySet<string>;
  shares: readonly ShareOffer[];
  timing: { stealAfterMs: number; stealStepMs: number; staleAfterMs: number };
};

const fresh = (r: BackpressureReport | undefined, now: number, staleAfterMs: number) =>
  r !== undefined && now - r.issuedAt <= staleAfterMs;

/**
 * What this node does about one request: a member computes (or, over capacity with a fresh
 * report, shares with the first standby that has room); a node a member shared with computes; the
 * i-th standby steals the i-th missing member's work from `announcedAt + stealAfterMs + i × stealStepMs`.
 */
export function planTask(args: PlanTaskArgs): TaskPlan {
  const self = args.self.toLowerCase();
  const { members, standby } = deriveQuorum({
    chainId: args.chainId,
    requestId: args.requestId,
    activeSet: args.activeSet,
    size: args.quorumSize,
  });
  const lower = (a: Address) => a.toLowerCase();
  if (args.signed.has(self)) return { action: "none", at: args.now };
  if (args.shares.some((s) => lower(s.to) === self && s.requestId.toLowerCase() === args.requestId.toLowerCase()))
    return { action: "compute", at: args.now };
  if (members.some((m) => lower(m) === self)) {
    const mine = args.reports.get(self);
    if (fresh(mine, args.now, args.timing.staleAfterMs) && mine!.depth >= mine!.capacity) {
      const taker = standby.find((s) => {
        const r = args.reports.get(lower(s));
        return fresh(r, args.now, args.timing.staleAfterMs) && r!.depth < r!.capacity && !args.signed.has(lower(s));
      });
      if (taker) return { action: "share", at: args.now, shareTo: taker };
    }
    return { action: "compute", at: Math.max(args.now, args.announcedAt) };
  }
  const index = standby.findIndex((s) => lower(s) === self);
  if (index < 0) return { action: "none", at: args.now };
  const missing = members.filter((m) => !args.signed.has(lower(m))).length;
  // standby nodes that already signed took a missing member's place
  const stepping = standby.slice(0, index).filter((s) => !args.signed.has(lower(s))).length;
  if (stepping >= missing) return { action: "none", at: args.announcedAt + args.timing.stealAfterMs };
  const at = args.announcedAt + args.timing.stealAfterMs + stepping * args.timing.stealStepMs;
  return args.now >= at ? { action: "steal", at } : { action: "wait", at };
}

export type Attribution = { operator: Address; how: "quorum" | "shared-in" | "stolen"; sharedFrom?: Address };

/** Per-request posting order: rotation over the posters by XOR distance, `fallbackDelayMs` apart. */
export function posterSchedule(args: {
  chainId: bigint | number | string;
  requestId: Hex;
  posters: readonly Address[];
  fallbackDelayMs: number;
}): { poster: Address; notBefore: number }[] {
  return rankOperators(args.chainId, args.requestId, args.posters).map((poster, i) => ({
    poster,
    notBefore: i * args.fallbackDelayMs,
  }));
}
