// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakingBase} from "../Staking.t.sol";
import {IStakingRegistry, LedgerRef} from "../../../contracts/interfaces/IStakingRegistry.sol";
import {Result} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev Issue 10 case 6, "reputation without work": reputation comes only from the oracle's fee
/// ledger, which counts one per signer per result at ingestion; each ledger once; only once its
/// epoch is over and past the slashable window; never across a slash; never by a reporter.
contract ReputationAttackTest is StakingBase {
    function _refs(LedgerRef memory r) internal pure returns (LedgerRef[] memory refs) {
        refs = new LedgerRef[](1);
        refs[0] = r;
    }

    /// @dev An operator that signed nothing at ingestion earns nothing from a ledger others filled
    /// (co-signing later is not counted anywhere), and its required stake stays the base.
    function test_reputation_noGainForResultsNotSignedAtIngestion() public {
        LedgerRef memory ref = _book(operators[1], 4); // operator 1 signed 4 results; operator 0 none
        _mature(ref.epoch);
        uint256 requiredBefore = registry.requiredStake(operators[0]);
        registry.accrueReputation(operators[0], _refs(ref));
        assertEq(registry.reputationOf(operators[0]), 0, "no count, no reputation");
        assertEq(registry.requiredStake(operators[0]), requiredBefore, "required stake unchanged");
        registry.accrueReputation(operators[1], _refs(ref));
        assertEq(registry.reputationOf(operators[1]), 4 * GAIN);
    }

    /// @dev One ledger grants reputation once.
    function test_reputation_cannotAccrueTwice() public {
        LedgerRef memory ref = _book(operators[0], 2);
        _mature(ref.epoch);
        registry.accrueReputation(operators[0], _refs(ref));
        assertEq(registry.reputationOf(operators[0]), 2 * GAIN);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_AlreadyAccrued.selector,
                operators[0],
                ref.assetId,
                ref.share,
                ref.epoch
            )
        );
        registry.accrueReputation(operators[0], _refs(ref));
        // nor twice within one call
        LedgerRef memory other = _book(operators[1], 1);
        _mature(other.epoch);
        LedgerRef[] memory twice = new LedgerRef[](2);
        twice[0] = other;
        twice[1] = other;
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_AlreadyAccrued.selector,
                operators[1],
                other.assetId,
                other.share,
                other.epoch
            )
        );
        registry.accrueReputation(operators[1], twice);
        assertEq(registry.reputationOf(operators[0]), 2 * GAIN);
        assertEq(registry.reputationOf(operators[1]), 0);
    }

    /// @dev Not before the epoch is over and the slashable window passed (a result could still be
    /// disputed until then).
    function test_reputation_notBeforeTheWindowPassed() public {
        LedgerRef memory ref = _book(operators[0], 1);
        uint256 maturesAt = (ref.epoch + 1) * LEDGER_EPOCH + WINDOW + ESCALATION;
        vm.warp(maturesAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NotMatured.selector, ref.epoch, maturesAt, maturesAt - 1)
        );
        registry.accrueReputation(operators[0], _refs(ref));
        assertEq(registry.reputationOf(operators[0]), 0);
        vm.warp(maturesAt);
        registry.accrueReputation(operators[0], _refs(ref));
        assertEq(registry.reputationOf(operators[0]), GAIN);
    }

    /// @dev Results signed before a slash earn nothing after it (the slash resets reputation; the
    /// counts from before must not bring it back).
    function test_reputation_notAcrossASlash() public {
        LedgerRef memory ref = _book(operators[0], 3);
        vm.warp(block.timestamp + 1);
        _proveAs(watcher, 0, keccak256("fault"));
        uint256 slashedAt = block.timestamp;
        _mature(ref.epoch);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_EpochBeforeSlash.selector,
                operators[0],
                ref.epoch,
                slashedAt
            )
        );
        registry.accrueReputation(operators[0], _refs(ref));
        assertEq(registry.reputationOf(operators[0]), 0);
        // a later epoch counts again
        _report(operators[0], 1);
        assertEq(registry.reputationOf(operators[0]), GAIN);
    }

    /// @dev A recycled index's earlier epochs belong to its earlier holder: the new holder cannot
    /// harvest them.
    function test_reputation_recycledIndexCountsStayWithTheirHolder() public {
        address old = operators[3];
        LedgerRef memory ref = _book(old, 5);
        (, uint8 index) = registry.indexOf(old);
        vm.prank(old);
        registry.deregister();
        // fill every fresh index so the newcomer must take a recycled one
        vm.warp(block.timestamp + LEDGER_EPOCH);
        address newcomer = _fillAndRegisterNewcomer(index);
        _mature(ref.epoch);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_NoIndexInEpoch.selector, newcomer, ref.epoch));
        registry.accrueReputation(newcomer, _refs(ref));
        registry.accrueReputation(old, _refs(ref));
        assertEq(registry.reputationOf(old), MAX_GAIN);
        assertEq(registry.reputationOf(newcomer), 0);
    }

    /// @dev Uses every never-used index (each by a short-lived registration), then registers a
    /// newcomer, which must receive `expected` (the only free one).
    function _fillAndRegisterNewcomer(uint8 expected) internal returns (address newcomer) {
        for (uint256 i = 4; i < 256; ++i) {
            address a = address(uint160(0xA000 + i));
            _stake(a, BASE);
            vm.startPrank(a);
            registry.register();
            registry.deregister();
            vm.stopPrank();
        }
        newcomer = makeAddr("newcomer");
        _stake(newcomer, BASE);
        vm.prank(newcomer);
        registry.register();
        (, uint8 index) = registry.indexOf(newcomer);
        assertEq(index, expected);
    }

    /// @dev The gain per ledger epoch is capped however many ledgers the operator fills.
    function test_reputation_cappedPerLedgerEpoch() public {
        LedgerRef[] memory refs = new LedgerRef[](3);
        for (uint256 i; i < 3; ++i) refs[i] = _book(operators[0], 4);
        _mature(refs[0].epoch);
        uint256 g = gasleft();
        registry.accrueReputation(operators[0], refs);
        emit log_named_uint("accrueReputation gas, 3 ledgers", g - gasleft());
        assertEq(registry.reputationOf(operators[0]), MAX_GAIN);
    }

    /// @dev Gas of one ledger, the common case (one ledger per epoch and asset).
    function test_reputation_gasOneLedger() public {
        LedgerRef memory ref = _book(operators[0], 4);
        _mature(ref.epoch);
        uint256 g = gasleft();
        registry.accrueReputation(operators[0], _refs(ref));
        emit log_named_uint("accrueReputation gas, 1 ledger", g - gasleft());
    }

    /// @dev Issue 14: the first three ledgers of an epoch are marked in the epoch's one slot, later
    /// ones in a mapping: every ledger, in either place, grants reputation once and only once.
    function test_reputation_moreLedgersThanTheSlotMarks_eachAccruesOnce() public {
        LedgerRef[] memory refs = new LedgerRef[](5);
        for (uint256 i; i < 5; ++i) refs[i] = _book(operators[0], 1);
        _mature(refs[0].epoch);
        registry.accrueReputation(operators[0], refs);
        assertEq(registry.reputationOf(operators[0]), 5 * GAIN, "five ledgers of one result each");
        for (uint256 i; i < 5; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IStakingRegistry.Staking_AlreadyAccrued.selector,
                    operators[0],
                    refs[i].assetId,
                    refs[i].share,
                    refs[i].epoch
                )
            );
            registry.accrueReputation(operators[0], _refs(refs[i]));
        }
        assertEq(registry.reputationOf(operators[0]), 5 * GAIN);
    }

    /// @dev Issue 14: one transaction accrues a ledger for all its signers, exactly as one call per
    /// operator would; one operator that may not accrue reverts the whole call.
    function test_reputation_accrueMany_likeOneCallEach() public {
        uint256 epoch = block.timestamp / LEDGER_EPOCH;
        LedgerRef memory ref = LedgerRef(0, 777, epoch);
        address[] memory ops = new address[](3);
        for (uint256 i; i < 3; ++i) {
            (, uint8 index) = registry.indexIn(operators[i], epoch);
            ledger.book(address(registry), 0, 777, epoch, index, i + 1);
            ops[i] = operators[i];
        }
        _mature(epoch);
        uint256 g = gasleft();
        registry.accrueReputationMany(ops, _refs(ref));
        emit log_named_uint("accrueReputationMany gas, 3 operators x 1 ledger", g - gasleft());
        for (uint256 i; i < 3; ++i) assertEq(registry.reputationOf(operators[i]), (i + 1) * GAIN);
        // again: the first one refuses, and with it the whole call
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_AlreadyAccrued.selector, operators[0], 0, 777, epoch)
        );
        registry.accrueReputationMany(ops, _refs(ref));
        // an unknown operator among known ones reverts all of it
        LedgerRef memory fresh = _book(operators[3], 1);
        _mature(fresh.epoch);
        address[] memory mixed = new address[](2);
        (mixed[0], mixed[1]) = (operators[3], makeAddr("nobody"));
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_UnknownOperator.selector, mixed[1]));
        registry.accrueReputationMany(mixed, _refs(fresh));
        assertEq(registry.reputationOf(operators[3]), 0);
    }

    function test_reputation_refusesWithoutLedger() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_LedgerAlreadySet.selector, address(ledger)));
        registry.setLedger(address(1));
    }
}
