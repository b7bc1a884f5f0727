import type { Message } from "@libp2p/gossipsub";
import { getAddress, type Address } from "viem";
import {
  backpressureReportCodec,
  GossipDecodeError,
  peerBindingCodec,
  requestAnnouncementCodec,
  resultMessageCodec,
  shareOfferCodec,
  verifyResultMessage,
  type BackpressureReportMessage,
  type RequestAnnouncement,
  type ResultMessage,
  type ShareOfferMessage,
} from "../protocol/gossip.ts";
import type { PeerBinding } from "../protocol/peerBinding.ts";
import type { BindingBook } from "./bindings.ts";
import type { Membership, Role } from "./membership.ts";
import type { RateLimiter } from "./rateLimit.ts";

/**
 * The one validator every gossip message goes through before it is delivered or forwarded (after
 * Lodestar's gossip validation): rate, decoding, the sender's binding and role, attribution
 * (a peer speaks only for its own operator) and signatures. Verdicts follow gossipsub:
 * `accept` (deliver and forward), `reject` (drop; gossipsub scores down the sender and every peer
 * that forwarded the same message: it is invalid for everyone), `ignore` (drop, no gossipsub
 * penalty). A check that depends on this node's own view (its rate counters, the bindings and
 * active set it knows) ignores: an honest forwarder's view may differ, and a gossipsub reject
 * would punish it too. When such a message came straight from its origin, the verdict says
 * `penalize` and network/ lowers the origin's application score instead (network/scoring.ts).
 */

export type MessageKind = "request" | "result" | "backpressure" | "share" | "binding";

export type Decoded =
  | { kind: "request"; value: RequestAnnouncement }
  | { kind: "result"; value: ResultMessage }
  | { kind: "backpressure"; value: BackpressureReportMessage }
  | { kind: "share"; value: ShareOfferMessage }
  | { kind: "binding"; value: PeerBinding };

export type Verdict =
  | { result: "accept"; decoded: Decoded; origin: string; operator: Address }
  | { result: "reject" | "ignore"; reason: string; detail?: string; penalize?: boolean };

export type SignatureCheck<T> = (
  value: T,
  opts: { now: number; maxAgeMs: number },
) => Promise<{ ok: true } | { ok: false; reason: string }>;

export type ValidatorContext = {
  kindOf: (topic: string) => MessageKind | undefined;
  bindings: BindingBook;
  membership: Membership;
  rate: RateLimiter;
  bindingWaitMs: number;
  /** Most messages held per origin while waiting for its binding. */
  maxWaitingPerPeer: number;
  reportMaxAgeMs: number;
  ingestors?: ReadonlyMap<string, Address>;
  verifyBackpressure?: SignatureCheck<BackpressureReportMessage>;
  verifyShare?: SignatureCheck<ShareOfferMessage>;
};

/** Roles allowed to originate each kind (SPEC 6: watchers only on their topics). */
const ALLOWED: Record<MessageKind, readonly Role[]> = {
  request: ["operator", "watcher"],
  result: ["operator"],
  backpressure: ["operator"],
  share: ["operator"],
  binding: ["operator", "watcher"],
};

function decode(kind: MessageKind, data: Uint8Array): Decoded {
  switch (kind) {
    case "request":
      return { kind, value: requestAnnouncementCodec.decode(data) };
    case "result":
      return { kind, value: resultMessageCodec.decode(data) };
    case "backpressure":
      return { kind, value: backpressureReportCodec.decode(data) };
    case "share":
      return { kind, value: shareOfferCodec.decode(data) };
    case "binding":
      return { kind, value: peerBindingCodec.decode(data) };
  }
}

export async function validateMessage(
  ctx: ValidatorContext,
  message: Message,
  propagationSource: string,
): Promise<Verdict> {
  const kind = ctx.kindOf(message.topic);
  if (!kind) return { result: "ignore", reason: "unknown_topic" };
  if (message.type !== "signed") return { result: "reject", reason: "unsigned" };
  const origin = message.from.toString();
  const direct = origin === propagationSource;
  const local = (reason: string, detail?: string): Verdict => ({ result: "ignore", reason, detail, penalize: direct });

  if (!ctx.rate.take(origin)) return local("rate_limited");

  let decoded: Decoded;
  try {
    decoded = decode(kind, message.data);
  } catch (error) {
    const detail = error instanceof GossipDecodeError ? error.shortMessage : String(error);
    return { result: "reject", reason: "malformed", detail };
  }

  const now = Date.now();
  if (decoded.kind === "binding") {
    const verdict = await ctx.bindings.offer(decoded.value, origin, now);
    if (!verdict.ok) return { result: "reject", reason: `binding_${verdict.reason}`, detail: verdict.detail };
    const role = ctx.membership.roleOf(verdict.operator);
    if (!role) {
      ctx.membership.refreshSoon();
      return local("inactive", verdict.operator);
    }
    return { result: "accept", decoded, origin, operator: verdict.operator };
  }

  let known = ctx.bindings.get(origin, now);
  if (!known) {
    if (ctx.bindings.waiting(origin) >= ctx.maxWaitingPerPeer) return local("unbound");
    known = await ctx.bindings.waitFor(origin, ctx.bindingWaitMs);
    if (!known) return local("unbound");
  }
  const operator = known.operator;
  const role = ctx.membership.roleOf(operator);
  if (!role) return local("inactive", operator);
  if (!ALLOWED[kind].includes(role))
    return { result: "reject", reason: "role", detail: `${role} may not send ${kind}` };

  const claims = (claimed: Address, field: string): Verdict | undefined =>
    getAddress(claimed) === operator
      ? undefined
      : { result: "reject", reason: "not_own", detail: `${field} ${claimed} is not the sender's operator ${operator}` };

  switch (decoded.kind) {
    case "request":
      break;
    case "result": {
      const mismatch = claims(decoded.value.operator, "operator");
      if (mismatch) return mismatch;
      const verdict = await verifyResultMessage(decoded.value, { ingestors: ctx.ingestors });
      if (!verdict.ok) return { result: "reject", reason: verdict.reason, detail: verdict.detail };
      break;
    }
    case "backpressure": {
      const mismatch = claims(decoded.value.operator, "operator");
      if (mismatch) return mismatch;
      if (!ctx.verifyBackpressure) return { result: "ignore", reason: "no_verifier" };
      const verdict = await ctx.verifyBackpressure(decoded.value, { now, maxAgeMs: ctx.reportMaxAgeMs });
      if (!verdict.ok) return verdictOf(verdict.reason);
      break;
    }
    case "share": {
      const mismatch = claims(decoded.value.from, "from");
      if (mismatch) return mismatch;
      if (!ctx.verifyShare) return { result: "ignore", reason: "no_verifier" };
      const verdict = await ctx.verifyShare(decoded.value, { now, maxAgeMs: ctx.reportMaxAgeMs });
      if (!verdict.ok) return verdictOf(verdict.reason);
      break;
    }
  }
  return { result: "accept", decoded, origin, operator };
}

/** A stale report is old news (ignore); anything else a verifier refuses is the sender's fault. */
function verdictOf(reason: string): Verdict {
  return { result: reason === "stale" ? "ignore" : "reject", reason };
}
