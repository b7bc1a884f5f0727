import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBlockstore } from "../../content/blockstore.ts";
import { rawCid } from "../../content/bundle.ts";
import { toHelia } from "../../content/cid.ts";

describe("content/blockstore: concurrent writes of one block", () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "versatus-blocks-"))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  // Many concurrent writes of fresh blocks, each block written 8 times at once: the shape of a
  // bitswap walk and a gateway fetch of the same CID when a holder dies.
  const race = async (put: (cid: ReturnType<typeof toHelia>, bytes: Uint8Array) => Promise<unknown>) => {
    const failures: unknown[] = [];
    for (let round = 0; round < 40; round++) {
      const bytes = new TextEncoder().encode(`block ${round} ${Math.random()}`);
      const cid = toHelia(rawCid(bytes));
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => put(cid, bytes)));
      failures.push(...results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason));
    }
    return failures;
  };

  it("takes the same block written many times at once without a failed write, and keeps it readable", async () => {
    const store = await openBlockstore({ dir });
    const failures = await race(async (cid, bytes) => store.put(cid, bytes));
    expect(failures.map(String)).to.deep.equal([]);
    const bytes = new TextEncoder().encode("read back");
    const cid = toHelia(rawCid(bytes));
    await Promise.all([store.put(cid, bytes), store.put(cid, bytes)]);
    const chunks: Uint8Array[] = [];
    for await (const chunk of store.get(cid)) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).to.equal("read back");
  });
});
