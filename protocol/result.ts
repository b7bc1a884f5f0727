import { keccak256, type Address, type Hex, type TypedDataDomain } from "viem";

/** Result status of SPEC 3.2 (normative). */
export const ResultStatus = { OK: 0, PROGRAM_ERROR: 1 } as const;
export type ResultStatusCode = (typeof ResultStatus)[keyof typeof ResultStatus];

/** The EIP-712 struct every operator signs (SPEC 3.2, normative). */
export type Result = {
  requestId: Hex;
  originChainId: bigint;
  programId: Hex;
  inputHash: Hex;
  status: ResultStatusCode;
  instructionsHash: Hex;
  bodyHash: Hex;
};

export const resultTypes = {
  Result: [
    { name: "requestId", type: "bytes32" },
    { name: "originChainId", type: "uint256" },
    { name: "programId", type: "bytes32" },
    { name: "inputHash", type: "bytes32" },
    { name: "status", type: "uint8" },
    { name: "instructionsHash", type: "bytes32" },
    { name: "bodyHash", type: "bytes32" },
  ],
} as const;

/** Domain of the InstructionIngestor on the chain the result is ingested on. */
export function resultDomain(chainId: bigint | number, ingestor: Address): TypedDataDomain {
  return { name: "Versatus", version: "1", chainId: BigInt(chainId), verifyingContract: ingestor };
}

/** `inputHash` of a request: keccak256 of the raw input bytes. */
export function inputHash(input: Hex): Hex {
  return keccak256(input);
}
