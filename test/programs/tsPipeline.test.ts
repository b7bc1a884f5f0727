import { expect } from "chai";
import { network } from "hardhat";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { createPublicClient, custom, stringToHex, type Hex, type PublicClient } from "viem";
import type { ResultJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames } from "../../protocol/queues.ts";
import { loadRelayerConfig, startRelayer, type RelayerHandle } from "../../relayer/index.ts";
import { NanoRuntime } from "../../runtime/executor.ts";
import { loadWorkerConfig, startWorker, type WorkerHandle } from "../../worker/index.ts";
import { address, builtProgram } from "../fixtures/programs.ts";
import { deployTestSuite, operatorWallets, type Suite } from "../helpers/suite.ts";
import { eventually, flushedRedis, redisUrl } from "../worker/helpers.ts";

const DB = 13;
const PROGRAM = "payout-splitter-ts";

/**
 * The TypeScript payout splitter through the whole node: the relayer schedules a request, four
 * workers run it on the metered QuickJS engine and sign the same record, three signatures settle it.
 */
describe("programs: a TypeScript program settles a request end to end", function () {
  this.timeout(180_000);
  let suite: Suite;
  let redis: Redis;
  let relayer: RelayerHandle;
  let runtime: NanoRuntime;
  let results: Queue<ResultJob>;
  const workers: WorkerHandle[] = [];
  const silent = pino({ level: "silent" });
  let mine: () => Promise<unknown>;

  before(async () => {
    const connection = await network.create("chainA");
    suite = await deployTestSuite(connection);
    mine = () => connection.provider.request({ method: "hardhat_mine", params: ["0x1"] });
    const pkg = builtProgram(PROGRAM).package;
    await (await suite.oracle.connect(suite.owner).publish(pkg.programId, PROGRAM, "file://x")).wait();
    const dir = mkdtempSync(join(tmpdir(), "versatus-programs-"));
    writeFileSync(join(dir, `${PROGRAM}.vpkg`), pkg.bytes);
    redis = await flushedRedis(DB);
    results = new Queue(queueNames.results, { connection: redis, prefix: QUEUE_PREFIX });
    runtime = new NanoRuntime({ size: 1 });
    const chain = {
      chainId: 31337,
      rpcUrl: "http://in-process.invalid",
      oracle: suite.addresses.ExecutableOracle,
      ingestor: suite.addresses.InstructionIngestor,
      confirmations: 1,
      pollIntervalMs: 20,
    };
    relayer = await startRelayer(
      loadRelayerConfig({
        raw: {
          chains: [chain],
          operators: { operatorSet: { chainId: 31337, address: suite.addresses.OwnedOperatorSet } },
          scheduler: { quorum: 4 },
          redis: { url: redisUrl(DB) },
        },
        env: {},
      }),
      {
        clients: { 31337: createPublicClient({ transport: custom(connection.provider) }) },
        logger: silent,
        opsServer: false,
      },
    );
    for (const wallet of operatorWallets()) {
      const config = loadWorkerConfig({
        raw: { chains: [chain], programs: { dirs: [dir] }, redis: { url: redisUrl(DB) } },
        env: {},
      });
      workers.push(
        await startWorker(config, {
          privateKey: wallet.privateKey as Hex,
          runtime,
          logger: silent,
          opsServer: false,
          // the output rule reads the chain (fee at the request's block, token controllers)
          clients: { 31337: createPublicClient({ transport: custom(connection.provider) }) as PublicClient },
        }),
      );
    }
  });

  after(async () => {
    await relayer?.close();
    for (const w of workers) await w.close();
    await results?.close();
    await runtime?.close();
    await redis?.flushdb();
    await redis?.quit();
  });

  it("four operators sign the same result of the TypeScript payout split, and three of them settle it", async () => {
    const input = {
      amount: "1000",
      recipients: [
        { to: address(5), weight: 1 },
        { to: address(6), weight: 1 },
      ],
    };
    const oracle = suite.oracle.connect(suite.requester);
    const programId = builtProgram(PROGRAM).package.programId;
    const requestId = (
      await oracle.nextRequestId(await suite.requester.getAddress(), programId, stringToHex(JSON.stringify(input)))
    ).toLowerCase();
    await (await oracle.request(programId, stringToHex(JSON.stringify(input)), 3600n, { value: 10n ** 18n })).wait();
    await mine(); // one confirmation

    const all = await eventually(
      async () => {
        const jobs = await Promise.all(workers.map((w) => results.getJob(jobIds.result(31337, requestId, w.address))));
        return jobs.every((j) => j) ? jobs.map((j) => j!.data) : undefined;
      },
      "a result from each of the 4 operators",
      120_000,
    );
    const bodyHashes = new Set(all.map((r) => r.chains[0]!.result.bodyHash));
    expect(bodyHashes.size).to.equal(1); // deterministic: every operator computed the same record

    // what the collector does: 3 signatures ordered by signer, then ingest
    const chosen = [...all].sort((a, b) => (BigInt(a.operator) < BigInt(b.operator) ? -1 : 1)).slice(0, 3);
    const signed = chosen[0]!.chains[0]!;
    const before5 = await suite.ethers.provider.getBalance(address(5));
    await (
      await suite.ingestor.connect(suite.poster).ingest(
        signed.result,
        signed.instructions,
        chosen.map((r) => r.chains[0]!.signature),
        "0x",
      )
    ).wait();
    expect((await suite.ethers.provider.getBalance(address(5))) - before5).to.equal(500n);
    expect((await suite.oracle.escrowOf(requestId)).status).to.equal(2n); // Ingested
  });
});
