import { erc20Abi, isHex, parseEventLogs, stringToHex, bytesToHex, zeroAddress, type Address, type Hex } from "viem";
import { executableOracleAbi } from "../protocol/generated/abis.ts";
import { InvalidInputError } from "../protocol/errors.ts";
import { isRequestIdOf } from "../protocol/requestIds.ts";
import { MissingWalletError, ProgramNotFoundError } from "./errors.ts";
import type { VersatusClientConfig } from "./types.ts";

export type RequestParameters = {
  /** The program: its id (sha256 of the package) or its published name (resolved on chain). */
  programId?: Hex;
  programName?: string;
  /** Program stdin: 0x-hex bytes, raw bytes, or any other string as UTF-8 (e.g. JSON text). */
  input: Hex | Uint8Array | string;
  /** Seconds until the deadline (after it, refund() returns everything). */
  ttl: bigint | number;
} & (
  | { /** ETH escrowed (must cover the fee). */ value: bigint; token?: undefined; amount?: undefined }
  | {
      value?: undefined;
      /** ERC-20 escrowed instead of ETH; approved first when the allowance is short. */
      token: Address;
      amount: bigint;
    }
);

export type RequestReturnType = {
  requestId: Hex;
  txHash: Hex;
  blockNumber: bigint;
  programId: Hex;
  deadline: bigint;
};

export type RequestErrorType = MissingWalletError | ProgramNotFoundError | InvalidInputError | Error;

export function encodeInput(input: Hex | Uint8Array | string): Hex {
  if (input instanceof Uint8Array) return bytesToHex(input);
  if (isHex(input, { strict: true }) && input.length % 2 === 0) return input.toLowerCase() as Hex;
  return stringToHex(input);
}

/**
 * Sends a request: escrows ETH (`value`) or an ERC-20 (`token` + `amount`), names the program by
 * id or name, and returns the requestId read from the ExecutionRequested event of the receipt.
 *
 * @example
 * const { requestId, blockNumber } = await request(config, {
 *   programName: "payout-splitter", input: JSON.stringify({ to: [a, b] }), ttl: 600, value: parseEther("0.01"),
 * });
 * const outcome = await waitForResult(config, { requestId, fromBlock: blockNumber });
 */
export async function request(config: VersatusClientConfig, parameters: RequestParameters): Promise<RequestReturnType> {
  const wallet = config.walletClient;
  const account = config.account ?? wallet?.account;
  if (!wallet || !account) throw new MissingWalletError("request");
  let programId = parameters.programId;
  if (!programId) {
    if (!parameters.programName) throw new InvalidInputError("programId", "a program id or a programName");
    programId = await config.publicClient.readContract({
      address: config.oracle,
      abi: executableOracleAbi,
      functionName: "resolve",
      args: [parameters.programName],
    });
    if (BigInt(programId) === 0n) throw new ProgramNotFoundError(parameters.programName);
  }
  const ttl = BigInt(parameters.ttl);
  if (ttl <= 0n) throw new InvalidInputError("ttl", "a positive number of seconds");
  const input = encodeInput(parameters.input);
  const chain = wallet.chain ?? null;
  let txHash: Hex;
  if (parameters.token !== undefined && parameters.token !== zeroAddress) {
    const owner = typeof account === "string" ? account : account.address;
    const allowance = await config.publicClient.readContract({
      address: parameters.token,
      abi: erc20Abi,
      functionName: "allowance",
      args: [owner, config.oracle],
    });
    if (allowance < parameters.amount) {
      const approveHash = await wallet.writeContract({
        account,
        chain,
        address: parameters.token,
        abi: erc20Abi,
        functionName: "approve",
        args: [config.oracle, parameters.amount],
      });
      await config.publicClient.waitForTransactionReceipt({ hash: approveHash });
    }
    txHash = await wallet.writeContract({
      account,
      chain,
      address: config.oracle,
      abi: executableOracleAbi,
      functionName: "requestWithToken",
      args: [programId, input, ttl, parameters.token, parameters.amount],
    });
  } else {
    txHash = await wallet.writeContract({
      account,
      chain,
      address: config.oracle,
      abi: executableOracleAbi,
      functionName: "request",
      args: [programId, input, ttl],
      value: parameters.value ?? 0n,
    });
  }
  const receipt = await config.publicClient.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== "success") throw new Error(`request transaction ${txHash} reverted`);
  const [event] = parseEventLogs({
    abi: executableOracleAbi,
    logs: receipt.logs,
    eventName: "ExecutionRequested",
  }).filter((l) => l.address.toLowerCase() === config.oracle.toLowerCase());
  if (!event) throw new Error(`no ExecutionRequested event in ${txHash}`);
  // The id must bind this program and input (SPEC 3.2): an oracle that assigns another id would
  // let a result for another program or input settle this request.
  const chainId = await config.publicClient.getChainId();
  const requester = typeof account === "string" ? account : account.address;
  if (!isRequestIdOf(event.args.requestId, { chainId, oracle: config.oracle, requester, programId, input })) {
    throw new Error(
      `requestId ${event.args.requestId} in ${txHash} does not bind program ${programId} and this input: is ${config.oracle} a Versatus oracle?`,
    );
  }
  return {
    requestId: event.args.requestId,
    txHash,
    blockNumber: receipt.blockNumber,
    programId,
    deadline: event.args.deadline,
  };
}
