import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  blobMinSquareSize,
  createCommitment,
  merkleMountainRangeSizes,
  subtreeRoots,
  subtreeWidth,
} from "../../da/celestia/commitment.ts";
import { parseNamespace } from "../../da/celestia/namespace.ts";
import {
  blobToShares,
  firstShareCapacity,
  CONTINUATION_SHARE_CAPACITY,
  sparseSharesNeeded,
} from "../../da/celestia/shares.ts";
import { InvalidInputError } from "../../protocol/errors.ts";

// Hand-written reference pieces, straight from the definitions (not the production helpers), so
// the multi-share cases check the production code against the spec rather than against itself.
const H = (...parts: (Uint8Array | number[])[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(Uint8Array.from(p));
  return new Uint8Array(h.digest());
};
const cat = (...parts: (Uint8Array | number[])[]) => Buffer.concat(parts.map((p) => Uint8Array.from(p)));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const ns = parseNamespace("0x76657273617475730001"); // version 0, user id "versatus\0\1"

/** NMT leaf over a share of namespace `ns` (the namespace is prepended again, as Celestia does). */
const nmtLeaf = (share: Uint8Array) => cat(ns, ns, H([0x00], ns, share));
/** Inner NMT node of two same-namespace children. */
const nmtNode = (l: Uint8Array, r: Uint8Array) => cat(ns, ns, H([0x01], l, r));
const rfcLeaf = (item: Uint8Array) => H([0x00], item);
const rfcNode = (l: Uint8Array, r: Uint8Array) => H([0x01], l, r);
function rfcRoot(items: Uint8Array[]): Uint8Array {
  if (items.length === 1) return rfcLeaf(items[0]!);
  let k = 1;
  while (k * 2 < items.length) k *= 2;
  return rfcNode(rfcRoot(items.slice(0, k)), rfcRoot(items.slice(k)));
}

/** Sparse shares built byte by byte from the share format (namespace, info byte, u32 length, data, zero padding). */
function handShares(data: Uint8Array): Uint8Array[] {
  const shares: Uint8Array[] = [];
  let offset = 0;
  let first = true;
  while (offset < data.length || first) {
    const header = first
      ? cat(
          ns,
          [0x01],
          [(data.length >>> 24) & 0xff, (data.length >>> 16) & 0xff, (data.length >>> 8) & 0xff, data.length & 0xff],
        )
      : cat(ns, [0x00]);
    const take = Math.min(512 - header.length, data.length - offset);
    const share = new Uint8Array(512);
    share.set(header, 0);
    share.set(data.subarray(offset, offset + take), header.length);
    shares.push(share);
    offset += take;
    first = false;
  }
  return shares;
}

const filled = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);

