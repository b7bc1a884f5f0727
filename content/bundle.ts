import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { unixfs } from "@helia/unixfs";
import type { Blockstore } from "interface-blockstore";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { createHash } from "node:crypto";
import { InvalidInputError } from "../protocol/errors.ts";

/**
 * How a resource becomes blocks, in one place: the publisher computes the CID with these and the
 * gateway that imports the upload gets the same one (the publisher compares them).
 *
 * - a static bundle: a UnixFS directory (CIDv1, raw leaves, sha2-256), so its root is dag-pb and
 *   its digest is what a NameRegistry `bundle` content id holds;
 * - a program package: one raw block, so its CID carries the programId (protocol/content.ts).
 */

export type BundleEntry = { path: string; content: Uint8Array };

/** Most bytes one upload may hold (the gateway's limit and the publisher's). */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

const RAW = 0x55;
const SHA2_256 = 0x12;

/** Imports the entries as one directory; returns the directory's CID. */
export async function importBundle(
  blockstore: Pick<Blockstore, "get" | "put" | "has">,
  entries: BundleEntry[],
): Promise<CID> {
  if (entries.length === 0) throw new InvalidInputError("bundle", "at least one file");
  const fs = unixfs({ blockstore });
  let root: CID | undefined;
  const source = entries
    .slice()
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => ({ path: e.path, content: e.content }));
  for await (const result of fs.addAll(source, { wrapWithDirectory: true, cidVersion: 1, rawLeaves: true }))
    if (result.path === "") root = CID.decode(result.cid.bytes);
  if (!root) throw new InvalidInputError("bundle", "files that import into one directory");
  return root;
}

/** The CID of one raw block (a program package): CIDv1 raw sha2-256. */
export function rawCid(bytes: Uint8Array): CID {
  return CID.createV1(RAW, Digest.create(SHA2_256, createHash("sha256").update(bytes).digest()));
}

/** The files under `path` (a file: itself), with paths relative to it, `/`-separated. */
export async function readBundle(path: string): Promise<BundleEntry[]> {
  const info = await stat(path);
  if (info.isFile()) return [{ path: path.split(sep).pop()!, content: await readFile(path) }];
  const entries: BundleEntry[] = [];
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const content = await readFile(full);
        total += content.length;
        if (total > MAX_BUNDLE_BYTES)
          throw new InvalidInputError(`bundle ${path}`, `at most ${MAX_BUNDLE_BYTES} bytes in all`);
        entries.push({ path: relative(path, full).split(sep).join("/"), content });
      }
    }
  };
  await walk(path);
  if (entries.length === 0) throw new InvalidInputError(`bundle ${path}`, "a directory with at least one file");
  return entries;
}
