import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";

/**
 * Where a request's work lands (SPEC 6, leaderless scheduling): every node derives the same quorum
 * from the request and the on-chain active set, so nobody assigns work.
 *
 * Every operator has a fixed id, `keccak256(address)` (the 20 address bytes), and every request a
 * key, `keccak256(abi.encode(uint256 chainId, bytes32 requestId))`. Operators are ranked by XOR
 * distance `key ^ id` (as 256-bit integers, smallest first): each request lands on a pseudo-random
 * but reproducible set of operators and the load spreads evenly. The closest `size` are the quorum's
 * members; the rest, in the same order, are the standby list that shares and steals (protocol/scheduling.ts).
 */

/** `keccak256(address)`: an operator's position on the XOR ring. */
export function operatorId(operator: Address): Hex {
  return keccak256(operator.toLowerCase() as Hex);
}

/** `keccak256(abi.encode(uint256 chainId, bytes32 requestId))`: a request's position on the XOR ring. */
export function requestKey(chainId: number | bigint | string, requestId: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "bytes32" }], [BigInt(chainId), requestId]));
}

/** XOR distance between two ring positions (32-byte hex). */
export function xorDistance(a: Hex, b: Hex): bigint {
  return BigInt(a) ^ BigInt(b);
}

/** Addresses sorted by XOR distance of `keccak256(address)` to `key`, closest first; duplicates (any case) once. */
export function rankByDistance(key: Hex, addresses: readonly Address[]): Address[] {
  const k = BigInt(key);
  const unique = [...new Map(addresses.map((a) => [a.toLowerCase(), getAddress(a)])).values()];
  return unique
    .map((address) => ({ address, distance: k ^ BigInt(operatorId(address)) }))
    .sort((a, b) => (a.distance < b.distance ? -1 : a.distance > b.distance ? 1 : 0))
    .map((entry) => entry.address);
}

/** Operators sorted by XOR distance to the request's key, closest first (deterministic). */
export function rankOperators(
  chainId: number | bigint | string,
  requestId: Hex,
  operators: readonly Address[],
): Address[] {
  return rankByDistance(requestKey(chainId, requestId), operators);
}

/** A request's quorum: `members` do the work; `standby` is everyone else in the active set, in steal order. */
export type Quorum = { members: Address[]; standby: Address[] };

export type DeriveQuorumArgs = {
  chainId: number | bigint | string;
  requestId: Hex;
  /** The on-chain active operator set (any order, any case; duplicates count once). */
  activeSet: readonly Address[];
  /** How many members the quorum has; a smaller active set makes every operator a member. */
  size: number;
};

/** The quorum every node derives for a request: the `size` closest operators, then the rest as standby. */
export function deriveQuorum(args: DeriveQuorumArgs): Quorum {
  if (!Number.isInteger(args.size) || args.size < 1) throw new RangeError("quorum size must be a positive integer");
  const ranked = rankOperators(args.chainId, args.requestId, args.activeSet);
  return { members: ranked.slice(0, args.size), standby: ranked.slice(args.size) };
}

/** Whether `operator` (any case) is in `list`. */
export function includesAddress(list: readonly Address[], operator: string): boolean {
  const lower = operator.toLowerCase();
  return list.some((a) => a.toLowerCase() === lower);
}
