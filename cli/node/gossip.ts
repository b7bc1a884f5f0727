import { Queue } from "bullmq";
import type { RedisClient } from "../../protocol/redis.ts";
import type { Address, Hex, LocalAccount } from "viem";
import { isPastDeadline } from "../../protocol/chainClock.ts";
import type { OperatorReport, RequestJob, ResultJob } from "../../protocol/jobs.ts";
import type { Logger } from "../../protocol/ops.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import {
  signBackpressureReport,
  signShareOffer,
  verifyBackpressureReport,
  verifyShareOffer,
  type BackpressureReport,
  type ShareOffer,
} from "../../protocol/scheduling.ts";
import type { BackpressureReportMessage, ShareOfferMessage } from "../../network/index.ts";
import type { NodeNetwork, RequestAnnouncement } from "./network.ts";

const SIGNERS_TTL_MS = 24 * 3_600_000;

/** How long results of a request whose deadline is unknown (only announced) stay watched. */
const WATCH_UNKNOWN_DEADLINE_MS = 15 * 60_000;
/** However far a deadline is, a request's results are not watched longer than this. */
const WATCH_MAX_MS = 24 * 3_600_000;

/**
 * The node's side of the gossip: what it keeps from the network (fresh, valid backpressure
 * reports; share offers addressed to it; which operators signed which request) and what it puts
 * on it (announcements, its results, its signed reports and share offers). Messages reach here
 * already checked by network/ (bound, active peers); reports and offers are checked again here
 * (signature, age), since a decision rests on them.
 */
export class GossipBridge {
  readonly reports = new Map<string, BackpressureReport>();
  private readonly shares = new Map<string, ShareOffer[]>();
  private readonly watched = new Map<string, { chainId: string; requestId: Hex; deadline?: string; since: number }>();
  private readonly offs: (() => void)[] = [];
  private resultsQueue: Queue<ResultJob> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly options: {
    network: NodeNetwork;
    account: LocalAccount | undefined;
    redis: RedisClient;
    log: Logger;
    staleAfterMs: number;
    /** The active set and quorum size a share offer is judged against. */
    activeSet: () => readonly Address[];
    quorumSize: number;
    /** Put results from other operators into this domain's results queue (collect role). */
    collect: boolean;
    /** Count signers in the done sets (relay role: stealing looks there). */
    trackSigners: boolean;
    onAnnouncement?: (a: RequestAnnouncement) => Promise<unknown>;
    /** A share offer to this node arrived for a request: decide again. */
    onShareToMe?: (chainId: string, requestId: Hex) => Promise<unknown>;
    /** The chain's time in seconds: a watched request's deadline is judged by it, never by `now`. */
    chainNow: (chainId: string) => Promise<bigint>;
    now?: () => number;
  };

  constructor(options: GossipBridge["options"]) {
    this.options = options;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  start(): void {
    const { network, log } = this.options;
    if (this.options.collect)
      this.resultsQueue = new Queue<ResultJob>(queueNames.results, {
        connection: this.options.redis,
        prefix: QUEUE_PREFIX,
      });
    this.offs.push(
      network.onResult(
        (result) => void this.takeResult(result).catch((err: unknown) => log.warn({ err }, "could not take a result")),
      ),
      network.onBackpressure((report) => void this.takeReport(report)),
      network.onShare((offer) => void this.takeShare(offer)),
      network.onRequest((a) => {
        if (this.options.collect) this.watch(a.chainId, a.requestId);
        void this.options.onAnnouncement?.(a).catch((err: unknown) => log.debug({ err }, "announcement not taken"));
      }),
    );
    this.sweepTimer = setInterval(
      () => void this.expireWatches().catch((err: unknown) => log.debug({ err }, "watch expiry failed")),
      30_000,
    );
    this.sweepTimer.unref();
  }

  /**
   * Delivers a request's results (until `unwatch`, the chain's clock passing its deadline, or 24 h;
   * 15 minutes while the deadline is unknown).
   */
  watch(chainId: string, requestId: Hex, deadlineSeconds?: string): void {
    const key = `${chainId}:${requestId.toLowerCase()}`;
    const known = this.watched.get(key);
    if (!known) this.options.network.watchResults(chainId, requestId);
    const deadline = deadlineSeconds ?? known?.deadline;
    this.watched.set(key, { chainId, requestId, since: known?.since ?? this.now(), ...(deadline ? { deadline } : {}) });
  }

  unwatch(chainId: string, requestId: Hex): void {
    const key = `${chainId}:${requestId.toLowerCase()}`;
    if (!this.watched.delete(key)) return;
    this.options.network.unwatchResults(chainId, requestId);
    this.shares.delete(key);
  }

  watching(): number {
    return this.watched.size;
  }

  /** Requests with share offers kept (watched ones, and unwatched ones for at most 15 minutes). */
  sharesKept(): number {
    return this.shares.size;
  }

  /** Announces a request this node's relay role confirmed on its own chain view. */
  async announce(request: RequestJob, blockHash: Hex): Promise<void> {
    await this.options.network.announceRequest({
      chainId: request.chainId,
      requestId: request.requestId,
      blockNumber: request.blockNumber,
      blockHash,
      txHash: request.transactionHash,
      logIndex: request.logIndex,
    });
  }

  sharesFor = (chainId: string, requestId: Hex): readonly ShareOffer[] =>
    this.shares.get(`${chainId}:${requestId.toLowerCase()}`) ?? [];

  reportsView = (): ReadonlyMap<string, BackpressureReport> => {
    const now = this.now();
    for (const [operator, r] of this.reports)
      if (now - r.issuedAt > this.options.staleAfterMs) this.reports.delete(operator);
    return this.reports;
  };

  /** Signs this node's report and gossips it; keeps it as its own view too. */
  async publishReport(report: OperatorReport): Promise<void> {
    const { account } = this.options;
    if (!account) return;
    const signed = await signBackpressureReport(account, {
      operator: account.address,
      depth: report.depth,
      capacity: report.capacity,
      kinds: report.kinds,
      programs: report.programs,
      issuedAt: report.updatedAt,
    });
    this.reports.set(account.address.toLowerCase(), signed);
    // programs are 32-byte ids on the wire (protocol/gossip.ts); the report's type says string
    await this.options.network.publishBackpressure(signed as BackpressureReportMessage);
  }

  /** Offers a request to `to` (this node is over capacity): signed, with its own report attached. */
  async offer(request: RequestJob, to: Address): Promise<void> {
    const { account } = this.options;
    const mine = account ? this.reports.get(account.address.toLowerCase()) : undefined;
    if (!account || !mine) throw new Error("no own backpressure report to attach to a share offer");
    const offer = await signShareOffer(account, {
      chainId: request.chainId,
      requestId: request.requestId,
      from: account.address,
      to,
      report: mine,
      issuedAt: this.now(),
    });
    this.keepShare(offer);
    await this.options.network.publishShare(offer as ShareOfferMessage);
  }

  close(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const off of this.offs.splice(0)) off();
    for (const w of this.watched.values()) this.options.network.unwatchResults(w.chainId, w.requestId);
    this.watched.clear();
    return this.resultsQueue?.close() ?? Promise.resolve();
  }

