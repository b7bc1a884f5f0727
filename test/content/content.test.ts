import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { CID } from "multiformats/cid";
import pino from "pino";
import { ContentNode } from "../../content/node.ts";
import { startGateway, type Gateway } from "../../content/gateway.ts";
import { importBundle, rawCid } from "../../content/bundle.ts";
import { publishContent } from "../../content/publish.ts";
import { toHelia } from "../../content/cid.ts";
import { MemoryBlockstore } from "blockstore-core";
import { FsBlockstore } from "blockstore-fs";
import { contentHolders, programCid } from "../../protocol/content.ts";
import { DEFAULT_LIMITS, encodePackage } from "../../protocol/programPackage.ts";
import { ProgramNotFoundError, ProgramStore } from "../../worker/programStore.ts";
import { createVersatusLibp2p, type VersatusLibp2p } from "../../network/libp2pNode.ts";

const log = pino({ level: process.env.CONTENT_TEST_LOG ?? "silent" });
const NETWORK = "contenttest";

type Member = { libp2p: VersatusLibp2p; content: ContentNode; gateway: Gateway; dir: string };

describe("content: persist and gateway roles over real libp2p and HTTP", function () {
  this.timeout(120_000);
  const members: Member[] = [];
  let clock = Date.now();
  const now = () => clock;

  async function member(options: { bootstrap?: string; persist?: boolean; verifyBlocks?: boolean; replicas?: number }) {
    const libp2p = await createVersatusLibp2p({
      network: NETWORK,
      privateKey: await generateKeyPair("Ed25519"),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      bootstrap: options.bootstrap ? [options.bootstrap] : [],
      gossip: {},
      isBanned: () => false,
      maxConnections: 32,
    });
    const dir = await mkdtemp(join(tmpdir(), "versatus-content-"));
    const content = await ContentNode.start({
      libp2p,
      network: NETWORK,
      dataDir: dir,
      persist: options.persist ?? true,
      replicas: options.replicas ?? 2,
      rotationMs: 600_000,
      reportIntervalMs: 250,
      // generous: five nodes share one event loop, and a loaded machine slows every answer
      fetchTimeoutMs: 10_000,
      log,
      now,
      ...(options.verifyBlocks === undefined ? {} : { verifyBlocks: options.verifyBlocks }),
    });
    const gateway = await startGateway({ content, port: 0, host: "127.0.0.1", upload: true, log });
    // A small full mesh, as network/ keeps among operators: reports travel between connected peers.
    for (const other of members) await libp2p.dial(other.libp2p.getMultiaddrs()[0]!);
    const m = { libp2p, content, gateway, dir };
    members.push(m);
    return m;
  }

  async function stop(m: Member) {
    await m.gateway.close();
    await m.content.close();
    await m.libp2p.stop();
    members.splice(members.indexOf(m), 1);
  }

  after(async () => {
    for (const m of [...members]) {
      await stop(m).catch(() => undefined);
      await rm(m.dir, { recursive: true, force: true });
    }
  });

  const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 30_000) => {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end)
        throw new Error(
          `timed out waiting for ${what}: ${JSON.stringify(members.map((m) => ({ ...m.content.status(), events: undefined })))}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const peersOf = () => members.filter((m) => m.content.status().persist).map((m) => m.content.peerId);
  const holdersNow = (cid: string) => members.filter((m) => m.content.holds(cid)).map((m) => m.content.peerId);

  let bundle: string;
  const files = [
    { path: "index.html", content: Buffer.from("<h1>cached by the network</h1>") },
    { path: "css/site.css", content: Buffer.from("h1 { color: teal }") },
  ];

  it("replicates a published bundle to exactly the R placement holders, and the publisher hands it over", async () => {
    const first = await member({});
    const address = `${first.libp2p.getMultiaddrs()[0]!.toString()}`;
    for (let i = 0; i < 3; i++) await member({ bootstrap: address });
    await until("every node sees the three others' reports", () =>
      members.every((m) => m.content.status().persistNodes.length === 4),
    );
    const response = await fetch(`${first.gateway.url}/content`, {
      method: "POST",
      body: JSON.stringify({ files: files.map((f) => ({ path: f.path, base64: f.content.toString("base64") })) }),
    });
    expect(response.status).to.equal(201);
    bundle = ((await response.json()) as { cid: string }).cid;
    // The publisher's CID is the one anyone computes from the same files.
    expect(bundle).to.equal((await importBundle(new MemoryBlockstore(), files)).toString());
    const holders = contentHolders(bundle, peersOf(), first.content.epoch(), 2);
    await until(
      "the holders have it and nobody else",
      () => holdersNow(bundle).sort().join() === holders.sort().join(),
    );
  });

  it("publishes a directory through `versatus content publish` (the CID computed locally matches the gateway's)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "versatus-bundle-"));
    try {
      await writeFile(join(dir, "index.html"), "<p>published</p>");
      const result = await publishContent({ path: dir, gateway: members[1]!.gateway.url });
      const page = await fetch(`${members[2]!.gateway.url}/ipfs/${result.cid}`);
      expect(await page.text()).to.equal("<p>published</p>");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("serves the bundle from every gateway by CID, with its index.html and paths, and a 4xx for bad input", async () => {
    for (const m of members) {
      const index = await fetch(`${m.gateway.url}/ipfs/${bundle}`);
      expect(index.status).to.equal(200);
      expect(await index.text()).to.equal("<h1>cached by the network</h1>");
      const css = await fetch(`${m.gateway.url}/ipfs/${bundle}/css/site.css`);
      expect(css.headers.get("content-type")).to.match(/text\/css/);
      expect(await css.text()).to.equal("h1 { color: teal }");
    }
    expect((await fetch(`${members[0]!.gateway.url}/ipfs/not-a-cid`)).status).to.equal(400);
    expect((await fetch(`${members[0]!.gateway.url}/ipfs/${bundle}/nope.txt`)).status).to.equal(404);
    expect((await fetch(`${members[0]!.gateway.url}/name/alice.versatus`)).status).to.equal(501);
  });

  it("rotates to the next epoch's holders without ever having fewer than R copies", async () => {
    const R = 2;
    const before = contentHolders(bundle, peersOf(), members[0]!.content.epoch(), R);
    let epochs = 0;
    let after = before;
    // Move the shared clock epoch by epoch until the placement really changes.
    while (after.sort().join() === before.sort().join() && epochs < 20) {
      clock += 600_000;
      epochs++;
      after = contentHolders(bundle, peersOf(), members[0]!.content.epoch(), R);
    }
    expect(after.sort().join()).to.not.equal(before.sort().join());
    let least = Infinity;
    const sampler = setInterval(() => (least = Math.min(least, holdersNow(bundle).length)), 10);
    try {
      await until(
        "the new holders hold it and the old ones dropped it",
        () => holdersNow(bundle).sort().join() === after.join(),
      );
    } finally {
      clearInterval(sampler);
    }
    expect(least).to.be.at.least(R);
    const dropped = members.flatMap((m) =>
      m.content.status().events.filter((e) => e.kind === "dropped" && e.cid === bundle),
    );
    expect(dropped.length).to.be.greaterThan(0);
  });

  // Known failing since 2026-11-29 (3 of 3 runs in a fresh clone, passed in the run before): the
  // non-holder's gateway answers 502 ("could not be loaded from any peer") after a holder is
  // stopped. Skipped, not deleted: it is the first thing to fix (README "What is weak", content).
  it("keeps serving the bundle from another gateway when a holder is killed", async () => {
    const holder = members.find((m) => m.content.holds(bundle))!;
    const other = members.find((m) => m !== holder && !m.content.holds(bundle))!;
    await stop(holder);
    const index = await fetch(`${other.gateway.url}/ipfs/${bundle}`);
    expect(index.status).to.equal(200);
    expect(await index.text()).to.equal("<h1>cached by the network</h1>");
    // The survivors restore R holders among themselves.
    await until("R holders again", () => holdersNow(bundle).length >= 2);
  });

  it("fetches a program package from the network by content address; the directory stays a fallback", async () => {
    const module = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    const pkg = encodePackage({ name: "from-the-network", version: "1.0.0", limits: { ...DEFAULT_LIMITS } }, module);
    const publisher = members[0]!;
    const cid = await publisher.content.addRaw(pkg.bytes);
    expect(cid.toString()).to.equal(programCid(pkg.programId).toString());
    const reader = members.find((m) => m !== publisher)!;
    const emptyDir = await mkdtemp(join(tmpdir(), "versatus-programs-"));
    try {
      const store = new ProgramStore({
        dirs: [emptyDir],
        network: { first: false, fetch: (id) => reader.content.getProgramPackage(id) },
      });
      const got = await store.get(pkg.programId);
      expect(got.manifest.name).to.equal("from-the-network");
      // An id nobody holds: the network answers nothing in time, the store says where it looked.
      const unknownId = `0x${"ab".repeat(32)}` as const;
      const quick = new ProgramStore({
        dirs: [emptyDir],
        network: { first: true, fetch: async (id) => (id === unknownId ? undefined : new Uint8Array()) },
      });
      const error = await quick.get(unknownId).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ProgramNotFoundError);
      expect((error as Error).message).to.include("content network");
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it("refuses a tampered block from a lying peer: the gateway answers 5xx and never serves its bytes", async () => {
    const honest = members[0]!;
    const liar = await member({
      bootstrap: honest.libp2p.getMultiaddrs()[0]!.toString(),
      persist: false,
      verifyBlocks: false,
    });
    const genuine = Buffer.from("the real program package");
    const cid = rawCid(genuine);
    const forged = Buffer.from("a forged program package!");
    // The liar's store (no hash check) holds forged bytes under the genuine CID.
    await liar.content.helia.blockstore.put(toHelia(cid), forged);
    await until("the honest node is connected to the liar", () =>
      honest.libp2p.getPeers().some((p) => p.equals(liar.libp2p.peerId)),
    );
    const response = await fetch(`${honest.gateway.url}/ipfs/${cid.toString()}`);
    expect(response.status).to.be.within(500, 504);
    expect(await response.text()).to.not.include("forged");
    const local = honest.content.helia.blockstore as unknown as { unwrap(): { has(c: unknown): Promise<boolean> } };
    expect(await local.unwrap().has(toHelia(CID.parse(cid.toString())))).to.equal(false);
  });

  it("refuses a block changed on the holder's disk: 502, the block deleted, the mismatch counted", async () => {
    const holder = members.find((m) => m.content.holds(bundle))!;
    const leaf = rawCid(files[1]!.content);
    // Another handle on the same directory, without the hash check, overwrites the leaf's file.
    const raw = new FsBlockstore(join(holder.dir, "blocks"));
    await raw.open();
    await raw.put(toHelia(leaf), Buffer.from("h1 { color: red } /* forged */"));
    const before = holder.content.status().hashMismatches;
    const offline = await fetch(`${holder.gateway.url}/ipfs/${bundle}/css/site.css`);
    const text = await offline.text();
    // The bad block is refused; a holder may then fetch the genuine one from another holder.
    expect(text).to.not.include("forged");
    if (offline.status === 200) expect(text).to.equal("h1 { color: teal }");
    else expect(offline.status).to.be.within(500, 504);
    expect(holder.content.status().hashMismatches).to.be.greaterThan(before);
  });
});
