// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title EscrowRecord
/// @notice Packs a request's escrow into one storage slot, so a request costs a single new slot.
/// @dev Layout of an open (or refunded) request, from the least significant bit:
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
library EscrowRecord {
    uint256 internal constant STATUS_SHIFT = 248;
    uint256 internal constant STATUS_CLEAR_MASK = ~(uint256(0xff) << 248);

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

    /// @dev The post-ingestion record: the signers commitment (208 bits, see
    /// ResultTypedData.signersCommitment), the ingestion time (40 bits: year 36812) and the status.
    function ingested(
        uint256 ingestedStatus,
        uint256 ingestedAt_,
        bytes32 commitment_
    ) internal pure returns (uint256) {
        return
            uint256(uint208(uint256(commitment_))) |
            (uint256(uint40(ingestedAt_)) << 208) |
            (ingestedStatus << STATUS_SHIFT);
    }

    /// @dev Ingestion time of a post-ingestion record.
    function ingestedAt(uint256 record) internal pure returns (uint256) {
        return uint40(record >> 208);
    }

    /// @dev Signers commitment of a post-ingestion record.
    function commitment(uint256 record) internal pure returns (bytes32) {
        return bytes32(uint256(uint208(record)));
    }
}
