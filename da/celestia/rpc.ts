import { Buffer } from "node:buffer";
import { redactUrl } from "../../protocol/errors.ts";
import { DaError, DaUnavailableError } from "../errors.ts";

/** A JSON-RPC error the node answered with (the request reached the node and was refused). */
export class CelestiaRpcError extends DaError {
  override name = "CelestiaRpcError";
  readonly method: string;
  readonly code: number;
  readonly rpcMessage: string;
  constructor(method: string, code: number, rpcMessage: string) {
    super("celestia", `Celestia node refused ${method}: ${rpcMessage}`, {
      permanent: false,
      details: `JSON-RPC error code ${code}`,
    });
    this.method = method;
    this.code = code;
    this.rpcMessage = rpcMessage;
  }
}

/** A blob as celestia-node's JSON-RPC encodes it (byte fields in base64). */
export type BlobJson = {
  namespace: string;
  data: string;
  share_version: number;
  commitment: string;
  index?: number;
  signer?: string;
};

/** One NMT range proof as celestia-node encodes it (`nmt.Proof`). */
export type NmtProofJson = {
  start: number;
  end: number;
  nodes: string[] | null;
  leaf_hash?: string | null;
  is_max_namespace_ignored?: boolean;
};

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");
export const fromB64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64"));

export type CelestiaRpcOptions = { url: string; authToken?: string | undefined; timeoutMs: number };

/**
 * celestia-node JSON-RPC over HTTP POST (the node serves HTTP and WebSocket on one port, 26658 by
 * default). Auth is `Authorization: Bearer <token>` from `celestia <type> auth write`.
 * Transport failures become DaUnavailableError; node refusals become CelestiaRpcError.
 */
export class CelestiaRpcClient {
  readonly #url: string;
  readonly #authToken: string | undefined;
  readonly #timeoutMs: number;
  #nextId = 1;

  constructor(options: CelestiaRpcOptions) {
    this.#url = options.url;
    this.#authToken = options.authToken;
    this.#timeoutMs = options.timeoutMs;
  }

  get safeUrl(): string {
    return redactUrl(this.#url);
  }

  async call<T>(method: string, params: unknown[]): Promise<T> {
    const id = this.#nextId++;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#authToken) headers.authorization = `Bearer ${this.#authToken}`;
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }, (_k, v) =>
          typeof v === "bigint" ? Number(v) : v,
        ),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new DaUnavailableError("celestia", `Celestia node at ${this.safeUrl} unreachable during ${method}`, {
        cause,
      });
    }
    if (response.status === 401 || response.status === 403) {
      throw new DaError(
        "celestia",
        `Celestia node at ${this.safeUrl} rejected the auth token (HTTP ${response.status})`,
        {
          permanent: true,
          failover: true,
          hints: ["Set da.celestia.authToken to a token from `celestia light auth write` for this node."],
        },
      );
    }
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      throw new DaUnavailableError(
        "celestia",
        `Celestia node at ${this.safeUrl} answered HTTP ${response.status} to ${method}`,
        {
          details: text.slice(0, 300),
        },
      );
    }
    let body: { result?: T; error?: { code?: number; message?: string } };
    try {
      body = (await response.json()) as typeof body;
    } catch (cause) {
      throw new DaUnavailableError("celestia", `Celestia node at ${this.safeUrl} sent invalid JSON for ${method}`, {
        cause,
      });
    }
    if (body.error) throw new CelestiaRpcError(method, body.error.code ?? 0, body.error.message ?? "unknown error");
    return body.result as T;
  }
}
