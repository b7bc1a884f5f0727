import { z } from "zod";
import {
  addressSchema,
  chainSchema,
  loadConfig,
  operationsSchema,
  redisSchema,
  refineUniqueChainIds,
  serviceEnvOverrides,
} from "../protocol/config.ts";
import { reconcileSchema } from "../ingestor/config.ts";

/**
 * Relayer config (one file per relayer process), composed from the shared pieces of
 * protocol/config.ts. Environment overrides: REDIS_URL, RELAYER_HTTP_PORT, LOG_LEVEL.
 *
 * @example
 * {
 *   "chains": [{ "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545", "oracle": "0x..", "ingestor": "0x..",
 *                "confirmations": 1 }],
 *   "operators": { "operatorSet": { "chainId": 31337, "address": "0x.." } },
 *   "scheduler": { "quorum": 4, "reassignAfterMs": 10000 }
 * }
 */
export const relayerChainSchema = chainSchema.extend({
  /** Widest getLogs range, in blocks. */
  maxBlockRange: z.number().int().positive().default(2_000),
  /**
   * Blocks behind the cursor to scan again whenever new blocks arrive (reorg safety). Default:
   * `confirmations`. Re-scanning never duplicates work: job ids and the request state are deterministic.
   */
  reorgDepth: z.number().int().nonnegative().optional(),
});
export type RelayerChainConfig = z.infer<typeof relayerChainSchema>;

export const schedulerSchema = z
  .strictObject({
    /** Operators each request is scheduled on (Q). At least the ingestor's threshold. */
    quorum: z.number().int().positive().default(4),
    /** Work not done this long after assignment is given to the next-closest operator. */
    reassignAfterMs: z.number().int().positive().default(10_000),
    /** How often the work-stealing sweep runs. */
    sweepIntervalMs: z.number().int().positive().default(1_000),
    /** Requests looked at per sweep. */
    sweepBatch: z.number().int().positive().default(500),
    /** A worker report older than this counts as "unknown": the operator is used only to fill a quorum. */
    staleAfterMs: z.number().int().positive().default(15_000),
    /**
     * Events older than this many blocks below the confirmed head (a catch-up after downtime or
     * a wiped Redis) are checked on chain first: a request no longer open is not scheduled.
     */
    checkStatusOlderThanBlocks: z.number().int().nonnegative().default(32),
  })
  .prefault({});
export type SchedulerConfig = z.infer<typeof schedulerSchema>;

export const operatorSourceSchema = z
  .strictObject({
    /** Operator addresses (their workers' signing keys). */
    addresses: z.array(addressSchema).default([]),
    /** Also read `allOperators()` / `isActive()` of this OwnedOperatorSet (on a configured chain). */
    operatorSet: z.strictObject({ chainId: z.number().int().positive(), address: addressSchema }).optional(),
    /** How often the operator set is re-read. */
    refreshMs: z.number().int().positive().default(30_000),
  })
  .refine((o) => o.addresses.length > 0 || o.operatorSet !== undefined, {
    message: "at least one of addresses or operatorSet",
  });

export const relayerConfigSchema = z
  .strictObject({
    chains: z.array(relayerChainSchema).min(1),
    operators: operatorSourceSchema,
    scheduler: schedulerSchema,
    redis: redisSchema.prefault({}),
    operations: operationsSchema.prefault({}),
    /**
     * Reconciliation from chain state (SPEC 6): at start and every intervalMs, open requests in
     * the last lookbackBlocks blocks that have no scheduling state are scheduled again.
     */
    reconcile: reconcileSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    refineUniqueChainIds(config, ctx);
    const ids = config.chains.map((c) => c.chainId);
    const set = config.operators.operatorSet;
    const addresses = config.operators.addresses.map((a) => a.toLowerCase());
    addresses.forEach((a, i) => {
      if (addresses.indexOf(a) !== i)
        ctx.addIssue({ code: "custom", path: ["operators", "addresses", i], message: `operator ${a} is listed twice` });
    });
    // With a fixed list the quorum can never be reached by more operators than are listed; with an
    // OperatorSet the count is only known on chain (checked, loudly, at start).
    if (!set && config.scheduler.quorum > addresses.length) {
      ctx.addIssue({
        code: "custom",
        path: ["scheduler", "quorum"],
        message: `at most the number of operators (${addresses.length} in operators.addresses), got ${config.scheduler.quorum}`,
      });
    }
    if (set && !ids.includes(set.chainId)) {
      ctx.addIssue({
        code: "custom",
        path: ["operators", "operatorSet", "chainId"],
        message: `one of the configured chains (${ids.join(", ")})`,
      });
    }
  });
export type RelayerConfig = z.infer<typeof relayerConfigSchema>;

/** Loads and validates a relayer config from a file and/or a raw object, with environment overrides. */
export function loadRelayerConfig(
  options: { file?: string; raw?: unknown; env?: NodeJS.ProcessEnv } = {},
): RelayerConfig {
  const env = options.env ?? process.env;
  return loadConfig(relayerConfigSchema, {
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(options.raw === undefined ? {} : { raw: options.raw }),
    envOverrides: serviceEnvOverrides(env, "RELAYER_HTTP_PORT"),
  });
}
