import { expect } from "chai";
import { Queue } from "bullmq";
import type { Hex } from "viem";
import { join } from "node:path";
import { createDaClient } from "../../da/index.ts";
import { QUEUE_PREFIX, jobIds, queueNames } from "../../protocol/queues.ts";
import { deriveQuorum } from "../../protocol/quorum.ts";
import { posterSchedule } from "../../protocol/scheduling.ts";
import { signerRecoveryWorkersForTesting } from "../../protocol/signerRecovery.ts";
import { nextPayoutId, requestPayouts, waitSettled, type World } from "../e2e/harness.ts";
import { OPERATOR_INDICES } from "../helpers/suite.ts";
import { createNodeWorld, operatorAddress, type NodeWorld } from "./helpers.ts";
import { eventually, redisUrl } from "../worker/helpers.ts";
import { NODE_REDIS_DBS } from "./helpers.ts";

/** The harness's request helpers only need the suite and the program id. */
const asWorld = (w: NodeWorld) =>
  ({ a: { suite: w.suite }, programs: { "payout-splitter": w.programId } }) as unknown as World;

const indexOf = (address: string) =>
  OPERATOR_INDICES.find((i) => operatorAddress(i).toLowerCase() === address.toLowerCase())!;

/** Whether operator `index`'s own work queue (in its own Redis) holds a completed job for the request. */
async function computed(world: NodeWorld, index: number, requestId: Hex): Promise<boolean> {
  const db = NODE_REDIS_DBS[OPERATOR_INDICES.indexOf(index)]!;
  const queue = new Queue(queueNames.work(operatorAddress(index)), {
    connection: { url: redisUrl(db) } as never,
    prefix: QUEUE_PREFIX,
  });
  try {
    const job = await queue.getJob(jobIds.work(world.chainId, requestId, operatorAddress(index)));
    return job ? (await job.getState()) === "completed" : false;
  } finally {
    await queue.close();
  }
}

/** The execution record the ingested result points to, read from the posting node's own DA store. */
async function postedRecord(world: NodeWorld, requestId: Hex) {
  const [log] = await world.suite.ingestor.queryFilter(world.suite.ingestor.filters.ResultIngested(requestId));
  const poster = (await world.suite.ethers.provider.getTransaction(log!.transactionHash))!.from;
  const da = createDaClient({ primary: { layer: "local", dir: join(world.dataDir, `da-${indexOf(poster)}`) } });
  try {
    return await da.get((log as unknown as { args: { daPointer: Hex } }).args.daPointer);
  } finally {
    await da.close?.();
  }
}

async function ingestedBy(world: NodeWorld, requestId: Hex): Promise<string[]> {
  const logs = await world.suite.ingestor.queryFilter(world.suite.ingestor.filters.ResultIngested(requestId));
  return Promise.all(
    logs.map(async (l) => (await world.suite.ethers.provider.getTransaction(l.transactionHash))!.from.toLowerCase()),
  );
}

