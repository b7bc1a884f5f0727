// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IOperatorSet} from "../interfaces/IOperatorSet.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Membership, MembershipLib} from "./Membership.sol";

/// @title OwnedOperatorSet
/// @notice An operator set its owner manages directly (the staked registry replaces it later).
/// @dev The threshold is always a strict majority of the active operators, so two conflicting
/// results can never both reach it without an operator signing both (which is slashable).
contract OwnedOperatorSet is IOperatorSet, Ownable2Step {
    using MembershipLib for Membership;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator is already active.
    error OperatorSet_AlreadyActive(address operator);
    /// @notice All 256 indices are taken.
    error OperatorSet_Full();
    /// @notice The threshold must be a strict majority of the active operators and at least 1.
    error OperatorSet_InvalidThreshold(uint256 threshold, uint256 activeCount);
    /// @notice The zero address cannot be an operator.
    error OperatorSet_ZeroAddress();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Emitted when an operator becomes active (new or re-activated), with its index.
    event OperatorAdded(address indexed operator, uint8 index);
    /// @notice Emitted when an operator stops being active.
    event OperatorRemoved(address indexed operator, uint8 index);
    /// @notice Emitted when the threshold changes.
    event ThresholdSet(uint256 previous, uint256 current);

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    uint256 private constant MAX_OPERATORS = 256;

    /// @dev operator => its index and whether it is known and active ({Membership}).
    mapping(address operator => Membership membership) private _members;
    /// @notice Operator of each index, in the order they were first added.
    address[] public operators;
    /// @inheritdoc IOperatorSet
    uint256 public threshold;
    /// @notice Number of active operators.
    uint256 public activeCount;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(
        address initialOwner,
        address[] memory initialOperators,
        uint256 initialThreshold
    ) Ownable(initialOwner) {
        for (uint256 i; i < initialOperators.length; ++i) {
            _add(initialOperators[i]);
        }
        _setThreshold(initialThreshold);
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @notice Activates `operator`, giving it the next index (or its old one).
    /// @dev Requirements: owner; not active; fewer than 256 indices used. The threshold stays a
    /// majority only if the owner raises it: call {setThreshold} in the same batch when needed.
    /// Emits {OperatorAdded}.
    function addOperator(address operator) external onlyOwner {
        _add(operator);
        _checkThreshold(threshold, activeCount);
    }

    /// @notice Deactivates `operator`; it keeps its index and can still claim fees it earned.
    /// @dev Requirements: owner; active; the threshold stays reachable. Emits {OperatorRemoved}.
    function removeOperator(address operator) external onlyOwner {
        Membership membership = _members[operator];
        if (!membership.isActive()) revert OperatorSet_NotActive(operator);
        _members[operator] = membership.withActive(false);
        uint256 remaining = activeCount - 1;
        activeCount = remaining;
        _checkThreshold(threshold, remaining);
        emit OperatorRemoved(operator, membership.index());
    }

    /// @notice Sets how many distinct signatures a result needs.
    /// @dev Requirements: owner; 1 <= newThreshold <= activeCount and 2 * newThreshold > activeCount.
    /// Emits {ThresholdSet}.
    function setThreshold(uint256 newThreshold) external onlyOwner {
        _setThreshold(newThreshold);
    }

    /// @notice Adds and removes operators and sets the threshold in one step, checked at the end.
    /// @dev Requirements: owner. Emits the events of each change.
    function reconfigure(address[] calldata add, address[] calldata remove, uint256 newThreshold) external onlyOwner {
        for (uint256 i; i < add.length; ++i) {
            _add(add[i]);
        }
        for (uint256 i; i < remove.length; ++i) {
            Membership membership = _members[remove[i]];
            if (!membership.isActive()) revert OperatorSet_NotActive(remove[i]);
            _members[remove[i]] = membership.withActive(false);
            --activeCount;
            emit OperatorRemoved(remove[i], membership.index());
        }
        _setThreshold(newThreshold);
    }

    /// @inheritdoc IOperatorSet
    function checkSigners(address[] calldata signers) external view returns (uint256, uint256 indexBitmap) {
        for (uint256 i; i < signers.length; ++i) {
            Membership membership = _members[signers[i]];
            if (!membership.isActive()) revert OperatorSet_NotActive(signers[i]);
            indexBitmap |= 1 << membership.index();
        }
        return (threshold, indexBitmap);
    }

    /// @inheritdoc IOperatorSet
    function indexOf(address operator) external view returns (bool known, uint8 index) {
        Membership membership = _members[operator];
        return (membership.isKnown(), membership.index());
    }

    /// @inheritdoc IOperatorSet
    /// @dev Indices here are never recycled: an operator's index is its own in every epoch, and no
    /// other operator held it before (a lane nobody held is empty), so the stable index is the answer.
    function indexIn(address operator, uint256) external view returns (bool held, uint8 index) {
        Membership membership = _members[operator];
        return (membership.isKnown(), membership.index());
    }

    /// @inheritdoc IOperatorSet
    function isActive(address operator) external view returns (bool) {
        return _members[operator].isActive();
    }

    /// @inheritdoc IOperatorSet
    function allOperators() external view returns (address[] memory) {
        return operators;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _add(address operator) internal {
        if (operator == address(0)) revert OperatorSet_ZeroAddress();
        Membership membership = _members[operator];
        if (membership.isActive()) revert OperatorSet_AlreadyActive(operator);
        if (!membership.isKnown()) {
            uint256 index = operators.length;
            if (index >= MAX_OPERATORS) revert OperatorSet_Full();
            operators.push(operator);
            membership = MembershipLib.known(index);
        }
        _members[operator] = membership.withActive(true);
        ++activeCount;
        emit OperatorAdded(operator, membership.index());
    }

    function _setThreshold(uint256 newThreshold) internal {
        _checkThreshold(newThreshold, activeCount);
        uint256 previous = threshold;
        threshold = newThreshold;
        emit ThresholdSet(previous, newThreshold);
    }

    function _checkThreshold(uint256 t, uint256 active) internal pure {
        if (t == 0 || t > active || 2 * t <= active) revert OperatorSet_InvalidThreshold(t, active);
    }
}
