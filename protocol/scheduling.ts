import {
  getAddress,
  isAddress,
  isHex,
  recoverTypedDataAddress,
  size,
  type Address,
  type Hex,
  type LocalAccount,
  type TypedDataDomain,
} from "viem";
import { deriveQuorum, includesAddress, rankByDistance, requestKey, type Quorum } from "./quorum.ts";

/**
 * The rules of leaderless scheduling (SPEC 6), as pure functions: no I/O, every time passed in.
 * docs/scheduling.md explains them; in short:
 *
 * - **Quorum**: protocol/quorum.ts `deriveQuorum` (XOR distance from the request to every active
 *   operator): the closest `quorumSize` are members, the rest standby in steal order.
 * - **Backpressure report**: an operator's signed statement of its queue depth and capacity (and the
 *   job kinds and programs it runs). EIP-712 in the `Versatus`/`1` domain without a chain (it is a
 *   network-wide statement). Reports older than `maxAgeMs`, or issued in the future beyond
 *   `MAX_CLOCK_SKEW_MS`, are ignored.
 * - **Share offer**: a member over capacity hands its slot to the next closest standby whose fresh
 *   report shows room, signing an offer that carries its own over-capacity report. Valid only if
 *   `from` is a member, `to` is an active operator outside the quorum, and the attached report is
 *   `from`'s, fresh when the offer was made, and shows `depth >= capacity`.
 * - **Stealing**: `stealAfterMs` after the request became actionable, each slot still without a
 *   signature is taken by the standby list in order (the first `u` standbys at once when `u` slots are
 *   open, the next `u` one `stealStepMs` later, and so on).
 * - **Attribution**: who actually did the work, from the quorum, the signers and the valid share
 *   offers; it goes into the execution record's unsigned envelope (protocol/record.ts).
 * - **Posting**: posters ranked by XOR distance from the request; the i-th may post `i * fallbackDelayMs`
 *   after the threshold was reached.
 *
 * Signatures are checked by the async `verify*` functions (the network layer runs them on receipt);
 * `planTask` and `attributeWork` are synchronous and take reports and offers whose signatures were
 * already checked, but apply every other rule (freshness, membership, capacity) themselves.
 */

/** How far in the future a report or offer may be dated (clock drift between nodes). */
export const MAX_CLOCK_SKEW_MS = 2_000;

/** What a node that shared its slot is owed, in basis points of the worker's fee share (see docs/scheduling.md). */
export const SHARER_BPS = 1_000;

/** Defaults of the timing knobs (docs/scheduling.md). */
export const DEFAULT_SCHEDULING_TIMING = {
  /** How long members have before their slots may be stolen (from the request becoming actionable). */
  stealAfterMs: 10_000,
  /** Delay between one standby's steal time and the next one's. */
  stealStepMs: 2_000,
  /** A backpressure report (or share offer) older than this is ignored. */
  staleAfterMs: 15_000,
} as const;

/** Default delay between one poster's turn and the next (docs/scheduling.md). */
export const DEFAULT_POSTER_FALLBACK_DELAY_MS = 4_000;

/** Bounds of a report (a gossip message must stay small). */
export const REPORT_LIMITS = { kinds: 32, kindChars: 64, programs: 1024, count: 1_000_000_000 } as const;

export type BackpressureReport = {
  operator: Address;
  /** Jobs waiting or running in the operator's domain. */
  depth: number;
  /** Depth at which the operator counts as full. */
  capacity: number;
  /** Job kinds it runs. */
  kinds: string[];
  /** Program ids (32-byte 0x hex) it runs; null = every program. */
  programs: string[] | null;
  /** Unix ms when the report was made. */
  issuedAt: number;
  /** EIP-712 signature by `operator` (see backpressureTypes). */
  signature: Hex;
};

export type UnsignedBackpressureReport = Omit<BackpressureReport, "signature">;

