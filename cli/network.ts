import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";

/** One node's answer to GET /network, read loosely (older and newer nodes add fields). */
export type NodeNetworkStatus = Record<string, unknown>;
export type NodeAnswer = { url: string; status?: NodeNetworkStatus; error?: string };

type Peer = { peerId: string; operator?: string | null; bound?: boolean; score?: number; addrs?: string[] };
type Quorum = {
  chainId?: unknown;
  requestId?: string;
  members?: string[];
  standby?: string[];
  signed?: string[];
  plan?: { action?: string; at?: number; shareTo?: string };
  acted?: unknown;
  decidedAt?: number;
};
type Report = { operator?: string; depth?: number; capacity?: number; issuedAt?: number; [k: string]: unknown };

const short = (s: unknown, n = 10): string => {
  const text = typeof s === "string" ? s : s === undefined || s === null ? "" : JSON.stringify(s);
  return text.length > n + 4 ? `${text.slice(0, n)}…${text.slice(-4)}` : text;
};

function asArray<T>(value: unknown, keyName: string): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof value === "object")
    return Object.entries(value as Record<string, unknown>).map(([k, v]) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? ({ [keyName]: k, ...v } as T)
        : ({ [keyName]: k, value: v } as T),
    );
  return [];
}

const field = (s: NodeNetworkStatus, ...names: string[]): unknown => {
  for (const name of names) {
    if (s[name] !== undefined && s[name] !== null) return s[name];
    const net = s.network as Record<string, unknown> | undefined;
    if (net && typeof net === "object" && net[name] !== undefined && net[name] !== null) return net[name];
  }
  return undefined;
};

export const peersOf = (s: NodeNetworkStatus): Peer[] => asArray<Peer>(field(s, "peers"), "peerId");
export const topicsOf = (s: NodeNetworkStatus): { topic: string; peers?: unknown; value?: unknown }[] =>
  asArray(field(s, "topics"), "topic");
export const quorumsOf = (s: NodeNetworkStatus): Quorum[] =>
  asArray<Quorum>(field(s, "requests", "quorums", "recentRequests"), "requestId");
export const backpressureOf = (s: NodeNetworkStatus): Report[] =>
  asArray<Report>(field(s, "backpressure", "lastReports"), "operator");

type ScaledProgram = {
  programId?: string;
  quorums?: number;
  slowStreak?: number;
  fastStreak?: number;
  quoteBps?: number;
};
/** A node's auto-scaling state (cli/node/autoscale.ts), empty for nodes without it. */
export const autoscaleOf = (s: NodeNetworkStatus): ScaledProgram[] =>
  asArray<ScaledProgram>((s.autoscale as { programs?: unknown } | undefined)?.programs, "programId");

/** One row per node: who it is and what it sees. */
export function networkStatusRows(answers: NodeAnswer[]): Record<string, unknown>[] {
  return answers.map(({ url, status, error }) => {
    if (!status) return { node: url, peerId: "-", operator: "-", peers: "-", error: error ?? "no answer" };
    const peers = peersOf(status);
    return {
      node: url,
      peerId: short(field(status, "peerId"), 12),
      operator: short(field(status, "operator"), 8),
      roles: Array.isArray(status.roles) ? (status.roles as string[]).join(",") : "",
      peers: peers.length,
      "bound peers": peers.filter((p) => p.bound || p.operator).length,
      topics: topicsOf(status).length,
      "recent requests": quorumsOf(status).length,
      reports: backpressureOf(status).length,
    };
  });
}

