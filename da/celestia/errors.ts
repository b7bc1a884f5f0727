/** Recognisers for celestia-node error strings (go-header, celestia-node blob, cosmos-sdk). */

/** celestia-node `blob.ErrBlobNotFound`. */
export const BLOB_NOT_FOUND = "blob: not found";

/** go-header: "header: given height is from the future: networkHeight: 10, requestedHeight: 12". */
const HEIGHT_FROM_FUTURE = /given height is from the future(?::\s*networkHeight:\s*(\d+))?/;

/** cosmos-sdk ErrWrongSequence, raised when two txs of one account race for the same sequence. */
const SEQUENCE_MISMATCH = /account sequence mismatch|incorrect account sequence/i;

export function isBlobNotFound(message: string): boolean {
  return message.includes(BLOB_NOT_FOUND);
}

export function heightFromFuture(message: string): { networkHeight: bigint | undefined } | undefined {
  const match = HEIGHT_FROM_FUTURE.exec(message);
  if (!match) return undefined;
  return { networkHeight: match[1] === undefined ? undefined : BigInt(match[1]) };
}

export function isSequenceMismatch(message: string): boolean {
  return SEQUENCE_MISMATCH.test(message);
}
