import type { Libp2p } from "@libp2p/interface";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { Counter } from "prom-client";
import type { PublicClient } from "viem";
import { ContentNode } from "../../content/node.ts";
import { startGateway, type Gateway } from "../../content/gateway.ts";
import { registryNameSource } from "../../dns/registry.ts";
import { InvalidInputError } from "../../protocol/errors.ts";
import type { NodeConfig } from "./config.ts";

/**
 * The persist and gateway roles of `versatus node` (content/, docs/content.md): a content node on
 * the node's own libp2p, and the HTTP gateway when the gateway role is on.
 */
export type NodeContent = { content: ContentNode; gateway: Gateway | undefined; close(): Promise<void> };

export async function startNodeContent(options: {
  config: NodeConfig;
  libp2p: Libp2p | undefined;
  clients: Map<number, PublicClient>;
  registry: Registry;
  log: Logger;
}): Promise<NodeContent> {
  const { config, log } = options;
  if (!options.libp2p)
    throw new InvalidInputError("roles", "persist/gateway only with the libp2p network (not an in-process hub)");
  const c = config.content;
  const mismatches = new Counter({
    name: "versatus_content_hash_mismatches_total",
    help: "Blocks refused because their bytes did not hash to their CID (put: from a peer; get: changed on disk)",
    labelNames: ["where"],
    registers: [options.registry],
  });
  const answers = new Counter({
    name: "versatus_gateway_responses_total",
    help: "Gateway answers by route and HTTP status",
    labelNames: ["route", "status"],
    registers: [options.registry],
  });
  const content = await ContentNode.start({
    libp2p: options.libp2p,
    network: config.network.name,
    ...(config.roles.includes("persist") ? { dataDir: c.dataDir } : {}),
    persist: config.roles.includes("persist"),
    replicas: c.replicas,
    rotationMs: c.rotationMs,
    reportIntervalMs: c.reportIntervalMs,
    fetchTimeoutMs: c.fetchTimeoutMs,
    log: log.child({ module: "content" }),
    onHashMismatch: (where) => mismatches.inc({ where }),
  });
  let gateway: Gateway | undefined;
  try {
    if (config.roles.includes("gateway")) {
      const names = c.gateway.names;
      let nameSource;
      if (names) {
        const source = registryNameSource(options.clients.get(names.chainId)!, names.registry as `0x${string}`);
        nameSource = { source, suffix: await source.suffix() };
      }
      gateway = await startGateway({
        content,
        port: c.gateway.port,
        host: c.gateway.host,
        upload: c.gateway.upload,
        ...(nameSource ? { names: nameSource } : {}),
        log: log.child({ module: "gateway" }),
        onAnswer: (route, status) => answers.inc({ route, status: String(status) }),
      });
      log.info({ url: gateway.url }, "content gateway listening");
    }
  } catch (error) {
    await content.close();
    throw error;
  }
  return {
    content,
    gateway,
    close: async () => {
      await gateway?.close().catch((error: unknown) => log.warn({ err: String(error) }, "gateway close failed"));
      await content.close();
    },
  };
}
