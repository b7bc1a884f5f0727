import { Buffer } from "node:buffer";
import { LEAF_PREFIX, NAMESPACE_SIZE, NODE_PREFIX } from "./constants.ts";
import { sha256 } from "./merkle.ts";

/**
 * A node of a namespaced Merkle tree: `minNamespace || maxNamespace || sha256 digest`
 * (29 + 29 + 32 = 90 bytes), so every node states the range of namespaces beneath it.
 */
export const NMT_NODE_SIZE = 2 * NAMESPACE_SIZE + 32;

const LEAF = new Uint8Array([LEAF_PREFIX]);
const NODE = new Uint8Array([NODE_PREFIX]);
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
  const ns = namespacedData.subarray(0, NAMESPACE_SIZE);
  const out = new Uint8Array(NMT_NODE_SIZE);
  out.set(ns, 0);
  out.set(ns, NAMESPACE_SIZE);
  out.set(sha256(LEAF, namespacedData), 2 * NAMESPACE_SIZE);
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
  const max = compare(rightMin, PARITY_NAMESPACE) === 0 ? leftMax : compare(leftMax, rightMax) >= 0 ? leftMax : rightMax;
  const out = new Uint8Array(NMT_NODE_SIZE);
  out.set(min, 0);
  out.set(max, NAMESPACE_SIZE);
  out.set(sha256(NODE, left, right), 2 * NAMESPACE_SIZE);
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
  if (leafHashes.length === 1) return leafHashes[0]!;
  let k = 1;
  while (k * 2 < leafHashes.length) k *= 2;
  return hashNode(nmtRootOfHashes(leafHashes.slice(0, k)), nmtRootOfHashes(leafHashes.slice(k)));
}

/** Root of the NMT whose leaves are the given namespaced data items (`ns || payload`). */
export function nmtRoot(namespacedLeaves: readonly Uint8Array[]): Uint8Array {
  return nmtRootOfHashes(namespacedLeaves.map(hashLeaf));
}
