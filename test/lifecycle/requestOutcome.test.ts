import { expect } from "chai";
import type { Server } from "node:http";
import { network } from "hardhat";
import type { Queue } from "bullmq";
import { createPublicClient, getAddress, stringToHex, type Address, type Hex, type PublicClient } from "viem";
import { status } from "../../client/status.ts";
import { ETH_FEE } from "../helpers/suite.ts";
import { startIngestor, type IngestorHandle } from "../../ingestor/index.ts";
import type { ResultJob } from "../../protocol/jobs.ts";
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
import { LIFECYCLE_REDIS_DB, killAllStarted, rpcBridge, startCli } from "./helpers.ts";

describe("lifecycle: `versatus request --wait` and `status` explain a failed request", function () {
  this.timeout(120_000);
  let chain: TestChain;
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let dir: ReturnType<typeof tempDir>;
  let ingestor: IngestorHandle;
  let results: Queue<ResultJob>;
  let bridge: { url: string; server: Server };
  let cliArgs: string[];

  before(async () => {
    chain = await testChain(await network.create());
    redis = await testRedis(LIFECYCLE_REDIS_DB);
    dir = tempDir("versatus-lifecycle-request-");
    const config = testConfig([chain], {
      redisUrl: redis.url,
      daDir: dir.dir,
      overrides: { reconcile: { enabled: false } },
    });
    ingestor = await startIngestor(config, {
      logger: silentLogger,
      transports: transportsOf([chain]),
      opsServer: false,
    });
    results = resultsQueue(redis.url);
    bridge = await rpcBridge(chain);
    cliArgs = [
      "--rpc",
      bridge.url,
      "--oracle",
      chain.addresses.ExecutableOracle!,
      "--ingestor",
      chain.addresses.InstructionIngestor!,
    ];
  });
  after(async () => {
    killAllStarted();
    await ingestor?.close();
    await results?.close();
    bridge?.server.close();
    await redis?.flush();
    await redis?.redis.quit();
    dir?.remove();
  });

  it("shows the outcome, fuel and stderr from the DA record, and the escrowed amount of the ingested request", async () => {
    const cli = startCli([
      "request",
      "--program",
      chain.programId,
      "--input",
      "not json",
      "--value",
      "0.001",
      "--wait",
      "--dev-account",
      "7",
      "--da-dir",
      dir.dir,
      ...cliArgs,
    ]);
    const line = await cli.waitFor(/^request 0x[0-9a-f]{64} \(tx 0x[0-9a-f]{64}\), waiting/, 60_000);
    const requestId = line.match(/^request (0x[0-9a-f]{64})/)![1] as Hex;
    const stderr = 'error: the input is not JSON (line 1)\nhint: send {"split":[...]}';
    for (const key of operatorKeys.slice(0, 3)) {
      await pushResult(
        results,
        await makeResultJob(
          key,
          { origin: chain, requestId, input: stringToHex("not json") },
          {
            status: 1,
            stderr: stringToHex(stderr),
            fuelUsed: 4321n,
          },
        ),
      );
    }
    const exit = await cli.exited;
    const out = cli.output();
    expect(exit.code, out).to.equal(0);
    const refunded = 10n ** 15n - ETH_FEE;
    expect(out).to.contain("failed: the program ended in PROGRAM_ERROR");
    expect(out).to.contain(`refunded ${refunded} (the escrow minus the fee of`);
    expect(out).to.contain("fuel used: 4321");
    expect(out).to.contain("stderr: error: the input is not JSON (line 1)");
    expect(out).to.contain('hint: send {"split":[...]}');
    expect(out).not.to.match(/^refunded /m);

    // status of the ingested request: the amounts come from its ExecutionRequested event
    const publicClient = createPublicClient({ transport: chain.transport }) as PublicClient;
    const state = await status(
      {
        publicClient,
        oracle: chain.addresses.ExecutableOracle as Address,
        ingestor: chain.addresses.InstructionIngestor as Address,
      },
      { requestId },
    );
    expect(state).to.include({
      state: "ingested",
      amount: 10n ** 15n,
      token: "0x0000000000000000000000000000000000000000",
    });
    expect(state.requester).to.equal(getAddress(await chain.requester.getAddress()));
    expect(state.ingestedAt! > 0n).to.equal(true);
    expect(state.deadline > state.requestedAt).to.equal(true);

    const shown = startCli(["status", requestId, "--da-dir", dir.dir, ...cliArgs]);
    expect((await shown.exited).code, shown.output()).to.equal(0);
    expect(shown.output()).to.match(/^ingested: escrow 1000000000000000 wei from 0x[0-9a-fA-F]{40}$/m);
    expect(shown.output()).to.contain("stderr: error: the input is not JSON (line 1)");

    const json = startCli(["status", requestId, "--json", "--da-dir", dir.dir, ...cliArgs]);
    expect((await json.exited).code, json.output()).to.equal(0);
    const parsed = JSON.parse(json.output()) as { amount: string; outcome: Record<string, unknown> };
    expect(parsed.amount).to.equal("1000000000000000");
    expect(parsed.outcome).to.include({ kind: "failed", stderr: stderr, fuelUsed: "4321", recordFound: true });

    // without the records: says why it cannot tell, and where it looked
    const blind = startCli(["status", requestId, "--da-dir", `${dir.dir}/elsewhere`, ...cliArgs]);
    expect((await blind.exited).code, blind.output()).to.equal(0);
    expect(blind.output()).to.contain("failed: the program ended in PROGRAM_ERROR");
    expect(blind.output()).to.contain(`is not in the DA store at ${dir.dir}/elsewhere`);
  });
});
