import { expect } from "chai";
import { network } from "hardhat";
import { Queue } from "bullmq";
import {
  createPublicClient,
  custom,
  decodeFunctionData,
  parseEventLogs,
  toFunctionSelector,
  type Address,
  type Hex,
  type PublicClient,
  type Transport,
} from "viem";
import { startPoster, type PosterHandle } from "../../ingestor/poster.ts";
import { createIngestorMetrics, type IngestorMetrics } from "../../ingestor/metrics.ts";
import type { IngestorConfig, IngestorConfigInput } from "../../ingestor/config.ts";
import { instructionIngestorAbi, nativeStakeAdapterAbi, stakingRegistryAbi } from "../../protocol/generated/abis.ts";
import {
  breakEvenSingleIngests,
  SNAPSHOT_SAVES_PER_RESULT,
  SNAPSHOT_SAVES_PER_TX,
} from "../../protocol/activitySnapshot.ts";
import type { PostJob } from "../../protocol/jobs.ts";
import { jobIds, QUEUE_PREFIX, queueNames } from "../../protocol/queues.ts";
import { devAccount } from "../../deploy/context.ts";
import { requestEth } from "../helpers/suite.ts";
import {
  eventually,
  makeResultJob,
  operatorKeys,
  postJobOf,
  silentLogger,
  tempDir,
  testChain,
  testConfig,
  testRedis,
  type TestChain,
} from "./helpers.ts";

const POSTER = devAccount(5).address.toLowerCase();
const SNAPSHOT_SELECTOR = toFunctionSelector("snapshotActive(address[])");

