/**
 * `npm run chains`: starts the two local chains (31337 on :8545, 31338 on :8546) until Ctrl-C.
 */
import { LOCAL_CHAINS, startChain, type RunningChain } from "./localChains.ts";

const running: RunningChain[] = [];
const stopAll = async () => {
  await Promise.all(running.map((c) => c.stop()));
  process.exit(0);
};
process.on("SIGINT", stopAll);
process.on("SIGTERM", stopAll);
// No top-level await (issue 13, nodejs/node#53238): the script runs in main().
async function main(): Promise<void> {
  try {
    for (const chain of LOCAL_CHAINS) {
      running.push(await startChain(chain));
      console.log(`chain ${chain.chainId} (${chain.name}) listening on http://127.0.0.1:${chain.port}`);
    }
    console.log("Deploy with: npx hardhat deploy --network localhost && npx hardhat deploy --network chainB");
    console.log("Ctrl-C stops both chains.");
  } catch (error) {
    console.error((error as Error).message);
    await Promise.all(running.map((c) => c.stop()));
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