function printTables(answers: NodeAnswer[], print: (title: string, rows: Record<string, unknown>[]) => void): void {
  print("Nodes", networkStatusRows(answers));
  for (const { url, status } of answers) {
    if (!status) continue;
    const peers = peersOf(status);
    if (peers.length)
      print(
        `${url}: peers`,
        peers.map((p) => ({
          peerId: short(p.peerId, 12),
          operator: p.operator ? short(p.operator, 8) : "(unbound)",
          role: (p as { role?: string | null }).role ?? "",
          bound: p.bound ?? !!p.operator,
          score: typeof p.score === "number" ? Math.round(p.score * 100) / 100 : "",
          address: (p.addrs ?? [])[0] ?? "",
        })),
      );
    const topics = topicsOf(status);
    if (topics.length)
      print(
        `${url}: topics`,
        topics.map((t) => ({
          topic: t.topic,
          peers: Array.isArray(t.peers) ? t.peers.length : (t.peers ?? t.value),
          mesh: (t as { mesh?: number }).mesh ?? "",
        })),
      );
    const quorums = quorumsOf(status);
    if (quorums.length)
      print(
        `${url}: quorum membership of recent requests`,
        quorums.slice(-10).map((q) => ({
          chain: q.chainId,
          request: short(q.requestId, 10),
          members: (q.members ?? []).map((m) => short(m, 6)).join(" "),
          standby: (q.standby ?? []).map((m) => short(m, 6)).join(" "),
          signed: (q.signed ?? []).length,
          "this node": q.plan?.action ?? "",
          acted: typeof q.acted === "object" ? JSON.stringify(q.acted) : (q.acted ?? ""),
        })),
      );
    const scaled = autoscaleOf(status);
    if (scaled.length)
      print(
        `${url}: auto-scaling (quorums per program, SPEC 6)`,
        scaled.map((p) => ({
          program: short(p.programId, 10),
          quorums: p.quorums,
          "slow streak": p.slowStreak,
          "fast streak": p.fastStreak,
          "fee quote": typeof p.quoteBps === "number" ? `${p.quoteBps / 10_000}×` : "",
        })),
      );
    const reports = backpressureOf(status);
    if (reports.length)
      print(
        `${url}: backpressure`,
        reports.map((r) => ({
          operator: short(r.operator, 8),
          depth: r.depth,
          capacity: r.capacity,
          "age s": typeof r.issuedAt === "number" ? Math.round((Date.now() - r.issuedAt) / 100) / 10 : "",
        })),
      );
  }
}

/** The ops URLs of the local devnet's nodes (`.versatus/devnet/nodes.json`), if it runs from here. */
export function devnetNodeUrls(cwd = process.cwd()): string[] {
  const file = join(cwd, ".versatus", "devnet", "nodes.json");
  if (!existsSync(file)) return [];
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { ops: string }[]).map((n) => n.ops);
  } catch {
    return [];
  }
}

export async function fetchNetworkStatus(url: string, timeoutMs = 3_000): Promise<NodeAnswer> {
  const base = url.replace(/\/+$/, "").replace(/\/network$/, "");
  try {
    const res = await fetch(`${base}/network`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { url: base, error: `HTTP ${res.status}` };
    return { url: base, status: (await res.json()) as NodeNetworkStatus };
  } catch (error) {
    return { url: base, error: (error as Error).message };
  }
}

/** `versatus network status [--node <ops url>...] [--json]`. */
export function registerNetworkCommands(program: Command): void {
  const network = program.command("network").description("the peer-to-peer operator network");
  network
    .command("status")
    .description("peers, topics, quorum membership of recent requests and backpressure, from each node's GET /network")
    .option(
      "--node <url...>",
      "a node's ops server (e.g. http://127.0.0.1:9701); default: the local devnet's nodes (.versatus/devnet/nodes.json)",
    )
    .option("--json", "print the nodes' answers as JSON")
    .action(async (opts: { node?: string[]; json?: boolean }) => {
      const urls = opts.node?.length ? opts.node : devnetNodeUrls();
      if (!urls.length) {
        console.error("no node given: pass --node <ops url> (a node's ops server), or run `npm run devnet` first");
        process.exitCode = 2;
        return;
      }
      const answers = await Promise.all(urls.map((u) => fetchNetworkStatus(u)));
      if (opts.json) console.log(JSON.stringify(answers, null, 2));
      else
        printTables(answers, (title, rows) => {
          console.log(title);
          console.table(rows);
        });
      if (answers.some((a) => !a.status)) process.exitCode = 1;
    });
}
