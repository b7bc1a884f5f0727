import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  encodeFunctionData,
  getAddress,
  parseAbi,
  type Account,
  type Address,
} from "viem";
import { instructionIngestorAbi, stakingRegistryAbi } from "../protocol/generated/abis.ts";
import { refreshDecision, snapshotPays, snapshotSavings, type IngestTraffic } from "../protocol/activitySnapshot.ts";
import { settleWithin, type Logger } from "../protocol/ops.ts";
import type { ChainClients } from "./chains.ts";
import type { SnapshotKeeperConfig } from "./config.ts";
import type { IngestorMetrics } from "./metrics.ts";
import type { TxSender } from "./txSender.ts";

/** The one adapter function the keeper reads (IStakeAdapter; the registry's adapter is a plain address). */
const adapterAbi = parseAbi(["function unbondingPeriod() view returns (uint256)"]);

export type SnapshotKeeperParameters = {
  chain: ChainClients;
  /** The poster's sender of this chain: the keeper's transactions take their nonces from it. */
  sender: TxSender;
  account: Account;
  config: SnapshotKeeperConfig;
  logger: Logger;
  metrics: IngestorMetrics;
};

export type SnapshotKeeperHandle = {
  /** The poster reports each ingest transaction it got mined (auto mode judges the traffic by these). */
  observeIngest(results: number): void;
  /** Stops looking; a refresh in flight is given a short grace. Safe to call twice. */
  close(): Promise<void>;
};

type Registry = { address: Address; lifetimeSeconds: number };

/**
 * Keeps activity snapshots (`StakingRegistry.snapshotActive`) of the chain's active operators
 * fresh, beside the poster and never in its way: its own timer, its own transaction (through the
 * poster's TxSender, which hands out nonces one broadcast at a time, so the two never collide and
 * neither waits for the other's receipt), its failures logged and retried with backoff. Each look
 * reads the registry (active operators, `activeUntil` of each) and the chain's time; it refreshes
 * only when the earliest snapshot ends within `marginSeconds`, at most once per refresh window
 * (protocol/activitySnapshot.ts), and in `auto` mode only when the last lifetime's ingests would
 * have saved the snapshot's estimated gas. An operator the registry cannot prove active through
 * the snapshot's end (stake unbonding, owing) is left out of it. On a chain whose operator set
 * takes no snapshots (an OwnedOperatorSet, or unbonding ≤ slashable window) the keeper stops.
 */
