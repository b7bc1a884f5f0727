import { STATE_PREFIX } from "../protocol/queues.ts";

/**
 * Redis keys of the collector, under the state hash tag (STATE_PREFIX: one Redis Cluster slot).
 *
 * - quorum: hash of the signatures gathered so far for one (originChainId, requestId), fields
 *   `first:<bodyHash>` (unix ms of the first signature) and
 *   `sig:<bodyHash>:<chainId>:<operator>` (signature). Partial quorums live here, so a collector
 *   restart loses nothing.
 * - done: set once the record is in DA and the post jobs are queued (value: bodyHash); late
 *   results for the request are dropped at once.
 * - lock: held while one collector finalises a quorum (DA write + post jobs).
 * - retries: how often a result job failed transiently (RPC or DA down).
 */
export const collectorKeys = {
  quorum: (originChainId: bigint | string, requestId: string) =>
    `${STATE_PREFIX}:quorum:${originChainId}:${requestId.toLowerCase()}`,
  done: (originChainId: bigint | string, requestId: string) =>
    `${STATE_PREFIX}:quorum-done:${originChainId}:${requestId.toLowerCase()}`,
  lock: (originChainId: bigint | string, requestId: string) =>
    `${STATE_PREFIX}:quorum-lock:${originChainId}:${requestId.toLowerCase()}`,
  /** Transient-failure retries of one result job (the collector retries them itself). */
  retries: (jobId: string) => `${STATE_PREFIX}:collector-retries:${jobId}`,
} as const;
