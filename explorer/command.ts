import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, http, type Address } from "viem";
import { loadNetwork, type Network } from "../cli/programPublish.ts";
import { daDirOf } from "../cli/clientOptions.ts";
import { executableOracleAbi, instructionIngestorAbi, stakingRegistryAbi } from "../protocol/generated/abis.ts";
import { BaseError, InvalidInputError, redactUrl } from "../protocol/errors.ts";
import { devnetNodeUrls } from "../cli/network.ts";
import { nodesFromEnv, parseExplorerNodes } from "./nodes.ts";
import { startExplorer, type ExplorerChain } from "./server.ts";

/**
 * Every address the explorer needs, from the network's oracles: the ingestor (`oracle.ingestor()`),
 * its operator set and, when that is a StakingRegistry, the adapter and DisputeManager; the omni
 * token from deployments/<chain>/OmniToken.json when there is one.
 */
export async function resolveExplorerChains(network: Network, deploymentsDir?: string): Promise<ExplorerChain[]> {
  const dir = deploymentsDir ?? process.env.VERSATUS_DEPLOYMENTS_DIR ?? "deployments";
  return Promise.all(
    network.chains.map(async (chain): Promise<ExplorerChain> => {
      const client = createPublicClient({ transport: http(chain.rpcUrl) });
      let ingestor: Address;
      try {
        ingestor = await client.readContract({
          address: chain.oracle,
          abi: executableOracleAbi,
          functionName: "ingestor",
        });
      } catch (cause) {
        throw new BaseError(`No Versatus oracle answers at ${chain.oracle} on ${redactUrl(chain.rpcUrl)}`, {
          cause,
          hints: ["Is the chain up and the suite deployed? (`npm run devnet`)"],
        });
      }
      const operatorSet = await client.readContract({
        address: ingestor,
        abi: instructionIngestorAbi,
        functionName: "operatorSet",
      });
      const registry = { address: operatorSet, abi: stakingRegistryAbi } as const;
      const staking = await Promise.all([
        client.readContract({ ...registry, functionName: "adapter" }),
        client.readContract({ ...registry, functionName: "disputeModule" }),
      ]).then(
        ([adapter, disputeManager]) => ({ registry: operatorSet, adapter, disputeManager }),
        () => undefined, // an OwnedOperatorSet: no HoneSTake on this chain
      );
      const omniFile = join(dir, chain.name, "OmniToken.json");
      const omniToken = existsSync(omniFile)
        ? (JSON.parse(readFileSync(omniFile, "utf8")) as { address: Address }).address
        : undefined;
      return {
        name: chain.name,
        chainId: chain.chainId,
        rpcUrl: chain.rpcUrl,
        oracle: chain.oracle,
        ingestor,
        omniToken,
        staking,
      };
    }),
  );
}

/**
 * The nodes whose GET /network the Network page shows: `--node` (repeatable), else
 * `VERSATUS_EXPLORER_NODES` (comma-separated), else for the devnet its nodes.json.
 */
export function explorerNodeUrls(options: { node?: string[] }, network: string, env = process.env): string[] {
  if (options.node?.length) return parseExplorerNodes(options.node, "--node");
  const fromEnv = nodesFromEnv(env.VERSATUS_EXPLORER_NODES);
  if (fromEnv) return fromEnv;
  return network === "devnet" ? parseExplorerNodes(devnetNodeUrls(), ".versatus/devnet/nodes.json") : [];
}

/** `versatus explorer --network <devnet|networks/x.json> [--port 8600] [--redis url] [--da-dir dir] [--node url...]` */
export function registerExplorerCommand(root: Command): void {
  root
    .command("explorer")
    .description(
      "Serve the web explorer and the example dApp for a network (read-only; Bull Board for your own queues)",
    )
    .option("--network <name>", "devnet, a networks/<name>.json, or a path to a network .json file", "devnet")
    .option("--port <port>", "port on 127.0.0.1 (0 = any free port)", "8600")
    .option("--redis <url>", "your Redis (env REDIS_URL): queue health and Bull Board")
    .option("--da-dir <path>", "local DA store of execution records (default .versatus/da or .versatus/devnet/da)")
    .option(
      "--node <url...>",
      "an operator node's ops server for the Network page (env VERSATUS_EXPLORER_NODES, comma-separated; devnet: its nodes)",
    )
    .action(async (options: { network: string; port: string; redis?: string; daDir?: string; node?: string[] }) => {
      try {
        if (!/^\d+$/.test(options.port) || Number(options.port) > 65535)
          throw new InvalidInputError("--port", "a port number in 0..65535");
        const nodes = explorerNodeUrls(options, options.network);
        const network = loadNetwork(options.network);
        const chains = await resolveExplorerChains(network);
        const redisUrl = options.redis ?? process.env.REDIS_URL;
        const explorer = await startExplorer({
          chains,
          port: Number(options.port),
          da: { dir: daDirOf(options) },
          redisUrl,
          devAccounts: network.devAccounts,
          programDirs: network.programs.dirs,
          network: network.name,
          nodes,
          log: (line) => console.log(line),
        });
        console.log(`explorer for ${network.name} (${chains.map((c) => c.chainId).join(", ")}): ${explorer.url}`);
        const stop = () => {
          void explorer.close().finally(() => process.exit(0));
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      } catch (error) {
        console.error(error instanceof Error ? error.message : String(error));
        process.exitCode = 1;
      }
    });
}
