import { expect } from "chai";
import { Registry } from "prom-client";
import type { Address } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { createVersatusLibp2p, type VersatusLibp2p } from "../../network/libp2pNode.ts";
import {
  generatePeerKey,
  parsePeerKey,
  startOperatorNetwork,
  type BackpressureReportMessage,
  type OperatorNetwork,
  type OperatorNetworkOptions,
  type PeerInfo,
  type RequestAnnouncement,
} from "../../network/index.ts";
import { gossipTopics, requestAnnouncementCodec } from "../../protocol/gossip.ts";
import type { ResultJob } from "../../protocol/jobs.ts";
import { accounts, CHAIN, eventually, requestId, signedResult, sleep } from "./p2pHelpers.ts";

/**
 * Real libp2p nodes on loopback, in this process: discovery through a bootstrap node, bindings,
 * the three kinds of traffic, and what happens to peers that must not take part.
 */

const GOOD_SIGNATURE = `0x${"11".repeat(65)}` as const;
/** Stand-in for protocol/scheduling.ts's check (owned by "sched"): accepts one fixed signature. */
const stubVerify = async (r: { signature: string }) =>
  r.signature === GOOD_SIGNATURE ? ({ ok: true } as const) : ({ ok: false, reason: "bad_signature" } as const);

function announcement(n: number): RequestAnnouncement {
  return {
    chainId: String(CHAIN),
    requestId: requestId(n),
    blockNumber: String(n),
    blockHash: requestId(n + 1000),
    txHash: requestId(n + 2000),
    logIndex: 0,
  };
}

function report(operator: Address, depth: number): BackpressureReportMessage {
  return {
    operator,
    depth,
    capacity: 4,
    kinds: ["execute"],
    programs: null,
    issuedAt: Date.now(),
    signature: GOOD_SIGNATURE,
  };
}

