import { getAbiItem, type Address, type Hex } from "viem";
import { executableOracleAbi } from "../protocol/generated/abis.ts";
import type { RequestState, VersatusClientConfig } from "./types.ts";

export type StatusParameters = {
  requestId: Hex;
  /**
   * First block to search for the request's ExecutionRequested event (read for an ingested
   * request, whose escrow slot no longer holds the amounts). Default 0.
   */
  fromBlock?: bigint;
};

export type StatusReturnType = {
  requestId: Hex;
  state: RequestState;
  requester: Address;
  /** address(0) for ETH. */
  token: Address;
  /** The escrowed amount (for an ingested request: as requested, from its ExecutionRequested event). */
  amount: bigint;
  requestedAt: bigint;
  deadline: bigint;
  /** Ingested: when its result was ingested (unix seconds). */
  ingestedAt?: bigint;
  /** Open and past its deadline: refund() returns the whole escrow. */
  refundable: boolean;
};

export type StatusErrorType = Error;

const STATES: RequestState[] = ["none", "open", "ingested", "refunded"];
const executionRequested = getAbiItem({ abi: executableOracleAbi, name: "ExecutionRequested" });

/**
 * Where a request stands on its chain (escrowOf + the latest block's timestamp). The escrow slot
 * of an ingested request holds only the ingestion record: requester, token, amount and deadline
 * then come from the request's ExecutionRequested event (searched from `fromBlock`).
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
  if (state === "ingested") {
    const logs = await config.publicClient.getLogs({
      address: config.oracle,
      event: executionRequested,
      args: { requestId: parameters.requestId },
      fromBlock: parameters.fromBlock ?? 0n,
      toBlock: "latest",
      strict: true,
    });
    const log = logs.find((l) => !l.removed);
    const requestedAt = log
      ? (await config.publicClient.getBlock({ blockNumber: log.blockNumber })).timestamp
      : escrow.requestedAt;
    return {
      requestId: parameters.requestId,
      state,
      requester: log?.args.requester ?? escrow.requester,
      token: log?.args.token ?? escrow.token,
      amount: log?.args.amount ?? escrow.amount,
      requestedAt,
      deadline: log?.args.deadline ?? 0n,
      ingestedAt: escrow.deadline,
      refundable: false,
    };
  }
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
