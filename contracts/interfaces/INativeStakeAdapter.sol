// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IRestakingAdapter} from "./IRestakingAdapter.sol";

/// @title INativeStakeAdapter
/// @notice An {IRestakingAdapter} that holds the stake itself, in ETH or in one ERC-20 (the
/// native token). Stake leaves only through {withdraw} after the unbonding period, or {slash}.
interface INativeStakeAdapter is IRestakingAdapter {
    /// @notice The unbonding period (seconds) must be at least `minimum` (one second; the registry
    /// checks it covers its slashable window).
    error Staking_UnbondingTooShort(uint256 unbondingPeriod, uint256 minimum);
    /// @notice `operator` owes `owed` of a capped slash (see {IStakingRegistry-owedSlash}): that part
    /// of its stake cannot leave until the registry collects it; nothing else is unbonding.
    error Staking_SlashOwed(address operator, uint256 owed, uint256 unbonding);
    /// @notice A zero amount or address where one is needed.
    error Staking_ZeroAmount();
    /// @notice ETH sent does not match the amount (or ETH sent to an ERC-20 adapter).
    error Staking_WrongValue(uint256 sent, uint256 expected);
    /// @notice Not enough bonded stake to unbond `requested`.
    error Staking_InsufficientStake(address operator, uint256 bonded, uint256 requested);
    /// @notice Nothing is unbonding for `operator`.
    error Staking_NothingToWithdraw(address operator);
    /// @notice The unbonding stake unlocks at `unlockTime` (seconds).
    error Staking_StillBonded(address operator, uint256 unlockTime, uint256 currentTime);
    /// @notice An operator's stake would not fit in 128 bits.
    error Staking_AmountTooLarge(uint256 amount, uint256 max);
    /// @notice Sending ETH to `to` failed.
    error Staking_EthTransferFailed(address to, uint256 amount);
    /// @notice The slasher was already set, once and for all.
    error Staking_SlasherAlreadySet(address slasher);
    /// @notice The slasher cannot be the zero address.
    error Staking_ZeroSlasher();

    /// @notice Emitted when `operator` adds `amount` to its bonded stake.
    event Deposited(address indexed operator, uint256 amount, uint256 bonded);
    /// @notice Emitted when `amount` moves from bonded to unbonding, withdrawable at `unlockTime` (seconds).
    event UnbondRequested(address indexed operator, uint256 amount, uint256 unbonding, uint256 unlockTime);
    /// @notice Emitted when `operator` takes its unbonded stake back.
    event Withdrawn(address indexed operator, uint256 amount);
    /// @notice Emitted when the slasher (the registry) is set.
    event SlasherSet(address indexed slasher);

    /// @notice The only account allowed to {slash} (the StakingRegistry).
    function slasher() external view returns (address);

    /// @notice Bonded stake, unbonding stake and the time (seconds) from which the unbonding stake
    /// can be withdrawn (0 when nothing is unbonding).
    function stakeOf(address operator) external view returns (uint256 bonded, uint256 unbonding, uint256 unlockTime);

    /// @notice Sum of every operator's bonded and unbonding stake: what the adapter must hold.
    function totalStaked() external view returns (uint256);

    /// @notice Adds `amount` to the caller's bonded stake (ETH as value, or pulled ERC-20).
    /// @dev Requirements: `amount` > 0; for ETH `msg.value == amount`, for an ERC-20 no value and
    /// an allowance. For an ERC-20 the credited amount is what the adapter actually received.
    /// Emits {Deposited}.
    function deposit(uint256 amount) external payable;

    /// @notice Starts unbonding `amount` of the caller's bonded stake. It stays slashable until it
    /// is withdrawn; the unlock time of all the caller's unbonding stake moves to
    /// `block.timestamp + unbondingPeriod`.
    /// @dev Requirements: 0 < `amount` <= bonded. Emits {UnbondRequested}.
    function requestUnbond(uint256 amount) external;

    /// @notice Sends the caller its unbonding stake once its unlock time is reached, except the part
    /// of a capped slash it still owes (`owedSlash` in the slasher beyond its bonded stake), which
    /// stays unbonding and slashable until the registry collects it.
    /// @dev Requirements: something withdrawable; `block.timestamp >= unlockTime`. Emits {Withdrawn}.
    function withdraw() external;

    /// @notice Sets the slasher, once.
    /// @dev Requirements: owner; not set yet; non-zero. Emits {SlasherSet}.
    function setSlasher(address slasher_) external;
}
