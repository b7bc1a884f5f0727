import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CID } from "multiformats/cid";
import type { Logger } from "pino";
import type { NameSource } from "../dns/registry.ts";
import { isRegistryName } from "../dns/resolver.ts";
import { cidOfContentId } from "../protocol/content.ts";
import { unixfsRoot } from "./cid.ts";
import { BlockHashMismatchError } from "./blockstore.ts";
import { ForgedBlockError } from "./blockExchange.ts";
import { MAX_BUNDLE_BYTES, type BundleEntry } from "./bundle.ts";
import type { ContentNode } from "./node.ts";

/**
 * The gateway role (issue 17 item 3): HTTP over the content node.
 *
 * - `GET /ipfs/<cid>[/<path>]`: the bytes of a file (a directory: its index.html, else a JSON
 *   listing). Every block was hash-checked by the blockstore before it got here, and the whole
 *   body is read before the status line goes out, so a tampered block gives a 502, never a byte.
 * - `GET /name/<label>.<suffix>[/<path>]`: the same for the content a NameRegistry name points at
 *   (dns/registry.ts reads the record; protocol/content.ts maps its content id to a CID).
 * - `POST /content` (only with `upload`): `{ "files": [{ "path", "base64" }] }` → a bundle, or
 *   `{ "raw": base64 }` → one raw block (a program package); answers `{ "cid" }`.
 * - `GET /healthz`.
 */

export type GatewayOptions = {
  content: ContentNode;
  port: number;
  host: string;
  /** Accept POST /content (publishing through this gateway). */
  upload: boolean;
  /** Names: the registry reader and its suffix; absent: /name answers 501. */
  names?: { source: NameSource; suffix: string };
  log: Logger;
  /** Counts answers by status (metrics). */
  onAnswer?: (route: "ipfs" | "name" | "upload" | "other", status: number) => void;
};

export type Gateway = { url: string; port: number; close(): Promise<void> };

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  txt: "text/plain; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  wasm: "application/wasm",
  vpkg: "application/octet-stream",
};

const typeOf = (path: string) => TYPES[path.split(".").pop()?.toLowerCase() ?? ""] ?? "application/octet-stream";

function parseCid(text: string): CID {
  try {
    return CID.parse(text);
  } catch {
    throw new HttpError(400, `not a CID: ${text}`);
  }
}

/** A refused block behind `error`: itself, or one of the brokers' errors Helia gathered. */
function refusedBlock(error: unknown): BlockHashMismatchError | ForgedBlockError | undefined {
  if (error instanceof BlockHashMismatchError || error instanceof ForgedBlockError) return error;
  if (error instanceof AggregateError)
    for (const inner of error.errors) if (refusedBlock(inner)) return refusedBlock(inner);
  return undefined;
}

