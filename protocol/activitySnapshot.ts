/**
 * When an activity snapshot (`StakingRegistry.snapshotActive`) pays for itself, and when the
 * keeper refreshes one: the one place these gas rules live (the poster's keeper,
 * ingestor/snapshotKeeper.ts, decides with them; docs/gas.md and the README quote them).
 *
 * A signer with a snapshot that still counts is checked from its member slot alone; without one
 * the ingest asks the stake adapter (a cold contract, a cold stake slot per signer, the curve and
 * rates slots). Measured by `npm run bench:gas` (3 signers, receipt gasUsed):
 * `ingest_single_live_stake` 132,906 → `ingest_single` 112,700 (−20,206 for one `ingest`), and for
 * `ingestBatch` 19.1k (1 result), 45.5k (5), 144.2k (20), 671k (100) saved per transaction, which
 * 12,000 per transaction + 6,700 per result follows within 5 % (a little under for one result).
 */

/** Gas a snapshot saves once per ingest transaction (the adapter call and the rules slots). */
export const SNAPSHOT_SAVES_PER_TX = 12_000n;
/** Gas a snapshot saves per result (the signers' cold stake slots, read once per result). */
export const SNAPSHOT_SAVES_PER_RESULT = 6_700n;

/** Ingest transactions (and the results they carried) seen in one snapshot lifetime. */
export type IngestTraffic = { transactions: number; results: number };

/** Gas the snapshot would have saved on this traffic (every signer covered). */
export function snapshotSavings(traffic: IngestTraffic): bigint {
  return BigInt(traffic.transactions) * SNAPSHOT_SAVES_PER_TX + BigInt(traffic.results) * SNAPSHOT_SAVES_PER_RESULT;
}

/**
 * Whether a snapshot costing `snapshotGas` pays, judged on the traffic of the last lifetime (the
 * best guess of the next one): it pays when that traffic would have saved at least its cost.
 */
export function snapshotPays(traffic: IngestTraffic, snapshotGas: bigint): boolean {
  return snapshotSavings(traffic) >= snapshotGas;
}

/** Single-result `ingest` transactions per lifetime at which a snapshot of `snapshotGas` breaks even. */
export function breakEvenSingleIngests(snapshotGas: bigint): number {
  const perIngest = SNAPSHOT_SAVES_PER_TX + SNAPSHOT_SAVES_PER_RESULT;
  return Number((snapshotGas + perIngest - 1n) / perIngest);
}

/** What the keeper should do now, from the registry's state (chain seconds). */
export type RefreshDecision =
  | { action: "none"; reason: "no_operators" }
  | { action: "hold"; recheckInSeconds: number }
  | { action: "wait_window"; recheckInSeconds: number }
  | { action: "refresh" };

/**
 * Refresh when the earliest snapshot among `untils` (0 = none) ends within `marginSeconds`; but
 * at most once per refresh window: no new snapshot while the last one this keeper sent is younger
 * than `lifetimeSeconds - marginSeconds` (another keeper, or a revocation, may have ended a
 * snapshot early: the next window picks it up).
 */
export function refreshDecision(args: {
  nowSeconds: bigint;
  untils: bigint[];
  marginSeconds: number;
  lifetimeSeconds: number;
  lastSentAtSeconds: bigint | undefined;
}): RefreshDecision {
  const { nowSeconds, untils, marginSeconds, lifetimeSeconds, lastSentAtSeconds } = args;
  if (untils.length === 0) return { action: "none", reason: "no_operators" };
  const earliest = untils.reduce((a, b) => (b < a ? b : a));
  const left = earliest - nowSeconds;
  if (left > BigInt(marginSeconds)) return { action: "hold", recheckInSeconds: Number(left) - marginSeconds };
  if (lastSentAtSeconds !== undefined) {
    const windowLeft = lastSentAtSeconds + BigInt(Math.max(1, lifetimeSeconds - marginSeconds)) - nowSeconds;
    if (windowLeft > 0n) return { action: "wait_window", recheckInSeconds: Number(windowLeft) };
  }
  return { action: "refresh" };
}
