// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IRestakingAdapter} from "../interfaces/IRestakingAdapter.sol";
import {INativeStakeAdapter} from "../interfaces/INativeStakeAdapter.sol";
import {IStakingRegistry} from "../interfaces/IStakingRegistry.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title NativeStakeAdapter
/// @notice Holds operators' stake in ETH or one ERC-20 and lets the StakingRegistry slash it
/// (SPEC 3.5). Money rule: the adapter's balance always equals {totalStaked} + {totalOwed}; stake
/// leaves only by {withdraw} (to its owner, after unbonding), {slash} (the reward, to the recipient
/// the registry names) or {claimSlashed} (the credited rest).
/// @dev One unbonding bucket per operator: a new {requestUnbond} adds to it and pushes its unlock
/// time out, so stake can never leave earlier than `unbondingPeriod` after it stopped backing
/// signatures. Unbonding stake stays slashable until it is withdrawn. Times are seconds (block
/// timestamps), like the registry's slashable window and the dispute manager's windows: one unit,
/// so a window checked against the unbonding period means the same thing on every chain.
/// A capped slash the registry could not take yet ({IStakingRegistry-owedSlash}) stays here:
/// {withdraw} leaves the owed part unbonding (and slashable) until it is collected.
/// Tokens with transfer fees are credited with what arrived; rebasing tokens are not supported.
contract NativeStakeAdapter is INativeStakeAdapter, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Amounts in one slot (u128 each: any realistic supply), the unlock time in the next.
    struct Stake {
        uint128 bonded;
        uint128 unbonding;
        uint256 unlockTime;
    }

    /// @dev Gas forwarded with an ETH reward: enough for a smart-contract wallet's receive hook,
    /// small enough that a resolution slashing many signers stays far below a block.
    uint256 internal constant REWARD_CALL_GAS = 50_000;

    mapping(address operator => Stake) private _stakes;
    /// @inheritdoc IRestakingAdapter
    mapping(address account => uint256) public slashedOwed;

    /// @inheritdoc INativeStakeAdapter
    address public slasher;
    /// @dev Both totals in one slot, so a slash that credits the treasury writes it once.
    struct Totals {
        uint128 staked;
        uint128 owed;
    }

    Totals internal _totals;

    /*//////////////////////////////////////////////////////////////
                               IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRestakingAdapter
    address public immutable asset;
    /// @inheritdoc IRestakingAdapter
    uint256 public immutable unbondingPeriod;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param asset_ address(0) for ETH, else the staked ERC-20.
    /// @param unbondingPeriod_ Seconds between {requestUnbond} and {withdraw}; at least 1. The
    /// registry refuses a slashable window longer than this, and the dispute manager refuses
    /// windows longer than the registry's, so the chain of checks ends here.
    constructor(address initialOwner, address asset_, uint256 unbondingPeriod_) Ownable(initialOwner) {
        if (unbondingPeriod_ == 0) revert Staking_UnbondingTooShort(unbondingPeriod_, 1);
        asset = asset_;
        unbondingPeriod = unbondingPeriod_;
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc INativeStakeAdapter
    function deposit(uint256 amount) external payable nonReentrant {
        if (amount == 0) revert Staking_ZeroAmount();
        uint256 received = amount;
        if (asset == address(0)) {
            if (msg.value != amount) revert Staking_WrongValue(msg.value, amount);
        } else {
            if (msg.value != 0) revert Staking_WrongValue(msg.value, 0);
            // interaction first, on purpose: we credit what actually arrived (nonReentrant guards it)
            uint256 before = IERC20(asset).balanceOf(address(this));
            IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
            received = IERC20(asset).balanceOf(address(this)) - before;
            if (received == 0) revert Staking_ZeroAmount();
        }
        Stake storage s = _stakes[msg.sender];
        uint256 bonded = s.bonded + received;
        s.bonded = _toU128(bonded);
        _totals.staked = _toU128(_totals.staked + received);
        emit Deposited(msg.sender, received, bonded);
    }

    /// @inheritdoc INativeStakeAdapter
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert Staking_ZeroAmount();
        Stake storage s = _stakes[msg.sender];
        uint256 bonded = s.bonded;
        if (amount > bonded) revert Staking_InsufficientStake(msg.sender, bonded, amount);
        uint256 unbonding = s.unbonding + amount;
        uint256 unlockTime = block.timestamp + unbondingPeriod;
        s.bonded = uint128(bonded - amount);
        s.unbonding = _toU128(unbonding);
        s.unlockTime = unlockTime;
        emit UnbondRequested(msg.sender, amount, unbonding, unlockTime);
    }

    /// @inheritdoc INativeStakeAdapter
    function withdraw() external nonReentrant {
        // ---- checks
        Stake storage s = _stakes[msg.sender];
        uint256 unbonding = s.unbonding;
        if (unbonding == 0) revert Staking_NothingToWithdraw(msg.sender);
        uint256 unlockTime = s.unlockTime;
        if (block.timestamp < unlockTime) revert Staking_StillBonded(msg.sender, unlockTime, block.timestamp);
        // a capped slash not yet collected stays owed: the part the bonded stake does not cover
        // stays here, unbonding and slashable (the registry reads, never writes, here: no reentry)
        uint256 kept;
        if (slasher != address(0)) {
            uint256 owed = IStakingRegistry(slasher).owedSlash(msg.sender);
            uint256 bonded = s.bonded;
            if (owed > bonded) kept = owed - bonded > unbonding ? unbonding : owed - bonded;
            if (kept == unbonding) revert Staking_SlashOwed(msg.sender, owed, unbonding);
        }
        uint256 amount = unbonding - kept;
        // ---- effects
        s.unbonding = uint128(kept);
        if (kept == 0) s.unlockTime = 0;
        _totals.staked -= uint128(amount);
        emit Withdrawn(msg.sender, amount);
        // ---- interactions
        _send(msg.sender, amount);
    }

    /// @inheritdoc IRestakingAdapter
    function slash(
        address operator,
        uint256 amount,
        address rewardRecipient,
        uint256 reward,
        address creditRecipient
    ) external nonReentrant returns (uint256 slashed) {
        // ---- checks
        if (msg.sender != slasher) revert Staking_NotSlasher(msg.sender, slasher);
        if (rewardRecipient == address(0) || creditRecipient == address(0)) revert Staking_ZeroRecipient();
        // ---- effects: bonded stake first, then unbonding
        Stake storage s = _stakes[operator];
        uint256 bonded = s.bonded;
        uint256 unbonding = s.unbonding;
        slashed = amount;
        if (slashed > bonded + unbonding) slashed = bonded + unbonding;
        if (slashed == 0) return 0;
        if (slashed <= bonded) {
            s.bonded = uint128(bonded - slashed);
        } else {
            s.bonded = 0;
            // slashed <= bonded + unbonding, so this cannot underflow
            s.unbonding = uint128(unbonding - (slashed - bonded));
        }
        if (reward > slashed) reward = slashed;
        uint256 credited = slashed - reward;
        Totals memory totals = _totals;
        // slashed <= the operator's stake <= totals.staked; credited <= slashed fits u128
        _totals = Totals(totals.staked - uint128(slashed), totals.owed + uint128(credited));
        if (credited != 0) slashedOwed[creditRecipient] += credited;
        emit Slashed(operator, rewardRecipient, reward, creditRecipient, credited);
        // ---- interactions: a recipient that refuses the reward gets it credited instead, so it
        // cannot make the slash (and the dispute resolution around it) revert
        if (reward != 0 && !_trySend(rewardRecipient, reward)) {
            slashedOwed[rewardRecipient] += reward;
            _totals.owed += uint128(reward);
            emit RewardCredited(rewardRecipient, reward);
        }
    }

    /// @inheritdoc IRestakingAdapter
    function claimSlashed() external nonReentrant {
        uint256 amount = slashedOwed[msg.sender];
        if (amount == 0) revert Staking_NothingOwed(msg.sender);
        slashedOwed[msg.sender] = 0;
        _totals.owed -= uint128(amount);
        emit SlashedClaimed(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @inheritdoc INativeStakeAdapter
    function setSlasher(address slasher_) external onlyOwner {
        if (slasher != address(0)) revert Staking_SlasherAlreadySet(slasher);
        if (slasher_ == address(0)) revert Staking_ZeroSlasher();
        slasher = slasher_;
        emit SlasherSet(slasher_);
    }

    /// @inheritdoc IRestakingAdapter
    function slashableStake(address operator, uint256 untilTimestamp) external view returns (uint256) {
        Stake storage s = _stakes[operator];
        uint256 amount = s.bonded;
        uint256 unbonding = s.unbonding;
        // unbonding stake can be withdrawn from its unlock time on (the unlock time is read only
        // when something unbonds: the ingestor asks this for every signer)
        if (unbonding != 0 && s.unlockTime > untilTimestamp) amount += unbonding;
        return amount;
    }

    /// @inheritdoc INativeStakeAdapter
    function totalStaked() external view returns (uint256) {
        return _totals.staked;
    }

    /// @notice Sum of {slashedOwed}: the adapter holds `totalStaked() + totalOwed()`.
    function totalOwed() external view returns (uint256) {
        return _totals.owed;
    }

    /// @inheritdoc INativeStakeAdapter
    function stakeOf(address operator) external view returns (uint256 bonded, uint256 unbonding, uint256 unlockTime) {
        Stake storage s = _stakes[operator];
        return (s.bonded, s.unbonding, s.unlockTime);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Like {_send} but reports failure instead of reverting; ETH gets a bounded amount of gas
    /// so a recipient cannot burn the caller's.
    function _trySend(address to, uint256 amount) internal returns (bool ok) {
        if (asset == address(0)) {
            (ok, ) = to.call{value: amount, gas: REWARD_CALL_GAS}("");
        } else {
            ok = IERC20(asset).trySafeTransfer(to, amount);
        }
    }

    function _send(address to, uint256 amount) internal {
        if (asset == address(0)) {
            (bool ok, ) = to.call{value: amount}("");
            if (!ok) revert Staking_EthTransferFailed(to, amount);
        } else {
            IERC20(asset).safeTransfer(to, amount);
        }
    }

    function _toU128(uint256 x) internal pure returns (uint128) {
        if (x > type(uint128).max) revert Staking_AmountTooLarge(x, type(uint128).max);
        return uint128(x);
    }
}
