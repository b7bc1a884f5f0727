import { z } from "zod";
import {
  addProgramSourcesFromEnv,
  addressSchema,
  chainSchema,
  loadConfig,
  portSchema,
  programSourcesSchema,
  redisSchema,
  refineUniqueChainIds,
} from "../../protocol/config.ts";
import { InvalidInputError } from "../../protocol/errors.ts";
import { JOB_KINDS } from "../../protocol/jobs.ts";
import { MAX_RECOVERY_THREADS } from "../../protocol/signerRecovery.ts";
import { DEFAULT_MAX_OLD_SPACE_MB, MAX_MAX_OLD_SPACE_MB, MIN_MAX_OLD_SPACE_MB } from "./heap.ts";

export { DEFAULT_MAX_OLD_SPACE_MB };

/**
 * Config of one operator node (`versatus node --config node.json`, docs/node.md). One file per
 * node process; a domain split over machines runs several nodes with the same operator key, the
 * same `redis.url` and different `roles`. Keys never sit in the file: `VERSATUS_OPERATOR_KEY`
 * (operator; signs results, reports, share offers and the peer binding), `VERSATUS_POSTER_KEY`
 * (post role), the watcher's key from `watch.keyEnv` (default WATCHER_KEY).
 *
 * @example
 * {
 *   "network": { "name": "devnet", "listen": ["/ip4/0.0.0.0/tcp/4001"], "bootstrap": [], "peerKeyFile": ".versatus/peer.key" },
 *   "roles": ["relay", "compute", "collect", "post"],
 *   "redis": { "url": "redis://127.0.0.1:6379/0" },
 *   "chains": [{ "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545", "oracle": "0x..", "ingestor": "0x.." }],
 *   "accepts": { "kinds": ["execute"] },
 *   "programs": { "dirs": ["programs"] },
 *   "da": { "primary": { "layer": "local", "dir": ".versatus/da" } },
 *   "ops": { "port": 9470 }
 * }
 */
export const NODE_ROLES = ["relay", "compute", "collect", "post", "watch", "persist", "gateway"] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

