import { Queue } from "bullmq";
import type { RedisClient } from "../protocol/redis.ts";
import type { Logger } from "pino";
import { getAddress, type Address, type Hex } from "viem";
import { rankOperators } from "../protocol/quorum.ts";
import { isPastDeadline } from "../protocol/chainClock.ts";
export { operatorId, rankOperators, requestKey } from "../protocol/quorum.ts";
import type { OperatorReport, RequestJob, WorkJob } from "../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../protocol/queues.ts";
import type { SchedulerConfig } from "./config.ts";

/**
 * The quorum scheduler (SPEC 6).
 *
 * **Choosing a quorum.** Every operator has a fixed id, `keccak256(address)` (the 20 address
 * bytes), and every request a key, `keccak256(abi.encode(uint256 chainId, bytes32 requestId))`.
 * Operators are ranked by XOR distance `key ^ id` (as 256-bit integers, smallest first), so each
 * request lands on a pseudo-random but reproducible set of Q operators and the load spreads evenly.
 * Operators whose report says they do not run the job kind or the program are never chosen; those
 * with a fresh report under capacity come first; operators that are full, silent or stale only
 * fill a quorum that would otherwise be short (busy operators share work rather than drop it).
 *
 * **State.** Per request, the hash `redisKeys.request(chainId, requestId)` holds `job` (the
 * RequestJob JSON), `assignments` (JSON `Assignment[]`), `tried` (JSON list of every operator it
 * was ever given to) and `progressAt` (unix ms of the last assignment change); the sorted set
 * `redisKeys.schedule` holds `chainId:requestId` scored by its next check time. Both expire an hour
 * after the request's deadline.
 *
 * **Work stealing.** A worker that pushed its ResultJob adds its address to the set
 * `redisKeys.done(chainId, requestId)`. The sweep visits requests whose check is due: a request
 * no longer open on chain (ingested, refunded, gone in a reorg) or past its deadline is dropped;
 * each assignment not done by its `reassignAfter` is handed to the next-closest eligible operator
 * not tried yet (the old job is removed from the old queue if it has not started); and if every
 * assigned operator answered but the request is still open a full period later (their results did
 * not match), one more operator is added. Re-running any step is harmless: work job ids are
 * deterministic.
 */

export type Assignment = {
  operator: Address;
  assignedAt: number;
  /** Unix ms after which this work is given to another operator. */
  reassignAfter: number;
  /** Set once the work was given to someone else. */
  replacedBy?: Address;
};

/** On-chain state of a request, as far as scheduling cares. */
export type RequestStatus = "open" | "closed" | "unknown";

export type ChooseOptions = {
  chainId: number | bigint | string;
  requestId: Hex;
  programId: Hex;
  kind?: string;
  operators: readonly Address[];
  reports: ReadonlyMap<string, OperatorReport>;
  count: number;
  /** Operators not to choose (lower-case or checksummed). */
  exclude?: Iterable<string>;
  now: number;
  staleAfterMs: number;
};

/** Whether a report allows the operator to take this job at all (no report: it may). */
export function accepts(report: OperatorReport | undefined, kind: string, programId: Hex): boolean {
  if (!report) return true;
  if (!report.kinds.includes(kind)) return false;
  return report.programs === null || report.programs.includes(programId.toLowerCase());
}

/** Whether the operator reported recently and has room. */
export function available(report: OperatorReport | undefined, now: number, staleAfterMs: number): boolean {
  return report !== undefined && now - report.updatedAt <= staleAfterMs && report.depth < report.capacity;
}

/**
 * Up to `count` operators for a request: eligible ones by XOR distance, available ones first,
 * then (to fill the quorum) full, silent or stale ones.
 */
export function chooseOperators(options: ChooseOptions): Address[] {
  const kind = options.kind ?? "execute";
  const excluded = new Set([...(options.exclude ?? [])].map((op) => op.toLowerCase()));
  const ranked = rankOperators(options.chainId, options.requestId, options.operators).filter(
    (op) => !excluded.has(op.toLowerCase()) && accepts(options.reports.get(op.toLowerCase()), kind, options.programId),
  );
  const first = ranked.filter((op) =>
    available(options.reports.get(op.toLowerCase()), options.now, options.staleAfterMs),
  );
  const rest = ranked.filter((op) => !first.includes(op));
  return [...first, ...rest].slice(0, Math.max(0, options.count));
}

/** Parses the `redisKeys.operators` hash; malformed entries are ignored. */
export function parseReports(raw: Record<string, string>): Map<string, OperatorReport> {
  const reports = new Map<string, OperatorReport>();
  for (const [operator, json] of Object.entries(raw)) {
    try {
      const r = JSON.parse(json) as OperatorReport;
      if (typeof r.depth === "number" && typeof r.capacity === "number" && Array.isArray(r.kinds)) {
        reports.set(operator.toLowerCase(), {
          depth: r.depth,
          capacity: r.capacity,
          kinds: r.kinds,
          programs: Array.isArray(r.programs) ? r.programs.map((p) => p.toLowerCase()) : null,
          updatedAt: Number(r.updatedAt) || 0,
        });
      }
    } catch {
      // a worker wrote something else: treat the operator as silent
    }
  }
  return reports;
}

