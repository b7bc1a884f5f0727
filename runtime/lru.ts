/** A least-recently-used map with a fixed capacity; `set` returns the keys it evicted. */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();
  readonly capacity: number;
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }
  has(key: K): boolean {
    return this.entries.has(key);
  }
  set(key: K, value: V): K[] {
    this.entries.delete(key);
    this.entries.set(key, value);
    const evicted: K[] = [];
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }
  delete(key: K): boolean {
    return this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
  get size(): number {
    return this.entries.size;
  }
}
