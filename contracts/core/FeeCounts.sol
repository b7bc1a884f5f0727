// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice One group of a fee ledger (only through {FeeCountsLib}): eight 32-bit signature
/// counts, lane `i` (0..7) in bits [32 i .. 32 i + 31], for operator indices group * 8 + i.
type FeeCounts is uint256;

/// @title FeeCountsLib
/// @notice Typed reads and writes of {FeeCounts} (the Slot0 model: no raw shifts at call sites).
library FeeCountsLib {
    uint256 internal constant LANES = 8;
    uint256 private constant LANE_BITS = 32;

    /// @dev The ledger group of operator index `index`: one slot per eight indices.
    function groupOf(uint256 index) internal pure returns (uint256) {
        return index >> 3;
    }

    /// @dev The lane of operator index `index` in its group's slot.
    function laneOf(uint256 index) internal pure returns (uint256) {
        return index & 7;
    }

    /// @dev The count of lane `lane` (< 8).
    function countAt(FeeCounts c, uint256 lane) internal pure returns (uint256) {
        return uint32(FeeCounts.unwrap(c) >> (LANE_BITS * lane));
    }

    /// @dev A count of one in every lane whose bit is set in `lanes` (an 8-bit mask), 0 elsewhere.
    function oneEach(uint256 lanes) internal pure returns (FeeCounts increments) {
        uint256 raw;
        for (uint256 lane; lane < LANES; ++lane) {
            if (lanes & (1 << lane) != 0) raw |= 1 << (LANE_BITS * lane);
        }
        return FeeCounts.wrap(raw);
    }

    /// @dev `c` plus `increments`, lane by lane. A lane holds 4.29e9 counts before it would carry
    /// into its neighbour: one count per result and operator at one share size and ledger epoch
    /// cannot get there.
    function plus(FeeCounts c, FeeCounts increments) internal pure returns (FeeCounts) {
        unchecked {
            return FeeCounts.wrap(FeeCounts.unwrap(c) + FeeCounts.unwrap(increments));
        }
    }
}
