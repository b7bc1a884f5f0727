/**
 * Queue and key names of the off-chain network (SPEC 6). Every queue and key lives under one
 * hash-tagged prefix, so all of them hash to the same Redis Cluster slot and BullMQ's multi-key
 * scripts keep working on a cluster.
 */
export const QUEUE_PREFIX = "{versatus}";

export const queueNames = {
  /** Per operator: jobs the scheduler assigned to that operator's worker. */
  work: (operator: string) => `work:${operator.toLowerCase()}`,
  /** Signed results from every worker, consumed by the collector. */
  results: "results",
  /** Per target chain: quorum-signed results waiting to be posted with ingestBatch. */
  post: (chainId: bigint | number) => `post:${chainId}`,
} as const;

/** Plain Redis keys (not queues), under the same prefix. */
export const redisKeys = {
  /** Relayer cursor: last block fully processed on a chain. */
  cursor: (chainId: bigint | number) => `${QUEUE_PREFIX}:cursor:${chainId}`,
  /** Hash: operator -> JSON {depth, capacity, kinds, programs, updatedAt} reported by workers. */
  operators: `${QUEUE_PREFIX}:operators`,
  /** Hash of one request's scheduling state (assigned operators, deadlines). */
  request: (chainId: bigint | number, requestId: string) => `${QUEUE_PREFIX}:req:${chainId}:${requestId.toLowerCase()}`,
} as const;

/** Deterministic BullMQ job ids: a repeated event or retry never makes a second job. */
export const jobIds = {
  work: (chainId: bigint | number, requestId: string, operator: string) =>
    `${chainId}:${requestId.toLowerCase()}:${operator.toLowerCase()}`,
  result: (chainId: bigint | number, requestId: string, operator: string) =>
    `${chainId}:${requestId.toLowerCase()}:${operator.toLowerCase()}`,
  post: (targetChainId: bigint | number, originChainId: bigint | number, requestId: string) =>
    `${targetChainId}:${originChainId}:${requestId.toLowerCase()}`,
} as const;
