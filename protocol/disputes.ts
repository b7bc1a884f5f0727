import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

/**
 * The DisputeManager's challenge commitment (SPEC 3.5: a first challenge that cannot be front-run),
 * computed off chain by whoever challenges: the watcher and `versatus watcher challenge`. The
 * contract's `challengeCommitment` view is the reference; the watcher and staking tests challenge
 * through it end to end.
 *
 * `keccak256(abi.encode(challenger, originChainId, requestId, kind, claimedBodyHash, salt))`: what
 * `commitChallenge` takes, revealed by `challenge` in a later block.
 */
export function challengeCommitment(p: {
  challenger: Address;
  originChainId: bigint;
  requestId: Hex;
  kind: number;
  claimedBodyHash: Hex;
  salt: Hex;
}): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "address" },
        { type: "uint256" },
        { type: "bytes32" },
        { type: "uint8" },
        { type: "bytes32" },
        { type: "bytes32" },
      ],
      [p.challenger, p.originChainId, p.requestId, p.kind, p.claimedBodyHash, p.salt],
    ),
  );
}
