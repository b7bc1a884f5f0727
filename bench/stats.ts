/**
 * The one percentile every benchmark and the chaos run report: nearest rank (the smallest sample
 * with at least p % of the samples at or below it), so a reported p99 is a latency that was seen.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Ascending copy (the samples are left as they are). */
export const ascending = (samples: readonly number[]): number[] => [...samples].sort((a, b) => a - b);
