import { z } from "zod";
import { InvalidInputError } from "../protocol/errors.ts";
import { DEFAULT_CELESTIA_MAX_RECORD_BYTES } from "./celestia/adapter.ts";
import { parseNamespace } from "./celestia/namespace.ts";
import { DEFAULT_EIGENDA_MAX_RECORD_BYTES } from "./eigenda.ts";
import { DEFAULT_LOCAL_DIR, DEFAULT_LOCAL_MAX_RECORD_BYTES } from "./local.ts";

/**
 * DA configuration of one operator, validated in one place. Example (JSON):
 *
 *   { "primary":  { "layer": "celestia", "url": "http://127.0.0.1:26658",
 *                   "authToken": "<celestia light auth write>", "namespace": "0x7665727361747573" },
 *     "fallback": { "layer": "local", "dir": ".versatus/da" },
 *     "read":     [ { "layer": "eigenda", "url": "http://127.0.0.1:3100" } ] }
 */
const byteLimit = (fallback: number) => z.number().int().positive().default(fallback);
const httpUrl = z.url({ protocol: /^https?$/, error: "an http(s) URL" });

export const localLayerSchema = z.strictObject({
  layer: z.literal("local"),
  dir: z.string().min(1).default(DEFAULT_LOCAL_DIR),
  maxRecordBytes: byteLimit(DEFAULT_LOCAL_MAX_RECORD_BYTES),
});

export const celestiaLayerSchema = z.strictObject({
  layer: z.literal("celestia"),
  /** celestia-node RPC endpoint, e.g. http://127.0.0.1:26658 */
  url: httpUrl,
  /** JWT from `celestia light auth write` (read-only tokens can get/verify but not put). */
  authToken: z.string().min(1).optional(),
  /** 29-byte namespace or the 1..10 user bytes of a version-0 namespace, hex or base64. */
  namespace: z.string().min(1),
  maxRecordBytes: byteLimit(DEFAULT_CELESTIA_MAX_RECORD_BYTES),
  timeoutMs: z.number().int().positive().default(60_000),
  submitRetries: z.number().int().min(0).max(50).default(5),
  retryDelayMs: z.number().int().min(0).default(1_000),
  gasPrice: z.number().positive().optional(),
});

export const eigendaLayerSchema = z.strictObject({
  layer: z.literal("eigenda"),
  /** eigenda-proxy base URL, e.g. http://127.0.0.1:3100 */
  url: httpUrl,
  maxRecordBytes: byteLimit(DEFAULT_EIGENDA_MAX_RECORD_BYTES),
  putTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(20 * 60_000),
  getTimeoutMs: z.number().int().positive().default(60_000),
});

export const layerConfigSchema = z.discriminatedUnion(
  "layer",
  [localLayerSchema, celestiaLayerSchema, eigendaLayerSchema],
  {
    error: "layer to be one of local, celestia, eigenda",
  },
);

export const daConfigSchema = z
  .strictObject({
    primary: layerConfigSchema.default({
      layer: "local",
      dir: DEFAULT_LOCAL_DIR,
      maxRecordBytes: DEFAULT_LOCAL_MAX_RECORD_BYTES,
    }),
    fallback: layerConfigSchema.optional(),
    read: z.array(layerConfigSchema).default([]),
  })
  .superRefine((config, ctx) => {
    if (config.fallback && config.fallback.layer === config.primary.layer) {
      ctx.addIssue({ code: "custom", path: ["fallback", "layer"], message: "a layer other than the primary's" });
    }
    const located: [LayerConfig | undefined, (string | number)[]][] = [
      [config.primary, ["primary"]],
      [config.fallback, ["fallback"]],
      ...config.read.map((layer, i): [LayerConfig, (string | number)[]] => [layer, ["read", i]]),
    ];
    for (const [layer, path] of located) {
      if (layer?.layer !== "celestia") continue;
      try {
        parseNamespace(layer.namespace);
      } catch (error) {
        const expected =
          error instanceof InvalidInputError
            ? error.shortMessage.replace(/^Invalid namespace: expected /, "")
            : String(error);
        ctx.addIssue({ code: "custom", path: [...path, "namespace"], message: expected });
      }
    }
  });

export type LayerConfig = z.output<typeof layerConfigSchema>;
export type DaConfig = z.output<typeof daConfigSchema>;
export type DaConfigInput = z.input<typeof daConfigSchema>;

/** Validates a DA config; the error names the field (`da.primary.url`) and what was expected. */
export function parseDaConfig(input: unknown, prefix = "da"): DaConfig {
  const parsed = daConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new InvalidInputError([prefix, ...issue.path.map(String)].join("."), issue.message, {
    details: parsed.error.issues.length > 1 ? `${parsed.error.issues.length} problems; fix this one first` : undefined,
  });
}

/**
 * Builds one layer config from environment variables, so a service can be pointed at a layer
 * without a config file: VERSATUS_DA_DIR; CELESTIA_NODE_URL, CELESTIA_NODE_AUTH_TOKEN,
 * CELESTIA_NAMESPACE; EIGENDA_PROXY_URL.
 */
export function layerFromEnv(layer: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  switch (layer) {
    case "local":
      return { layer, ...(env.VERSATUS_DA_DIR ? { dir: env.VERSATUS_DA_DIR } : {}) };
    case "celestia":
      return {
        layer,
        url: env.CELESTIA_NODE_URL ?? "http://127.0.0.1:26658",
        ...(env.CELESTIA_NODE_AUTH_TOKEN ? { authToken: env.CELESTIA_NODE_AUTH_TOKEN } : {}),
        namespace: env.CELESTIA_NAMESPACE ?? "",
      };
    case "eigenda":
      return { layer, url: env.EIGENDA_PROXY_URL ?? "http://127.0.0.1:3100" };
    default:
      throw new InvalidInputError("da layer", "local, celestia or eigenda", {
        details: `got ${JSON.stringify(layer)}`,
      });
  }
}