describe("network: operators gossip over libp2p (real nodes on loopback)", function () {
  this.timeout(90_000);

  const opened: { close(): Promise<void> }[] = [];
  const libp2ps: VersatusLibp2p[] = [];
  let active: { operators: Address[]; watchers: Address[] };

  const start = async (
    account: PrivateKeyAccount,
    bootstrap: string[],
    extra: Partial<OperatorNetworkOptions> = {},
  ) => {
    const net = await startOperatorNetwork({
      network: "testnet",
      account,
      listen: ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws"],
      bootstrap,
      chains: [CHAIN],
      membership: async () => active,
      verify: { backpressure: stubVerify, share: stubVerify },
      limits: { bindingGraceMs: 1_000, banMs: 60_000 },
      timing: { heartbeatMs: 100, maintenanceMs: 200, membershipRefreshMs: 500, bindingRepublishMs: 1_000 },
      ...extra,
    });
    opened.push(net);
    return net;
  };
  const tcpAddress = (net: OperatorNetwork) => net.addresses().find((a) => a.includes("/tcp/") && !a.includes("/ws"))!;

  /** Nodes 1..n-1 bootstrap from node 0 and must find each other (DHT, discovery). */
  const startMesh = async (members: PrivateKeyAccount[], extra: Partial<OperatorNetworkOptions> = {}) => {
    const first = await start(members[0]!, [], extra);
    const rest = await Promise.all(members.slice(1).map((a) => start(a, [tcpAddress(first)], extra)));
    const nets = [first, ...rest];
    await eventually(
      () => nets.every((net) => net.status().peers.filter((p) => p.bound).length >= nets.length - 1),
      "every node bound to every other",
    );
    const requests = gossipTopics("testnet").requests(CHAIN);
    await eventually(
      () => nets.every((net) => net.status().topics.find((t) => t.topic === requests)!.peers >= nets.length - 1),
      "every node sees every other on the requests topic",
    );
    return nets;
  };

  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((n) => n.close()));
    await Promise.allSettled(libp2ps.splice(0).map((n) => n.stop()));
  });

  it("four nodes discover each other from one bootstrap node and exchange announcements, results and backpressure", async () => {
    const members = accounts(4);
    active = { operators: members.map((a) => a.address), watchers: [] };
    const nets = await startMesh(members);
    // Node 3 never dialled node 1: the DHT / discovery found it.
    expect(nets[3]!.status().peers.map((p) => p.peerId)).to.include(nets[1]!.peerId);

    const requests: [RequestAnnouncement, PeerInfo][][] = nets.map(() => []);
    const results: ResultJob[][] = nets.map(() => []);
    const reports: BackpressureReportMessage[][] = nets.map(() => []);
    nets.forEach((net, i) => {
      net.onRequest((a, from) => requests[i]!.push([a, from]));
      net.onResult((r) => results[i]!.push(r));
      net.onBackpressure((r) => reports[i]!.push(r));
    });

    await nets[1]!.announceRequest(announcement(1));
    await eventually(() => [0, 2, 3].every((i) => requests[i]!.length === 1), "the announcement everywhere");
    expect(requests[0]![0]![1]).to.deep.equal({ peerId: nets[1]!.peerId, operator: members[1]!.address });
    expect(requests[1]).to.have.length(0); // no self-delivery

    // Results reach those who watch the request (and only them).
    const id = requestId(7);
    nets[0]!.watchResults(CHAIN, id);
    nets[2]!.watchResults(CHAIN, id);
    await nets[3]!.publishResult(await signedResult(members[3]!, id));
    await eventually(() => results[0]!.length === 1 && results[2]!.length === 1, "the result at the watchers");
    expect(results[0]![0]!.requestId).to.equal(id);
    await sleep(300);
    expect(results[1]).to.have.length(0);

    await nets[2]!.publishBackpressure(report(members[2]!.address, 9));
    await eventually(() => [0, 1, 3].every((i) => reports[i]!.length === 1), "the report everywhere");
    expect(nets[0]!.status().lastReports.map((r) => r.depth)).to.deep.equal([9]);

    // A node publishes only for its own operator.
    const refused = await nets[0]!.publishResult(await signedResult(members[1]!, id)).catch((e: Error) => e);
    expect(refused)
      .to.be.instanceOf(Error)
      .with.property("message")
      .that.matches(/operator/);
  });

  it("drops what an unbound peer and a peer bound to an inactive address send, and scores them down", async () => {
    const members = accounts(3);
    const [outsider] = accounts(1);
    active = { operators: members.map((a) => a.address), watchers: [] };
    const nets = await startMesh(members, { limits: { bindingGraceMs: 60_000, bindingWaitMs: 200 } });
    const seen: RequestAnnouncement[] = [];
    nets[0]!.onRequest((a) => seen.push(a));

    // A bare libp2p node that never sends a binding.
    const bare = await createVersatusLibp2p({
      network: "testnet",
      privateKey: parsePeerKey(await generatePeerKey()),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      bootstrap: [],
      gossip: { heartbeatInterval: 100 },
      isBanned: () => false,
      maxConnections: 8,
    });
    libp2ps.push(bare);
    const topic = gossipTopics("testnet").requests(CHAIN);
    bare.services.pubsub.subscribe(topic);
    await bare.dial(nets[0]!.libp2p.getMultiaddrs()[0]!);
    // A real node whose operator is not in the active set.
    const inactive = await start(outsider!, [tcpAddress(nets[0]!)]);
    await eventually(
      () => nets[0]!.libp2p.services.pubsub.getSubscribers(topic).some((p) => p.equals(bare.peerId)),
      "the bare node subscribed",
    );
    await eventually(
      () => bare.services.pubsub.getSubscribers(topic).some((p) => p.equals(nets[0]!.libp2p.peerId)),
      "the bare node sees node 0 on the topic",
    );
    for (let n = 0; n < 4; n++) {
      await bare.services.pubsub.publish(topic, requestAnnouncementCodec.encode(announcement(100 + n)));
      await inactive.announceRequest(announcement(200 + n));
    }
    await eventually(() => (nets[0]!.status().messages.ignored.unbound ?? 0) >= 2, "unbound messages rejected");
    await eventually(
      () => nets[0]!.libp2p.services.pubsub.getScore(bare.peerId.toString()) < 0,
      "a negative score for the bare node",
    );
    // The inactive operator's binding sinks its score below the graylist at once: it is
    // disconnected and refused for `banMs`, whatever it sends.
    await eventually(
      () => nets[0]!.status().banned.some((b) => b.peerId === inactive.peerId),
      "the inactive node banned",
    );
    expect(nets[0]!.libp2p.services.pubsub.getScore(inactive.peerId)).to.be.lessThan(0);
    await eventually(
      () => nets[0]!.libp2p.getConnections(inactive.libp2p.peerId).length === 0,
      "the inactive node disconnected",
    );
    // Honest traffic still flows, and nothing of theirs was delivered.
    await nets[1]!.announceRequest(announcement(1));
    await eventually(() => seen.length === 1, "the honest announcement");
    await sleep(300);
    expect(seen.map((a) => a.requestId)).to.deep.equal([requestId(1)]);
  });

  it("rejects a flooding peer past its rate while honest traffic still flows", async () => {
    const members = accounts(4);
    active = { operators: members.map((a) => a.address), watchers: [] };
    const nets = await startMesh(members, {
      limits: { messagesPerSecondPerPeer: 20, burstPerPeer: 20, bindingGraceMs: 1_000 },
    });
    const flooder = nets[3]!;
    const reports: BackpressureReportMessage[] = [];
    nets[0]!.onBackpressure((r) => reports.push(r));
    const flood = Array.from({ length: 300 }, (_, n) => flooder.publishBackpressure(report(members[3]!.address, n)));
    await Promise.all(flood);
    await eventually(() => (nets[0]!.status().messages.ignored.rate_limited ?? 0) > 0, "flood rejected");
    const fromFlooder = reports.length;
    expect(fromFlooder).to.be.lessThan(100);
    expect(nets[0]!.libp2p.services.pubsub.getScore(flooder.peerId)).to.be.lessThan(0);
    await nets[1]!.publishBackpressure(report(members[1]!.address, 1));
    await eventually(() => reports.some((r) => r.operator === members[1]!.address), "the honest report");
    await eventually(() => nets[0]!.status().banned.some((b) => b.peerId === flooder.peerId), "the flooder banned");
    // Honest peers keep a non-negative score at the node that saw the flood.
    for (const honest of [nets[1]!, nets[2]!]) {
      expect(nets[0]!.libp2p.services.pubsub.getScore(honest.peerId)).to.be.at.least(0);
    }
  });

  it("ignores backpressure whose signature the scheduling check refuses (and counts it in the metrics)", async () => {
    const members = accounts(2);
    active = { operators: members.map((a) => a.address), watchers: [] };
    const registry = new Registry();
    const first = await start(members[0]!, [], { registry });
    const nets = [first, await start(members[1]!, [tcpAddress(first)])];
    await eventually(() => nets.every((n) => n.status().peers.some((p) => p.bound)), "both bound");
    const backpressure = gossipTopics("testnet").backpressure;
    await eventually(
      () => nets.every((n) => n.status().topics.find((t) => t.topic === backpressure)!.peers === 1),
      "both on the backpressure topic",
    );
    const reports: BackpressureReportMessage[] = [];
    nets[0]!.onBackpressure((r) => reports.push(r));
    await nets[1]!.publishBackpressure({ ...report(members[1]!.address, 3), signature: `0x${"22".repeat(65)}` });
    await nets[1]!.publishBackpressure(report(members[1]!.address, 4));
    await eventually(() => reports.length === 1, "the good report");
    expect(reports[0]!.depth).to.equal(4);
    expect(nets[0]!.status().messages.rejected.bad_signature).to.equal(1);
    const text = await registry.metrics();
    expect(text).to.match(
      /versatus_network_messages_total\{kind="backpressure",verdict="reject",reason="bad_signature"\} 1/,
    );
    expect(text).to.match(/versatus_network_messages_total\{kind="backpressure",verdict="accept",reason=""\} 1/);
  });

  it("rejects a result whose signature does not recover to its operator, and never delivers it", async () => {
    const members = accounts(3);
    const [outsider] = accounts(1);
    active = { operators: members.map((a) => a.address), watchers: [] };
    const nets = await startMesh(members);
    const results: ResultJob[] = [];
    nets[0]!.onResult((r) => results.push(r));
    const id = requestId(11);
    nets[0]!.watchResults(CHAIN, id);
    // Signed by another key, claimed by node 1's operator.
    const forged = { ...(await signedResult(outsider!, id)), operator: members[1]!.address };
    await nets[1]!.publishResult(forged);
    await eventually(
      () => (nets[0]!.status().messages.rejected.bad_signature ?? 0) === 1,
      "the forged result rejected",
    );
    await nets[2]!.publishResult(await signedResult(members[2]!, id));
    await eventually(() => results.length === 1, "the honest result");
    expect(results[0]!.operator).to.equal(members[2]!.address);
  });

  it("a restarted bootstrap node (same key and port, no bootstrap list of its own) is rejoined by its well-connected peers", async () => {
    const members = accounts(3);
    active = { operators: members.map((m) => m.address), watchers: [] };
    const peerKey = await generatePeerKey();
    let first = await start(members[0]!, [], { peerKey, listen: ["/ip4/127.0.0.1/tcp/0"] });
    const firstAddress = tcpAddress(first);
    const rest = await Promise.all(members.slice(1).map((a) => start(a, [firstAddress])));
    await eventually(() => rest.every((n) => n.status().peers.filter((p) => p.bound).length >= 2), "a mesh of three");
    await first.close();
    await eventually(
      () => rest.every((n) => !n.status().peers.some((p) => p.peerId === first.peerId)),
      "the bootstrap node gone",
    );
    const port = firstAddress.split("/")[4]!;
    first = await start(members[0]!, [], { peerKey, listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    await eventually(
      () => first.status().peers.filter((p) => p.bound).length >= 2,
      "the restarted bootstrap node rejoined by both",
    );
  });

  it("closes cleanly: every step runs, twice is harmless, nothing keeps the process alive", async () => {
    const members = accounts(2);
    active = { operators: members.map((a) => a.address), watchers: [] };
    const nets = await startMesh(members);
    await Promise.all(nets.map((n) => n.close()));
    await nets[0]!.close();
    expect(nets[0]!.libp2p.status).to.equal("stopped");
    const refused = await nets[0]!.announceRequest(announcement(1)).catch((e: Error) => e);
    expect(refused).to.be.instanceOf(Error).with.property("message").that.matches(/close/);
    // Active handles left by libp2p would keep mocha (and the e2e processes) alive.
    const handles = (
      process as unknown as { _getActiveHandles(): { constructor: { name: string }; localPort?: number }[] }
    )
      ._getActiveHandles()
      .filter((h) => h.constructor.name === "Server" || h.constructor.name === "Socket");
    const ports = nets.flatMap((n) => n.addresses().map((a) => Number(a.split("/")[4])));
    expect(handles.filter((h) => h.localPort !== undefined && ports.includes(h.localPort))).to.deep.equal([]);
  });
});
