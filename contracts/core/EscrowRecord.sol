// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice A request's escrow packed into one storage slot, so a request costs a single new slot
/// (read and written only through {EscrowRecordLib}). Layout of an open (or refunded) request,
/// from the least significant bit:
///   [  0..127] amount       uint128  escrowed units of the asset
///   [128..167] requestedAt  uint40   block timestamp of the request (deadline)
///   [168..191] ttl          uint24   seconds until the deadline (<= MAX_TTL < 2^24)
///   [192..223] accountId    uint32   requester, through the oracle's account table
///   [224..247] assetId      uint24   0 = ETH, else the token's id in the oracle's asset table
///   [248..255] status       uint8    IExecutableOracle.RequestStatus
/// Once a result is ingested the escrow is spent and the same slot (which the settlement rewrites
/// anyway) keeps what disputes need instead, at no extra storage write:
///   [  0..207] commitment   uint208  ResultTypedData.signersCommitment of the Result and its signers
///   [208..247] ingestedAt   uint40   block timestamp of the ingestion (the dispute window starts there)
///   [248..255] status       uint8    Ingested
/// The zero record is an unknown request.
type EscrowRecord is uint256;

/// @title EscrowRecordLib
/// @notice Typed reads and writes of {EscrowRecord} (Uniswap v4-core's Slot0 is the model: one
/// value type, small pure accessors, no raw shifts at the call sites).
library EscrowRecordLib {
    uint256 private constant STATUS_SHIFT = 248;
    uint256 private constant STATUS_CLEAR_MASK = ~(uint256(0xff) << STATUS_SHIFT);
    uint256 private constant INGESTED_AT_SHIFT = 208;

    /// @dev An open-form record. Every field must fit its width (the oracle checks amount <= 2^128-1,
    /// ttl <= MAX_TTL; accountId, assetId and status are bounded by construction).
    function pack(
        uint256 amount_,
        uint256 requestedAt_,
        uint256 ttl_,
        uint256 accountId_,
        uint256 assetId_,
        uint256 status_
    ) internal pure returns (EscrowRecord) {
        return
            EscrowRecord.wrap(
                amount_ |
                    (requestedAt_ << 128) |
                    (ttl_ << 168) |
                    (accountId_ << 192) |
                    (assetId_ << 224) |
                    (status_ << STATUS_SHIFT)
            );
    }

    /// @dev Whether no request was ever recorded in this slot.
    function isEmpty(EscrowRecord record) internal pure returns (bool) {
        return EscrowRecord.unwrap(record) == 0;
    }

    function amount(EscrowRecord record) internal pure returns (uint256) {
        return uint128(EscrowRecord.unwrap(record));
    }

    function requestedAt(EscrowRecord record) internal pure returns (uint256) {
        return uint40(EscrowRecord.unwrap(record) >> 128);
    }

    function ttl(EscrowRecord record) internal pure returns (uint256) {
        return uint24(EscrowRecord.unwrap(record) >> 168);
    }

    /// @dev requestedAt + ttl (no overflow: 40 + 24 bits).
    function deadline(EscrowRecord record) internal pure returns (uint256) {
        uint256 raw = EscrowRecord.unwrap(record);
        return uint256(uint40(raw >> 128)) + uint24(raw >> 168);
    }

    function accountId(EscrowRecord record) internal pure returns (uint256) {
        return uint32(EscrowRecord.unwrap(record) >> 192);
    }

    function assetId(EscrowRecord record) internal pure returns (uint256) {
        return uint24(EscrowRecord.unwrap(record) >> 224);
    }

    function status(EscrowRecord record) internal pure returns (uint8) {
        return uint8(EscrowRecord.unwrap(record) >> STATUS_SHIFT);
    }

    /// @dev `record` with its status replaced (`newStatus` < 256); every other field kept.
    function withStatus(EscrowRecord record, uint256 newStatus) internal pure returns (EscrowRecord) {
        return EscrowRecord.wrap((EscrowRecord.unwrap(record) & STATUS_CLEAR_MASK) | (newStatus << STATUS_SHIFT));
    }

    /// @dev The post-ingestion record: the signers commitment (its low 208 bits, see
    /// ResultTypedData.signersCommitment), the ingestion time (40 bits: year 36812) and the status.
    function ingested(
        uint256 ingestedStatus,
        uint256 ingestedAt_,
        bytes32 commitment_
    ) internal pure returns (EscrowRecord) {
        return
            EscrowRecord.wrap(
                uint256(uint208(uint256(commitment_))) |
                    (uint256(uint40(ingestedAt_)) << INGESTED_AT_SHIFT) |
                    (ingestedStatus << STATUS_SHIFT)
            );
    }

    /// @dev Ingestion time of a post-ingestion record.
    function ingestedAt(EscrowRecord record) internal pure returns (uint256) {
        return uint40(EscrowRecord.unwrap(record) >> INGESTED_AT_SHIFT);
    }

    /// @dev Signers commitment (low 208 bits) of a post-ingestion record.
    function commitment(EscrowRecord record) internal pure returns (bytes32) {
        return bytes32(uint256(uint208(EscrowRecord.unwrap(record))));
    }
}
