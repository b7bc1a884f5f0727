import { z } from "zod";
import {
  chainSchema,
  loadConfig,
  operationsSchema,
  privateKeySchema,
  redisSchema,
  refineUniqueChainIds,
  serviceEnvOverrides,
} from "../protocol/config.ts";
import { addressSchema } from "../protocol/config.ts";

/**
 * Configuration of the ingestor service (collector + poster + reconciler), one schema for the
 * whole service. Load it with {@link loadIngestorConfig}: a JSON file, then the environment
 * (`POSTER_KEY`, `REDIS_URL`, `LOG_LEVEL`, `METRICS_PORT`); errors name the field.
 *
 * @example
 * {
 *   "chains": [{ "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545", "oracle": "0x..", "ingestor": "0x.." }],
 *   "da": { "primary": { "layer": "local", "dir": ".versatus/da" } },
 *   "poster": { "maxBatchSize": 50, "maxBatchWaitMs": 100 }
 * }
 */
export const collectorSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Results processed at once. */
    concurrency: z.number().int().positive().default(16),
    /**
     * Optional fixed operator set (addresses) used instead of the chain's OwnedOperatorSet; the
     * threshold then comes from `threshold`. Leave unset to read both from the chain.
     */
    operators: z.array(addressSchema).optional(),
    threshold: z.number().int().positive().optional(),
    /** How long the operator set and threshold read from a chain are trusted before a re-read. */
    operatorSetRefreshMs: z.number().int().positive().default(30_000),
    /** Partial quorums older than this are dropped from Redis (the request has expired by then). */
    pendingTtlSeconds: z
      .number()
      .int()
      .positive()
      .default(8 * 24 * 3600),
  })
  .refine((c) => (c.operators === undefined) === (c.threshold === undefined), {
    message: "operators and threshold are set together",
    path: ["threshold"],
  })
  .superRefine((c, ctx) => {
    if (!c.operators || c.threshold === undefined) return;
    const operators = c.operators.map((a) => a.toLowerCase());
    operators.forEach((a, i) => {
      if (operators.indexOf(a) !== i)
        ctx.addIssue({ code: "custom", path: ["operators", i], message: `operator ${a} is listed twice` });
    });
    if (c.threshold > operators.length)
      ctx.addIssue({
        code: "custom",
        path: ["threshold"],
        message: `at most the number of operators (${operators.length} in collector.operators), got ${c.threshold}`,
      });
  });

/**
 * The poster's activity-snapshot keeper (ingestor/snapshotKeeper.ts): keeps
 * `StakingRegistry.snapshotActive` snapshots of the active operators fresh so that ingests check
 * their signers from the member slot alone (~18.7k gas less per single ingest, 3 signers; rules in
 * protocol/activitySnapshot.ts). Sent from the poster key through the poster's own TxSender.
 */
export const snapshotKeeperSchema = z
  .strictObject({
    /**
     * off: never; auto: refresh only when the ingests this poster sent in the last snapshot
     * lifetime would have saved at least the snapshot's estimated gas; always: keep snapshots
     * fresh whatever the traffic. Off by default: at the devnet's rate (a few flows, then idle) a
     * snapshot (79k gas for 3 signers, every 2 minutes in the default deploy config) does not pay.
     */
    mode: z.enum(["off", "auto", "always"]).default("off"),
    /** Refresh when the earliest snapshot ends within this many (chain) seconds. */
    marginSeconds: z.number().int().positive().default(15),
    /** Longest time between two looks at the registry (a look is a few eth_calls). */
    checkIntervalMs: z.number().int().positive().default(10_000),
    /** First wait after a failed refresh; doubled per failure up to maxRetryDelayMs. */
    retryDelayMs: z.number().int().positive().default(2_000),
    maxRetryDelayMs: z.number().int().positive().default(60_000),
  })
  .refine((k) => k.maxRetryDelayMs >= k.retryDelayMs, {
    message: "at least retryDelayMs",
    path: ["maxRetryDelayMs"],
  });

