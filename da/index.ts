import { CelestiaLayer } from "./celestia/adapter.ts";
import { parseNamespace } from "./celestia/namespace.ts";
import { DaClient } from "./client.ts";
import { parseDaConfig, type LayerConfig } from "./config.ts";
import { EigenDaLayer } from "./eigenda.ts";
import { LocalStore } from "./local.ts";
import type { DaLayer, DaLogger } from "./types.ts";

export { DaClient, type PutResult, type VerifyResult } from "./client.ts";
export { parseDaConfig, layerFromEnv, type DaConfig, type DaConfigInput, type LayerConfig } from "./config.ts";
export * from "./errors.ts";
export type { DaLayer, DaLogger } from "./types.ts";
export { LocalStore } from "./local.ts";
export { CelestiaLayer } from "./celestia/adapter.ts";
export { EigenDaLayer } from "./eigenda.ts";

export function createLayer(config: LayerConfig, logger?: DaLogger): DaLayer {
  switch (config.layer) {
    case "local":
      return new LocalStore({ dir: config.dir, maxRecordBytes: config.maxRecordBytes });
    case "celestia":
      return new CelestiaLayer({
        url: config.url,
        authToken: config.authToken,
        namespace: parseNamespace(config.namespace, "da.celestia.namespace"),
        maxRecordBytes: config.maxRecordBytes,
        timeoutMs: config.timeoutMs,
        submitRetries: config.submitRetries,
        retryDelayMs: config.retryDelayMs,
        gasPrice: config.gasPrice,
        ...(logger ? { logger } : {}),
      });
    case "eigenda":
      return new EigenDaLayer({
        url: config.url,
        maxRecordBytes: config.maxRecordBytes,
        putTimeoutMs: config.putTimeoutMs,
        getTimeoutMs: config.getTimeoutMs,
        ...(logger ? { logger } : {}),
      });
  }
}

/**
 * The one call a service needs: validate the DA config (unknown input, e.g. parsed JSON) and
 * build the client. `{}` gives the embedded local store under `.versatus/da`.
 *
 * @example
 * const da = createDaClient({ primary: { layer: "eigenda", url: "http://127.0.0.1:3100" }, fallback: { layer: "local" } });
 * const { pointerHex, bodyHash } = await da.put(record);
 */
export function createDaClient(input: unknown, options: { logger?: DaLogger } = {}): DaClient {
  const config = parseDaConfig(input);
  return new DaClient({
    primary: createLayer(config.primary, options.logger),
    fallback: config.fallback ? createLayer(config.fallback, options.logger) : undefined,
    readers: config.read.map((layer) => createLayer(layer, options.logger)),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
