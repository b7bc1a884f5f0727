import { expect } from "chai";
import type { Hex } from "viem";
import { devAccount } from "../../deploy/context.ts";
import { p2pOf } from "../../cli/devnet/cluster.ts";
import { describeGroups, groupsLeftBehind } from "../../cli/devnet/processes.ts";
import { deriveQuorum } from "../../protocol/quorum.ts";
import { assertSettledOnceAndEscrowExact, nextPayoutId, requestPayouts, waitSettled } from "../e2e/harness.ts";
import {
  createNetWorld,
  eventually,
  leftoverInterfaces,
  namespacesUnavailable,
  type Namespaces,
  type NetWorld,
  FAST_FAULT_TIMING,
} from "./e2eHarness.ts";

const address = (index: number) => devAccount(index).address as Hex;

/**
 * Issue 12 item 6, multi-host: each of the four nodes runs in its own network namespace on its own
 * address, its only interface a veth into a bridge of the root namespace, where the chain's RPC
 * and the nodes' redis-servers listen on the bridge address. Gossip between nodes really crosses
 * the interfaces (counted on the veths); a partition is the node's link going down. The test makes
 * the namespaces itself (root needed) and removes them after, also when it fails.
 */
describe("p2p network across network namespaces: four hosts on a bridge", function () {
  this.timeout(240_000);
  const unavailable = namespacesUnavailable();
  let net: NetWorld;
  let ns: Namespaces;
  const pids: number[] = [];

  before(async function () {
    if (unavailable) {
      console.log(`    skipped: ${unavailable}`);
      this.skip();
    }
    net = await createNetWorld({
      namespaces: true,
      overrides: () => ({ timing: FAST_FAULT_TIMING }),
    });
    ns = net.namespaces!;
    pids.push(...net.nodes.map((n) => n.process.pid));
  });
  after(async () => {
    if (!net) return;
    await net.close();
    expect(describeGroups(await groupsLeftBehind(pids)), "process groups left behind").to.deep.equal([]);
    expect(leftoverInterfaces(ns), "namespaces and interfaces left behind").to.deep.equal([]);
  });

  it("each node listens on its own host's address, finds the others there, and their traffic crosses the veths", async () => {
    await eventually("every node bound to the three others, at their namespace addresses", async () => {
      for (const [i, node] of net.nodes.entries()) {
        const status = p2pOf(await node.status());
        expect(status.addresses?.some((a) => a.startsWith(`/ip4/${ns.addresses[i]}/`))).to.equal(true);
        const bound = (status.peers ?? []).filter((p) => p.bound);
        if (bound.length < 3) return false;
        for (const peer of bound) {
          const j = net.nodes.findIndex((n) => n.peerId === peer.peerId);
          if (j < 0 || !peer.addrs?.some((a) => a.includes(`/ip4/${ns.addresses[j]}/`))) return false;
        }
      }
      return true;
    });
    const before = net.nodes.map((_, i) => ns.bytes(i));
    const ids = await requestPayouts(net.world, 2);
    await waitSettled(net.world, ids, 60_000);
    expect(await assertSettledOnceAndEscrowExact(net.world, ids)).to.deep.equal({ ingested: 2, refunded: 0 });
    for (const [i] of net.nodes.entries()) {
      const after = ns.bytes(i);
      expect(after.rx - before[i]!.rx, `bytes from ${ns.names[i]}`).to.be.greaterThan(1_000);
      expect(after.tx - before[i]!.tx, `bytes to ${ns.names[i]}`).to.be.greaterThan(1_000);
    }
  });

  it("a quorum member partitioned (link down) misses nothing: the standby steals; healed, it rejoins and serves again", async () => {
    const requestId = await nextPayoutId(net.world);
    const quorum = deriveQuorum({
      chainId: net.chain.chainId,
      requestId,
      activeSet: [1, 2, 3, 4].map(address),
      size: 3,
    });
    const i = net.nodes.findIndex((n) => n.operator.toLowerCase() === quorum.members[0]!.toLowerCase());
    const victim = net.nodes[i]!;
    const others = net.nodes.filter((n) => n !== victim);
    ns.link(i, false);
    try {
      const ids = await requestPayouts(net.world, 1);
      await waitSettled(net.world, ids, 60_000);
      expect(await assertSettledOnceAndEscrowExact(net.world, ids)).to.deep.equal({ ingested: 1, refunded: 0 });
      // cut off: it can answer nobody while the link is down
      const reachable = await victim.status().then(
        () => true,
        () => false,
      );
      expect(reachable, "the partitioned node's ops server").to.equal(false);
    } finally {
      ns.link(i, true);
    }
    await eventually(
      "the healed node is connected and bound to the three others again",
      async () => {
        const bound = (p2pOf(await victim.status()).peers ?? []).filter((p) => p.bound);
        const views = await Promise.all(others.map((n) => n.status()));
        return (
          bound.length >= 3 &&
          views.every((s) => (p2pOf(s).peers ?? []).some((p) => p.peerId === victim.peerId && p.bound))
        );
      },
      45_000,
    );
    // and it works again: a request whose quorum includes it settles
    const ids = await requestPayouts(net.world, 2);
    await waitSettled(net.world, ids, 60_000);
    expect(await assertSettledOnceAndEscrowExact(net.world, ids)).to.deep.equal({ ingested: 2, refunded: 0 });
  });
});
