// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice One asset's fee schedule (only through {FeeScheduleLib}):
///   [  0.. 95] current    uint96  the fee now
///   [ 96..191] previous   uint96  the fee before the last change
///   [192..255] fromNonce  uint64  first request nonce that pays `current`
/// Keyed by the request nonce, not the time, so a request made in the same second as a change
/// (before or after it in the block) pays exactly the fee it was checked against.
type FeeSchedule is uint256;

/// @title FeeScheduleLib
/// @notice Typed reads and writes of {FeeSchedule} (the Slot0 model: no raw shifts at call sites).
library FeeScheduleLib {
    uint256 private constant PREVIOUS_SHIFT = 96;
    uint256 private constant NONCE_SHIFT = 192;

    /// @dev `current_` and `previous_` < 2^96, `fromNonce_` < 2^64.
    function pack(uint256 current_, uint256 previous_, uint256 fromNonce_) internal pure returns (FeeSchedule) {
        return FeeSchedule.wrap(current_ | (previous_ << PREVIOUS_SHIFT) | (fromNonce_ << NONCE_SHIFT));
    }

    /// @dev Whether no fee was ever scheduled for the asset.
    function isEmpty(FeeSchedule s) internal pure returns (bool) {
        return FeeSchedule.unwrap(s) == 0;
    }

    function current(FeeSchedule s) internal pure returns (uint256) {
        return uint96(FeeSchedule.unwrap(s));
    }

    function previous(FeeSchedule s) internal pure returns (uint256) {
        return uint96(FeeSchedule.unwrap(s) >> PREVIOUS_SHIFT);
    }

    function fromNonce(FeeSchedule s) internal pure returns (uint256) {
        return FeeSchedule.unwrap(s) >> NONCE_SHIFT;
    }

    /// @dev The fee the request with nonce `nonce` pays: `current` from `fromNonce` on, else `previous`.
    function feeAt(FeeSchedule s, uint256 nonce) internal pure returns (uint256) {
        uint256 raw = FeeSchedule.unwrap(s);
        return nonce >= raw >> NONCE_SHIFT ? uint96(raw) : uint96(raw >> PREVIOUS_SHIFT);
    }
}
