import { expect } from "chai";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreatePeerKey, parsePeerKey } from "../../network/peerKey.ts";
import { getAddress } from "viem";
import {
  backpressureReportCodec,
  GossipDecodeError,
  gossipTopics,
  peerBindingCodec,
  requestAnnouncementCodec,
  resultMessageCodec,
  verifyResultMessage,
} from "../../protocol/gossip.ts";
import { signPeerBinding, verifyPeerBinding } from "../../protocol/peerBinding.ts";
import { accounts, CHAIN, INGESTOR, requestId, signedResult } from "./p2pHelpers.ts";

const PEER = "12D3KooWAcHN9KWU1CcAH9w6k3K1uRztqjkJfcAdtmhei8qa4TUW";
const OTHER_PEER = "12D3KooWHnJshWFYYkVzZFWvZnrUeGfARDk4wBQjZp81VTgeXD6H";

describe("protocol/peerBinding: a peer id bound to a staking address", () => {
  const [operator, stranger] = accounts(2);
  const now = 1_800_000_000_000;

  it("verifies a binding signed by its operator, for this network and peer", async () => {
    const binding = await signPeerBinding(operator!, { peerId: PEER, network: "devnet", now });
    const verdict = await verifyPeerBinding(binding, { network: "devnet", now: now + 1000, peerId: PEER });
    expect(verdict).to.deep.equal({ ok: true, operator: getAddress(operator!.address) });
  });

  it("rejects a binding signed by another key than the operator it names", async () => {
    const forged = {
      ...(await signPeerBinding(stranger!, { peerId: PEER, network: "devnet", now })),
      operator: operator!.address,
    };
    const verdict = await verifyPeerBinding(forged, { network: "devnet", now });
    expect(verdict.ok).to.equal(false);
    expect(verdict.ok === false && verdict.reason).to.equal("bad_signature");
  });

  it("rejects an expired binding, one from the future, and one for another network or peer", async () => {
    const binding = await signPeerBinding(operator!, { peerId: PEER, network: "devnet", now, lifetimeMs: 60_000 });
    const reason = async (expected: Parameters<typeof verifyPeerBinding>[1]) => {
      const verdict = await verifyPeerBinding(binding, expected);
      return verdict.ok ? "ok" : verdict.reason;
    };
    expect(await reason({ network: "devnet", now: now + 60_000 })).to.equal("expired");
    expect(await reason({ network: "devnet", now: now - 120_000 })).to.equal("not_yet_valid");
    expect(await reason({ network: "mainnet", now })).to.equal("wrong_network");
    expect(await reason({ network: "devnet", now, peerId: OTHER_PEER })).to.equal("wrong_peer");
  });

  it("rejects a binding whose fields were changed after signing", async () => {
    const binding = await signPeerBinding(operator!, { peerId: PEER, network: "devnet", now });
    const verdict = await verifyPeerBinding(
      { ...binding, expiresAt: binding.expiresAt + 1 },
      { network: "devnet", now },
    );
    expect(verdict.ok === false && verdict.reason).to.equal("bad_signature");
  });
});

describe("protocol/gossip: codecs and topics", () => {
  const [operator, other] = accounts(2);

  it("names the topics of a network as the plan says", () => {
    const t = gossipTopics("devnet");
    expect(t.requests(31337)).to.equal("/versatus/devnet/requests/31337");
    expect(t.results(31338n)).to.equal("/versatus/devnet/results/31338");
    expect(t.backpressure).to.equal("/versatus/devnet/backpressure");
    expect(t.shares).to.equal("/versatus/devnet/shares");
    expect(t.bindings).to.equal("/versatus/devnet/bindings");
    expect(() => gossipTopics("Dev/Net")).to.throw(/network/);
  });

  it("round-trips every message type and normalises hex case", async () => {
    const announcement = {
      chainId: "31337",
      requestId: requestId(1).toUpperCase().replace("0X", "0x") as `0x${string}`,
      blockNumber: "12",
      blockHash: requestId(2),
      txHash: requestId(3),
      logIndex: 0,
    };
    const decoded = requestAnnouncementCodec.decode(requestAnnouncementCodec.encode(announcement));
    expect(decoded.requestId).to.equal(requestId(1));
    const result = await signedResult(operator!, requestId(4));
    expect(resultMessageCodec.decode(resultMessageCodec.encode(result))).to.deep.equal(result);
    const binding = await signPeerBinding(operator!, { peerId: PEER, network: "devnet" });
    expect(peerBindingCodec.decode(peerBindingCodec.encode(binding))).to.deep.equal(binding);
  });

  it("refuses malformed and oversized messages with an error naming the field", () => {
    const bad = new TextEncoder().encode(JSON.stringify({ chainId: "31337", requestId: "0x12" }));
    expect(() => requestAnnouncementCodec.decode(bad))
      .to.throw(GossipDecodeError)
      .with.property("field", "RequestAnnouncement.requestId");
    expect(() => requestAnnouncementCodec.decode(new Uint8Array(2000))).to.throw(/at most 1024 bytes/);
    expect(() => requestAnnouncementCodec.decode(new TextEncoder().encode("{not json"))).to.throw(/UTF-8 JSON/);
    const report = {
      operator: operator!.address,
      depth: -1,
      capacity: 4,
      kinds: [],
      programs: null,
      issuedAt: 1,
      signature: `0x${"11".repeat(65)}`,
    };
    expect(() => backpressureReportCodec.encode(report as never))
      .to.throw(GossipDecodeError)
      .with.property("field", "BackpressureReport.depth");
  });

  it("accepts a result whose every chain signature recovers to its operator, and nothing else", async () => {
    const result = await signedResult(operator!, requestId(5));
    expect(await verifyResultMessage(result)).to.deep.equal({ ok: true });
    expect(await verifyResultMessage(result, { ingestors: new Map([[String(CHAIN), INGESTOR]]) })).to.deep.equal({
      ok: true,
    });
    const claimed = { ...result, operator: other!.address };
    expect((await verifyResultMessage(claimed)).ok).to.equal(false);
    const tampered = structuredClone(result);
    tampered.chains[0]!.result.bodyHash = requestId(6);
    const verdict = await verifyResultMessage(tampered);
    expect(verdict.ok === false && verdict.reason).to.equal("bad_signature");
    const otherDomain = await verifyResultMessage(result, { ingestors: new Map([[String(CHAIN), other!.address]]) });
    expect(otherDomain.ok === false && otherDomain.detail).to.match(/ingestor/);
    const wrongRequest = { ...result, requestId: requestId(7) };
    expect((await verifyResultMessage(wrongRequest)).ok === false).to.equal(true);
  });
});

describe("network/peerKey: a persisted libp2p identity", () => {
  it("creates a key file readable by its owner only and loads the same key from it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "versatus-peerkey-")), "nested", "peer.key");
    const created = await loadOrCreatePeerKey(file);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const loaded = await loadOrCreatePeerKey(file);
    expect(loaded).to.deep.equal(created);
    expect(parsePeerKey(readFileSync(file, "utf8")).equals(parsePeerKey(created))).to.equal(true);
  });

  it("refuses a file that holds no key, naming it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "versatus-peerkey-")), "peer.key");
    writeFileSync(file, "0x1234\n");
    const error = await loadOrCreatePeerKey(file).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Error).with.property("message").that.includes(file);
  });
});
