import { expect } from "chai";
import pino from "pino";
import { rawCid } from "../../content/bundle.ts";
import { toHelia } from "../../content/cid.ts";
import { startContentPeer, stopContentPeer, type ContentPeer } from "./peers.ts";

const log = pino({ level: process.env.CONTENT_TEST_LOG ?? "silent" });
const NETWORK = "blockexchangetest";
const FETCH_TIMEOUT_MS = 4_000;

type Peer = ContentPeer;

describe("content block exchange: blocks come from the live peers that report content", function () {
  this.timeout(60_000);
  const peers: Peer[] = [];

  async function peer(options: { verifyBlocks?: boolean } = {}): Promise<Peer> {
    return await startContentPeer(peers, {
      network: NETWORK,
      persist: false,
      replicas: 2,
      rotationMs: 600_000,
      reportIntervalMs: 250,
      fetchTimeoutMs: FETCH_TIMEOUT_MS,
      log,
      ...(options.verifyBlocks === undefined ? {} : { verifyBlocks: options.verifyBlocks }),
    });
  }

  async function stop(p: Peer) {
    peers.splice(peers.indexOf(p), 1);
    await stopContentPeer(p);
  }

  afterEach(async () => {
    for (const p of [...peers]) await stop(p);
  });

  const until = async (what: string, check: () => boolean) => {
    const end = Date.now() + 20_000;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const reportsHeard = (asker: Peer, count: number) => () =>
    asker.content.status().peers.filter((r) => r.ageMs < 750).length >= count;

  const timed = async <T>(work: () => Promise<T>) => {
    const start = Date.now();
    const value = await work();
    return { value, ms: Date.now() - start };
  };

  it("fetches a block again from the peer that sent it before, after dropping it (bitswap alone never re-sent it)", async () => {
    const holder = await peer();
    const asker = await peer();
    const cid = await holder.content.addRaw(Buffer.from("a block fetched twice"));
    await until("the asker hears the holder's report", reportsHeard(asker, 1));
    expect(Buffer.from(await asker.content.getRaw(cid)).toString()).to.equal("a block fetched twice");
    // Dropped as gc drops a handed-over resource: the next read must go to the network again.
    await asker.content.helia.blockstore.delete(toHelia(cid));
    const again = await timed(() => asker.content.getRaw(cid));
    expect(Buffer.from(again.value).toString()).to.equal("a block fetched twice");
    expect(again.ms).to.be.below(FETCH_TIMEOUT_MS);
  });

  it("takes the block from a surviving holder at once when the other holder is stopped", async () => {
    const first = await peer();
    const second = await peer();
    const asker = await peer();
    const bytes = Buffer.from("held twice, one holder dies");
    const cid = await first.content.addRaw(bytes);
    await second.content.addRaw(bytes);
    await until("the asker hears both holders", reportsHeard(asker, 2));
    await stop(first);
    const got = await timed(() => asker.content.getRaw(cid));
    expect(Buffer.from(got.value).toString()).to.equal("held twice, one holder dies");
    expect(got.ms).to.be.below(FETCH_TIMEOUT_MS);
  });

  it("refuses a forged block from one peer, counts it, and takes the genuine one from another", async () => {
    const liar = await peer({ verifyBlocks: false });
    const asker = await peer();
    const genuine = Buffer.from("the genuine block");
    const cid = rawCid(genuine);
    await liar.content.helia.blockstore.put(toHelia(cid), Buffer.from("a forged block!!"));
    await until("the asker hears the liar", reportsHeard(asker, 1));
    // Only the liar has it: refused until the deadline, and counted.
    const refused = await asker.content.getRaw(cid).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(Error);
    expect(asker.content.status().hashMismatches).to.be.greaterThan(0);
    const local = asker.content.helia.blockstore as unknown as { unwrap(): { has(c: unknown): Promise<boolean> } };
    expect(await local.unwrap().has(toHelia(cid))).to.equal(false);
    // An honest holder joins: the same read now gets the genuine bytes.
    const honest = await peer();
    await honest.content.addRaw(genuine);
    await until("the asker hears the honest holder", reportsHeard(asker, 2));
    expect(Buffer.from(await asker.content.getRaw(cid)).toString()).to.equal("the genuine block");
  });
});