export type ShareOffer = {
  /** Origin chain of the request (decimal string). */
  chainId: string;
  requestId: Hex;
  /** The quorum member handing its slot over; signs the offer. */
  from: Address;
  /** The standby it hands the slot to. */
  to: Address;
  /** `from`'s own signed report, showing it over capacity when the offer was made. */
  report: BackpressureReport;
  /** Unix ms when the offer was made. */
  issuedAt: number;
  /** EIP-712 signature by `from` (see shareOfferTypes). */
  signature: Hex;
};

export type UnsignedShareOffer = Omit<ShareOffer, "signature">;

/** Network-wide statements: the Versatus domain without a chain or contract. */
export const schedulingDomain: TypedDataDomain = { name: "Versatus", version: "1" };

const backpressureFields = [
  { name: "operator", type: "address" },
  { name: "depth", type: "uint32" },
  { name: "capacity", type: "uint32" },
  { name: "kinds", type: "string[]" },
  { name: "allPrograms", type: "bool" },
  { name: "programs", type: "bytes32[]" },
  { name: "issuedAt", type: "uint64" },
] as const;

export const backpressureTypes = { BackpressureReport: backpressureFields } as const;

export const shareOfferTypes = {
  ShareOffer: [
    { name: "chainId", type: "uint256" },
    { name: "requestId", type: "bytes32" },
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "report", type: "BackpressureReport" },
    { name: "issuedAt", type: "uint64" },
  ],
  BackpressureReport: backpressureFields,
} as const;

function reportMessage(r: UnsignedBackpressureReport) {
  return {
    operator: getAddress(r.operator),
    depth: r.depth,
    capacity: r.capacity,
    kinds: r.kinds,
    allPrograms: r.programs === null,
    programs: (r.programs ?? []) as Hex[],
    issuedAt: BigInt(r.issuedAt),
  };
}

function offerMessage(o: UnsignedShareOffer) {
  return {
    chainId: BigInt(o.chainId),
    requestId: o.requestId,
    from: getAddress(o.from),
    to: getAddress(o.to),
    report: reportMessage(o.report),
    issuedAt: BigInt(o.issuedAt),
  };
}

/** The EIP-712 typed data a report's signature covers (everything but the signature). */
export function reportTypedData(r: UnsignedBackpressureReport) {
  return {
    domain: schedulingDomain,
    types: backpressureTypes,
    primaryType: "BackpressureReport" as const,
    message: reportMessage(r),
  };
}

/** The EIP-712 typed data a share offer's signature covers (its report's fields nested, not its signature). */
export function shareOfferTypedData(o: UnsignedShareOffer) {
  return {
    domain: schedulingDomain,
    types: shareOfferTypes,
    primaryType: "ShareOffer" as const,
    message: offerMessage(o),
  };
}

const isCount = (n: unknown): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= REPORT_LIMITS.count;
const isTime = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
const isBytes = (value: unknown, bytes: number): value is Hex =>
  typeof value === "string" && isHex(value, { strict: true }) && size(value) === bytes;

/** Shape check of a report (untrusted gossip); the offending field, or undefined when well-formed. */
export function malformedReport(r: unknown): string | undefined {
  if (typeof r !== "object" || r === null) return "report";
  const report = r as Partial<BackpressureReport>;
  if (typeof report.operator !== "string" || !isAddress(report.operator, { strict: false })) return "operator";
  if (!isCount(report.depth)) return "depth";
  if (!isCount(report.capacity) || report.capacity < 1) return "capacity";
  if (!Array.isArray(report.kinds) || report.kinds.length > REPORT_LIMITS.kinds) return "kinds";
  if (!report.kinds.every((k) => typeof k === "string" && k.length > 0 && k.length <= REPORT_LIMITS.kindChars))
    return "kinds";
  if (report.programs !== null) {
    if (!Array.isArray(report.programs) || report.programs.length > REPORT_LIMITS.programs) return "programs";
    if (!report.programs.every((p) => isBytes(p, 32))) return "programs";
  }
  if (!isTime(report.issuedAt)) return "issuedAt";
  if (!isBytes(report.signature, 65)) return "signature";
  return undefined;
}

