import { Redis } from "ioredis";
import { Counter, Gauge, type Registry } from "prom-client";
import { createPublicClient, getAddress, http, type Address, type Hex, type PublicClient } from "viem";
import { executableOracleAbi, iOperatorSetAbi } from "../protocol/generated/abis.ts";
import { redactUrl } from "../protocol/errors.ts";
import type { RequestJob } from "../protocol/jobs.ts";
import {
  closeRedis,
  createLogger,
  createRegistry,
  DependencyMonitor,
  settleWithin,
  startOpsServer,
  watchRedis,
  type Health,
  type Logger,
  type OpsServer,
} from "../protocol/ops.ts";
import type { RelayerConfig } from "./config.ts";
import { ChainFollower } from "./follower.ts";
import { Scheduler, type RequestStatus } from "./scheduler.ts";

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
};

export type RelayerHandle = {
  config: RelayerConfig;
  scheduler: Scheduler;
  followers: ChainFollower[];
  redis: Redis;
  registry: Registry;
  ops: OpsServer | undefined;
  /** The operators the scheduler chooses from right now. */
  operators: () => Address[];
  refreshOperators: () => Promise<Address[]>;
  /** One poll of every chain; resolves with the number of events seen. */
  pollOnce: () => Promise<number>;
  sweepOnce: () => ReturnType<Scheduler["sweep"]>;
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
  const redisHealth = new DependencyMonitor({ name: "redis", where: redactUrl(config.redis.url), log });
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null, lazyConnect: false });
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
  // Filled in as parts start; close() stops whatever exists (also after a failed start).
  const followers: ChainFollower[] = [];
  let scheduler: Scheduler | undefined;
  const timers: NodeJS.Timeout[] = [];
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> = Promise.resolve();
  let closed = false;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      clearTimeout(sweepTimer);
      // Each step is bounded: with Redis or an RPC unreachable a poll or a queue call never ends.
      const step = redisHealth.isDown ? 500 : CLOSE_STEP_MS;
      await settleWithin(Promise.allSettled(followers.map((f) => f.stop())), step);
      await settleWithin(sweeping, step);
      clearTimeout(sweepTimer);
      if (scheduler)
        await settleWithin(
          scheduler.close().catch(() => {}),
          step,
        );
      await ops?.close();
      await closeRedis(redis);
      log.info("relayer stopped");
    })();
    return closing;
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

    // --- operators -----------------------------------------------------------------------------
    const staticOperators = config.operators.addresses.map((a) => getAddress(a));
    let operators: Address[] = [...staticOperators];
    const refreshOperators = async (): Promise<Address[]> => {
      const set = config.operators.operatorSet;
      if (!set) return operators;
      const client = clients.get(set.chainId)!;
      const address = set.address as Address;
      const all = await client.readContract({ address, abi: iOperatorSetAbi, functionName: "allOperators" });
      const active = await Promise.all(
        all.map((op) => client.readContract({ address, abi: iOperatorSetAbi, functionName: "isActive", args: [op] })),
      );
      const onChain = all.filter((_, i) => active[i]);
      operators = [...new Map([...staticOperators, ...onChain].map((a) => [a.toLowerCase(), getAddress(a)])).values()];
      metrics.operators.set(operators.length);
      warnSmallQuorum();
      return operators;
    };
    let warnedFor: number | undefined;
    /** Fewer operators than the quorum (an OperatorSet that shrank): said once per count. */
    function warnSmallQuorum() {
      if (operators.length >= config.scheduler.quorum || warnedFor === operators.length) return;
      warnedFor = operators.length;
      log.warn(
        { operators: operators.length, quorum: config.scheduler.quorum },
        `only ${operators.length} operator(s) for a quorum of ${config.scheduler.quorum}: requests get fewer operators than scheduler.quorum and may never reach the collector's threshold`,
      );
    }
    await refreshOperators().catch((error: unknown) => {
      if (staticOperators.length === 0) throw error;
      log.warn({ err: error }, "could not read the operator set; using the configured addresses");
    });
    metrics.operators.set(operators.length);
    warnSmallQuorum();

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

    const sched = new Scheduler({
      redis,
      config: config.scheduler,
      operators: () => operators,
      requestStatus,
      log: log.child({ module: "scheduler" }),
      metrics: {
        scheduled: (chainId) => metrics.scheduled.inc({ chain: chainId }),
        assigned: () => metrics.assignments.inc(),
        reassigned: () => metrics.reassignments.inc(),
        dropped: (reason) => metrics.dropped.inc({ reason }),
      },
    });
    scheduler = sched;

    const handleRequests = async (chainId: number, requests: RequestJob[], safeBlock: bigint) => {
      if (requests.length === 0) return;
      metrics.events.inc({ chain: String(chainId) }, requests.length);
      const nowSeconds = BigInt(Math.floor(Date.now() / 1000));
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

    // --- timers --------------------------------------------------------------------------------
    if (options.autoStart ?? true) {
      for (const follower of followers) follower.start();
      const sweepTick = () => {
        sweeping = sched
          .sweep()
          .catch((error: unknown) => log.warn({ err: error }, "sweep failed"))
          .finally(() => {
            if (!closed) sweepTimer = setTimeout(sweepTick, config.scheduler.sweepIntervalMs);
          });
      };
      sweepTimer = setTimeout(sweepTick, config.scheduler.sweepIntervalMs);
      if (config.operators.operatorSet) {
        const refresh = setInterval(
          () => void refreshOperators().catch((error: unknown) => log.warn({ err: error }, "operator refresh failed")),
          config.operators.refreshMs,
        );
        timers.push(refresh);
      }
    }

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
          operators: operators.length,
          quorum: config.scheduler.quorum,
        },
      };
    };

    log.info(
      {
        chains: config.chains.map((c) => ({ chainId: c.chainId, rpc: redactUrl(c.rpcUrl), oracle: c.oracle })),
        operators: operators.length,
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
      operators: () => operators,
      refreshOperators,
      pollOnce: async () => (await Promise.all(followers.map((f) => f.pollOnce()))).reduce((a, b) => a + b, 0),
      sweepOnce: () => sched.sweep(),
      close,
    };
  }
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

export { loadRelayerConfig, relayerConfigSchema, type RelayerConfig } from "./config.ts";
