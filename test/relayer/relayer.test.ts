import { expect } from "chai";
import { network } from "hardhat";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { createPublicClient, custom, getAddress, type Address, type Hex, type PublicClient } from "viem";
import type { WorkJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, queueNames, redisKeys } from "../../protocol/queues.ts";
import { loadRelayerConfig, startRelayer, type RelayerHandle } from "../../relayer/index.ts";
import { deployTestSuite, operatorWallets, requestEth, type Suite } from "../helpers/suite.ts";
import { eventually, flushedRedis, redisUrl } from "../worker/helpers.ts";

const DB = 6;

describe("relayer: follows ExecutionRequested on an in-process chain", function () {
  this.timeout(60_000);
  let suite: Suite;
  let client: PublicClient;
  let redis: Redis;
  let mine: (blocks: number) => Promise<void>;
  /** Every JSON-RPC method the relayer's client sent (test_relayer_knownAnnouncement...). */
  const rpcCalls: string[] = [];
  let countingClient: PublicClient;
  const operators = operatorWallets().map((w) => getAddress(w.address));
  const queues = new Map<string, Queue<WorkJob>>();
  const relayers: RelayerHandle[] = [];

  before(async () => {
    const connection = await network.create("chainA");
    suite = await deployTestSuite(connection);
    const provider = connection.provider;
    client = createPublicClient({ transport: custom(provider) });
    countingClient = createPublicClient({
      transport: custom({
        request: (args: { method: string; params?: unknown }) => {
          rpcCalls.push(args.method);
          return provider.request(args as never);
        },
      }),
    });
    mine = async (blocks) => {
      await provider.request({ method: "hardhat_mine", params: [`0x${blocks.toString(16)}`] });
    };
    redis = await flushedRedis(DB);
    for (const op of operators)
      queues.set(op, new Queue(queueNames.work(op), { connection: redis, prefix: QUEUE_PREFIX }));
  });

  after(async () => {
    for (const r of relayers) await r.close();
    await Promise.all([...queues.values()].map((q) => q.close()));
    await redis.flushdb();
    await redis.quit();
  });

  const config = (overrides: Record<string, unknown> = {}) =>
    loadRelayerConfig({
      raw: {
        chains: [
          {
            chainId: 31337,
            rpcUrl: "http://in-process.invalid",
            oracle: suite.addresses.ExecutableOracle,
            ingestor: suite.addresses.InstructionIngestor,
            confirmations: 2,
            pollIntervalMs: 20,
          },
        ],
        operators: { operatorSet: { chainId: 31337, address: suite.addresses.OwnedOperatorSet } },
        scheduler: { quorum: 3 },
        redis: { url: redisUrl(DB) },
        ...overrides,
      },
      env: {},
    });

  async function start(autoStart: boolean, overrides: Record<string, unknown> = {}): Promise<RelayerHandle> {
    const relayer = await startRelayer(config(overrides), {
      clients: { 31337: client },
      autoStart,
      logger: pino({ level: "silent" }),
    });
    relayers.push(relayer);
    return relayer;
  }

  async function allWork(): Promise<WorkJob[]> {
    const jobs = await Promise.all(
      [...queues.values()].map((q) =>
        q.getJobs(["waiting", "active", "completed", "failed", "delayed", "prioritized"]),
      ),
    );
    return jobs.flat().map((j) => j.data);
  }

  let requestIds: Hex[] = [];

  it("test_relayer_readsOperatorsFromTheOperatorSet", async () => {
    const relayer = await start(false);
    expect(relayer.operators()).to.have.members(operators);
    await relayer.close();
    await relayer.close(); // safe twice
  });

  it("test_relayer_waitsForConfirmations_thenSchedulesEachRequestOnAQuorum", async () => {
    const relayer = await start(false);
    await relayer.pollOnce(); // catches up with the deployment blocks
    requestIds = [
      await requestEth(suite, suite.requester, 10n ** 18n, "0x7b7d"),
      await requestEth(suite, suite.requester, 10n ** 18n, "0x7b2278223a317d"),
    ].map((id) => id.toLowerCase() as Hex);
    expect(await relayer.pollOnce()).to.equal(0); // the second request is not confirmed yet
    await mine(2);
    await relayer.pollOnce();
    const work = await allWork();
    expect(work).to.have.length(6); // 2 requests x quorum 3
    for (const requestId of requestIds) {
      const mine = work.filter((w) => w.requestId === requestId);
      expect(new Set(mine.map((w) => w.operator)).size).to.equal(3);
      const event = mine[0]!;
      const block = await client.getBlock({ blockNumber: BigInt(event.blockNumber) });
      expect(event.blockTimestamp).to.equal(block.timestamp.toString());
      expect(event.programId).to.equal(suite.programId.toLowerCase());
      expect(getAddress(event.oracle)).to.equal(getAddress(suite.addresses.ExecutableOracle));
      expect(event.chainId).to.equal("31337");
    }
    expect(work.find((w) => w.requestId === requestIds[1])!.input).to.equal("0x7b2278223a317d");
    const head = await client.getBlockNumber({ cacheTime: 0 });
    expect(await redis.get(redisKeys.cursor(31337))).to.equal((head - 2n).toString());
    await relayer.close();
  });

  it("test_relayer_restartAndRescan_doNotDuplicateJobs", async () => {
    const before = (await allWork()).length;
    await redis.set(redisKeys.cursor(31337), "0"); // lose the cursor: the restart re-reads everything
    const relayer = await start(false);
    expect(await relayer.pollOnce()).to.be.greaterThanOrEqual(2);
    expect((await allWork()).length).to.equal(before);
    // a reorg re-scan: new blocks arrive and the last `confirmations` blocks are read again
    await mine(3);
    await relayer.pollOnce();
    expect((await allWork()).length).to.equal(before);
    await relayer.close();
  });

  it("test_relayer_takesAnAnnouncementOnce_aKnownRequestCostsNoChainRead", async () => {
    const relayer = await startRelayer(config(), {
      clients: { 31337: countingClient },
      autoStart: false,
      logger: pino({ level: "silent" }),
    });
    relayers.push(relayer);
    const requestId = (await requestEth(suite, suite.requester, 10n ** 18n, "0x02")).toLowerCase() as Hex;
    await mine(2);
    const [log] = await client.getLogs({
      address: suite.addresses.ExecutableOracle as Address,
      fromBlock: (await client.getBlockNumber({ cacheTime: 0 })) - 2n,
    });
    const announcement = {
      chainId: "31337",
      requestId,
      blockNumber: String(log!.blockNumber),
      blockHash: log!.blockHash!,
      txHash: log!.transactionHash!,
      logIndex: log!.logIndex!,
    };
    rpcCalls.length = 0;
    expect(await relayer.acceptAnnouncement(announcement)).to.equal(true);
    expect(rpcCalls.length).to.be.greaterThanOrEqual(3); // head, the block, its logs
    expect((await allWork()).filter((w) => w.requestId === requestId)).to.have.length(3);
    // every other peer announces it too: known, dropped before any chain read, no second job
    rpcCalls.length = 0;
    expect(await relayer.acceptAnnouncement(announcement)).to.equal(false);
    expect(await relayer.acceptAnnouncement({ ...announcement, logIndex: announcement.logIndex + 1 })).to.equal(false);
    expect(rpcCalls).to.deep.equal([]);
    expect((await allWork()).filter((w) => w.requestId === requestId)).to.have.length(3);
    await relayer.close();
  });

  it("test_relayer_onItsOwnTimers_followsNewRequests_andServesHealth", async () => {
    const relayer = await start(true);
    const requestId = (await requestEth(suite, suite.requester, 10n ** 18n, "0x01")).toLowerCase();
    await mine(2);
    const work = await eventually(async () => {
      const found = (await allWork()).filter((w) => w.requestId === requestId);
      return found.length === 3 ? found : undefined;
    }, "three work jobs for the new request");
    expect(work.map((w) => w.operator as Address)).to.satisfy((ops: Address[]) =>
      ops.every((o) => operators.includes(o)),
    );
    const health = await fetch(`${relayer.ops!.url}/healthz`);
    expect(health.status).to.equal(200);
    const metrics = await (await fetch(`${relayer.ops!.url}/metrics`)).text();
    expect(metrics).to.match(/versatus_relayer_requests_scheduled_total\{chain="31337",service="relayer"\} [1-9]/);
    await relayer.close();
  });

  it("test_relayerConfig_errorsNameTheField", () => {
    expect(() =>
      loadRelayerConfig({
        raw: {
          chains: [{ chainId: 1, rpcUrl: "http://x", oracle: "0x1", ingestor: "0x2" }],
          operators: { addresses: [] },
        },
        env: {},
      }),
    ).to.throw(/chains\.0\.oracle/);
    expect(() =>
      loadRelayerConfig({
        raw: {
          chains: [{ chainId: 1, rpcUrl: "http://x", oracle: operators[0], ingestor: operators[1] }],
          operators: { operatorSet: { chainId: 2, address: operators[0] } },
        },
        env: {},
      }),
    ).to.throw(/operators\.operatorSet\.chainId/);
  });
});