export type SchedulerMetrics = {
  scheduled: (chainId: string) => void;
  assigned: (operator: string) => void;
  reassigned: () => void;
  dropped: (reason: string) => void;
};

export type SchedulerOptions = {
  redis: RedisClient;
  config: SchedulerConfig;
  /** Current operator list (static config and/or the on-chain set). */
  operators: () => readonly Address[];
  /** Asks the request's chain whether it is still open. */
  requestStatus: (chainId: string, requestId: Hex) => Promise<RequestStatus>;
  /** The chain's time in seconds (latest block timestamp): deadlines are judged by it, never by `now`. */
  chainNow: (chainId: string) => Promise<bigint>;
  log: Logger;
  metrics?: SchedulerMetrics;
  /** This machine's clock: when to look at a request again, never whether its deadline passed. */
  now?: () => number;
};

export type SweepReport = { visited: number; reassigned: number; extended: number; dropped: number };

const KIND = "execute";
/** How long past its deadline a request's state is kept. */
const STATE_TTL_AFTER_DEADLINE_MS = 3_600_000;

export class Scheduler {
  private readonly redis: RedisClient;
  private readonly config: SchedulerConfig;
  private readonly options: SchedulerOptions;
  private readonly queues = new Map<string, Queue<WorkJob>>();
  private readonly now: () => number;
  private closing: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    if (options.config.quorum < 1) throw new RangeError("scheduler.quorum must be at least 1");
    this.options = options;
    this.redis = options.redis;
    this.config = options.config;
    this.now = options.now ?? Date.now;
  }

  /** The BullMQ queue of one operator's work (created once, closed by close()). */
  workQueue(operator: Address): Queue<WorkJob> {
    const name = queueNames.work(operator);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<WorkJob>(name, { connection: this.redis, prefix: QUEUE_PREFIX });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async readReports(): Promise<Map<string, OperatorReport>> {
    return parseReports(await this.redis.hgetall(redisKeys.operators));
  }

  /**
   * Schedules requests not scheduled before (a request with state in Redis is skipped, so a
   * re-scanned event changes nothing). Returns how many were new.
   */
  async schedule(requests: readonly RequestJob[]): Promise<number> {
    if (requests.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const r of requests) pipeline.exists(redisKeys.request(r.chainId, r.requestId));
    const exists = (await pipeline.exec()) ?? [];
    const fresh = requests.filter((_, i) => exists[i]?.[1] === 0);
    if (fresh.length === 0) return 0;
    const reports = await this.readReports();
    const now = this.now();
    await Promise.all(
      fresh.map(async (request) => {
        const chosen = chooseOperators({
          chainId: request.chainId,
          requestId: request.requestId,
          programId: request.programId,
          kind: KIND,
          operators: this.options.operators(),
          reports,
          count: this.config.quorum,
          now,
          staleAfterMs: this.config.staleAfterMs,
        });
        if (chosen.length < this.config.quorum) {
          this.options.log.warn(
            {
              chainId: request.chainId,
              requestId: request.requestId,
              chosen: chosen.length,
              quorum: this.config.quorum,
            },
            "fewer eligible operators than the quorum; the sweep adds more when they appear",
          );
        }
        const assignments = chosen.map((operator) => this.assignment(operator, now));
        await Promise.all(assignments.map((a) => this.enqueue(request, a)));
        await this.save(request, assignments, chosen, now, this.nextCheck(assignments, new Set(), now));
        this.options.metrics?.scheduled(request.chainId);
      }),
    );
    return fresh.length;
  }

  /** One pass of work stealing over the requests whose check is due. */
  async sweep(): Promise<SweepReport> {
    const now = this.now();
    const due = await this.redis.zrangebyscore(redisKeys.schedule, "-inf", now, "LIMIT", 0, this.config.sweepBatch);
    const report: SweepReport = { visited: 0, reassigned: 0, extended: 0, dropped: 0 };
    if (due.length === 0) return report;
    const reports = await this.readReports();
    for (const member of due) {
      report.visited++;
      try {
        await this.visit(member, reports, now, report);
      } catch (error) {
        this.options.log.warn({ err: error, request: member }, "sweep could not check a request; retrying later");
        await this.redis.zadd(redisKeys.schedule, now + this.config.reassignAfterMs, member);
      }
    }
    return report;
  }

  /** Closes the work queues (not the shared Redis connection). Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= Promise.all([...this.queues.values()].map((q) => q.close())).then(() => undefined);
    return this.closing;
  }

  private async visit(
    member: string,
    reports: Map<string, OperatorReport>,
    now: number,
    report: SweepReport,
  ): Promise<void> {
    const [chainId, requestId] = member.split(":") as [string, Hex];
    const key = redisKeys.request(chainId, requestId);
    const state = await this.redis.hgetall(key);
    if (!state.job) {
      await this.redis.zrem(redisKeys.schedule, member);
      return;
    }
    const request = JSON.parse(state.job) as RequestJob;
    const assignments = JSON.parse(state.assignments ?? "[]") as Assignment[];
    const tried = JSON.parse(state.tried ?? "[]") as Address[];
    const progressAt = Number(state.progressAt ?? now);

    const pastDeadline = isPastDeadline(request.deadline, await this.options.chainNow(chainId));
    const status = pastDeadline ? "closed" : await this.options.requestStatus(chainId, requestId);
    if (status === "closed") {
      await this.redis.multi().del(key).zrem(redisKeys.schedule, member).exec();
      report.dropped++;
      this.options.metrics?.dropped(pastDeadline ? "deadline" : "settled");
      return;
    }

    const done = new Set((await this.redis.smembers(redisKeys.done(chainId, requestId))).map((o) => o.toLowerCase()));
    const active = assignments.filter((a) => !a.replacedBy);
    const late = active.filter((a) => !done.has(a.operator.toLowerCase()) && a.reassignAfter <= now);
    const shortfall = Math.max(0, this.config.quorum - active.length);
    const allAnswered = active.length > 0 && active.every((a) => done.has(a.operator.toLowerCase()));
    const stalled = allAnswered && shortfall === 0 && now - progressAt >= this.config.reassignAfterMs;
    const wanted = late.length + shortfall + (stalled ? 1 : 0);
    if (wanted === 0) {
      await this.redis.zadd(redisKeys.schedule, this.nextCheck(assignments, done, now), member);
      return;
    }

    const replacements = chooseOperators({
      chainId,
      requestId,
      programId: request.programId,
      kind: KIND,
      operators: this.options.operators(),
      reports,
      count: wanted,
      exclude: tried,
      now,
      staleAfterMs: this.config.staleAfterMs,
    });
    const added: Assignment[] = [];
    for (const lateOne of late) {
      const next = replacements.shift();
      if (!next) {
        // nobody left to try: keep waiting for it
        lateOne.reassignAfter = now + this.config.reassignAfterMs;
        continue;
      }
      lateOne.replacedBy = next;
      added.push(this.assignment(next, now));
      report.reassigned++;
      this.options.metrics?.reassigned();
      await this.removeIfWaiting(request, lateOne.operator);
    }
    for (const next of replacements) {
      added.push(this.assignment(next, now));
      if (stalled) report.extended++;
    }
    await Promise.all(added.map((a) => this.enqueue(request, a)));
    if (added.length > 0) {
      this.options.log.info(
        { chainId, requestId, late: late.map((a) => a.operator), added: added.map((a) => a.operator) },
        "work reassigned",
      );
    }
    const all = [...assignments, ...added];
    await this.save(
      request,
      all,
      [...tried, ...added.map((a) => a.operator)],
      added.length > 0 ? now : progressAt,
      this.nextCheck(all, done, now),
    );
  }

  private assignment(operator: Address, now: number): Assignment {
    return { operator, assignedAt: now, reassignAfter: now + this.config.reassignAfterMs };
  }

  /** The earliest reassignAfter of unfinished active work, else one period from now. */
  private nextCheck(assignments: readonly Assignment[], done: ReadonlySet<string>, now: number): number {
    const pending = assignments
      .filter((a) => !a.replacedBy && !done.has(a.operator.toLowerCase()))
      .map((a) => a.reassignAfter);
    return pending.length > 0 ? Math.min(...pending) : now + this.config.reassignAfterMs;
  }

  private async enqueue(request: RequestJob, assignment: Assignment): Promise<void> {
    const job: WorkJob = { ...request, operator: assignment.operator, reassignAfter: assignment.reassignAfter };
    await this.workQueue(assignment.operator).add(KIND, job, {
      jobId: jobIds.work(request.chainId, request.requestId, assignment.operator),
      attempts: 3,
      backoff: { type: "exponential", delay: 250 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 86_400 },
    });
    this.options.metrics?.assigned(assignment.operator);
  }

  private async removeIfWaiting(request: RequestJob, operator: Address): Promise<void> {
    try {
      await this.workQueue(operator).remove(jobIds.work(request.chainId, request.requestId, operator));
    } catch {
      // running (locked) or already gone: a late result is merely one more signature
    }
  }

  private async save(
    request: RequestJob,
    assignments: readonly Assignment[],
    tried: readonly Address[],
    progressAt: number,
    nextCheck: number,
  ): Promise<void> {
    const key = redisKeys.request(request.chainId, request.requestId);
    const expireAt = Number(request.deadline) * 1000 + STATE_TTL_AFTER_DEADLINE_MS;
    await this.redis
      .multi()
      .hset(key, {
        job: JSON.stringify(request),
        assignments: JSON.stringify(assignments),
        tried: JSON.stringify([...new Set(tried.map((t) => getAddress(t)))]),
        progressAt: String(progressAt),
      })
      .pexpireat(key, Math.max(expireAt, this.now() + STATE_TTL_AFTER_DEADLINE_MS))
      .zadd(redisKeys.schedule, nextCheck, `${request.chainId}:${request.requestId.toLowerCase()}`)
      .exec();
  }
}
