import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { executableOracleAbi, instructionIngestorAbi, iOperatorSetAbi } from "../protocol/generated/abis.ts";
import type { ChainConfig } from "../protocol/config.ts";

/**
 * viem clients of one configured chain. Tests and the devnet may pass their own transport
 * (e.g. `custom(connection.provider)` of an in-process Hardhat network) instead of the RPC URL.
 */
export type ChainClients = {
  config: ChainConfig;
  chainId: bigint;
  chain: Chain;
  publicClient: PublicClient;
  oracle: Address;
  ingestor: Address;
};

export type TransportOverrides = Record<string, Transport> | undefined;

export function viemChain(config: ChainConfig): Chain {
  return defineChain({
    id: config.chainId,
    name: config.name ?? `chain-${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
}

export function chainTransport(config: ChainConfig, overrides: TransportOverrides): Transport {
  return overrides?.[String(config.chainId)] ?? http(config.rpcUrl, { retryCount: 3, retryDelay: 200 });
}

export function createChainClients(config: ChainConfig, overrides?: TransportOverrides): ChainClients {
  const chain = viemChain(config);
  const publicClient = createPublicClient({
    chain,
    transport: chainTransport(config, overrides),
    pollingInterval: config.pollIntervalMs,
  }) as PublicClient;
  return {
    config,
    chainId: BigInt(config.chainId),
    chain,
    publicClient,
    oracle: getAddress(config.oracle),
    ingestor: getAddress(config.ingestor),
  };
}

export function createPosterWallet(
  clients: ChainClients,
  account: Account,
  overrides?: TransportOverrides,
): WalletClient {
  return createWalletClient({
    account,
    chain: clients.chain,
    transport: chainTransport(clients.config, overrides),
    pollingInterval: clients.config.pollIntervalMs,
  });
}

export type OperatorSetView = { threshold: number; active: Set<string> };

/**
 * The operator set and threshold a chain's ingestor checks signatures against, read from the
 * chain (InstructionIngestor.operatorSet() → OwnedOperatorSet) and cached for `refreshMs`; or a
 * fixed set from the config.
 */
export class OperatorSets {
  readonly #cache = new Map<string, { view: OperatorSetView; at: number }>();
  readonly #refreshMs: number;
  readonly #fixed: OperatorSetView | undefined;

  constructor(options: { refreshMs: number; fixed?: { operators: string[]; threshold: number } | undefined }) {
    this.#refreshMs = options.refreshMs;
    this.#fixed = options.fixed
      ? { threshold: options.fixed.threshold, active: new Set(options.fixed.operators.map((a) => a.toLowerCase())) }
      : undefined;
  }

  async get(clients: ChainClients, force = false): Promise<OperatorSetView> {
    if (this.#fixed) return this.#fixed;
    const key = String(clients.chainId);
    const cached = this.#cache.get(key);
    if (!force && cached && Date.now() - cached.at < this.#refreshMs) return cached.view;
    const client = clients.publicClient;
    const set = await client.readContract({
      address: clients.ingestor,
      abi: instructionIngestorAbi,
      functionName: "operatorSet",
    });
    const [threshold, all] = await Promise.all([
      client.readContract({ address: set, abi: iOperatorSetAbi, functionName: "threshold" }),
      client.readContract({ address: set, abi: iOperatorSetAbi, functionName: "allOperators" }),
    ]);
    // allOperators() lists every operator ever added; keep the active ones.
    const active = await Promise.all(
      all.map((a) => client.readContract({ address: set, abi: iOperatorSetAbi, functionName: "isActive", args: [a] })),
    );
    const view: OperatorSetView = {
      threshold: Number(threshold),
      active: new Set(all.filter((_, i) => active[i]).map((a) => a.toLowerCase())),
    };
    this.#cache.set(key, { view, at: Date.now() });
    return view;
  }
}

/** On-chain state of one (originChainId, requestId) as seen from `target`. */
export type SettlementState = "open" | "ingested" | "refunded" | "expired" | "unknown";

export const RequestStatusCode = { None: 0, Open: 1, Ingested: 2, Refunded: 3 } as const;

/**
 * Whether a result for (originChainId, requestId) can still settle anything on `target`: for the
 * origin chain the escrow must be Open and unexpired; for another chain, it must not be ingested.
 */
export async function settlementState(
  target: ChainClients,
  originChainId: bigint,
  requestId: `0x${string}`,
  nowSeconds?: bigint,
): Promise<SettlementState> {
  const client = target.publicClient;
  if (originChainId !== target.chainId) {
    const ingested = await client.readContract({
      address: target.ingestor,
      abi: instructionIngestorAbi,
      functionName: "isIngested",
      args: [originChainId, requestId],
    });
    return ingested ? "ingested" : "open";
  }
  const escrow = await client.readContract({
    address: target.oracle,
    abi: executableOracleAbi,
    functionName: "escrowOf",
    args: [requestId],
  });
  switch (escrow.status) {
    case RequestStatusCode.None:
      return "unknown";
    case RequestStatusCode.Ingested:
      return "ingested";
    case RequestStatusCode.Refunded:
      return "refunded";
    default: {
      const now = nowSeconds ?? (await client.getBlock({ blockTag: "latest" })).timestamp;
      return now > escrow.deadline ? "expired" : "open";
    }
  }
}
