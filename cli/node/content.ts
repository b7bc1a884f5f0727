import type { Libp2p } from "@libp2p/interface";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { Counter } from "prom-client";
import type { PublicClient } from "viem";
import { z } from "zod";
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

/** What the trust rule reads of network/'s status (`NetworkStatus.peers`): each peer's binding and role. */
const peerBindings = z.object({
  peers: z.array(
    z.object({ peerId: z.string(), bound: z.boolean(), role: z.enum(["operator", "watcher"]).nullable() }),
  ),
});

/**
 * Whose holdings reports are believed: peers bound (network/'s signed binding) to an account the
 * operator set lists as an active operator now. A watcher or an unbound peer may still serve
 * blocks (their bytes are hash-checked), but what it says it holds never moves placement or
 * allows a drop. network/'s status is built for every peer, so it is read at most once per
 * `maxAgeMs`; a status without bindings (not network/'s) believes nobody, and says so once.
 */
export function operatorPeers(
  status: () => unknown,
  maxAgeMs: number,
  log?: Pick<Logger, "warn">,
): (peerId: string) => boolean {
  let operators = new Set<string>();
  let readAt = -Infinity;
  let warned = false;
  return (peerId) => {
    if (Date.now() - readAt >= maxAgeMs) {
      const parsed = peerBindings.safeParse(status());
      if (!parsed.success && !warned) {
        warned = true;
        log?.warn(
          { err: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") },
          "content: the network status has no peer bindings; no holdings report is believed",
        );
      }
      operators = new Set(
        (parsed.success ? parsed.data.peers : []).filter((p) => p.bound && p.role === "operator").map((p) => p.peerId),
      );
      readAt = Date.now();
    }
    return operators.has(peerId);
  };
}

export async function startNodeContent(options: {
  config: NodeConfig;
  libp2p: Libp2p | undefined;
  clients: Map<number, PublicClient>;
  registry: Registry;
  log: Logger;
  /**
   * network/'s view of its peers (`OperatorNetwork.status`): with it, only bound active operators'
   * holdings reports count (operatorPeers); without it, every connected peer's (logged).
   */
  network?: { status(): unknown };
}): Promise<NodeContent> {
  const { config, log, network } = options;
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
    ...(network ? { isTrusted: operatorPeers(() => network.status(), c.reportIntervalMs, log) } : {}),
  });
  if (!network) log.warn("content: holdings reports believed from every connected peer (no operator network given)");
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
