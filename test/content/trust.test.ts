import { expect } from "chai";
import pino from "pino";
import { operatorPeers } from "../../cli/node/content.ts";
import { startContentPeer, stopContentPeer, type ContentPeer } from "./peers.ts";

const log = pino({ level: process.env.CONTENT_TEST_LOG ?? "silent" });
const NETWORK = "contenttrusttest";

describe("content trust: holdings reports count only from peers bound to active operators", function () {
  this.timeout(60_000);

  describe("operatorPeers (network/'s bindings as the trust rule)", () => {
    const status = (peers: { peerId: string; bound: boolean; role: "operator" | "watcher" | null }[]) => ({
      network: "n",
      peers: peers.map((p) => ({ ...p, operator: null, score: 0, addrs: [] })),
    });

    it("believes a bound active operator, not a watcher, an unbound peer or a stranger", () => {
      const trusted = operatorPeers(
        () =>
          status([
            { peerId: "op", bound: true, role: "operator" },
            { peerId: "watcher", bound: true, role: "watcher" },
            { peerId: "unbound", bound: false, role: null },
            { peerId: "retired", bound: true, role: null },
          ]),
        1_000,
      );
      expect(["op", "watcher", "unbound", "retired", "stranger"].map(trusted)).to.deep.equal([
        true,
        false,
        false,
        false,
        false,
      ]);
    });

    it("reads the network's status at most once per period, so a new binding counts after it", async () => {
      let reads = 0;
      let bound = false;
      const trusted = operatorPeers(() => {
        reads++;
        return status([{ peerId: "late", bound, role: bound ? "operator" : null }]);
      }, 100);
      expect(trusted("late")).to.equal(false);
      bound = true;
      expect(trusted("late")).to.equal(false);
      expect(reads).to.equal(1);
      await new Promise((r) => setTimeout(r, 120));
      expect(trusted("late")).to.equal(true);
      expect(reads).to.equal(2);
    });

    it("believes nobody when the status carries no bindings, and warns once naming the field", () => {
      const warnings: unknown[] = [];
      const trusted = operatorPeers(() => ({ peers: [{ peerId: "x", operator: "0x1" }] }), 0, {
        warn: (...args: unknown[]) => void warnings.push(args),
      } as never);
      expect(trusted("x")).to.equal(false);
      expect(trusted("x")).to.equal(false);
      expect(warnings).to.have.length(1);
      expect(JSON.stringify(warnings[0])).to.include("peers.0.bound");
    });
  });

  describe("a content node with isTrusted over real libp2p", () => {
    type Peer = ContentPeer;
    const peers: Peer[] = [];

    async function peer(isTrusted?: (peerId: string) => boolean): Promise<Peer> {
      return await startContentPeer(peers, {
        network: NETWORK,
        persist: true,
        // Every persist node is a holder of everything: a believed report makes the asker fetch.
        replicas: 3,
        rotationMs: 600_000,
        reportIntervalMs: 200,
        fetchTimeoutMs: 3_000,
        log,
        ...(isTrusted ? { isTrusted } : {}),
      });
    }

    after(async () => {
      for (const p of peers) await stopContentPeer(p);
    });

    it("ignores an unbound peer's report: not in the persist set, its resources never fetched", async () => {
      // Two bound operators that believe only each other, and an unbound peer that believes anyone.
      const bound = new Set<string>();
      const operator = await peer((peerId) => bound.has(peerId));
      const unbound = await peer();
      const node = await peer((peerId) => bound.has(peerId));
      bound.add(operator.content.peerId).add(node.content.peerId);
      const fromOperator = await operator.content.addRaw(Buffer.from("held by a bound operator"));
      const fromUnbound = await unbound.content.addRaw(Buffer.from("claimed by an unbound peer"));
      const end = Date.now() + 20_000;
      while (!node.content.holds(fromOperator) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      // The operator's report moved placement (the node fetched what it holds) ...
      expect(node.content.holds(fromOperator)).to.equal(true);
      // ... over several more rounds, the unbound peer's never did.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(node.content.holds(fromUnbound)).to.equal(false);
      const status = node.content.status();
      expect(status.persistNodes).to.include(operator.content.peerId);
      expect(status.persistNodes).to.not.include(unbound.content.peerId);
      expect(status.peers.map((p) => p.peerId)).to.not.include(unbound.content.peerId);
      expect(node.content.blockCandidates(fromUnbound.toString())).to.deep.equal([operator.content.peerId]);
      // The unbound peer itself, trusting all, does believe the node and the operator.
      expect(unbound.content.status().persistNodes).to.include(node.content.peerId);
    });
  });
});
