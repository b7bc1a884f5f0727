import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { bytesToHex, hexToBytes, isHex } from "viem";
import { InvalidInputError } from "../protocol/errors.ts";

/**
 * The libp2p identity of a node (its peer id is derived from it). Callers persist it so the peer
 * id, and thus the operator's binding, survives restarts. Stored as the libp2p protobuf encoding
 * of an Ed25519 private key, as 0x-hex text in a file readable by the owner only.
 */

/** A fresh Ed25519 peer key, protobuf-encoded. */
export async function generatePeerKey(): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair("Ed25519"));
}

/** Parses a peer key given as protobuf bytes or 0x-hex (or bare hex) of them. */
export function parsePeerKey(key: Uint8Array | string, field = "peerKey"): PrivateKey {
  let bytes: Uint8Array;
  if (typeof key === "string") {
    const text = key.trim();
    const hex = (text.startsWith("0x") ? text : `0x${text}`) as `0x${string}`;
    if (!isHex(hex) || hex.length < 4 || hex.length % 2 !== 0) {
      throw new InvalidInputError(field, "a libp2p private key as protobuf bytes or their hex");
    }
    bytes = hexToBytes(hex);
  } else {
    bytes = key;
  }
  try {
    return privateKeyFromProtobuf(bytes);
  } catch (error) {
    throw new InvalidInputError(field, "a libp2p private key as protobuf bytes or their hex", {
      details: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * The peer key stored in `file`, or a new one written there (mode 0600, parent directories
 * created) when the file does not exist. Returns the protobuf bytes.
 */
export async function loadOrCreatePeerKey(file: string): Promise<Uint8Array> {
  if (existsSync(file)) {
    const key = parsePeerKey(readFileSync(file, "utf8"), `peer key file ${file}`);
    return privateKeyToProtobuf(key);
  }
  const key = await generatePeerKey();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${bytesToHex(key)}\n`, { mode: 0o600, flag: "wx" });
  return key;
}
