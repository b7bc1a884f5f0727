import { InvalidInputError } from "../../protocol/errors.ts";
import {
  NAMESPACE_SIZE,
  SEQUENCE_LEN_BYTES,
  SHARE_INFO_BYTES,
  SHARE_SIZE,
  SIGNER_SIZE,
  SUPPORTED_SHARE_VERSIONS,
} from "./constants.ts";
import { validateNamespace } from "./namespace.ts";

export type BlobInput = {
  namespace: Uint8Array;
  data: Uint8Array;
  shareVersion: number;
  /** 20-byte signer address, required by share version 1 and forbidden otherwise. */
  signer?: Uint8Array;
};

/** Bytes of blob data the first share of a sequence carries (header: ns, info, length, signer). */
export function firstShareCapacity(shareVersion: number): number {
  const signer = shareVersion === 1 ? SIGNER_SIZE : 0;
  return SHARE_SIZE - NAMESPACE_SIZE - SHARE_INFO_BYTES - SEQUENCE_LEN_BYTES - signer;
}

/** Bytes of blob data every continuation share carries (header: ns, info). */
export const CONTINUATION_SHARE_CAPACITY = SHARE_SIZE - NAMESPACE_SIZE - SHARE_INFO_BYTES;

/** Number of shares a blob of `dataLength` bytes occupies. */
export function sparseSharesNeeded(dataLength: number, shareVersion = 0): number {
  const first = firstShareCapacity(shareVersion);
  if (dataLength <= first) return 1;
  return 1 + Math.ceil((dataLength - first) / CONTINUATION_SHARE_CAPACITY);
}

export function validateBlob(blob: BlobInput): void {
  validateNamespace(blob.namespace);
  if (!(SUPPORTED_SHARE_VERSIONS as readonly number[]).includes(blob.shareVersion)) {
    throw new InvalidInputError("shareVersion", `one of ${SUPPORTED_SHARE_VERSIONS.join(", ")}`, {
      details: `got ${blob.shareVersion}`,
    });
  }
  if (blob.data.length === 0)
    throw new InvalidInputError("blob data", "at least one byte (Celestia rejects empty blobs)");
  if (blob.data.length > 0xffffffff)
    throw new InvalidInputError("blob data", "at most 2^32-1 bytes (u32 sequence length)");
  if (blob.shareVersion === 1 && blob.signer?.length !== SIGNER_SIZE) {
    throw new InvalidInputError("signer", `${SIGNER_SIZE} bytes for share version 1`);
  }
  if (blob.shareVersion === 0 && blob.signer !== undefined) {
    throw new InvalidInputError("signer", "no signer for share version 0");
  }
}

/**
 * Splits a blob into its sparse shares: each share is `namespace || info byte || ...`, the first
 * one adding the big-endian u32 data length (and the signer for share version 1); the last share
 * is zero-padded to SHARE_SIZE.
 */
export function blobToShares(blob: BlobInput): Uint8Array[] {
  validateBlob(blob);
  const { namespace, data, shareVersion } = blob;
  const count = sparseSharesNeeded(data.length, shareVersion);
  // One allocation for the whole blob: shares are views into it (zero-filled, so padding is free).
  const buffer = new Uint8Array(count * SHARE_SIZE);
  const view = new DataView(buffer.buffer);
  const shares: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const base = i * SHARE_SIZE;
    const share = buffer.subarray(base, base + SHARE_SIZE);
    share.set(namespace, 0);
    const isSequenceStart = i === 0;
    share[NAMESPACE_SIZE] = (shareVersion << 1) | (isSequenceStart ? 1 : 0);
    let cursor = NAMESPACE_SIZE + SHARE_INFO_BYTES;
    if (isSequenceStart) {
      view.setUint32(base + cursor, data.length, false);
      cursor += SEQUENCE_LEN_BYTES;
      if (shareVersion === 1) {
        share.set(blob.signer!, cursor);
        cursor += SIGNER_SIZE;
      }
    }
    const take = Math.min(SHARE_SIZE - cursor, data.length - offset);
    share.set(data.subarray(offset, offset + take), cursor);
    offset += take;
    shares.push(share);
  }
  return shares;
}
