import { existsSync, readFileSync, statSync } from "node:fs";
import { z } from "zod";
import { SUBSCRIBE_MODES } from "./newHeads.ts";
import { InvalidInputError } from "./errors.ts";

/**
 * Config pieces every service shares. Each service composes its own schema from these
 * (relayer/config.ts, worker/config.ts, ingestor/config.ts) and loads it with {@link loadConfig}:
 * a JSON file, then environment overrides, validated once at start; errors name the field.
 */
export const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address");
export const privateKeySchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a 0x-prefixed 32-byte hex private key");

/** A URL whose scheme is one of `schemes` (e.g. ["http", "https"]); the message names them. */
export function urlWithScheme(schemes: readonly string[]) {
  const expected = `an ${schemes.map((s) => `${s}://`).join(" or ")} URL`;
  return z.string().superRefine((value, ctx) => {
    let scheme: string | undefined;
    try {
      scheme = new URL(value).protocol.replace(/:$/, "");
    } catch {
      scheme = undefined;
    }
    if (scheme === undefined || !schemes.includes(scheme))
      ctx.addIssue({
        code: "custom",
        message: `${expected} (got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)})`,
      });
  });
}

/** A TCP port, 1..65535; `allowZero` for "pick a free one". */
export function portSchema(allowZero: boolean) {
  return z
    .number()
    .int()
    .min(allowZero ? 0 : 1, allowZero ? "a port in 1..65535, or 0 for any free port" : "a port in 1..65535")
    .max(65_535, allowZero ? "a port in 1..65535, or 0 for any free port" : "a port in 1..65535");
}

export const chainSchema = z
  .object({
    chainId: z.number().int().positive(),
    name: z.string().min(1).optional(),
    rpcUrl: urlWithScheme(["http", "https"]),
    oracle: addressSchema,
    ingestor: addressSchema,
    /** Blocks to wait after a request before acting on it. */
    confirmations: z.number().int().nonnegative().default(0),
    /** Block to start following from when no cursor is stored. */
    startBlock: z.number().int().nonnegative().default(0),
    pollIntervalMs: z.number().int().positive().default(500),
    /**
     * New blocks pushed over the RPC's WebSocket wake the followers early (protocol/newHeads.ts):
     * "auto" falls back to polling alone when there is none, "websocket" requires it, "polling" never tries.
     */
    subscribe: z.enum(SUBSCRIBE_MODES).default("auto"),
    /**
     * The relay follower's poll interval while pushed heads wake it (the poll is then only a safety
     * net for a lost push; the larger of this and `pollIntervalMs` applies; at most 5 s, inside the
     * health check's 10 s). Polling every 100 ms
     * with push on cost each idle node ~10 % of a core.
     */
    pushedPollIntervalMs: z
      .number()
      .int()
      .positive()
      .max(5_000, "at most 5,000 ms (a follower not polled for 10 s reports itself unhealthy)")
      .default(2_000),
    /** WebSocket URL of the RPC; default: `rpcUrl` with http(s) → ws(s) (hardhat node and anvil serve both on one port). */
    wsUrl: urlWithScheme(["ws", "wss"]).optional(),
  })
  .strict();
export type ChainConfig = z.infer<typeof chainSchema>;

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/**
 * A Redis Cluster (README, "Scaling an operator's domain on Redis Cluster"): seed nodes the client
 * learns the slot map from. Credentials and TLS come from the URLs (`rediss://user:pass@h:p`) and
 * are the same for every node the cluster reports. Reads always go to masters: BullMQ needs to read
 * what it just wrote.
 */
export const redisClusterSchema = z
  .object({
    nodes: z
      .array(urlWithScheme(["redis", "rediss"]))
      .min(1, "at least one seed node (redis://host:port)")
      .superRefine((nodes, ctx) => {
        const auth = (url: string) => {
          const u = new URL(url);
          return `${u.protocol}${u.username}:${u.password}`;
        };
        nodes.forEach((node, i) => {
          if (auth(node) !== auth(nodes[0]!))
            ctx.addIssue({
              code: "custom",
              path: [i],
              message: "every seed node needs the scheme and credentials of the first",
            });
        });
      }),
    /** How often the client re-reads the slot map on its own (ms); a MOVED reply also triggers it. */
    slotsRefreshIntervalMs: z.number().int().positive().default(5_000),
  })
  .strict();
export type RedisClusterConfig = z.infer<typeof redisClusterSchema>;

/**
 * The `redis` field of every service: `{ url }` (one Redis, the default) or `{ cluster: { nodes } }`.
 * The REDIS_URL environment variable sets `url`, so it cannot be combined with a cluster config.
 */
export const redisSchema = z
  .object({
    url: urlWithScheme(["redis", "rediss"]).optional(),
    cluster: redisClusterSchema.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.url !== undefined && value.cluster !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["cluster"],
        message: "either redis.url or redis.cluster, not both (REDIS_URL sets redis.url)",
      });
  })
  .transform((value): RedisConfig =>
    value.cluster ? { cluster: value.cluster } : { url: value.url ?? DEFAULT_REDIS_URL },
  );
export type RedisConfig = { url: string; cluster?: undefined } | { cluster: RedisClusterConfig; url?: undefined };

export const operationsSchema = z
  .object({
    /** Port of /metrics and /healthz (0 = pick a free one). */
    httpPort: portSchema(true).default(0),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  })
  .strict();

