import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { Redis } from "ioredis";
import { destination, pino } from "pino";
import { custom, stringToHex, type Hex } from "viem";
import { ethers as E } from "ethers";
import { startDevnetServices, type DevnetServices } from "../../cli/devnet/services.ts";
import type { DevnetChain } from "../../cli/devnet/prepare.ts";
import { deployTestSuite, ETH_FEE, type Suite } from "../helpers/suite.ts";
import { builtProgram } from "../fixtures/programs.ts";

export const E2E_REDIS_DB = 12;
export const redisUrl = `${(process.env.REDIS_URL ?? "redis://127.0.0.1:6379").replace(/\/\d+$/, "")}/${E2E_REDIS_DB}`;

export type Chain = { suite: Suite; connection: NetworkConnection; devnet: DevnetChain };

/**
 * Two in-process chains with the suite deployed as `npx hardhat deploy` does, the example
 * programs built from source and published on both, a program store, and a flushed Redis DB.
 */
export async function createWorld() {
  const chains: Chain[] = [];
  for (const name of ["chainA", "chainBSim"]) {
    const connection = await network.create(name);
    const suite = await deployTestSuite(connection);
    chains.push({
      suite,
      connection,
      devnet: {
        name,
        chainId: Number(suite.chainId),
        rpcUrl: "http://in-process.invalid",
        oracle: suite.addresses.ExecutableOracle as Hex,
        ingestor: suite.addresses.InstructionIngestor as Hex,
        // the ingestor reads the StakingRegistry (config/deploy/*.json: staking.operatorSet "staked")
        operatorSet: suite.addresses.StakingRegistry as Hex,
        factory: suite.addresses.VersatusFactory as Hex,
        omniToken: suite.addresses.OmniToken as Hex,
        staking: {
          registry: suite.addresses.StakingRegistry as Hex,
          adapter: suite.addresses.NativeStakeAdapter as Hex,
          disputeManager: suite.addresses.DisputeManager as Hex,
        },
      },
    });
  }
  const storeDir = mkdtempSync(join(tmpdir(), "versatus-e2e-programs-"));
  const dataDir = mkdtempSync(join(tmpdir(), "versatus-e2e-data-"));
  const programs: Record<string, Hex> = {};
  for (const name of ["payout-splitter", "token-mover"]) {
    const pkg = builtProgram(name).package;
    writeFileSync(join(storeDir, `${pkg.programId}.vpkg`), pkg.bytes);
    programs[name] = pkg.programId;
    for (const c of chains)
      await (await c.suite.oracle.connect(c.suite.owner).publish(pkg.programId, name, "x")).wait();
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  await redis.flushdb();
  const transports = Object.fromEntries(chains.map((c) => [c.devnet.chainId, custom(c.connection.provider)]));

  let services: DevnetServices | undefined;
  const start = async (
    options: Partial<
      Pick<
        Parameters<typeof startDevnetServices>[0],
        "operators" | "scheduler" | "watcher" | "watcherOptions" | "colluders" | "blockTickMs"
      >
    > = {},
  ) => {
    services = await startDevnetServices({
      // the network tests run without a watcher; HoneSTake tests ask for one
      watcher: false,
      chains: chains.map((c) => c.devnet),
      redisUrl,
      storeDir,
      dataDir,
      transports,
      // E2E_LOG=<file> keeps the services' JSON logs of a run for diagnosis
      ...(process.env.E2E_LOG ? { logger: pino({ level: "info" }, destination(process.env.E2E_LOG)) } : {}),
      ...options,
    });
    return services;
  };
  const [a, b] = chains as [Chain, Chain];
  return {
    a,
    b,
    chains,
    programs,
    storeDir,
    redis,
    start,
    get services() {
      return services!;
    },
    close: async () => {
      await services?.close();
      await redis.flushdb();
      await redis.quit();
    },
  };
}
export type World = Awaited<ReturnType<typeof createWorld>>;
/** What the request helpers below need of a world (the in-process one, or test/network's multi-process one). */
export type RequestWorld = { a: { suite: Suite }; programs: Record<string, Hex> };

export const PAYEES = [
  E.getAddress("0x000000000000000000000000000000000000dEaD"),
  E.getAddress("0x000000000000000000000000000000000000bEEF"),
];

/** Sends `count` payout requests of `value` wei on chain A (each spends exactly value − fee). */
export async function requestPayouts(
  world: RequestWorld,
  count: number,
  value = 10n ** 15n,
  ttl = 600n,
  inputOverride?: string,
) {
  const { suite } = world.a;
  const oracle = suite.oracle.connect(suite.requester);
  const ids: Hex[] = [];
  let nonce = await suite.requester.getNonce();
  const input = inputOverride ?? payoutInput(value);
  const first = (await oracle.nextRequestId(
    await suite.requester.getAddress(),
    world.programs["payout-splitter"]!,
    stringToHex(input),
  )) as Hex;
  const sent = [];
  for (let i = 0; i < count; i++) {
    sent.push(
      await oracle.request(world.programs["payout-splitter"]!, stringToHex(input), ttl, { value, nonce: nonce++ }),
    );
  }
  for (const tx of sent) await tx.wait();
  // request ids are consecutive nonces of the oracle's counter: read them from the events
  const logs = await suite.oracle.queryFilter(
    suite.oracle.filters.ExecutionRequested(undefined, undefined, await suite.requester.getAddress()),
  );
  const all = logs.map((l) => l.args.requestId as Hex);
  const start = all.indexOf(first);
  ids.push(...all.slice(start, start + count));
  return ids;
}

/** The payout-splitter input `requestPayouts` sends by default for `value`. */
export function payoutInput(value = 10n ** 15n): string {
  return JSON.stringify({ amount: (value - ETH_FEE).toString(), recipients: PAYEES.map((to) => ({ to, weight: 1 })) });
}

/** The id the requester's next default payout request will get (ids bind program and input). */
export async function nextPayoutId(world: RequestWorld, value = 10n ** 15n): Promise<Hex> {
  const { suite } = world.a;
  return (await suite.oracle.nextRequestId(
    await suite.requester.getAddress(),
    world.programs["payout-splitter"]!,
    stringToHex(payoutInput(value)),
  )) as Hex;
}

/** Waits (polling, no timing asserted) until every request is no longer Open. */
export async function waitSettled(world: RequestWorld, ids: Hex[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(
      ids.map((id) => world.a.suite.oracle.escrowOf(id).then((e) => Number(e.status))),
    );
    const open = statuses.filter((s) => s === 1).length;
    if (open === 0) return;
    if (Date.now() > deadline) throw new Error(`${open} of ${ids.length} requests still open`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Every request settled exactly once (one ResultIngested, or one Refunded, never both), and the
 * oracle holds exactly the fees of ingested requests plus the escrow of open ones.
 */
export async function assertSettledOnceAndEscrowExact(
  world: RequestWorld,
  ids: Hex[],
): Promise<{ ingested: number; refunded: number }> {
  const { suite } = world.a;
  const ingestedLogs = await suite.ingestor.queryFilter(suite.ingestor.filters.ResultIngested());
  const refundedLogs = await suite.oracle.queryFilter(suite.oracle.filters.Refunded());
  const count = (logs: { args: { requestId: string } }[]) => {
    const m = new Map<string, number>();
    for (const l of logs) m.set(l.args.requestId, (m.get(l.args.requestId) ?? 0) + 1);
    return m;
  };
  const ing = count(ingestedLogs as never);
  const ref = count(refundedLogs as never);
  let ingested = 0;
  let refunded = 0;
  let open = 0n;
  let fees = 0n;
  const all = await suite.oracle.queryFilter(suite.oracle.filters.ExecutionRequested());
  for (const log of all) {
    const id = log.args.requestId as string;
    const times = (ing.get(id) ?? 0) + (ref.get(id) ?? 0);
    if (times > 1) throw new Error(`request ${id} settled ${times} times`);
    const escrow = await suite.oracle.escrowOf(id);
    if (ing.get(id)) {
      // an ingested request's slot holds its ingestion record: the asset comes from the request event
      if (log.args.token === E.ZeroAddress) fees += ETH_FEE;
      if (ids.includes(id as Hex)) ingested++;
    } else if (ref.get(id)) {
      if (ids.includes(id as Hex)) refunded++;
    } else {
      open += escrow.amount;
    }
  }
  for (const id of ids) if (!ing.get(id) && !ref.get(id)) throw new Error(`request ${id} never settled`);
  const balance = await suite.ethers.provider.getBalance(await suite.oracle.getAddress());
  if (balance !== fees + open)
    throw new Error(`oracle holds ${balance} wei, expected fees ${fees} + open escrow ${open}`);
  return { ingested, refunded };
}
