import type { RedisClient } from "../protocol/redis.ts";
import type { Logger } from "pino";
import { getAbiItem, type Hex, type PublicClient } from "viem";
import { executableOracleAbi } from "../protocol/generated/abis.ts";
import type { RequestJob } from "../protocol/jobs.ts";
import { isConnectionError, type DependencyMonitor } from "../protocol/ops.ts";
import { subscribeNewHeads, webSocketUrlOf, type HeadSubscription } from "../protocol/newHeads.ts";
import { redisKeys } from "../protocol/queues.ts";
import type { RelayerChainConfig } from "./config.ts";

/**
 * Follows `ExecutionRequested` on one chain (SPEC 6).
 *
 * Each poll reads the head, and once new blocks are confirmed (`head - confirmations` beyond the
 * cursor) scans `[cursor + 1 - reorgDepth, head - confirmations]` with getLogs in chunks of at
 * most `maxBlockRange`, hands the requests to the scheduler, and only then moves the cursor
 * (`redisKeys.cursor(chainId)` = last block fully handled) to the chunk's end. So a crash between
 * the two re-reads the chunk, and a reorg within `reorgDepth` blocks below the cursor is picked up
 * by the re-scan; neither makes a second job (the scheduler skips requests it already has and job
 * ids are deterministic). With no cursor stored it starts at `startBlock`.
 */

const executionRequested = getAbiItem({ abi: executableOracleAbi, name: "ExecutionRequested" });

export type FollowerOptions = {
  chain: RelayerChainConfig;
  client: PublicClient;
  redis: RedisClient;
  log: Logger;
  /** Receives the requests of one chunk, in chain order; the cursor moves after it resolves. */
  onRequests: (requests: RequestJob[], context: { safeBlock: bigint }) => Promise<void>;
  onPolled?: (state: { head: bigint; cursor: bigint }) => void;
  /** Told about the chain's RPC being unreachable or back (logged once, shown in /healthz). */
  rpc?: DependencyMonitor;
};

export class ChainFollower {
  readonly chainId: number;
  private readonly options: FollowerOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wakeAgain = false;
  private heads: Promise<HeadSubscription | undefined> | undefined;
  private subscription: HeadSubscription | undefined;
  /** Unix ms of the last successful poll (health). */
  lastPollAt = 0;
  lastError: unknown;

  constructor(options: FollowerOptions) {
    this.options = options;
    this.chainId = options.chain.chainId;
  }

  get reorgDepth(): number {
    return this.options.chain.reorgDepth ?? this.options.chain.confirmations;
  }

  /** The stored cursor, or `startBlock - 1` when there is none. */
  async cursor(): Promise<bigint> {
    const stored = await this.options.redis.get(redisKeys.cursor(this.chainId));
    return stored === null ? BigInt(this.options.chain.startBlock) - 1n : BigInt(stored);
  }

  /**
   * Polls every `pollIntervalMs` until stop(); a new head pushed over the RPC's WebSocket (chain
   * `subscribe`, protocol/newHeads.ts) polls at once instead of waiting out the interval.
   */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), 0);
    const { chain, log } = this.options;
    this.heads = subscribeNewHeads({
      chainId: this.chainId,
      subscribe: chain.subscribe ?? "auto",
      url: webSocketUrlOf(chain),
      onHead: () => this.wake(),
      log,
    }).then(
      (subscription) => {
        if (this.stopped) subscription.close();
        this.subscription = subscription;
        return subscription;
      },
      (error: unknown) => {
        log.error({ err: error, chainId: this.chainId }, "new-head subscription refused: polling only");
        return undefined;
      },
    );
  }

  /** "websocket" while pushed heads wake this follower, else "polling". */
  async followMode(): Promise<"websocket" | "polling"> {
    return (await this.heads)?.mode() ?? "polling";
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.running = this.pollOnce()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.lastError = error;
        if (this.options.rpc && isConnectionError(error)) this.options.rpc.down(error);
        else this.options.log.warn({ err: error, chainId: this.chainId }, "poll failed; retrying");
      });
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    if (this.wakeAgain) {
      this.wakeAgain = false;
      this.timer = setTimeout(() => void this.tick(), 0);
    } else this.timer = setTimeout(() => void this.tick(), this.pollInterval());
  }

  /** The wait until the next poll: longer while pushed heads wake this follower. */
  private pollInterval(): number {
    const { pollIntervalMs, pushedPollIntervalMs } = this.options.chain;
    // never waits for the subscription: until it is up, the follower polls at the plain interval
    const pushed = this.subscription?.mode() === "websocket";
    return pushed ? Math.max(pollIntervalMs, pushedPollIntervalMs ?? pollIntervalMs) : pollIntervalMs;
  }

  /** A new block: poll now, or right after the poll in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), 0);
  }

  /** Stops polling and waits for a poll in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    (await this.heads)?.close();
    await this.running;
  }

  /** One poll: scans newly confirmed blocks. Returns the number of events seen. */
  async pollOnce(): Promise<number> {
    const { client, chain, redis } = this.options;
    const head = await client.getBlockNumber({ cacheTime: 0 });
    this.options.rpc?.up();
    const safe = head - BigInt(chain.confirmations);
    const cursor = await this.cursor();
    this.lastPollAt = Date.now();
    this.options.onPolled?.({ head, cursor });
    if (safe <= cursor) return 0;
    const floor = BigInt(chain.startBlock);
    let from = cursor + 1n - BigInt(this.reorgDepth);
    if (from < floor) from = floor;
    let seen = 0;
    while (from <= safe && !this.stopped) {
      let to = from + BigInt(chain.maxBlockRange) - 1n;
      if (to > safe) to = safe;
      const requests = await this.fetch(from, to);
      seen += requests.length;
      await this.options.onRequests(requests, { safeBlock: safe });
      await redis.set(redisKeys.cursor(this.chainId), to.toString());
      from = to + 1n;
    }
    return seen;
  }

  private async fetch(fromBlock: bigint, toBlock: bigint): Promise<RequestJob[]> {
    const { client, chain } = this.options;
    const logs = await client.getLogs({
      address: chain.oracle as Hex,
      event: executionRequested,
      fromBlock,
      toBlock,
      strict: true,
    });
    const timestamps = new Map<bigint, bigint>();
    for (const log of logs) {
      const withTime = log as { blockTimestamp?: bigint | null };
      if (typeof withTime.blockTimestamp === "bigint") timestamps.set(log.blockNumber, withTime.blockTimestamp);
    }
    const missing = [...new Set(logs.map((l) => l.blockNumber))].filter((n) => !timestamps.has(n));
    const blocks = await Promise.all(missing.map((blockNumber) => client.getBlock({ blockNumber })));
    for (const block of blocks) timestamps.set(block.number, block.timestamp);
    return logs
      .filter((log) => !log.removed)
      .map((log) => ({
        chainId: String(chain.chainId),
        oracle: log.address,
        requestId: log.args.requestId.toLowerCase() as Hex,
        programId: log.args.programId.toLowerCase() as Hex,
        requester: log.args.requester,
        token: log.args.token,
        amount: log.args.amount.toString(),
        deadline: log.args.deadline.toString(),
        input: log.args.input.toLowerCase() as Hex,
        blockNumber: log.blockNumber.toString(),
        blockTimestamp: timestamps.get(log.blockNumber)!.toString(),
        transactionHash: log.transactionHash,
        logIndex: log.logIndex,
      }));
  }
}