/** Shape check of a share offer (its report included); the offending field, or undefined. */
export function malformedShareOffer(o: unknown): string | undefined {
  if (typeof o !== "object" || o === null) return "offer";
  const offer = o as Partial<ShareOffer>;
  if (typeof offer.chainId !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(offer.chainId)) return "chainId";
  if (BigInt(offer.chainId) >= 1n << 256n) return "chainId";
  if (!isBytes(offer.requestId, 32)) return "requestId";
  if (typeof offer.from !== "string" || !isAddress(offer.from, { strict: false })) return "from";
  if (typeof offer.to !== "string" || !isAddress(offer.to, { strict: false })) return "to";
  const bad = malformedReport(offer.report);
  if (bad) return `report.${bad}`;
  if (!isTime(offer.issuedAt)) return "issuedAt";
  if (!isBytes(offer.signature, 65)) return "signature";
  return undefined;
}

/** `now - issuedAt <= maxAgeMs` and not dated more than the skew into the future. */
export function timeVerdict(
  issuedAt: number,
  now: number,
  maxAgeMs: number,
  skewMs: number = MAX_CLOCK_SKEW_MS,
): "ok" | "stale" | "future" {
  if (issuedAt > now + skewMs) return "future";
  if (now - issuedAt > maxAgeMs) return "stale";
  return "ok";
}

/** A well-formed report that is fresh at `now`. */
export function isFreshReport(
  r: BackpressureReport | undefined,
  now: number,
  maxAgeMs: number,
  skewMs: number = MAX_CLOCK_SKEW_MS,
): r is BackpressureReport {
  return r !== undefined && malformedReport(r) === undefined && timeVerdict(r.issuedAt, now, maxAgeMs, skewMs) === "ok";
}

/** The report says the operator is full. */
export function overCapacity(r: BackpressureReport): boolean {
  return r.depth >= r.capacity;
}

/** Whether a report allows the operator to take this job (no kind/program given: any). */
export function acceptsWork(r: BackpressureReport, kind?: string, programId?: Hex): boolean {
  if (kind !== undefined && !r.kinds.includes(kind)) return false;
  if (programId === undefined || r.programs === null) return true;
  const lower = programId.toLowerCase();
  return r.programs.some((p) => p.toLowerCase() === lower);
}

export async function signBackpressureReport(
  account: LocalAccount,
  r: UnsignedBackpressureReport,
): Promise<BackpressureReport> {
  if (getAddress(r.operator) !== getAddress(account.address)) {
    throw new TypeError(`a report for ${r.operator} cannot be signed by ${account.address}`);
  }
  const signature = await account.signTypedData(reportTypedData(r));
  return { ...r, operator: getAddress(r.operator), signature };
}

export type ReportRejection = "bad_signature" | "stale" | "future" | "malformed";

export type VerifyTimeOptions = {
  now: number;
  maxAgeMs: number;
  /** Default MAX_CLOCK_SKEW_MS. */
  skewMs?: number;
};

async function recoversTo(expected: string, recover: () => Promise<Address>): Promise<boolean> {
  try {
    return (await recover()).toLowerCase() === expected.toLowerCase();
  } catch {
    return false;
  }
}

/** Checks a report: shape, time (stale after maxAgeMs, future beyond the skew), then the operator's signature. */
export async function verifyBackpressureReport(
  r: BackpressureReport,
  opts: VerifyTimeOptions,
): Promise<{ ok: true } | { ok: false; reason: ReportRejection; detail?: string }> {
  const bad = malformedReport(r);
  if (bad) return { ok: false, reason: "malformed", detail: bad };
  const time = timeVerdict(r.issuedAt, opts.now, opts.maxAgeMs, opts.skewMs);
  if (time !== "ok") return { ok: false, reason: time };
  const signed = await recoversTo(r.operator, () =>
    recoverTypedDataAddress({ ...reportTypedData(r), signature: r.signature }),
  );
  return signed ? { ok: true } : { ok: false, reason: "bad_signature" };
}

