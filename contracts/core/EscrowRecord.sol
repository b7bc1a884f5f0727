// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title EscrowRecord
/// @notice Packs a request's escrow into one storage slot, so a request costs a single new slot.
/// @dev Layout, from the least significant bit:
///   [  0..127] amount       uint128  escrowed units of the asset
///   [128..167] requestedAt  uint40   block timestamp of the request (fee lookup, deadline)
///   [168..191] ttl          uint24   seconds until the deadline (<= MAX_TTL < 2^24); once ingested,
///                                   seconds until the ingestion, so `deadline()` reads the
///                                   ingestion time (the dispute window starts there) at no extra
///                                   storage cost
///   [192..223] accountId    uint32   requester, through the oracle's account table
///   [224..247] assetId      uint24   0 = ETH, else the token's id in the oracle's asset table
///   [248..255] status       uint8    IExecutableOracle.RequestStatus
library EscrowRecord {
    uint256 internal constant STATUS_SHIFT = 248;
    uint256 internal constant STATUS_CLEAR_MASK = ~(uint256(0xff) << 248);
    uint256 internal constant TTL_CLEAR_MASK = ~(uint256(0xffffff) << 168);

    function pack(
        uint256 amount_,
        uint256 requestedAt_,
        uint256 ttl_,
        uint256 accountId_,
        uint256 assetId_,
        uint256 status_
    ) internal pure returns (uint256) {
        return
            amount_ |
            (requestedAt_ << 128) |
            (ttl_ << 168) |
            (accountId_ << 192) |
            (assetId_ << 224) |
            (status_ << STATUS_SHIFT);
    }

    function amount(uint256 record) internal pure returns (uint256) {
        return uint128(record);
    }

    function requestedAt(uint256 record) internal pure returns (uint256) {
        return uint40(record >> 128);
    }

    function deadline(uint256 record) internal pure returns (uint256) {
        return uint40(record >> 128) + uint24(record >> 168);
    }

    function accountId(uint256 record) internal pure returns (uint256) {
        return uint32(record >> 192);
    }

    function assetId(uint256 record) internal pure returns (uint256) {
        return uint24(record >> 224);
    }

    function status(uint256 record) internal pure returns (uint8) {
        return uint8(record >> STATUS_SHIFT);
    }

    function withStatus(uint256 record, uint256 newStatus) internal pure returns (uint256) {
        return (record & STATUS_CLEAR_MASK) | (newStatus << STATUS_SHIFT);
    }

    /// @dev Marks the record ingested and keeps the ingestion time in place of the TTL. Callers
    /// settle only before the deadline, so `settledAt - requestedAt <= ttl` fits the field.
    function withIngestion(uint256 record, uint256 ingestedStatus, uint256 settledAt) internal pure returns (uint256) {
        uint256 cleared = record & STATUS_CLEAR_MASK & TTL_CLEAR_MASK;
        return cleared | ((settledAt - requestedAt(record)) << 168) | (ingestedStatus << STATUS_SHIFT);
    }
}
