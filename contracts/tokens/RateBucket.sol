// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice An OmniToken's mint rate limit for one origin chain (only through {RateBucketLib}):
///   [  0.. 95] capacity   uint96  most mintable at once, and the refill per window
///   [ 96..191] available  uint96  mintable at `updatedAt`
///   [192..231] updatedAt  uint40  block timestamp of the last write
///   [232..255] window     uint24  seconds to refill from empty to full (>= 1)
/// The zero bucket means the origin was never allowed.
type RateBucket is uint256;

/// @title RateBucketLib
/// @notice Typed reads and writes of {RateBucket} (the Slot0 model: no raw shifts at call sites).
library RateBucketLib {
    uint256 private constant AVAILABLE_SHIFT = 96;
    uint256 private constant UPDATED_SHIFT = 192;
    uint256 private constant WINDOW_SHIFT = 232;
    /// @dev The fields {withAvailable} keeps: capacity and window.
    uint256 private constant KEPT_MASK = uint256(type(uint96).max) | (uint256(type(uint24).max) << WINDOW_SHIFT);

    /// @dev `capacity_` and `available_` < 2^96, `updatedAt_` < 2^40, `window_` < 2^24.
    function pack(
        uint256 capacity_,
        uint256 available_,
        uint256 updatedAt_,
        uint256 window_
    ) internal pure returns (RateBucket) {
        return
            RateBucket.wrap(
                capacity_ | (available_ << AVAILABLE_SHIFT) | (updatedAt_ << UPDATED_SHIFT) | (window_ << WINDOW_SHIFT)
            );
    }

    function isEmpty(RateBucket b) internal pure returns (bool) {
        return RateBucket.unwrap(b) == 0;
    }

    function capacity(RateBucket b) internal pure returns (uint256) {
        return uint96(RateBucket.unwrap(b));
    }

    function available(RateBucket b) internal pure returns (uint256) {
        return uint96(RateBucket.unwrap(b) >> AVAILABLE_SHIFT);
    }

    function updatedAt(RateBucket b) internal pure returns (uint256) {
        return uint40(RateBucket.unwrap(b) >> UPDATED_SHIFT);
    }

    function window(RateBucket b) internal pure returns (uint256) {
        return RateBucket.unwrap(b) >> WINDOW_SHIFT;
    }

    /// @dev `b` with `available_` (< 2^96) left at `updatedAt_` (< 2^40); capacity and window kept.
    function withAvailable(RateBucket b, uint256 available_, uint256 updatedAt_) internal pure returns (RateBucket) {
        return
            RateBucket.wrap(
                (RateBucket.unwrap(b) & KEPT_MASK) | (available_ << AVAILABLE_SHIFT) | (updatedAt_ << UPDATED_SHIFT)
            );
    }
}
