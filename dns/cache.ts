/**
 * The node cache in front of global state and the upstream: entries live until their own expiry
 * (a TTL the caller chooses) and the least recently used one goes first when the cache is full.
 * The clock is injectable so expiry is testable without sleeping.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: { maxEntries: number; now?: () => number }) {
    this.maxEntries = options.maxEntries;
    this.now = options.now ?? Date.now;
  }

  /** The live value and its remaining lifetime in ms, or undefined (an expired entry is dropped). */
  get(key: string): { value: V; remainingMs: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const remainingMs = entry.expiresAt - this.now();
    if (remainingMs <= 0) {
      this.entries.delete(key);
      return undefined;
    }
    // Map order is the LRU order: re-insert on use.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { value: entry.value, remainingMs };
  }

  /** Stores `value` for `ttlMs` (0 or less stores nothing). */
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Drops every key `matches` accepts (e.g. every cached answer about one name). */
  deleteWhere(matches: (key: string) => boolean): number {
    let dropped = 0;
    for (const key of [...this.entries.keys()])
      if (matches(key)) {
        this.entries.delete(key);
        dropped += 1;
      }
    return dropped;
  }

  get size(): number {
    return this.entries.size;
  }
}
