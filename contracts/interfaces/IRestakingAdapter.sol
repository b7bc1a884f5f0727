// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IRestakingAdapter
/// @notice Where an operator's stake lives (SPEC 3.5): the registry only asks how much of it stays
/// slashable until a block and takes a slice of it. A native adapter holds the stake itself; a
/// restaking adapter (EigenLayer-shaped) forwards to the restaking protocol.
interface IRestakingAdapter {
    /// @notice The caller is not the registry allowed to slash.
    error Staking_NotSlasher(address caller, address slasher);
    /// @notice A slash needs a non-zero recipient.
    error Staking_ZeroRecipient();

    /// @notice Emitted when `amount` of `operator`'s stake is taken and sent to `recipient`.
    event Slashed(address indexed operator, address indexed recipient, uint256 amount);

    /// @notice The staked asset: address(0) for ETH, else the ERC-20.
    function asset() external view returns (address);

    /// @notice Stake of `operator` that is guaranteed to still be slashable at block `untilBlock`
    /// (stake that may be withdrawn before or at that block is not counted).
    function slashableStake(address operator, uint256 untilBlock) external view returns (uint256);

    /// @notice Takes up to `amount` of `operator`'s stake (bonded first, then unbonding) and sends
    /// it to `recipient`.
    /// @dev Requirements: the caller is the slasher (the registry); `recipient` non-zero.
    /// Emits {Slashed}.
    /// @return slashed What was actually taken: `min(amount, everything the operator still holds)`.
    function slash(address operator, uint256 amount, address recipient) external returns (uint256 slashed);
}
