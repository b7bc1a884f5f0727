import { MemoryBlockstore } from "blockstore-core";
import { InvalidInputError } from "../protocol/errors.ts";
import { importBundle, rawCid, readBundle, type BundleEntry } from "./bundle.ts";

/**
 * `versatus content publish`: uploads a static bundle (a directory or one file) or a program
 * package (`--raw`, a .vpkg) to a gateway that accepts uploads; the gateway's node holds it and
 * the persist nodes the placement rule picks fetch it. The CID is computed here first, with the
 * same importer, and the gateway's answer must match it.
 */
export async function publishContent(options: {
  path: string;
  gateway: string;
  raw?: boolean;
}): Promise<{ cid: string; files: number; bytes: number }> {
  let expected: string;
  let body: unknown;
  let files: number;
  let bytes: number;
  if (options.raw) {
    const [entry] = await readBundle(options.path);
    const content = entry!.content;
    expected = rawCid(content).toString();
    body = { raw: Buffer.from(content).toString("base64") };
    files = 1;
    bytes = content.length;
  } else {
    const entries: BundleEntry[] = await readBundle(options.path);
    expected = (await importBundle(new MemoryBlockstore(), entries)).toString();
    body = { files: entries.map((e) => ({ path: e.path, base64: Buffer.from(e.content).toString("base64") })) };
    files = entries.length;
    bytes = entries.reduce((n, e) => n + e.content.length, 0);
  }
  const url = `${options.gateway.replace(/\/+$/, "")}/content`;
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  const answer = (await response.json().catch(() => ({}))) as { cid?: string; error?: string };
  if (response.status !== 201)
    throw new InvalidInputError(`gateway ${url}`, "a gateway with uploads on (content.gateway.upload)", {
      details: `HTTP ${response.status}: ${answer.error ?? "no error message"}`,
    });
  if (answer.cid !== expected)
    throw new InvalidInputError(`gateway ${url}`, `the CID computed here (${expected})`, {
      details: `got ${answer.cid}`,
    });
  return { cid: expected, files, bytes };
}
