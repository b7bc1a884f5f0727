/**
 * Queue and key names of the off-chain network (SPEC 6), laid out for Redis Cluster (README,
 * "Scaling an operator's domain on Redis Cluster"). A cluster runs a multi-key command, MULTI or
 * Lua script only when all its keys hash to one slot, and hashes only the `{...}` part of a key
 * when there is one:
 *
 * - Every BullMQ queue carries its own hash tag in its name (`versatus:{post-31337}:wait`), so each
 *   queue's keys share a slot, as BullMQ's scripts need, while different queues (each operator's
 *   work queue, the results queue, one post queue per target chain) hash to different slots and
 *   spread over the cluster's masters.
 * - The scheduling and quorum state (plain keys, below) sits under one tag, `{versatus}`: its
 *   MULTIs join a request's hash with the schedule and the done/signers sets, so it stays in one
 *   slot. It is a few small keys per request; the queues carry the jobs.
 */
/** BullMQ prefix of every queue. No hash tag here: the tag is in each queue's name. */
export const QUEUE_PREFIX = "versatus";

/** Hash-tagged prefix of the plain keys (scheduling, quorum, watcher state): one slot. */
export const STATE_PREFIX = "{versatus}";

/**
 * Queue names, each its own hash tag. BullMQ refuses a queue name containing ":" (its key
 * separator), so the parts are joined with "-".
 */
export const queueNames = {
  /** Per operator: jobs the scheduler assigned to that operator's worker. */
  work: (operator: string) => `{work-${operator.toLowerCase()}}`,
  /** Signed results from every worker, consumed by the collector. */
  results: "{results}",
  /** Per target chain: quorum-signed results waiting to be posted with ingestBatch. */
  post: (chainId: bigint | number | string) => `{post-${chainId}}`,
} as const;

/** Plain Redis keys (not queues), all under {@link STATE_PREFIX} (one slot). */
export const redisKeys = {
  /** Relayer cursor: last block fully processed on a chain. */
  cursor: (chainId: bigint | number | string) => `${STATE_PREFIX}:cursor:${chainId}`,
  /** Hash: operator -> JSON {depth, capacity, kinds, programs, updatedAt} reported by workers. */
  operators: `${STATE_PREFIX}:operators`,
  /** Hash of one request's scheduling state (assigned operators, deadlines). */
  request: (chainId: bigint | number | string, requestId: string) =>
    `${STATE_PREFIX}:req:${chainId}:${requestId.toLowerCase()}`,
  /**
   * Set of the operators (lower-case addresses) whose worker pushed a result for one request. A
   * worker adds itself right after its ResultJob is queued; the scheduler's work-stealing sweep
   * reads it to tell done work from work to reassign.
   */
  done: (chainId: bigint | number | string, requestId: string) =>
    `${STATE_PREFIX}:done:${chainId}:${requestId.toLowerCase()}`,
  /**
   * List of RequestJob JSON handed to the domain's relay role by another role of the same operator
   * (the ingestor's reconciler finding an open request nobody works on); every relayer drains it
   * on its sweep. A plain list, not a queue: scheduling is idempotent (the request state key), so a
   * request handed twice costs one lookup.
   */
  requests: `${STATE_PREFIX}:requests`,
  /**
   * Hash of one request's signers as an operator node saw them: operator (lower-case) → the
   * bodyHash it signed. The leaderless scheduler counts only the largest group as "signed", so a
   * member that signed a diverging result leaves its slot open for a stealer.
   */
  signers: (chainId: bigint | number | string, requestId: string) =>
    `${STATE_PREFIX}:signers:${chainId}:${requestId.toLowerCase()}`,
  /** Sorted set of `chainId:requestId` scored by the unix ms of the request's next scheduling check. */
  schedule: `${STATE_PREFIX}:schedule`,
} as const;

/**
 * Deterministic BullMQ job ids: a repeated event or retry never makes a second job. BullMQ 5
 * accepts a custom id with ":" only when it has exactly three parts, which all of these have.
 */
export const jobIds = {
  work: (chainId: bigint | number | string, requestId: string, operator: string) =>
    `${chainId}:${requestId.toLowerCase()}:${operator.toLowerCase()}`,
  result: (chainId: bigint | number | string, requestId: string, operator: string) =>
    `${chainId}:${requestId.toLowerCase()}:${operator.toLowerCase()}`,
  post: (targetChainId: bigint | number | string, originChainId: bigint | number | string, requestId: string) =>
    `${targetChainId}:${originChainId}:${requestId.toLowerCase()}`,
} as const;