const multiaddrSchema = z.string().regex(/^\/(ip4|ip6|dns|dns4|dns6)\//, "a multiaddr such as /ip4/127.0.0.1/tcp/4001");
const programIdSchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a 0x-prefixed 32-byte programId");

export const nodeChainSchema = chainSchema.extend({
  /** Widest getLogs range (relay role). */
  maxBlockRange: z.number().int().positive().default(2_000),
  /** Blocks behind the cursor scanned again (relay role); default `confirmations`. */
  reorgDepth: z.number().int().nonnegative().optional(),
  /** HoneSTake contracts (watch role only). */
  disputeManager: addressSchema.optional(),
  registry: addressSchema.optional(),
});
export type NodeChainConfig = z.infer<typeof nodeChainSchema>;

export const nodeTimingSchema = z
  .strictObject({
    /** Operators per request (Q). Every node of a network must use the same value. */
    quorum: z.number().int().positive().default(4),
    /** A quorum member that has not signed this long after the request became actionable can be stolen from. */
    stealAfterMs: z.number().int().positive().default(10_000),
    /** The i-th standby node steals i × stealStepMs after the first one may (so they do not all pile in). */
    stealStepMs: z.number().int().nonnegative().default(2_000),
    /** A backpressure report older than this is ignored. */
    staleAfterMs: z.number().int().positive().default(15_000),
    /** Backpressure report period (compute role). */
    reportIntervalMs: z.number().int().positive().default(2_000),
    /** Scheduling sweep period (relay role). */
    sweepIntervalMs: z.number().int().positive().default(500),
    /** Delay before the next poster in the rotation posts a result still not ingested. */
    postFallbackMs: z.number().int().positive().default(5_000),
    /** Reconciliation from chain state: period, look-back and grace. */
    reconcileIntervalMs: z.number().int().positive().default(60_000),
    reconcileLookbackBlocks: z.number().int().positive().default(50_000),
    reconcileGraceMs: z.number().int().nonnegative().default(10_000),
    /** How often the active operator set is re-read. */
    membershipRefreshMs: z.number().int().positive().default(30_000),
  })
  .prefault({});
export type NodeTiming = z.infer<typeof nodeTimingSchema>;

export const nodeConfigSchema = z
  .strictObject({
    network: z.strictObject({
      /** Topic namespace: every node of one network uses the same name. */
      name: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "a short lower-case name (letters, digits, '-'), e.g. devnet"),
      listen: z.array(multiaddrSchema).default(["/ip4/0.0.0.0/tcp/0"]),
      /** Multiaddrs with /p2p/<peerId> of nodes already in the network. */
      bootstrap: z
        .array(z.string().regex(/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/, "a multiaddr ending in /p2p/<peerId>"))
        .default([]),
      /** Where the libp2p identity is kept (created on first start). */
      peerKeyFile: z.string().min(1),
      /**
       * Worker threads that recover the signers of gossiped results (protocol/signerRecovery.ts);
       * 0 recovers them on the main thread, where they cost ~13 % of its busy time at saturation (issue 14 profile).
       */
      recoveryThreads: z.number().int().min(0).max(MAX_RECOVERY_THREADS).default(0),
    }),
    roles: z
      .array(z.enum(NODE_ROLES))
      .min(1)
      .refine((r) => new Set(r).size === r.length, "each role once"),
    /** The operator's own Redis (no other operator uses it). */
    redis: redisSchema.prefault({}),
    chains: z.array(nodeChainSchema).min(1),
    /**
     * Where the active operator set is read. Default: `InstructionIngestor.operatorSet()` of the
     * first chain (allOperators() filtered by isActive()).
     */
    operators: z
      .strictObject({ operatorSet: z.strictObject({ chainId: z.number().int().positive(), address: addressSchema }) })
      .optional(),
    accepts: z
      .strictObject({
        kinds: z.array(z.enum(JOB_KINDS)).min(1).default(["execute"]),
        /** Only these programs (absent: every program). */
        programs: z.array(programIdSchema).optional(),
      })
      .prefault({}),
    programs: programSourcesSchema,
    compute: z
      .strictObject({
        concurrency: z.number().int().positive().default(4),
        /** Queue depth at which the node reports itself full and shares new work. */
        capacity: z.number().int().positive().default(256),
        runtimeThreads: z.number().int().positive().optional(),
      })
      .prefault({}),
    /** DA config as da/config.ts takes it (`{}` = embedded local store under .versatus/da). */
    da: z.unknown().default({}),
    /** Poster settings (ingestor/config.ts `poster`), e.g. { "maxBatchWaitMs": 50 }. */
    poster: z.record(z.string(), z.unknown()).default({}),
    /** Watch role: the watcher's key variable and its options (watcher/config.ts `options`). */
    watch: z
      .strictObject({
        keyEnv: z.string().min(1).default("WATCHER_KEY"),
        options: z.record(z.string(), z.unknown()).default({}),
      })
      .prefault({}),
    ops: z
      .strictObject({
        /** Port of /metrics, /healthz and /network (0 = a free one, printed at start). */
        port: portSchema(true).default(0),
        host: z.string().default("127.0.0.1"),
        logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
      })
      .prefault({}),
    timing: nodeTimingSchema,
    /**
     * Memory bound of the node process: V8's old space (`--max-old-space-size`), applied when the
     * process starts (cli/node/heap.ts: `versatus node` started without it runs itself again with
     * it). Runtime worker threads without their own limit get the same bound.
     */
    heap: z
      .strictObject({
        maxOldSpaceMb: z
          .number()
          .int()
          .min(MIN_MAX_OLD_SPACE_MB)
          .max(MAX_MAX_OLD_SPACE_MB)
          .default(DEFAULT_MAX_OLD_SPACE_MB),
      })
      .prefault({}),
    /**
     * Content caching (issue 17 item 3, docs/content.md): the persist role holds resources by the
     * placement rule (protocol/content.ts), the gateway role serves them over HTTP.
     */
    content: z
      .strictObject({
        /** Blocks and the held list (persist role); default .versatus/content. */
        dataDir: z.string().min(1).default(".versatus/content"),
        /** R: persist nodes holding each resource. Every node of a network must use the same value. */
        replicas: z.number().int().min(1).max(16).default(2),
        /** Placement epoch: the holders of a resource rotate this often. Same value network-wide. */
        rotationMs: z.number().int().min(1_000).default(3_600_000),
        reportIntervalMs: z.number().int().min(100).default(2_000),
        fetchTimeoutMs: z.number().int().min(100).default(15_000),
        gateway: z
          .strictObject({
            port: portSchema(true).default(8480),
            host: z.string().default("127.0.0.1"),
            /** Accept POST /content (publishing through this gateway). */
            upload: z.boolean().default(false),
            /** The NameRegistry that GET /name/<name> reads (one of the configured chains). */
            names: z.strictObject({ chainId: z.number().int().positive(), registry: addressSchema }).optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    autoscale: z
      .strictObject({
        /**
         * Route a hot program's requests over its added quorums (SPEC 6). Off by default: each node
         * scales from its own latency samples, which are not shared yet, so two nodes can disagree on
         * a program's quorums and then on who computes. Measured and shown either way.
         */
        route: z.boolean().default(false),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    refineUniqueChainIds(config, ctx);
    const set = config.operators?.operatorSet;
    if (set && !config.chains.some((c) => c.chainId === set.chainId))
      ctx.addIssue({
        code: "custom",
        path: ["operators", "operatorSet", "chainId"],
        message: `one of the configured chains (${config.chains.map((c) => c.chainId).join(", ")})`,
      });
    const names = config.content.gateway.names;
    if (names && !config.chains.some((c) => c.chainId === names.chainId))
      ctx.addIssue({
        code: "custom",
        path: ["content", "gateway", "names", "chainId"],
        message: `one of the configured chains (${config.chains.map((c) => c.chainId).join(", ")})`,
      });
    if (config.roles.includes("watch"))
      config.chains.forEach((c, i) => {
        for (const field of ["disputeManager", "registry"] as const)
          if (!c[field])
            ctx.addIssue({
              code: "custom",
              path: ["chains", i, field],
              message: "an address (the watch role needs the chain's HoneSTake contracts)",
            });
      });
  });
export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** Loads and validates a node config (file and/or raw object). Env overrides: REDIS_URL, LOG_LEVEL, VERSATUS_NODE_PORT. */
export function loadNodeConfig(options: { file?: string; raw?: unknown; env?: NodeJS.ProcessEnv } = {}): NodeConfig {
  const env = options.env ?? process.env;
  const port = env.VERSATUS_NODE_PORT;
  if (port !== undefined && !/^[0-9]+$/.test(port.trim()))
    throw new InvalidInputError("environment variable VERSATUS_NODE_PORT", "a port number (0 = any free port)");
  const config = loadConfig(nodeConfigSchema, {
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(options.raw === undefined ? {} : { raw: options.raw }),
    envOverrides: {
      "redis.url": env.REDIS_URL,
      "ops.logLevel": env.LOG_LEVEL,
      "ops.port": port === undefined ? undefined : Number(port),
    },
  });
  if (config.roles.includes("compute") || config.roles.includes("watch"))
    addProgramSourcesFromEnv(config.programs, env, options.file);
  return config;
}

/** The keys a node needs for its roles, read from the environment (never from the file). */
export type NodeKeys = { operatorKey?: `0x${string}`; posterKey?: `0x${string}`; watcherKey?: `0x${string}` };

const KEY = /^0x[0-9a-fA-F]{64}$/;

export function nodeKeysFromEnv(config: NodeConfig, env: NodeJS.ProcessEnv = process.env): NodeKeys {
  const read = (name: string, needed: boolean): `0x${string}` | undefined => {
    const value = env[name];
    if (value === undefined || value === "") {
      if (needed)
        throw new InvalidInputError(
          `environment variable ${name}`,
          `a 0x-prefixed 32-byte hex private key (roles ${config.roles.join(",")} need it)`,
        );
      return undefined;
    }
    if (!KEY.test(value))
      throw new InvalidInputError(`environment variable ${name}`, "a 0x-prefixed 32-byte hex private key");
    return value as `0x${string}`;
  };
  const onlyWatch = config.roles.every((r) => r === "watch");
  return {
    operatorKey: read("VERSATUS_OPERATOR_KEY", !onlyWatch),
    posterKey: read("VERSATUS_POSTER_KEY", config.roles.includes("post")),
    watcherKey: read(config.watch.keyEnv, config.roles.includes("watch")),
  };
}
