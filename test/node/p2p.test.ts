import { expect } from "chai";
import { deriveQuorum } from "../../protocol/quorum.ts";
import type { NodeRole } from "../../cli/node/config.ts";
import { nextPayoutId, requestPayouts, waitSettled, type World } from "../e2e/harness.ts";
import { OPERATOR_INDICES } from "../helpers/suite.ts";
import { eventually } from "../worker/helpers.ts";
import { createNodeWorld, operatorAddress, type NodeWorld } from "./helpers.ts";

const asWorld = (w: NodeWorld) =>
  ({ a: { suite: w.suite }, programs: { "payout-splitter": w.programId } }) as unknown as World;

describe("operator nodes over real libp2p on loopback (one process, separate Redis databases)", function () {
  this.timeout(180_000);
  let world: NodeWorld;
  before(async () => {
    world = await createNodeWorld();
  });
  after(async () => world?.close());

  it("four nodes bootstrapping from the first settle requests; the slot of a member without compute is stolen", async () => {
    const next = await nextPayoutId(asWorld(world));
    const { members, standby } = deriveQuorum({
      chainId: world.chainId,
      requestId: next,
      activeSet: world.activeSet(),
      size: 3,
    });
    const lazy = OPERATOR_INDICES.find((i) => operatorAddress(i).toLowerCase() === members[0]!.toLowerCase())!;
    const lazyRoles = { roles: ["relay", "collect", "post"] as NodeRole[] };
    const [head, ...rest] = [lazy, ...OPERATOR_INDICES.filter((i) => i !== lazy)];
    const first = await world.startNode(head!, { p2p: { bootstrap: [] }, opsServer: true, ...lazyRoles });
    const bootstrap = first.network.addresses().filter((a) => a.includes("/tcp/"));
    for (const index of rest) await world.startNode(index, { p2p: { bootstrap } });
    // every node sees the three others bound (the membership is the chain's active set)
    await eventually(
      async () => {
        const status = (await (await fetch(`${first.ops!.url}/network`)).json()) as {
          network: { peers: { bound: boolean; operator: string | null }[] };
        };
        return status.network.peers.filter((p) => p.bound).length >= 3 ? true : undefined;
      },
      "three bound peers",
      30_000,
    );
    const ids = await requestPayouts(asWorld(world), 3);
    expect(ids[0]).to.equal(next);
    await waitSettled(asWorld(world), ids, 90_000);
    for (const id of ids) {
      const logs = await world.suite.ingestor.queryFilter(world.suite.ingestor.filters.ResultIngested(id));
      expect(logs).to.have.length(1);
    }
    const status = (await (await fetch(`${first.ops!.url}/network`)).json()) as {
      requests: { requestId: string }[];
      backpressure: { operator: string }[];
    };
    expect(status.requests.map((r) => r.requestId.toLowerCase())).to.include.members(ids.map((i) => i.toLowerCase()));
    expect(new Set(status.backpressure.map((r) => r.operator.toLowerCase())).size).to.be.greaterThan(1);
    // the lazy member (no compute role) decided to compute its slot; the first standby stole it
    const plan = status.requests.find((r) => r.requestId.toLowerCase() === next.toLowerCase()) as unknown as {
      acted: string;
    };
    expect(plan.acted).to.equal("compute");
    const stealer = world.nodes.get(
      OPERATOR_INDICES.find((i) => operatorAddress(i).toLowerCase() === standby[0]!.toLowerCase())!,
    )!;
    const stealerPlan = (stealer.status().requests as { requestId: string; acted: string | null }[]).find(
      (r) => r.requestId.toLowerCase() === next.toLowerCase(),
    );
    expect(stealerPlan?.acted).to.equal("steal");
  });
});