describe("da/celestia commitment", () => {
  // vectors/celestia-blob-example.json is a copy of shared/vectors/celestia-blob-example.json (SPEC 5).
  it("reproduces the commitment a Celestia node computed for the shared vector blob", () => {
    const vector = JSON.parse(
      readFileSync(new URL("./vectors/celestia-blob-example.json", import.meta.url), "utf8"),
    ) as {
      namespace: string;
      data: string;
      share_version: number;
      commitment: string;
    };
    const commitment = createCommitment({
      namespace: Buffer.from(vector.namespace, "hex"),
      data: Buffer.from(vector.data, "hex"),
      shareVersion: vector.share_version,
    });
    expect(hex(commitment)).to.equal(vector.commitment.toLowerCase());
  });

  it("lays out a one-share blob as namespace || info 0x01 || u32 length || data || zero padding", () => {
    const data = Buffer.from("hello");
    const [share, ...rest] = blobToShares({ namespace: ns, data, shareVersion: 0 });
    expect(rest).to.have.length(0);
    expect(hex(share!)).to.equal(hex(handShares(data)[0]!));
    expect(hex(share!.subarray(29, 34))).to.equal("0100000005");
    expect(share!.subarray(39).every((b) => b === 0)).to.equal(true);
  });

  it("commits to a one-share blob as the RFC 6962 leaf of its single NMT leaf", () => {
    const data = Buffer.from("hello");
    const expected = rfcLeaf(nmtLeaf(handShares(data)[0]!));
    expect(hex(createCommitment({ namespace: ns, data, shareVersion: 0 }))).to.equal(hex(expected));
  });

  it("fills exactly one share with 478 bytes and spills the 479th into a continuation share", () => {
    expect(firstShareCapacity(0)).to.equal(478);
    expect(CONTINUATION_SHARE_CAPACITY).to.equal(482);
    expect(sparseSharesNeeded(478)).to.equal(1);
    expect(sparseSharesNeeded(479)).to.equal(2);
    expect(sparseSharesNeeded(478 + 482)).to.equal(2);
    expect(sparseSharesNeeded(478 + 482 + 1)).to.equal(3);
    const shares = blobToShares({ namespace: ns, data: filled(479), shareVersion: 0 });
    expect(shares[1]![29]).to.equal(0x00); // continuation: info byte without the sequence-start bit
  });

  it("commits to a two-share blob with subtree width 1: an RFC 6962 root over two NMT leaves", () => {
    const data = filled(479);
    const [a, b] = handShares(data);
    const expected = rfcNode(rfcLeaf(nmtLeaf(a!)), rfcLeaf(nmtLeaf(b!)));
    expect(hex(createCommitment({ namespace: ns, data, shareVersion: 0 }))).to.equal(hex(expected));
  });

  it("commits to a three-share blob splitting the RFC 6962 tree at the largest power of two below 3", () => {
    const data = filled(478 + 482 + 100);
    const [a, b, c] = handShares(data).map(nmtLeaf);
    const expected = rfcNode(rfcNode(rfcLeaf(a!), rfcLeaf(b!)), rfcLeaf(c!));
    expect(hex(createCommitment({ namespace: ns, data, shareVersion: 0 }))).to.equal(hex(expected));
  });

  it("uses subtree width 2 for a 65-share blob: 32 two-leaf NMT roots and one single leaf", () => {
    const data = filled(478 + 64 * 482);
    const shares = handShares(data);
    expect(shares).to.have.length(65);
    expect(subtreeWidth(65)).to.equal(2);
    const roots: Uint8Array[] = [];
    for (let i = 0; i < 64; i += 2) roots.push(nmtNode(nmtLeaf(shares[i]!), nmtLeaf(shares[i + 1]!)));
    roots.push(nmtLeaf(shares[64]!));
    expect(subtreeRoots({ namespace: ns, data, shareVersion: 0 }).map(hex)).to.deep.equal(roots.map(hex));
    expect(hex(createCommitment({ namespace: ns, data, shareVersion: 0 }))).to.equal(hex(rfcRoot(roots)));
  });

  it("computes SubTreeWidth as celestia-app does (threshold 64, capped by the blob's min square)", () => {
    const cases: [number, number][] = [
      [1, 1],
      [2, 1],
      [64, 1],
      [65, 2],
      [128, 2],
      [129, 4],
      [256, 4],
      [257, 8],
      [4096, 64],
      [5000, 128],
    ];
    for (const [shares, width] of cases) expect(subtreeWidth(shares), `${shares} shares`).to.equal(width);
    // With a small threshold the min square size is what limits the width.
    expect(subtreeWidth(3, 1)).to.equal(2);
    expect(subtreeWidth(17, 1)).to.equal(8);
    expect(blobMinSquareSize(1)).to.equal(1);
    expect(blobMinSquareSize(5)).to.equal(4);
    expect(blobMinSquareSize(17)).to.equal(8);
  });

  it("splits shares into Merkle mountain ranges of the subtree width, then decreasing powers of two", () => {
    expect(merkleMountainRangeSizes(11, 4)).to.deep.equal([4, 4, 2, 1]);
    expect(merkleMountainRangeSizes(7, 8)).to.deep.equal([4, 2, 1]);
    expect(merkleMountainRangeSizes(64, 8)).to.deep.equal(Array(8).fill(8));
    expect(merkleMountainRangeSizes(65, 2)).to.deep.equal([...Array(32).fill(2), 1]);
  });

  it("places the signer after the sequence length in share version 1", () => {
    const signer = new Uint8Array(20).fill(0xaa);
    const data = filled(459);
    const shares = blobToShares({ namespace: ns, data, shareVersion: 1, signer });
    expect(firstShareCapacity(1)).to.equal(458);
    expect(shares).to.have.length(2);
    expect(shares[0]![29]).to.equal((1 << 1) | 1);
    expect(hex(shares[0]!.subarray(34, 54))).to.equal("aa".repeat(20));
    expect(shares[1]![29]).to.equal(1 << 1);
  });

  it("gives different commitments for different namespaces and data", () => {
    const other = parseNamespace("0x0102");
    const data = filled(1000);
    const a = hex(createCommitment({ namespace: ns, data, shareVersion: 0 }));
    expect(hex(createCommitment({ namespace: other, data, shareVersion: 0 }))).to.not.equal(a);
    expect(hex(createCommitment({ namespace: ns, data: filled(1001), shareVersion: 0 }))).to.not.equal(a);
  });

  it("rejects empty blobs, reserved namespaces and unknown share versions", () => {
    expect(() => createCommitment({ namespace: ns, data: new Uint8Array(), shareVersion: 0 })).to.throw(
      InvalidInputError,
    );
    expect(() => parseNamespace("0x00")).to.throw(InvalidInputError, /reserved/);
    expect(() => parseNamespace(`ff${"00".repeat(28)}`)).to.throw(InvalidInputError);
    expect(() => createCommitment({ namespace: ns, data: filled(3), shareVersion: 2 })).to.throw(InvalidInputError);
  });

  it("parses a namespace from 29 hex bytes, base64, or the short version-0 user id", () => {
    const full = parseNamespace(`0x${"00".repeat(19)}76657273617475730001`);
    expect(hex(full)).to.equal(hex(ns));
    expect(hex(parseNamespace(Buffer.from(ns).toString("base64")))).to.equal(hex(ns));
  });
});
