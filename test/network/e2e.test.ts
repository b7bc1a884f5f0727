import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { devAccount } from "../../deploy/context.ts";
import {
  p2pOf,
  VERSATUS_BIN,
  type ClusterNode,
  type NetworkStatusJson,
  type PeerStatusJson,
} from "../../cli/devnet/cluster.ts";
import { describeGroups, groupsLeftBehind, spawnManaged } from "../../cli/devnet/processes.ts";
import { deriveQuorum } from "../../protocol/quorum.ts";
import { assertSettledOnceAndEscrowExact, nextPayoutId, requestPayouts, waitSettled } from "../e2e/harness.ts";
import { createNetWorld, eventually, FAST_FAULT_TIMING, OUTSIDER, type NetWorld } from "./e2eHarness.ts";

const key = (index: number) => devAccount(index).privateKey as Hex;
const address = (index: number) => devAccount(index).address as Hex;

/** Every node's view of one peer (by peer id), from GET /network. */
async function viewsOf(nodes: ClusterNode[], peerId: string): Promise<(PeerStatusJson | undefined)[]> {
  const statuses = await Promise.all(nodes.map((n) => n.status()));
  return statuses.map((s) => (p2pOf(s).peers ?? []).find((p) => p.peerId === peerId));
}
/** Messages dropped for `reason` (network/ rejects what is wrong for everyone, ignores local verdicts and penalises the sender). */
const dropped = (s: NetworkStatusJson, reason: string) =>
  (p2pOf(s).messages?.rejected[reason] ?? 0) + (p2pOf(s).messages?.ignored[reason] ?? 0);

/**
 * Issue 12 item 6: four operator nodes (`versatus node`, relay + compute + collect + post) as
 * separate processes, each with its own redis-server, linked only by libp2p on loopback; the chain
 * in this process served over HTTP. Quorum 3 of the 4 active operators (threshold 3), so a lost
 * quorum member can only be replaced by the standby stealing its task.
 */
