import { SUBTREE_ROOT_THRESHOLD } from "./constants.ts";
import { rfc6962Root } from "./merkle.ts";
import { hashLeafParts, nmtRootOfHashes } from "./nmt.ts";
import { blobToShares, type BlobInput } from "./shares.ts";

export function roundUpPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function roundDownPowerOfTwo(n: number): number {
  if (n < 1) throw new RangeError(`roundDownPowerOfTwo needs n >= 1, got ${n}`);
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** Width of the smallest square a blob of `shareCount` shares fits in (celestia-app `BlobMinSquareSize`). */
export function blobMinSquareSize(shareCount: number): number {
  return roundUpPowerOfTwo(Math.ceil(Math.sqrt(shareCount)));
}

/**
 * Largest subtree the commitment uses (celestia-app `SubTreeWidth`, ADR-013): enough that a blob
 * has at most SUBTREE_ROOT_THRESHOLD subtree roots, a power of two, and never wider than the
 * blob's min square, so the commitment does not depend on the square the block producer picks.
 */
export function subtreeWidth(shareCount: number, threshold = SUBTREE_ROOT_THRESHOLD): number {
  const perThreshold = roundUpPowerOfTwo(Math.ceil(shareCount / threshold));
  return Math.min(perThreshold, blobMinSquareSize(shareCount));
}

/**
 * Sizes of the perfect subtrees a blob's shares split into (celestia-app
 * `MerkleMountainRangeSizes`): full trees of `maxTreeSize` first, then decreasing powers of two.
 */
export function merkleMountainRangeSizes(totalSize: number, maxTreeSize: number): number[] {
  const sizes: number[] = [];
  let remaining = totalSize;
  while (remaining > 0) {
    const size = remaining >= maxTreeSize ? maxTreeSize : roundDownPowerOfTwo(remaining);
    sizes.push(size);
    remaining -= size;
  }
  return sizes;
}

/** Subtree roots of a blob (one NMT root per mountain), exposed for proofs and tests. */
export function subtreeRoots(blob: BlobInput): Uint8Array[] {
  const shares = blobToShares(blob);
  const width = subtreeWidth(shares.length);
  const roots: Uint8Array[] = [];
  let cursor = 0;
  for (const size of merkleMountainRangeSizes(shares.length, width)) {
    // The namespace is prepended again although the share starts with it: Celestia's NMT
    // wrapper does the same so that parity shares (which do not start with a namespace) can be
    // pushed with the parity namespace. The commitment must hash exactly what the square hashes.
    const leafHashes = shares.slice(cursor, cursor + size).map((share) => hashLeafParts(blob.namespace, share));
    roots.push(nmtRootOfHashes(leafHashes));
    cursor += size;
  }
  return roots;
}

/**
 * The blob's share commitment (celestia-app `inclusion.CreateCommitment`): the RFC 6962 root over
 * the NMT roots of its subtrees. This is what `blob.Get`/`blob.GetProof` take to address a blob.
 */
export function createCommitment(blob: BlobInput): Uint8Array {
  return rfc6962Root(subtreeRoots(blob));
}
