// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice An EigenLayer operator set: the AVS that owns it and its id within that AVS
/// (same shape as EigenLayer's `OperatorSetLib.OperatorSet`).
struct OperatorSet {
    address avs;
    uint32 id;
}

/// @title IStrategyLike
/// @notice The two calls of EigenLayer's `IStrategy` that the EigenLayerAdapter uses. A strategy
/// holds one underlying ERC-20 and accounts for it in shares.
interface IStrategyLike {
    /// @notice The ERC-20 the strategy holds.
    function underlyingToken() external view returns (IERC20);

    /// @notice How many underlying tokens `amountShares` shares are worth now.
    function sharesToUnderlyingView(uint256 amountShares) external view returns (uint256);
}

/// @title IAllocationManagerLike
/// @notice The subset of EigenLayer's `IAllocationManager` (slashing and redistribution release)
/// that the EigenLayerAdapter needs, with EigenLayer's names, argument shapes and units:
/// proportions are wads (1e18 = 100%), blocks are `uint32`, stake is in strategy shares.
/// @dev Mirrors the upstream interface so the adapter can point at the real AllocationManager;
/// nothing here is EigenLayer code. The local stand-in is contracts/test/LocalAllocationManager.sol.
interface IAllocationManagerLike {
    /// @notice What an AVS slashes: `wadsToSlash[i]` (0 < wad <= 1e18) of the operator's allocation
    /// to operator set (`msg.sender`'s avs, `operatorSetId`) from `strategies[i]`. Strategies must
    /// be in strictly ascending address order.
    struct SlashingParams {
        address operator;
        uint32 operatorSetId;
        IStrategyLike[] strategies;
        uint256[] wadsToSlash;
        string description;
    }

    /// @notice An operator set to create, with the strategies it may slash.
    struct CreateSetParams {
        uint32 operatorSetId;
        IStrategyLike[] strategies;
    }

    /// @notice Blocks a deallocation (or deregistration) stays slashable after it is queued: a
    /// deallocation queued at block `b` frees its stake at block `b + DEALLOCATION_DELAY + 1`.
    function DEALLOCATION_DELAY() external view returns (uint32);

    /// @notice Slashes `params.operator` in operator set (`avs`, `params.operatorSetId`).
    /// @dev Callable by the AVS (or, upstream, an account it appointed). Slashed funds go to the
    /// set's redistribution recipient (upstream: later, through the StrategyManager).
    /// @return slashId The operator set's counter for this slash.
    /// @return shares The shares slashed from each strategy.
    function slashOperator(
        address avs,
        SlashingParams calldata params
    ) external returns (uint256 slashId, uint256[] memory shares);

    /// @notice Creates operator sets whose slashed funds go to `redistributionRecipients[i]`
    /// instead of being burnt. The recipient can never change.
    /// @dev Callable by the AVS (or an account it appointed).
    function createRedistributingOperatorSets(
        address avs,
        CreateSetParams[] calldata params,
        address[] calldata redistributionRecipients
    ) external;

    /// @notice For each operator and strategy, the minimum stake (in shares) slashable by
    /// `operatorSet` from now until `futureBlock`: deallocations that take effect at or before
    /// `futureBlock` are already subtracted; operators not slashable by the set count zero.
    /// @dev Only meaningful for `futureBlock <= block.number + DEALLOCATION_DELAY`: a deallocation
    /// queued later could take effect before a block further out.
    function getMinimumSlashableStake(
        OperatorSet memory operatorSet,
        address[] memory operators,
        IStrategyLike[] memory strategies,
        uint32 futureBlock
    ) external view returns (uint256[][] memory slashableStake);

    /// @notice Where slashed funds of `operatorSet` go: its redistribution recipient, or the burn
    /// address for a non-redistributing set.
    function getRedistributionRecipient(OperatorSet memory operatorSet) external view returns (address);
}
