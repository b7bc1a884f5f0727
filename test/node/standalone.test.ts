import { expect } from "chai";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { createPublicClient } from "viem";
import { loadIngestorConfig, startIngestor, type IngestorHandle } from "../../ingestor/index.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import { checkAnnouncement, loadRelayerConfig, startRelayer, type RelayerHandle } from "../../relayer/index.ts";
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

  /** A new request on chain, its announcement as a peer would send it, and this node's view. */
  const announcedRequest = async () => {
    const [id] = await requestPayouts(
      { a: { suite: world.suite }, programs: { "payout-splitter": world.programId } } as unknown as World,
      1,
    );
    const [log] = await world.suite.oracle.queryFilter(world.suite.oracle.filters.ExecutionRequested(id));
    const block = await world.suite.ethers.provider.getBlock(log!.blockNumber);
    const announcement = {
      chainId: String(world.chainId),
      requestId: id!,
      blockNumber: String(log!.blockNumber),
      blockHash: block!.hash as `0x${string}`,
      txHash: log!.transactionHash as `0x${string}`,
      logIndex: log!.index,
    };
    const client = createPublicClient({ transport: world.transports[world.chainId]! });
    const chain = {
      chainId: world.chainId,
      oracle: world.suite.addresses.ExecutableOracle as `0x${string}`,
      confirmations: 0,
    };
    return { id: id!, announcement, client, chain };
  };

  it("an announced request is taken only as this node's own chain shows it (block hash, log, confirmations)", async () => {
    const { id, announcement, client, chain } = await announcedRequest();
    const ok = await checkAnnouncement(client, chain, announcement);
    expect(ok.ok && ok.job.requestId).to.equal(id);
    expect(ok.ok && ok.job.programId).to.equal(world.programId);
    const reason = async (a: typeof announcement, c = chain) => {
      const v = await checkAnnouncement(client, c, a);
      return v.ok ? "ok" : v.reason;
    };
    expect(await reason({ ...announcement, blockHash: `0x${"ab".repeat(32)}` })).to.equal("other_block");
    expect(await reason({ ...announcement, logIndex: announcement.logIndex + 1 })).to.equal("no_such_request");
    expect(await reason({ ...announcement, requestId: `0x${"cd".repeat(32)}` })).to.equal("no_such_request");
    expect(await reason(announcement, { ...chain, confirmations: 1_000 })).to.equal("unconfirmed");
  });

  it("an announced request's deadline is judged by the chain's clock, not this machine's", async () => {
    const { announcement, client, chain } = await announcedRequest();
    expect((await checkAnnouncement(client, chain, announcement)).ok).to.equal(true);
    // the chain moves past the deadline (ttl 600 s) while this machine's clock does not
    await world.suite.ethers.provider.send("evm_increaseTime", [3_600]);
    await world.suite.ethers.provider.send("evm_mine", []);
    const late = await checkAnnouncement(client, chain, announcement);
    expect(late.ok ? "ok" : late.reason).to.equal("expired");
  });
});
