/**
 * Per-key token buckets (one per originating peer): `ratePerSecond` tokens refill continuously up
 * to `burst`; a message takes one. Idle buckets are pruned so a stream of fresh peer ids cannot
 * grow the map without bound.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly maxKeys: number;

  constructor(options: { ratePerSecond: number; burst: number; maxKeys?: number }) {
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Takes a token for `key`; false when its bucket is empty (the message is over the rate). */
  take(key: string, now = Date.now()): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Drops buckets that have refilled completely (they hold no state worth keeping). */
  prune(now = Date.now()): void {
    const full = (this.burst / this.ratePerSecond) * 1000;
    for (const [key, bucket] of this.buckets) if (now - bucket.at >= full) this.buckets.delete(key);
    // Still too many: drop the oldest.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