export async function signShareOffer(account: LocalAccount, o: UnsignedShareOffer): Promise<ShareOffer> {
  if (getAddress(o.from) !== getAddress(account.address)) {
    throw new TypeError(`an offer from ${o.from} cannot be signed by ${account.address}`);
  }
  const signature = await account.signTypedData(shareOfferTypedData(o));
  return { ...o, from: getAddress(o.from), to: getAddress(o.to), signature };
}

export type ShareRejection =
  | "malformed"
  | "wrong_request"
  | "stale"
  | "future"
  | "not_member"
  | "to_in_quorum"
  | "to_inactive"
  | "report_not_from_sender"
  | "report_stale"
  | "report_future"
  | "not_over_capacity"
  | "bad_signature"
  | "report_bad_signature";

/** A request and the view of the operator set its quorum is derived from (chainId = the origin chain). */
export type RequestView = {
  chainId: number | bigint | string;
  requestId: Hex;
  activeSet: readonly Address[];
  quorumSize: number;
};

/** The request the offer must be for, and the limits it is judged by. */
export type ShareRules = RequestView & {
  /** A report older than this when the offer was made (and an offer this old at `now`) is stale. */
  maxAgeMs: number;
  skewMs?: number;
  /** When given, the offer itself must be fresh at this time (live scheduling); omit it to judge after the fact. */
  now?: number;
  /** The quorum, if the caller derived it already (must be derived from the same request and set). */
  quorum?: Quorum;
};

/**
 * Every rule of a share offer except its signatures: well-formed, for this request, `from` a
 * member, `to` an active operator outside the quorum, the report `from`'s own, fresh when the offer
 * was made (and not dated after it beyond the skew) and over capacity; with `now`, the offer itself
 * fresh. Undefined when it holds.
 */
export function checkShareOffer(o: ShareOffer, rules: ShareRules): ShareRejection | undefined {
  if (malformedShareOffer(o)) return "malformed";
  if (BigInt(o.chainId) !== BigInt(rules.chainId) || o.requestId.toLowerCase() !== rules.requestId.toLowerCase())
    return "wrong_request";
  const skew = rules.skewMs ?? MAX_CLOCK_SKEW_MS;
  if (rules.now !== undefined) {
    const time = timeVerdict(o.issuedAt, rules.now, rules.maxAgeMs, skew);
    if (time !== "ok") return time;
  }
  const quorum =
    rules.quorum ??
    deriveQuorum({
      chainId: rules.chainId,
      requestId: rules.requestId,
      activeSet: rules.activeSet,
      size: rules.quorumSize,
    });
  if (!includesAddress(quorum.members, o.from)) return "not_member";
  if (includesAddress(quorum.members, o.to)) return "to_in_quorum";
  if (!includesAddress(quorum.standby, o.to)) return "to_inactive";
  if (o.report.operator.toLowerCase() !== o.from.toLowerCase()) return "report_not_from_sender";
  const reportTime = timeVerdict(o.report.issuedAt, o.issuedAt, rules.maxAgeMs, skew);
  if (reportTime === "stale") return "report_stale";
  if (reportTime === "future") return "report_future";
  if (!overCapacity(o.report)) return "not_over_capacity";
  return undefined;
}

/** checkShareOffer, then the report's and the offer's signatures (both by `from`). */
export async function verifyShareOffer(
  o: ShareOffer,
  rules: ShareRules,
): Promise<{ ok: true } | { ok: false; reason: ShareRejection }> {
  const rejected = checkShareOffer(o, rules);
  if (rejected) return { ok: false, reason: rejected };
  const reportSigned = await recoversTo(o.from, () =>
    recoverTypedDataAddress({ ...reportTypedData(o.report), signature: o.report.signature }),
  );
  if (!reportSigned) return { ok: false, reason: "report_bad_signature" };
  const offerSigned = await recoversTo(o.from, () =>
    recoverTypedDataAddress({ ...shareOfferTypedData(o), signature: o.signature }),
  );
  return offerSigned ? { ok: true } : { ok: false, reason: "bad_signature" };
}

