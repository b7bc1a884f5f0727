/**
 * How a poster forms its `ingestBatch` transactions (SPEC 6, issue 14): how many results one
 * transaction may carry, and when the results in hand go. Pure (no clock, no chain): the poster
 * (ingestor/poster.ts) feeds it what it measured and the tests pin the rules down.
 */

/** Share of the block gas limit one batch may ask for (the rest leaves room for everybody else). */
export const BATCH_BLOCK_SHARE = 0.5;

/**
 * Results the next batch may carry: as many as fit in `blockShare` of the block gas limit at the
 * gas limit per result the last batch asked for (its estimate plus the bounded-call reserves), never
 * more than `maxBatchSize` and never fewer than one. Before any batch was sent, or without a block
 * gas limit, `maxBatchSize`.
 */
export function batchCapacity(args: {
  maxBatchSize: number;
  blockGasLimit?: bigint;
  lastBatch?: { gasLimit: bigint; size: number };
  blockShare?: number;
}): number {
  const { maxBatchSize, blockGasLimit, lastBatch } = args;
  const share = args.blockShare ?? BATCH_BLOCK_SHARE;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1)
    throw new RangeError("maxBatchSize must be a positive integer");
  if (!(share > 0 && share <= 1)) throw new RangeError("blockShare must be in (0, 1]");
  if (!blockGasLimit || blockGasLimit <= 0n || !lastBatch || lastBatch.size < 1 || lastBatch.gasLimit <= 0n)
    return maxBatchSize;
  const perResult = (lastBatch.gasLimit + BigInt(lastBatch.size) - 1n) / BigInt(lastBatch.size);
  const budget = (blockGasLimit * BigInt(Math.round(share * 10_000))) / 10_000n;
  const fit = Number(budget / perResult);
  return Math.max(1, Math.min(maxBatchSize, fit));
}

export type FlushDecision = { action: "send" } | { action: "hold" } | { action: "wait"; ms: number };

/**
 * Whether the results in hand go now. While a transaction is in flight they wait for it (the next
 * batch fills while the current one is mined: group commit, no timer). Otherwise they go at once
 * when the batch is full, when the oldest has waited `lingerMs`, or when the oldest came alone (no
 * other result arrived in the `lingerMs` before it: at low load a linger only adds latency);
 * else, while results stream in, the poster lingers for the rest of `lingerMs` to fill the batch.
 */
export function flushDecision(args: {
  queued: number;
  capacity: number;
  inFlight: boolean;
  /** How long the oldest result in hand has waited. */
  oldestWaitedMs: number;
  /** Time between the oldest result's arrival and the arrival before it (Infinity: none before it). */
  gapBeforeOldestMs: number;
  lingerMs: number;
}): FlushDecision {
  if (args.queued === 0 || args.inFlight) return { action: "hold" };
  if (args.queued >= args.capacity) return { action: "send" };
  if (args.oldestWaitedMs >= args.lingerMs) return { action: "send" };
  if (args.gapBeforeOldestMs >= args.lingerMs) return { action: "send" };
  return { action: "wait", ms: args.lingerMs - args.oldestWaitedMs };
}
