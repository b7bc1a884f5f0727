import { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createCommitment, subtreeRoots } from "../../da/celestia/commitment.ts";
import { NAMESPACE_SIZE } from "../../da/celestia/constants.ts";
import { sparseSharesNeeded } from "../../da/celestia/shares.ts";
import { listen, readBody, sleep } from "./http.ts";

/**
 * A protocol-faithful stand-in for celestia-node's JSON-RPC API (the subset the DA adapter uses):
 * blob.Submit / Get / GetAll / GetProof / Included, with the node's JSON shapes (base64 bytes,
 * `share_version`, `index`), its error strings ("blob: not found", "header: given height is from
 * the future: ...", cosmos-sdk's "account sequence mismatch ..."), go-jsonrpc's error envelope,
 * and bearer-token auth with read/write permissions. Commitments are computed for real (with the
 * production commitment code, which the shared vector pins); each submit makes a new block.
 *
 * The proofs are shaped like `nmt.Proof` JSON but are not real row proofs over an extended data
 * square (there is no square here): they carry the blob's subtree roots, and Included checks them.
 */
export type FakeCelestiaNodeOptions = {
  /** Token with write permission; a token "read:<x>" style is not modelled, see readToken. */
  writeToken?: string;
  readToken?: string;
  /** Time a Submit takes before it is "included": during it a second Submit races for the sequence. */
  submitLatencyMs?: number;
  startHeight?: number;
};

type StoredBlob = { namespace: Buffer; data: Buffer; shareVersion: number; commitment: Buffer; index: number };

export type FakeCelestiaNode = {
  url: string;
  /** Current head height. */
  head(): number;
  /** Makes the next `count` submits fail with an account sequence mismatch. */
  failNextSubmitsWithSequenceMismatch(count: number): void;
  /** Makes the node return this commitment instead of the real one (a buggy or lying node). */
  lieAboutCommitments(lie: boolean): void;
  /** Replaces the data of a stored blob (a node serving corrupted data). */
  corruptBlob(height: number, data: Buffer): void;
  /** The next `count` reads answer "from the future", as a light node whose header sync lags. */
  failNextReadsWithHeightFromFuture(count: number): void;
  /** Advances the head without blobs. */
  mineEmptyBlocks(count: number): void;
  submits: { accepted: number; rejectedSequence: number; maxConcurrent: number };
  close(): Promise<void>;
};

const GO_JSONRPC_ERROR_CODE = 1;

