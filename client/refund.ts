import { parseEventLogs, type Hex } from "viem";
import { executableOracleAbi } from "../protocol/generated/abis.ts";
import { MissingWalletError } from "./errors.ts";
import type { VersatusClientConfig } from "./types.ts";

export type RefundParameters = { requestId: Hex };
export type RefundReturnType = { txHash: Hex; amount: bigint };
export type RefundErrorType = MissingWalletError | Error;

/**
 * Returns the whole escrow of an expired, unanswered request to its requester (anyone may call
 * it; the contract reverts with Oracle_DeadlineNotReached / Oracle_RequestNotOpen otherwise).
 *
 * @example
 * if ((await status(config, { requestId })).refundable) await refund(config, { requestId });
 */
export async function refund(config: VersatusClientConfig, parameters: RefundParameters): Promise<RefundReturnType> {
  const wallet = config.walletClient;
  const account = config.account ?? wallet?.account;
  if (!wallet || !account) throw new MissingWalletError("refund");
  const { request } = await config.publicClient.simulateContract({
    account,
    address: config.oracle,
    abi: executableOracleAbi,
    functionName: "refund",
    args: [parameters.requestId],
  });
  const txHash = await wallet.writeContract({ ...request, chain: wallet.chain ?? null });
  const receipt = await config.publicClient.waitForTransactionReceipt({ hash: txHash });
  const [event] = parseEventLogs({ abi: executableOracleAbi, logs: receipt.logs, eventName: "Refunded" });
  return { txHash, amount: event?.args.amount ?? 0n };
}
