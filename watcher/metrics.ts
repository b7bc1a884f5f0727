import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export function createWatcherMetrics(registry: Registry) {
  return {
    checked: new Counter({
      name: "versatus_watcher_results_checked_total",
      help: "Ingested results verified, by verdict (ok, wrong, unavailable, unknown)",
      labelNames: ["verdict"],
      registers: [registry],
    }),
    mismatches: new Counter({
      name: "versatus_watcher_mismatches_total",
      help: "Ingested results whose re-execution or DA record disagreed with the ingested bodyHash",
      labelNames: ["kind"],
      registers: [registry],
    }),
    challenges: new Counter({
      name: "versatus_watcher_challenges_total",
      help: "Challenges by kind and outcome (sent, already, failed)",
      labelNames: ["kind", "outcome"],
      registers: [registry],
    }),
    detectionLatency: new Histogram({
      name: "versatus_watcher_detection_seconds",
      help: "Ingest event seen → challenge transaction mined",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    finalized: new Counter({
      name: "versatus_watcher_finalized_total",
      help: "finalize calls by outcome (sent, already, failed)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    votes: new Counter({
      name: "versatus_watcher_votes_total",
      help: "Dispute actions (commit, reveal, resolve, withdraw, abstain) by outcome",
      labelNames: ["action", "outcome"],
      registers: [registry],
    }),
    equivocations: new Counter({
      name: "versatus_watcher_equivocation_proofs_total",
      help: "Equivocation proofs by outcome (proven, already_slashed, failed, unprovable)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    head: new Gauge({
      name: "versatus_watcher_head_block",
      help: "Latest block seen",
      labelNames: ["chain"],
      registers: [registry],
    }),
  };
}
export type WatcherMetrics = ReturnType<typeof createWatcherMetrics>;
