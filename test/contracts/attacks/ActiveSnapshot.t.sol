// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakingBase} from "../Staking.t.sol";
import {IStakingRegistry} from "../../../contracts/interfaces/IStakingRegistry.sol";
import {IRestakingAdapter} from "../../../contracts/interfaces/IRestakingAdapter.sol";
import {IOperatorSet} from "../../../contracts/interfaces/IOperatorSet.sol";
import {IInstructionIngestor} from "../../../contracts/interfaces/IInstructionIngestor.sol";
import {Instruction, Result, Ops} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev Issue 14: an activity snapshot ({StakingRegistry.snapshotActive}) lets the ingest accept a
/// signer from its member slot alone, without asking the adapter for its stake. Who gains by
/// breaking it: an operator that would sign with stake that is gone or leaving (unbonded, slashed,
/// below new rules, decayed reputation), or an outsider passing as a member. Each case below is
/// that attack, and what stops it.
contract ActiveSnapshotAttackTest is StakingBase {
    /// @dev WINDOW + ESCALATION (the slashable window) = 6 h; UNBONDING = 1 day: a snapshot's last
    /// second is 18 h - 1 s after it is taken.
    uint256 internal constant VALIDITY = UNBONDING - (WINDOW + ESCALATION) - 1;

    function _ops(uint256 n) internal view returns (address[] memory list) {
        list = new address[](n);
        for (uint256 i; i < n; ++i) list[i] = operators[i];
    }

    function _one(address op) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = op;
    }

    function _snapshot(address[] memory list) internal returns (uint256 until) {
        until = registry.snapshotActive(list);
    }

    function _expectRefused(address signer) internal {
        vm.expectRevert(abi.encodeWithSelector(IOperatorSet.OperatorSet_NotActive.selector, signer));
        registry.checkSigners(_one(signer));
    }

    /// @dev The point of the snapshot: checkSigners no longer asks the adapter, and says the same.
    function test_snapshot_acceptsWithoutAskingTheAdapter() public {
        uint256 until = _snapshot(_ops(3));
        assertEq(until, block.timestamp + VALIDITY);
        assertEq(registry.activeUntil(operators[0]), until);
        vm.expectCall(address(adapter), abi.encodeWithSelector(IRestakingAdapter.slashableStake.selector), 0);
        (uint256 threshold, uint256 bitmap) = registry.checkSigners(_ops(3));
        assertEq(threshold, 3);
        assertEq(bitmap, 7);
    }

    /// @dev Forged stake: stake already unbonding (leaving before the last dispute window a
    /// snapshot would cover ends) is not counted; the snapshot is refused with the values. (Stake
    /// unbonded this very second still counts: it is locked past that window.)
    function test_snapshotOfStakeAlreadyLeaving_isRefused() public {
        address op = operators[0];
        vm.prank(op);
        adapter.requestUnbond(BASE);
        vm.warp(block.timestamp + 1);
        uint256 until = block.timestamp + VALIDITY;
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_NotActiveThrough.selector, op, until, 0, BASE));
        registry.snapshotActive(_one(op));
    }

    /// @dev Stale snapshot: an operator unbonds everything right after its snapshot. Every
    /// signature the snapshot lets through (up to its last second) stays slashable for the whole
    /// slashable window; one second later the live check refuses it.
    function test_unbondAfterSnapshot_staysSlashableForEverySignatureItCovers() public {
        address op = operators[0];
        uint256 until = _snapshot(_one(op));
        vm.prank(op);
        adapter.requestUnbond(BASE);

        vm.warp(until);
        registry.checkSigners(_one(op)); // still counts at its last second
        // a signature made now can be disputed until now + window: the stake is there until then
        assertEq(adapter.slashableStake(op, block.timestamp + WINDOW + ESCALATION), BASE);
        (, , uint256 unlock) = adapter.stakeOf(op);
        assertGt(unlock, until + WINDOW + ESCALATION, "unlock after the last covered window");

        vm.warp(until + 1);
        assertEq(registry.activeUntil(op), 0);
        _expectRefused(op);
    }

    /// @dev A slash (here an equivocation proof) ends the snapshot at once: the slashed operator
    /// cannot go on signing on the stake the snapshot counted.
    function test_slashAfterSnapshot_endsIt() public {
        _snapshot(_ops(3));
        _proveAs(watcher, 0, keccak256("equivocation"));
        assertEq(registry.activeUntil(operators[0]), 0);
        _expectRefused(operators[0]);
        registry.checkSigners(_one(operators[1])); // the others keep theirs
        assertGt(registry.activeUntil(operators[1]), 0);
    }

    /// @dev Signer not in the set: an address that never registered cannot be snapshotted, and
    /// one that deregistered after its snapshot is refused at once.
    function test_outsiderAndDeregisteredOperator_areRefused() public {
        address outsider = makeAddr("outsider");
        _stake(outsider, BASE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_NotActiveThrough.selector,
                outsider,
                block.timestamp + VALIDITY,
                BASE,
                type(uint256).max
            )
        );
        registry.snapshotActive(_one(outsider));
        _expectRefused(outsider);

        address op = operators[3];
        _snapshot(_one(op));
        vm.prank(op);
        registry.deregister();
        assertEq(registry.activeUntil(op), 0);
        _expectRefused(op);
    }

    /// @dev A snapshot of an earlier registration does not carry over to the next one.
    function test_reRegistration_startsWithoutSnapshot() public {
        address op = operators[3];
        _snapshot(_one(op));
        vm.prank(op);
        registry.deregister();
        vm.prank(op);
        registry.register();
        assertEq(registry.activeUntil(op), 0);
    }

    /// @dev A set from other rules: raising the required stake (or changing reputation rules)
    /// ends every snapshot; operators short under the new rules are refused at once.
    function test_newStakeRules_endEverySnapshot() public {
        _snapshot(_ops(4));
        vm.prank(owner);
        registry.setStakeParams(2 * BASE, FLOOR, ALPHA);
        for (uint256 i; i < 4; ++i) {
            assertEq(registry.activeUntil(operators[i]), 0);
            _expectRefused(operators[i]);
        }
        vm.prank(owner);
        registry.setStakeParams(BASE, FLOOR, ALPHA);
        _snapshot(_one(operators[0]));
        vm.prank(owner);
        registry.setReputationParams(EPOCH, GAIN, MAX_GAIN, DECAY);
        assertEq(registry.activeUntil(operators[0]), 0);
    }

    /// @dev Reputation decays during a snapshot: the snapshot asks for the stake the decayed
    /// reputation requires at its end, not the discount the operator has today.
    function test_reputationDecayingBeforeTheEnd_isChargedAtTheEnd() public {
        address op = operators[0];
        _report(op, 5); // +500 reputation: 2.5 % off BASE
        // near the end of this decay epoch: the snapshot's end falls in the next one (-50)
        vm.warp((block.timestamp / EPOCH + 1) * EPOCH - 2);
        uint256 discounted = registry.requiredStake(op);
        assertLt(discounted, BASE);
        // keep bonded exactly what today's discount needs (the rest unbonds, and a second later
        // no longer counts for the snapshot's last window)
        vm.prank(op);
        adapter.requestUnbond(BASE - discounted);
        vm.warp(block.timestamp + 1);
        assertTrue(registry.isActive(op), "active today");
        uint256 until = block.timestamp + VALIDITY;
        assertEq(until / EPOCH, block.timestamp / EPOCH + 1);
        uint256 requiredThen = (BASE * (10_000 - (ALPHA * (5 * GAIN - DECAY)) / 10_000)) / 10_000;
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_NotActiveThrough.selector,
                op,
                until,
                discounted,
                requiredThen
            )
        );
        registry.snapshotActive(_one(op));
    }

    /// @dev A slash over the cap leaves a debt: it ends the snapshot, and an operator owing a slash
    /// cannot be snapshotted again.
    function test_owedSlash_endsAndRefusesSnapshots() public {
        address op = operators[0];
        _snapshot(_one(op));
        vm.prank(owner);
        registry.setSlashCap(1, 100);
        _proveAs(watcher, 0, keccak256("over the cap"));
        assertEq(registry.activeUntil(op), 0);
        vm.expectPartialRevert(IStakingRegistry.Staking_NotActiveThrough.selector);
        registry.snapshotActive(_one(op));
        _expectRefused(op);
    }

    /// @dev Duplicated signer: a snapshot changes nothing about the ingestor's signature rules;
    /// the same operator's signature twice is refused.
    function test_duplicatedSignerUnderSnapshot_isRefusedByTheIngestor() public {
        vm.prank(owner);
        ingestor.setOperatorSet(IOperatorSet(address(registry)));
        _snapshot(_ops(4));
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory sigs = _sign(r, _three());
        sigs[1] = sigs[0];
        vm.prank(poster);
        vm.expectPartialRevert(IInstructionIngestor.Ingestor_SignersNotAscending.selector);
        ingestor.ingest(r, ix, sigs, hex"00");

        // and the honest quorum, snapshotted, ingests
        _ingest(r, ix);
        assertTrue(ingestor.isIngested(block.chainid, id));
    }

    /// @dev No snapshot window: an adapter whose unbonding is no longer than the slashable window
    /// cannot back one.
    function test_noWindow_refusesSnapshots() public {
        vm.mockCall(
            address(adapter),
            abi.encodeWithSelector(IRestakingAdapter.unbondingPeriod.selector),
            abi.encode(WINDOW + ESCALATION)
        );
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_NoSnapshotWindow.selector,
                WINDOW + ESCALATION,
                WINDOW + ESCALATION
            )
        );
        registry.snapshotActive(_ops(1));
    }
}