export const posterSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Most results per ingestBatch transaction (fewer when half the block gas limit holds fewer: protocol/postBatch.ts). */
  maxBatchSize: z.number().int().positive().max(500).default(200),
  /** Longest a result waits for company while results stream in (a lone one goes at once). */
  maxBatchWaitMs: z.number().int().nonnegative().default(100),
  /** A transaction not mined after this long is re-sent with the same nonce and higher fees. */
  receiptTimeoutMs: z.number().int().positive().default(15_000),
  /** Percent added to both fee fields at every bump (the node wants at least 10). */
  feeBumpPercent: z.number().int().min(10).max(500).default(25),
  maxFeeBumps: z.number().int().nonnegative().default(5),
  /** Attempts of one post job (transient failures, exponential backoff from retryDelayMs). */
  attempts: z.number().int().positive().default(12),
  retryDelayMs: z.number().int().positive().default(1_000),
  /** A MINT over the token's rate limit waits this long before the next try (does not use attempts). */
  rateLimitDelayMs: z.number().int().positive().default(30_000),
  snapshotKeeper: snapshotKeeperSchema.default(snapshotKeeperSchema.parse({})),
});

export const reconcileSchema = z.strictObject({
  enabled: z.boolean().default(true),
  intervalMs: z.number().int().positive().default(60_000),
  /** Blocks behind the head scanned for requests (a TTL's worth of blocks is the safe choice). */
  lookbackBlocks: z.number().int().positive().default(50_000),
  /** Blocks per eth_getLogs call. */
  logChunkBlocks: z.number().int().positive().default(5_000),
  /** Requests younger than this are left to the relayer (it may simply not have seen them yet). */
  graceMs: z.number().int().nonnegative().default(10_000),
  /**
   * Cross-chain post jobs (MINTs) that finished within this window are checked against this
   * chain every pass and posted again if their ingestion is missing (a reorg dropped it). Keep it
   * above the chain's reorg horizon and below the poster's completed-job retention (1 hour).
   */
  remoteHorizonMs: z.number().int().positive().max(3_600_000).default(900_000),
});

export const ingestorConfigSchema = z
  .strictObject({
    chains: z.array(chainSchema).min(1),
    redis: redisSchema.default({ url: "redis://127.0.0.1:6379" }),
    operations: operationsSchema.default({ httpPort: 0, logLevel: "info" }),
    /** DA config as da/config.ts takes it (`{}` = embedded local store under .versatus/da). */
    da: z.unknown().default({}),
    /** Poster key: from POSTER_KEY in the environment only (a config file holding it is refused). */
    posterKey: privateKeySchema.optional(),
    collector: collectorSchema.default({
      enabled: true,
      concurrency: 16,
      operatorSetRefreshMs: 30_000,
      pendingTtlSeconds: 8 * 24 * 3600,
    }),
    poster: posterSchema.default(posterSchema.parse({})),
    reconcile: reconcileSchema.default(reconcileSchema.parse({})),
  })
  .superRefine(refineUniqueChainIds);

export type IngestorConfig = z.infer<typeof ingestorConfigSchema>;
export type IngestorConfigInput = z.input<typeof ingestorConfigSchema>;
export type PosterConfig = z.infer<typeof posterSchema>;
export type SnapshotKeeperConfig = z.infer<typeof snapshotKeeperSchema>;
export type CollectorConfig = z.infer<typeof collectorSchema>;
export type ReconcileConfig = z.infer<typeof reconcileSchema>;

/** Loads the file (optional), applies the environment, validates. Throws InvalidInputError naming the field. */
export function loadIngestorConfig(
  options: { file?: string; raw?: unknown; env?: NodeJS.ProcessEnv } = {},
): IngestorConfig {
  const env = options.env ?? process.env;
  return loadConfig(ingestorConfigSchema, {
    ...(options.file ? { file: options.file } : {}),
    ...(options.raw !== undefined ? { raw: options.raw } : {}),
    envOverrides: { posterKey: env.POSTER_KEY, ...serviceEnvOverrides(env, "METRICS_PORT") },
  });
}
