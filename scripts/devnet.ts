/**
 * `npm run devnet`: starts the two local chains, deploys the suite to both with
 * `npx hardhat deploy`, prints the addresses and keeps the chains up until Ctrl-C.
 * `npm run devnet -- --once` stops after deploying (exit code 0 only if both deploys succeeded).
 * The off-chain network (relayer, operators, collector) joins this command in a later issue.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_CHAINS, startChain, type RunningChain } from "./localChains.ts";

const once = process.argv.includes("--once");
const running: RunningChain[] = [];
const stopAll = async (code: number) => {
  await Promise.all(running.map((c) => c.stop()));
  process.exit(code);
};
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

try {
  for (const chain of LOCAL_CHAINS) {
    running.push(await startChain(chain));
    console.log(`chain ${chain.chainId} (${chain.name}) up on http://127.0.0.1:${chain.port}`);
  }
  const rows: Record<string, Record<string, string>> = {};
  for (const chain of LOCAL_CHAINS) {
    const deploy = spawnSync(join("node_modules", ".bin", "hardhat"), ["deploy", "--network", chain.name], {
      stdio: "inherit",
    });
    if (deploy.status !== 0) throw new Error(`deploy to ${chain.name} failed (exit ${deploy.status})`);
    for (const name of [
      "ExecutableOracle",
      "InstructionIngestor",
      "OwnedOperatorSet",
      "ContractFactory",
      "OmniToken",
    ]) {
      const file = join(process.env.VERSATUS_DEPLOYMENTS_DIR ?? "deployments", chain.name, `${name}.json`);
      rows[name] = {
        ...rows[name],
        [`chain ${chain.chainId}`]: (JSON.parse(readFileSync(file, "utf8")) as { address: string }).address,
      };
    }
  }
  console.log("\nVersatus devnet: the suite on both chains");
  console.table(rows);
  if (once) await stopAll(0);
  console.log("Chains keep running; Ctrl-C stops them.");
} catch (error) {
  console.error((error as Error).message);
  await stopAll(1);
}
