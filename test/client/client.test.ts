import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, createWalletClient, stringToHex, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createVersatusClient, type VersatusClient } from "../../client/index.ts";
import { createDaClient, type DaClient } from "../../da/index.ts";
import { ETH_FEE } from "../helpers/suite.ts";
import { devAccount } from "../../deploy/context.ts";
import { viemChain } from "../../ingestor/chains.ts";
import { startIngestor, type IngestorHandle } from "../../ingestor/index.ts";
import { Op } from "../../protocol/instructions.ts";
import type { ResultJob } from "../../protocol/jobs.ts";
import type { Queue } from "bullmq";
import {
  makeResultJob,
  operatorKeys,
  pushResult,
  resultsQueue,
  silentLogger,
  tempDir,
  testChain,
  testConfig,
  testRedis,
  transportsOf,
  type TestChain,
} from "../ingestor/helpers.ts";

describe("dApp client: request → waitForResult / refund (with the ingestor service running)", function () {
  this.timeout(60_000);
  let chain: TestChain;
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let dir: ReturnType<typeof tempDir>;
  let ingestor: IngestorHandle;
  let results: Queue<ResultJob>;
  let da: DaClient;
  let versatus: VersatusClient;

  before(async () => {
    chain = await testChain(await network.create());
    redis = await testRedis(9);
    dir = tempDir("versatus-client-");
    const config = testConfig([chain], {
      redisUrl: redis.url,
      daDir: dir.dir,
      overrides: { reconcile: { enabled: false } },
    });
    ingestor = await startIngestor(config, { logger: silentLogger, transports: transportsOf([chain]) });
    results = resultsQueue(redis.url);
    da = createDaClient({ primary: { layer: "local", dir: dir.dir } });
    const evmChain = viemChain(config.chains[0]!);
    const publicClient = createPublicClient({
      chain: evmChain,
      transport: chain.transport,
      pollingInterval: 10,
    }) as PublicClient;
    const walletClient = createWalletClient({
      chain: evmChain,
      transport: chain.transport,
      account: privateKeyToAccount(devAccount(7).privateKey as Hex),
    });
    versatus = createVersatusClient({
      publicClient,
      walletClient,
      oracle: chain.addresses.ExecutableOracle as Address,
      ingestor: chain.addresses.InstructionIngestor as Address,
      da,
      pollingIntervalMs: 20,
    });
  });
  after(async () => {
    await ingestor.close();
    await ingestor.close(); // safe twice
    await results.close();
    await da.close();
    await redis.flush();
    await redis.redis.quit();
    dir.remove();
  });

  const answer = async (requestId: Hex, input: Hex, options: Parameters<typeof makeResultJob>[2]) => {
    for (const key of operatorKeys.slice(0, 3)) {
      await pushResult(results, await makeResultJob(key, { origin: chain, requestId, input }, options));
    }
  };

  it("requests by program name and resolves with the dispersal and the program's stdout", async () => {
    const value = chain.ethers.parseEther("0.01");
    const { requestId, blockNumber, programId } = await versatus.request({
      programName: "test-program",
      input: '{"split":[1,1]}',
      ttl: 600,
      value,
    });
    expect(programId).to.equal(chain.programId);
    expect((await versatus.status({ requestId })).state).to.equal("open");
    const to = (await chain.other.getAddress()) as Address;
    await answer(requestId, stringToHex('{"split":[1,1]}'), {
      instructions: [{ chain, instructions: [{ op: Op.TRANSFER, target: to, amount: 5000n, data: "0x" }] }],
      stdout: stringToHex('{"actions":[]}'),
    });
    const outcome = await versatus.waitForResult({ requestId, fromBlock: blockNumber, timeoutMs: 30_000 });
    expect(outcome.kind).to.equal("dispersed");
    if (outcome.kind !== "dispersed") return;
    // the fee booked to the signers is the fee minus the dust below the signer count
    expect(outcome.settlement?.spent).to.equal(5000n);
    expect(outcome.settlement?.refunded).to.equal(value - 5000n - ETH_FEE);
    expect(outcome.failedInstructions).to.deep.equal([]);
    expect(outcome.stdout).to.equal('{"actions":[]}');
    expect((await versatus.status({ requestId })).state).to.equal("ingested");

    const health = await fetch(`${ingestor.ops!.url}/healthz`);
    expect(health.status).to.equal(200);
    const metrics = await (await fetch(`${ingestor.ops!.url}/metrics`)).text();
    expect(metrics).to.match(/versatus_poster_gas_used_total\{[^}]*chain="31337"[^}]*\} [1-9]/);
  });

  it("resolves a PROGRAM_ERROR with its stderr, the escrow refunded minus the fee", async () => {
    const { requestId, blockNumber } = await versatus.request({
      programId: chain.programId as Hex,
      input: "0x01",
      ttl: 600,
      value: 10n ** 15n,
    });
    await answer(requestId, "0x01" as Hex, { status: 1, stderr: stringToHex("error: out of fuel") });
    const outcome = await versatus.waitForResult({ requestId, fromBlock: blockNumber, timeoutMs: 30_000 });
    expect(outcome.kind).to.equal("failed");
    if (outcome.kind !== "failed") return;
    expect(outcome.stderr).to.equal("error: out of fuel");
    expect(outcome.settlement?.refunded).to.equal(10n ** 15n - ETH_FEE);
  });

  it("reports an unanswered request as expired after its deadline, then refunds it", async () => {
    const { requestId, blockNumber } = await versatus.request({
      programId: chain.programId as Hex,
      input: "0x02",
      ttl: 5,
      value: 10n ** 15n,
    });
    await chain.connection.provider.request({ method: "evm_increaseTime", params: [10] });
    await chain.connection.provider.request({ method: "evm_mine", params: [] });
    expect(await versatus.waitForResult({ requestId, fromBlock: blockNumber })).to.deep.equal({
      kind: "expired",
      requestId,
      refundable: true,
    });
    const { amount } = await versatus.refund({ requestId });
    expect(amount).to.equal(10n ** 15n);
    const outcome = await versatus.waitForResult({ requestId, fromBlock: blockNumber });
    expect(outcome.kind).to.equal("refunded");
    expect((await versatus.status({ requestId })).state).to.equal("refunded");
  });
});
