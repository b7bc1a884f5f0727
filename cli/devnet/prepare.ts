import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { executableOracleAbi, instructionIngestorAbi } from "../../protocol/generated/abis.ts";
import { buildProgram, programDirectories } from "../../programs/toolchain.ts";
import { devAccount } from "../../deploy/context.ts";
import { hardhatCommand, hardhatEnv, LOCAL_CHAINS, startChain, type RunningChain } from "../../scripts/localChains.ts";

/** One chain of the devnet with the suite deployed on it. */
export type DevnetChain = {
  name: string;
  chainId: number;
  rpcUrl: string;
  oracle: Address;
  ingestor: Address;
  /** What the ingestor reads: the StakingRegistry when staking is deployed, else the OwnedOperatorSet. */
  operatorSet: Address;
  factory: Address;
  omniToken: Address;
  /** HoneSTake (deploy/06_staking.ts), when deployed. */
  staking?: { registry: Address; adapter: Address; disputeManager: Address };
};

export type DevnetPrograms = Record<string, { programId: Hex; packagePath: string }>;

/** Private key of dev account `index` (local chains only: the mnemonic is public). */
export const devKey = (index: number): Hex => devAccount(index).privateKey as Hex;

/**
 * Starts (or reuses) the two local chains, deploys the suite to both with `npx hardhat deploy`,
 * builds the example programs, copies their packages into the program store and publishes them
 * on both chains. Every step is idempotent.
 */
export async function prepareDevnet(options: {
  root: string;
  storeDir: string;
  deploymentsDir: string;
  log: (line: string) => void;
  reuseChains?: boolean;
  /**
   * Accounts (dev indices) allowed to post results besides config/deploy's posters: the operators
   * of the p2p devnet each post their own turns (posting rotates among them per request).
   */
  posters?: number[];
}): Promise<{ chains: DevnetChain[]; programs: DevnetPrograms; running: RunningChain[] }> {
  const running: RunningChain[] = [];
  try {
    for (const chain of LOCAL_CHAINS) {
      running.push(await startChain({ ...chain, reuse: options.reuseChains ?? true, cwd: options.root }));
      options.log(`chain ${chain.chainId} up on http://127.0.0.1:${chain.port}`);
    }
    const chains: DevnetChain[] = [];
    for (const chain of LOCAL_CHAINS) {
      const [command, args] = hardhatCommand(options.root, ["deploy", "--network", chain.name]);
      const deploy = spawnSync(command, args, {
        cwd: options.root,
        env: hardhatEnv({ VERSATUS_DEPLOYMENTS_DIR: options.deploymentsDir }),
        encoding: "utf8",
      });
      if (deploy.status !== 0) throw new Error(`deploy to ${chain.name} failed:\n${deploy.stdout}\n${deploy.stderr}`);
      const saved = (name: string) => join(options.deploymentsDir, chain.name, `${name}.json`);
      const address = (name: string) => (JSON.parse(readFileSync(saved(name), "utf8")) as { address: Address }).address;
      const staking = existsSync(saved("DisputeManager"))
        ? {
            registry: address("StakingRegistry"),
            adapter: address("NativeStakeAdapter"),
            disputeManager: address("DisputeManager"),
          }
        : undefined;
      chains.push({
        name: chain.name,
        chainId: chain.chainId,
        rpcUrl: `http://127.0.0.1:${chain.port}`,
        oracle: address("ExecutableOracle"),
        ingestor: address("InstructionIngestor"),
        operatorSet: staking?.registry ?? address("OwnedOperatorSet"),
        factory: address("VersatusFactory"),
        omniToken: address("OmniToken"),
        ...(staking ? { staking } : {}),
      });
      options.log(`suite deployed on chain ${chain.chainId}`);
    }

    mkdirSync(options.storeDir, { recursive: true });
    const programs: DevnetPrograms = {};
    for (const dir of programDirectories(options.root).filter((d) => d.startsWith(join(options.root, "programs")))) {
      const built = buildProgram(dir);
      const programId = built.package.programId;
      const packagePath = join(options.storeDir, `${programId}.vpkg`);
      copyFileSync(built.packagePath, packagePath);
      programs[built.name] = { programId, packagePath };
    }
    const owner = privateKeyToAccount(devKey(0));
    for (const chain of chains) {
      const transport = http(chain.rpcUrl);
      const publicClient = createPublicClient({ transport });
      const wallet = createWalletClient({ account: owner, transport });
      for (const [name, { programId }] of Object.entries(programs)) {
        const published = await publicClient.readContract({
          address: chain.oracle,
          abi: executableOracleAbi,
          functionName: "isPublished",
          args: [programId],
        });
        if (published) continue;
        const hash = await wallet.writeContract({
          address: chain.oracle,
          abi: executableOracleAbi,
          functionName: "publish",
          args: [programId, name, `versatus://programs/${programId}`],
          chain: null,
        });
        await publicClient.waitForTransactionReceipt({ hash });
      }
      options.log(`published ${Object.keys(programs).length} programs on chain ${chain.chainId}`);
      const added = await allowPosters(chain, options.posters ?? []);
      if (added.length)
        options.log(`posters ${added.map((i) => `dev:${i}`).join(", ")} allowed on chain ${chain.chainId}`);
    }
    return { chains, programs, running };
  } catch (error) {
    // chains this call started would otherwise outlive the failed devnet (and keep it from exiting)
    await Promise.all(running.map((c) => c.stop()));
    throw error;
  }
}

/** Lets dev accounts `indices` post to `chain`'s ingestor (owner dev:0; idempotent). Returns those it added. */
export async function allowPosters(chain: DevnetChain, indices: number[]): Promise<number[]> {
  const transport = http(chain.rpcUrl);
  const publicClient = createPublicClient({ transport });
  const wallet = createWalletClient({ account: privateKeyToAccount(devKey(0)), transport });
  const added: number[] = [];
  for (const index of indices) {
    const account = privateKeyToAccount(devKey(index)).address;
    const allowed = await publicClient.readContract({
      address: chain.ingestor,
      abi: instructionIngestorAbi,
      functionName: "isPoster",
      args: [account],
    });
    if (allowed) continue;
    const hash = await wallet.writeContract({
      address: chain.ingestor,
      abi: instructionIngestorAbi,
      functionName: "setPoster",
      args: [account, true],
      chain: null,
    });
    await publicClient.waitForTransactionReceipt({ hash });
    added.push(index);
  }
  return added;
}
