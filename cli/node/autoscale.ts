import type { Job, Worker } from "bullmq";
import type { RedisClient } from "../../protocol/redis.ts";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Address, Hex } from "viem";
import {
  AUTOSCALE_RULE,
  AutoScaler,
  maxQuorums,
  peakLoadMultiplierBps,
  routeRequest,
  type LatencySample,
  type ScalingEvent,
} from "../../protocol/autoscale.ts";
import type { RequestJob, WorkJob } from "../../protocol/jobs.ts";
import { redisKeys } from "../../protocol/queues.ts";
import type { Quorum } from "../../protocol/quorum.ts";

/** How many recent scaling changes a node keeps for GET /network (older ones are only in metrics and logs). */
export const RECENT_CHANGES = 50;
/** Request → start samples per program the latency measure of GET /network is taken over. */
export const LATENCY_WINDOW = 100;

/**
 * One auto-scaling change as GET /network shows it: the protocol's event plus what the explorer
 * needs to say why (`fromQuorums` → `quorums`, the rule that fired, the firing sample's latency).
 */
export type ScalingChange = ScalingEvent & {
  /** Quorums serving the program before the change (equal to `quorums` for `capped`). */
  fromQuorums: number;
  /** Which part of the rule fired, in words. */
  reason: string;
  /** Request → start of the sample that completed the streak, ms. */
  latencyMs: number;
};

/** A program's measured request → start latency over its last samples (at most LATENCY_WINDOW). */
export type LatencyMeasure = { samples: number; lastMs: number; meanMs: number; maxMs: number };

/** Why a change happened, from the rule's thresholds (SPEC 6). */
function reasonOf(kind: ScalingEvent["kind"], cap: number): string {
  const { streak, slowAboveMs, fastBelowMs } = AUTOSCALE_RULE;
  const n = streak.toLocaleString("en-US");
  if (kind === "add") return `${n} consecutive requests waited > ${slowAboveMs.toLocaleString("en-US")} ms to start`;
  if (kind === "drop") return `${n} consecutive requests started in < ${fastBelowMs} ms: the farthest quorum dropped`;
  return `${n} consecutive requests waited > ${slowAboveMs.toLocaleString("en-US")} ms, but the active set holds no quorum beyond ${cap}`;
}

/**
 * The node's side of auto-scaling (protocol/autoscale.ts, docs/scheduling.md): it measures request →
 * start of execution for every job its compute role starts, folds the samples into an AutoScaler,
 * routes the requests of programs served by several quorums (the leaderless scheduler's
 * `quorumFor`), and shows the state in metrics and GET /network.
 *
 * A sample's request time is when this operator's relay role took the request (`announcedAt` in the
 * request's scheduling state, this machine's clock, written by relayer/leaderless.ts), its start the
 * BullMQ `processedOn` of the work job (same clock): no clock agreement with the chain is needed.
 */
export class NodeAutoscale {
  private readonly scaler = new AutoScaler();
  private readonly size: number;
  private readonly activeSet: () => readonly Address[];
  private readonly log: Logger;
  /** The last RECENT_CHANGES changes, oldest first. */
  private readonly recentChanges: ScalingChange[] = [];
  /** Each program's last LATENCY_WINDOW request → start samples, ms (oldest first). */
  private readonly latencies = new Map<string, number[]>();
  private readonly metrics: {
    quorums: Gauge<"program">;
    events: Counter<"program" | "kind">;
    quote: Gauge<"program">;
    latency: Gauge<"program">;
    samples: Counter;
  };

  constructor(options: { size: number; activeSet: () => readonly Address[]; registry: Registry; log: Logger }) {
    this.size = options.size;
    this.activeSet = options.activeSet;
    this.log = options.log;
    const registers = [options.registry];
    this.metrics = {
      quorums: new Gauge({
        name: "versatus_node_program_quorums",
        help: "Quorums serving a program (auto-scaling, SPEC 6)",
        labelNames: ["program"],
        registers,
      }),
      events: new Counter({
        name: "versatus_node_scaling_events_total",
        help: "Auto-scaling events: add (a quorum more), drop (one fewer), capped (slow but no operators left)",
        labelNames: ["program", "kind"],
        registers,
      }),
      quote: new Gauge({
        name: "versatus_node_fee_quote_multiplier_bps",
        help: "Peak-load fee quote of a program, in basis points of the base fee",
        labelNames: ["program"],
        registers,
      }),
      latency: new Gauge({
        name: "versatus_node_program_start_latency_ms",
        help: `Mean request -> start-of-execution latency of a program over its last ${LATENCY_WINDOW} samples`,
        labelNames: ["program"],
        registers,
      }),
      samples: new Counter({
        name: "versatus_node_latency_samples_total",
        help: "Request -> start-of-execution samples folded into the auto-scaler",
        registers,
      }),
    };
  }

