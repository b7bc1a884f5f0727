import { getAddress, type Address, type Hex, type PublicClient } from "viem";
import { executableOracleAbi } from "./generated/abis.ts";
import type { ControllerResolver } from "./conservation.ts";
import { BaseError } from "./errors.ts";

/**
 * The chain reads behind the output rule (protocol/conservation.ts): a token's controllers and a
 * request's fee. Worker, collector and watcher use these same readers so they reach the same
 * verdict from the same chain state.
 */

/** `isController(bytes32)` of IOmniToken (kept here so the rule does not depend on a regenerated ABI). */
const isControllerAbi = [
  {
    type: "function",
    name: "isController",
    stateMutability: "view",
    inputs: [{ name: "programId", type: "bytes32" }],
    outputs: [{ name: "", type: "bool" }],
  },
] as const;

/** A chain the output rule must read (a mint or burn runs there) but no RPC is configured for. */
export class NoChainClientError extends BaseError {
  override name = "NoChainClientError";
  constructor(chainId: bigint, what: string) {
    super(`No RPC for chain ${chainId}: cannot check ${what}`, {
      hints: [`give the service an rpcUrl for chain ${chainId}`],
      permanent: true,
    });
  }
}

/**
 * A ControllerResolver that asks each chain's token. Controllers are fixed at a token's creation
 * (its CREATE2 address commits to them), so every answer from a deployed token is cached for
 * good; "no code" (or a contract without `isController`) is "not a controller" and is not
 * cached, since the token may be created there later. An RPC failure throws (the caller retries
 * or abstains; it never turns into a verdict).
 */
export function chainControllerResolver(
  clientOf: (chainId: bigint) => PublicClient | undefined,
  options: { cacheSize?: number } = {},
): ControllerResolver {
  const cache = new Map<string, boolean>();
  const limit = options.cacheSize ?? 10_000;
  return async (chainId, token, programId) => {
    const key = `${chainId}:${token.toLowerCase()}:${programId.toLowerCase()}`;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const client = clientOf(chainId);
    if (!client) throw new NoChainClientError(chainId, `whether program ${programId} controls ${token}`);
    const code = await client.getCode({ address: getAddress(token) });
    if (code === undefined || code === "0x") return false;
    let answer: boolean;
    try {
      answer = await client.readContract({
        address: getAddress(token),
        abi: isControllerAbi,
        functionName: "isController",
        args: [programId],
      });
    } catch (error) {
      // A contract that is not an OmniToken reverts (or returns nothing): not a controller. A
      // transport failure is not an answer.
      if (isTransportError(error)) throw error;
      answer = false;
    }
    cache.set(key, answer);
    if (cache.size > limit) cache.delete(cache.keys().next().value!);
    return answer;
  };
}

function isTransportError(error: unknown): boolean {
  let current: unknown = error;
  while (current instanceof Error) {
    const name = current.name;
    if (name === "HttpRequestError" || name === "TimeoutError" || name === "WebSocketRequestError") return true;
    if (name === "ContractFunctionRevertedError" || name === "ContractFunctionZeroDataError") return false;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The fee of a request: `feeOf(token)` of the origin oracle as of the request's block (the fee
 * schedule a request pays is the one in force when it was made; a fee may change at most once per
 * MAX_TTL). Reading at the request's block makes every node's answer the same.
 */
export async function requestFee(
  client: PublicClient,
  oracle: Address,
  token: Address,
  blockNumber: bigint,
): Promise<bigint> {
  return client.readContract({
    address: oracle,
    abi: executableOracleAbi,
    functionName: "feeOf",
    args: [token],
    blockNumber,
  });
}

export type { Hex };

/** A request as its origin's `ExecutionRequested` event recorded it, with its fee. */
export type RequestRecord = {
  requestId: Hex;
  programId: Hex;
  requester: Address;
  token: Address;
  amount: bigint;
  input: Hex;
  blockNumber: bigint;
  /** Unix seconds of the request's block (the program context's timestamp). */
  blockTimestamp: bigint;
  fee: bigint;
};

const executionRequestedEvent = {
  type: "event",
  name: "ExecutionRequested",
  inputs: [
    { name: "requestId", type: "bytes32", indexed: true },
    { name: "programId", type: "bytes32", indexed: true },
    { name: "requester", type: "address", indexed: true },
    { name: "token", type: "address", indexed: false },
    { name: "amount", type: "uint256", indexed: false },
    { name: "deadline", type: "uint64", indexed: false },
    { name: "input", type: "bytes", indexed: false },
  ],
} as const;

/**
 * Reads a request from its origin oracle's `ExecutionRequested` event (immutable, unlike the
 * escrow slot that ingestion rewrites) and its fee as of its block. Undefined when the origin has
 * no such request (yet). `likelyBlock` (e.g. the block a result's context names) is looked at
 * first, one block instead of the whole range: the event found there is the chain's own, so a
 * wrong hint (or an RPC that refuses the one-block read) costs only the full-range read that follows.
 */
export async function readRequestRecord(
  client: PublicClient,
  oracle: Address,
  requestId: Hex,
  fromBlock: bigint,
  likelyBlock?: bigint,
): Promise<RequestRecord | undefined> {
  const eventsBetween = (from: bigint, to: bigint | "latest") =>
    client.getLogs({
      address: oracle,
      event: executionRequestedEvent,
      args: { requestId },
      fromBlock: from,
      toBlock: to,
      strict: true,
    });
  const hinted =
    likelyBlock !== undefined && likelyBlock >= fromBlock
      ? await eventsBetween(likelyBlock, likelyBlock).catch(() => [])
      : [];
  const log = hinted.find((l) => !l.removed) ?? (await eventsBetween(fromBlock, "latest")).find((l) => !l.removed);
  if (!log) return undefined;
  const token = getAddress(log.args.token);
  const [block, fee] = await Promise.all([
    client.getBlock({ blockNumber: log.blockNumber }),
    requestFee(client, oracle, token, log.blockNumber),
  ]);
  return {
    requestId: requestId.toLowerCase() as Hex,
    programId: log.args.programId.toLowerCase() as Hex,
    requester: getAddress(log.args.requester),
    token,
    amount: log.args.amount,
    input: log.args.input.toLowerCase() as Hex,
    blockNumber: log.blockNumber,
    blockTimestamp: block.timestamp,
    fee,
  };
}
