import type { Address, Hex } from "viem";
import { STATE_PREFIX } from "../protocol/queues.ts";

/**
 * Redis state of one watcher (keyed by its address, so several watchers can share a Redis):
 *
 * - cursor:<chainId>          last block fully handled by the follower of that chain
 * - results:<chainId>         hash `<originChainId>:<requestId>` → {@link ResultState} JSON: ingested
 *                             results still to verify or challenge
 * - disputes:<chainId>        hash `<disputeId>` → {@link DisputeState} JSON: the vote and its salt,
 *                             written before the commit transaction, so a restart still reveals
 * - evidence-cursor           last entry of the evidence stream read
 */
export function watcherKeys(owner: Address) {
  const base = `${STATE_PREFIX}:watcher:${owner.toLowerCase()}`;
  return {
    cursor: (chainId: bigint | number) => `${base}:cursor:${chainId}`,
    results: (chainId: bigint | number) => `${base}:results:${chainId}`,
    disputes: (chainId: bigint | number) => `${base}:disputes:${chainId}`,
    evidenceCursor: `${base}:evidence-cursor`,
  } as const;
}

export type Verdict = "pending" | "ok" | "wrong" | "unavailable" | "unknown";

export type ResultState = {
  requestId: Hex;
  originChainId: string;
  bodyHash: Hex;
  daPointer: Hex;
  transactionHash: Hex;
  /** Unix ms the ingest event was seen (detection latency starts here). */
  seenAt: number;
  verdict: Verdict;
  /** WrongResult: the bodyHash re-execution gives. */
  correctBodyHash?: Hex;
  reason?: string;
  challengedAt?: number;
  /** The challenge's salt, stored before `commitChallenge` leaves (a restart still challenges). */
  challengeSalt?: Hex;
  /** Block in which `commitChallenge` landed: `challenge` goes in a later block. */
  challengeCommitBlock?: string;
  /** The objective fraud check (fraud.ts) ran for this result. */
  fraudChecked?: boolean;
  /** Verification attempts that ended "unknown" (program or request not found yet). */
  tries?: number;
};

export type DisputeState = {
  id: string;
  requestId: Hex;
  originChainId: string;
  kind: number;
  resultBodyHash: Hex;
  claimedBodyHash: Hex;
  commitEnd: string;
  revealEnd: string;
  /** The vote: true upholds the claim, false rejects it, null abstains (could not evaluate). */
  upholds?: boolean | null;
  salt?: Hex;
  committed?: boolean;
  revealed?: boolean;
  resolved?: boolean;
};

export const resultField = (originChainId: bigint | string, requestId: Hex) =>
  `${originChainId}:${requestId.toLowerCase()}`;
