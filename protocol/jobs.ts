import type { Address, Hex } from "viem";

/**
 * Payloads carried by the queues of protocol/queues.ts. Everything is JSON: bigints travel as
 * decimal strings, bytes as 0x-hex.
 */

/** An `ExecutionRequested` event as the relayer saw it (after confirmations). */
export type RequestJob = {
  chainId: string;
  oracle: Address;
  requestId: Hex;
  programId: Hex;
  requester: Address;
  token: Address;
  amount: string;
  deadline: string;
  input: Hex;
  blockNumber: string;
  /** Unix seconds of the request's block: the program's fixed clock. */
  blockTimestamp: string;
  transactionHash: Hex;
  logIndex: number;
};

/** Work assigned to one operator: the request, plus when the scheduler will give it to someone else. */
export type WorkJob = RequestJob & {
  operator: Address;
  /** Unix ms after which the scheduler reassigns this work (work stealing). */
  reassignAfter: number;
};

/** Instructions and signed Result of one target chain. */
export type SignedChainResult = {
  chainId: string;
  ingestor: Address;
  /** Result fields as signed (bigints as decimal strings). */
  result: {
    requestId: Hex;
    originChainId: string;
    programId: Hex;
    inputHash: Hex;
    status: 0 | 1;
    instructionsHash: Hex;
    bodyHash: Hex;
  };
  instructions: { op: number; target: Address; amount: string; data: Hex }[];
  signature: Hex;
};

/** What a worker pushes to the results queue after running a request. */
export type ResultJob = {
  operator: Address;
  originChainId: string;
  oracle: Address;
  requestId: Hex;
  programId: Hex;
  input: Hex;
  outcome: {
    kind: string;
    status: 0 | 1;
    exitCode: number | null;
    fuelUsed: string;
    stdout: Hex;
    stderr: Hex;
    message: string;
  };
  /** One entry per chain the result touches (the origin always, even with no instructions). */
  chains: SignedChainResult[];
};

/** A quorum-signed result ready to post on `chainId`. */
export type PostJob = {
  chainId: string;
  originChainId: string;
  requestId: Hex;
  result: SignedChainResult["result"];
  instructions: SignedChainResult["instructions"];
  /** Signatures ordered by ascending signer address, as the ingestor requires. */
  signatures: Hex[];
  daPointer: Hex;
};
