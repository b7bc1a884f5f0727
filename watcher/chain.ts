import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { disputeManagerAbi, instructionIngestorAbi, stakingRegistryAbi } from "../protocol/generated/abis.ts";
import { decodeIngestedCall, type IngestedCall } from "../protocol/ingested.ts";
import type { WatcherChainConfig } from "./config.ts";

/**
 * One followed chain as the watcher sees it: its contracts, a public client, a wallet client for
 * the watcher's account, and one transaction lane (sends are serialised per chain so nonces never
 * collide; each send is simulated first so a revert comes back decoded by name).
 */
export type WatcherChain = {
  config: WatcherChainConfig;
  chainId: bigint;
  oracle: Address;
  ingestor: Address;
  disputeManager: Address;
  registry: Address;
  client: PublicClient;
  wallet: WalletClient;
  account: LocalAccount;
  /** Simulates, sends and waits for the receipt of one call (serialised per chain). */
  send: (call: ContractCall) => Promise<Hex>;
  /** The chain's latest block timestamp (phase decisions follow the chain, not the wall clock). */
  now: () => Promise<bigint>;
  /** DisputeManager.params() (cached; they change rarely). */
  params: () => Promise<DisputeParams>;
};

export type ContractCall = {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
};

export type DisputeParams = {
  bond: bigint;
  challengeWindow: bigint;
  commitPeriod: bigint;
  revealPeriod: bigint;
};

export function createWatcherChain(
  config: WatcherChainConfig,
  account: LocalAccount,
  transport?: Transport,
): WatcherChain {
  const t = transport ?? http(config.rpcUrl, { retryCount: 3, retryDelay: 200 });
  const chain = {
    id: config.chainId,
    name: config.name ?? `chain-${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  };
  const client = createPublicClient({ chain, transport: t, pollingInterval: config.pollIntervalMs }) as PublicClient;
  const wallet = createWalletClient({ chain, transport: t, account });
  let lane: Promise<unknown> = Promise.resolve();
  const send = (call: ContractCall): Promise<Hex> => {
    const run = async () => {
      const { request } = await client.simulateContract({
        account,
        address: call.address,
        abi: call.abi,
        functionName: call.functionName,
        args: call.args,
        ...(call.value === undefined ? {} : { value: call.value }),
      } as never);
      const hash = await wallet.writeContract(request as never);
      const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
      if (receipt.status !== "success") throw new Error(`${call.functionName} reverted in ${hash}`);
      return hash;
    };
    const next = lane.then(run, run);
    lane = next.catch(() => undefined);
    return next;
  };
  let cachedParams: { at: number; value: DisputeParams } | undefined;
  const disputeManager = getAddress(config.disputeManager);
  return {
    config,
    chainId: BigInt(config.chainId),
    oracle: getAddress(config.oracle),
    ingestor: getAddress(config.ingestor),
    disputeManager,
    registry: getAddress(config.registry),
    client,
    wallet,
    account,
    send,
    now: async () => (await client.getBlock({ blockTag: "latest" })).timestamp,
    params: async () => {
      if (cachedParams && Date.now() - cachedParams.at < 60_000) return cachedParams.value;
      const p = (await client.readContract({
        address: disputeManager,
        abi: disputeManagerAbi,
        functionName: "params",
      })) as unknown as DisputeParams;
      cachedParams = { at: Date.now(), value: p };
      return p;
    },
  };
}

/** The custom error a call reverted with (its name), if the failure was a decoded revert. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof ViemBaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

/** A short, log-friendly message of any error. */
export function shortError(error: unknown): string {
  if (error instanceof ViemBaseError) return error.shortMessage;
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}

export type { IngestedCall };

/** The Result and signatures of (originChainId, requestId) as `chain`'s ingest transaction carried them. */
export function ingestedCall(
  chain: WatcherChain,
  transactionHash: Hex,
  originChainId: bigint,
  requestId: Hex,
): Promise<IngestedCall | undefined> {
  return decodeIngestedCall(chain.client, chain.ingestor, transactionHash, originChainId, requestId);
}

export { disputeManagerAbi, instructionIngestorAbi, stakingRegistryAbi };
