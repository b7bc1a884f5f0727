import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

/** Instruction opcodes of SPEC 3.3 (normative). */
export const Op = {
  TRANSFER: 0,
  CALL: 1,
  MINT: 2,
  BURN: 3,
  CREATE: 4,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** `struct Instruction { uint8 op; address target; uint256 amount; bytes data; }` */
export type Instruction = {
  op: OpCode;
  target: Address;
  amount: bigint;
  data: Hex;
};

export const instructionAbiComponents = [
  { name: "op", type: "uint8" },
  { name: "target", type: "address" },
  { name: "amount", type: "uint256" },
  { name: "data", type: "bytes" },
] as const;

export const instructionArrayAbi = [{ type: "tuple[]", components: instructionAbiComponents }] as const;

/** `abi.encode(Instruction[])`, the bytes whose keccak256 a Result signs as `instructionsHash`. */
export function encodeInstructions(instructions: readonly Instruction[]): Hex {
  return encodeAbiParameters(instructionArrayAbi, [instructions.map((ix) => ({ ...ix }))]);
}

/** `instructionsHash = keccak256(abi.encode(Instruction[]))` of SPEC 3.2. */
export function instructionsHash(instructions: readonly Instruction[]): Hex {
  return keccak256(encodeInstructions(instructions));
}
