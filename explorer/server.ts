import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { isHex, type Hex } from "viem";
import { createDaClient, type DaClient } from "../da/index.ts";
import { QUEUE_PREFIX } from "../protocol/queues.ts";
import { NODE_FETCH_LIMITS, parseExplorerNodes, readNetwork, type NodeView } from "./nodes.ts";
import {
  chainReader,
  disputesView,
  listRequests,
  programsView,
  requestDetail,
  stakingView,
  type ChainReader,
  type ExplorerChain,
} from "./reader.ts";

export type { ExplorerChain } from "./reader.ts";

export const EXPLORER_DIST = join(dirname(fileURLToPath(import.meta.url)), "dist");

/** JSON-RPC methods the page may send through /rpc/<chainId>: reads, and on local chains the dev accounts' sends. */
const READ_METHODS = new Set([
  "eth_chainId",
  "eth_blockNumber",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getBalance",
  "eth_getCode",
  "eth_getStorageAt",
  "eth_call",
  "eth_estimateGas",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_getLogs",
  "eth_getTransactionByHash",
  "eth_getTransactionReceipt",
  "eth_getTransactionCount",
  "net_version",
  "eth_sendRawTransaction",
]);
/** Only where the chain holds the public dev accounts (local chains): it signs for them itself. */
const DEV_METHODS = new Set(["eth_accounts", "eth_sendTransaction"]);

export type StartExplorerOptions = {
  /** The chains to show (e.g. the devnet's DevnetChain list: same fields). */
  chains: ExplorerChain[];
  /** Port on 127.0.0.1 (0 = any free port). */
  port?: number;
  /** When `port` is taken, listen on any free port instead of failing (the devnet). */
  anyPortIfTaken?: boolean;
  host?: string;
  /** Where execution records are read: a DA client, or a local store directory. */
  da?: DaClient | { dir: string } | undefined;
  /** The operator's own Redis: mounts Bull Board (read-only) at /queues and /api/queues. */
  redisUrl?: string | undefined;
  /** Local chains: the page may use the chain's unlocked dev accounts (eth_sendTransaction). */
  devAccounts?: boolean;
  /** Program stores (directories of `<programId>.vpkg`): the programs page shows each version and language. */
  programDirs?: string[];
  /** A name shown in the page header. */
  network?: string;
  /**
   * Ops servers of operator nodes (e.g. http://127.0.0.1:9701): the Network page shows each
   * one's auto-scaling state and content holdings from its GET /network.
   */
  nodes?: string[];
  /** Per node: the answer's deadline and size cap (default NODE_FETCH_LIMITS). */
  nodeLimits?: { timeoutMs: number; maxBytes: number };
  /** Quorum size of the network's scheduler (for the request page's quorum; default 4). */
  quorum?: number;
  /**
   * Directory of the built page. Default explorer/dist, built first (Vite) when missing or older
   * than its sources (`npm run explorer:build` builds it ahead).
   */
  distDir?: string;
  /** Progress lines (the page build). */
  log?: (line: string) => void;
};

export type ExplorerHandle = { url: string; port: number; server: Server; close: () => Promise<void> };

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

type ExpressApp = ((req: IncomingMessage, res: ServerResponse) => void) & {
  use(path: string, handler: unknown): void;
};

type BullBoard = { handler: (req: IncomingMessage, res: ServerResponse) => void; close: () => Promise<void> };

