const PAGE_BYTES = 65_536;

/** The memory a program starts with and the most it may grow to, in 64 KiB pages. */
export type MemoryShape = { initial: number; maximum: number };

/**
 * Hands out zeroed memories of a program's initial size and takes back the ones that did not grow,
 * so consecutive runs skip the allocation. A memory that grew cannot shrink and is dropped.
 */
export class MemoryRecycler {
  private readonly spare = new Map<string, WebAssembly.Memory[]>();
  private readonly perKey: number;
  constructor(perKey = 2) {
    this.perKey = perKey;
  }

  take(key: string, shape: MemoryShape): WebAssembly.Memory {
    const memory = this.spare.get(key)?.pop();
    if (!memory) return new WebAssembly.Memory({ initial: shape.initial, maximum: shape.maximum });
    new Uint8Array(memory.buffer).fill(0);
    return memory;
  }

  give(key: string, shape: MemoryShape, memory: WebAssembly.Memory): void {
    if (memory.buffer.byteLength !== shape.initial * PAGE_BYTES) return;
    const list = this.spare.get(key) ?? [];
    if (list.length >= this.perKey) return;
    list.push(memory);
    this.spare.set(key, list);
  }

  forget(key: string): void {
    this.spare.delete(key);
  }
}
