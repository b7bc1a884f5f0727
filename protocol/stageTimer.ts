/**
 * Milliseconds spent in each named stage of one job, for the debug log lines that explain a
 * latency (worker "result pushed", collector "quorum reached"): `mark(name)` closes the stage that
 * began at the previous mark (or at creation).
 */
export type StageTimer = { mark(stage: string): void; readonly ms: Record<string, number> };

export function stageTimer(now: () => number = () => performance.now()): StageTimer {
  let last = now();
  const ms: Record<string, number> = {};
  return {
    mark(stage: string) {
      const t = now();
      ms[stage] = (ms[stage] ?? 0) + Math.round((t - last) * 10) / 10;
      last = t;
    },
    ms,
  };
}
