/**
 * What an operator would see during each fault: every node's /healthz, polled once a second, and
 * the warn/error lines of the nodes' logs, both matched to the fault windows they fall in. The
 * chaos report keeps the distinct answers and messages per fault kind (README: "what an operator
 * sees").
 */
import { readFileSync } from "node:fs";
import type { ClusterNode } from "../cli/devnet/cluster.ts";

export type HealthSample = { at: number; node: string; status: number; body: string };
export type Seen = { unhealthy: string[]; logs: string[] };

export function startObserver(nodes: () => ClusterNode[], periodMs = 1_000) {
  const samples: HealthSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        nodes().map(async (n) => {
          const at = Date.now();
          try {
            const res = await fetch(`${n.opsUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
            samples.push({ at, node: n.spec.name, status: res.status, body: (await res.text()).slice(0, 400) });
          } catch (error) {
            samples.push({ at, node: n.spec.name, status: 0, body: `no answer: ${(error as Error).message}` });
          }
        }),
      );
      await new Promise((r) => setTimeout(r, periodMs));
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Warn-or-worse log lines (pino JSON) of `nodes` between `from` and `to` (epoch ms). */
export function warnings(nodes: ClusterNode[], from: number, to: number): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    let text = "";
    try {
      text = readFileSync(n.logFile, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const entry = JSON.parse(line) as {
          level?: number;
          time?: number;
          msg?: string;
          service?: string;
          role?: string;
        };
        if ((entry.level ?? 0) >= 40 && (entry.time ?? 0) >= from && (entry.time ?? 0) <= to)
          out.push(
            `${n.spec.name}${entry.service ? ` ${entry.service}` : entry.role ? ` ${entry.role}` : ""}: ${entry.msg ?? ""}`,
          );
      } catch {
        // not a log entry
      }
    }
  }
  return out;
}

/** The most frequent distinct entries, with counts. */
export function topDistinct(lines: string[], limit = 5): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) {
    // numbers vary (ids, ms, block numbers): group lines that differ only in them
    const key = l
      .replace(/0x[0-9a-fA-F]{6,}/g, "0x…")
      .replace(/\d{3,}/g, "N")
      .slice(0, 240);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, c]) => `${c}× ${k}`);
}
