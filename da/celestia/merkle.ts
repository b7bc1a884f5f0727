import { createHash, hash as oneShotHash } from "node:crypto";
import { LEAF_PREFIX, NODE_PREFIX } from "./constants.ts";

/** sha256 of one buffer; the one-shot API is markedly cheaper than a Hash object for small inputs. */
export function sha256Of(data: Uint8Array): Uint8Array {
  return oneShotHash("sha256", data, "buffer");
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return sha256Of(parts[0]!);
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

const LEAF = new Uint8Array([LEAF_PREFIX]);
const NODE = new Uint8Array([NODE_PREFIX]);

/** Largest power of two strictly less than n (n >= 2): RFC 6962's split point. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * RFC 6962 Merkle root (CometBFT `merkle.HashFromByteSlices`), the tree the share commitment
 * builds over its subtree roots. The empty tree hashes to sha256 of nothing.
 */
export function rfc6962Root(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return sha256();
  if (items.length === 1) return sha256(LEAF, items[0]!);
  const k = splitPoint(items.length);
  return sha256(NODE, rfc6962Root(items.slice(0, k)), rfc6962Root(items.slice(k)));
}
