import type { Helia } from "@helia/interface";
import type { CID } from "multiformats/cid";

/**
 * Helia and libp2p 3 use multiformats 14; the project's own copy (shared with packages already
 * installed) is 13. The two CID classes are the same on the wire and at run time (Helia accepts
 * any object `CID.asCID` recognises), only their TypeScript types differ: this is the one place
 * that says so.
 */
export type HeliaCid = Parameters<Helia["pins"]["isPinned"]>[0];

export const toHelia = (cid: CID): HeliaCid => cid as unknown as HeliaCid;

/**
 * The root argument of @helia/unixfs reads (cat, ls, stat). Its exporter accepts only a CID of
 * its own multiformats copy (`CID.asCID(x) === x`) or a string path, so reads get the string.
 */
export const unixfsRoot = (cid: CID): HeliaCid => cid.toString() as unknown as HeliaCid;
