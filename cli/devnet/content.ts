import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CID } from "multiformats/cid";
import { createPublicClient, createWalletClient, http, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { publishContent } from "../../content/publish.ts";
import { contentIdOfCid } from "../../protocol/content.ts";
import type { ClusterNode, NetworkStatusJson } from "./cluster.ts";
import { BUNDLE, publishName, savedNameRegistry } from "./dns.ts";
import type { FlowResult } from "./flows.ts";

/** The static bundle the devnet publishes, and the name that points at it. */
export const DEVNET_SITE_NAME = "site.versatus";
const SITE_HTML = "<!doctype html><title>Versatus devnet</title><p>served by the network's gateways</p>\n";

type ContentState = { held?: { cid: string }[]; gateway?: string | null };

const contentOf = (status: NetworkStatusJson): ContentState | undefined =>
  status.content && typeof status.content === "object" ? (status.content as ContentState) : undefined;

/** The gateway URL a node reports in GET /network (undefined: not a gateway, or not up). */
export async function gatewayUrl(node: ClusterNode): Promise<string | undefined> {
  const state = contentOf(await node.status().catch(() => ({})));
  return state?.gateway ?? undefined;
}

async function fetchText(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.text() };
}

async function until<T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> {
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what}: not within the flow's time${last ? ` (last error: ${String(last)})` : ""}`);
}

/**
 * The devnet's content flow (issue 17): a static bundle published through the first gateway is held
 * by both persist nodes (R = 2), served by both gateways by CID and by name (`site.versatus` in the
 * NameRegistry), and still served by the second gateway after the first node is SIGKILLed. The
 * killed node is started again before the flow returns (the devnet keeps serving with four nodes).
 */
export async function contentFlow(options: {
  /** The two persist + gateway nodes: the first takes the upload and is killed. */
  nodes: [ClusterNode, ClusterNode];
  dataDir: string;
  chain: { name: string; rpcUrl: string };
  deploymentsDir: string;
  ownerKey: Hex;
  timeoutMs: number;
  log: (line: string) => void;
}): Promise<FlowResult> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const [first, second] = options.nodes;
  const site = join(options.dataDir, "site");
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, "index.html"), SITE_HTML);

  const gateways = await until("both gateways listening", deadline, async () => {
    const urls = await Promise.all([gatewayUrl(first), gatewayUrl(second)]);
    return urls.every(Boolean) ? (urls as [string, string]) : undefined;
  });
  const { cid } = await publishContent({ path: site, gateway: gateways[0] });
  options.log(`content: bundle ${cid} published through ${first.spec.name}'s gateway`);

  // Both persist nodes hold it (the placement rule with R = 2 over two persist nodes picks both).
  await until(`both persist nodes holding ${cid}`, deadline, async () => {
    const held = await Promise.all(
      [first, second].map(async (n) => contentOf(await n.status())?.held?.some((h) => h.cid === cid) ?? false),
    );
    return held.every(Boolean) ? true : undefined;
  });

  const id = contentIdOfCid(CID.parse(cid));
  if (!id) throw new Error(`bundle CID ${cid} has no NameRegistry content id`);
  const transport = http(options.chain.rpcUrl);
  await publishName({
    client: createPublicClient({ transport }) as PublicClient,
    wallet: createWalletClient({ account: privateKeyToAccount(options.ownerKey), transport }),
    registry: savedNameRegistry(options.deploymentsDir, options.chain.name),
    name: DEVNET_SITE_NAME,
    programId: id.contentId,
    contentKind: BUNDLE,
    txt: [`dnslink=/ipfs/${cid}`],
  });

  const paths = [`/ipfs/${cid}/index.html`, `/name/${DEVNET_SITE_NAME}/index.html`];
  const served = async (gateway: string) => {
    for (const path of paths) {
      const { status, body } = await fetchText(gateway + path);
      if (status !== 200 || body !== SITE_HTML) throw new Error(`${gateway}${path}: HTTP ${status}`);
    }
    return true;
  };
  for (const gateway of gateways) await until(`${gateway} serving the bundle`, deadline, () => served(gateway));

  await first.kill();
  options.log(`content: ${first.spec.name} killed (SIGKILL); fetching from ${second.spec.name}'s gateway`);
  try {
    await until(`${gateways[1]} serving the bundle with ${first.spec.name} down`, deadline, () => served(gateways[1]));
  } finally {
    await first.restart();
  }
  const curl = `curl ${gateways[1]}/ipfs/${cid}/index.html`;
  options.log(
    `content: served by both gateways, and by ${second.spec.name}'s with ${first.spec.name} killed; try: ${curl}`,
  );
  return {
    flow: "content",
    ok: true,
    detail: `${cid} on 2 gateways, survived a kill; ${curl}`,
    latencyMs: Date.now() - started,
  };
}
