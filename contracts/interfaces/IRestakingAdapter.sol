// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IRestakingAdapter
/// @notice Where an operator's stake lives (SPEC 3.5): the registry only asks how much of it stays
/// slashable until a time and takes a slice of it. Times are seconds (block timestamps), the one
/// unit of the registry, the dispute manager and unbonding (SPEC 3.5). A native adapter holds the stake itself; a
/// restaking adapter (EigenLayer-shaped) forwards to the restaking protocol.
interface IRestakingAdapter {
    /// @notice The caller is not the registry allowed to slash.
    error Staking_NotSlasher(address caller, address slasher);
    /// @notice A slash needs a non-zero recipient.
    error Staking_ZeroRecipient();

    /// @notice Nothing slashed is owed to `account`.
    error Staking_NothingOwed(address account);

    /// @notice Emitted when `operator`'s stake is slashed: `reward` was sent to `rewardRecipient`
    /// and `credited` is owed to `creditRecipient` (see {claimSlashed}).
    event Slashed(
        address indexed operator,
        address indexed rewardRecipient,
        uint256 reward,
        address indexed creditRecipient,
        uint256 credited
    );
    /// @notice Emitted when `rewardRecipient` refused its reward (a reverting receiver or a
    /// blocked token transfer): it is credited instead, for {claimSlashed}.
    event RewardCredited(address indexed rewardRecipient, uint256 reward);
    /// @notice Emitted when `account` takes the slashed stake credited to it.
    event SlashedClaimed(address indexed account, uint256 amount);

    /// @notice The staked asset: address(0) for ETH, else the ERC-20.
    function asset() external view returns (address);

    /// @notice Stake of `operator` that is guaranteed to still be slashable at time `untilTimestamp`
    /// (seconds; stake that may be withdrawn before or at that time is not counted).
    function slashableStake(address operator, uint256 untilTimestamp) external view returns (uint256);

    /// @notice The shortest time (seconds) stake stays slashable after it stops counting in
    /// {slashableStake}: the registry refuses a slashable window longer than this.
    function unbondingPeriod() external view returns (uint256);

    /// @notice Takes up to `amount` of `operator`'s stake (bonded first, then unbonding), sends
    /// up to `reward` of it to `rewardRecipient` at once (credited to it instead if the transfer
    /// fails, emitting {RewardCredited}) and credits the rest to `creditRecipient`, who takes it
    /// with {claimSlashed}.
    /// @dev One call and one transfer per slash: the treasury's share is booked, not sent, which
    /// keeps a slashing proof cheap. Requirements: the caller is the slasher (the registry); both
    /// recipients non-zero. Emits {Slashed}.
    /// @return slashed What was actually taken: `min(amount, everything the operator still holds)`.
    function slash(
        address operator,
        uint256 amount,
        address rewardRecipient,
        uint256 reward,
        address creditRecipient
    ) external returns (uint256 slashed);

    /// @notice Sends the caller the slashed stake credited to it.
    /// @dev Requirements: something owed. Emits {SlashedClaimed}.
    function claimSlashed() external;

    /// @notice Slashed stake credited to `account` and not yet claimed.
    function slashedOwed(address account) external view returns (uint256);
}
