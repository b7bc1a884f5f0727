/**
 * One chain of a chaos run, in a process of its own: `hardhat run chaos/chainHost.ts` with
 * CHAOS_CHAIN_NETWORK (chainA or chainBSim), CHAOS_CHAIN_OUT (where to write what it serves) and
 * CHAOS_PROGRAMS (JSON {name: programId} to publish). An in-process EDR chain with the suite
 * deployed as `npx hardhat deploy` deploys it locally (operators dev:1..4 allowed to post;
 * cli/devnet/inProcessChain.ts), served over HTTP JSON-RPC on a
 * free loopback port (not 8545/8546: other runs on this machine may hold those). Runs until
 * SIGTERM/SIGINT.
 */
import { writeFileSync } from "node:fs";
import { network } from "hardhat";
import { deployInProcessSuite, serveRpc } from "../cli/devnet/inProcessChain.ts";

export type HostedChain = {
  network: string;
  chainId: number;
  rpcUrl: string;
  oracle: string;
  ingestor: string;
  registry: string;
  disputeManager: string;
  omniToken: string;
};

async function main(): Promise<void> {
  const name = process.env.CHAOS_CHAIN_NETWORK ?? "chainA";
  const out = process.env.CHAOS_CHAIN_OUT;
  if (!out) throw new Error("CHAOS_CHAIN_OUT is not set (where to write the chain's address)");
  const programs = JSON.parse(process.env.CHAOS_PROGRAMS ?? "{}") as Record<string, string>;
  const connection = await network.create(name);
  const suite = await deployInProcessSuite(connection, {
    overrides: { posters: ["dev:5", "dev:1", "dev:2", "dev:3", "dev:4"] },
    programs: programs as Record<string, `0x${string}`>,
  });
  const rpc = await serveRpc(connection, "127.0.0.1");
  const hosted: HostedChain = { network: name, rpcUrl: rpc.url, ...suite };
  writeFileSync(out, JSON.stringify(hosted));
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await rpc.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
