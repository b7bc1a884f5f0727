import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { network } from "hardhat";
import { stringToHex, zeroAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createDaClient } from "../../da/index.ts";
import { devAccount } from "../../deploy/context.ts";
import { EVIDENCE_STREAM, evidenceToJson, type Evidence } from "../../protocol/evidence.ts";
import {
  instructionsForChain,
  resultForChain,
  sortSignatures,
  type ExecutionRecordBody,
} from "../../protocol/record.ts";
import { resultDomain, resultTypes, type Result } from "../../protocol/result.ts";
import { contextOfRequest } from "../../protocol/programContext.ts";
import type { ProgramPackage } from "../../protocol/programPackage.ts";
import { NanoRuntime } from "../../runtime/executor.ts";
import { runRequest } from "../../worker/execute.ts";
import { startWatcher, type WatcherHandle } from "../../watcher/index.ts";
import { watcherConfigSchema } from "../../watcher/config.ts";
import { builtProgram } from "../fixtures/programs.ts";
import { ETH_FEE } from "../helpers/suite.ts";
import {
  eventually,
  operatorKeys,
  silentLogger,
  tempDir,
  testChain,
  testRedis,
  type TestChain,
} from "../ingestor/helpers.ts";

export const WATCHER_REDIS_DB = 15;
/** dev:9 is the watcher the deploy stakes and registers (config/deploy/localhost.json). */
export const watcherKey = devAccount(9).privateKey as Hex;
export const PAYEES: Address[] = [
  "0x000000000000000000000000000000000000dEaD",
  "0x000000000000000000000000000000000000bEEF",
];