export async function startFakeCelestiaNode(options: FakeCelestiaNodeOptions = {}): Promise<FakeCelestiaNode> {
  let head = options.startHeight ?? 1;
  let sequence = 0;
  let inFlight = 0;
  let injectedMismatches = 0;
  let lying = false;
  let laggingReads = 0;
  const blocks = new Map<number, StoredBlob[]>();
  const submits = { accepted: 0, rejectedSequence: 0, maxConcurrent: 0 };

  class RpcError extends Error {}

  const permissionOf = (req: IncomingMessage): "none" | "read" | "write" | "invalid" => {
    const header = req.headers.authorization;
    if (!options.writeToken && !options.readToken) return "write";
    if (!header) return "none";
    const token = header.replace(/^Bearer\s+/i, "");
    if (token === options.writeToken) return "write";
    if (token === options.readToken) return "read";
    return "invalid";
  };

  const requirePermission = (have: string, need: "read" | "write", method: string) => {
    const ok = need === "read" ? have === "read" || have === "write" : have === "write";
    if (!ok) throw new RpcError(`missing permission to invoke '${method}' (need '${need}')`);
  };

  const checkHeight = (height: unknown): number => {
    if (typeof height !== "number" || !Number.isInteger(height) || height < 0) {
      throw new RpcError(`unmarshaling params for 'height': json: cannot unmarshal into Go value of type uint64`);
    }
    if (height === 0) throw new RpcError("header: height is equal to 0");
    if (laggingReads > 0) {
      laggingReads--;
      throw new RpcError(
        `header: given height is from the future: networkHeight: ${height - 1}, requestedHeight: ${height}`,
      );
    }
    if (height > head) {
      throw new RpcError(`header: given height is from the future: networkHeight: ${head}, requestedHeight: ${height}`);
    }
    return height;
  };

  const blobJson = (b: StoredBlob) => ({
    namespace: b.namespace.toString("base64"),
    data: b.data.toString("base64"),
    share_version: b.shareVersion,
    commitment: (lying ? Buffer.alloc(32, 0xee) : b.commitment).toString("base64"),
    index: b.index,
  });

  const find = (height: number, ns: string, commitment: string): StoredBlob => {
    const nsBytes = Buffer.from(ns, "base64");
    const c = Buffer.from(commitment, "base64");
    const blob = (blocks.get(height) ?? []).find((b) => b.namespace.equals(nsBytes) && b.commitment.equals(c));
    if (!blob) throw new RpcError("blob: not found");
    return blob;
  };

  const proofFor = (blob: StoredBlob) => {
    const roots = subtreeRoots({ namespace: blob.namespace, data: blob.data, shareVersion: blob.shareVersion });
    return [
      {
        start: blob.index,
        end: blob.index + sparseSharesNeeded(blob.data.length, blob.shareVersion),
        nodes: roots.map((r) => Buffer.from(r).toString("base64")),
        leaf_hash: null,
        is_max_namespace_ignored: true,
      },
    ];
  };

  const methods: Record<string, (params: unknown[], permission: string) => Promise<unknown>> = {
    "blob.Submit": async (params, permission) => {
      requirePermission(permission, "write", "blob.Submit");
      const [blobs] = params as [Array<{ namespace: string; data: string; share_version?: number }>];
      if (!Array.isArray(blobs) || blobs.length === 0) throw new RpcError("blob: empty blobs");
      const expected = sequence;
      inFlight++;
      submits.maxConcurrent = Math.max(submits.maxConcurrent, inFlight);
      try {
        if (injectedMismatches > 0 || inFlight > 1) {
          if (injectedMismatches > 0) injectedMismatches--;
          submits.rejectedSequence++;
          // What cosmos-sdk says when two transactions of one account were signed with one sequence.
          throw new RpcError(
            `account sequence mismatch, expected ${expected + 1}, got ${expected}: incorrect account sequence`,
          );
        }
        const stored: StoredBlob[] = [];
        let index = 0;
        for (const b of blobs) {
          const namespace = Buffer.from(b.namespace, "base64");
          const data = Buffer.from(b.data, "base64");
          const shareVersion = b.share_version ?? 0;
          if (namespace.length !== NAMESPACE_SIZE) throw new RpcError(`namespace: invalid size ${namespace.length}`);
          if (data.length === 0) throw new RpcError("blob: empty blob data");
          stored.push({
            namespace,
            data,
            shareVersion,
            commitment: Buffer.from(createCommitment({ namespace, data, shareVersion })),
            index,
          });
          index += sparseSharesNeeded(data.length, shareVersion);
        }
        if (options.submitLatencyMs) await sleep(options.submitLatencyMs);
        sequence++;
        head++;
        blocks.set(head, stored);
        submits.accepted++;
        return head;
      } finally {
        inFlight--;
      }
    },
    "blob.Get": async ([height, ns, commitment], permission) => {
      requirePermission(permission, "read", "blob.Get");
      return blobJson(find(checkHeight(height), ns as string, commitment as string));
    },
    "blob.GetAll": async ([height, namespaces], permission) => {
      requirePermission(permission, "read", "blob.GetAll");
      const h = checkHeight(height);
      const wanted = (namespaces as string[]).map((n) => Buffer.from(n, "base64"));
      const found = (blocks.get(h) ?? []).filter((b) => wanted.some((w) => w.equals(b.namespace)));
      // celestia-node >= v0.21 answers "no blobs" with null rather than an error.
      return found.length === 0 ? null : found.map(blobJson);
    },
    "blob.GetProof": async ([height, ns, commitment], permission) => {
      requirePermission(permission, "read", "blob.GetProof");
      return proofFor(find(checkHeight(height), ns as string, commitment as string));
    },
    "blob.Included": async ([height, ns, proof, commitment], permission) => {
      requirePermission(permission, "read", "blob.Included");
      const blob = find(checkHeight(height), ns as string, commitment as string);
      return JSON.stringify(proof) === JSON.stringify(proofFor(blob));
    },
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const permission = permissionOf(req);
    if (permission === "invalid") {
      res.writeHead(401, { "content-type": "text/plain" }).end("invalid token");
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    let request: { id?: unknown; method?: string; params?: unknown[] };
    try {
      request = JSON.parse((await readBody(req)).toString("utf8"));
    } catch {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }));
      return;
    }
    const send = (payload: object) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: request.id ?? null, ...payload }));
    };
    const method = request.method ? methods[request.method] : undefined;
    if (!method) {
      send({ error: { code: -32601, message: `method '${request.method}' not found` } });
      return;
    }
    try {
      send({ result: await method(request.params ?? [], permission) });
    } catch (error) {
      if (error instanceof RpcError) send({ error: { code: GO_JSONRPC_ERROR_CODE, message: error.message } });
      else throw error;
    }
  };

  const server = await listen(handler);
  return {
    url: server.url,
    head: () => head,
    failNextSubmitsWithSequenceMismatch: (count) => {
      injectedMismatches += count;
    },
    lieAboutCommitments: (lie) => {
      lying = lie;
    },
    corruptBlob: (height, data) => {
      for (const blob of blocks.get(height) ?? []) blob.data = data;
    },
    failNextReadsWithHeightFromFuture: (count) => {
      laggingReads += count;
    },
    mineEmptyBlocks: (count) => {
      head += count;
    },
    submits,
    close: server.close,
  };
}
