import type { Account, Address, PublicClient, WalletClient } from "viem";
import type { DaClient } from "../da/index.ts";

/**
 * What every client action needs: a viem public client on the request's chain, the oracle and
 * ingestor addresses there, and for write actions a wallet client with an account. A DA client
 * (da/createDaClient) lets waitForResult read the execution record (stdout, stderr).
 */
export type VersatusClientConfig = {
  publicClient: PublicClient;
  walletClient?: WalletClient | undefined;
  /** The account that signs (default: walletClient.account). */
  account?: Account | Address | undefined;
  oracle: Address;
  ingestor: Address;
  da?: DaClient | undefined;
  /** Poll interval of waitForResult (default: the public client's pollingInterval). */
  pollingIntervalMs?: number | undefined;
};

/** IExecutableOracle.RequestStatus, plus "expired": Open but past its deadline (refundable). */
export type RequestState = "none" | "open" | "ingested" | "refunded" | "expired";
