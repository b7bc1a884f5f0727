import { Buffer } from "node:buffer";
import { InvalidInputError } from "../../protocol/errors.ts";
import { NAMESPACE_ID_SIZE, NAMESPACE_SIZE, NAMESPACE_V0_ZERO_PREFIX_SIZE } from "./constants.ts";

/** Namespace version 255 is reserved for Celestia's own namespaces (parity, tail padding, ...). */
const RESERVED_NAMESPACE_VERSION = 0xff;
/** Version-0 namespaces whose user id is all zero except the last byte are reserved (tx, PFB, ...). */
const LAST_PRIMARY_RESERVED_V0_BYTE = 0xff;

/**
 * Parses a namespace given as hex (with or without 0x) or base64: either the full 29 bytes
 * (version byte + 28-byte id) or, for convenience, just the 1..10 user bytes of a version-0
 * namespace, which are left-padded with zeros the way celestia-node's `share.NewV0Namespace` does.
 */
export function parseNamespace(text: string, field = "namespace"): Uint8Array {
  const trimmed = text.trim();
  const hex = trimmed.startsWith("0x") ? trimmed.slice(2) : trimmed;
  let bytes: Uint8Array;
  if (/^[0-9a-fA-F]+$/.test(hex) && hex.length % 2 === 0) {
    bytes = new Uint8Array(Buffer.from(hex, "hex"));
  } else if (/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    bytes = new Uint8Array(Buffer.from(trimmed, "base64"));
  } else {
    throw new InvalidInputError(field, "a hex or base64 namespace", { details: `got ${JSON.stringify(text)}` });
  }
  if (bytes.length >= 1 && bytes.length <= 10) {
    const full = new Uint8Array(NAMESPACE_SIZE);
    full.set(bytes, NAMESPACE_SIZE - bytes.length);
    bytes = full;
  }
  validateNamespace(bytes, field);
  return bytes;
}

/** Rejects namespaces a Celestia node would refuse for a user blob. */
export function validateNamespace(ns: Uint8Array, field = "namespace"): void {
  if (ns.length !== NAMESPACE_SIZE) {
    throw new InvalidInputError(field, `${NAMESPACE_SIZE} bytes (or 1..10 bytes of a version-0 id)`, {
      details: `got ${ns.length} bytes`,
    });
  }
  const version = ns[0]!;
  if (version === RESERVED_NAMESPACE_VERSION) {
    throw new InvalidInputError(field, "a user namespace", {
      details: "namespace version 255 is reserved by Celestia",
    });
  }
  if (version !== 0) {
    throw new InvalidInputError(field, "namespace version 0", { details: `got version ${version}` });
  }
  const id = ns.subarray(1);
  if (id.subarray(0, NAMESPACE_V0_ZERO_PREFIX_SIZE).some((b) => b !== 0)) {
    throw new InvalidInputError(
      field,
      `a version-0 namespace whose first ${NAMESPACE_V0_ZERO_PREFIX_SIZE} id bytes are zero`,
    );
  }
  const isPrimaryReserved =
    id.subarray(0, NAMESPACE_ID_SIZE - 1).every((b) => b === 0) &&
    id[NAMESPACE_ID_SIZE - 1]! <= LAST_PRIMARY_RESERVED_V0_BYTE;
  if (isPrimaryReserved) {
    throw new InvalidInputError(field, "a user namespace", {
      details: "namespaces 0x00..00 to 0x00..ff are reserved by Celestia",
    });
  }
}

export function namespaceToHex(ns: Uint8Array): string {
  return Buffer.from(ns).toString("hex");
}
