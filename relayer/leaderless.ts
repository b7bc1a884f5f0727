import { Queue } from "bullmq";
import type { RedisClient } from "../protocol/redis.ts";
import type { Logger } from "pino";
import { getAddress, type Address, type Hex } from "viem";
import type { RequestJob, WorkJob } from "../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../protocol/queues.ts";
import type { RequestStatus } from "./scheduler.ts";
import { isPastDeadline, msUntilPastDeadline } from "../protocol/chainClock.ts";
import { deriveQuorum, type Quorum } from "../protocol/quorum.ts";
import { planTask, type BackpressureReport, type ShareOffer, type TaskPlan } from "../protocol/scheduling.ts";

/**
 * What the relayer asks of a scheduler: the leader scheduler of one shared Redis
 * (relayer/scheduler.ts) and the leaderless one of an operator node (this file) both fit.
 */
export type RequestScheduler = {
  /** Takes requests not seen before; resolves with how many were new. */
  schedule(requests: readonly RequestJob[]): Promise<number>;
  /** One pass over the requests whose next check is due. */
  sweep(): Promise<unknown>;
  close(): Promise<void>;
};

export type LeaderlessTiming = { stealAfterMs: number; stealStepMs: number; staleAfterMs: number };

export type LeaderlessOptions = {
  /** The operator's own Redis. */
  redis: RedisClient;
  /** This node's operator address. */
  self: Address;
  quorum: number;
  timing: LeaderlessTiming;
  /** The active operator set (on chain), as this node last read it. */
  operators: () => readonly Address[];
  requestStatus: (chainId: string, requestId: Hex) => Promise<RequestStatus>;
  /** The chain's time in seconds (latest block timestamp): deadlines are judged by it, never by `now`. */
  chainNow: (chainId: string) => Promise<bigint>;
  /** Latest valid backpressure report per operator (lower-case), from the network. */
  reports: () => ReadonlyMap<string, BackpressureReport>;
  /** Valid share offers addressed to this node for one request. */
  shares: (chainId: string, requestId: Hex) => readonly ShareOffer[];
  /** Publishes a signed share offer for `request` to `to` (over capacity). */
  share?: (request: RequestJob, to: Address) => Promise<void>;
  /** Called once per request this node starts following (announce it, watch its results topic). */
  onNew?: (request: RequestJob) => void;
  /** Called when this node stops following a request (settled or past its deadline). */
  onDropped?: (chainId: string, requestId: Hex) => void;
  log: Logger;
  metrics?: {
    scheduled?: (chainId: string) => void;
    assigned?: (operator: string) => void;
    reassigned?: () => void;
    dropped?: (reason: string) => void;
  };
  /** This machine's clock: when to look at a request again, never whether its deadline passed. */
  now?: () => number;
  sweepBatch?: number;
  /** Recent decisions kept for status() (default 100). */
  keepRecent?: number;
  /**
   * Auto-scaling (protocol/autoscale.ts): the request's quorum when its program is served by several
   * quorums (`routeRequest`); undefined keeps the default quorum of protocol/quorum.ts.
   */
  quorumFor?: (request: RequestJob, activeSet: readonly Address[]) => Quorum | undefined;
};

export type RecentPlan = {
  chainId: string;
  requestId: Hex;
  members: Address[];
  standby: Address[];
  signed: string[];
  plan: TaskPlan;
  acted: string | null;
  decidedAt: number;
};

const STATE_TTL_AFTER_DEADLINE_MS = 3_600_000;
/** Requests of one schedule() call taken at once. */
const SCHEDULE_CONCURRENCY = 16;
const KIND = "execute";

/**
 * Leaderless scheduling for one operator (SPEC 6): for every request it follows, the node
 * derives the quorum from the request hash and the active set and decides only for itself
 * (`planTask`): compute it (a job on its own work queue, id `chainId:requestId:operator`), share
 * it (over capacity: a signed ShareOffer to the next closest node with room), steal it (a member
 * has not signed by the deadline) or wait. Nobody assigns anybody else's work.
 *
 * State (the operator's own Redis): `redisKeys.request` holds `job`, `announcedAt` and `acted`
 * (what this node already did: `compute`, `steal`, `share:<to>`); `redisKeys.schedule` the next
 * check; `redisKeys.done` the operators whose signature this node has seen (its own worker and
 * results from the network).
 */
export class LeaderlessScheduler implements RequestScheduler {
  private readonly options: LeaderlessOptions;
  private readonly now: () => number;
  private queue: Queue<WorkJob> | undefined;
  private readonly recentPlans = new Map<string, RecentPlan>();
  private closing: Promise<void> | undefined;

