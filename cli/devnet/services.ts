import { join } from "node:path";
import { pino, type Logger } from "pino";
import { createPublicClient, http, type Hex, type Transport } from "viem";
import { loadIngestorConfig, startIngestor, type IngestorHandle } from "../../ingestor/index.ts";
import { loadRelayerConfig, startRelayer, type RelayerHandle } from "../../relayer/index.ts";
import { NanoRuntime } from "../../runtime/executor.ts";
import { loadWatcherConfig } from "../../watcher/config.ts";
import { startWatcher, type WatcherHandle } from "../../watcher/index.ts";
import type { OutcomeTamper } from "../../worker/execute.ts";
import { loadWorkerConfig, startWorker, type WorkerHandle } from "../../worker/index.ts";
import { devKey, type DevnetChain } from "./prepare.ts";

export const OPERATOR_ACCOUNTS = [1, 2, 3, 4];
export const POSTER_ACCOUNT = 5;
/** The staked watcher of config/deploy/*.json (`staking.watchers`). */
export const WATCHER_ACCOUNT = 9;

export type DevnetServices = {
  relayer: RelayerHandle;
  workers: WorkerHandle[];
  ingestor: IngestorHandle;
  /** Present when the chains have HoneSTake deployed (and `watcher` was not false). */
  watcher?: WatcherHandle;
  runtime: NanoRuntime;
  close: () => Promise<void>;
};

/**
 * Starts the whole off-chain network in this process: the relayer (both chains), one worker per
 * operator key (sharing one runtime pool), and the ingestor (collector, poster, reconciler).
 */
export async function startDevnetServices(options: {
  chains: DevnetChain[];
  redisUrl: string;
  storeDir: string;
  dataDir: string;
  logger?: Logger;
  operators?: number[];
  /** In-process chains: viem transports per chain id instead of http(rpcUrl). */
  transports?: Record<number, Transport>;
  /** Scheduler settings (quorum, reassignAfterMs, ...), e.g. faster work stealing in tests. */
  scheduler?: Record<string, unknown>;
  /** Run the watcher (default: when HoneSTake is deployed on every chain). */
  watcher?: boolean;
  /** Watcher options (see watcher/config.ts `options`), e.g. finalize off. */
  watcherOptions?: Record<string, unknown>;
  /** Operators that lie (devnet demo and tests): their runs go through `tamper` before signing. */
  colluders?: { operators: number[]; tamper: OutcomeTamper };
  /**
   * Mine an empty block this often on every chain (0 = never). Automine chains only make blocks
   * for transactions, and dispute phases are measured in block time: without blocks an idle chain
   * would never reach a reveal phase.
   */
  blockTickMs?: number;
}): Promise<DevnetServices> {
  const logger = options.logger ?? pino({ level: "silent" });
  const chains = options.chains.map((c) => ({
    chainId: c.chainId,
    rpcUrl: c.rpcUrl,
    oracle: c.oracle,
    ingestor: c.ingestor,
    confirmations: 0,
    pollIntervalMs: 100,
  }));
  const redis = { url: options.redisUrl };
  const relayer = await startRelayer(
    loadRelayerConfig({
      raw: {
        chains,
        operators: { operatorSet: { chainId: options.chains[0]!.chainId, address: options.chains[0]!.operatorSet } },
        scheduler: { quorum: 4, ...options.scheduler },
        redis,
      },
      env: {},
    }),
    {
      logger: logger.child({ service: "relayer" }),
      opsServer: false,
      ...(options.transports
        ? {
            clients: Object.fromEntries(
              Object.entries(options.transports).map(([id, transport]) => [id, createPublicClient({ transport })]),
            ),
          }
        : {}),
    },
  );
  const runtime = new NanoRuntime({ size: 2 });
  const workers: WorkerHandle[] = [];
  for (const index of options.operators ?? OPERATOR_ACCOUNTS) {
    const config = loadWorkerConfig({ raw: { chains, programs: { dirs: [options.storeDir] }, redis }, env: {} });
    const lies = options.colluders?.operators.includes(index);
    workers.push(
      await startWorker(config, {
        privateKey: devKey(index) as Hex,
        ...(lies ? { tamper: options.colluders!.tamper } : {}),
        runtime,
        logger: logger.child({ service: "worker", operator: index }),
        opsServer: false,
        // the output rule reads escrow fees and token controllers from each chain
        ...(options.transports
          ? {
              clients: Object.fromEntries(
                Object.entries(options.transports).map(([id, transport]) => [
                  String(id),
                  createPublicClient({ transport }),
                ]),
              ),
            }
          : {}),
      }),
    );
  }
  const ingestor = await startIngestor(
    loadIngestorConfig({
      raw: {
        chains,
        redis,
        posterKey: devKey(POSTER_ACCOUNT),
        da: { primary: { layer: "local", dir: join(options.dataDir, "da") } },
        poster: { maxBatchWaitMs: 50 },
        reconcile: { intervalMs: 10_000, graceMs: 5_000 },
      },
      env: {},
    }),
    {
      logger: logger.child({ service: "ingestor" }),
      opsServer: false,
      onOrphanRequests: (jobs) => relayer.scheduler.schedule(jobs),
      ...(options.transports
        ? { transports: Object.fromEntries(Object.entries(options.transports).map(([id, t]) => [String(id), t])) }
        : {}),
    },
  );
  const staked = options.chains.every((c) => c.staking);
  const watcher =
    (options.watcher ?? staked) && staked
      ? await startWatcher(
          loadWatcherConfig({
            raw: {
              chains: options.chains.map((c) => ({
                chainId: c.chainId,
                rpcUrl: c.rpcUrl,
                oracle: c.oracle,
                ingestor: c.ingestor,
                disputeManager: c.staking!.disputeManager,
                registry: c.staking!.registry,
                confirmations: 0,
              })),
              watcher: { privateKey: devKey(WATCHER_ACCOUNT) },
              da: { primary: { layer: "local", dir: join(options.dataDir, "da") } },
              programs: { dirs: [options.storeDir] },
              options: { pollIntervalMs: 200, daRetryDelayMs: 200, ...options.watcherOptions },
              redis,
            },
            env: {},
          }),
          {
            logger: logger.child({ service: "watcher" }),
            opsServer: false,
            runtime,
            ...(options.transports ? { transports: options.transports } : {}),
          },
        )
      : undefined;
  const tick = options.blockTickMs ?? 0;
  const miners = options.chains.map((c) =>
    createPublicClient({ transport: options.transports?.[c.chainId] ?? http(c.rpcUrl) }),
  );
  const ticker =
    tick > 0
      ? setInterval(() => {
          for (const client of miners) void client.request({ method: "evm_mine" } as never).catch(() => {});
        }, tick)
      : undefined;
  let closing: Promise<void> | undefined;
  return {
    relayer,
    workers,
    ingestor,
    ...(watcher ? { watcher } : {}),
    runtime,
    close: () =>
      (closing ??= (async () => {
        if (ticker) clearInterval(ticker);
        await watcher?.close();
        await relayer.close();
        for (const w of workers) await w.close();
        await ingestor.close();
        await runtime.close();
      })()),
  };
}
