// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAllocationManagerLike, IStrategyLike, OperatorSet} from "../interfaces/eigen/IAllocationManagerLike.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title LocalStrategy
/// @notice TEST / DEVNET STAND-IN, not EigenLayer: a strategy "token" for {LocalAllocationManager}
/// whose shares are its underlying token 1:1. It holds nothing; the manager holds the tokens.
contract LocalStrategy is IStrategyLike {
    /// @inheritdoc IStrategyLike
    IERC20 public immutable underlyingToken;

    constructor(IERC20 underlyingToken_) {
        underlyingToken = underlyingToken_;
    }

    /// @inheritdoc IStrategyLike
    function sharesToUnderlyingView(uint256 amountShares) external pure returns (uint256) {
        return amountShares;
    }
}

/// @title LocalAllocationManager
/// @notice TEST / DEVNET STAND-IN, NOT EigenLayer and not EigenLayer code: a small contract with the
/// AllocationManager calls the EigenLayerAdapter uses ({IAllocationManagerLike}, same names and
/// units: wads of 1e18, uint32 blocks, shares) plus just enough of the StrategyManager for
/// operators to put stake behind an operator set, so the adapter can be tested end to end.
/// @dev Faithful to EigenLayer:
/// - deallocations stay slashable for DEALLOCATION_DELAY blocks: one queued at block `b` takes
///   effect at `b + DEALLOCATION_DELAY + 1`; one pending modification per allocation; completed
///   deallocations are cleared lazily through a FIFO queue per (operator, strategy);
/// - `getMinimumSlashableStake(futureBlock)` subtracts pending deallocations with
///   `effectBlock <= futureBlock` and ignores everything else;
/// - `slashOperator` (AVS only): strategies strictly ascending, `0 < wad <= 1e18`, strategy in the
///   set; slashes `ceil(allocation * wad / 1e18)` (rounding up, like `mulWadRoundUp`), reduces a
///   pending deallocation by `ceil(pending * wad / 1e18)`, numbers slashes per set (`slashId`) and
///   returns the shares slashed per strategy;
/// - redistributing operator sets with a fixed recipient, burn address for the others.
/// Simplified (documented differences):
/// - allocations are token amounts (shares, 1:1 with tokens via {LocalStrategy}), not uint64
///   magnitudes against a max magnitude; an allocation increase is slashable at once (no
///   allocation delay); operators need no delegation, no registration and no AVSRegistrar:
///   allocated stake is slashable;
/// - slashed tokens go to the redistribution recipient inside `slashOperator`. Real EigenLayer
///   only books them as burnable/redistributable shares and pays out later through the
///   StrategyManager (`clearBurnOrRedistributableShares`, permissionless, possibly after a delay);
/// - operators withdraw unallocated shares at once (no withdrawal queue, no staker delegation);
/// - no pausing, no permission controller (only the AVS itself may act for it), no upgradeability;
/// - errors keep EigenLayer's names but carry the failing values.
contract LocalAllocationManager is IAllocationManagerLike, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice An operator's allocation to one operator set from one strategy. `currentAmount`
    /// includes a pending deallocation (still slashable) of `pendingDeallocation`, which leaves it
    /// at `effectBlock` (0 when nothing is pending).
    struct Allocation {
        uint256 currentAmount;
        uint256 pendingDeallocation;
        uint32 effectBlock;
    }

    /// @dev An operator's shares in one strategy and how many are allocated (incl. pending
    /// deallocations not yet cleared).
    struct StrategyInfo {
        uint256 depositShares;
        uint256 encumbered;
    }

    /// @dev Pending deallocations of one (operator, strategy), oldest first.
    struct DeallocationQueue {
        bytes32[] operatorSetKeys;
        uint256 head;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The caller may not act for `expected`.
    error InvalidCaller(address caller, address expected);
    /// @notice Two array arguments differ in length.
    error InputArrayLengthMismatch(uint256 a, uint256 b);
    /// @notice A zero address where one is needed.
    error InputAddressZero();
    /// @notice The operator set (`avs`, `id`) does not exist, or already does when creating it.
    error InvalidOperatorSet(address avs, uint32 id);
    /// @notice `strategy` is not in the operator set.
    error StrategyNotInOperatorSet(address strategy);
    /// @notice `strategy` was given twice for one operator set.
    error StrategyAlreadyInOperatorSet(address strategy);
    /// @notice Strategies must be given in strictly ascending address order.
    error StrategiesMustBeInAscendingOrder();
    /// @notice `wad` is not in (0, 1e18].
    error InvalidWadToSlash(uint256 wad);
    /// @notice The allocation already has a pending deallocation, effective at `effectBlock`.
    error ModificationAlreadyPending(uint32 effectBlock);
    /// @notice The new allocation equals the current one.
    error SameMagnitude(uint256 amount);
    /// @notice Allocating needs `needed` unallocated shares; the operator has `free`.
    error InsufficientMagnitude(uint256 free, uint256 needed);
    /// @notice Withdrawing `requested` shares needs them unallocated; the operator has `free`.
    error InsufficientShares(uint256 free, uint256 requested);
    /// @notice A zero amount where one is needed.
    error ZeroAmount();
    /// @notice `token` is not the underlying token of the strategy (`underlying`).
    error InvalidToken(address token, address underlying);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Emitted when an AVS creates an operator set.
    event OperatorSetCreated(OperatorSet operatorSet);
    /// @notice Emitted when a redistributing operator set is given its recipient.
    event RedistributionAddressSet(OperatorSet operatorSet, address redistributionRecipient);
    /// @notice Emitted when a strategy is added to an operator set.
    event StrategyAddedToOperatorSet(OperatorSet operatorSet, IStrategyLike strategy);
    /// @notice Emitted when `staker` deposits `shares` worth of `token` into `strategy`.
    event Deposit(address indexed staker, IStrategyLike strategy, IERC20 token, uint256 shares);
    /// @notice Emitted when `staker` takes `shares` of unallocated stake out of `strategy`.
    event Withdrawal(address indexed staker, IStrategyLike strategy, uint256 shares);
    /// @notice Emitted when an allocation changes: it will be `amount` from `effectBlock` on.
    event AllocationUpdated(
        address operator,
        OperatorSet operatorSet,
        IStrategyLike strategy,
        uint256 amount,
        uint32 effectBlock
    );
    /// @notice Emitted when an operator's allocated (encumbered) shares of a strategy change.
    event EncumberedMagnitudeUpdated(address operator, IStrategyLike strategy, uint256 encumbered);
    /// @notice Emitted on a slash; `wadSlashed[i]` is the share of the operator's whole stake in
    /// `strategies[i]` that was taken.
    event OperatorSlashed(
        address operator,
        OperatorSet operatorSet,
        IStrategyLike[] strategies,
        uint256[] wadSlashed,
        string description
    );
    /// @notice Emitted when slashed `shares` of `strategy` are paid to the set's recipient.
    event BurnOrRedistribution(
        OperatorSet operatorSet,
        uint256 slashId,
        IStrategyLike strategy,
        uint256 shares,
        address recipient
    );

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice EigenLayer's burn address: where a non-redistributing set's slashes would go.
    address public constant DEFAULT_BURN_ADDRESS = 0x00000000000000000000000000000000000E16E4;
    uint256 internal constant WAD = 1e18;

    /*//////////////////////////////////////////////////////////////
                           IMMUTABLES / STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAllocationManagerLike
    uint32 public immutable DEALLOCATION_DELAY;

    mapping(bytes32 operatorSetKey => bool) internal _operatorSets;
    mapping(bytes32 operatorSetKey => mapping(IStrategyLike => bool)) internal _operatorSetStrategies;
    mapping(bytes32 operatorSetKey => address) internal _redistributionRecipients;
    mapping(bytes32 operatorSetKey => uint256) internal _slashIds;
    mapping(address operator => mapping(IStrategyLike => StrategyInfo)) internal _info;
    mapping(address operator => mapping(bytes32 operatorSetKey => mapping(IStrategyLike => Allocation)))
        internal _allocations;
    mapping(address operator => mapping(IStrategyLike => DeallocationQueue)) internal _deallocationQueue;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param deallocationDelay Blocks a deallocation stays slashable.
    constructor(uint32 deallocationDelay) {
        DEALLOCATION_DELAY = deallocationDelay;
    }

    /*//////////////////////////////////////////////////////////////
                               EXTERNAL: AVS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAllocationManagerLike
    /// @dev Requirements: caller is `avs`; equal lengths; recipients non-zero; sets new; no
    /// duplicate strategies. Emits {OperatorSetCreated}, {RedistributionAddressSet} and
    /// {StrategyAddedToOperatorSet}.
    function createRedistributingOperatorSets(
        address avs,
        CreateSetParams[] calldata params,
        address[] calldata redistributionRecipients
    ) external {
        if (msg.sender != avs) revert InvalidCaller(msg.sender, avs);
        if (params.length != redistributionRecipients.length) {
            revert InputArrayLengthMismatch(params.length, redistributionRecipients.length);
        }
        for (uint256 i; i < params.length; ++i) {
            address recipient = redistributionRecipients[i];
            if (recipient == address(0)) revert InputAddressZero();
            OperatorSet memory set = OperatorSet(avs, params[i].operatorSetId);
            bytes32 key = _key(set);
            if (_operatorSets[key]) revert InvalidOperatorSet(set.avs, set.id);
            _operatorSets[key] = true;
            _redistributionRecipients[key] = recipient;
            emit OperatorSetCreated(set);
            emit RedistributionAddressSet(set, recipient);
            for (uint256 j; j < params[i].strategies.length; ++j) {
                IStrategyLike strategy = params[i].strategies[j];
                if (_operatorSetStrategies[key][strategy]) revert StrategyAlreadyInOperatorSet(address(strategy));
                _operatorSetStrategies[key][strategy] = true;
                emit StrategyAddedToOperatorSet(set, strategy);
            }
        }
    }

    /// @inheritdoc IAllocationManagerLike
    /// @dev Requirements: caller is `avs`; equal lengths; the set exists; strategies strictly
    /// ascending and in the set; every wad in (0, 1e18]. An operator with nothing allocated from a
    /// strategy is skipped (0 shares). Emits {OperatorSlashed}, and {BurnOrRedistribution} for
    /// each payout.
    function slashOperator(
        address avs,
        SlashingParams calldata params
    ) external nonReentrant returns (uint256 slashId, uint256[] memory shares) {
        // ---- checks
        if (msg.sender != avs) revert InvalidCaller(msg.sender, avs);
        uint256 n = params.strategies.length;
        if (n != params.wadsToSlash.length) revert InputArrayLengthMismatch(n, params.wadsToSlash.length);
        OperatorSet memory set = OperatorSet(avs, params.operatorSetId);
        bytes32 key = _key(set);
        if (!_operatorSets[key]) revert InvalidOperatorSet(set.avs, set.id);

        // ---- effects
        slashId = ++_slashIds[key];
        shares = new uint256[](n);
        uint256[] memory wadSlashed = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            IStrategyLike strategy = params.strategies[i];
            if (i != 0 && address(strategy) <= address(params.strategies[i - 1])) {
                revert StrategiesMustBeInAscendingOrder();
            }
            uint256 wad = params.wadsToSlash[i];
            if (wad == 0 || wad > WAD) revert InvalidWadToSlash(wad);
            if (!_operatorSetStrategies[key][strategy]) revert StrategyNotInOperatorSet(address(strategy));
            (shares[i], wadSlashed[i]) = _slashAllocation(params.operator, key, strategy, wad);
        }
        emit OperatorSlashed(params.operator, set, params.strategies, wadSlashed, params.description);

        // ---- interactions (real EigenLayer defers this to the StrategyManager)
        address recipient = _redistributionRecipients[key];
        for (uint256 i; i < n; ++i) {
            if (shares[i] == 0) continue;
            IStrategyLike strategy = params.strategies[i];
            emit BurnOrRedistribution(set, slashId, strategy, shares[i], recipient);
            strategy.underlyingToken().safeTransfer(recipient, shares[i]);
        }
    }

    /*//////////////////////////////////////////////////////////////
                            EXTERNAL: OPERATORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Deposits `amount` of `token` into `strategy` for the caller (1 share per token
    /// received). Named after the StrategyManager call.
    /// @dev Requirements: `token` is the strategy's underlying; something arrives. Emits {Deposit}.
    function depositIntoStrategy(
        IStrategyLike strategy,
        IERC20 token,
        uint256 amount
    ) external nonReentrant returns (uint256 depositShares) {
        address underlying = address(strategy.underlyingToken());
        if (address(token) != underlying) revert InvalidToken(address(token), underlying);
        // interaction first, on purpose: credit what actually arrived (nonReentrant guards it)
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        depositShares = token.balanceOf(address(this)) - before;
        if (depositShares == 0) revert ZeroAmount();
        _info[msg.sender][strategy].depositShares += depositShares;
        emit Deposit(msg.sender, strategy, token, depositShares);
    }

    /// @notice Sets the caller's allocation to `operatorSet` from `strategy` to `newAmount` shares.
    /// An increase is slashable at once (no allocation delay here); a decrease is queued and stays
    /// slashable until `block.number + DEALLOCATION_DELAY + 1`. The amount analogue of EigenLayer's
    /// `modifyAllocations(operator, AllocateParams[])`.
    /// @dev Requirements: the set exists and has the strategy; no pending deallocation; a change;
    /// enough unallocated shares for an increase. Emits {AllocationUpdated} and
    /// {EncumberedMagnitudeUpdated} on an increase.
    function modifyAllocation(OperatorSet calldata operatorSet, IStrategyLike strategy, uint256 newAmount) external {
        address operator = msg.sender;
        bytes32 key = _key(operatorSet);
        if (!_operatorSets[key]) revert InvalidOperatorSet(operatorSet.avs, operatorSet.id);
        if (!_operatorSetStrategies[key][strategy]) revert StrategyNotInOperatorSet(address(strategy));
        _clearDeallocationQueue(operator, strategy, type(uint256).max);
        Allocation storage a = _allocations[operator][key][strategy];
        if (a.effectBlock != 0) revert ModificationAlreadyPending(a.effectBlock);
        uint256 current = a.currentAmount;
        if (newAmount == current) revert SameMagnitude(newAmount);
        StrategyInfo storage info = _info[operator][strategy];
        if (newAmount > current) {
            uint256 free = info.depositShares - info.encumbered;
            if (newAmount - current > free) revert InsufficientMagnitude(free, newAmount - current);
            a.currentAmount = newAmount;
            info.encumbered += newAmount - current;
            emit EncumberedMagnitudeUpdated(operator, strategy, info.encumbered);
            emit AllocationUpdated(operator, operatorSet, strategy, newAmount, uint32(block.number));
        } else {
            uint32 effectBlock = uint32(block.number) + DEALLOCATION_DELAY + 1;
            a.pendingDeallocation = current - newAmount;
            a.effectBlock = effectBlock;
            _deallocationQueue[operator][strategy].operatorSetKeys.push(key);
            emit AllocationUpdated(operator, operatorSet, strategy, newAmount, effectBlock);
        }
    }

    /// @notice Completes up to `numToClear[i]` deallocations of `operator` from `strategies[i]`
    /// whose effect block has been reached, freeing their shares. Anyone may call it.
    /// @dev Requirements: equal lengths. Emits {EncumberedMagnitudeUpdated} when shares are freed.
    function clearDeallocationQueue(
        address operator,
        IStrategyLike[] calldata strategies,
        uint16[] calldata numToClear
    ) external {
        if (strategies.length != numToClear.length) {
            revert InputArrayLengthMismatch(strategies.length, numToClear.length);
        }
        for (uint256 i; i < strategies.length; ++i) {
            _clearDeallocationQueue(operator, strategies[i], numToClear[i]);
        }
    }

    /// @notice Sends the caller `shares` of its unallocated stake in `strategy` (after clearing
    /// completed deallocations). Stand-in for EigenLayer's queued withdrawals.
    /// @dev Requirements: `shares` <= unallocated shares. Emits {Withdrawal}.
    function withdraw(IStrategyLike strategy, uint256 shares) external nonReentrant {
        _clearDeallocationQueue(msg.sender, strategy, type(uint256).max);
        StrategyInfo storage info = _info[msg.sender][strategy];
        uint256 free = info.depositShares - info.encumbered;
        if (shares == 0) revert ZeroAmount();
        if (shares > free) revert InsufficientShares(free, shares);
        info.depositShares -= shares;
        emit Withdrawal(msg.sender, strategy, shares);
        strategy.underlyingToken().safeTransfer(msg.sender, shares);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAllocationManagerLike
    function getMinimumSlashableStake(
        OperatorSet calldata operatorSet,
        address[] calldata operators,
        IStrategyLike[] calldata strategies,
        uint32 futureBlock
    ) external view returns (uint256[][] memory slashableStake) {
        bytes32 key = _key(operatorSet);
        slashableStake = new uint256[][](operators.length);
        for (uint256 i; i < operators.length; ++i) {
            slashableStake[i] = new uint256[](strategies.length);
            for (uint256 j; j < strategies.length; ++j) {
                if (!_operatorSetStrategies[key][strategies[j]]) continue;
                Allocation memory a = _updated(_allocations[operators[i]][key][strategies[j]]);
                uint256 amount = a.currentAmount;
                // only deallocations count, and only those in effect by futureBlock
                if (a.effectBlock != 0 && a.effectBlock <= futureBlock) amount -= a.pendingDeallocation;
                slashableStake[i][j] = amount;
            }
        }
    }

    /// @inheritdoc IAllocationManagerLike
    function getRedistributionRecipient(OperatorSet calldata operatorSet) external view returns (address) {
        address recipient = _redistributionRecipients[_key(operatorSet)];
        return recipient == address(0) ? DEFAULT_BURN_ADDRESS : recipient;
    }

    /// @notice `operator`'s allocation to `operatorSet` from `strategy`, with a deallocation that
    /// has taken effect already applied.
    function getAllocation(
        address operator,
        OperatorSet calldata operatorSet,
        IStrategyLike strategy
    ) external view returns (Allocation memory) {
        return _updated(_allocations[operator][_key(operatorSet)][strategy]);
    }

    /// @notice `staker`'s shares in `strategy`, allocated or not.
    function stakerDepositShares(address staker, IStrategyLike strategy) external view returns (uint256) {
        return _info[staker][strategy].depositShares;
    }

    /// @notice `operator`'s shares in `strategy` that are not allocated (as of this block, so
    /// counting deallocations that took effect but were not cleared yet as free).
    function getAllocatableShares(address operator, IStrategyLike strategy) external view returns (uint256) {
        StrategyInfo memory info = _info[operator][strategy];
        DeallocationQueue storage q = _deallocationQueue[operator][strategy];
        for (uint256 i = q.head; i < q.operatorSetKeys.length; ++i) {
            Allocation memory a = _allocations[operator][q.operatorSetKeys[i]][strategy];
            if (block.number < a.effectBlock) break;
            info.encumbered -= a.pendingDeallocation;
        }
        return info.depositShares - info.encumbered;
    }

    /// @notice How many slashes `operatorSet` has made (the last slashId).
    function getSlashCount(OperatorSet calldata operatorSet) external view returns (uint256) {
        return _slashIds[_key(operatorSet)];
    }

    /// @notice Whether `operatorSet` exists.
    function isOperatorSet(OperatorSet calldata operatorSet) external view returns (bool) {
        return _operatorSets[_key(operatorSet)];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Slashes `ceil(current * wad)` of one allocation (completing a due deallocation first)
    /// and the same proportion, rounded up, of its pending deallocation.
    function _slashAllocation(
        address operator,
        bytes32 key,
        IStrategyLike strategy,
        uint256 wad
    ) internal returns (uint256 slashed, uint256 wadSlashed) {
        _clearDeallocationQueue(operator, strategy, type(uint256).max);
        Allocation storage a = _allocations[operator][key][strategy];
        uint256 current = a.currentAmount;
        if (current == 0) return (0, 0);
        slashed = Math.mulDiv(current, wad, WAD, Math.Rounding.Ceil);
        a.currentAmount = current - slashed;
        uint256 pending = a.pendingDeallocation;
        // floor(pending * (1 - w)) <= floor(current * (1 - w)): still within the allocation
        if (pending != 0) a.pendingDeallocation = pending - Math.mulDiv(pending, wad, WAD, Math.Rounding.Ceil);
        StrategyInfo storage info = _info[operator][strategy];
        uint256 deposits = info.depositShares;
        wadSlashed = Math.mulDiv(slashed, WAD, deposits);
        info.depositShares = deposits - slashed;
        info.encumbered -= slashed;
        emit AllocationUpdated(
            operator,
            _decode(key),
            strategy,
            a.currentAmount - a.pendingDeallocation,
            a.effectBlock == 0 ? uint32(block.number) : a.effectBlock
        );
        emit EncumberedMagnitudeUpdated(operator, strategy, info.encumbered);
    }

    /// @dev Completes up to `max` due deallocations of (`operator`, `strategy`), oldest first. The
    /// delay is the same for all, so the queue is in effect-block order.
    function _clearDeallocationQueue(address operator, IStrategyLike strategy, uint256 max) internal {
        DeallocationQueue storage q = _deallocationQueue[operator][strategy];
        uint256 head = q.head;
        uint256 length = q.operatorSetKeys.length;
        if (head == length) return;
        StrategyInfo storage info = _info[operator][strategy];
        uint256 cleared;
        while (head < length && cleared < max) {
            bytes32 key = q.operatorSetKeys[head];
            Allocation storage a = _allocations[operator][key][strategy];
            if (block.number < a.effectBlock) break;
            uint256 freed = a.pendingDeallocation;
            a.currentAmount -= freed;
            a.pendingDeallocation = 0;
            a.effectBlock = 0;
            info.encumbered -= freed;
            delete q.operatorSetKeys[head];
            ++head;
            ++cleared;
            emit EncumberedMagnitudeUpdated(operator, strategy, info.encumbered);
        }
        q.head = head;
    }

    /// @dev The allocation as it is at this block (a due deallocation applied).
    function _updated(Allocation memory a) internal view returns (Allocation memory) {
        if (a.effectBlock != 0 && block.number >= a.effectBlock) {
            a.currentAmount -= a.pendingDeallocation;
            a.pendingDeallocation = 0;
            a.effectBlock = 0;
        }
        return a;
    }

    /// @dev (avs, id) packed into one word, like EigenLayer's OperatorSetLib.key.
    function _key(OperatorSet memory set) internal pure returns (bytes32) {
        return bytes32(abi.encodePacked(set.avs, uint96(set.id)));
    }

    function _decode(bytes32 key) internal pure returns (OperatorSet memory) {
        return OperatorSet(address(uint160(uint256(key) >> 96)), uint32(uint256(key)));
    }
}