/** A failure while reading content, as an HTTP status. */
function statusOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const refused = refusedBlock(error);
  if (refused) return new HttpError(502, `a block failed its hash check and was refused: ${refused.cid}`);
  const name = (error as { name?: string }).name ?? "";
  const message = error instanceof Error ? error.message : String(error);
  // Helia's "Failed to load block": every broker gave up, and ours only does at the fetch deadline.
  if (name === "LoadBlockFailedError" || /Failed to load block/.test(message))
    return new HttpError(504, "content not found on the network in time");
  if (name === "AbortError" || name === "TimeoutError" || /abort/i.test(message))
    return new HttpError(504, "content not found on the network in time");
  if (name === "NoPropError" || name === "NotFoundError" || /not found|no link named/i.test(message))
    return new HttpError(404, "no such path in this content");
  return new HttpError(500, message.split("\n")[0]!);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { content, log } = options;

  /** The body and type of `path` inside `cid`, read in full (every block hash-checked). */
  const read = async (cid: CID, path: string): Promise<{ body: Buffer; type: string }> => {
    const signal = content.fetchSignal();
    const stat = await content.fs.stat(unixfsRoot(cid), { ...(path ? { path } : {}), signal });
    if (stat.type === "directory") {
      const entries: { name: string; cid: string }[] = [];
      for await (const entry of content.fs.ls(unixfsRoot(cid), { ...(path ? { path } : {}), signal }))
        entries.push({ name: entry.name, cid: entry.cid.toString() });
      if (entries.some((e) => e.name === "index.html")) return read(cid, path ? `${path}/index.html` : "index.html");
      return { body: Buffer.from(JSON.stringify({ cid: stat.cid.toString(), entries })), type: "application/json" };
    }
    if (stat.size > BigInt(MAX_BUNDLE_BYTES)) throw new HttpError(413, `larger than ${MAX_BUNDLE_BYTES} bytes`);
    const chunks: Uint8Array[] = [];
    for await (const chunk of content.fs.cat(unixfsRoot(cid), { ...(path ? { path } : {}), signal }))
      chunks.push(chunk);
    return { body: Buffer.concat(chunks), type: typeOf(path || "") };
  };

  const serve = async (res: ServerResponse, cid: CID, path: string, head: boolean) => {
    // No retry here: a missing block is asked of the live holders again and again until the fetch
    // deadline (content/blockExchange.ts), so a holder that died is simply not asked any more.
    const { body, type } = await read(cid, path);
    res.writeHead(200, {
      "content-type": type,
      "content-length": body.length,
      etag: `"${cid.toString()}${path ? `/${path}` : ""}"`,
      "x-ipfs-path": `/ipfs/${cid.toString()}${path ? `/${path}` : ""}`,
      "cache-control": "public, max-age=29030400, immutable",
    });
    res.end(head ? undefined : body);
  };

  const upload = async (req: IncomingMessage, res: ServerResponse) => {
    if (!options.upload) throw new HttpError(403, "uploads are off on this gateway (content.gateway.upload)");
    const body = await readBody(req, Math.ceil(MAX_BUNDLE_BYTES * 1.4) + 1024 * 1024);
    let parsed: { files?: { path?: unknown; base64?: unknown }[]; raw?: unknown };
    try {
      parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
    } catch {
      throw new HttpError(400, "a JSON body: { files: [{ path, base64 }] } or { raw: base64 }");
    }
    let cid: CID;
    if (typeof parsed.raw === "string") cid = await content.addRaw(Buffer.from(parsed.raw, "base64"));
    else if (Array.isArray(parsed.files) && parsed.files.length > 0) {
      const entries: BundleEntry[] = parsed.files.map((f, i) => {
        if (typeof f.path !== "string" || !/^[^/].*$/.test(f.path) || f.path.split("/").includes(".."))
          throw new HttpError(400, `files.${i}.path: a relative path without '..'`);
        if (typeof f.base64 !== "string") throw new HttpError(400, `files.${i}.base64: the file's bytes in base64`);
        return { path: f.path, content: Buffer.from(f.base64, "base64") };
      });
      cid = await content.addBundle(entries);
    } else throw new HttpError(400, "files (a non-empty array) or raw");
    log.info({ cid: cid.toString() }, "content published through the gateway");
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ cid: cid.toString() }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<"ipfs" | "name" | "upload" | "other"> => {
    const url = new URL(req.url ?? "/", "http://gateway");
    const parts = url.pathname
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    const head = req.method === "HEAD";
    if (req.method === "POST" && url.pathname === "/content") {
      await upload(req, res);
      return "upload";
    }
    if (req.method !== "GET" && !head) throw new HttpError(405, "GET, HEAD or POST /content");
    if (url.pathname === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, peerId: content.peerId }));
      return "other";
    }
    if (parts[0] === "ipfs" && parts[1]) {
      await serve(res, parseCid(parts[1]), parts.slice(2).join("/"), head);
      return "ipfs";
    }
    if (parts[0] === "name" && parts[1]) {
      if (!options.names) throw new HttpError(501, "no NameRegistry configured on this gateway");
      const name = parts[1].toLowerCase();
      if (!isRegistryName(name, options.names.suffix))
        throw new HttpError(400, `a name <label>.${options.names.suffix} (got ${name})`);
      let records;
      try {
        records = await options.names.source.lookup(name);
      } catch (error) {
        throw new HttpError(502, `the NameRegistry could not be read: ${String(error).split("\n")[0]}`);
      }
      if (!records) throw new HttpError(404, `${name} is not registered`);
      if (records.contentKind === 0) throw new HttpError(404, `${name} has no content record`);
      await serve(res, cidOfContentId(records.contentKind, records.contentId), parts.slice(2).join("/"), head);
      return "name";
    }
    throw new HttpError(404, "GET /ipfs/<cid>[/path], /name/<name>[/path], /healthz; POST /content");
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res).then(
      (route) => options.onAnswer?.(route, res.statusCode),
      (error: unknown) => {
        const failure = statusOf(error);
        if (failure.status >= 500)
          log.warn({ url: req.url, status: failure.status, err: failure.message }, "gateway error");
        if (!res.headersSent) {
          res.writeHead(failure.status, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: failure.message }));
        } else res.destroy();
        options.onAnswer?.("other", failure.status);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
