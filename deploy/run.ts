import type { NetworkConnection } from "hardhat/types/network";
import type { DeployConfig } from "./config.ts";
import { makeAccountResolver, makeDevSigner, type DeployContext } from "./context.ts";
import type { DeploymentStore } from "./store.ts";
import type { Progress } from "../protocol/progress.ts";
import deployOperatorSet from "./01_operator_set.ts";
import deployOracle from "./02_oracle.ts";
import deployIngestor from "./03_ingestor.ts";
import deployFactory from "./04_factory.ts";
import deployOmniToken from "./05_omni_token.ts";
import deployStaking from "./06_staking.ts";
import deployNames from "./07_names.ts";

/** The deploy scripts, in order. Each one is idempotent: it checks the chain before it sends. */
export const DEPLOY_STEPS = [
  deployOperatorSet,
  deployOracle,
  deployIngestor,
  deployFactory,
  deployOmniToken,
  deployStaking,
  deployNames,
];

export type SuiteAddresses = {
  OwnedOperatorSet: string;
  ExecutableOracle: string;
  InstructionIngestor: string;
  VersatusFactory: string;
  OmniToken?: string;
  NativeStakeAdapter?: string;
  StakingRegistry?: string;
  DisputeManager?: string;
  NameRegistry: string;
};

/** Deploys and wires the whole suite on `connection` with `config`, saving to `store`. */
export async function deploySuite(
  connection: NetworkConnection<"generic"> | NetworkConnection,
  config: DeployConfig,
  store: DeploymentStore,
  log: (message: string) => void = () => {},
  progress?: Progress,
): Promise<SuiteAddresses> {
  const { ethers } = connection as unknown as { ethers: DeployContext["ethers"] };
  const [deployer] = await ethers.getSigners();
  if (!deployer) throw new Error("no deployer account is configured for this network");
  const chainId = Number((await ethers.provider.getNetwork()).chainId);
  const ctx: DeployContext = {
    ethers,
    deployer,
    chainId,
    config,
    store,
    log,
    resolveAccount: makeAccountResolver(deployer.address),
    provider: connection.provider as DeployContext["provider"],
    devSigner: makeDevSigner(chainId, ethers.provider),
  };
  for (const step of DEPLOY_STEPS) {
    if (progress) await progress.step(step.name.replace(/^deploy/, "") || "step", () => step(ctx));
    else await step(ctx);
  }
  const get = (name: string) => store.get(name)?.address;
  return {
    OwnedOperatorSet: get("OwnedOperatorSet")!,
    ExecutableOracle: get("ExecutableOracle")!,
    InstructionIngestor: get("InstructionIngestor")!,
    VersatusFactory: get("VersatusFactory")!,
    OmniToken: get("OmniToken"),
    NativeStakeAdapter: get("NativeStakeAdapter"),
    StakingRegistry: get("StakingRegistry"),
    DisputeManager: get("DisputeManager"),
    NameRegistry: get("NameRegistry")!,
  };
}