  /** The leaderless scheduler's `quorumFor`: a routed quorum for a program with several, else the default. */
  readonly quorumFor = (request: RequestJob, activeSet: readonly Address[]): Quorum | undefined => {
    const count = this.scaler.quorums(request.programId);
    if (count <= 1) return undefined;
    return routeRequest({ ...request, activeSet, size: this.size, count }).quorum;
  };

  /**
   * The routed quorum of a request this node's relay role follows (its program read from the
   * request's scheduling state), so a share offer from a routed member is judged against the quorum
   * the scheduler uses. Undefined for a request it does not follow or a program with one quorum.
   */
  async quorumOfFollowed(
    redis: RedisClient,
    chainId: string,
    requestId: Hex,
    activeSet: readonly Address[],
  ): Promise<Quorum | undefined> {
    const job = await redis.hget(redisKeys.request(chainId, requestId), "job").catch(() => null);
    if (!job) return undefined;
    return this.quorumFor(JSON.parse(job) as RequestJob, activeSet);
  }

  /** Folds one sample; logs, counts and remembers the change it fires. */
  observe(sample: LatencySample): ScalingEvent | null {
    const program = sample.programId.toLowerCase();
    const stateBefore = this.scaler.state(sample.programId);
    const before = stateBefore.quorums;
    const cap = maxQuorums(this.activeSet().length, this.size);
    const event = this.scaler.observe(sample, { maxQuorums: cap });
    this.metrics.samples.inc();
    const latencyMs = sample.startedAtMs - sample.requestedAtMs;
    const window = this.latencies.get(program) ?? [];
    // the scaler ignores a second sample of one request (it keeps the same state object then; a
    // folded sample always leaves a new one): so does the measure
    if (this.scaler.state(sample.programId) !== stateBefore) {
      window.push(latencyMs);
      if (window.length > LATENCY_WINDOW) window.shift();
      this.latencies.set(program, window);
      this.metrics.latency.set({ program }, mean(window));
    }
    const quorums = this.scaler.quorums(sample.programId);
    this.metrics.quorums.set({ program }, quorums);
    this.metrics.quote.set({ program }, peakLoadMultiplierBps(quorums));
    if (event) {
      this.metrics.events.inc({ program, kind: event.kind });
      const change: ScalingChange = { ...event, fromQuorums: before, reason: reasonOf(event.kind, cap), latencyMs };
      this.recentChanges.push(change);
      if (this.recentChanges.length > RECENT_CHANGES) this.recentChanges.shift();
      this.log.info(change, `auto-scaling: ${event.kind} (${before} -> ${event.quorums} quorum(s) serve the program)`);
    }
    return event;
  }

  /** Measures every work job `worker` starts (its `active` event). */
  measure(worker: Worker<WorkJob>, redis: RedisClient): void {
    worker.on("active", (job: Job<WorkJob>) => {
      void this.sampleOf(job, redis)
        .then((sample) => sample && this.observe(sample))
        .catch((err: unknown) => this.log.debug({ err, jobId: job.id }, "could not measure a job's start"));
    });
  }

  private async sampleOf(job: Job<WorkJob>, redis: RedisClient): Promise<LatencySample | undefined> {
    const work = job.data;
    const startedAtMs = job.processedOn ?? Date.now();
    const announcedAt = Number(await redis.hget(redisKeys.request(work.chainId, work.requestId), "announcedAt"));
    // No relay state (another domain's relay, or expired): the job's own enqueue time.
    const requestedAtMs = Number.isFinite(announcedAt) && announcedAt > 0 ? announcedAt : job.timestamp;
    if (!Number.isFinite(requestedAtMs)) return undefined;
    return {
      programId: work.programId,
      chainId: work.chainId,
      requestId: work.requestId,
      requestedAtMs,
      startedAtMs,
    };
  }

  /**
   * For GET /network (the explorer's Network page reads it): every sampled program's quorums,
   * streaks, fee quote multiplier (basis points of the base fee) and latency measure; how many
   * quorums the active set can hold now; the last RECENT_CHANGES changes, oldest first.
   */
  status(): {
    rule: "SPEC 6: add after 1,000 consecutive > 15 s, drop farthest after 1,000 consecutive < 50 ms";
    maxQuorums: number;
    programs: {
      programId: Hex;
      quorums: number;
      slowStreak: number;
      fastStreak: number;
      quoteBps: number;
      latency: LatencyMeasure | null;
    }[];
    events: ScalingChange[];
  } {
    return {
      rule: "SPEC 6: add after 1,000 consecutive > 15 s, drop farthest after 1,000 consecutive < 50 ms",
      maxQuorums: maxQuorums(this.activeSet().length, this.size),
      programs: this.scaler.snapshot().map(({ programId, state }) => ({
        programId,
        ...state,
        quoteBps: peakLoadMultiplierBps(state.quorums),
        latency: measureOf(this.latencies.get(programId)),
      })),
      events: [...this.recentChanges],
    };
  }
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

function measureOf(window: readonly number[] | undefined): LatencyMeasure | null {
  if (!window?.length) return null;
  return { samples: window.length, lastMs: window.at(-1)!, meanMs: mean(window), maxMs: Math.max(...window) };
}