// ---------------------------------------------------------------------------------------------
// What a node should do about one request
// ---------------------------------------------------------------------------------------------

export type SchedulingTiming = { stealAfterMs: number; stealStepMs: number; staleAfterMs: number; skewMs?: number };

export type TaskPlan = {
  /**
   * compute: run it now (as a member, or a slot shared to this node: `sharedFrom`);
   * share: send a share offer to `shareTo` (then stop); steal: run it, taking an unanswered slot;
   * wait: nothing yet, plan again at `at`; none: nothing to do for this node.
   */
  action: "compute" | "share" | "steal" | "wait" | "none";
  /** Unix ms the action is due (compute/share: when the request became actionable; wait: when to plan again). */
  at: number;
  shareTo?: Address;
  /** compute of a shared slot: the member that shared it. */
  sharedFrom?: Address;
  /** Why (for logs). */
  reason: string;
};

export type PlanTaskArgs = RequestView & {
  self: Address;
  now: number;
  /** Unix ms when the request became actionable (confirmed). */
  announcedAt: number;
  /** Latest signature-checked report per operator (key: lower-case address). */
  reports: ReadonlyMap<string, BackpressureReport>;
  /** Operators whose valid result signature for this request was seen (lower-case). */
  signed: ReadonlySet<string>;
  /** Signature-checked share offers seen for this request (others are ignored). */
  shares: readonly ShareOffer[];
  timing: SchedulingTiming;
  /** The job's kind and program: a standby whose fresh report refuses them is never shared to or counted as a stealer. */
  kind?: string;
  programId?: Hex;
  /**
   * The request's quorum when it is not the default `deriveQuorum` one: a program served by several
   * quorums routes the request to one of them (protocol/autoscale.ts `routeRequest`).
   */
  quorum?: Quorum;
};

function reportOf(reports: ReadonlyMap<string, BackpressureReport>, operator: string): BackpressureReport | undefined {
  const r = reports.get(operator.toLowerCase());
  return r && r.operator.toLowerCase() === operator.toLowerCase() ? r : undefined;
}

/** Valid offers (by every rule but signatures) for this request, judged at `now`. */
export function validShares(shares: readonly ShareOffer[], rules: ShareRules): ShareOffer[] {
  return shares.filter((s) => checkShareOffer(s, rules) === undefined);
}

/**
 * What `self` should do about a request now. Members compute, or share when their own fresh report
 * shows them full and a standby's fresh report shows room; a standby computes a slot validly shared
 * to it, and otherwise steals once the unanswered slots' deadline reaches its place in the list.
 */
