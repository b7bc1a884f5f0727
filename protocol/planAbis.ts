import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

/**
 * The challenge commitment of the issue-10 DisputeManager (ISSUE10_PLAN items 2, 5) computed off
 * chain (the watcher commits before it reveals), and the fragments the watcher was written
 * against while wip-disputes landed in parallel. The services now call the generated ABIs
 * (protocol/abis.ts); test/protocol/planAbis.test.ts keeps checking these fragments against them.
 */

const resultComponents = [
  { name: "requestId", type: "bytes32" },
  { name: "originChainId", type: "uint256" },
  { name: "programId", type: "bytes32" },
  { name: "inputHash", type: "bytes32" },
  { name: "status", type: "uint8" },
  { name: "instructionsHash", type: "bytes32" },
  { name: "bodyHash", type: "bytes32" },
] as const;

/** DisputeManager: a first challenge that cannot be front-run (commit, then challenge in a later block). */
export const disputeChallengeAbi = [
  {
    type: "function",
    name: "commitChallenge",
    stateMutability: "nonpayable",
    inputs: [{ name: "commitment", type: "bytes32" }],
    outputs: [],
  },
  {
    type: "function",
    name: "challenge",
    stateMutability: "payable",
    inputs: [
      { name: "r", type: "tuple", components: resultComponents },
      { name: "signers", type: "address[]" },
      { name: "kind", type: "uint8" },
      { name: "claimedBodyHash", type: "bytes32" },
      { name: "salt", type: "bytes32" },
    ],
    outputs: [{ name: "disputeId", type: "uint256" }],
  },
] as const;

/** Oracle (IDisperser): the fee ledger's epoch length (plan item 3: 1 hour). */
export const LEDGER_EPOCH_SECONDS = 3600n;

/**
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
