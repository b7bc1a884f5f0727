import { expect } from "chai";
import { Queue } from "bullmq";
import type { Hex } from "viem";
import { QUEUE_PREFIX, jobIds, queueNames } from "../../protocol/queues.ts";
import { connectRedis } from "../../protocol/redis.ts";
import { requestPayouts, waitSettled, type World } from "../e2e/harness.ts";
import { createNodeWorld, operatorAddress, type NodeWorld } from "../node/helpers.ts";
import { startClusterOrSkip, type LocalCluster } from "./localCluster.ts";

/** The harness's request helpers only need the suite and the program id. */
const asWorld = (w: NodeWorld) =>
  ({ a: { suite: w.suite }, programs: { "payout-splitter": w.programId } }) as unknown as World;

/** Operator 1's node runs on the cluster; 2 and 3 on their own Redis databases; 4 is down. */
const CLUSTER_OPERATOR = 1;

/** ResultIngested events per request, read from the chain. */
async function ingestedCounts(world: NodeWorld, ids: Hex[]): Promise<number[]> {
  return Promise.all(
    ids.map(
      async (id) => (await world.suite.ingestor.queryFilter(world.suite.ingestor.filters.ResultIngested(id))).length,
    ),
  );
}

/** How many of `ids` are still open (escrow status 1) on chain. */
async function openCount(world: NodeWorld, ids: Hex[]): Promise<number> {
  const statuses = await Promise.all(ids.map((id) => world.suite.oracle.escrowOf(id)));
  return statuses.filter((e) => Number(e.status) === 1).length;
}

/**
 * An operator's domain on a real six-node Redis Cluster (three masters, one replica each) while
 * the chain, the other operators and the gossip run in-process. Operator 4 is down, so the quorum
 * of three needs operator 1 for every request: each result passes through the cluster's queues.
 */
describe("an operator's domain on Redis Cluster: four flows, a master killed, a full cluster restart", function () {
  this.timeout(300_000);
  let cluster: LocalCluster;
  let world: NodeWorld;

  before(async function () {
    cluster = await startClusterOrSkip(this);
    world = await createNodeWorld();
  });
  afterEach(async () => world?.stopNodes());
  after(async () => {
    await world?.close();
    await cluster?.close();
  });

  const startDomain = async (timing: Record<string, number> = {}) => {
    await world.startNode(CLUSTER_OPERATOR, { redis: cluster.config(), timing });
    await world.startNode(2, { timing });
    await world.startNode(3, { timing });
  };
  const workQueueKey = () => `${QUEUE_PREFIX}:${queueNames.work(operatorAddress(CLUSTER_OPERATOR))}:wait`;

  it("request → compute → collect → post → ingested, with one operator's queues and state on the cluster", async () => {
    await startDomain();
    const ids = await requestPayouts(asWorld(world), 3);
    await waitSettled(asWorld(world), ids, 90_000);
    expect(await ingestedCounts(world, ids)).to.deep.equal(ids.map(() => 1));
    const redis = connectRedis(cluster.config());
    const queue = new Queue(queueNames.work(operatorAddress(CLUSTER_OPERATOR)), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    try {
      for (const id of ids) {
        const job = await queue.getJob(jobIds.work(world.chainId, id, operatorAddress(CLUSTER_OPERATOR)));
        expect(await job?.getState(), `operator ${CLUSTER_OPERATOR}'s work job for ${id} on the cluster`).to.equal(
          "completed",
        );
      }
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it("a master SIGKILLed mid-run: its replica is promoted and every request is ingested exactly once", async () => {
    await cluster.restartEmpty();
    await startDomain();
    const before = await requestPayouts(asWorld(world), 4);
    // the master holding the cluster operator's work queue dies while those requests are in flight
    expect(await openCount(world, before), "requests in flight when the master dies").to.be.greaterThan(0);
    const victim = await cluster.masterOf(workQueueKey());
    const promoted = await cluster.killMaster(victim);
    expect(await cluster.masterOf(workQueueKey()), "the replica now serves the queue's slot").to.equal(promoted);
    const after = await requestPayouts(asWorld(world), 2);
    const ids = [...before, ...after];
    await waitSettled(asWorld(world), ids, 120_000);
    expect(await ingestedCounts(world, ids), "ResultIngested per request").to.deep.equal(ids.map(() => 1));
  });

  it("all six nodes killed and restarted empty: the services reconcile from chain state and finish the open requests", async () => {
    await cluster.restartEmpty();
    await startDomain({ reconcileIntervalMs: 2_000, reconcileGraceMs: 1_000 });
    await cluster.killAll(); // the whole cluster is down while the requests arrive
    const ids = await requestPayouts(asWorld(world), 3);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await openCount(world, ids), "requests open when the cluster comes back").to.equal(ids.length);
    await cluster.restartEmpty(); // every queue, cursor and scheduling state is gone
    await waitSettled(asWorld(world), ids, 150_000);
    expect(await ingestedCounts(world, ids), "ResultIngested per request").to.deep.equal(ids.map(() => 1));
  });
});
