import { FsBlockstore } from "blockstore-fs";
import { MemoryBlockstore } from "blockstore-core";
import type { AbortOptions } from "@libp2p/interface";
import type { HeliaCid as CID } from "./cid.ts";
import { blockMatchesCid } from "../protocol/content.ts";

/**
 * Blockstores that never keep or return a block whose bytes do not hash to its CID: a peer that
 * sends a tampered block (bitswap) gets it refused at `put`, and a block changed on disk is refused
 * (and deleted) at `get`. The gateway reads only through these, so it never serves a bad byte.
 */

export class BlockHashMismatchError extends Error {
  readonly cid: string;
  constructor(cid: CID, where: "put" | "get") {
    super(`block ${cid.toString()} does not hash to its CID (${where === "put" ? "refused" : "deleted"})`);
    this.name = "BlockHashMismatchError";
    this.cid = cid.toString();
  }
}

type BlockInput = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

async function collect(input: BlockInput): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  const chunks: Uint8Array[] = [];
  for await (const chunk of input) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export type HashCheckCounter = (where: "put" | "get") => void;

/** Hooks shared by both stores: check on put, check on get (and drop what fails). */
function verifying<T extends FsBlockstore | MemoryBlockstore>(store: T, onMismatch?: HashCheckCounter): T {
  const put = store.put.bind(store);
  const get = store.get.bind(store);
  const del = store.delete.bind(store);
  store.put = async (cid: CID, input: BlockInput, options?: AbortOptions) => {
    const bytes = await collect(input);
    if (!blockMatchesCid(cid, bytes)) {
      onMismatch?.("put");
      throw new BlockHashMismatchError(cid, "put");
    }
    return put(cid, bytes, options);
  };
  store.get = async function* (cid: CID, options?: AbortOptions) {
    const bytes = await collect(get(cid, options));
    if (!blockMatchesCid(cid, bytes)) {
      onMismatch?.("get");
      await del(cid, options);
      throw new BlockHashMismatchError(cid, "get");
    }
    yield bytes;
  } as T["get"];
  return store;
}

/**
 * A failed write of a block is checked and tried once more. blockstore-fs writes through a temp file
 * and a rename; two puts of the same block at once (bitswap's walk and a gateway fetch of one CID)
 * can lose the rename race and reject with ENOENT, and Helia's graph walker leaves such a rejection
 * unhandled, which ends the process. A block that is on disk after a failed write counts as written.
 */
function retriedWrites<T extends FsBlockstore | MemoryBlockstore>(store: T): T {
  const put = store.put.bind(store);
  store.put = async (cid: CID, input: BlockInput, options?: AbortOptions) => {
    const bytes = await collect(input);
    try {
      return await put(cid, bytes, options);
    } catch {
      if (await Promise.resolve(store.has(cid)).catch(() => false)) return cid;
      return put(cid, bytes, options);
    }
  };
  return store;
}

/** Blocks under `dir` (one file per block), hash-checked in and out; `verify: false` only for attack tests. */
export async function openBlockstore(options: {
  dir?: string;
  verify?: boolean;
  onMismatch?: HashCheckCounter;
}): Promise<FsBlockstore | MemoryBlockstore> {
  const store = options.dir === undefined ? new MemoryBlockstore() : new FsBlockstore(options.dir);
  if (store instanceof FsBlockstore) await store.open();
  const serialized = retriedWrites(store);
  return options.verify === false ? serialized : verifying(serialized, options.onMismatch);
}