export function planTask(args: PlanTaskArgs): TaskPlan {
  const self = getAddress(args.self);
  const skewMs = args.timing.skewMs ?? MAX_CLOCK_SKEW_MS;
  const maxAgeMs = args.timing.staleAfterMs;
  const signed = new Set([...args.signed].map((s) => s.toLowerCase()));
  if (!includesAddress(args.activeSet, self)) return { action: "none", at: args.now, reason: "not an active operator" };
  if (signed.has(self.toLowerCase())) return { action: "none", at: args.now, reason: "already signed" };
  const quorum =
    args.quorum ??
    deriveQuorum({
      chainId: args.chainId,
      requestId: args.requestId,
      activeSet: args.activeSet,
      size: args.quorumSize,
    });
  const rules: ShareRules = {
    chainId: args.chainId,
    requestId: args.requestId,
    activeSet: args.activeSet,
    quorumSize: args.quorumSize,
    maxAgeMs,
    skewMs,
    now: args.now,
    quorum,
  };
  const shares = validShares(args.shares, rules);
  const fresh = (op: string) => {
    const r = reportOf(args.reports, op);
    return isFreshReport(r, args.now, maxAgeMs, skewMs) ? r : undefined;
  };
  const refuses = (op: string) => {
    const r = fresh(op);
    return r !== undefined && (overCapacity(r) || !acceptsWork(r, args.kind, args.programId));
  };
  const shareTargets = new Set(shares.map((s) => s.to.toLowerCase()));

  if (includesAddress(quorum.members, self)) {
    const mine = shares.find((s) => s.from.toLowerCase() === self.toLowerCase());
    if (mine) return { action: "none", at: args.now, reason: `shared to ${mine.to}` };
    const own = fresh(self);
    if (own && overCapacity(own)) {
      const target = quorum.standby.find((op) => {
        const key = op.toLowerCase();
        if (signed.has(key) || shareTargets.has(key)) return false;
        const r = fresh(op);
        return r !== undefined && !overCapacity(r) && acceptsWork(r, args.kind, args.programId);
      });
      if (target) return { action: "share", at: args.announcedAt, shareTo: target, reason: "over capacity" };
      return { action: "compute", at: args.announcedAt, reason: "over capacity, but no standby has room" };
    }
    return { action: "compute", at: args.announcedAt, reason: "quorum member" };
  }

  const offered = shares.find((s) => s.to.toLowerCase() === self.toLowerCase());
  if (offered) {
    return { action: "compute", at: args.announcedAt, sharedFrom: getAddress(offered.from), reason: "slot shared in" };
  }

  // Stealing: how many slots still lack a signature (any active signer fills one).
  const answered = [...signed].filter((s) => includesAddress(args.activeSet, s)).length;
  const open = quorum.members.length - answered;
  if (open <= 0) return { action: "none", at: args.now, reason: "every slot answered" };
  if (refuses(self)) return { action: "none", at: args.now, reason: "own fresh report: full or does not run it" };
  const stealers = quorum.standby.filter((op) => {
    const key = op.toLowerCase();
    return !signed.has(key) && !shareTargets.has(key) && !refuses(op);
  });
  const place = stealers.findIndex((op) => op.toLowerCase() === self.toLowerCase());
  if (place < 0) return { action: "none", at: args.now, reason: "not in the standby list" };
  const at = args.announcedAt + args.timing.stealAfterMs + Math.floor(place / open) * args.timing.stealStepMs;
  if (args.now < at) return { action: "wait", at, reason: `${open} open slot(s); steal turn ${place + 1}` };
  return { action: "steal", at, reason: `${open} open slot(s) past the deadline` };
}

// ---------------------------------------------------------------------------------------------
// Who did the work
// ---------------------------------------------------------------------------------------------

export type Attribution = {
  operator: Address;
  /**
   * quorum: a member doing its own slot; shared-in: a standby a member validly shared its slot to;
   * stolen: a standby that filled a slot its member left unanswered; extra: a standby that signed
   * although no slot was open (its signature is valid, it took nobody's slot).
   */
  how: "quorum" | "shared-in" | "stolen" | "extra";
  /** shared-in: the member that shared. */
  sharedFrom?: Address;
  /** stolen: the member whose slot was taken. */
  slotOf?: Address;
  /** shared-in: what the sharer is owed, in basis points of this worker's fee share (not paid on chain). */
  sharerBps?: number;
};

export type AttributeWorkArgs = RequestView & {
  /** Operators whose signatures the result carries (any order). */
  signers: readonly Address[];
  /** Signature-checked share offers seen for the request (invalid ones are ignored). */
  shares: readonly ShareOffer[];
  /** Report age limit, as in planTask's staleAfterMs. */
  maxAgeMs: number;
  skewMs?: number;
  /** Default SHARER_BPS. */
  sharerBps?: number;
};

/**
 * One attribution per active signer, in ascending address order (signers outside the active set
 * are left out: the ingestor refuses them). A share offer counts only if it is valid by every rule
 * judged at the time it was made. A standby counts as a stealer only for a member slot nobody (the
 * member or its shared-in worker) answered, stealers taking those slots in standby order; any other
 * standby signer is `extra`, so claiming a steal when the member did answer gains no slot.
 */
