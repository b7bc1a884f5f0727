import { connectRedis, describeRedis, type RedisClient } from "../protocol/redis.ts";
import { Counter, Gauge, type Registry } from "prom-client";
import { createPublicClient, getAddress, http, type Address, type Hex, type PublicClient } from "viem";
import { reconcileChains } from "../ingestor/reconcile.ts";
import { checkAnnouncement, type Announcement } from "./announcements.ts";
import { viemChain, type ChainClients } from "../ingestor/chains.ts";
import { latestBlockClock } from "../protocol/chainClock.ts";
import { Closer } from "../protocol/closer.ts";
import { executableOracleAbi, iOperatorSetAbi } from "../protocol/generated/abis.ts";
import { redactUrl } from "../protocol/errors.ts";
import type { RequestJob } from "../protocol/jobs.ts";
import { redisKeys } from "../protocol/queues.ts";
import {
  closeRedis,
  createLogger,
  createRegistry,
  DependencyMonitor,
  startOpsServer,
  watchRedis,
  type Health,
  type Logger,
  type OpsServer,
} from "../protocol/ops.ts";
import type { RelayerConfig } from "./config.ts";
import { ChainFollower } from "./follower.ts";
import type { RequestScheduler } from "./leaderless.ts";
import { Scheduler, type RequestStatus } from "./scheduler.ts";

/** What a custom scheduler is built from (the leaderless scheduler of an operator node). */
export type SchedulerContext = {
  redis: RedisClient;
  operators: () => Address[];
  requestStatus: (chainId: string, requestId: Hex) => Promise<RequestStatus>;
  /** The chain's time in seconds (latest block timestamp, read at most once a second). */
  chainNow: (chainId: string) => Promise<bigint>;
  log: Logger;
  metrics: {
    scheduled: (chainId: string) => void;
    assigned: (operator: string) => void;
    reassigned: () => void;
    dropped: (reason: string) => void;
  };
};

/**
 * The relayer process: one ChainFollower per configured chain feeding one Scheduler, the
 * work-stealing sweep on a timer, the operator list (config and/or OwnedOperatorSet), metrics and
 * /healthz. Several relayers may run against one Redis (same or different chains): scheduling is
 * idempotent, though then each sweep may look at the same request twice.
 *
 * @example
 * const relayer = await startRelayer(loadRelayerConfig({ file: "relayer.json" }));
 * process.once("SIGTERM", () => relayer.close());
 */
export type RelayerOptions = {
  logger?: Logger;
  registry?: Registry;
  /** Clients to use instead of http(rpcUrl), by chain id (tests use in-process chains). */
  clients?: Record<number, PublicClient>;
  /** false: no timers; drive it with pollOnce()/sweepOnce() (tests). Default true. */
  autoStart?: boolean;
  /** false: no /metrics + /healthz server. Default true. */
  opsServer?: boolean;
  /**
   * Another scheduler than the leader Scheduler of a shared Redis: an operator node passes its
   * LeaderlessScheduler (relayer/leaderless.ts), which only decides for its own operator.
   */
  createScheduler?: (context: SchedulerContext) => RequestScheduler;
  /** The active operator set instead of config.operators (an operator node shares its view). */
  operators?: { current: () => Address[]; refresh: () => Promise<Address[]> };
};

export type RelayerHandle = {
  config: RelayerConfig;
  scheduler: RequestScheduler;
  followers: ChainFollower[];
  redis: RedisClient;
  registry: Registry;
  ops: OpsServer | undefined;
  /** The operators the scheduler chooses from right now. */
  operators: () => Address[];
  refreshOperators: () => Promise<Address[]>;
  /** One poll of every chain; resolves with the number of events seen. */
  pollOnce: () => Promise<number>;
  sweepOnce: () => Promise<unknown>;
  /** One reconciliation pass over every chain (also run at start and every reconcile.intervalMs). */
  reconcileOnce: () => Promise<number>;
  /**
   * Checks a request another node announced against this node's own view of the chain (the
   * block is canonical, confirmed, and holds that ExecutionRequested) and schedules it. Resolves
   * with false when it does not check out (yet): the follower finds real requests anyway.
   */
  acceptAnnouncement: (announcement: Announcement) => Promise<boolean>;
  /** Stops following, sweeping and serving, closes queues and Redis. Safe to call twice. */
  close: () => Promise<void>;
};

