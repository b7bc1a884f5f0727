import { z } from "zod";
import { urlWithScheme } from "../protocol/config.ts";
import { InvalidInputError, redactUrl } from "../protocol/errors.ts";

/**
 * The explorer's view of the operator nodes (its Network page): each node's ops server answers
 * `GET /network` (cli/node/index.ts `status()`); this module reads the auto-scaling state
 * (cli/node/autoscale.ts) and the content holdings (content/node.ts `status()`) from it, one node
 * at a time with a timeout and a size cap, so one slow, dead or lying node costs its own row and
 * nothing else.
 */

/** At most this many nodes (each poll of the page asks all of them). */
export const MAX_EXPLORER_NODES = 64;
/** Each node's answer must come within this (ms) and be at most this many bytes. */
export const NODE_FETCH_LIMITS = { timeoutMs: 2_000, maxBytes: 2 * 1024 * 1024 } as const;

/** The ops URLs of the nodes the explorer reads (e.g. http://127.0.0.1:9701), each once. */
export const explorerNodesSchema = z
  .array(urlWithScheme(["http", "https"]))
  .max(MAX_EXPLORER_NODES, `at most ${MAX_EXPLORER_NODES} nodes`)
  .refine((urls) => new Set(urls.map(opsBase)).size === urls.length, "each node once");

/**
 * Validates node ops URLs at the edge; `field` is what the user typed them as (`--node`,
 * `VERSATUS_EXPLORER_NODES`, `nodes`), and the error names it and the position.
 */
export function parseExplorerNodes(value: unknown, field: string): string[] {
  const parsed = explorerNodesSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length ? `${field}[${issue.path.join(".")}]` : field;
    throw new InvalidInputError(at, issue.message);
  }
  return parsed.data.map(opsBase);
}

/** `VERSATUS_EXPLORER_NODES`: comma- or space-separated ops URLs. */
export function nodesFromEnv(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return parseExplorerNodes(value.split(/[\s,]+/).filter(Boolean), "VERSATUS_EXPLORER_NODES");
}

/** A node's ops server base (no trailing slash, no /network). */
export function opsBase(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/network$/, "");
}

// ---------------------------------------------------------------------------------------------
// What the explorer reads of GET /network: the parts it shows, checked; the rest is ignored.
// ---------------------------------------------------------------------------------------------

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "0x-hex");
const count = z.number().int().nonnegative();

const latencySchema = z.object({
  samples: count,
  lastMs: z.number(),
  meanMs: z.number(),
  maxMs: z.number(),
});

const changeSchema = z.object({
  programId: hex,
  kind: z.enum(["add", "drop", "capped"]),
  quorums: count,
  // nodes from before the change history carried only the quorums after the change
  fromQuorums: count.optional(),
  reason: z.string().max(500).optional(),
  latencyMs: z.number().optional(),
  chainId: z.string(),
  requestId: hex,
  atMs: z.number(),
});

const autoscaleSchema = z.object({
  rule: z.string().max(500),
  maxQuorums: count.optional(),
  programs: z.array(
    z.object({
      programId: hex,
      quorums: count,
      slowStreak: count,
      fastStreak: count,
      quoteBps: count,
      latency: latencySchema.nullable().optional(),
    }),
  ),
  events: z.array(changeSchema),
});

const contentSchema = z.object({
  peerId: z.string(),
  persist: z.boolean(),
  replicas: count.optional(),
  held: z.array(z.object({ cid: z.string(), holder: z.boolean(), holders: z.array(z.string()) })),
  gateway: z.string().nullable().optional(),
});

export const nodeNetworkSchema = z.object({
  operator: z.string().nullable(),
  roles: z.array(z.string()),
  quorum: count.optional(),
  autoscale: autoscaleSchema,
  content: contentSchema.nullable().optional(),
});

export type NodeAutoscaleView = z.infer<typeof autoscaleSchema>;
export type NodeContentView = z.infer<typeof contentSchema>;

/** One node on the Network page: what it reported, or why there is nothing to show. */
export type NodeView =
  | {
      url: string;
      ok: true;
      operator: string | null;
      roles: string[];
      quorum: number | null;
      autoscale: NodeAutoscaleView;
      content: NodeContentView | null;
      tookMs: number;
    }
  | {
      url: string;
      ok: false;
      /** unreachable: no HTTP answer (refused, timed out); http: an error status; malformed: not the /network shape. */
      problem: "unreachable" | "http" | "malformed";
      error: string;
      tookMs: number;
    };

/** Reads at most `maxBytes` of a response body; more is an error (the node is not trusted to be small). */
async function boundedText(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new RangeError(`answer of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new RangeError(`answer over the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Where a zod issue is and what it expected, for the page: `autoscale.programs.0.quorums: ...`. */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join(".") || "(root)"}: ${issue.message}`;
}

/** One node's GET /network, read and checked within `limits`; never throws. */
export async function readNode(
  url: string,
  limits: { timeoutMs: number; maxBytes: number } = NODE_FETCH_LIMITS,
): Promise<NodeView> {
  const started = Date.now();
  const shown = opsBase(redactUrl(url));
  const took = () => Date.now() - started;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let res: Response;
  try {
    res = await fetch(`${url}/network`, { signal, headers: { accept: "application/json" } });
  } catch (error) {
    const reason = signal.aborted
      ? `no answer within ${limits.timeoutMs} ms`
      : ((error as { cause?: { code?: string; message?: string } }).cause?.code ??
        (error as { cause?: { message?: string } }).cause?.message ??
        (error as Error).message);
    return { url: shown, ok: false, problem: "unreachable", error: reason, tookMs: took() };
  }
  let text: string;
  try {
    text = await boundedText(res, limits.maxBytes);
  } catch (error) {
    const reason = signal.aborted ? `answer not complete within ${limits.timeoutMs} ms` : (error as Error).message;
    return { url: shown, ok: false, problem: res.ok ? "malformed" : "http", error: reason, tookMs: took() };
  }
  if (!res.ok)
    return {
      url: shown,
      ok: false,
      problem: "http",
      error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
      tookMs: took(),
    };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { url: shown, ok: false, problem: "malformed", error: "not JSON", tookMs: took() };
  }
  const parsed = nodeNetworkSchema.safeParse(body);
  if (!parsed.success)
    return { url: shown, ok: false, problem: "malformed", error: describeIssue(parsed.error), tookMs: took() };
  const status = parsed.data;
  return {
    url: shown,
    ok: true,
    operator: status.operator,
    roles: status.roles,
    quorum: status.quorum ?? null,
    autoscale: status.autoscale,
    content: status.content ?? null,
    tookMs: took(),
  };
}

/** Every node at once (the slowest bounds the answer by `limits.timeoutMs`), in the configured order. */
export async function readNetwork(
  urls: readonly string[],
  limits: { timeoutMs: number; maxBytes: number } = NODE_FETCH_LIMITS,
): Promise<{ readAt: number; nodes: NodeView[] }> {
  const readAt = Date.now();
  return { readAt, nodes: await Promise.all(urls.map((url) => readNode(url, limits))) };
}
