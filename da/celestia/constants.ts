/**
 * Constants of the Celestia share format and blob commitment (celestia-app `appconsts` and
 * `share` packages). They are consensus rules of the Celestia network, not tuning knobs: a
 * commitment computed with other values would not match what a node computes.
 */

/** Every share is exactly this many bytes. */
export const SHARE_SIZE = 512;
/** Namespace = 1 version byte + 28 id bytes. */
export const NAMESPACE_VERSION_SIZE = 1;
export const NAMESPACE_ID_SIZE = 28;
export const NAMESPACE_SIZE = NAMESPACE_VERSION_SIZE + NAMESPACE_ID_SIZE;
/** Version-0 namespaces must start their id with this many zero bytes (user part is the last 10). */
export const NAMESPACE_V0_ZERO_PREFIX_SIZE = 18;
/** The info byte: `shareVersion << 1 | sequenceStart`. */
export const SHARE_INFO_BYTES = 1;
/** The first share of a sequence carries the sequence (blob data) length as a big-endian u32. */
export const SEQUENCE_LEN_BYTES = 4;
/** Share version 1 carries the 20-byte signer address after the sequence length. */
export const SIGNER_SIZE = 20;
/** Largest share version that fits in the 7 bits of the info byte. */
export const MAX_SHARE_VERSION = 127;
export const SUPPORTED_SHARE_VERSIONS = [0, 1] as const;

/**
 * ADR-013: a blob is committed to with subtree roots of at most `SubtreeRootThreshold` per
 * blob, which bounds the proof size of large blobs.
 */
export const SUBTREE_ROOT_THRESHOLD = 64;

/** Namespaced-hash prefixes (NMT, same as RFC 6962): leaves and inner nodes never collide. */
export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;
