import { z } from "zod";
import {
  addProgramSourcesFromEnv,
  chainSchema,
  loadConfig,
  operationsSchema,
  programSourcesSchema,
  redisSchema,
  refineUniqueChainIds,
  serviceEnvOverrides,
} from "../protocol/config.ts";
import { JOB_KINDS } from "../protocol/jobs.ts";

/**
 * Worker (compute agent) config: one process per operator key. The key itself never sits in the
 * file: it comes from the environment variable `operator.keyEnv` (default OPERATOR_KEY) or the
 * CLI's --key-env. Environment overrides: REDIS_URL, WORKER_HTTP_PORT, LOG_LEVEL,
 * VERSATUS_PROGRAMS_DIR (added to programs.dirs), VERSATUS_PROGRAMS_URL (added to programs.urls).
 *
 * @example
 * {
 *   "chains": [{ "chainId": 31337, "ingestor": "0x.." }, { "chainId": 31338, "ingestor": "0x.." }],
 *   "programs": { "dirs": ["programs"], "urls": ["https://programs.example.org"] },
 *   "concurrency": 4, "capacity": 256
 * }
 */

/** The chains this operator signs for: only chainId and ingestor are needed (a relayer chain entry fits too). */
export const workerChainSchema = chainSchema.partial({ rpcUrl: true, oracle: true });

const programIdSchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a 0x-prefixed 32-byte programId");

export const workerConfigSchema = z
  .strictObject({
    operator: z
      .strictObject({
        /** Environment variable that holds the operator's private key. */
        keyEnv: z.string().min(1).default("OPERATOR_KEY"),
        /** When set, the key must belong to this address (guards against a swapped env var). */
        address: z
          .string()
          .regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address")
          .optional(),
      })
      .prefault({}),
    chains: z.array(workerChainSchema).min(1),
    programs: programSourcesSchema,
    accept: z
      .strictObject({
        kinds: z.array(z.enum(JOB_KINDS)).min(1).default(["execute"]),
        /** Only these programs (absent: every program). */
        programs: z.array(programIdSchema).optional(),
      })
      .prefault({}),
    /** Jobs run at once. */
    concurrency: z.number().int().positive().default(4),
    /** Queue depth at which this operator reports itself full. */
    capacity: z.number().int().positive().default(256),
    /** Runtime worker threads (default: one per core). */
    runtimeThreads: z.number().int().positive().optional(),
    /** How often backpressure is reported to Redis. */
    reportIntervalMs: z.number().int().positive().default(1_000),
    redis: redisSchema.prefault({}),
    operations: operationsSchema.prefault({}),
  })
  .superRefine(refineUniqueChainIds);
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(
  options: { file?: string; raw?: unknown; env?: NodeJS.ProcessEnv } = {},
): WorkerConfig {
  const env = options.env ?? process.env;
  const config = loadConfig(workerConfigSchema, {
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(options.raw === undefined ? {} : { raw: options.raw }),
    envOverrides: serviceEnvOverrides(env, "WORKER_HTTP_PORT"),
  });
  addProgramSourcesFromEnv(config.programs, env, options.file);
  return config;
}