  /** Records who signed which body for a request (the relay role's view of the quorum's progress). */
  async recordSigner(result: ResultJob): Promise<void> {
    if (!this.options.trackSigners) return;
    const bodyHash = result.chains[0]?.result.bodyHash;
    const done = redisKeys.done(result.originChainId, result.requestId);
    const signers = redisKeys.signers(result.originChainId, result.requestId);
    const operator = result.operator.toLowerCase();
    const multi = this.options.redis.multi().sadd(done, operator).pexpire(done, SIGNERS_TTL_MS);
    if (bodyHash) multi.hset(signers, operator, bodyHash.toLowerCase()).pexpire(signers, SIGNERS_TTL_MS);
    await multi.exec();
  }

  private async takeResult(result: ResultJob): Promise<void> {
    await this.recordSigner(result);
    // The collector checks everything again (signatures, context, active set) before counting it.
    await this.resultsQueue?.add("result", result, {
      jobId: jobIds.result(result.originChainId, result.requestId, result.operator),
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 86_400 },
    });
  }

  private async takeReport(report: BackpressureReport): Promise<void> {
    const verdict = await verifyBackpressureReport(report, { now: this.now(), maxAgeMs: this.options.staleAfterMs });
    if (!verdict.ok) {
      this.options.log.debug({ operator: report?.operator, reason: verdict.reason }, "backpressure report ignored");
      return;
    }
    const key = report.operator.toLowerCase();
    const previous = this.reports.get(key);
    if (!previous || previous.issuedAt < report.issuedAt) this.reports.set(key, report);
  }

  private async takeShare(offer: ShareOffer): Promise<void> {
    const verdict = await verifyShareOffer(offer, {
      chainId: offer.chainId,
      requestId: offer.requestId,
      activeSet: this.options.activeSet(),
      quorumSize: this.options.quorumSize,
      maxAgeMs: this.options.staleAfterMs,
      now: this.now(),
    });
    if (!verdict.ok) {
      this.options.log.debug({ from: offer.from, reason: verdict.reason }, "share offer ignored");
      return;
    }
    // every valid offer counts: a standby must not steal a slot that was shared, and attribution needs them
    this.keepShare(offer);
    const self = this.options.account?.address.toLowerCase();
    if (self && offer.to.toLowerCase() === self) await this.options.onShareToMe?.(offer.chainId, offer.requestId);
  }

  private keepShare(offer: ShareOffer): void {
    const key = `${offer.chainId}:${offer.requestId.toLowerCase()}`;
    const others = (this.shares.get(key) ?? []).filter((s) => s.from.toLowerCase() !== offer.from.toLowerCase());
    this.shares.set(key, [...others, offer]);
  }

  /**
   * Drops watches past their request's deadline by the chain's clock (a chain that cannot be read
   * keeps them), and the share offers of requests not watched once 15 minutes old: an offer can
   * come before this node's scheduler sees its request (then `watch` follows and keeps it), but
   * one for a request this node never handles would otherwise stay for the life of the process.
   */
  async expireWatches(): Promise<number> {
    const now = this.now();
    for (const [key, offers] of this.shares)
      if (!this.watched.has(key) && offers.every((o) => now - o.issuedAt > WATCH_UNKNOWN_DEADLINE_MS))
        this.shares.delete(key);
    const chainNow = new Map<string, bigint | null>();
    let expired = 0;
    for (const w of [...this.watched.values()]) {
      let over = now - w.since > (w.deadline ? WATCH_MAX_MS : WATCH_UNKNOWN_DEADLINE_MS);
      if (!over && w.deadline) {
        if (!chainNow.has(w.chainId)) chainNow.set(w.chainId, await this.options.chainNow(w.chainId).catch(() => null));
        const seconds = chainNow.get(w.chainId);
        over = seconds !== null && seconds !== undefined && isPastDeadline(w.deadline, seconds);
      }
      if (over) {
        this.unwatch(w.chainId, w.requestId);
        expired++;
      }
    }
    return expired;
  }
}