describe("ingestor: activity-snapshot keeper beside the poster (in-process chain, real Redis)", function () {
  this.timeout(60_000);
  let chain: TestChain;
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let da: ReturnType<typeof tempDir>;
  let postQueue: Queue<PostJob>;
  let registry: Address;
  let lifetimeSeconds: number;
  let client: PublicClient;
  const handles: { close(): Promise<void> }[] = [];
  const rpc = (method: string, params: unknown[] = []) => chain.connection.provider.request({ method, params });

  before(async () => {
    chain = await testChain(await network.create());
    redis = await testRedis(0);
    da = tempDir("versatus-keeper-");
    postQueue = new Queue<PostJob>(queueNames.post(chain.chainId), { connection: redis.redis, prefix: QUEUE_PREFIX });
    client = createPublicClient({ transport: chain.transport });
    registry = await client.readContract({
      address: chain.addresses.InstructionIngestor as Address,
      abi: instructionIngestorAbi,
      functionName: "operatorSet",
    });
    const read = (functionName: "adapter" | "slashableWindow") =>
      client.readContract({ address: registry, abi: stakingRegistryAbi, functionName });
    const unbonding = await client.readContract({
      address: (await read("adapter")) as Address,
      abi: nativeStakeAdapterAbi,
      functionName: "unbondingPeriod",
    });
    lifetimeSeconds = Number(unbonding - ((await read("slashableWindow")) as bigint)) - 1;
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
    await redis.flush();
  });
  after(async () => {
    await postQueue.close();
    await redis.flush();
    await redis.redis.quit();
    da.remove();
  });

  const config = (keeper: Record<string, unknown>): IngestorConfig =>
    testConfig([chain], {
      redisUrl: redis.url,
      daDir: da.dir,
      overrides: {
        poster: {
          maxBatchWaitMs: 30,
          receiptTimeoutMs: 10_000,
          retryDelayMs: 50,
          snapshotKeeper: { checkIntervalMs: 100, marginSeconds: 15, ...keeper },
        },
      } as Partial<IngestorConfigInput>,
    });
  const poster = async (
    keeper: Record<string, unknown>,
    transport: Transport = chain.transport,
    metrics: IngestorMetrics = createIngestorMetrics(),
  ): Promise<PosterHandle> => {
    const h = await startPoster({
      config: config(keeper),
      logger: silentLogger,
      metrics,
      transports: { [chain.chainIdString]: transport },
    });
    handles.push(h);
    return h;
  };

  /** The four dev operators the deploy config stakes and registers. */
  const operators = async () => [1, 2, 3, 4].map((i) => devAccount(i).address as Address);
  const activeUntil = (operator: Address) =>
    client.readContract({ address: registry, abi: stakingRegistryAbi, functionName: "activeUntil", args: [operator] });
  const chainNow = async () => BigInt((await chain.ethers.provider.getBlock("latest"))!.timestamp);
  /** Moves chain time past every snapshot's end, so a test starts with none holding. */
  const expireSnapshots = async () => {
    await rpc("evm_increaseTime", [lifetimeSeconds + 2]);
    await rpc("evm_mine");
    for (const o of await operators()) expect(await activeUntil(o), `snapshot of ${o}`).to.equal(0n);
  };

  /** A fresh request and the post job (3 signatures) a collector would queue for it. */
  const preparePost = async (): Promise<PostJob> => {
    const requestId = (await requestEth(chain, chain.requester, chain.ethers.parseEther("0.01"), "0xabcd")) as Hex;
    const request = { origin: chain, requestId, input: "0xabcd" as Hex };
    const jobs = await Promise.all(operatorKeys.slice(0, 3).map((k) => makeResultJob(k, request)));
    return postJobOf(jobs, chain.chainIdString);
  };
  const queueJob = async (job: PostJob): Promise<Hex> => {
    await postQueue.add("post", job, {
      jobId: jobIds.post(chain.chainId, chain.chainId, job.requestId),
      attempts: 12,
      backoff: { type: "exponential", delay: 50 },
    });
    return job.requestId;
  };
  const queuePost = async (): Promise<Hex> => queueJob(await preparePost());
  /** Transactions of the poster key sent and not yet mined. */
  const posterPending = async () =>
    Number(await rpc("eth_getTransactionCount", [POSTER, "pending"])) -
    Number(await rpc("eth_getTransactionCount", [POSTER, "latest"]));
  /** The receipt of the transaction that ingested `requestId`, once it is ingested. */
  const ingestReceipt = async (requestId: Hex) => {
    await eventually(() => chain.ingestor.isIngested(chain.chainId, requestId), 30_000, `ingest of ${requestId}`);
    const logs = await rpc("eth_getLogs", [
      { address: chain.addresses.InstructionIngestor, fromBlock: "0x0", toBlock: "latest" },
    ]);
    const log = parseEventLogs({ abi: instructionIngestorAbi, logs: logs as never, eventName: "ResultIngested" }).find(
      (l) => l.args.requestId.toLowerCase() === requestId.toLowerCase(),
    )!;
    return chain.ethers.provider.getTransactionReceipt(log.transactionHash);
  };
  /** Every transaction the poster key sent, in chain order. */
  const posterTransactions = async () => {
    const latest = await chain.ethers.provider.getBlockNumber();
    const out: { to: string; nonce: number; hash: string; data: string; block: number }[] = [];
    for (let n = 0; n <= latest; n++) {
      const block = await chain.ethers.provider.getBlock(n, true);
      for (const tx of block!.prefetchedTransactions)
        if (tx.from.toLowerCase() === POSTER)
          out.push({ to: tx.to!.toLowerCase(), nonce: tx.nonce, hash: tx.hash, data: tx.data, block: n });
    }
    return out;
  };
  const snapshotTransactions = async () =>
    (await posterTransactions()).filter((t) => t.to === registry.toLowerCase() && t.data.startsWith(SNAPSHOT_SELECTOR));
  const counterValue = async (metrics: IngestorMetrics, outcome: string) =>
    (await metrics.activitySnapshots.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;

  it("after the keeper snapshots the active operators, an ingest costs at least the model's saving less than the same ingest checked live", async () => {
    await expireSnapshots();
    await poster({ mode: "off" });
    // warm-up: the first ingest writes slots the later ones only update
    await ingestReceipt(await queuePost());
    const live = await ingestReceipt(await queuePost());
    for (const h of handles.splice(0)) await h.close();
    expect(await snapshotTransactions()).to.have.length(0);

    await poster({ mode: "always" });
    const ops = await operators();
    await eventually(async () => (await Promise.all(ops.map(activeUntil))).every((u) => u > 0n), 20_000, "snapshots");
    const now = await chainNow();
    for (const o of ops) expect(await activeUntil(o)).to.be.greaterThan(now);
    const withSnapshot = await ingestReceipt(await queuePost());
    const saved = live!.gasUsed - withSnapshot!.gasUsed;
    expect(saved >= SNAPSHOT_SAVES_PER_TX + SNAPSHOT_SAVES_PER_RESULT, `saved ${saved}`).to.equal(true);
    // the snapshot tx names the four active operators
    const [snapshotTx] = await snapshotTransactions();
    const call = decodeFunctionData({ abi: stakingRegistryAbi, data: snapshotTx!.data as Hex });
    expect((call.args![0] as Address[]).map((a) => a.toLowerCase()).sort()).to.deep.equal(
      ops.map((a) => a.toLowerCase()).sort(),
    );
  });

  it("sends no second snapshot while one still holds, and refreshes one nearing its end", async () => {
    await expireSnapshots();
    const before = (await snapshotTransactions()).length;
    await poster({ mode: "always" });
    const [first] = await operators();
    const until = await eventually(async () => {
      const u = await activeUntil(first!);
      return u > 0n ? u : undefined;
    });
    // a dozen looks while the snapshot holds: no transaction
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await snapshotTransactions()).length).to.equal(before + 1);

    // chain time to inside the margin: the next look refreshes
    const now = await chainNow();
    await rpc("evm_increaseTime", [Number(until - now) - 10]);
    await rpc("evm_mine");
    const refreshed = await eventually(async () => {
      const u = await activeUntil(first!);
      return u > until ? u : undefined;
    });
    expect(refreshed - until).to.be.greaterThan(lifetimeSeconds - 20);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await snapshotTransactions()).length).to.equal(before + 2);
  });

  it("in auto mode, snapshots only once this poster's ingests of the last lifetime would have paid for one", async () => {
    await expireSnapshots();
    const metrics = createIngestorMetrics();
    await poster({ mode: "auto" }, chain.transport, metrics);
    const snapshotGas = await client.estimateContractGas({
      account: devAccount(5).address as Address,
      address: registry,
      abi: stakingRegistryAbi,
      functionName: "snapshotActive",
      args: [await operators()],
    });
    const needed = breakEvenSingleIngests(snapshotGas);
    expect(needed).to.be.greaterThan(1);
    const before = (await snapshotTransactions()).length;
    // one ingest short of break-even: looks, no snapshot
    for (let i = 0; i < needed - 1; i++) await ingestReceipt(await queuePost());
    await eventually(async () => (await counterValue(metrics, "not_paying")) >= 3, 10_000, "looks that did not pay");
    expect((await snapshotTransactions()).length).to.equal(before);
    expect(await activeUntil((await operators())[0]!)).to.equal(0n);
    // the ingest that makes it pay
    await ingestReceipt(await queuePost());
    await eventually(
      async () => ((await activeUntil((await operators())[0]!)) > 0n ? true : undefined),
      10_000,
      "snapshot",
    );
    expect((await snapshotTransactions()).length).to.equal(before + 1);
  });

  it("a keeper whose snapshot transactions revert on chain does not stop results from being posted, and retries with backoff", async () => {
    await expireSnapshots();
    // Under-estimate the snapshot's gas: the keeper's transaction runs out of gas on chain (a real
    // reverted transaction, which takes a nonce), every time.
    const provider = chain.connection.provider;
    const starved = custom({
      async request({ method, params }: { method: string; params?: unknown }) {
        const first = (params as { to?: string; data?: string; input?: string }[] | undefined)?.[0];
        const data = first?.data ?? first?.input;
        if (method === "eth_estimateGas" && typeof data === "string" && data.startsWith(SNAPSHOT_SELECTOR))
          return "0x7530";
        return provider.request({ method, params: params as unknown[] });
      },
    });
    const metrics = createIngestorMetrics();
    const startBlock = await chain.ethers.provider.getBlockNumber();
    const startedAt = Date.now();
    await poster({ mode: "always", retryDelayMs: 100, maxRetryDelayMs: 400 }, starved, metrics);
    const failures = async () => (await counterValue(metrics, "reverted")) + (await counterValue(metrics, "failed"));
    // EDR's automine refuses (as an error of the send) a transaction that runs out of gas, though it
    // mines it and takes its nonce; a node with a mempool returns a reverted receipt instead
    await eventually(async () => (await failures()) >= 1, 20_000, "a failed snapshot");
    const requestIds = [await queuePost(), await queuePost(), await queuePost()];
    for (const id of requestIds) expect((await ingestReceipt(id))!.status).to.equal(1);
    await eventually(async () => (await failures()) >= 3, 20_000, "retries");
    // no snapshot ever held, the results were checked live, and every reverted attempt took its own nonce
    expect(await activeUntil((await operators())[0]!)).to.equal(0n);
    const attempts = (await snapshotTransactions()).filter((t) => t.block > startBlock);
    expect(attempts.length).to.be.at.least(3);
    for (const t of attempts) expect((await chain.ethers.provider.getTransactionReceipt(t.hash))!.status).to.equal(0);
    // backoff: no more attempts than one per first retry delay (100 ms) since the start
    expect(attempts.length).to.be.at.most(Math.ceil((Date.now() - startedAt) / 100) + 1);
    const nonces = (await posterTransactions()).map((t) => t.nonce);
    expect(nonces).to.deep.equal(nonces.map((_, i) => i));
  });

  it("a snapshot and a post in flight together take consecutive nonces; posts across a refresh (blocks of several transactions) never share or skip one", async () => {
    await expireSnapshots();
    const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => preparePost()));
    const metrics = createIngestorMetrics();
    await rpc("evm_setAutomine", [false]);
    try {
      // nothing is mined until the keeper's snapshot and the poster's first batch are both pending
      await poster({ mode: "always" }, chain.transport, metrics);
      const first = await Promise.all(jobs.slice(0, 3).map(queueJob));
      await eventually(async () => (await posterPending()) >= 2, 20_000, "a snapshot and a batch pending together");
      const pendingBlock = (await rpc("eth_getBlockByNumber", ["pending", true])) as {
        transactions: { from: string; to: string; nonce: Hex }[];
      };
      const ours = pendingBlock.transactions.filter((t) => t.from.toLowerCase() === POSTER);
      expect(ours.map((t) => t.to.toLowerCase()).sort()).to.deep.equal(
        [registry.toLowerCase(), chain.addresses.InstructionIngestor.toLowerCase()].sort(),
      );
      expect(Number(ours[1]!.nonce) - Number(ours[0]!.nonce)).to.equal(1);
      // from here blocks every 200 ms, several transactions each
      await rpc("evm_setIntervalMining", [200]);
      const ops = await operators();
      const until = await eventually(async () => {
        const u = await activeUntil(ops[0]!);
        return u > 0n ? u : undefined;
      }, 20_000);
      for (const id of first) expect((await ingestReceipt(id))!.status).to.equal(1);
      // chain time to inside the margin: the refresh and the next posts overlap
      await rpc("evm_increaseTime", [Number(until - (await chainNow())) - 5]);
      const second = await Promise.all(jobs.slice(3).map(queueJob));
      for (const id of second) expect((await ingestReceipt(id))!.status).to.equal(1);
      await eventually(async () => ((await activeUntil(ops[0]!)) > until ? true : undefined), 20_000, "refresh");
      // the keeper counts its snapshot once it has the receipt, a poll after the chain shows it
      await eventually(async () => (await counterValue(metrics, "sent")) >= 2, 10_000, "the refresh counted");
      expect(await counterValue(metrics, "sent")).to.equal(2);
      expect(await counterValue(metrics, "failed")).to.equal(0);
      const retried = (await metrics.postOutcomes.get()).values.find((v) => v.labels.outcome === "retried");
      expect(retried?.value ?? 0, "post retries").to.equal(0);
      const sent = await posterTransactions();
      expect(sent.map((t) => t.nonce)).to.deep.equal(sent.map((_, i) => i));
    } finally {
      await rpc("evm_setIntervalMining", [0]);
      await rpc("evm_setAutomine", [true]);
      await rpc("evm_mine");
    }
  });
});
