// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice One index tenure of an operator in the staked registry (only through {TenureLib}):
///   [ 0..  7] index      uint8   the operator index held
///   [ 8.. 47] fromEpoch  uint40  first ledger epoch it was held
///   [48.. 87] toEpoch    uint40  last ledger epoch it was held (`type(uint40).max` while it runs)
type Tenure is uint256;

/// @title TenureLib
/// @notice Typed reads and writes of {Tenure} (the Slot0 model: no raw shifts at call sites).
library TenureLib {
    uint256 private constant FROM_SHIFT = 8;
    uint256 private constant TO_SHIFT = 48;
    uint256 private constant TO_CLEAR_MASK = (uint256(1) << TO_SHIFT) - 1;

    /// @dev `index_` < 256, `from_` and `to_` < 2^40.
    function pack(uint256 index_, uint256 from_, uint256 to_) internal pure returns (Tenure) {
        return Tenure.wrap(index_ | (from_ << FROM_SHIFT) | (to_ << TO_SHIFT));
    }

    function index(Tenure t) internal pure returns (uint8) {
        return uint8(Tenure.unwrap(t));
    }

    function fromEpoch(Tenure t) internal pure returns (uint256) {
        return uint40(Tenure.unwrap(t) >> FROM_SHIFT);
    }

    function toEpoch(Tenure t) internal pure returns (uint256) {
        return uint40(Tenure.unwrap(t) >> TO_SHIFT);
    }

    /// @dev `t` ending at `to_` (< 2^40); index and first epoch kept.
    function withToEpoch(Tenure t, uint256 to_) internal pure returns (Tenure) {
        return Tenure.wrap((Tenure.unwrap(t) & TO_CLEAR_MASK) | (to_ << TO_SHIFT));
    }
}