  constructor(options: LeaderlessOptions) {
    if (options.quorum < 1) throw new RangeError("quorum must be at least 1");
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** This node's own work queue. */
  workQueue(): Queue<WorkJob> {
    this.queue ??= new Queue<WorkJob>(queueNames.work(this.options.self), {
      connection: this.options.redis,
      prefix: QUEUE_PREFIX,
    });
    return this.queue;
  }

  /** The latest decisions (newest last), for GET /network. */
  recent(): RecentPlan[] {
    return [...this.recentPlans.values()];
  }

  async schedule(requests: readonly RequestJob[]): Promise<number> {
    if (requests.length === 0) return 0;
    const { redis } = this.options;
    const now = this.now();
    let fresh = 0;
    const take = async (request: RequestJob) => {
      const key = redisKeys.request(request.chainId, request.requestId);
      // HSETNX on `job`: exactly one caller (a re-scan, an announcement, reconciliation) wins.
      const created = await redis.hsetnx(key, "job", JSON.stringify(request));
      if (created === 0) return;
      fresh++;
      await redis
        .multi()
        .hset(key, "announcedAt", String(now))
        .pexpire(key, (await this.msUntilDeadline(request)) + STATE_TTL_AFTER_DEADLINE_MS)
        .exec();
      this.options.metrics?.scheduled?.(request.chainId);
      this.options.onNew?.(request);
      await this.decide(request, now, null, now);
    };
    // Requests are independent (each its own state, HSETNX picks one taker): a block's worth of them
    // is taken SCHEDULE_CONCURRENCY at a time, not one Redis round trip after the other (issue 14:
    // 200 requests mined at once took the relay ~30 s to start one at a time).
    let next = 0;
    const lane = async () => {
      while (next < requests.length) await take(requests[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(SCHEDULE_CONCURRENCY, requests.length) }, lane));
    return fresh;
  }

  /** Re-decides one request now (a share offer or a result arrived). */
  async poke(chainId: string, requestId: Hex): Promise<void> {
    const state = await this.options.redis.hgetall(redisKeys.request(chainId, requestId));
    if (!state.job) return;
    await this.decide(
      JSON.parse(state.job) as RequestJob,
      Number(state.announcedAt ?? 0),
      state.acted ?? null,
      this.now(),
    );
  }

  async sweep(): Promise<{ visited: number; dropped: number }> {
    const { redis } = this.options;
    const now = this.now();
    const due = await redis.zrangebyscore(redisKeys.schedule, "-inf", now, "LIMIT", 0, this.options.sweepBatch ?? 500);
    let dropped = 0;
    for (const member of due) {
      const [chainId, requestId] = member.split(":") as [string, Hex];
      try {
        const state = await redis.hgetall(redisKeys.request(chainId, requestId));
        if (!state.job) {
          await redis.zrem(redisKeys.schedule, member);
          continue;
        }
        const request = JSON.parse(state.job) as RequestJob;
        const pastDeadline = isPastDeadline(request.deadline, await this.options.chainNow(chainId));
        const status = pastDeadline ? "closed" : await this.options.requestStatus(chainId, requestId);
        if (status === "closed") {
          await redis.zrem(redisKeys.schedule, member);
          this.options.metrics?.dropped?.(pastDeadline ? "deadline" : "settled");
          this.options.onDropped?.(chainId, requestId);
          dropped++;
          continue;
        }
        await this.decide(request, Number(state.announcedAt ?? now), state.acted ?? null, now);
      } catch (error) {
        this.options.log.warn({ err: error, request: member }, "could not check a request; retrying later");
        await redis.zadd(redisKeys.schedule, now + this.options.timing.stealStepMs + 1_000, member);
      }
    }
    return { visited: due.length, dropped };
  }

  /**
   * How long this machine should keep a request's state: until its deadline on the chain's clock.
   * If the chain cannot be read, the deadline read as this machine's time (the state's expiry is only
   * a leak guard; the sweep still asks the chain before it drops anything).
   */
  private async msUntilDeadline(request: RequestJob): Promise<number> {
    try {
      return msUntilPastDeadline(request.deadline, await this.options.chainNow(request.chainId));
    } catch (error) {
      this.options.log.debug({ err: error, chainId: request.chainId }, "chain time unavailable");
      return Math.max(Number(request.deadline) * 1000 - this.now(), 0);
    }
  }

  close(): Promise<void> {
    this.closing ??= (this.queue?.close() ?? Promise.resolve()).catch(() => {});
    return this.closing;
  }

  private async decide(request: RequestJob, announcedAt: number, acted: string | null, now: number): Promise<void> {
    const { redis, self, timing } = this.options;
    const member = `${request.chainId}:${request.requestId.toLowerCase()}`;
    const key = redisKeys.request(request.chainId, request.requestId);
    const signed = await this.signedView(request);
    const activeSet = this.options.operators();
    const quorum =
      this.options.quorumFor?.(request, activeSet) ??
      deriveQuorum({ chainId: request.chainId, requestId: request.requestId, activeSet, size: this.options.quorum });
    const plan = planTask({
      chainId: request.chainId,
      requestId: request.requestId,
      activeSet,
      quorumSize: this.options.quorum,
      self,
      now,
      announcedAt,
      reports: this.options.reports(),
      signed,
      shares: this.options.shares(request.chainId, request.requestId),
      timing,
      kind: KIND,
      programId: request.programId,
      quorum,
    });
    let next: number | null;
    let done = acted;
    switch (plan.action) {
      case "compute":
      case "steal":
        if (acted !== "compute" && acted !== "steal") {
          await this.enqueue(request, now);
          done = plan.action;
          if (plan.action === "steal") this.options.metrics?.reassigned?.();
          this.options.log.info(
            {
              chainId: request.chainId,
              requestId: request.requestId,
              action: plan.action,
              reason: plan.reason,
              ...(plan.sharedFrom ? { sharedFrom: plan.sharedFrom } : {}),
            },
            plan.action === "steal" ? "stealing work a quorum member did not do in time" : "computing",
          );
        }
        next = null;
        break;
      case "share":
        if (acted !== `share:${plan.shareTo!.toLowerCase()}` && this.options.share) {
          await this.options.share(request, plan.shareTo!);
          done = `share:${plan.shareTo!.toLowerCase()}`;
          this.options.log.info({ chainId: request.chainId, requestId: request.requestId, to: plan.shareTo }, "shared");
        }
        // if the node it shared with does not sign, stealing (or our own capacity) takes over
        next = now + timing.stealAfterMs;
        break;
      case "wait":
        next = Math.max(plan.at, now + 50);
        break;
      default:
        // not ours: keep an eye on it (a member may still fail) until it settles
        next = signed.has(self.toLowerCase()) ? null : Math.max(plan.at, now + Math.max(1_000, timing.stealStepMs));
    }
    const multi = redis.multi();
    if (done !== acted && done !== null) multi.hset(key, "acted", done);
    if (next === null) multi.zrem(redisKeys.schedule, member);
    else multi.zadd(redisKeys.schedule, next, member);
    await multi.exec();
    this.recentPlans.delete(member);
    this.recentPlans.set(member, {
      chainId: request.chainId,
      requestId: request.requestId,
      members: quorum.members,
      standby: quorum.standby,
      signed: [...signed],
      plan,
      acted: done,
      decidedAt: now,
    });
    while (this.recentPlans.size > (this.options.keepRecent ?? 100))
      this.recentPlans.delete(this.recentPlans.keys().next().value!);
  }

  /**
   * The operators counted as having signed: those of the largest group of identical bodies in
   * `redisKeys.signers` (docs/scheduling.md: a member that signed a diverging result leaves its
   * slot open), plus those marked done whose body this node does not know (e.g. its own worker in
   * a domain without gossip).
   */
  private async signedView(request: RequestJob): Promise<Set<string>> {
    const [done, bodies] = await Promise.all([
      this.options.redis.smembers(redisKeys.done(request.chainId, request.requestId)),
      this.options.redis.hgetall(redisKeys.signers(request.chainId, request.requestId)),
    ]);
    const groups = new Map<string, string[]>();
    for (const [operator, bodyHash] of Object.entries(bodies))
      groups.set(bodyHash, [...(groups.get(bodyHash) ?? []), operator]);
    const largest = [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? [];
    const signed = new Set(largest.map((o) => o.toLowerCase()));
    for (const operator of done) if (bodies[operator.toLowerCase()] === undefined) signed.add(operator.toLowerCase());
    return signed;
  }

  private async enqueue(request: RequestJob, now: number): Promise<void> {
    const self = getAddress(this.options.self);
    const job: WorkJob = { ...request, operator: self, reassignAfter: now + this.options.timing.stealAfterMs };
    await this.workQueue().add(KIND, job, {
      jobId: jobIds.work(request.chainId, request.requestId, self),
      attempts: 3,
      backoff: { type: "exponential", delay: 250 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 86_400 },
    });
    this.options.metrics?.assigned?.(self);
  }
}