/**
 * Reads `file` (optional) as JSON, applies `envOverrides` (already-parsed values keyed by a
 * dotted path, e.g. {"redis.url": process.env.REDIS_URL}), and validates with `schema`.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  options: { file?: string; raw?: unknown; envOverrides?: Record<string, unknown> } = {},
): z.infer<S> {
  let raw: unknown = options.raw === undefined ? {} : options.raw;
  const where = options.file ? `${options.file}: ` : "";
  if (options.file) {
    if (!existsSync(options.file)) throw new InvalidInputError("config file", `a file at ${options.file}`);
    try {
      raw = JSON.parse(readFileSync(options.file, "utf8"));
    } catch (cause) {
      throw new InvalidInputError(options.file, "valid JSON", { cause });
    }
    refuseKeysInFile(raw, options.file);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(`config ${where}(root)`, "a JSON object", {
      details: `got ${raw === null ? "null" : Array.isArray(raw) ? "an array" : typeof raw}`,
    });
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const [path, value] of Object.entries(options.envOverrides ?? {})) {
    if (value === undefined) continue;
    const parts = path.split(".");
    let node = merged;
    for (const part of parts.slice(0, -1)) {
      if (typeof node[part] !== "object" || node[part] === null || Array.isArray(node[part])) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  }
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidInputError(`config ${where}${issue.path.join(".") || "(root)"}`, issue.message);
  }
  return parsed.data;
}

/** Property names that hold secrets: `*Key` / `*_key` / `key`, `privateKey`, `mnemonic`, `seed`, `secret`. */
const SECRET_FIELD = /(^|[a-z0-9_])(key|Key|KEY|mnemonic|Mnemonic|seed|Seed|secret|Secret)$/;

/**
 * Keys come only from the environment (README, "keys only from the environment"): a config file
 * that holds one is refused, naming the field, whatever its value.
 */
export function refuseKeysInFile(value: unknown, file: string, path: string[] = []): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => refuseKeysInFile(item, file, [...path, String(i)]));
    return;
  }
  if (typeof value !== "object" || value === null) return;
  for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_FIELD.test(name) && child !== undefined && child !== null && child !== "") {
      throw new InvalidInputError(
        `config ${file}: ${[...path, name].join(".")}`,
        "no key in a config file: keys are read only from the environment (e.g. POSTER_KEY, OPERATOR_KEY, WATCHER_KEY)",
      );
    }
    refuseKeysInFile(child, file, [...path, name]);
  }
}

/** Where program packages come from (worker and watcher): directories and HTTP stores. */
export const programSourcesSchema = z
  .strictObject({
    /** Directories searched (recursively, 4 levels) for `*.vpkg` packages, matched by content hash. */
    dirs: z.array(z.string().min(1)).default([]),
    /** Program stores served over HTTP: GET <url>/<programId> returns the package bytes. */
    urls: z.array(urlWithScheme(["http", "https"])).default([]),
    httpTimeoutMs: z.number().int().positive().default(5_000),
    /** Packages kept decoded in memory. */
    cacheSize: z.number().int().positive().default(64),
    /**
     * Packages by content address from the node's content network (persist nodes, docs/content.md):
     * `first` before dirs/urls, `last` after them (a fallback), `off` never.
     */
    network: z.enum(["first", "last", "off"]).default("last"),
  })
  .prefault({});
export type ProgramSources = z.infer<typeof programSourcesSchema>;

/**
 * Adds VERSATUS_PROGRAMS_DIR / VERSATUS_PROGRAMS_URL to `programs` and fails when no source is
 * left: a service that runs programs cannot start without one.
 */
export function addProgramSourcesFromEnv(programs: ProgramSources, env: NodeJS.ProcessEnv, file?: string): void {
  // A directory named in a config file must exist (a typo would otherwise only show as "program not found").
  if (file) {
    programs.dirs.forEach((dir, i) => {
      if (!existsSync(dir) || !statSync(dir).isDirectory())
        throw new InvalidInputError(`config ${file}: programs.dirs.${i}`, "an existing directory", {
          details: `got ${dir}`,
        });
    });
  }
  if (env.VERSATUS_PROGRAMS_DIR) programs.dirs.push(env.VERSATUS_PROGRAMS_DIR);
  if (env.VERSATUS_PROGRAMS_URL) {
    if (!urlWithScheme(["http", "https"]).safeParse(env.VERSATUS_PROGRAMS_URL).success)
      throw new InvalidInputError("environment variable VERSATUS_PROGRAMS_URL", "an http:// or https:// URL");
    programs.urls.push(env.VERSATUS_PROGRAMS_URL);
  }
  if (programs.dirs.length + programs.urls.length === 0) {
    throw new InvalidInputError(
      `config ${file ? `${file}: ` : ""}programs`,
      "at least one program directory (programs.dirs) or store URL (programs.urls)",
    );
  }
}

/** Config refinement: every chain id appears once in `chains` (the issue names the second one). */
export function refineUniqueChainIds(config: { chains: { chainId: number }[] }, ctx: z.RefinementCtx): void {
  const ids = config.chains.map((c) => c.chainId);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i)
      ctx.addIssue({ code: "custom", path: ["chains", i, "chainId"], message: `chain ${id} is listed twice` });
  });
}

/**
 * Environment overrides every service takes: `REDIS_URL`, `LOG_LEVEL`, and the service's own
 * variable for the /metrics + /healthz port.
 */
export function serviceEnvOverrides(env: NodeJS.ProcessEnv, portVariable: string): Record<string, unknown> {
  const port = env[portVariable];
  if (port !== undefined && !/^[0-9]+$/.test(port.trim()))
    throw new InvalidInputError(
      `environment variable ${portVariable}`,
      "a port number (1..65535, or 0 for any free port)",
      {
        details: `got ${JSON.stringify(port)}`,
      },
    );
  return {
    "redis.url": env.REDIS_URL,
    "operations.logLevel": env.LOG_LEVEL,
    "operations.httpPort": port === undefined ? undefined : Number(port),
  };
}
