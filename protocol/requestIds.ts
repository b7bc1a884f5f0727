import { encodeAbiParameters, keccak256, pad, toHex, type Address, type Hex } from "viem";

/**
 * Request ids (SPEC 3.2), the TypeScript mirror of `contracts/core/RequestIds.sol`:
 *
 *   requestId = bytes32((uint256(nonce) << 192) |
 *     uint192(uint256(keccak256(abi.encode(block.chainid, address(oracle), requester, nonce, programId, keccak256(input))))))
 *
 * `nonce` is the oracle's global uint64 request nonce. The top 64 bits give the nonce back, so the
 * ingestor can recompute the id from the Result's `programId` and `inputHash` (and the escrow's
 * requester) and refuse a result for another program or input without storing either.
 */

export type RequestIdParameters = {
  chainId: bigint | number;
  oracle: Address;
  requester: Address;
  /** The oracle's request nonce the request took (uint64). */
  nonce: bigint;
  programId: Hex;
  /** The raw input bytes (hashed here), or give `inputHash` instead. */
  input?: Hex;
  inputHash?: Hex;
};

const UINT64_MAX = (1n << 64n) - 1n;
const LOW_192 = (1n << 192n) - 1n;

/** The requestId the oracle on `chainId` assigns to this request. */
export function requestIdOf(p: RequestIdParameters): Hex {
  if (p.nonce < 0n || p.nonce > UINT64_MAX) throw new RangeError(`nonce ${p.nonce} is not a uint64`);
  const hashOfInput = p.inputHash ?? (p.input !== undefined ? keccak256(p.input) : undefined);
  if (hashOfInput === undefined) throw new TypeError("requestIdOf needs input or inputHash");
  const digest = keccak256(
    encodeAbiParameters(
      [
        { type: "uint256" },
        { type: "address" },
        { type: "address" },
        { type: "uint64" },
        { type: "bytes32" },
        { type: "bytes32" },
      ],
      [BigInt(p.chainId), p.oracle, p.requester, p.nonce, p.programId, hashOfInput],
    ),
  );
  return pad(toHex((p.nonce << 192n) | (BigInt(digest) & LOW_192)), { size: 32 });
}

/** The oracle nonce a requestId carries in its top 64 bits. */
export function nonceOfRequestId(requestId: Hex): bigint {
  return BigInt(requestId) >> 192n;
}

/** Whether `requestId` is the id of the request with these fields (the ingestor's binding check). */
export function isRequestIdOf(requestId: Hex, p: Omit<RequestIdParameters, "nonce">): boolean {
  return requestIdOf({ ...p, nonce: nonceOfRequestId(requestId) }).toLowerCase() === requestId.toLowerCase();
}
