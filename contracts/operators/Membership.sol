// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice An operator's membership in the owned operator set (only through {MembershipLib}):
///   [0..7] index   uint8  its operator index (stable: never recycled)
///   [8]    known   bool   it was ever added (so `index` is its own)
///   [9]    active  bool   it may sign now
type Membership is uint256;

/// @title MembershipLib
/// @notice Typed reads and writes of {Membership} (the Slot0 model: no raw shifts at call sites).
library MembershipLib {
    uint256 private constant KNOWN = 1 << 8;
    uint256 private constant ACTIVE = 1 << 9;

    /// @dev A first membership: `index_` (< 256), known, not yet active.
    function known(uint256 index_) internal pure returns (Membership) {
        return Membership.wrap(index_ | KNOWN);
    }

    function index(Membership m) internal pure returns (uint8) {
        return uint8(Membership.unwrap(m));
    }

    function isKnown(Membership m) internal pure returns (bool) {
        return Membership.unwrap(m) & KNOWN != 0;
    }

    function isActive(Membership m) internal pure returns (bool) {
        return Membership.unwrap(m) & ACTIVE != 0;
    }

    /// @dev `m` active or not; index and known kept.
    function withActive(Membership m, bool active) internal pure returns (Membership) {
        uint256 raw = Membership.unwrap(m);
        return Membership.wrap(active ? raw | ACTIVE : raw & ~ACTIVE);
    }
}
