// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice An accepted token's entry in the oracle's asset table (only through {AssetEntryLib}):
///   [  0.. 23] assetId  uint24  the token's id (>= 1)
///   [ 24..119] fee      uint96  current protocol fee of a request in this token
/// The zero entry means the token is not accepted (an accepted token's id is never 0).
type AssetEntry is uint256;

/// @title AssetEntryLib
/// @notice Typed reads and writes of {AssetEntry} (the Slot0 model: no raw shifts at call sites).
library AssetEntryLib {
    uint256 private constant FEE_SHIFT = 24;

    /// @dev `assetId_` < 2^24, `fee_` < 2^96.
    function pack(uint256 assetId_, uint256 fee_) internal pure returns (AssetEntry) {
        return AssetEntry.wrap(assetId_ | (fee_ << FEE_SHIFT));
    }

    function isAccepted(AssetEntry e) internal pure returns (bool) {
        return AssetEntry.unwrap(e) != 0;
    }

    function assetId(AssetEntry e) internal pure returns (uint256) {
        return uint24(AssetEntry.unwrap(e));
    }

    function fee(AssetEntry e) internal pure returns (uint256) {
        return uint96(AssetEntry.unwrap(e) >> FEE_SHIFT);
    }

    /// @dev `e` with the fee replaced (`fee_` < 2^96), the asset id kept.
    function withFee(AssetEntry e, uint256 fee_) internal pure returns (AssetEntry) {
        return pack(assetId(e), fee_);
    }
}
