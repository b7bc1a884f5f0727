import { Buffer } from "node:buffer";
import { LEAF_PREFIX, NAMESPACE_SIZE, NODE_PREFIX } from "./constants.ts";
import { sha256, sha256Of } from "./merkle.ts";

/**
 * A node of a namespaced Merkle tree: `minNamespace || maxNamespace || sha256 digest`
 * (29 + 29 + 32 = 90 bytes), so every node states the range of namespaces beneath it.
 */
export const NMT_NODE_SIZE = 2 * NAMESPACE_SIZE + 32;

/** The parity namespace (all 0xFF): with IgnoreMaxNamespace it never widens a node's max. */
const PARITY_NAMESPACE = new Uint8Array(NAMESPACE_SIZE).fill(0xff);

function namespaceOf(node: Uint8Array, offset: number): Uint8Array {
  return node.subarray(offset, offset + NAMESPACE_SIZE);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Leaf hash of namespaced data `ns || payload`: `ns || ns || sha256(0x00 || ns || payload)`. */
export function hashLeaf(namespacedData: Uint8Array): Uint8Array {
  return hashLeafParts(namespacedData.subarray(0, NAMESPACE_SIZE), namespacedData.subarray(NAMESPACE_SIZE));
}

/** `hashLeaf(ns || payload)` without concatenating them first (the commitment's hot path). */
export function hashLeafParts(ns: Uint8Array, payload: Uint8Array): Uint8Array {
  const preimage = new Uint8Array(1 + ns.length + payload.length);
  preimage[0] = LEAF_PREFIX;
  preimage.set(ns, 1);
  preimage.set(payload, 1 + ns.length);
  const out = new Uint8Array(NMT_NODE_SIZE);
  out.set(ns, 0);
  out.set(ns, NAMESPACE_SIZE);
  out.set(sha256Of(preimage), 2 * NAMESPACE_SIZE);
  return out;
}

/**
 * Inner node with IgnoreMaxNamespace (how Celestia builds every row/column tree): the max
 * namespace skips the parity namespace of the right child, so a tree over data shares is not
 * widened by the erasure-coded half.
 */
export function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  const leftMin = namespaceOf(left, 0);
  const leftMax = namespaceOf(left, NAMESPACE_SIZE);
  const rightMin = namespaceOf(right, 0);
  const rightMax = namespaceOf(right, NAMESPACE_SIZE);
  if (compare(rightMin, leftMax) < 0) {
    throw new RangeError("NMT leaves are not ordered by namespace");
  }
  const min = compare(leftMin, rightMin) <= 0 ? leftMin : rightMin;
  const max =
    compare(rightMin, PARITY_NAMESPACE) === 0 ? leftMax : compare(leftMax, rightMax) >= 0 ? leftMax : rightMax;
  const preimage = new Uint8Array(1 + 2 * NMT_NODE_SIZE);
  preimage[0] = NODE_PREFIX;
  preimage.set(left, 1);
  preimage.set(right, 1 + NMT_NODE_SIZE);
  const out = new Uint8Array(NMT_NODE_SIZE);
  out.set(min, 0);
  out.set(max, NAMESPACE_SIZE);
  out.set(sha256Of(preimage), 2 * NAMESPACE_SIZE);
  return out;
}

/** Root of the NMT over leaves already hashed with `hashLeaf` (RFC 6962 tree shape). */
export function nmtRootOfHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) {
    // The empty tree: zero namespaces and the hash of nothing (nmt's EmptyRoot).
    const out = new Uint8Array(NMT_NODE_SIZE);
    out.set(sha256(), 2 * NAMESPACE_SIZE);
    return out;
  }
  return rootOfRange(leafHashes, 0, leafHashes.length);
}

function rootOfRange(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const count = end - start;
  if (count === 1) return leafHashes[start]!;
  let k = 1;
  while (k * 2 < count) k *= 2;
  return hashNode(rootOfRange(leafHashes, start, start + k), rootOfRange(leafHashes, start + k, end));
}

/** Root of the NMT whose leaves are the given namespaced data items (`ns || payload`). */
export function nmtRoot(namespacedLeaves: readonly Uint8Array[]): Uint8Array {
  return nmtRootOfHashes(namespacedLeaves.map(hashLeaf));
}
