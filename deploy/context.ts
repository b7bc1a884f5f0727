import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ethers as ethersLib } from "ethers";
import type { DeployConfig } from "./config.ts";
import type { DeploymentStore } from "./store.ts";

/** The canonical CREATE2 deployment proxy: same address on every chain that has it. */
export const CREATE2_PROXY = "0x4e59b44847b379578588920cA78FbF26c0B4956C";
/** Its runtime code (calldata = salt ++ initcode; returns the created address), installed on local chains. */
export const CREATE2_PROXY_CODE =
  "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";

/** Development mnemonic of local chains (keys are public: local chains only). */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

export type DeployContext = {
  ethers: HardhatEthers;
  deployer: HardhatEthersSigner;
  chainId: number;
  config: DeployConfig;
  store: DeploymentStore;
  log: (message: string) => void;
  /** Resolves an operator reference (address or dev:N) to an address. */
  resolveAccount: (ref: string) => string;
  provider: { request: (args: { method: string; params?: unknown[] }) => Promise<unknown> };
  /**
   * A signer for `dev:N` (account N of the public development mnemonic), connected to this
   * network. Local chains only (see {@link LOCAL_CHAIN_IDS}): anywhere else it throws.
   */
  devSigner: (ref: string) => ethersLib.Signer;
};

/** Chains on which `dev:N` accounts may sign (their keys are public). */
export const LOCAL_CHAIN_IDS: readonly number[] = [31337, 31338, 1337];

export function makeDevSigner(chainId: number, provider: ethersLib.Provider): (ref: string) => ethersLib.Signer {
  return (ref: string) => {
    const dev = /^dev:(\d+)$/.exec(ref);
    if (!dev) throw new Error(`${ref} is not a dev:N account: the deploy cannot sign for it`);
    if (!LOCAL_CHAIN_IDS.includes(chainId)) {
      throw new Error(
        `${ref} signs with a public development key: refused on chain ${chainId} (local chains only: ${LOCAL_CHAIN_IDS.join(", ")})`,
      );
    }
    return devAccount(Number(dev[1])).connect(provider);
  };
}

export function devAccount(index: number): ethersLib.HDNodeWallet {
  return ethersLib.HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
}

export function makeAccountResolver(deployer: string): (ref: string) => string {
  return (ref: string) => {
    if (ref === "deployer") return deployer;
    const dev = /^dev:(\d+)$/.exec(ref);
    if (dev) return devAccount(Number(dev[1])).address;
    return ethersLib.getAddress(ref);
  };
}

/**
 * Deploys `contractName` once: if a saved deployment with the same bytecode and arguments has code
 * on chain, it is reused; otherwise a new one is deployed and saved.
 */
export async function deployOnce(
  ctx: DeployContext,
  name: string,
  contractName: string,
  args: unknown[],
): Promise<string> {
  const factory = await ctx.ethers.getContractFactory(contractName, ctx.deployer);
  const bytecodeHash = ethersLib.keccak256(factory.bytecode);
  const normalizedArgs = normalizeArgs(args);
  const saved = ctx.store.get(name);
  if (
    saved &&
    saved.bytecodeHash === bytecodeHash &&
    JSON.stringify(saved.args) === JSON.stringify(normalizedArgs) &&
    saved.chainId === ctx.chainId &&
    (await ctx.ethers.provider.getCode(saved.address)) !== "0x"
  ) {
    ctx.log(`reusing ${name} at ${saved.address}`);
    return saved.address;
  }
  const contract = await factory.deploy(...args);
  const receipt = await contract.deploymentTransaction()!.wait();
  const address = await contract.getAddress();
  ctx.store.save(name, {
    address,
    contractName,
    abi: JSON.parse(factory.interface.formatJson()) as unknown[],
    args: normalizedArgs,
    transactionHash: receipt?.hash,
    bytecodeHash,
    chainId: ctx.chainId,
  });
  ctx.log(`deployed ${name} at ${address}`);
  return address;
}

/** Saves an extra name for a contract deployed under another (e.g. the registry inside the oracle). */
export async function saveAlias(ctx: DeployContext, name: string, of: string, contractName: string): Promise<void> {
  const base = ctx.store.get(of);
  if (!base) throw new Error(`cannot alias ${name}: ${of} is not deployed`);
  const view = await ctx.ethers.getContractAt(contractName, base.address);
  ctx.store.save(name, { ...base, contractName, abi: JSON.parse(view.interface.formatJson()) as unknown[] });
}

/** Sends a transaction only when `isDone` says the chain is not already in the wanted state. */
export async function ensure(
  ctx: DeployContext,
  what: string,
  isDone: () => Promise<boolean>,
  send: () => Promise<{ wait: () => Promise<unknown> }>,
): Promise<void> {
  if (await isDone()) return;
  const tx = await send();
  await tx.wait();
  ctx.log(what);
}

function normalizeArgs(args: unknown[]): unknown[] {
  return JSON.parse(JSON.stringify(args, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as unknown[];
}
