// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice The oracle's hot slot, read and written by every request (only through {OracleStateLib}):
///   [  0.. 63] nonce         uint64  next request nonce (never wraps within a chain's lifetime)
///   [ 64.. 95] accountCount  uint32  requesters given an account id (ids start at 1)
///   [ 96..119] assetCount    uint24  accepted tokens (asset ids start at 1; 0 is ETH)
///   [120..215] ethFee        uint96  current protocol fee of an ETH request, in wei
///   [216..255] unused, zero
type OracleState is uint256;

/// @title OracleStateLib
/// @notice Typed reads and writes of {OracleState} (the Slot0 model: no raw shifts at call sites).
library OracleStateLib {
    uint256 private constant ACCOUNTS_SHIFT = 64;
    uint256 private constant ASSETS_SHIFT = 96;
    uint256 private constant FEE_SHIFT = 120;
    uint256 private constant ACCOUNTS_MASK = uint256(type(uint32).max) << ACCOUNTS_SHIFT;
    uint256 private constant ASSETS_MASK = uint256(type(uint24).max) << ASSETS_SHIFT;
    uint256 private constant FEE_MASK = uint256(type(uint96).max) << FEE_SHIFT;

    function nonce(OracleState s) internal pure returns (uint256) {
        return uint64(OracleState.unwrap(s));
    }

    function accountCount(OracleState s) internal pure returns (uint256) {
        return uint32(OracleState.unwrap(s) >> ACCOUNTS_SHIFT);
    }

    function assetCount(OracleState s) internal pure returns (uint256) {
        return uint24(OracleState.unwrap(s) >> ASSETS_SHIFT);
    }

    function ethFee(OracleState s) internal pure returns (uint256) {
        return uint96(OracleState.unwrap(s) >> FEE_SHIFT);
    }

    /// @dev `s` with the nonce advanced by one. The nonce is 64 bits and advances once per request:
    /// it cannot reach 2^64 on any chain, so the carry never reaches the account count.
    function withNextNonce(OracleState s) internal pure returns (OracleState) {
        unchecked {
            return OracleState.wrap(OracleState.unwrap(s) + 1);
        }
    }

    /// @dev `s` with the account count set (`count` < 2^32; the other fields kept).
    function withAccountCount(OracleState s, uint256 count) internal pure returns (OracleState) {
        return OracleState.wrap((OracleState.unwrap(s) & ~ACCOUNTS_MASK) | (count << ACCOUNTS_SHIFT));
    }

    /// @dev `s` with the asset count set (`count` < 2^24; the other fields kept).
    function withAssetCount(OracleState s, uint256 count) internal pure returns (OracleState) {
        return OracleState.wrap((OracleState.unwrap(s) & ~ASSETS_MASK) | (count << ASSETS_SHIFT));
    }

    /// @dev `s` with the ETH fee set (`fee` < 2^96, checked by the oracle; the other fields kept).
    function withEthFee(OracleState s, uint256 fee) internal pure returns (OracleState) {
        return OracleState.wrap((OracleState.unwrap(s) & ~FEE_MASK) | (fee << FEE_SHIFT));
    }
}