/** Escrow status of IExecutableOracle.RequestStatus. */
const OPEN = 1;

/** How long close() waits for each part (a poll, the sweep, the queues) before moving on. */
const CLOSE_STEP_MS = 5_000;

export async function startRelayer(config: RelayerConfig, options: RelayerOptions = {}): Promise<RelayerHandle> {
  const log = (options.logger ?? createLogger("relayer", config.operations.logLevel)).child({ module: "relayer" });
  const registry = options.registry ?? createRegistry("relayer");
  const metrics = relayerMetrics(registry);
  // The ops server first: a port that is taken or invalid fails the start before anything runs.
  // Until the relayer has started, /healthz says so (503).
  let health = (): Health => ({ ok: false, details: { starting: true } });
  const ops =
    (options.opsServer ?? true)
      ? await startOpsServer({ port: config.operations.httpPort, registry, health: () => health() })
      : undefined;
  const redisHealth = new DependencyMonitor({ name: "redis", where: describeRedis(config.redis), log });
  const redis = connectRedis(config.redis);
  watchRedis(redis, redisHealth);
  const rpcHealth = new Map(
    config.chains.map((c) => [
      c.chainId,
      new DependencyMonitor({
        name: `rpc of chain ${c.chainId}`,
        where: options.clients?.[c.chainId] ? "an in-process client" : redactUrl(c.rpcUrl),
        log,
      }),
    ]),
  );
  // Every part registers its stop as it starts; close() runs every step even when one fails
  // (also after a failed start). Steps are bounded: with Redis or an RPC unreachable a poll or a
  // queue call never ends.
  const closer = new Closer(log);
  const step = () => () => (redisHealth.isDown ? 500 : CLOSE_STEP_MS);
  closer.add("redis", () => closeRedis(redis));
  if (ops) closer.add("ops server", () => ops.close());
  const followers: ChainFollower[] = [];
  const timers: NodeJS.Timeout[] = [];
  /** The self-rescheduling loops' pending timers (one each). */
  const loops: { sweep?: NodeJS.Timeout; reconcile?: NodeJS.Timeout } = {};
  let closed = false;
  const close = async () => {
    closed = true;
    for (const t of [...timers, loops.sweep, loops.reconcile]) clearTimeout(t);
    await closer.close();
    log.info("relayer stopped");
  };
  try {
    return await startParts();
  } catch (error) {
    await close();
    throw error;
  }

  async function startParts(): Promise<RelayerHandle> {
    const clients = new Map<number, PublicClient>();
    for (const chain of config.chains) {
      clients.set(
        chain.chainId,
        options.clients?.[chain.chainId] ?? createPublicClient({ transport: http(chain.rpcUrl, { batch: false }) }),
      );
    }
    const chainById = new Map(config.chains.map((c) => [c.chainId, c]));
    const { operators, refreshOperators } = options.operators
      ? { operators: options.operators.current, refreshOperators: options.operators.refresh }
      : await operatorSource();

    const requestStatus = async (chainId: string, requestId: Hex): Promise<RequestStatus> => {
      const chain = chainById.get(Number(chainId));
      if (!chain) return "unknown";
      try {
        const info = await clients.get(chain.chainId)!.readContract({
          address: chain.oracle as Address,
          abi: executableOracleAbi,
          functionName: "escrowOf",
          args: [requestId],
        });
        return info.status === OPEN ? "open" : "closed";
      } catch (error) {
        log.debug({ err: error, chainId, requestId }, "escrowOf failed");
        return "unknown";
      }
    };

    // A deadline is judged by the chain's clock (the oracle refunds and refuses by block.timestamp),
    // never this machine's: the two can differ by minutes.
    const clock = latestBlockClock((chainId) => clients.get(Number(chainId)));
    const chainNow = (chainId: string) => clock.nowSeconds(chainId);
    const chainTime = (chainId: number) => clock.nowSeconds(chainId);

    const schedulerMetrics = {
      scheduled: (chainId: string) => metrics.scheduled.inc({ chain: chainId }),
      assigned: () => metrics.assignments.inc(),
      reassigned: () => metrics.reassignments.inc(),
      dropped: (reason: string) => metrics.dropped.inc({ reason }),
    };
    const sched: RequestScheduler = options.createScheduler
      ? options.createScheduler({
          redis,
          operators,
          requestStatus,
          chainNow,
          log: log.child({ module: "scheduler" }),
          metrics: schedulerMetrics,
        })
      : new Scheduler({
          redis,
          config: config.scheduler,
          operators,
          requestStatus,
          chainNow,
          log: log.child({ module: "scheduler" }),
          metrics: schedulerMetrics,
        });
    closer.add("scheduler", () => sched.close(), step());

    const handleRequests = async (chainId: number, requests: RequestJob[], safeBlock: bigint) => {
      if (requests.length === 0) return;
      metrics.events.inc({ chain: String(chainId) }, requests.length);
      const nowSeconds = await chainTime(chainId);
      const old = safeBlock - BigInt(config.scheduler.checkStatusOlderThanBlocks);
      const keep = await Promise.all(
        requests.map(async (r) => {
          if (BigInt(r.deadline) < nowSeconds) return false;
          if (BigInt(r.blockNumber) >= old) return true;
          return (await requestStatus(r.chainId, r.requestId)) !== "closed";
        }),
      );
      const open = requests.filter((_, i) => keep[i]);
      const fresh = await sched.schedule(open);
      if (fresh > 0) log.info({ chainId, requests: fresh }, "scheduled");
    };

    followers.push(
      ...config.chains.map(
        (chain) =>
          new ChainFollower({
            chain,
            client: clients.get(chain.chainId)!,
            redis,
            rpc: rpcHealth.get(chain.chainId)!,
            log: log.child({ module: "follower", chainId: chain.chainId }),
            onRequests: (requests, { safeBlock }) => handleRequests(chain.chainId, requests, safeBlock),
            onPolled: ({ head, cursor }) => {
              metrics.head.set({ chain: String(chain.chainId) }, Number(head));
              metrics.cursor.set({ chain: String(chain.chainId) }, Number(cursor));
            },
          }),
      ),
    );
    closer.add("followers", () => Promise.allSettled(followers.map((f) => f.stop())), step());

    // --- reconciliation: open requests nobody works on, from the chain (SPEC 6) -----------------
    const chainsToReconcile: ChainClients[] = config.chains.map((c) => ({
      config: c,
      chainId: BigInt(c.chainId),
      chain: viemChain(c),
      publicClient: clients.get(c.chainId)!,
      oracle: getAddress(c.oracle),
      ingestor: getAddress(c.ingestor),
    }));
    const reconcileOnce = async (): Promise<number> => {
      const reports = await reconcileChains({
        chains: chainsToReconcile,
        redis,
        settings: config.reconcile,
        onOrphanRequests: (jobs) => sched.schedule(jobs),
        logger: log,
        rpcHealth: (chainId) => rpcHealth.get(chainId),
      });
      return reports.reduce((n, r) => n + r.orphans.length, 0);
    };

    // --- requests handed over by the domain's other roles (the ingestor's reconciler) ----------
    const takeHandedOver = async (): Promise<number> => {
      const raw = (await redis.rpop(redisKeys.requests, 100)) ?? [];
      if (raw.length === 0) return 0;
      const nowByChain = new Map<number, bigint>();
      const jobs: RequestJob[] = [];
      for (const text of raw) {
        try {
          const job = JSON.parse(text) as RequestJob;
          const chainId = Number(job.chainId);
          if (!chainById.has(chainId)) continue;
          if (!nowByChain.has(chainId)) nowByChain.set(chainId, await chainTime(chainId));
          if (BigInt(job.deadline) >= nowByChain.get(chainId)!) jobs.push(job);
        } catch {
          log.warn({ entry: text.slice(0, 200) }, "a handed-over request is not a RequestJob: dropped");
        }
      }
      return sched.schedule(jobs);
    };

    // --- announcements from other nodes: hints checked against our own chain view ---------------
    const acceptAnnouncement = async (a: Announcement): Promise<boolean> => {
      const chain = chainById.get(Number(a.chainId));
      if (!chain) return false;
      try {
        // Every peer announces every request it finds: a request this node already has (from its own
        // follower or an earlier announcement) needs none of the three RPC reads of the check below
        // (at saturation these reads, 3 per peer per request, loaded the chain's RPC more than the work).
        if ((await redis.exists(redisKeys.request(a.chainId, a.requestId))) === 1) return false;
        const verdict = await checkAnnouncement(
          clients.get(chain.chainId)!,
          {
            chainId: chain.chainId,
            oracle: chain.oracle as Address,
            confirmations: chain.confirmations,
          },
          a,
        );
        if (!verdict.ok) {
          log.debug({ announcement: a, reason: verdict.reason }, "announcement not taken");
          return false;
        }
        await sched.schedule([verdict.job]);
        return true;
      } catch (error) {
        log.debug({ err: error, announcement: a }, "could not check an announcement");
        return false;
      }
    };

    // --- timers --------------------------------------------------------------------------------
    if (options.autoStart ?? true) {
      for (const follower of followers) follower.start();
      let sweeping: Promise<unknown> = Promise.resolve();
      const sweepTick = () => {
        sweeping = takeHandedOver()
          .catch((error: unknown) => log.warn({ err: error }, "could not take handed-over requests"))
          .then(() => sched.sweep())
          .catch((error: unknown) => log.warn({ err: error }, "sweep failed"))
          .finally(() => {
            if (!closed) loops.sweep = setTimeout(sweepTick, config.scheduler.sweepIntervalMs);
          });
      };
      loops.sweep = setTimeout(sweepTick, config.scheduler.sweepIntervalMs);
      closer.add("sweep", () => sweeping, step());
      if (config.reconcile.enabled) {
        let reconciling: Promise<unknown> = Promise.resolve();
        const reconcileTick = () => {
          reconciling = reconcileOnce().finally(() => {
            if (!closed) loops.reconcile = setTimeout(reconcileTick, config.reconcile.intervalMs);
          });
        };
        // first pass once the followers had a chance to see recent requests themselves
        loops.reconcile = setTimeout(reconcileTick, Math.min(config.reconcile.graceMs, 5_000));
        closer.add("reconciliation", () => reconciling, step());
      }
      if (!options.operators && config.operators.operatorSet) {
        const refresh = setInterval(
          () => void refreshOperators().catch((error: unknown) => log.warn({ err: error }, "operator refresh failed")),
          config.operators.refreshMs,
        );
        timers.push(refresh);
      }
    }
    // the timers are cleared before the steps run (close()), then the steps stop what runs

    health = () => {
      const now = Date.now();
      const chains = Object.fromEntries(
        followers.map((f) => {
          const limit = Math.max(10_000, 5 * chainById.get(f.chainId)!.pollIntervalMs);
          return [
            f.chainId,
            { lastPollAt: f.lastPollAt, ok: now - f.lastPollAt <= limit, rpc: rpcHealth.get(f.chainId)!.health() },
          ];
        }),
      );
      const ok = !closed && redis.status === "ready" && Object.values(chains).every((c) => c.ok);
      return {
        ok,
        details: {
          redis: redis.status,
          dependencies: { redis: redisHealth.health() },
          chains,
          operators: operators().length,
          quorum: config.scheduler.quorum,
        },
      };
    };

    log.info(
      {
        chains: config.chains.map((c) => ({ chainId: c.chainId, rpc: redactUrl(c.rpcUrl), oracle: c.oracle })),
        operators: operators().length,
        quorum: config.scheduler.quorum,
        metrics: ops?.url,
      },
      "relayer started",
    );

    return {
      config,
      scheduler: sched,
      followers,
      redis,
      registry,
      ops,
      operators,
      refreshOperators,
      pollOnce: async () => (await Promise.all(followers.map((f) => f.pollOnce()))).reduce((a, b) => a + b, 0),
      sweepOnce: () => sched.sweep(),
      reconcileOnce,
      acceptAnnouncement,
      close,
    };

    /** The operator list of config.operators: fixed addresses and/or an OwnedOperatorSet, re-read on a timer. */
    async function operatorSource() {
      const staticOperators = config.operators.addresses.map((a) => getAddress(a));
      let current: Address[] = [...staticOperators];
      let warnedFor: number | undefined;
      /** Fewer operators than the quorum (an OperatorSet that shrank): said once per count. */
      const warnSmallQuorum = () => {
        if (current.length >= config.scheduler.quorum || warnedFor === current.length) return;
        warnedFor = current.length;
        log.warn(
          { operators: current.length, quorum: config.scheduler.quorum },
          `only ${current.length} operator(s) for a quorum of ${config.scheduler.quorum}: requests get fewer operators than scheduler.quorum and may never reach the collector's threshold`,
        );
      };
      const refresh = async (): Promise<Address[]> => {
        const set = config.operators.operatorSet;
        if (!set) return current;
        const onChain = await readActiveOperators(clients.get(set.chainId)!, set.address as Address);
        current = [...new Map([...staticOperators, ...onChain].map((a) => [a.toLowerCase(), getAddress(a)])).values()];
        metrics.operators.set(current.length);
        warnSmallQuorum();
        return current;
      };
      await refresh().catch((error: unknown) => {
        if (staticOperators.length === 0) throw error;
        log.warn({ err: error }, "could not read the operator set; using the configured addresses");
      });
      metrics.operators.set(current.length);
      warnSmallQuorum();
      return { operators: () => current, refreshOperators: refresh };
    }
  }
}

