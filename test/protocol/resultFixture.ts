import { getAddress, keccak256, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { resultDomain, resultTypes, ResultStatus, type Result } from "../../protocol/result.ts";

/** The ingestor address the signer tests sign for. */
export const INGESTOR = getAddress("0x00000000000000000000000000000000000000aa");

/**
 * A Result whose request id is made from `requestLabel`: a label of its own gives a digest no other
 * test recovered yet (recoverResultSigner keeps recoveries process-wide).
 */
export function sampleResult(requestLabel = "request"): Result {
  return {
    requestId: keccak256(toHex(requestLabel)),
    originChainId: 31337n,
    programId: keccak256(toHex("program")),
    inputHash: keccak256(toHex("input")),
    status: ResultStatus.OK,
    instructionsHash: keccak256(toHex("instructions")),
    bodyHash: keccak256(toHex("body")),
  };
}

/** `key`'s EIP-712 signature of `r` for INGESTOR on `chainId`. */
export function signResult(key: Hex, r: Result, chainId = 31337n): Promise<Hex> {
  return privateKeyToAccount(key).signTypedData({
    domain: resultDomain(chainId, INGESTOR),
    types: resultTypes,
    primaryType: "Result",
    message: r,
  });
}
