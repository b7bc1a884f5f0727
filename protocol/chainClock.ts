import type { PublicClient } from "viem";

/**
 * A request's deadline is a block timestamp: the oracle refuses a result and allows a refund by
 * `block.timestamp`, so every service judges deadlines by the chain's clock, never this machine's.
 * The two differ by minutes on a local chain (an in-process chain started late in a long run, a
 * chain whose time was moved) and by seconds on a live one.
 */

/** How long after a deadline a service keeps following a request (a block past it may not be mined yet). */
export const DEADLINE_GRACE_SECONDS = 60n;

/** True once the chain's clock is past `deadline` plus the grace period. */
export function isPastDeadline(deadline: bigint | string | number, chainNowSeconds: bigint): boolean {
  return BigInt(deadline) + DEADLINE_GRACE_SECONDS < chainNowSeconds;
}

/**
 * Milliseconds of this machine's clock until `deadline` (plus the grace period) on the chain's clock:
 * what a Redis expiry or a local timer needs. Never negative.
 */
export function msUntilPastDeadline(deadline: bigint | string | number, chainNowSeconds: bigint): number {
  const seconds = BigInt(deadline) + DEADLINE_GRACE_SECONDS - chainNowSeconds;
  return seconds > 0n ? Number(seconds) * 1000 : 0;
}

export type ChainClockOptions = {
  /** Reads the chain's latest block timestamp (seconds). */
  latestTimestamp: (chainId: string) => Promise<bigint>;
  /** How long one reading is reused (default 1,000 ms): a sweep over many requests reads once. */
  maxAgeMs?: number;
  /** This machine's clock, for the cache age only. */
  now?: () => number;
};

/** The latest block timestamp of each chain, read at most once per `maxAgeMs`, concurrent reads shared. */
export class ChainClock {
  private readonly readings = new Map<string, { seconds: bigint; at: number }>();
  private readonly pending = new Map<string, Promise<bigint>>();
  private readonly options: ChainClockOptions;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: ChainClockOptions) {
    this.options = options;
    this.maxAgeMs = options.maxAgeMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** The chain's time in seconds (latest block timestamp); rejects when the chain cannot be read. */
  async nowSeconds(chainId: string | number | bigint): Promise<bigint> {
    const key = String(chainId);
    const reading = this.readings.get(key);
    if (reading && this.now() - reading.at < this.maxAgeMs) return reading.seconds;
    let read = this.pending.get(key);
    if (!read) {
      read = this.options
        .latestTimestamp(key)
        .then((seconds) => {
          this.readings.set(key, { seconds, at: this.now() });
          return seconds;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, read);
    }
    return read;
  }

  /** The last reading of a chain's time, however old, or undefined if it was never read. */
  lastSeconds(chainId: string | number | bigint): bigint | undefined {
    return this.readings.get(String(chainId))?.seconds;
  }
}

/** A ChainClock reading each chain's latest block through its viem client. */
export function latestBlockClock(
  clientOf: (chainId: string) => Pick<PublicClient, "getBlock"> | undefined,
  options: Omit<ChainClockOptions, "latestTimestamp"> = {},
): ChainClock {
  return new ChainClock({
    ...options,
    latestTimestamp: async (chainId) => {
      const client = clientOf(chainId);
      if (!client) throw new Error(`no RPC for chain ${chainId}: its clock (request deadlines) cannot be read`);
      return (await client.getBlock({ blockTag: "latest" })).timestamp;
    },
  });
}
