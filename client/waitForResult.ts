import { getAbiItem, hexToString, parseEventLogs, type Address, type Hex } from "viem";
import { executableOracleAbi, instructionIngestorAbi } from "../protocol/generated/abis.ts";
import type { ExecutionRecord } from "../protocol/record.ts";
import { WaitForResultTimeoutError } from "./errors.ts";
import { status } from "./status.ts";
import type { VersatusClientConfig } from "./types.ts";

export type WaitForResultParameters = {
  requestId: Hex;
  /** First block to search for the result's events (request().blockNumber is the right value). */
  fromBlock?: bigint;
  /** Give up after this long (default: wait until settled, or until the deadline passes). */
  timeoutMs?: number;
};

export type Settlement = { spent: bigint; fee: bigint; refunded: bigint };
export type FailedInstruction = { index: bigint; op: number; target: Address; reason: Hex };

type Ingested = {
  requestId: Hex;
  txHash: Hex;
  blockNumber: bigint;
  bodyHash: Hex;
  daPointer: Hex;
  settlement: Settlement | undefined;
  /** The execution record from DA (when the client has a DA client and the record is there). */
  record: ExecutionRecord | undefined;
  stdout: string | undefined;
  stderr: string | undefined;
};

export type WaitForResultReturnType =
  /** status OK: the instructions ran; failed TRANSFERs/CALLs were refunded and are listed. */
  | (Ingested & { kind: "dispersed"; failedInstructions: FailedInstruction[] })
  /** PROGRAM_ERROR: nothing dispersed, escrow minus fee refunded; stderr says why (from DA). */
  | (Ingested & { kind: "failed" })
  /** Nobody answered by the deadline: the whole escrow was (or can now be) refunded. */
  | { kind: "refunded"; requestId: Hex; amount: bigint; txHash: Hex | undefined }
  | { kind: "expired"; requestId: Hex; refundable: true };

export type WaitForResultErrorType = WaitForResultTimeoutError | Error;

const resultIngested = getAbiItem({ abi: instructionIngestorAbi, name: "ResultIngested" });
const refunded = getAbiItem({ abi: executableOracleAbi, name: "Refunded" });

const text = (hex: Hex) => {
  try {
    return hexToString(hex);
  } catch {
    return hex;
  }
};

/**
 * Waits until a request settles and says how: dispersed (with the EscrowSettled amounts and any
 * InstructionFailed), failed (PROGRAM_ERROR, with stderr from the execution record in DA),
 * refunded, or expired (deadline passed with no result: call refund()).
 *
 * @example
 * const outcome = await waitForResult(config, { requestId, fromBlock });
 * if (outcome.kind === "failed") console.error(outcome.stderr);
 */
export async function waitForResult(
  config: VersatusClientConfig,
  parameters: WaitForResultParameters,
): Promise<WaitForResultReturnType> {
  const { requestId } = parameters;
  const client = config.publicClient;
  const interval = config.pollingIntervalMs ?? client.pollingInterval ?? 1_000;
  const started = Date.now();
  const chainId = BigInt(await client.getChainId());
  const fromBlock = parameters.fromBlock ?? 0n;
  for (;;) {
    const s = await status(config, { requestId });
    if (s.state === "ingested") {
      const [log] = await client.getLogs({
        address: config.ingestor,
        event: resultIngested,
        args: { requestId, originChainId: chainId },
        fromBlock,
      });
      if (log)
        return ingestedOutcome(config, log.transactionHash, log.blockNumber, log.args as Required<typeof log.args>);
    } else if (s.state === "refunded") {
      const [log] = await client.getLogs({ address: config.oracle, event: refunded, args: { requestId }, fromBlock });
      return { kind: "refunded", requestId, amount: log?.args.amount ?? s.amount, txHash: log?.transactionHash };
    } else if (s.state === "expired") {
      return { kind: "expired", requestId, refundable: true };
    }
    if (parameters.timeoutMs !== undefined && Date.now() - started > parameters.timeoutMs) {
      throw new WaitForResultTimeoutError(requestId, parameters.timeoutMs);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

async function ingestedOutcome(
  config: VersatusClientConfig,
  txHash: Hex,
  blockNumber: bigint,
  args: { requestId: Hex; status: number; bodyHash: Hex; daPointer: Hex },
): Promise<WaitForResultReturnType> {
  const receipt = await config.publicClient.getTransactionReceipt({ hash: txHash });
  const oracleLogs = receipt.logs.filter((l) => l.address.toLowerCase() === config.oracle.toLowerCase());
  const mine = (id: Hex) => id.toLowerCase() === args.requestId.toLowerCase();
  const settled = parseEventLogs({ abi: executableOracleAbi, logs: oracleLogs, eventName: "EscrowSettled" }).find((l) =>
    mine(l.args.requestId),
  );
  const failed = parseEventLogs({ abi: executableOracleAbi, logs: oracleLogs, eventName: "InstructionFailed" })
    .filter((l) => mine(l.args.requestId))
    .map((l) => ({ index: l.args.index, op: l.args.op, target: l.args.target, reason: l.args.reason }));
  let record: ExecutionRecord | undefined;
  if (config.da && args.daPointer !== "0x") {
    record = await config.da.get(args.daPointer).catch(() => undefined);
  }
  const base: Ingested = {
    requestId: args.requestId,
    txHash,
    blockNumber,
    bodyHash: args.bodyHash,
    daPointer: args.daPointer,
    settlement: settled
      ? { spent: settled.args.spent, fee: settled.args.fee, refunded: settled.args.refunded }
      : undefined,
    record,
    stdout: record ? text(record.body.stdout) : undefined,
    stderr: record ? text(record.body.stderr) : undefined,
  };
  return args.status === 1 ? { ...base, kind: "failed" } : { ...base, kind: "dispersed", failedInstructions: failed };
}
