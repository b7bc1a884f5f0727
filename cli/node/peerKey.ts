import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { InvalidInputError } from "../../protocol/errors.ts";

/**
 * The node's libp2p identity, kept in `network.peerKeyFile` (hex of the protobuf-encoded
 * private key, mode 0600) so the peer id survives restarts; created (Ed25519) on first start.
 * Returns the protobuf bytes, as `startOperatorNetwork({ peerKey })` takes them.
 */
export async function loadOrCreatePeerKey(file: string): Promise<Uint8Array> {
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8").trim().replace(/^0x/, "");
    if (!/^([0-9a-fA-F]{2})+$/.test(text))
      throw new InvalidInputError(
        `network.peerKeyFile ${file}`,
        "a hex-encoded libp2p private key (delete it to make a new one)",
      );
    const bytes = Uint8Array.from(Buffer.from(text, "hex"));
    try {
      privateKeyFromProtobuf(bytes);
    } catch (cause) {
      throw new InvalidInputError(`network.peerKeyFile ${file}`, "a libp2p private key (protobuf, hex)", { cause });
    }
    return bytes;
  }
  const bytes = privateKeyToProtobuf(await generateKeyPair("Ed25519"));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${Buffer.from(bytes).toString("hex")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return bytes;
}
