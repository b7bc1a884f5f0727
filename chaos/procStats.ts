/**
 * Resident memory and open file descriptors of a process group (a node and whatever it spawned),
 * read from /proc (Linux), and the least-squares slope of a series of samples.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Pids whose process group is `pgid`. */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // fields after the command (which may hold spaces) start after the last ')'
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // gone between the listing and the read
    }
  }
  return pids;
}

/** RSS (MB) and open fds summed over the group; undefined when nothing of it runs. */
export function sampleGroup(pgid: number): { rssMb: number; fds: number } | undefined {
  const pids = groupPids(pgid);
  if (pids.length === 0) return undefined;
  let rssKb = 0;
  let fds = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      fds += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // exited meanwhile
    }
  }
  return { rssMb: rssKb / 1024, fds };
}

/** Least-squares slope of y over x (units of y per unit of x); 0 with fewer than two points. */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export type ResourceSample = { t: number; rssMb: number; fds: number };

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Growth of one process group over a run: RSS and open fds at start, end and peak, and their
 * least-squares slopes per minute over the whole run and over its second half (by time: start-up
 * and warm-up fill caches and grow V8's heap towards its working size; what still grows in the
 * second half is what the soak's target is about).
 */
export function growth(samples: ResourceSample[]) {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const end = last?.t ?? 0;
  const secondHalf = samples.filter((s) => s.t >= end / 2);
  const perMin = (points: ResourceSample[], y: (s: ResourceSample) => number) =>
    round2(slope(points.map((s) => ({ x: s.t / 60, y: y(s) }))));
  return {
    samples: samples.length,
    rss_start_mb: first?.rssMb ?? 0,
    rss_end_mb: last?.rssMb ?? 0,
    rss_max_mb: Math.max(0, ...samples.map((s) => s.rssMb)),
    rss_mb_per_min: perMin(samples, (s) => s.rssMb),
    rss_mb_per_min_second_half: perMin(secondHalf, (s) => s.rssMb),
    fds_start: first?.fds ?? 0,
    fds_end: last?.fds ?? 0,
    fds_max: Math.max(0, ...samples.map((s) => s.fds)),
    fds_per_min: perMin(samples, (s) => s.fds),
    fds_per_min_second_half: perMin(secondHalf, (s) => s.fds),
  };
}
