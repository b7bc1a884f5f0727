import { expect } from "chai";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { createPublicClient } from "viem";
import { loadIngestorConfig, startIngestor, type IngestorHandle } from "../../ingestor/index.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import { loadRelayerConfig, startRelayer, type RelayerHandle } from "../../relayer/index.ts";
import { requestPayouts, type World } from "../e2e/harness.ts";
import { eventually, redisUrl } from "../worker/helpers.ts";
import { createNodeWorld, STANDALONE_REDIS_DB, type NodeWorld } from "./helpers.ts";

const silent = pino({ level: "silent" });

describe("standalone services of one domain reconcile from chain state (separate handles, one Redis)", function () {
  this.timeout(120_000);
  let world: NodeWorld;
  let redis: Redis;
  let relayer: RelayerHandle | undefined;
  let ingestor: IngestorHandle | undefined;
  const url = redisUrl(STANDALONE_REDIS_DB);

  before(async () => {
    world = await createNodeWorld();
    redis = new Redis(url, { maxRetriesPerRequest: null });
  });
  beforeEach(async () => redis.flushdb());
  afterEach(async () => {
    await ingestor?.close();
    await relayer?.close();
    ingestor = relayer = undefined;
  });
  after(async () => {
    await redis.flushdb();
    await redis.quit();
    await world?.close();
  });

  const chain = () => ({
    chainId: world.chainId,
    rpcUrl: "http://in-process.invalid",
    oracle: world.suite.addresses.ExecutableOracle,
    ingestor: world.suite.addresses.InstructionIngestor,
    confirmations: 0,
    pollIntervalMs: 100,
  });
  const startStandaloneRelayer = (reconcile: boolean) =>
    startRelayer(
      loadRelayerConfig({
        raw: {
          chains: [chain()],
          operators: { operatorSet: { chainId: world.chainId, address: world.suite.addresses.StakingRegistry } },
          scheduler: { quorum: 3 },
          redis: { url },
          reconcile: { enabled: reconcile, graceMs: 0, intervalMs: 60_000 },
        },
        env: {},
      }),
      {
        logger: silent,
        opsServer: false,
        clients: { [world.chainId]: createPublicClient({ transport: world.transports[world.chainId]! }) },
      },
    );
  /** A request the relayer never saw: its cursor is already past the request's block. */
  const lostRequest = async () => {
    const [id] = await requestPayouts(
      { a: { suite: world.suite }, programs: { "payout-splitter": world.programId } } as unknown as World,
      1,
    );
    const head = await world.suite.ethers.provider.getBlockNumber();
    await redis.set(redisKeys.cursor(world.chainId), String(head));
    return id!;
  };
  const workJobs = async (id: `0x${string}`) => {
    const operators = world.activeSet();
    let count = 0;
    for (const operator of operators) {
      const queue = new Queue(queueNames.work(operator), { connection: redis, prefix: QUEUE_PREFIX });
      if (await queue.getJob(jobIds.work(world.chainId, id, operator))) count++;
      await queue.close();
    }
    return count;
  };

  it("a standalone ingestor hands a lost request to the domain's relayer through the {versatus}:requests list; it is scheduled", async () => {
    const id = await lostRequest();
    relayer = await startStandaloneRelayer(false);
    await relayer.pollOnce();
    expect(await redis.exists(redisKeys.request(world.chainId, id)), "the relayer did not see it").to.equal(0);
    ingestor = await startIngestor(
      loadIngestorConfig({
        raw: {
          chains: [chain()],
          redis: { url },
          collector: { enabled: false },
          poster: { enabled: false },
          reconcile: { graceMs: 0, intervalMs: 60_000 },
        },
        env: {},
      }),
      { logger: silent, opsServer: false, transports: { [String(world.chainId)]: world.transports[world.chainId]! } },
    );
    await eventually(
      async () => ((await redis.exists(redisKeys.request(world.chainId, id))) === 1 ? true : undefined),
      "the request scheduled",
    );
    expect(await workJobs(id)).to.equal(3);
  });

  it("a standalone relayer reconciles on its own timer: a request it never followed is scheduled", async () => {
    const id = await lostRequest();
    relayer = await startStandaloneRelayer(true);
    await eventually(
      async () => ((await redis.exists(redisKeys.request(world.chainId, id))) === 1 ? true : undefined),
      "the request scheduled",
    );
    expect(await workJobs(id)).to.equal(3);
  });
});
