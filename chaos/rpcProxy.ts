/**
 * A fault-injecting HTTP proxy for JSON-RPC (and any HTTP upstream, e.g. a DA layer): the nodes
 * talk to it instead of the chain, and the chaos schedule switches faults on and off. Loopback
 * only: it listens on 127.0.0.1 and refuses an upstream that is not a loopback address.
 *
 * Faults (one at a time; `rate` is the share of requests it hits while on):
 * - drop: the connection is destroyed without an answer (a peer that vanished mid-call)
 * - delay: the answer comes `delayMs` late (a congested RPC provider)
 * - http5xx: 503 with an HTML body (a load balancer with no healthy backend)
 * - truncated: the upstream's answer cut in half (a proxy that died mid-body)
 * - staleHead: eth_blockNumber and eth_getBlockByNumber("latest") answer the head frozen when
 *   the fault began (a provider node stuck behind the chain); everything else is forwarded
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const RPC_FAULTS = ["drop", "delay", "http5xx", "truncated", "staleHead"] as const;
export type RpcFault = (typeof RPC_FAULTS)[number];

export type FaultSetting = { fault: RpcFault; rate: number; delayMs?: number };

export type FaultProxy = {
  url: string;
  upstream: string;
  /** Turns a fault on (replacing the current one) or, with undefined, off. */
  set: (setting: FaultSetting | undefined) => void;
  current: () => FaultSetting | undefined;
  /** Requests seen and requests a fault hit, by fault. */
  stats: { requests: number; hit: Record<string, number> };
  close: () => Promise<void>;
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Throws unless `url` points at this machine's loopback interface (chaos never targets anything else). */
export function assertLoopback(url: string): URL {
  const parsed = new URL(url);
  if (!LOOPBACK.has(parsed.hostname) && !parsed.hostname.startsWith("127."))
    throw new Error(`chaos targets loopback only; ${url} is not a loopback address`);
  if (parsed.protocol !== "http:") throw new Error(`chaos proxies plain http upstreams only; got ${url}`);
  return parsed;
}

type RpcCall = { jsonrpc?: string; id?: unknown; method?: string; params?: unknown[] };

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const isHeadCall = (c: RpcCall) =>
  c.method === "eth_blockNumber" ||
  (c.method === "eth_getBlockByNumber" && (c.params?.[0] === "latest" || c.params?.[0] === "pending"));

export async function startFaultProxy(options: { upstream: string; name?: string }): Promise<FaultProxy> {
  const upstream = assertLoopback(options.upstream);
  let setting: FaultSetting | undefined;
  /** Head number (hex) frozen when the stale-head fault began. */
  let frozenHead: string | undefined;
  const stats = { requests: 0, hit: {} as Record<string, number> };
  const sockets = new Set<Socket>();

  const forward = (method: string, path: string, headers: Record<string, string>, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method,
          path,
          headers: { ...headers, host: upstream.host, "content-length": String(body.length) },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: { "content-type": String(res.headers["content-type"] ?? "application/json") },
              body: Buffer.concat(chunks),
            }),
          );
          res.on("error", reject);
        },
      );
      out.on("error", reject);
      out.setTimeout(60_000, () => out.destroy(new Error("upstream timed out")));
      out.end(body);
    });

  const rpc = async (call: RpcCall): Promise<unknown> => {
    const r = await forward(
      "POST",
      upstream.pathname,
      { "content-type": "application/json" },
      Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: 1, method: call.method, params: call.params ?? [] })),
    );
    return (JSON.parse(r.body.toString("utf8")) as { result: unknown }).result;
  };

  /** The stale answer of a head call (the block frozen at the fault's start), or undefined to forward. */
  const staleAnswer = async (call: RpcCall): Promise<unknown> => {
    frozenHead ??= (await rpc({ method: "eth_blockNumber" })) as string;
    if (call.method === "eth_blockNumber") return { jsonrpc: "2.0", id: call.id ?? null, result: frozenHead };
    const block = await rpc({ method: "eth_getBlockByNumber", params: [frozenHead, call.params?.[1] ?? false] });
    return { jsonrpc: "2.0", id: call.id ?? null, result: block };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    stats.requests++;
    const s = setting;
    const hit = s !== undefined && Math.random() < s.rate;
    if (hit && s.fault !== "staleHead") stats.hit[s.fault] = (stats.hit[s.fault] ?? 0) + 1;
    if (hit && s.fault === "drop") {
      req.socket.destroy();
      return;
    }
    if (hit && s.fault === "http5xx") {
      res.writeHead(503, { "content-type": "text/html" }).end("<html><body>503 Service Unavailable</body></html>");
      return;
    }
    if (hit && s.fault === "delay") await new Promise((r) => setTimeout(r, s.delayMs ?? 3_000));
    if (s?.fault === "staleHead") {
      let parsed: RpcCall | RpcCall[] | undefined;
      try {
        parsed = JSON.parse(body.toString("utf8")) as RpcCall | RpcCall[];
      } catch {
        parsed = undefined;
      }
      const calls = parsed === undefined ? [] : Array.isArray(parsed) ? parsed : [parsed];
      if (calls.some(isHeadCall)) {
        stats.hit.staleHead = (stats.hit.staleHead ?? 0) + 1;
        const answers = await Promise.all(
          calls.map(async (c) => {
            if (isHeadCall(c)) return staleAnswer(c);
            const r = await rpc(c).then(
              (result) => ({ result }),
              (error: Error) => ({ error: { code: -32603, message: error.message } }),
            );
            return { jsonrpc: "2.0", id: c.id ?? null, ...r };
          }),
        );
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify(Array.isArray(parsed) ? answers : answers[0]));
        return;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection") headers[k] = v;
    const answer = await forward(req.method ?? "POST", req.url ?? "/", headers, body);
    if (hit && s.fault === "truncated") {
      // the declared length is the whole body, the bytes stop halfway: the client sees a cut answer
      res.writeHead(answer.status, { ...answer.headers, "content-length": String(answer.body.length) });
      res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, answer.headers).end(answer.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`proxy: ${error.message}`);
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname === "/" ? "" : upstream.pathname}`,
    upstream: options.upstream,
    set: (next) => {
      setting = next;
      if (next?.fault !== "staleHead") frozenHead = undefined;
    },
    current: () => setting,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
