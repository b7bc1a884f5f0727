import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics of the ingestor. One registry per service instance (not prom-client's global
 * one), so tests and the devnet can run several instances in one process.
 */
export function createIngestorMetrics(registry = new Registry()) {
  return {
    registry,
    resultsReceived: new Counter({
      name: "versatus_collector_results_total",
      help: "Signed results taken from the results queue, by outcome",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    quorumsReached: new Counter({
      name: "versatus_collector_quorums_total",
      help: "Results that reached the threshold and were written to DA and queued for posting",
      registers: [registry],
    }),
    quorumLatency: new Histogram({
      name: "versatus_collector_quorum_seconds",
      help: "First signature seen → quorum reached",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    daPutLatency: new Histogram({
      name: "versatus_collector_da_put_seconds",
      help: "Time to write one execution record to DA",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    postOutcomes: new Counter({
      name: "versatus_poster_results_total",
      help: "Post jobs by outcome (ingested, skipped, retried, rate_limited, failed)",
      labelNames: ["chain", "outcome"] as const,
      registers: [registry],
    }),
    batches: new Counter({
      name: "versatus_poster_batches_total",
      help: "ingest/ingestBatch transactions mined",
      labelNames: ["chain", "status"] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "versatus_poster_batch_size",
      help: "Results per transaction",
      labelNames: ["chain"] as const,
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry],
    }),
    gasUsed: new Counter({
      name: "versatus_poster_gas_used_total",
      help: "Gas used by the poster's transactions",
      labelNames: ["chain"] as const,
      registers: [registry],
    }),
    feeWei: new Counter({
      name: "versatus_poster_fee_wei_total",
      help: "Transaction fees paid by the poster (gasUsed × effectiveGasPrice), in wei",
      labelNames: ["chain"] as const,
      registers: [registry],
    }),
    feeBumps: new Counter({
      name: "versatus_poster_fee_bumps_total",
      help: "Transactions re-sent with higher fees",
      labelNames: ["chain"] as const,
      registers: [registry],
    }),
    activitySnapshots: new Counter({
      name: "versatus_poster_activity_snapshots_total",
      help: "Activity-snapshot keeper looks that acted: sent, reverted, failed (before or while sending), not_paying (auto mode skipped)",
      labelNames: ["chain", "outcome"] as const,
      registers: [registry],
    }),
    postLatency: new Histogram({
      name: "versatus_poster_post_seconds",
      help: "Post job queued → its transaction mined",
      labelNames: ["chain"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "versatus_ingestor_queue_depth",
      help: "Jobs waiting (waiting + delayed) per queue",
      labelNames: ["queue"] as const,
      registers: [registry],
    }),
    orphans: new Counter({
      name: "versatus_reconcile_orphans_total",
      help: "Open requests found with no pending work and handed back to the scheduler",
      labelNames: ["chain"] as const,
      registers: [registry],
    }),
  };
}

export type IngestorMetrics = ReturnType<typeof createIngestorMetrics>;
