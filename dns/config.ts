import { isIP } from "node:net";
import { z } from "zod";
import { addressSchema, loadConfig, portSchema, urlWithScheme } from "../protocol/config.ts";
import { InvalidInputError } from "../protocol/errors.ts";

/**
 * Config of the DNS facade (`versatus dns --config dns.json`, docs/dns.md): where it listens, the
 * chain and NameRegistry it resolves names from, the upstream resolver for every other name, and
 * how long answers stay in the node's cache.
 *
 * @example
 * {
 *   "listen": { "host": "127.0.0.1", "port": 5353 },
 *   "chain": { "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545", "nameRegistry": "0x.." },
 *   "upstream": { "host": "1.1.1.1", "port": 53 },
 *   "ttlS": 60,
 *   "ops": { "port": 9480 }
 * }
 */
const ipSchema = z.string().refine((v) => isIP(v) !== 0, "an IPv4 or IPv6 address, e.g. 127.0.0.1");

export const dnsConfigSchema = z.strictObject({
  listen: z
    .strictObject({
      host: ipSchema.default("127.0.0.1"),
      /** UDP and TCP port (the same one); 0 = a free one, printed at start. */
      port: portSchema(true).default(5353),
    })
    .prefault({}),
  chain: z.strictObject({
    chainId: z.number().int().positive(),
    rpcUrl: urlWithScheme(["http", "https"]),
    nameRegistry: addressSchema.transform((a) => a as `0x${string}`),
  }),
  /** Where names outside the registry's suffix go (web2 fallback); absent: they are REFUSED. */
  upstream: z
    .strictObject({
      host: ipSchema,
      port: portSchema(false).default(53),
      timeoutMs: z.number().int().positive().default(2_000),
    })
    .optional(),
  /** TTL of answers from the registry (capped by the name's expiry) and how long the node caches them. */
  ttlS: z.number().int().min(0).max(86_400).default(60),
  /** How long "not registered" is cached. */
  negativeTtlS: z.number().int().min(0).max(3_600).default(10),
  cache: z
    .strictObject({
      maxEntries: z.number().int().positive().default(10_000),
      /** Upstream answers are cached for their own TTL, at most this long. */
      maxUpstreamTtlS: z.number().int().min(0).default(300),
    })
    .prefault({}),
  /** Follow the registry's events and drop changed names from the cache at once (else only TTL expiry). */
  watch: z
    .strictObject({
      enabled: z.boolean().default(true),
      pollIntervalMs: z.number().int().positive().default(1_000),
    })
    .prefault({}),
  tcp: z.strictObject({ idleTimeoutMs: z.number().int().positive().default(10_000) }).prefault({}),
  ops: z
    .strictObject({
      /** Port of /metrics and /healthz (0 = a free one). */
      port: portSchema(true).default(0),
      host: z.string().default("127.0.0.1"),
      logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .prefault({}),
});
export type DnsConfig = z.infer<typeof dnsConfigSchema>;

/** Loads and validates a DNS facade config. Env overrides: VERSATUS_DNS_PORT, LOG_LEVEL. */
export function loadDnsConfig(options: { file?: string; raw?: unknown; env?: NodeJS.ProcessEnv } = {}): DnsConfig {
  const env = options.env ?? process.env;
  const port = env.VERSATUS_DNS_PORT;
  if (port !== undefined && !/^[0-9]+$/.test(port.trim()))
    throw new InvalidInputError("environment variable VERSATUS_DNS_PORT", "a port number (0 = any free port)");
  return loadConfig(dnsConfigSchema, {
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(options.raw === undefined ? {} : { raw: options.raw }),
    envOverrides: {
      "listen.port": port === undefined ? undefined : Number(port),
      "ops.logLevel": env.LOG_LEVEL,
    },
  });
}