/** Bull Board over every BullMQ queue under the project's prefix, read-only. */
async function mountBullBoard(
  redisUrl: string,
  basePath: string,
): Promise<BullBoard & { counts: () => Promise<unknown> }> {
  // express ships no types (Bull Board's adapter brings it): a plain request handler is all we use
  const expressModule = "express";
  const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }, { Queue }, { Redis }, expressExports] =
    await Promise.all([
      import("@bull-board/api"),
      import("@bull-board/api/bullMQAdapter"),
      import("@bull-board/express"),
      import("bullmq"),
      import("ioredis"),
      import(expressModule) as Promise<{ default: () => ExpressApp }>,
    ]);
  const express = expressExports.default;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  const queues = new Map<string, InstanceType<typeof Queue>>();
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  // the express adapter pins its own @bull-board/api patch version: same interface, other nominal type
  const board = createBullBoard({
    queues: [],
    serverAdapter: serverAdapter as never,
    options: { uiConfig: { boardTitle: "Versatus queues" } },
  });
  let scannedAt = 0;
  const refresh = async (force = false) => {
    // new queues appear as operators join: rescan at most every 5 s (Bull Board's assets hit this too)
    if (!force && Date.now() - scannedAt < 5_000) return;
    scannedAt = Date.now();
    const names = new Set<string>();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${QUEUE_PREFIX}:*:meta`, "COUNT", 500);
      cursor = next;
      for (const key of keys) names.add(key.slice(QUEUE_PREFIX.length + 1, -":meta".length));
    } while (cursor !== "0");
    for (const name of names) {
      if (queues.has(name)) continue;
      const q = new Queue(name, { connection: redis, prefix: QUEUE_PREFIX });
      queues.set(name, q);
      board.addQueue(new BullMQAdapter(q, { readOnlyMode: true }));
    }
  };
  await refresh(true).catch(() => {});
  const app = express();
  app.use(basePath, serverAdapter.getRouter());
  return {
    handler: (req, res) => {
      void refresh()
        .catch(() => {})
        .finally(() => app(req, res));
    },
    counts: async () => {
      await refresh(true);
      return Promise.all(
        [...queues.entries()].map(async ([name, q]) => ({
          name,
          counts: await q.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized"),
        })),
      );
    },
    close: async () => {
      for (const q of queues.values()) await q.close().catch(() => {});
      redis.disconnect();
    },
  };
}

/**
 * Serves the explorer: the built page (explorer/dist), a read-only JSON API over the chains and
 * the DA store, a JSON-RPC pass-through per chain (reads; local dev accounts' sends only with
 * `devAccounts`) so the page's viem/wagmi clients need no CORS, and Bull Board for the operator's
 * own queues. Listens on 127.0.0.1. No key is loaded: the page signs through an injected wallet,
 * or through the local chain's unlocked dev accounts.
 *
 * @example
 * const explorer = await startExplorer({ chains, port: 8600, da: { dir: ".versatus/devnet/da" }, redisUrl });
 * console.log(`explorer: ${explorer.url}`);
 */
export async function startExplorer(options: StartExplorerOptions): Promise<ExplorerHandle> {
  const dist = options.distDir ?? EXPLORER_DIST;
  const nodes = parseExplorerNodes(options.nodes ?? [], "nodes");
  if (options.distDir === undefined) await (await import("./build.ts")).ensureExplorerBuilt(options.log);
  if (!existsSync(join(dist, "index.html")))
    throw new Error(`the explorer page is not built (no ${join(dist, "index.html")}): run \`npm run explorer:build\``);
  const readers: ChainReader[] = options.chains.map(chainReader);
  const da: DaClient | undefined =
    options.da === undefined
      ? undefined
      : "dir" in options.da
        ? createDaClient({ primary: { layer: "local", dir: options.da.dir } })
        : options.da;
  const ownDa = options.da !== undefined && "dir" in options.da;
  const bull = options.redisUrl ? await mountBullBoard(options.redisUrl, "/queues") : undefined;
  const readerOf = (id: string) => readers.find((r) => String(r.chain.chainId) === id);
  // Pages poll every few seconds: reads of the nodes less than a second apart share one round, so
  // open tabs do not multiply the load on the nodes.
  let networkRead: { at: number; answer: Promise<{ readAt: number; nodes: NodeView[] }> } | undefined;
  const network = () => {
    if (!networkRead || Date.now() - networkRead.at >= 1_000)
      networkRead = { at: Date.now(), answer: readNetwork(nodes, options.nodeLimits ?? NODE_FETCH_LIMITS) };
    return networkRead.answer;
  };

  const config = {
    network: options.network ?? "devnet",
    devAccounts: options.devAccounts ?? false,
    queues: bull !== undefined,
    nodes: nodes.length,
    chains: options.chains.map((c) => ({
      name: c.name,
      chainId: c.chainId,
      oracle: c.oracle,
      ingestor: c.ingestor,
      omniToken: c.omniToken ?? null,
      staking: c.staking ?? null,
    })),
  };

  const api = async (req: IncomingMessage, res: ServerResponse, path: string[]): Promise<void> => {
    const [first, second, third] = path;
    if (first === "config") return json(res, 200, config);
    if (first === "requests" && second) {
      const r = readerOf(second);
      if (!r) return json(res, 404, { error: `no chain ${second}` });
      if (third) {
        if (!isHex(third) || third.length !== 66) return json(res, 400, { error: "requestId: 32 bytes as 0x-hex" });
        const detail = await requestDetail(readers, r.chain.chainId, third as Hex, {
          da,
          quorum: options.quorum ?? 4,
        });
        return detail ? json(res, 200, detail) : json(res, 404, { error: `no request ${third} on chain ${second}` });
      }
      return json(res, 200, await listRequests(r));
    }
    if (first === "programs") return json(res, 200, await programsView(readers, options.programDirs ?? []));
    if (first === "staking") return json(res, 200, (await Promise.all(readers.map(stakingView))).filter(Boolean));
    if (first === "disputes") return json(res, 200, (await Promise.all(readers.map(disputesView))).flat());
    if (first === "queues") return json(res, 200, bull ? await bull.counts() : null);
    if (first === "network") return json(res, 200, await network());
    if (first === "record" && second) {
      if (!da) return json(res, 404, { error: "no DA store configured" });
      if (!isHex(second)) return json(res, 400, { error: "pointer: 0x-hex" });
      const { recordToJson } = await import("../protocol/record.ts");
      return json(res, 200, recordToJson(await da.get(second as Hex)));
    }
    return json(res, 404, { error: `no API ${req.url}` });
  };

  const rpc = async (req: IncomingMessage, res: ServerResponse, chainId: string) => {
    const r = readerOf(chainId);
    if (!r) return json(res, 404, { error: `no chain ${chainId}` });
    if (req.method !== "POST") return json(res, 405, { error: "POST a JSON-RPC request" });
    let body: { id?: unknown; method?: string; params?: unknown[] } | { id?: unknown; method?: string }[];
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return json(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    }
    const one = async (call: { id?: unknown; method?: string; params?: unknown[] }) => {
      const method = call.method ?? "";
      const allowed = READ_METHODS.has(method) || (config.devAccounts && DEV_METHODS.has(method));
      if (!allowed)
        return {
          jsonrpc: "2.0",
          id: call.id ?? null,
          error: { code: -32601, message: `${method} is not served here` },
        };
      try {
        const result = await r.client.request({ method, params: call.params ?? [] } as never);
        return { jsonrpc: "2.0", id: call.id ?? null, result };
      } catch (error) {
        const e = error as { code?: number; shortMessage?: string; message?: string; data?: unknown; cause?: unknown };
        const cause = e.cause as { code?: number; data?: unknown; message?: string } | undefined;
        return {
          jsonrpc: "2.0",
          id: call.id ?? null,
          error: {
            code: cause?.code ?? e.code ?? -32603,
            message: cause?.message ?? e.shortMessage ?? e.message ?? "error",
            ...((cause?.data ?? e.data) !== undefined ? { data: cause?.data ?? e.data } : {}),
          },
        };
      }
    };
    return json(res, 200, Array.isArray(body) ? await Promise.all(body.map(one)) : await one(body));
  };

  const serveFile = (res: ServerResponse, urlPath: string) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return json(res, 400, { error: "malformed path" });
    }
    const safe = normalize(decoded).replace(/^(\.\.[/\\])+/, "");
    let file = join(dist, safe);
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) file = join(dist, "index.html");
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": file.endsWith("index.html") ? "no-store" : "public, max-age=3600",
    });
    createReadStream(file).pipe(res);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://explorer.invalid");
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] === "healthz") return json(res, 200, { ok: true });
    if (parts[0] === "queues") {
      if (!bull) return json(res, 404, { error: "no Redis configured: start the explorer with --redis <url>" });
      return bull.handler(req, res);
    }
    const handle =
      parts[0] === "api" ? api(req, res, parts.slice(1)) : parts[0] === "rpc" ? rpc(req, res, parts[1] ?? "") : null;
    if (!handle) return serveFile(res, url.pathname);
    handle.catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: error instanceof Error ? error.message : String(error) });
      else res.end();
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  try {
    await listen(options.port ?? 0).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE" && options.anyPortIfTaken && options.port) {
        options.log?.(`port ${options.port} is taken: the explorer listens on a free port`);
        return listen(0);
      }
      throw error;
    });
  } catch (error) {
    await bull?.close().catch(() => {});
    if (ownDa) await da?.close().catch(() => {});
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}/`,
    port,
    server,
    close: () =>
      (closing ??= (async () => {
        const errors: unknown[] = [];
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await bull?.close().catch((e: unknown) => errors.push(e));
        if (ownDa) await da?.close().catch((e: unknown) => errors.push(e));
        if (errors.length) throw errors[0];
      })()),
  };
}
