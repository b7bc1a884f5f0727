// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IOperatorSet
/// @notice The operators whose signatures the InstructionIngestor accepts, and how many it needs.
/// Each operator holds an index (0..255) used for fee accounting. An index may be recycled, but
/// never within one fee-ledger epoch: {indexIn} names at most one holder per index per epoch.
interface IOperatorSet {
    /// @notice `operator` is not an active member of the set.
    error OperatorSet_NotActive(address operator);

    /// @notice Number of distinct operator signatures a result needs.
    function threshold() external view returns (uint256);

    /// @notice Checks that every signer is active and returns the threshold and a bitmap of the
    /// signers' indices (bit i set for index i).
    /// @dev Reverts with {OperatorSet_NotActive} naming the first inactive signer.
    function checkSigners(address[] calldata signers) external view returns (uint256 threshold_, uint256 indexBitmap);

    /// @notice Index of `operator` and whether it was ever a member (active or not).
    function indexOf(address operator) external view returns (bool known, uint8 index);

    /// @notice The index `operator` held during fee-ledger epoch `epoch` (see {IDisperser-LEDGER_EPOCH}),
    /// if it held one then. At most one operator holds an index in any epoch, so a ledger lane of
    /// that epoch belongs to exactly one operator even when indices are recycled.
    function indexIn(address operator, uint256 epoch) external view returns (bool held, uint8 index);

    /// @notice The operator holding each index (index i at position i; a freed index keeps its last
    /// holder until it is given again). Services list operators from it and keep the active ones.
    function allOperators() external view returns (address[] memory);

    /// @notice Whether `operator` is currently active.
    function isActive(address operator) external view returns (bool);
}