export function attributeWork(args: AttributeWorkArgs): Attribution[] {
  const quorum = deriveQuorum({
    chainId: args.chainId,
    requestId: args.requestId,
    activeSet: args.activeSet,
    size: args.quorumSize,
  });
  const signers = [...new Map(args.signers.map((s) => [s.toLowerCase(), getAddress(s)])).values()].filter((s) =>
    includesAddress(args.activeSet, s),
  );
  const signedSet = new Set(signers.map((s) => s.toLowerCase()));
  const shares = validShares(args.shares, {
    chainId: args.chainId,
    requestId: args.requestId,
    activeSet: args.activeSet,
    quorumSize: args.quorumSize,
    maxAgeMs: args.maxAgeMs,
    skewMs: args.skewMs,
    quorum,
  });
  const byOperator = new Map<string, Attribution>();
  const answeredSlots = new Set<string>();
  for (const member of quorum.members) {
    if (signedSet.has(member.toLowerCase())) {
      byOperator.set(member.toLowerCase(), { operator: member, how: "quorum" });
      answeredSlots.add(member.toLowerCase());
    }
  }
  // A standby may hold offers from several members: the earliest offer (then the closest member) wins.
  const offers = [...shares].sort(
    (a, b) =>
      a.issuedAt - b.issuedAt ||
      quorum.members.findIndex((m) => m.toLowerCase() === a.from.toLowerCase()) -
        quorum.members.findIndex((m) => m.toLowerCase() === b.from.toLowerCase()),
  );
  for (const offer of offers) {
    const to = offer.to.toLowerCase();
    if (!signedSet.has(to) || byOperator.has(to)) continue;
    byOperator.set(to, {
      operator: getAddress(offer.to),
      how: "shared-in",
      sharedFrom: getAddress(offer.from),
      sharerBps: args.sharerBps ?? SHARER_BPS,
    });
    answeredSlots.add(offer.from.toLowerCase());
  }
  const openSlots = quorum.members.filter((m) => !answeredSlots.has(m.toLowerCase()));
  for (const standby of quorum.standby) {
    const key = standby.toLowerCase();
    if (!signedSet.has(key) || byOperator.has(key)) continue;
    const slot = openSlots.shift();
    byOperator.set(
      key,
      slot ? { operator: standby, how: "stolen", slotOf: slot } : { operator: standby, how: "extra" },
    );
  }
  return [...byOperator.values()].sort((a, b) => (BigInt(a.operator) < BigInt(b.operator) ? -1 : 1));
}

const POSTING_PREFERENCE: Record<Attribution["how"], number> = { quorum: 0, "shared-in": 1, stolen: 2, extra: 3 };

/**
 * Signers in the order a collector should prefer them when it posts fewer signatures than it has
 * (the fee is split among the posted ones): members, shared-in workers, stealers, then extra
 * signers; ties keep the input order. Post the first `threshold` (sorted by address, as the
 * ingestor requires), and an extra signer earns nothing unless it is needed.
 */
export function postingSigners(attributions: readonly Attribution[]): Address[] {
  return attributions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => POSTING_PREFERENCE[x.a.how] - POSTING_PREFERENCE[y.a.how] || x.i - y.i)
    .map(({ a }) => a.operator);
}

// ---------------------------------------------------------------------------------------------
// Posting rotation
// ---------------------------------------------------------------------------------------------

export type PosterTurn = { poster: Address; notBefore: number };

/**
 * Who posts a result and when: posters ranked by XOR distance from the request's key (so the turn
 * rotates per request), the i-th allowed to post `i * fallbackDelayMs` after the threshold was
 * reached. `chainId` is the chain the result is posted on. A duplicate post is a harmless skip on
 * chain, so the fallback only costs gas when the earlier poster was slow.
 */
export function posterSchedule(args: {
  chainId: number | bigint | string;
  requestId: Hex;
  posters: readonly Address[];
  fallbackDelayMs: number;
}): PosterTurn[] {
  if (!Number.isFinite(args.fallbackDelayMs) || args.fallbackDelayMs < 0)
    throw new RangeError("fallbackDelayMs must be a non-negative number");
  return rankByDistance(requestKey(args.chainId, args.requestId), args.posters).map((poster, i) => ({
    poster,
    notBefore: i * args.fallbackDelayMs,
  }));
}
