import { expect } from "chai";
import { Queue, Worker } from "bullmq";
import { STATE_PREFIX, QUEUE_PREFIX, queueNames, redisKeys } from "../../protocol/queues.ts";
import { collectorKeys } from "../../ingestor/keys.ts";
import { connectRedis, type RedisClient } from "../../protocol/redis.ts";
import { z } from "zod";
import { loadConfig, redisSchema, serviceEnvOverrides } from "../../protocol/config.ts";
import { startClusterOrSkip, type LocalCluster } from "./localCluster.ts";

/** The Redis keys BullMQ keeps for one queue (a job id "1" stands for every job's hash and lock). */
const bullKeys = (name: string) =>
  [
    "wait",
    "active",
    "delayed",
    "prioritized",
    "completed",
    "failed",
    "meta",
    "events",
    "id",
    "stalled",
    "marker",
    "1",
    "1:lock",
  ].map((suffix) => `${QUEUE_PREFIX}:${name}:${suffix}`);

describe("Redis Cluster key layout (a real six-node local cluster)", function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let redis: RedisClient;

  before(async function () {
    cluster = await startClusterOrSkip(this);
    redis = connectRedis(cluster.config());
  });
  after(async () => {
    redis?.disconnect();
    await cluster?.close();
  });

  it("puts every key of one queue in one slot", async () => {
    for (const name of [
      queueNames.work("0xAbC0000000000000000000000000000000000001"),
      queueNames.results,
      queueNames.post(31337),
    ]) {
      const slots = new Set(await Promise.all(bullKeys(name).map((k) => cluster.keyslot(k))));
      expect([...slots], name).to.have.length(1);
    }
  });

  it("spreads different chains' post queues and different operators' work queues over different slots and masters", async () => {
    const chains = [1, 10, 137, 8453, 42161, 31337];
    const postSlots = await Promise.all(
      chains.map((c) => cluster.keyslot(`${QUEUE_PREFIX}:${queueNames.post(c)}:wait`)),
    );
    expect(new Set(postSlots).size, "post queue slots").to.equal(chains.length);
    const masters = await Promise.all(
      chains.map((c) => cluster.masterOf(`${QUEUE_PREFIX}:${queueNames.post(c)}:wait`)),
    );
    expect(new Set(masters).size, "masters serving the post queues").to.be.greaterThan(1);
    const operators = ["0x1", "0x2", "0x3", "0x4"].map((o) => o.padEnd(42, "0"));
    const workSlots = await Promise.all(
      operators.map((o) => cluster.keyslot(`${QUEUE_PREFIX}:${queueNames.work(o)}:wait`)),
    );
    expect(new Set(workSlots).size, "work queue slots").to.equal(operators.length);
  });

  it("keeps every plain key a MULTI or script joins in the one state slot", async () => {
    const chain = 31337;
    const id = `0x${"ab".repeat(32)}`;
    const keys = [
      redisKeys.request(chain, id),
      redisKeys.schedule,
      redisKeys.done(chain, id),
      redisKeys.signers(chain, id),
      redisKeys.cursor(chain),
      redisKeys.operators,
      redisKeys.requests,
      collectorKeys.quorum(String(chain), id),
      collectorKeys.done(String(chain), id),
      collectorKeys.lock(String(chain), id),
    ];
    const slots = new Set(await Promise.all(keys.map((k) => cluster.keyslot(k))));
    expect([...slots]).to.deep.equal([await cluster.keyslot(`${STATE_PREFIX}:anything`)]);
    // and a MULTI over them runs on the cluster (CROSSSLOT otherwise)
    const replies = await redis.multi().hset(keys[0]!, "job", "{}").zadd(keys[1]!, 1, "m").sadd(keys[2]!, "op").exec();
    expect(replies!.map(([error]) => error)).to.deep.equal([null, null, null]);
  });

  it("runs BullMQ jobs on every queue family through the cluster client", async () => {
    const names = [
      queueNames.work("0x".padEnd(42, "7")),
      queueNames.results,
      queueNames.post(10),
      queueNames.post(137),
    ];
    const seen: string[] = [];
    const workers = names.map(
      (name) =>
        new Worker(name, async (job) => void seen.push(`${name}/${job.id}`), {
          connection: redis,
          prefix: QUEUE_PREFIX,
        }),
    );
    const queues = names.map((name) => new Queue(name, { connection: redis, prefix: QUEUE_PREFIX }));
    try {
      for (const q of queues) await q.add("j", { n: 1 }, { jobId: "a:b:c" });
      const deadline = Date.now() + 20_000;
      while (seen.length < names.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(seen.sort()).to.deep.equal(names.map((n) => `${n}/a:b:c`).sort());
    } finally {
      await Promise.all([...workers, ...queues].map((c) => c.close()));
    }
  });
});

describe("the redis config of every service (protocol/config.ts redisSchema)", () => {
  const schema = z.object({ redis: redisSchema.prefault({}) });
  const load = (raw: unknown, env: NodeJS.ProcessEnv = {}) =>
    loadConfig(schema, { raw, envOverrides: serviceEnvOverrides(env, "TEST_HTTP_PORT") }).redis;

  it("takes one url (the default) or a cluster's seed nodes", () => {
    expect(load({})).to.deep.equal({ url: "redis://127.0.0.1:6379" });
    expect(load({}, { REDIS_URL: "redis://10.0.0.2:6380/3" })).to.deep.equal({ url: "redis://10.0.0.2:6380/3" });
    expect(load({ redis: { cluster: { nodes: ["redis://10.0.0.1:7000", "redis://10.0.0.1:7001"] } } })).to.deep.equal({
      cluster: { nodes: ["redis://10.0.0.1:7000", "redis://10.0.0.1:7001"], slotsRefreshIntervalMs: 5_000 },
    });
  });

  it("refuses a cluster without seed nodes, with a url besides, or with a node of another scheme or credentials", () => {
    expect(() => load({ redis: { cluster: { nodes: [] } } })).to.throw(/redis\.cluster\.nodes.*at least one seed node/);
    expect(() =>
      load({ redis: { cluster: { nodes: ["redis://10.0.0.1:7000"] } } }, { REDIS_URL: "redis://h:1" }),
    ).to.throw(/redis\.cluster.*either redis\.url or redis\.cluster/);
    expect(() => load({ redis: { cluster: { nodes: ["http://x:1"] } } })).to.throw(/redis\.cluster\.nodes\.0/);
    expect(() => load({ redis: { cluster: { nodes: ["redis://:a@x:1", "redis://:b@x:2"] } } })).to.throw(
      /redis\.cluster\.nodes\.1.*credentials of the first/,
    );
  });
});
