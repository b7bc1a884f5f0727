import { connectRedis, describeRedis, type RedisClient } from "../protocol/redis.ts";
import type { Registry } from "prom-client";
import type { Address, Transport } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createDaClient, type DaClient } from "../da/index.ts";
import { Closer } from "../protocol/closer.ts";
import { redactUrl } from "../protocol/errors.ts";
import {
  closeRedis,
  createLogger,
  createRegistry,
  DependencyMonitor,
  isConnectionError,
  startOpsServer,
  watchRedis,
  type Logger,
  type OpsServer,
} from "../protocol/ops.ts";
import { NanoRuntime } from "../runtime/executor.ts";
import { ProgramStore } from "../worker/programStore.ts";
import { createWatcherChain, shortError, type WatcherChain } from "./chain.ts";
import { watcherKey, type WatcherConfig } from "./config.ts";
import { DisputeVoter } from "./disputes.ts";
import { EquivocationWatcher } from "./equivocation.ts";
import { WatcherFollower } from "./follower.ts";
import { createWatcherMetrics, type WatcherMetrics } from "./metrics.ts";
import { FraudProver } from "./fraud.ts";
import { ResultMonitor } from "./results.ts";
import { Verifier } from "./verifier.ts";

/**
 * The watcher process (SPEC 3.5, 6): per followed chain, a follower of ResultIngested and
 * DisputeOpened; every ingested result is read from DA, checked against its bodyHash and
 * re-executed (challenged when wrong or unavailable, finalised when its window passes); every
 * dispute is evaluated and voted on (commit, reveal, resolve, withdraw); signatures from DA
 * records and the evidence stream are checked for equivocation. One loop every `pollIntervalMs`:
 * poll → evidence → results → disputes → equivocation proofs.
 *
 * @example
 * const watcher = await startWatcher(loadWatcherConfig({ file: "watcher.json" }));
 * process.once("SIGTERM", () => watcher.close());
 */
export type WatcherOptions = {
  /** The key (else `watcher.privateKey` or the env variable `watcher.keyEnv`). */
  privateKey?: `0x${string}`;
  logger?: Logger;
  registry?: Registry;
  /** viem transports by chain id instead of http(rpcUrl) (tests use in-process chains). */
  transports?: Record<string | number, Transport>;
  /** A DA client instead of one built from `config.da` (not closed by close()). */
  da?: DaClient;
  /** Share a runtime pool (not closed by close()). */
  runtime?: NanoRuntime;
  /** false: no loop timer; drive it with tickOnce() (tests). Default true. */
  autoStart?: boolean;
  /** false: no /metrics + /healthz server. Default true. */
  opsServer?: boolean;
};

export type WatcherHandle = {
  address: Address;
  config: WatcherConfig;
  chains: Map<bigint, WatcherChain>;
  followers: WatcherFollower[];
  results: ResultMonitor;
  disputes: DisputeVoter;
  equivocation: EquivocationWatcher;
  verifier: Verifier;
  metrics: WatcherMetrics;
  registry: Registry;
  redis: RedisClient;
  ops: OpsServer | undefined;
  /** One full round: poll every chain, read evidence, act on results and disputes, submit proofs. */
  tickOnce: () => Promise<void>;
  /** Stops the loop (the round in progress finishes), closes everything. Safe to call twice. */
  close: () => Promise<void>;
};

