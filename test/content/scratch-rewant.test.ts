import { expect } from "chai";
import { generateKeyPair } from "@libp2p/crypto/keys";
import pino from "pino";
import { ContentNode } from "../../content/node.ts";
import { createVersatusLibp2p } from "../../network/libp2pNode.ts";
import { rawCid } from "../../content/bundle.ts";
import { toHelia } from "../../content/cid.ts";

const log = pino({ level: "silent" });
describe("scratch: re-want of a block a peer already sent", function () {
  this.timeout(60_000);
  it("refetches", async () => {
    const mk = async () => {
      const libp2p = await createVersatusLibp2p({ network: "scratch", privateKey: await generateKeyPair("Ed25519"), listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], gossip: {}, isBanned: () => false, maxConnections: 8 });
      const content = await ContentNode.start({ libp2p, network: "scratch", persist: false, replicas: 2, rotationMs: 600_000, reportIntervalMs: 250, fetchTimeoutMs: 4_000, log });
      return { libp2p, content };
    };
    const a = await mk();
    const b = await mk();
    await b.libp2p.dial(a.libp2p.getMultiaddrs()[0]!);
    const cid = await a.content.addRaw(Buffer.from("hello block"));
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    const first = await b.content.getRaw(cid);
    console.log("first fetch ms", Date.now() - t0, Buffer.from(first).toString());
    await b.content.helia.blockstore.delete(toHelia(cid));
    await new Promise((r) => setTimeout(r, Number(process.env.GAP ?? 6000)));
    const t1 = Date.now();
    let second: unknown;
    try { second = Buffer.from(await b.content.getRaw(cid)).toString(); } catch (e) { second = String(e); }
    console.log("second fetch ms", Date.now() - t1, second);
    const t2 = Date.now();
    let third: unknown;
    try { third = Buffer.from(await b.content.getRaw(cid)).toString(); } catch (e) { third = String(e); }
    console.log("third fetch ms", Date.now() - t2, third);
    await a.content.close(); await b.content.close(); await a.libp2p.stop(); await b.libp2p.stop();
    expect(second).to.equal("hello block");
  });
});
