import type { Address, Hex } from "viem";
import { executableOracleAbi } from "../protocol/abis.ts";
import type { RequestState, VersatusClientConfig } from "./types.ts";

export type StatusParameters = { requestId: Hex };

export type StatusReturnType = {
  requestId: Hex;
  state: RequestState;
  requester: Address;
  /** address(0) for ETH. */
  token: Address;
  amount: bigint;
  requestedAt: bigint;
  deadline: bigint;
  /** Open and past its deadline: refund() returns the whole escrow. */
  refundable: boolean;
};

export type StatusErrorType = Error;

const STATES: RequestState[] = ["none", "open", "ingested", "refunded"];

/**
 * Where a request stands on its chain (escrowOf + the latest block's timestamp).
 *
 * @example
 * const s = await status(config, { requestId });
 * if (s.refundable) await refund(config, { requestId });
 */
export async function status(config: VersatusClientConfig, parameters: StatusParameters): Promise<StatusReturnType> {
  const [escrow, block] = await Promise.all([
    config.publicClient.readContract({
      address: config.oracle,
      abi: executableOracleAbi,
      functionName: "escrowOf",
      args: [parameters.requestId],
    }),
    config.publicClient.getBlock({ blockTag: "latest" }),
  ]);
  let state = STATES[escrow.status] ?? "none";
  if (state === "open" && block.timestamp > escrow.deadline) state = "expired";
  return {
    requestId: parameters.requestId,
    state,
    requester: escrow.requester,
    token: escrow.token,
    amount: escrow.amount,
    requestedAt: escrow.requestedAt,
    deadline: escrow.deadline,
    refundable: state === "expired",
  };
}
