import type { VersatusClientConfig } from "./types.ts";
import { refund, type RefundParameters } from "./refund.ts";
import { request, type RequestParameters } from "./request.ts";
import { status, type StatusParameters } from "./status.ts";
import { waitForResult, type WaitForResultParameters } from "./waitForResult.ts";

export * from "./errors.ts";
export * from "./refund.ts";
export * from "./request.ts";
export * from "./status.ts";
export * from "./types.ts";
export * from "./waitForResult.ts";

/**
 * The typed dApp client: every action bound to one chain's oracle and ingestor.
 *
 * @example
 * import { createPublicClient, createWalletClient, http, parseEther } from "viem";
 * import { privateKeyToAccount } from "viem/accounts";
 * import { createVersatusClient } from "versatus/client";
 *
 * const versatus = createVersatusClient({
 *   publicClient: createPublicClient({ chain, transport: http() }),
 *   walletClient: createWalletClient({ chain, transport: http(), account: privateKeyToAccount(key) }),
 *   oracle, ingestor,
 * });
 * const { requestId, blockNumber } = await versatus.request({ programName: "payout-splitter", input, ttl: 600, value: parseEther("0.01") });
 * const outcome = await versatus.waitForResult({ requestId, fromBlock: blockNumber });
 */
export function createVersatusClient(config: VersatusClientConfig) {
  return {
    config,
    request: (parameters: RequestParameters) => request(config, parameters),
    waitForResult: (parameters: WaitForResultParameters) => waitForResult(config, parameters),
    refund: (parameters: RefundParameters) => refund(config, parameters),
    status: (parameters: StatusParameters) => status(config, parameters),
  };
}

export type VersatusClient = ReturnType<typeof createVersatusClient>;
