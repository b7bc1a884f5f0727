import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { Redis } from "ioredis";
import { destination, pino } from "pino";
import { custom, getAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devKey } from "../../cli/devnet/prepare.ts";
import { loadNodeConfig, startOperatorNode, type NodeRole, type OperatorNode } from "../../cli/node/index.ts";
import { createMemoryHub, type MemoryHub, type NodeNetwork } from "../../cli/node/network.ts";
import type { RedisConfig } from "../../protocol/config.ts";
import { NanoRuntime } from "../../runtime/executor.ts";
import { builtProgram } from "../fixtures/programs.ts";
import { deployTestSuite, OPERATOR_INDICES, type Suite } from "../helpers/suite.ts";
import { redisUrl } from "../worker/helpers.ts";

/**
 * Redis logical databases of the node tests: one per operator (nobody shares a Redis), and one
 * for the standalone-services test. Each is flushed before and after.
 */
export const NODE_REDIS_DBS = [1, 2, 3, 4] as const;
export const STANDALONE_REDIS_DB = 11;
/** How far the node tests' chain clock is behind this machine's. */
export const CHAIN_CLOCK_BEHIND_MS = 3_600_000;

export const operatorAddress = (index: number): Address => privateKeyToAccount(devKey(index)).address;

/**
 * One in-process chain with the suite deployed (4 staked operators, threshold 3), the
 * payout-splitter program built and published, every operator also allowed to post, a program
 * store, and an in-process gossip hub the nodes join (p2p.test.ts runs them over real libp2p).
 */
export async function createNodeWorld() {
  // The chain's clock starts an hour behind this machine's, as an in-process chain created late in a
  // long run does: every deadline must be judged by the chain's clock (a fresh-clone `npm test` once
  // failed here when the node judged it by the machine's).
  const connection: NetworkConnection = await network.create({
    network: "chainA",
    override: { initialDate: new Date(Date.now() - CHAIN_CLOCK_BEHIND_MS) },
  });
  const suite: Suite = await deployTestSuite(connection);
  const storeDir = mkdtempSync(join(tmpdir(), "versatus-node-programs-"));
  const dataDir = mkdtempSync(join(tmpdir(), "versatus-node-data-"));
  const pkg = builtProgram("payout-splitter").package;
  writeFileSync(join(storeDir, `${pkg.programId}.vpkg`), pkg.bytes);
  await (await suite.oracle.connect(suite.owner).publish(pkg.programId, "payout-splitter", "x")).wait();
  for (const index of OPERATOR_INDICES)
    await (await suite.ingestor.connect(suite.owner).setPoster(operatorAddress(index), true)).wait();
  const chainId = Number(suite.chainId);
  const transports = { [chainId]: custom(connection.provider) };
  const runtime = new NanoRuntime({ size: 2 });
  const redises = await Promise.all(
    NODE_REDIS_DBS.map(async (db) => {
      const redis = new Redis(redisUrl(db), { maxRetriesPerRequest: null });
      await redis.flushdb();
      return redis;
    }),
  );
  let hub: MemoryHub = createMemoryHub();
  /** Started nodes by operator index (the last one started for it); `extra` holds the others. */
  const nodes = new Map<number, OperatorNode>();
  const extra: OperatorNode[] = [];
  const logger = process.env.NODE_TEST_LOG
    ? pino({ level: "debug" }, destination(process.env.NODE_TEST_LOG))
    : pino({ level: "silent" });

  /**
   * Starts operator `index`'s node (its own Redis db, its own DA dir) with `roles`. With `p2p`,
   * over real libp2p on loopback (bootstrapping from the given multiaddrs); else on the hub.
   */
  const startNode = async (
    index: number,
    options: {
      roles?: NodeRole[];
      timing?: Record<string, number>;
      opsServer?: boolean;
      p2p?: { bootstrap: string[] };
      /** Replace parts of the hub member (fault injection). */
      wrapNetwork?: (network: NodeNetwork) => NodeNetwork;
      /** Another Redis than the operator's own database (test/cluster: a Redis Cluster). */
      redis?: RedisConfig;
      /** `network.recoveryThreads` (default 0: signers recovered on the main thread). */
      recoveryThreads?: number;
    } = {},
  ): Promise<OperatorNode> => {
    const roles = options.roles ?? ["relay", "compute", "collect", "post"];
    const position = OPERATOR_INDICES.indexOf(index);
    const config = loadNodeConfig({
      raw: {
        network: {
          name: "test",
          peerKeyFile: join(dataDir, `peer-${index}-${roles.join("-")}.key`),
          listen: ["/ip4/127.0.0.1/tcp/0"],
          bootstrap: options.p2p?.bootstrap ?? [],
          ...(options.recoveryThreads === undefined ? {} : { recoveryThreads: options.recoveryThreads }),
        },
        roles,
        redis: options.redis ?? { url: redisUrl(NODE_REDIS_DBS[position]!) },
        chains: [
          {
            chainId,
            rpcUrl: "http://in-process.invalid",
            oracle: suite.addresses.ExecutableOracle,
            ingestor: suite.addresses.InstructionIngestor,
            confirmations: 0,
            pollIntervalMs: 100,
          },
        ],
        programs: { dirs: [storeDir] },
        da: { primary: { layer: "local", dir: join(dataDir, `da-${index}`) } },
        poster: { maxBatchWaitMs: 20, receiptTimeoutMs: 5_000 },
        ops: { port: 0 },
        timing: {
          quorum: 3,
          stealAfterMs: 2_000,
          stealStepMs: 500,
          reportIntervalMs: 500,
          sweepIntervalMs: 100,
          postFallbackMs: 1_500,
          reconcileGraceMs: 5_000,
          ...options.timing,
        },
      },
      env: {},
    });
    const node = await startOperatorNode(config, {
      keys: { operatorKey: devKey(index), posterKey: devKey(index) },
      logger: logger.child({ node: index }),
      transports,
      runtime,
      ...(options.p2p
        ? {}
        : { network: async (o) => (options.wrapNetwork ?? ((n) => n))(hub.join(o.account.address, o)) }),
      opsServer: options.opsServer ?? false,
    });
    const previous = nodes.get(index);
    if (previous) extra.push(previous);
    nodes.set(index, node);
    return node;
  };

  return {
    suite,
    connection,
    chainId,
    programId: pkg.programId as Hex,
    storeDir,
    dataDir,
    transports,
    redises,
    nodes,
    startNode,
    activeSet: () => OPERATOR_INDICES.map((i) => getAddress(operatorAddress(i))),
    /** Stops every node and empties the databases (a fresh hub for the next test). */
    stopNodes: async () => {
      await Promise.all([...nodes.values(), ...extra.splice(0)].map((n) => n.close()));
      nodes.clear();
      hub = createMemoryHub();
      for (const r of redises) await r.flushdb();
    },
    close: async () => {
      await Promise.all([...nodes.values(), ...extra.splice(0)].map((n) => n.close()));
      for (const r of redises) {
        await r.flushdb();
        await r.quit();
      }
      await runtime.close();
    },
  };
}
export type NodeWorld = Awaited<ReturnType<typeof createNodeWorld>>;
