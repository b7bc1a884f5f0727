import { getAddress, type Address, type PublicClient } from "viem";
import { instructionIngestorAbi, stakingRegistryAbi } from "../../protocol/generated/abis.ts";
import type { Logger } from "../../protocol/ops.ts";
import { readActiveOperators } from "../../relayer/index.ts";
import type { NodeConfig } from "./config.ts";

/** Blocks per WatcherRegistered query (RPC providers cap a log query's range). */
const WATCHER_SCAN_RANGE = 10_000n;
/** Blocks re-scanned on every refresh, so a registration moved by a short reorg is still seen. */
const REORG_OVERLAP_BLOCKS = 12n;

/**
 * The active operator set as this node sees it on chain: `config.operators.operatorSet`, else
 * `InstructionIngestor.operatorSet()` of the first chain (the set its signatures are checked
 * against); `allOperators()` filtered by `isActive()`, re-read every `timing.membershipRefreshMs`.
 * Every node derives quorums and posting order from its own reading: nobody tells it who is in.
 *
 * Watchers: when the set is a StakingRegistry, the registered watchers are read the same way
 * (`WatcherRegistered` events, each confirmed by `isWatcher()`), so operator nodes accept a staked
 * watcher's peer binding; a plain operator set emits no such event and so has none. The events are
 * read incrementally: each refresh scans only the blocks since the last one (with a few blocks of
 * overlap, so a short reorg cannot hide a registration), in bounded ranges.
 */
export class Membership {
  private current: Address[] = [];
  private currentWatchers: Address[] = [];
  /** Every account a WatcherRegistered event named so far (whether still a watcher is asked each refresh). */
  private readonly watcherCandidates = new Set<Address>();
  /** The next block to scan for WatcherRegistered. */
  private scanFrom = 0n;
  private timer: NodeJS.Timeout | undefined;
  readonly source: { chainId: number; address: Address };
  private readonly client: PublicClient;
  private readonly log: Logger;

  private constructor(source: { chainId: number; address: Address }, client: PublicClient, log: Logger) {
    this.source = source;
    this.client = client;
    this.log = log;
  }

  static async open(config: NodeConfig, clientOf: (chainId: number) => PublicClient, log: Logger): Promise<Membership> {
    let source = config.operators?.operatorSet as { chainId: number; address: Address } | undefined;
    if (!source) {
      const first = config.chains[0]!;
      const address = await clientOf(first.chainId).readContract({
        address: first.ingestor as Address,
        abi: instructionIngestorAbi,
        functionName: "operatorSet",
      });
      source = { chainId: first.chainId, address: getAddress(address) };
    }
    const membership = new Membership(source, clientOf(source.chainId), log);
    await membership.refresh();
    return membership;
  }

  operators = (): Address[] => this.current;

  watchers = (): Address[] => this.currentWatchers;

  /** Blocks already scanned for watcher registrations (tests, status). */
  watcherScanFrom = (): bigint => this.scanFrom;

  refresh = async (): Promise<Address[]> => {
    this.current = await readActiveOperators(this.client, this.source.address);
    this.currentWatchers = await this.readWatchers();
    return this.current;
  };

  private async readWatchers(): Promise<Address[]> {
    const address = this.source.address;
    try {
      const latest = await this.client.getBlockNumber({ cacheTime: 0 });
      for (let from = this.scanFrom; from <= latest; from += WATCHER_SCAN_RANGE) {
        const to = from + WATCHER_SCAN_RANGE - 1n < latest ? from + WATCHER_SCAN_RANGE - 1n : latest;
        const logs = await this.client.getContractEvents({
          address,
          abi: stakingRegistryAbi,
          eventName: "WatcherRegistered",
          fromBlock: from,
          toBlock: to,
        });
        for (const log of logs) this.watcherCandidates.add(getAddress(log.args.account!));
        this.scanFrom = to + 1n;
      }
      this.scanFrom = this.scanFrom > REORG_OVERLAP_BLOCKS ? this.scanFrom - REORG_OVERLAP_BLOCKS : 0n;
    } catch (err) {
      this.log.warn({ err }, "could not read the registered watchers");
      return this.currentWatchers;
    }
    const candidates = [...this.watcherCandidates];
    const watchers: Address[] = [];
    for (const account of candidates) {
      try {
        const active = await this.client.readContract({
          address,
          abi: stakingRegistryAbi,
          functionName: "isWatcher",
          args: [account],
        });
        if (active) watchers.push(account);
      } catch (err) {
        this.log.warn({ err, account }, "could not check a registered watcher");
        return this.currentWatchers;
      }
    }
    return watchers;
  }

  start(everyMs: number): void {
    this.timer = setInterval(
      () => void this.refresh().catch((err: unknown) => this.log.warn({ err }, "could not re-read the operator set")),
      everyMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
