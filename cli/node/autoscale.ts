import type { Job, Worker } from "bullmq";
import type { RedisClient } from "../../protocol/redis.ts";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Address, Hex } from "viem";
import {
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
  private readonly recentEvents: ScalingEvent[] = [];
  private readonly metrics: {
    quorums: Gauge<"program">;
    events: Counter<"program" | "kind">;
    quote: Gauge<"program">;
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

  /** Folds one sample; logs and counts the event it fires. */
  observe(sample: LatencySample): ScalingEvent | null {
    const event = this.scaler.observe(sample, { maxQuorums: maxQuorums(this.activeSet().length, this.size) });
    this.metrics.samples.inc();
    const program = sample.programId.toLowerCase();
    const quorums = this.scaler.quorums(sample.programId);
    this.metrics.quorums.set({ program }, quorums);
    this.metrics.quote.set({ program }, peakLoadMultiplierBps(quorums));
    if (event) {
      this.metrics.events.inc({ program, kind: event.kind });
      this.recentEvents.push(event);
      if (this.recentEvents.length > 50) this.recentEvents.shift();
      this.log.info(event, `auto-scaling: ${event.kind} (${event.quorums} quorum(s) serve the program)`);
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

  /** For GET /network. */
  status(): {
    rule: "SPEC 6: add after 1,000 consecutive > 15 s, drop farthest after 1,000 consecutive < 50 ms";
    programs: { programId: Hex; quorums: number; slowStreak: number; fastStreak: number; quoteBps: number }[];
    events: ScalingEvent[];
  } {
    return {
      rule: "SPEC 6: add after 1,000 consecutive > 15 s, drop farthest after 1,000 consecutive < 50 ms",
      programs: this.scaler.snapshot().map(({ programId, state }) => ({
        programId,
        ...state,
        quoteBps: peakLoadMultiplierBps(state.quorums),
      })),
      events: [...this.recentEvents],
    };
  }
}
