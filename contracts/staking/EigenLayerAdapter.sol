// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IRestakingAdapter} from "../interfaces/IRestakingAdapter.sol";
import {IAllocationManagerLike, IStrategyLike, OperatorSet} from "../interfaces/eigen/IAllocationManagerLike.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title EigenLayerAdapter
/// @notice {IRestakingAdapter} over an EigenLayer-shaped AllocationManager (SPEC 3.5): operators'
/// stake lives in EigenLayer, allocated to one redistributing operator set with one strategy; the
/// StakingRegistry reads it through {slashableStake} and slashes it through {slash}.
/// @dev Design:
/// - The AVS. With `avs_ == address(0)` the adapter is its own AVS: the constructor creates the
///   redistributing operator set (`operatorSetId`, [`strategy`]) with the adapter as its
///   redistribution recipient, and only the adapter can slash it. That is the devnet / local
///   stand-in setup; against real EigenLayer an AVS also needs metadata and an AVSRegistrar, which
///   this adapter does not implement. So on real EigenLayer pass the AVS (e.g. its ServiceManager)
///   as `avs_`: it creates the redistributing set with this adapter as recipient and appoints this
///   adapter (PermissionController) to call `slashOperator` for it. {slash} checks the recipient.
/// - Units. The AllocationManager speaks shares; {slashableStake} and {slash} speak underlying
///   tokens, converted with `strategy.sharesToUnderlyingView`.
/// - Rounding. {slash} turns `amount` into `wadsToSlash = ceil(amount * 1e18 / available)`
///   (capped at 1e18) so at least `amount` is slashed; the AllocationManager rounds the slashed
///   stake up too. What arrives beyond `amount` (a few wei, or more when stake queued for
///   withdrawal is slashed along) is the surplus: it stays here ({SurplusRetained}) and the owner
///   {sweep}s it to the treasury. The adapter never holds stake, so its whole balance is surplus.
/// - Deferred payout. The adapter forwards exactly what arrived during `slashOperator`, capped at
///   `amount`. The local stand-in pays the recipient inside `slashOperator`; real EigenLayer only
///   books the slashed shares and pays out later (StrategyManager `clearBurnOrRedistributableShares`,
///   possibly after a delay), so there {slash} returns what arrived (possibly 0) and the late
///   tokens are surplus for {sweep}.
/// - Guarantee horizon. Stake can be deallocated (or the operator deregistered) at any block and
///   stays slashable for `DEALLOCATION_DELAY` blocks only, so nothing is guaranteed beyond
///   `block.number + deallocationDelay`: the registry's slashable window must not exceed it.
/// - Seconds, not blocks. The registry and the dispute manager count seconds; the AllocationManager
///   counts blocks. The adapter converts with `secondsPerBlock`, which must be the chain's
///   **shortest** possible block interval (12 on Ethereum mainnet, whose slots are 12 s and never
///   shorter; a missed slot only makes blocks rarer). That is conservative both ways: a horizon of
///   `t` seconds is at most `ceil(t / secondsPerBlock)` blocks away, so {slashableStake} asks the
///   AllocationManager about at least that block, and `DEALLOCATION_DELAY` blocks last at least
///   `DEALLOCATION_DELAY * secondsPerBlock` seconds, which is the {unbondingPeriod} reported. On a
///   chain whose block time can shrink (some L2s), pass its minimum, or 1.
contract EigenLayerAdapter is IRestakingAdapter, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice A zero address where one is needed.
    error Staking_ZeroAddress();
    /// @notice The strategy holds `underlying`, not the asset `asset` the adapter was given.
    error Staking_AssetMismatch(address underlying, address asset);
    /// @notice The operator set pays slashed funds to `recipient`, not to this adapter.
    error Staking_NotRedistributionRecipient(address recipient);
    /// @notice The slasher was already set, once and for all.
    error Staking_SlasherAlreadySet(address slasher);
    /// @notice The slasher cannot be the zero address.
    error Staking_ZeroSlasher();
    /// @notice The adapter holds no surplus.
    error Staking_NothingToSweep();
    /// @notice The shortest block interval must be between 1 second and 1 day.
    error Staking_InvalidSecondsPerBlock(uint256 secondsPerBlock);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Emitted when the slasher (the registry) is set.
    event SlasherSet(address indexed slasher);
    /// @notice Emitted for every `slashOperator` call: `wadToSlash` of `operator`'s allocation was
    /// slashed as slash `slashId` of the operator set, and `received` tokens arrived.
    event OperatorSetSlashed(address indexed operator, uint256 indexed slashId, uint256 wadToSlash, uint256 received);
    /// @notice Emitted when a slash of `operator` delivered `amount` more than was forwarded.
    event SurplusRetained(address indexed operator, uint256 amount);
    /// @notice Emitted when the owner sends the adapter's whole balance (`amount`) to `to`.
    event SurplusSwept(address indexed to, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice 1e18: a wad, EigenLayer's unit of proportion.
    uint256 public constant WAD = 1e18;
    /// @notice The description attached to every `slashOperator` call.
    string public constant SLASH_DESCRIPTION = "Versatus: StakingRegistry slash";

    /*//////////////////////////////////////////////////////////////
                               IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The EigenLayer AllocationManager (or the local stand-in).
    IAllocationManagerLike public immutable allocationManager;
    /// @notice The AVS owning the operator set: this adapter, or the AVS given at construction.
    address public immutable avs;
    /// @notice The operator set's id within the AVS.
    uint32 public immutable operatorSetId;
    /// @notice The one strategy whose allocations back operators here.
    IStrategyLike public immutable strategy;
    /// @inheritdoc IRestakingAdapter
    address public immutable asset;
    /// @notice The AllocationManager's DEALLOCATION_DELAY, in blocks: how far ahead stake can be
    /// guaranteed.
    uint32 public immutable deallocationDelay;
    /// @notice The chain's shortest block interval in seconds (see the contract notes).
    uint256 public immutable secondsPerBlock;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The only account allowed to {slash} (the StakingRegistry).
    address public slasher;
    /// @inheritdoc IRestakingAdapter
    mapping(address account => uint256) public slashedOwed;
    /// @notice Sum of {slashedOwed}: kept out of {sweep}.
    uint256 public totalOwed;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param allocationManager_ The AllocationManager.
    /// @param avs_ address(0): this adapter is the AVS and creates the operator set now (see the
    /// contract notes); otherwise the AVS that owns operator set `operatorSetId_`.
    /// @param operatorSetId_ The operator set's id.
    /// @param strategy_ The strategy slashed; its underlying token must be `asset_`.
    /// @param asset_ The ERC-20 slashed stake is paid in (EigenLayer redistributes no native ETH).
    /// @param secondsPerBlock_ The chain's shortest block interval, seconds (> 0; 12 on mainnet).
    constructor(
        address initialOwner,
        IAllocationManagerLike allocationManager_,
        address avs_,
        uint32 operatorSetId_,
        IStrategyLike strategy_,
        address asset_,
        uint256 secondsPerBlock_
    ) Ownable(initialOwner) {
        if (address(allocationManager_) == address(0) || address(strategy_) == address(0) || asset_ == address(0)) {
            revert Staking_ZeroAddress();
        }
        if (secondsPerBlock_ == 0 || secondsPerBlock_ > 1 days) revert Staking_InvalidSecondsPerBlock(secondsPerBlock_);
        secondsPerBlock = secondsPerBlock_;
        address underlying = address(strategy_.underlyingToken());
        if (underlying != asset_) revert Staking_AssetMismatch(underlying, asset_);
        allocationManager = allocationManager_;
        avs = avs_ == address(0) ? address(this) : avs_;
        operatorSetId = operatorSetId_;
        strategy = strategy_;
        asset = asset_;
        deallocationDelay = allocationManager_.DEALLOCATION_DELAY();
        if (avs_ == address(0)) {
            IAllocationManagerLike.CreateSetParams[] memory params = new IAllocationManagerLike.CreateSetParams[](1);
            params[0].operatorSetId = operatorSetId_;
            params[0].strategies = _strategies(strategy_);
            address[] memory recipients = new address[](1);
            recipients[0] = address(this);
            allocationManager_.createRedistributingOperatorSets(address(this), params, recipients);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRestakingAdapter
    /// @dev Slashes `ceil(amount * 1e18 / available)` wads (1e18 when `amount >= available`) of the
    /// operator's allocation, `available` being {slashableStake} now, and forwards what arrived,
    /// capped at `amount`; any excess is retained for {sweep}. Returns 0 without calling the
    /// AllocationManager when `amount` or `available` is 0. With an external AVS, reverts if the
    /// operator set does not pay this adapter. Emits {OperatorSetSlashed}, {Slashed} and, with
    /// excess, {SurplusRetained}.
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
        if (amount == 0) return 0;
        uint256 available = _slashableAt(operator, block.number);
        if (available == 0) return 0;
        if (avs != address(this)) {
            // a set this adapter created pays it for ever; another AVS's set must be checked
            address redistribution = allocationManager.getRedistributionRecipient(OperatorSet(avs, operatorSetId));
            if (redistribution != address(this)) revert Staking_NotRedistributionRecipient(redistribution);
        }
        // amount < available: 0 < wad <= 1e18
        uint256 wad = amount >= available ? WAD : Math.mulDiv(amount, WAD, available, Math.Rounding.Ceil);

        // ---- interactions: slash (the AllocationManager pays this adapter), then forward
        (uint256 slashId, uint256 received) = _slashOperator(operator, wad);
        slashed = received < amount ? received : amount;
        if (reward > slashed) reward = slashed;
        uint256 credited = slashed - reward;
        if (credited != 0) {
            slashedOwed[creditRecipient] += credited;
            totalOwed += credited;
        }
        emit OperatorSetSlashed(operator, slashId, wad, received);
        emit Slashed(operator, rewardRecipient, reward, creditRecipient, credited);
        if (received > slashed) emit SurplusRetained(operator, received - slashed);
        if (reward != 0 && !IERC20(asset).trySafeTransfer(rewardRecipient, reward)) {
            // a recipient the token refuses gets its reward credited: the slash must not revert
            slashedOwed[rewardRecipient] += reward;
            totalOwed += reward;
            emit RewardCredited(rewardRecipient, reward);
        }
    }

    /// @inheritdoc IRestakingAdapter
    function claimSlashed() external nonReentrant {
        uint256 amount = slashedOwed[msg.sender];
        if (amount == 0) revert Staking_NothingOwed(msg.sender);
        slashedOwed[msg.sender] = 0;
        totalOwed -= amount;
        emit SlashedClaimed(msg.sender, amount);
        IERC20(asset).safeTransfer(msg.sender, amount);
    }

    /// @notice Sets the slasher, once.
    /// @dev Requirements: owner; not set yet; non-zero. Emits {SlasherSet}.
    function setSlasher(address slasher_) external onlyOwner {
        if (slasher != address(0)) revert Staking_SlasherAlreadySet(slasher);
        if (slasher_ == address(0)) revert Staking_ZeroSlasher();
        slasher = slasher_;
        emit SlasherSet(slasher_);
    }

    /// @notice Sends the adapter's balance of the asset beyond what is credited to slash
    /// recipients (rounding surplus and slashed funds paid out after their {slash}) to `to`,
    /// normally the treasury.
    /// @dev Requirements: owner; `to` non-zero; a non-zero balance. Emits {SurplusSwept}.
    function sweep(address to) external onlyOwner nonReentrant {
        if (to == address(0)) revert Staking_ZeroAddress();
        IERC20 token = IERC20(asset);
        uint256 amount = token.balanceOf(address(this)) - totalOwed;
        if (amount == 0) revert Staking_NothingToSweep();
        emit SurplusSwept(to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc IRestakingAdapter
    /// @dev `getMinimumSlashableStake` at `block.number + ceil((untilTimestamp - now) / secondsPerBlock)`
    /// (the furthest block that can have been reached by then, clamped to uint32), in underlying
    /// tokens; 0 beyond `deallocationDelay` blocks, where a deallocation or deregistration queued
    /// now could already have freed everything.
    function slashableStake(address operator, uint256 untilTimestamp) external view returns (uint256) {
        uint256 ahead =
            untilTimestamp <= block.timestamp ? 0 : Math.ceilDiv(untilTimestamp - block.timestamp, secondsPerBlock);
        if (ahead > deallocationDelay) return 0;
        return _slashableAt(operator, block.number + ahead);
    }

    /// @inheritdoc IRestakingAdapter
    /// @dev `deallocationDelay * secondsPerBlock`: the delay's blocks take at least that long.
    function unbondingPeriod() external view returns (uint256) {
        return uint256(deallocationDelay) * secondsPerBlock;
    }

    /// @notice The operator set this adapter slashes.
    function operatorSet() external view returns (OperatorSet memory) {
        return OperatorSet(avs, operatorSetId);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev `operator`'s minimum slashable stake from now until `atBlock`, in underlying tokens.
    function _slashableAt(address operator, uint256 atBlock) internal view returns (uint256) {
        uint32 futureBlock = atBlock > type(uint32).max ? type(uint32).max : uint32(atBlock);
        address[] memory operators = new address[](1);
        operators[0] = operator;
        uint256 shares = allocationManager.getMinimumSlashableStake(
            OperatorSet(avs, operatorSetId),
            operators,
            _strategies(strategy),
            futureBlock
        )[0][0];
        return shares == 0 ? 0 : strategy.sharesToUnderlyingView(shares);
    }

    /// @dev Calls `slashOperator` for `wad` of `operator`'s allocation; returns the slash id and
    /// how many tokens arrived during the call.
    function _slashOperator(address operator, uint256 wad) internal returns (uint256 slashId, uint256 received) {
        uint256[] memory wads = new uint256[](1);
        wads[0] = wad;
        IERC20 token = IERC20(asset);
        uint256 before = token.balanceOf(address(this));
        (slashId, ) = allocationManager.slashOperator(
            avs,
            IAllocationManagerLike.SlashingParams({
                operator: operator,
                operatorSetId: operatorSetId,
                strategies: _strategies(strategy),
                wadsToSlash: wads,
                description: SLASH_DESCRIPTION
            })
        );
        received = token.balanceOf(address(this)) - before;
    }

    function _strategies(IStrategyLike s) internal pure returns (IStrategyLike[] memory list) {
        list = new IStrategyLike[](1);
        list[0] = s;
    }
}
