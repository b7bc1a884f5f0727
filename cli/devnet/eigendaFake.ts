import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody } from "./http.ts";

/**
 * A protocol-faithful stand-in for eigenda-proxy's REST API in standard commitment mode:
 * `POST /put?commitment_mode=standard` (raw payload in, certificate bytes out, the first byte
 * the certificate version as the proxy writes it) and `GET /get/0x<certificate>?commitment_mode=standard`
 * (payload out). Like the proxy's memstore it keeps payloads in memory; faults can be injected:
 * 503 (failover signal), 418 (invalid certificate), 500, latency, and a max payload size (413).
 * The chaos world's primary DA layer (chaos/world.ts) and the DA tests' (test/fakes/eigendaProxy.ts).
 */
export type FakeEigenDaProxyOptions = { maxPayloadBytes?: number; latencyMs?: number };

export type FakeEigenDaProxy = {
  url: string;
  /** The next `count` puts answer `status` (e.g. 503 for failover, 500 for an internal error). */
  failNextPuts(status: number, count?: number): void;
  /** The next `count` gets answer `status`. */
  failNextGets(status: number, count?: number): void;
  /** GETs of this certificate (0x-hex) answer 418: the proxy judged it invalid. */
  invalidateCertificate(certificateHex: string): void;
  setLatency(ms: number): void;
  requests: { puts: number; gets: number };
  close(): Promise<void>;
};

/** Version byte of an EigenDA V2 certificate in standard commitment mode. */
const CERT_VERSION_V2 = 0x01;

export async function startFakeEigenDaProxy(options: FakeEigenDaProxyOptions = {}): Promise<FakeEigenDaProxy> {
  const store = new Map<string, Buffer>();
  const invalid = new Set<string>();
  const putFaults: number[] = [];
  const getFaults: number[] = [];
  let latencyMs = options.latencyMs ?? 0;
  let counter = 0;
  const requests = { puts: 0, gets: 0 };
  const maxPayload = options.maxPayloadBytes ?? 16 * 1024 * 1024;

  const reply = (res: ServerResponse, status: number, body: string | Buffer, type = "text/plain") => {
    res.writeHead(status, { "content-type": type });
    res.end(body);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake");
    if (latencyMs) await sleep(latencyMs);
    const mode = url.searchParams.get("commitment_mode");
    if (req.method === "GET" && url.pathname === "/health") return reply(res, 200, "");
    if (mode !== "standard") return reply(res, 400, `invalid commitment mode: ${mode ?? "<none>"}`);

    if (req.method === "POST" && url.pathname === "/put") {
      requests.puts++;
      const payload = await readBody(req);
      const fault = putFaults.shift();
      if (fault)
        return reply(res, fault, fault === 503 ? "eigenda: failover: disperser unavailable" : `injected ${fault}`);
      if (payload.length === 0) return reply(res, 400, "empty payload");
      if (payload.length > maxPayload) return reply(res, 413, `blob size ${payload.length} exceeds max ${maxPayload}`);
      // Certificate-like bytes: version || digest of the payload || a dispersal counter.
      const cert = Buffer.alloc(1 + 32 + 8);
      cert[0] = CERT_VERSION_V2;
      createHash("sha256").update(payload).digest().copy(cert, 1);
      cert.writeBigUInt64BE(BigInt(++counter), 33);
      store.set(cert.toString("hex"), payload);
      return reply(res, 200, cert, "application/octet-stream");
    }

    const getMatch = /^\/get\/0x([0-9a-fA-F]+)$/.exec(url.pathname);
    if (req.method === "GET" && getMatch) {
      requests.gets++;
      const key = getMatch[1]!.toLowerCase();
      const fault = getFaults.shift();
      if (fault) return reply(res, fault, `injected ${fault}`);
      if (invalid.has(key)) return reply(res, 418, "cert verification failed: invalid certificate");
      const payload = store.get(key);
      if (!payload) return reply(res, 404, "blob not found");
      return reply(res, 200, payload, "application/octet-stream");
    }
    return reply(res, 404, "404 page not found");
  };

  const served = await listen(handler);
  return {
    url: served.url,
    failNextPuts: (status, count = 1) => putFaults.push(...Array<number>(count).fill(status)),
    failNextGets: (status, count = 1) => getFaults.push(...Array<number>(count).fill(status)),
    invalidateCertificate: (hex) => invalid.add(hex.replace(/^0x/, "").toLowerCase()),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    requests,
    close: served.close,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