/** One in-process chain with the whole suite (staking included), a program, DA, Redis DB 15 and a runtime. */
export async function createWatcherWorld(options: { packages?: ProgramPackage[] } = {}) {
  const chain = await testChain(await network.create());
  if (!chain.addresses.DisputeManager || !chain.addresses.StakingRegistry)
    throw new Error("the deploy did not create the staking contracts (config/deploy/localhost.json staking)");
  const { url: redisUrl, redis } = await testRedis(WATCHER_REDIS_DB);
  const da = tempDir("versatus-watcher-da-");
  const programs = tempDir("versatus-watcher-programs-");
  const pkg = builtProgram("payout-splitter").package;
  mkdirSync(programs.dir, { recursive: true });
  writeFileSync(join(programs.dir, `${pkg.programId}.vpkg`), pkg.bytes);
  await (await chain.oracle.connect(chain.owner).publish(pkg.programId, "payout-splitter", "x")).wait();
  for (const extra of options.packages ?? []) {
    writeFileSync(join(programs.dir, `${extra.programId}.vpkg`), extra.bytes);
    await (await chain.oracle.connect(chain.owner).publish(extra.programId, extra.manifest.name, "x")).wait();
  }
  const daClient = createDaClient({ primary: { layer: "local", dir: da.dir } });
  const runtime = new NanoRuntime({ size: 2 });
  const { ethers } = chain.connection;
  const dispute = await ethers.getContractAt("DisputeManager", chain.addresses.DisputeManager);
  const registry = await ethers.getContractAt("StakingRegistry", chain.addresses.StakingRegistry);

  const config = watcherConfigSchema.parse({
    chains: [
      {
        chainId: Number(chain.chainId),
        rpcUrl: "http://127.0.0.1:1",
        oracle: chain.addresses.ExecutableOracle,
        ingestor: chain.addresses.InstructionIngestor,
        disputeManager: chain.addresses.DisputeManager,
        registry: chain.addresses.StakingRegistry,
        pollIntervalMs: 20,
      },
    ],
    da: { primary: { layer: "local", dir: da.dir } },
    programs: { dirs: [programs.dir] },
    redis: { url: redisUrl },
    options: { pollIntervalMs: 50, daAttempts: 2, daRetryDelayMs: 20 },
  });

  const watchers: WatcherHandle[] = [];
  const start = async (overrides: Partial<typeof config.options> = {}) => {
    const watcher = await startWatcher(
      { ...config, options: { ...config.options, ...overrides } },
      {
        privateKey: watcherKey,
        logger: silentLogger,
        transports: { [Number(chain.chainId)]: chain.transport },
        da: daClient,
        runtime,
        autoStart: false,
        opsServer: false,
      },
    );
    watchers.push(watcher);
    return watcher;
  };

  /** A payout request of 1e15 wei to PAYEES; returns its id and input. */
  const request = async (): Promise<{ requestId: Hex; input: Hex }> => {
    const value = 10n ** 15n;
    const input = stringToHex(
      JSON.stringify({ amount: (value - ETH_FEE).toString(), recipients: PAYEES.map((to) => ({ to, weight: 1 })) }),
    );
    const oracle = chain.oracle.connect(chain.requester);
    const requestId = (await oracle.nextRequestId(await chain.requester.getAddress(), pkg.programId, input)) as Hex;
    await (await oracle.request(pkg.programId, input, 600n, { value })).wait();
    return { requestId: requestId.toLowerCase() as Hex, input };
  };

  /** The body an honest worker computes for `requestId` (clock = escrow requestedAt). */
  const honestBody = async (requestId: Hex, input: Hex): Promise<ExecutionRecordBody> => {
    const escrow = await chain.oracle.escrowOf(requestId);
    const [event] = await chain.oracle.queryFilter(chain.oracle.filters.ExecutionRequested(requestId));
    const context = contextOfRequest(
      {
        chainId: chain.chainIdString,
        oracle: chain.addresses.ExecutableOracle as Address,
        requestId,
        programId: pkg.programId,
        requester: event!.args.requester as Address,
        token: zeroAddress,
        amount: escrow.amount.toString(),
        blockNumber: String(event!.blockNumber),
        blockTimestamp: escrow.requestedAt.toString(),
      },
      ETH_FEE,
    );
    const run = await runRequest(
      { context, input },
      pkg,
      runtime,
      // ETH escrow, transfers only: no token is asked about
      { controllers: async () => false },
    );
    return run.body;
  };

  const sign = (key: Hex, result: Result) =>
    privateKeyToAccount(key).signTypedData({
      domain: resultDomain(chain.chainId, chain.addresses.InstructionIngestor as Address),
      types: resultTypes,
      primaryType: "Result",
      message: result,
    });

  /**
   * Signs `body` with operators 1..3 (a quorum, faulty or not), writes the record to DA unless
   * `skipDa` (then the pointer names a record nobody stored) and ingests it through the ingestor.
   */
  const ingest = async (body: ExecutionRecordBody, options: { skipDa?: boolean } = {}) => {
    const result = resultForChain(body, chain.chainId);
    const signatures = sortSignatures(
      await Promise.all(
        operatorKeys.slice(0, 3).map(async (key) => ({
          chainId: chain.chainId,
          signer: privateKeyToAccount(key).address,
          signature: await sign(key, result),
        })),
      ),
    );
    const pointer = options.skipDa
      ? (`0x00${"ab".repeat(32)}` as Hex)
      : (await daClient.put({ body, signatures })).pointerHex;
    const ix = instructionsForChain(body, chain.chainId).map((i) => ({ ...i }));
    await (
      await chain.ingestor.connect(chain.poster).ingest(
        result,
        ix,
        signatures.map((s) => s.signature),
        pointer,
      )
    ).wait();
    return { result, signatures, pointer };
  };

  const increaseTime = async (seconds: number) => {
    await chain.connection.provider.request({ method: "evm_increaseTime", params: [seconds] });
    await chain.connection.provider.request({ method: "evm_mine", params: [] });
  };

  const addEvidence = async (evidence: Evidence) => {
    await redis.xadd(EVIDENCE_STREAM, "*", "data", JSON.stringify(evidenceToJson(evidence)));
  };

  /** Ticks the watcher until `check` holds. */
  const tickUntil = async <T>(watcher: WatcherHandle, check: () => Promise<T | undefined | false>, what: string) =>
    eventually(
      async () => {
        await watcher.tickOnce();
        // a live chain keeps producing blocks; the automining test chain only mines on transactions,
        // and a committed challenge is revealed only in a later block
        await chain.connection.provider.request({ method: "evm_mine", params: [] });
        return check();
      },
      30_000,
      what,
    );

  return {
    chain,
    pkg,
    redis,
    daClient,
    runtime,
    dispute,
    registry,
    config,
    start,
    request,
    honestBody,
    sign,
    ingest,
    increaseTime,
    addEvidence,
    tickUntil,
    close: async () => {
      for (const w of watchers) await w.close();
      await redis.flushdb();
      await redis.quit();
      await daClient.close();
      await runtime.close();
      da.remove();
      programs.remove();
    },
  };
}
export type WatcherWorld = Awaited<ReturnType<typeof createWatcherWorld>>;
export type { TestChain };
