import { bytesToHex, hexToBytes, isHex, type Hex } from "viem";
import { InvalidInputError } from "./errors.ts";

/**
 * daPointer of SPEC 5: `1 byte kind || kind-specific`, posted on chain with every result so that
 * anyone can fetch the execution record.
 *
 *   kind 0 local     || sha256(record bytes)                        (33 bytes)
 *   kind 1 Celestia  || height (u64 big-endian) || share commitment  (41 bytes)
 *   kind 2 EigenDA   || the eigenda-proxy certificate, as returned by POST /put?commitment_mode=standard
 *
 * The Celestia namespace is not in the pointer: it is a network parameter every operator and
 * watcher configures identically (docs/da.md).
 */
export const DaKind = { LOCAL: 0, CELESTIA: 1, EIGENDA: 2 } as const;
export type DaKindCode = (typeof DaKind)[keyof typeof DaKind];
export type DaKindName = "local" | "celestia" | "eigenda";

export const daKindNames: Record<DaKindCode, DaKindName> = { 0: "local", 1: "celestia", 2: "eigenda" };

export type LocalPointer = { kind: "local"; sha256: Hex };
export type CelestiaPointer = { kind: "celestia"; height: bigint; commitment: Hex };
export type EigenDaPointer = { kind: "eigenda"; certificate: Hex };
export type DaPointer = LocalPointer | CelestiaPointer | EigenDaPointer;

const LOCAL_LENGTH = 1 + 32;
const CELESTIA_LENGTH = 1 + 8 + 32;
const UINT64_MAX = (1n << 64n) - 1n;
/** A certificate far beyond this is not something eigenda-proxy produces; keep pointers postable. */
export const MAX_EIGENDA_CERTIFICATE_BYTES = 64 * 1024;

function checkHash(field: string, value: Hex): void {
  if (!isHex(value, { strict: true }) || value.length !== 66) {
    throw new InvalidInputError(field, "32 bytes as 0x-hex", { details: `got ${value}` });
  }
}

export function encodeDaPointer(pointer: DaPointer): Uint8Array {
  switch (pointer.kind) {
    case "local": {
      checkHash("daPointer.sha256", pointer.sha256);
      const out = new Uint8Array(LOCAL_LENGTH);
      out[0] = DaKind.LOCAL;
      out.set(hexToBytes(pointer.sha256), 1);
      return out;
    }
    case "celestia": {
      if (pointer.height < 1n || pointer.height > UINT64_MAX) {
        throw new InvalidInputError("daPointer.height", "a block height in 1..2^64-1", {
          details: `got ${pointer.height}`,
        });
      }
      checkHash("daPointer.commitment", pointer.commitment);
      const out = new Uint8Array(CELESTIA_LENGTH);
      out[0] = DaKind.CELESTIA;
      new DataView(out.buffer).setBigUint64(1, pointer.height, false);
      out.set(hexToBytes(pointer.commitment), 9);
      return out;
    }
    case "eigenda": {
      if (!isHex(pointer.certificate, { strict: true }) || pointer.certificate.length % 2 !== 0) {
        throw new InvalidInputError("daPointer.certificate", "0x-hex bytes");
      }
      const cert = hexToBytes(pointer.certificate);
      if (cert.length === 0 || cert.length > MAX_EIGENDA_CERTIFICATE_BYTES) {
        throw new InvalidInputError("daPointer.certificate", `1..${MAX_EIGENDA_CERTIFICATE_BYTES} bytes`, {
          details: `got ${cert.length} bytes`,
        });
      }
      const out = new Uint8Array(1 + cert.length);
      out[0] = DaKind.EIGENDA;
      out.set(cert, 1);
      return out;
    }
  }
}

export function decodeDaPointer(bytes: Uint8Array | Hex): DaPointer {
  const raw = typeof bytes === "string" ? parseHexPointer(bytes) : bytes;
  if (raw.length === 0) throw new InvalidInputError("daPointer", "at least the kind byte", { details: "got 0 bytes" });
  const kind = raw[0]!;
  switch (kind) {
    case DaKind.LOCAL:
      if (raw.length !== LOCAL_LENGTH) {
        throw new InvalidInputError("daPointer", `${LOCAL_LENGTH} bytes for kind 0 (local)`, {
          details: `got ${raw.length}`,
        });
      }
      return { kind: "local", sha256: bytesToHex(raw.subarray(1)) };
    case DaKind.CELESTIA: {
      if (raw.length !== CELESTIA_LENGTH) {
        throw new InvalidInputError("daPointer", `${CELESTIA_LENGTH} bytes for kind 1 (Celestia)`, {
          details: `got ${raw.length}`,
        });
      }
      const height = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigUint64(1, false);
      if (height === 0n) throw new InvalidInputError("daPointer.height", "a block height >= 1", { details: "got 0" });
      return { kind: "celestia", height, commitment: bytesToHex(raw.subarray(9)) };
    }
    case DaKind.EIGENDA:
      if (raw.length < 2 || raw.length > 1 + MAX_EIGENDA_CERTIFICATE_BYTES) {
        throw new InvalidInputError("daPointer", `2..${1 + MAX_EIGENDA_CERTIFICATE_BYTES} bytes for kind 2 (EigenDA)`, {
          details: `got ${raw.length}`,
        });
      }
      return { kind: "eigenda", certificate: bytesToHex(raw.subarray(1)) };
    default:
      throw new InvalidInputError("daPointer.kind", "0 (local), 1 (Celestia) or 2 (EigenDA)", {
        details: `got ${kind}`,
      });
  }
}

function parseHexPointer(text: string): Uint8Array {
  if (!isHex(text, { strict: true }) || text.length % 2 !== 0) {
    throw new InvalidInputError("daPointer", "0x-prefixed hex bytes", {
      details: `got ${JSON.stringify(text.slice(0, 80))}`,
    });
  }
  return hexToBytes(text as Hex);
}

export function daPointerToHex(pointer: DaPointer): Hex {
  return bytesToHex(encodeDaPointer(pointer));
}