/** `allOperators()` of an OwnedOperatorSet (or StakingRegistry) filtered by `isActive()`. */
export async function readActiveOperators(client: PublicClient, address: Address): Promise<Address[]> {
  const all = await client.readContract({ address, abi: iOperatorSetAbi, functionName: "allOperators" });
  const active = await Promise.all(
    all.map((op) => client.readContract({ address, abi: iOperatorSetAbi, functionName: "isActive", args: [op] })),
  );
  return all.filter((_, i) => active[i]).map((a) => getAddress(a));
}

function relayerMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: "versatus_relayer_events_total",
      help: "ExecutionRequested events seen after confirmations (re-scans included)",
      labelNames: ["chain"],
      registers: [registry],
    }),
    scheduled: new Counter({
      name: "versatus_relayer_requests_scheduled_total",
      help: "Requests scheduled for the first time",
      labelNames: ["chain"],
      registers: [registry],
    }),
    assignments: new Counter({
      name: "versatus_relayer_assignments_total",
      help: "Work jobs enqueued on operator queues",
      registers: [registry],
    }),
    reassignments: new Counter({
      name: "versatus_relayer_reassignments_total",
      help: "Work taken from a late operator and given to another (work stealing)",
      registers: [registry],
    }),
    dropped: new Counter({
      name: "versatus_relayer_requests_dropped_total",
      help: "Requests the sweep stopped watching (settled on chain, or past their deadline)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    head: new Gauge({
      name: "versatus_relayer_head_block",
      help: "Latest block seen",
      labelNames: ["chain"],
      registers: [registry],
    }),
    cursor: new Gauge({
      name: "versatus_relayer_cursor_block",
      help: "Last block fully handled",
      labelNames: ["chain"],
      registers: [registry],
    }),
    operators: new Gauge({
      name: "versatus_relayer_operators",
      help: "Operators the scheduler chooses from",
      registers: [registry],
    }),
  };
}

export { checkAnnouncement, type Announcement, type AnnouncementVerdict } from "./announcements.ts";
export { loadRelayerConfig, relayerConfigSchema, type RelayerConfig } from "./config.ts";
