import { z } from "zod";
import {
  addProgramSourcesFromEnv,
  addressSchema,
  chainSchema,
  loadConfig,
  operationsSchema,
  privateKeySchema,
  programSourcesSchema,
  redisSchema,
  refineUniqueChainIds,
  serviceEnvOverrides,
} from "../protocol/config.ts";
import { InvalidInputError } from "../protocol/errors.ts";

/**
 * Watcher config (SPEC 3.5, 6): which chains to follow (their ingestor, DisputeManager,
 * StakingRegistry and oracle), where records are read (`da`, as for the collector), where
 * programs come from (as for the worker) and what the watcher does (challenge, vote, prove fraud).
 * The key comes from the environment variable `watcher.keyEnv` (default WATCHER_KEY) or
 * `watcher.privateKey` (tests; keep keys out of files). Environment overrides: REDIS_URL,
 * WATCHER_HTTP_PORT, LOG_LEVEL, WATCHER_KEY (through keyEnv), VERSATUS_PROGRAMS_DIR.
 *
 * @example
 * {
 *   "chains": [{ "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545", "oracle": "0x..", "ingestor": "0x..",
 *                "disputeManager": "0x..", "registry": "0x..", "confirmations": 1 }],
 *   "da": { "primary": { "layer": "local", "dir": ".versatus/da" } },
 *   "programs": { "dirs": ["programs"] },
 *   "options": { "challenge": true, "vote": true, "fraudProofs": true }
 * }
 */
export const watcherChainSchema = chainSchema.extend({
  disputeManager: addressSchema,
  registry: addressSchema,
  /** Widest getLogs range, in blocks. */
  maxBlockRange: z.number().int().positive().default(2_000),
});
export type WatcherChainConfig = z.infer<typeof watcherChainSchema>;

export const watcherConfigSchema = z
  .strictObject({
    chains: z.array(watcherChainSchema).min(1),
    watcher: z
      .strictObject({
        /** Environment variable holding the watcher's private key. */
        keyEnv: z.string().min(1).default("WATCHER_KEY"),
        /** The key itself (tests and in-process use only). */
        privateKey: privateKeySchema.optional(),
      })
      .prefault({}),
    /** DA client config, passed as is to createDaClient (da/config.ts). */
    da: z.unknown().default({}),
    programs: programSourcesSchema,
    options: z
      .strictObject({
        /** Challenge wrong or unavailable results (bond in ETH from the watcher's account). */
        challenge: z.boolean().default(true),
        /** Commit and reveal votes on open disputes (needs a registered, staked watcher). */
        vote: z.boolean().default(true),
        /**
         * No effect since issue 10 (finalize is gone: reputation accrues from the fee ledger, see
         * `versatus operator reputation`); still accepted so older config files load.
         */
        finalize: z.boolean().default(true),
        /** Prove objective faults (unbacked or foreign mints in signed Results) to the registry. */
        fraudProofs: z.boolean().default(true),
        /** Prove equivocation seen in DA records and the evidence stream. */
        equivocation: z.boolean().default(true),
        /** Main loop period: poll chains, act on pending results and disputes. */
        pollIntervalMs: z.number().int().positive().default(500),
        /** Results verified at once. */
        concurrency: z.number().int().positive().default(4),
        /** Reading a record from DA: attempts and the delay between them (bounded by the window). */
        daAttempts: z.number().int().positive().default(5),
        daRetryDelayMs: z.number().int().nonnegative().default(1_000),
        /** (ingestor, request, signer) triples remembered for equivocation. */
        equivocationMemory: z.number().int().positive().default(100_000),
      })
      .prefault({}),
    runtimeThreads: z.number().int().positive().optional(),
    redis: redisSchema.prefault({}),
    operations: operationsSchema.prefault({}),
  })
  .superRefine(refineUniqueChainIds);
export type WatcherConfig = z.infer<typeof watcherConfigSchema>;
export type WatcherConfigInput = z.input<typeof watcherConfigSchema>;

export function loadWatcherConfig(
  options: { file?: string; raw?: unknown; env?: NodeJS.ProcessEnv } = {},
): WatcherConfig {
  const env = options.env ?? process.env;
  const config = loadConfig(watcherConfigSchema, {
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(options.raw === undefined ? {} : { raw: options.raw }),
    envOverrides: serviceEnvOverrides(env, "WATCHER_HTTP_PORT"),
  });
  addProgramSourcesFromEnv(config.programs, env, options.file);
  return config;
}

/** The watcher's key: `watcher.privateKey`, else the environment variable `watcher.keyEnv`. */
export function watcherKey(config: WatcherConfig, env: NodeJS.ProcessEnv = process.env): `0x${string}` {
  const key = config.watcher.privateKey ?? env[config.watcher.keyEnv];
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw new InvalidInputError(`watcher key (env ${config.watcher.keyEnv})`, "a 0x-prefixed 32-byte hex private key");
  }
  return key as `0x${string}`;
}
