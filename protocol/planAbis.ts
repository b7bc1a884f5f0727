import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

/**
 * ABI fragments of the issue-10 contract functions the off-chain services call, written against
 * the agreed names (ISSUE10_PLAN items 2, 3, 5, 6, 7) while the contract branches land in
 * parallel. Once they are merged and `npm run abis` regenerated protocol/abis.ts, these should be
 * checked against (or replaced by) the generated ABIs: test/protocol/abis.test.ts compares every
 * fragment here with the generated one when it exists.
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

const instructionComponents = [
  { name: "op", type: "uint8" },
  { name: "target", type: "address" },
  { name: "amount", type: "uint256" },
  { name: "data", type: "bytes" },
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

/** StakingRegistry: reputation from the fee ledger, objective fraud proofs, seconds. */
export const registryIssue10Abi = [
  {
    type: "function",
    name: "accrueReputation",
    stateMutability: "nonpayable",
    inputs: [
      { name: "operator", type: "address" },
      {
        name: "refs",
        type: "tuple[]",
        components: [
          { name: "assetId", type: "uint256" },
          { name: "share", type: "uint256" },
          { name: "epoch", type: "uint256" },
        ],
      },
    ],
    outputs: [],
  },
  {
    type: "function",
    name: "proveForeignMint",
    stateMutability: "nonpayable",
    inputs: [
      { name: "r", type: "tuple", components: resultComponents },
      { name: "instructions", type: "tuple[]", components: instructionComponents },
      { name: "signature", type: "bytes" },
    ],
    outputs: [],
  },
  {
    type: "function",
    name: "proveUnbackedMint",
    stateMutability: "nonpayable",
    inputs: [
      { name: "origin", type: "tuple", components: resultComponents },
      { name: "originInstructions", type: "tuple[]", components: instructionComponents },
      { name: "originSignature", type: "bytes" },
      { name: "destination", type: "tuple", components: resultComponents },
      { name: "destinationInstructions", type: "tuple[]", components: instructionComponents },
      { name: "destinationSignature", type: "bytes" },
      { name: "destinationIngestor", type: "address" },
    ],
    outputs: [],
  },
  {
    type: "function",
    name: "slashableWindow",
    stateMutability: "view",
    inputs: [],
    outputs: [{ name: "", type: "uint256" }],
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
