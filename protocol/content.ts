import { createHash } from "node:crypto";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import type { Hex } from "viem";

/**
 * Content caching (issue 17 item 3, docs/content.md), as pure functions: which persist nodes hold a
 * resource in an epoch, when a node may drop one, and how a NameRegistry content id (bytes32)
 * maps to a CID. No I/O and no clock: every node that sees the same persist set and the same
 * epoch picks the same holders.
 *
 * - **Epoch**: `floor(nowMs / rotationMs)`; the holders change when it does (rotation).
 * - **Holders of a CID in an epoch**: the `replicas` persist nodes closest by XOR distance between
 *   `sha256(peerId)` and `sha256(cid ‖ ":" ‖ epoch)` (the salt moves the resource around the ring
 *   every epoch). Fewer persist nodes than `replicas`: all of them.
 * - **Acquire**: a holder that does not have the resource fetches it from anyone who has.
 * - **Drop**: a node that is not a holder drops a resource only when every holder of the current
 *   epoch reports having it, so the count of nodes with it never falls below `replicas` (as long as
 *   the holders stay up; a holder that dies before the handover leaves the old copies in place).
 */

const SHA2_256 = 0x12;
const RAW = 0x55;
const DAG_PB = 0x70;

/** Content kinds of INameRegistry (1 program, 2 static bundle). */
export const CONTENT_KIND = { program: 1, bundle: 2 } as const;

/** The rotation epoch of `nowMs`. */
export function placementEpoch(nowMs: number, rotationMs: number): number {
  if (!(rotationMs > 0)) throw new RangeError(`rotationMs must be positive (got ${rotationMs})`);
  return Math.floor(nowMs / rotationMs);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

function xorCompare(a: Buffer, b: Buffer, key: Buffer): number {
  for (let i = 0; i < key.length; i++) {
    const da = a[i]! ^ key[i]!;
    const db = b[i]! ^ key[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/**
 * The `replicas` holders of `cid` in `epoch` among `persistNodes` (peer ids), closest first.
 * Duplicates in `persistNodes` count once.
 */
export function contentHolders(
  cid: string,
  persistNodes: readonly string[],
  epoch: number,
  replicas: number,
): string[] {
  if (!Number.isInteger(replicas) || replicas < 1) throw new RangeError(`replicas must be ≥ 1 (got ${replicas})`);
  const key = sha256(`${cid}:${epoch}`);
  const ids = new Map([...new Set(persistNodes)].map((peer) => [peer, sha256(peer)]));
  return [...ids.entries()]
    .sort(([pa, a], [pb, b]) => xorCompare(a, b, key) || (pa < pb ? -1 : pa > pb ? 1 : 0))
    .slice(0, replicas)
    .map(([peer]) => peer);
}

/**
 * Whether `self` may drop `cid` now: it is not one of the epoch's holders and every one of them
 * has it (`has(peer)`, from their latest reports). A node that is a holder never drops.
 */
export function mayDrop(options: {
  cid: string;
  self: string;
  persistNodes: readonly string[];
  epoch: number;
  replicas: number;
  has: (peer: string) => boolean;
}): boolean {
  const holders = contentHolders(options.cid, [...options.persistNodes, options.self], options.epoch, options.replicas);
  if (holders.includes(options.self)) return false;
  return holders.every((peer) => options.has(peer));
}

/**
 * The CID a NameRegistry content id points at: a program package is one raw block whose sha256 is
 * the programId (`programIdOf`), so its CID is CIDv1 raw sha2-256 of the id; a static bundle is a
 * UnixFS directory, CIDv1 dag-pb sha2-256.
 */
export function cidOfContentId(kind: number, contentId: Hex): CID {
  const digest = Digest.create(SHA2_256, Buffer.from(contentId.slice(2), "hex"));
  if (kind === CONTENT_KIND.program) return CID.createV1(RAW, digest);
  if (kind === CONTENT_KIND.bundle) return CID.createV1(DAG_PB, digest);
  throw new RangeError(`content kind ${kind} has no CID (1 program, 2 bundle)`);
}

/** The NameRegistry content id and kind of a CID (the inverse of cidOfContentId); undefined when it has none. */
export function contentIdOfCid(cid: CID): { kind: number; contentId: Hex } | undefined {
  if (cid.version !== 1 || cid.multihash.code !== SHA2_256) return undefined;
  const contentId = `0x${Buffer.from(cid.multihash.digest).toString("hex")}` as Hex;
  if (cid.code === RAW) return { kind: CONTENT_KIND.program, contentId };
  if (cid.code === DAG_PB) return { kind: CONTENT_KIND.bundle, contentId };
  return undefined;
}

/** The CID of a program package (a raw block): `programId` is its sha256. */
export const programCid = (programId: Hex): CID => cidOfContentId(CONTENT_KIND.program, programId);

/** Whether `bytes` hash to `cid` (sha2-256 only: a CID hashed otherwise is refused). */
export function blockMatchesCid(cid: { multihash: { code: number; digest: Uint8Array } }, bytes: Uint8Array): boolean {
  if (cid.multihash.code !== SHA2_256) return false;
  const digest = createHash("sha256").update(bytes).digest();
  return Buffer.compare(digest, Buffer.from(cid.multihash.digest)) === 0;
}