export function startSnapshotKeeper(parameters: SnapshotKeeperParameters): SnapshotKeeperHandle {
  const { chain, sender, account, config, metrics } = parameters;
  const logger = parameters.logger.child({ module: "snapshot-keeper" });
  const chainLabel = String(chain.chainId);
  const client = chain.publicClient;
  let registry: Registry | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let failures = 0;
  let lastSentAtSeconds: bigint | undefined;
  /** Operators the registry refused to snapshot, left out until one lifetime after (chain seconds). */
  const unprovable = new Map<string, bigint>();
  /** Ingest transactions this poster got mined: wall-clock ms and results carried. */
  const traffic: { at: number; results: number }[] = [];

  const trafficOfLastLifetime = (lifetimeSeconds: number): IngestTraffic => {
    const since = Date.now() - lifetimeSeconds * 1000;
    while (traffic.length > 0 && traffic[0]!.at < since) traffic.shift();
    return { transactions: traffic.length, results: traffic.reduce((sum, t) => sum + t.results, 0) };
  };

  /** The registry behind the ingestor, or undefined when it takes no snapshots (the keeper stops). */
  const discover = async (): Promise<Registry | undefined> => {
    const address = await client.readContract({
      address: chain.ingestor,
      abi: instructionIngestorAbi,
      functionName: "operatorSet",
    });
    let window: bigint;
    let adapter: Address;
    try {
      [window, adapter] = await Promise.all([
        client.readContract({ address, abi: stakingRegistryAbi, functionName: "slashableWindow" }),
        client.readContract({ address, abi: stakingRegistryAbi, functionName: "adapter" }),
      ]);
    } catch (error) {
      if (isRevert(error)) {
        logger.info({ operatorSet: address }, "the operator set takes no activity snapshots: keeper off on this chain");
        return undefined;
      }
      throw error;
    }
    const unbonding = await client.readContract({ address: adapter, abi: adapterAbi, functionName: "unbondingPeriod" });
    if (unbonding <= window) {
      logger.info(
        { unbonding: String(unbonding), window: String(window) },
        "no snapshot window: keeper off on this chain",
      );
      return undefined;
    }
    // snapshotActive: until = now + (unbonding - window) - 1
    const lifetimeSeconds = Number(unbonding - window) - 1;
    if (config.marginSeconds >= lifetimeSeconds) {
      logger.error(
        { field: "poster.snapshotKeeper.marginSeconds", marginSeconds: config.marginSeconds, lifetimeSeconds },
        "poster.snapshotKeeper.marginSeconds must be less than a snapshot's lifetime: keeper off on this chain",
      );
      return undefined;
    }
    logger.info({ registry: address, lifetimeSeconds, mode: config.mode }, "activity-snapshot keeper started");
    return { address: getAddress(address), lifetimeSeconds };
  };

  /** The active operators, each with its snapshot's end (0 = none), leaving out the unprovable. */
  const readOperators = async (reg: Registry, nowSeconds: bigint) => {
    const all = await client.readContract({
      address: reg.address,
      abi: stakingRegistryAbi,
      functionName: "allOperators",
    });
    const rows = await Promise.all(
      all.map(async (operator) => {
        const left = unprovable.get(operator.toLowerCase());
        if (left !== undefined && left > nowSeconds) return undefined;
        const [active, until] = await Promise.all([
          client.readContract({
            address: reg.address,
            abi: stakingRegistryAbi,
            functionName: "isActive",
            args: [operator],
          }),
          client.readContract({
            address: reg.address,
            abi: stakingRegistryAbi,
            functionName: "activeUntil",
            args: [operator],
          }),
        ]);
        return active ? { operator, until } : undefined;
      }),
    );
    return rows.filter((r): r is { operator: Address; until: bigint } => r !== undefined);
  };

  /** Estimates snapshotActive, leaving out each operator it names as not provable (bounded by the set). */
  const simulate = async (reg: Registry, operators: Address[], nowSeconds: bigint) => {
    let keep = [...operators];
    while (keep.length > 0) {
      try {
        const gas = await client.estimateContractGas({
          account,
          address: reg.address,
          abi: stakingRegistryAbi,
          functionName: "snapshotActive",
          args: [keep],
        });
        return { operators: keep, gas };
      } catch (error) {
        const reverted = revertOf(error);
        const named = reverted?.data?.errorName === "Staking_NotActiveThrough" ? reverted.data.args?.[0] : undefined;
        if (typeof named !== "string") throw error;
        const out = named.toLowerCase();
        if (!keep.some((o) => o.toLowerCase() === out)) throw error;
        logger.info({ operator: named }, "operator not provable active through the snapshot: left out of it");
        unprovable.set(out, nowSeconds + BigInt(reg.lifetimeSeconds));
        keep = keep.filter((o) => o.toLowerCase() !== out);
      }
    }
    return undefined;
  };

  /** One look; returns ms until the next. */
  const look = async (): Promise<number> => {
    registry ??= await discover();
    const reg = registry;
    if (!reg) return -1;
    const nowSeconds = (await client.getBlock({ blockTag: "latest" })).timestamp;
    const rows = await readOperators(reg, nowSeconds);
    const decision = refreshDecision({
      nowSeconds,
      untils: rows.map((r) => r.until),
      marginSeconds: config.marginSeconds,
      lifetimeSeconds: reg.lifetimeSeconds,
      lastSentAtSeconds,
    });
    logger.debug({ nowSeconds: String(nowSeconds), decision }, "activity snapshot look");
    if (decision.action === "none") return config.checkIntervalMs;
    if (decision.action !== "refresh") return Math.min(config.checkIntervalMs, decision.recheckInSeconds * 1000);
    const seen = trafficOfLastLifetime(reg.lifetimeSeconds);
    if (config.mode === "auto" && snapshotSavings(seen) === 0n) {
      metrics.activitySnapshots.inc({ chain: chainLabel, outcome: "not_paying" });
      return config.checkIntervalMs;
    }
    const simulated = await simulate(
      reg,
      rows.map((r) => r.operator),
      nowSeconds,
    );
    if (!simulated) return config.checkIntervalMs;
    if (config.mode === "auto" && !snapshotPays(seen, simulated.gas)) {
      logger.debug({ traffic: seen, snapshotGas: String(simulated.gas) }, "a snapshot would not pay: skipped");
      metrics.activitySnapshots.inc({ chain: chainLabel, outcome: "not_paying" });
      return config.checkIntervalMs;
    }
    const data = encodeFunctionData({
      abi: stakingRegistryAbi,
      functionName: "snapshotActive",
      args: [simulated.operators],
    });
    const receipt = await sender.send({ to: reg.address, data, gas: (simulated.gas * 12n) / 10n + 10_000n });
    metrics.gasUsed.inc({ chain: chainLabel }, Number(receipt.gasUsed));
    metrics.feeWei.inc({ chain: chainLabel }, Number(receipt.gasUsed * receipt.effectiveGasPrice));
    if (receipt.status !== "success") {
      metrics.activitySnapshots.inc({ chain: chainLabel, outcome: "reverted" });
      throw new SnapshotRevertedError(receipt.transactionHash);
    }
    lastSentAtSeconds = nowSeconds;
    metrics.activitySnapshots.inc({ chain: chainLabel, outcome: "sent" });
    logger.info(
      { txHash: receipt.transactionHash, operators: simulated.operators.length, gasUsed: String(receipt.gasUsed) },
      "activity snapshot refreshed",
    );
    return config.checkIntervalMs;
  };

  const schedule = (ms: number) => {
    if (closed || ms < 0) return;
    // A little jitter: keepers of several posters reaching the same refresh point do not all send;
    // the first one's snapshot makes the others' next look a "hold".
    const jitter = Math.random() * Math.min(config.checkIntervalMs, (config.marginSeconds * 1000) / 3);
    timer = setTimeout(run, Math.max(0, ms) + jitter);
    timer.unref();
  };

  function run() {
    timer = undefined;
    if (closed) return;
    running = look().then(
      (next) => {
        failures = 0;
        schedule(next);
      },
      (error: unknown) => {
        failures++;
        const wait = Math.min(config.maxRetryDelayMs, config.retryDelayMs * 2 ** Math.min(failures - 1, 20));
        if (!(error instanceof SnapshotRevertedError))
          metrics.activitySnapshots.inc({ chain: chainLabel, outcome: "failed" });
        // one short line per failure: a keeper that keeps failing retries for as long as it runs
        logger.warn({ error: shortMessage(error), failures, retryInMs: wait }, "activity snapshot failed: retrying");
        schedule(wait);
      },
    );
  }

  // first look soon after start, not in the poster's start path
  timer = setTimeout(run, 0);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    observeIngest(results: number) {
      traffic.push({ at: Date.now(), results });
    },
    close() {
      closing ??= (async () => {
        closed = true;
        if (timer) clearTimeout(timer);
        if (running) await settleWithin(running, 2_000);
      })();
      return closing;
    },
  };
}

/** The snapshot transaction was mined and reverted (counted as `reverted`, not `failed`). */
class SnapshotRevertedError extends Error {
  override name = "SnapshotRevertedError";
  constructor(txHash: string) {
    super(`snapshot transaction ${txHash} reverted`);
  }
}

function shortMessage(error: unknown): string {
  if (error instanceof ViemBaseError) return [error.shortMessage, error.details].filter(Boolean).join(": ");
  return error instanceof Error ? error.message : String(error);
}

function revertOf(error: unknown): ContractFunctionRevertedError | undefined {
  if (!(error instanceof ViemBaseError)) return undefined;
  return (
    (error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) ?? undefined
  );
}

/** A call the contract refused (or a function it does not have), as opposed to an RPC failure. */
function isRevert(error: unknown): boolean {
  if (!(error instanceof ViemBaseError)) return false;
  return (
    error.walk((e) => e instanceof ContractFunctionRevertedError || e instanceof ContractFunctionZeroDataError) !== null
  );
}