describe("p2p network end to end: four `versatus node` processes linked only by libp2p", function () {
  this.timeout(240_000);
  let net: NetWorld;
  const pids: number[] = [];

  before(async () => {
    net = await createNetWorld({
      overrides: () => ({ timing: FAST_FAULT_TIMING }),
    });
    pids.push(...net.nodes.map((n) => n.process.pid));
  });
  after(async () => {
    await net?.close();
    // every process group started here is gone (nodes, redis-servers, the flooder)
    expect(describeGroups(await groupsLeftBehind(pids)), "process groups left behind").to.deep.equal([]);
  });

  it("every node finds the three others from one bootstrap address, each bound to its operator", async () => {
    await eventually(
      "a full mesh of bound peers",
      async () => {
        for (const node of net.nodes) {
          const peers = (p2pOf(await node.status()).peers ?? []).filter((p) => p.bound);
          const others = net.nodes.filter((n) => n !== node).map((n) => n.operator.toLowerCase());
          const seen = peers.map((p) => p.operator?.toLowerCase());
          if (!others.every((o) => seen.includes(o))) return false;
        }
        return true;
      },
      20_000,
    );
  });

  it("fulfils requests: each settled exactly once, the oracle's balance exact", async () => {
    const ids = await requestPayouts(net.world, 3);
    await waitSettled(net.world, ids, 60_000);
    expect(await assertSettledOnceAndEscrowExact(net.world, ids)).to.deep.equal({ ingested: 3, refunded: 0 });
  });

  it("`versatus network status` shows each node's peers, topics and the quorum of recent requests (tables and --json)", async () => {
    const urls = net.nodes.map((n) => n.opsUrl);
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [VERSATUS_BIN, "network", "status", ...urls.flatMap((u) => ["--node", u]), ...args], {
        encoding: "utf8",
        timeout: 60_000,
      });
    const json = cli(["--json"]);
    expect(json.status, json.stderr).to.equal(0);
    const answers = JSON.parse(json.stdout) as { url: string; status: NetworkStatusJson }[];
    expect(answers.map((a) => a.url)).to.deep.equal(urls);
    for (const a of answers) {
      expect(p2pOf(a.status).peers?.filter((p) => p.bound)).to.have.length(3);
      expect((a.status.requests ?? []).length, "recent requests with their quorum").to.be.greaterThan(0);
    }
    // tables, with one more node that does not answer: the others still shown, exit code 1
    const tables = cli(["--node", "http://127.0.0.1:9"]);
    expect(tables.status, tables.stderr).to.equal(1);
    for (const title of ["Nodes", ": peers", ": topics", ": quorum membership of recent requests", "127.0.0.1:9"])
      expect(tables.stdout).to.include(title);
  });

  it("a quorum member SIGKILLed mid-request: the standby steals its task, nothing is lost, the node rejoins", async () => {
    const requestId = await nextPayoutId(net.world);
    const quorum = deriveQuorum({
      chainId: net.chain.chainId,
      requestId,
      activeSet: [1, 2, 3, 4].map(address),
      size: 3,
    });
    // the bootstrap node when it is a member (the hardest loss: everyone joined through it)
    const members = quorum.members.map((m) => m.toLowerCase());
    const victim = members.includes(net.nodes[0]!.operator.toLowerCase())
      ? net.nodes[0]!
      : net.nodes.find((n) => n.operator.toLowerCase() === members[0])!;
    const standby = net.nodes.find((n) => n.operator.toLowerCase() === quorum.standby[0]!.toLowerCase())!;
    // frozen first, so it cannot have signed yet; killed once the others have the request in hand
    victim.process.pause();
    const ids = await requestPayouts(net.world, 1);
    expect(ids[0]).to.equal(requestId);
    await eventually("the other members have decided on the request", async () => {
      const plans = await Promise.all(net.nodes.filter((n) => n !== victim).map((n) => n.status()));
      return plans.every((s) =>
        ((s.requests ?? []) as { requestId: string }[]).some(
          (p) => p.requestId.toLowerCase() === requestId.toLowerCase(),
        ),
      );
    });
    await victim.kill();
    await waitSettled(net.world, ids, 60_000);
    expect(await assertSettledOnceAndEscrowExact(net.world, ids)).to.deep.equal({ ingested: 1, refunded: 0 });
    const plans = ((await standby.status()).requests ?? []) as { requestId: string; plan?: { action: string } }[];
    const plan = plans.find((p) => p.requestId.toLowerCase() === requestId.toLowerCase());
    expect(plan?.plan?.action, `standby ${standby.spec.name}'s decision`).to.equal("steal");

    await victim.restart();
    pids.push(victim.process.pid);
    await eventually("the restarted node is bound again on every other node", async () => {
      const views = await viewsOf(
        net.nodes.filter((n) => n !== victim),
        victim.peerId,
      );
      return views.every((v) => v?.bound);
    });
    // same peer key file: same peer id after the restart
    expect(p2pOf(await victim.status()).peerId).to.equal(victim.peerId);
    const after = await requestPayouts(net.world, 2);
    await waitSettled(net.world, after, 60_000);
    expect(await assertSettledOnceAndEscrowExact(net.world, after)).to.deep.equal({ ingested: 2, refunded: 0 });
  });

  it("a node whose peer id is not bound to an active operator is ignored: scored down and banned, requests still settle", async () => {
    // a real `versatus node` (relay role: it announces every request it sees) under a funded key
    // that never staked: its binding is valid, its operator is not in the active set
    const outsider = await net.addNode({ name: "outsider", key: key(OUTSIDER), roles: ["relay"] });
    pids.push(outsider.process.pid);
    const ids = await requestPayouts(net.world, 2);
    await waitSettled(net.world, ids, 60_000);
    expect(await assertSettledOnceAndEscrowExact(net.world, ids)).to.deep.equal({ ingested: 2, refunded: 0 });
    // bound to an address outside the active set: every operator it reached drops its messages,
    // sinks its score and bans it (network/: an inactive binding is penalised, then graylisted)
    let seen = "";
    await eventually(
      "every operator that saw the outsider scored it down or banned it",
      async () => {
        const statuses = await Promise.all(net.nodes.slice(0, 4).map((n) => n.status()));
        const verdicts = statuses.map((s) => {
          const p2p = p2pOf(s);
          const view = (p2p.peers ?? []).find((p) => p.peerId === outsider.peerId);
          const banned = (p2p.banned ?? []).some((b) => b.peerId === outsider.peerId);
          return { banned, role: view?.role ?? null, score: view?.score, present: !!view };
        });
        seen = JSON.stringify(verdicts);
        const reached = verdicts.filter((v) => v.banned || v.present);
        return (
          reached.length > 0 && verdicts.every((v) => v.banned || (v.role === null && (v.score ?? 0) < 0) || !v.present)
        );
      },
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; views: ${seen}`);
    });
    // and its role stays empty everywhere: it never counted as an operator
    for (const view of (await viewsOf(net.nodes.slice(0, 4), outsider.peerId)).filter(Boolean))
      expect(view!.role ?? null).to.equal(null);
    await outsider.stop();
  });

  it("a node flooding gossip (well-formed announcements, ten times the per-peer rate) is scored down and cut off", async () => {
    // the flooder is bound to an active operator (dev:4, the key of node-4: a second node of the
    // same operator), so only its rate is wrong
    const config = join(net.dir, "flooder.json");
    writeFileSync(
      config,
      JSON.stringify({
        network: "e2e",
        listen: ["/ip4/127.0.0.1/tcp/0"],
        bootstrap: [net.nodes[0]!.multiaddr],
        chainId: net.chain.chainId,
        oracle: net.chain.oracle,
        ingestor: net.chain.ingestor,
        operators: [1, 2, 3, 4].map(address),
        watchers: [],
        kind: "request",
        ratePerSecond: 2_000,
        floodMs: 2_000,
        startDelayMs: 3_000,
      }),
    );
    const flooder = spawnManaged({
      name: "flooder",
      command: process.execPath,
      args: [new URL("./e2ePeer.ts", import.meta.url).pathname, config],
      logFile: join(net.dir, "flooder", "flooder.log"),
      env: { ...process.env, VERSATUS_OPERATOR_KEY: key(4) },
    });
    pids.push(flooder.pid);
    try {
      const peerId = (JSON.parse(await flooder.waitFor(/"peerId"/, 30_000)) as { peerId: string }).peerId;
      await flooder.waitFor(/"flooded"/, 60_000);
      const honest = net.nodes.slice(0, 4);
      let seen = "";
      const statuses = await eventually(
        "the flooder is scored below zero or banned by every node it reached",
        async () => {
          const all = await Promise.all(honest.map((n) => n.status()));
          const views = all.map((s) => {
            const p2p = p2pOf(s);
            return {
              rateLimited: dropped(s, "rate_limited"),
              banned: (p2p.banned ?? []).some((b) => b.peerId === peerId),
              flooder: (p2p.peers ?? []).find((p) => p.peerId === peerId),
            };
          });
          seen = JSON.stringify(all.map((s, i) => ({ ...views[i], messages: p2pOf(s).messages })));
          const reached = views.filter((v) => v.rateLimited > 0);
          if (reached.length === 0) return false;
          const down = reached.every((v) => v.banned || (v.flooder?.score ?? 0) < 0 || !v.flooder);
          return down ? all : false;
        },
        // a node's ops server answers slowly while it drops thousands of messages on a loaded machine
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; views: ${seen}`);
      });
      expect(statuses.reduce((sum, s) => sum + dropped(s, "rate_limited"), 0)).to.be.greaterThan(0);
      // the honest network keeps working
      const ids = await requestPayouts(net.world, 1);
      await waitSettled(net.world, ids, 60_000);
      expect(await assertSettledOnceAndEscrowExact(net.world, ids)).to.deep.equal({ ingested: 1, refunded: 0 });
    } finally {
      await flooder.stop(3_000);
    }
  });
});
