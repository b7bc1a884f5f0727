import { join } from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { BaseError } from "../protocol/errors.ts";
import { loadDeployConfig, type DeployConfig } from "./config.ts";
import { DeploymentStore } from "./store.ts";
import { DEPLOY_STEPS, deploySuite } from "./run.ts";
import { createProgress } from "../protocol/progress.ts";

type DeployArgs = { reset: boolean };

/** `npx hardhat deploy --network <name>`: deploys and wires the suite from config/deploy/<name>.json. */
export default async function deployTask(args: DeployArgs, hre: HardhatRuntimeEnvironment): Promise<void> {
  const connection = await hre.network.getOrCreate();
  const network = connection.networkName;
  let config: DeployConfig;
  try {
    config = loadDeployConfig(network);
  } catch (error) {
    if (!(error instanceof BaseError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return;
  }
  // a fresh checkout has no artifacts yet: build first, as `hardhat run` and `hardhat test` do
  await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
  const inProcess = connection.networkConfig.type === "edr-simulated";
  const root = process.env.VERSATUS_DEPLOYMENTS_DIR ?? join(process.cwd(), "deployments");
  const store = new DeploymentStore(inProcess ? undefined : join(root, network));
  if (args.reset) store.reset();
  const progress = createProgress({ title: `deploying the suite to ${network}`, steps: DEPLOY_STEPS.length });
  const addresses = await deploySuite(connection, config, store, (m) => progress.log(`[${network}] ${m}`), progress);
  progress.done();
  console.log(`\nVersatus suite on ${network} (chain ${(await connection.ethers.provider.getNetwork()).chainId}):`);
  console.table(Object.fromEntries(Object.entries(addresses).filter(([, a]) => a !== undefined)));
  if (store.dir) console.log(`saved under ${store.dir}`);
}