describe("operator nodes: each operator its own Redis, linked only by gossip (in-process chain, real Redis)", function () {
  this.timeout(120_000);
  let world: NodeWorld;
  before(async () => {
    world = await createNodeWorld();
  });
  afterEach(async () => world.stopNodes());
  after(async () => world?.close());

  it("four nodes with separate Redis databases fulfil requests; each computes only its own quorum's work", async () => {
    // No member may be "late" here, however loaded the machine: stealing waits 30 s.
    for (const index of OPERATOR_INDICES)
      await world.startNode(index, { opsServer: index === 1, timing: { stealAfterMs: 30_000 } });
    const ids = await requestPayouts(asWorld(world), 3);
    await waitSettled(asWorld(world), ids, 60_000);
    for (const id of ids) {
      expect(await ingestedBy(world, id)).to.have.length(1);
      const { members, standby } = deriveQuorum({
        chainId: world.chainId,
        requestId: id,
        activeSet: world.activeSet(),
        size: 3,
      });
      for (const m of members) expect(await computed(world, indexOf(m), id), `member ${m}`).to.equal(true);
      // the standby node was not needed: nobody was late
      for (const s of standby) expect(await computed(world, indexOf(s), id), `standby ${s}`).to.equal(false);
    }
    // GET /network: the network's status, the derived quorum and this node's plan per request
    const ops = world.nodes.get(1)!.ops!;
    const status = (await (await fetch(`${ops.url}/network`)).json()) as {
      roles: string[];
      membership: { operators: string[] };
      requests: { requestId: string; members: string[]; plan: { action: string } }[];
      backpressure: { operator: string }[];
    };
    expect(status.roles).to.deep.equal(["relay", "compute", "collect", "post"]);
    expect(status.membership.operators).to.have.length(4);
    const plan = status.requests.find((r) => r.requestId.toLowerCase() === ids[0]!.toLowerCase());
    expect(plan?.members).to.have.length(3);
    expect(status.backpressure.length).to.be.greaterThan(1);
  });

  it("with network.recoveryThreads, gossiped results are checked on recovery threads: requests settle once; stopping the nodes ends the threads", async () => {
    for (const index of OPERATOR_INDICES)
      await world.startNode(index, { recoveryThreads: 2, timing: { stealAfterMs: 30_000 } });
    expect(signerRecoveryWorkersForTesting()).to.have.length(2);
    const ids = await requestPayouts(asWorld(world), 2);
    await waitSettled(asWorld(world), ids, 60_000);
    for (const id of ids) expect(await ingestedBy(world, id)).to.have.length(1);
    await world.stopNodes();
    expect(signerRecoveryWorkersForTesting()).to.have.length(0);
  });

  it("steals the work of a quorum member whose compute role is stopped: the standby computes, the request settles once", async () => {
    const id = await nextPayoutId(asWorld(world));
    const { members, standby } = deriveQuorum({
      chainId: world.chainId,
      requestId: id,
      activeSet: world.activeSet(),
      size: 3,
    });
    const lazy = indexOf(members[0]!);
    for (const index of OPERATOR_INDICES)
      await world.startNode(index, index === lazy ? { roles: ["relay", "collect", "post"] } : {});
    const [requestId] = await requestPayouts(asWorld(world), 1);
    expect(requestId).to.equal(id);
    await waitSettled(asWorld(world), [id], 60_000);
    expect(await ingestedBy(world, id)).to.have.length(1);
    expect(await computed(world, lazy, id)).to.equal(false);
    expect(await computed(world, indexOf(standby[0]!), id), "the standby stole the work").to.equal(true);
    // the record's envelope says who did the work: the stealer took the lazy member's slot
    const record = await postedRecord(world, id);
    const stolen = record.attributions?.find((a) => a.how === "stolen");
    expect(stolen?.operator.toLowerCase()).to.equal(standby[0]!.toLowerCase());
    expect(stolen?.slotOf?.toLowerCase()).to.equal(members[0]!.toLowerCase());
    expect(record.attributions?.filter((a) => a.how === "quorum")).to.have.length(2);
  });

  it("rotates posting per request: with the first poster's post role off, the next one posts after the fallback delay", async () => {
    const id = await nextPayoutId(asWorld(world));
    const order = posterSchedule({
      chainId: world.chainId,
      requestId: id,
      posters: world.activeSet(),
      fallbackDelayMs: 1_500,
    });
    const dead = indexOf(order[0]!.poster);
    for (const index of OPERATOR_INDICES)
      await world.startNode(index, index === dead ? { roles: ["relay", "compute", "collect"] } : {});
    const [requestId] = await requestPayouts(asWorld(world), 1);
    expect(requestId).to.equal(id);
    await waitSettled(asWorld(world), [id], 60_000);
    expect(await ingestedBy(world, id)).to.deep.equal([order[1]!.poster.toLowerCase()]);
  });

  it("one operator's domain split over two nodes (relay+collect+post, compute) on one Redis: its slots are computed there", async () => {
    const id = await nextPayoutId(asWorld(world));
    const { members } = deriveQuorum({ chainId: world.chainId, requestId: id, activeSet: world.activeSet(), size: 3 });
    const split = indexOf(members[0]!);
    for (const index of OPERATOR_INDICES)
      await world.startNode(index, index === split ? { roles: ["relay", "collect", "post"] } : {});
    await world.startNode(split, { roles: ["compute"] });
    const [requestId] = await requestPayouts(asWorld(world), 1);
    expect(requestId).to.equal(id);
    await waitSettled(asWorld(world), [id], 60_000);
    expect(await ingestedBy(world, id)).to.have.length(1);
    // the relay node enqueued on the domain's work queue; the compute-only node ran it
    expect(await computed(world, split, id)).to.equal(true);
    const record = await postedRecord(world, id);
    expect(record.attributions?.map((a) => a.operator.toLowerCase())).to.include(members[0]!.toLowerCase());
  });

  it("close() runs every stop step even when one fails: a network that throws on close leaves nothing running", async () => {
    const node = await world.startNode(1, {
      opsServer: true,
      wrapNetwork: (network) => ({
        ...network,
        close: async () => {
          await network.close();
          throw new Error("network close failed");
        },
      }),
    });
    const url = node.ops!.url;
    await eventually(async () => ((await fetch(`${url}/healthz`)).status === 200 ? true : undefined), "a healthy node");
    await node.close();
    // QUIT was answered; the connection's "end" follows within moments
    await eventually(
      async () => (node.relayer!.redis.status === "end" ? true : undefined),
      "the relay's Redis closed",
      2_000,
    );
    expect(node.worker!.worker.isRunning()).to.equal(false);
    expect(node.ingestor!.collector!.worker.isRunning()).to.equal(false);
    expect(
      await fetch(`${url}/healthz`).then(
        () => "answered",
        () => "closed",
      ),
    ).to.equal("closed");
  });
});