export async function startWatcher(config: WatcherConfig, options: WatcherOptions = {}): Promise<WatcherHandle> {
  const account = privateKeyToAccount(options.privateKey ?? watcherKey(config));
  const address = account.address;
  const log = (options.logger ?? createLogger("watcher", config.operations.logLevel)).child({
    module: "watcher",
    watcher: address,
  });
  const registry = options.registry ?? createRegistry("watcher");
  const metrics = createWatcherMetrics(registry);
  const redis = connectRedis(config.redis);
  const redisHealth = new DependencyMonitor({ name: "redis", where: describeRedis(config.redis), log });
  watchRedis(redis, redisHealth);

  const chains = new Map<bigint, WatcherChain>(
    config.chains.map((c) => [
      BigInt(c.chainId),
      createWatcherChain(c, account, options.transports?.[c.chainId] ?? options.transports?.[String(c.chainId)]),
    ]),
  );
  const ownsDa = options.da === undefined;
  const da = options.da ?? createDaClient(config.da, { logger: log.child({ module: "da" }) });
  const ownsRuntime = options.runtime === undefined;
  const runtime =
    options.runtime ?? new NanoRuntime(config.runtimeThreads === undefined ? {} : { size: config.runtimeThreads });
  const store = new ProgramStore({
    dirs: config.programs.dirs,
    urls: config.programs.urls,
    httpTimeoutMs: config.programs.httpTimeoutMs,
    cacheSize: config.programs.cacheSize,
  });

  const equivocation = new EquivocationWatcher({
    chains,
    redis,
    owner: address,
    log: log.child({ module: "equivocation" }),
    memory: config.options.equivocationMemory,
    metrics: { proofs: (outcome) => metrics.equivocations.inc({ outcome }) },
  });
  const verifier = new Verifier({
    da,
    store,
    runtime,
    chains,
    log: log.child({ module: "verifier" }),
    daAttempts: config.options.daAttempts,
    daRetryDelayMs: config.options.daRetryDelayMs,
    ...(config.options.equivocation
      ? {
          onRecord: (record) =>
            void equivocation
              .observeRecord(record)
              .catch((error: unknown) => log.warn({ err: shortError(error) }, "equivocation check failed")),
        }
      : {}),
  });
  const fraud = config.options.fraudProofs
    ? new FraudProver({ chains, controllers: verifier.controllers, log: log.child({ module: "fraud" }) })
    : undefined;
  const results = new ResultMonitor({
    chains,
    redis,
    owner: address,
    verifier,
    log: log.child({ module: "results" }),
    metrics,
    challenge: config.options.challenge,
    ...(fraud ? { fraud } : {}),
    concurrency: config.options.concurrency,
  });
  const disputes = new DisputeVoter({
    chains,
    redis,
    owner: address,
    verifier,
    log: log.child({ module: "disputes" }),
    metrics,
    vote: config.options.vote,
  });
  const followers = [...chains.values()].map(
    (chain) =>
      new WatcherFollower({
        chain,
        redis,
        owner: address,
        log: log.child({ module: "follower", chainId: chain.config.chainId }),
        handlers: { onIngested: (e) => results.onIngested(e), onDisputes: (e) => disputes.onDisputes(e) },
      }),
  );

  let lastRoundAt = 0;
  // An unreachable RPC is logged once per outage (and shown in /healthz), not every round.
  const rpcHealth = new Map(
    config.chains.map((c) => [
      c.chainId,
      new DependencyMonitor({
        name: `rpc of chain ${c.chainId}`,
        where: options.transports?.[String(c.chainId)] ? "an in-process client" : redactUrl(c.rpcUrl),
        log,
      }),
    ]),
  );
  const step = async (what: string, fn: () => Promise<unknown>, rpc?: DependencyMonitor) => {
    try {
      await fn();
      rpc?.up();
    } catch (error) {
      // a step over all chains: the failing RPC is the one the error names
      const down =
        rpc ??
        config.chains
          .filter((c) => c.rpcUrl && String((error as Error)?.message ?? "").includes(c.rpcUrl))
          .map((c) => rpcHealth.get(c.chainId))[0];
      if (down && isConnectionError(error)) down.down(error);
      else log.warn({ err: shortError(error), step: what }, "watcher step failed");
    }
  };
  const tickOnce = async () => {
    await Promise.all(
      followers.map((f) =>
        step(
          `poll ${f.chain.config.chainId}`,
          async () => {
            await f.pollOnce();
            metrics.head.set({ chain: String(f.chain.config.chainId) }, Number(f.head));
          },
          rpcHealth.get(f.chain.config.chainId),
        ),
      ),
    );
    if (config.options.equivocation) await step("evidence", () => equivocation.readStream());
    await step("results", () => results.tick());
    await step("disputes", () => disputes.tick());
    if (config.options.equivocation) await step("equivocation", () => equivocation.submit());
    lastRoundAt = Date.now();
  };

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  if (options.autoStart ?? true) {
    const loop = () => {
      running = tickOnce().finally(() => {
        if (!closed) timer = setTimeout(loop, config.options.pollIntervalMs);
      });
    };
    timer = setTimeout(loop, 0);
  }

  // Every step runs even when one fails (protocol/closer.ts); the last added stops first.
  const closer = new Closer(log);
  closer.add("redis", () => closeRedis(redis));
  if (ownsRuntime) closer.add("runtime", () => runtime.close());
  if (ownsDa) closer.add("da", () => da.close());
  const startOrClose = async <T>(start: () => Promise<T>): Promise<T> => {
    try {
      return await start();
    } catch (error) {
      closed = true;
      clearTimeout(timer);
      await closer.close();
      throw error;
    }
  };
  // All-or-nothing: an ops server that cannot start (port in use) stops what started above.
  const ops = await startOrClose(() =>
    (options.opsServer ?? true)
      ? startOpsServer({
          port: config.operations.httpPort,
          registry,
          health: () => {
            const limit = Math.max(30_000, 10 * config.options.pollIntervalMs);
            const fresh = Date.now() - lastRoundAt <= limit;
            const ok = !closed && redis.status === "ready" && fresh && [...rpcHealth.values()].every((m) => !m.isDown);
            return {
              ok,
              details: {
                watcher: address,
                redis: redis.status,
                dependencies: {
                  redis: redisHealth.health(),
                  ...Object.fromEntries([...rpcHealth].map(([id, m]) => [`rpc ${id}`, m.health()])),
                },
                lastRoundAt,
                chains: followers.map((f) => ({ chainId: f.chain.config.chainId, lastPollAt: f.lastPollAt })),
              },
            };
          },
        })
      : Promise.resolve(undefined),
  );
  log.info(
    {
      chains: config.chains.map((c) => ({
        chainId: c.chainId,
        rpc: redactUrl(c.rpcUrl),
        disputeManager: c.disputeManager,
      })),
      options: config.options,
      metrics: ops?.url,
    },
    "watcher started",
  );

  if (ops) closer.add("ops server", () => ops.close());
  closer.add(
    "round in progress",
    () => running.catch(() => undefined),
    () => (redisHealth.isDown ? 500 : 10_000),
  );
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      closed = true;
      clearTimeout(timer);
      await closer.close();
      clearTimeout(timer);
      log.info("watcher stopped");
    })());

  return {
    address,
    config,
    chains,
    followers,
    results,
    disputes,
    equivocation,
    verifier,
    metrics,
    registry,
    redis,
    ops,
    tickOnce,
    close,
  };
}

export { loadWatcherConfig, watcherConfigSchema, type WatcherConfig } from "./config.ts";
