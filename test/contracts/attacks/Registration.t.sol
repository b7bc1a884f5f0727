// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakingBase} from "../Staking.t.sol";
import {IStakingRegistry} from "../../../contracts/interfaces/IStakingRegistry.sol";
import {INativeStakeAdapter} from "../../../contracts/interfaces/INativeStakeAdapter.sol";

/// @dev Issue 10 case 5 (registration DoS) and case 2 (evict after a bought dispute).
/// Choice: indices are recycled, never within one ledger epoch: a freed index cools down until the
/// next epoch (so `indexIn` names one holder per index per epoch), then anyone may take it.
contract RegistrationAttackTest is StakingBase {
    uint256 internal constant CYCLED = 252;

    function _cycle(uint256 n, uint256 salt) internal {
        for (uint256 i; i < n; ++i) {
            address a = address(uint160(uint256(keccak256(abi.encode("cycler", salt, i)))));
            _stake(a, BASE);
            vm.startPrank(a);
            registry.register();
            registry.deregister();
            vm.stopPrank();
        }
    }

    /// @dev The attack: cycling 252 addresses through register/deregister used every index for
    /// good. Now they cool down for the rest of the epoch only; an honest newcomer registers in
    /// the next one, and the cycling stake stays locked in the adapter meanwhile (it is the cost).
    function test_registrationCycling_cannotFillTheSetForGood() public {
        uint256 epoch = block.timestamp / LEDGER_EPOCH;
        uint256 lockedBefore = adapter.totalStaked();
        _cycle(CYCLED, 1);
        assertTrue(registry.operators(255) != address(0), "every index was used once");
        assertEq(adapter.totalStaked(), lockedBefore + CYCLED * BASE, "the attacker's stake is in the adapter");

        address honest = makeAddr("honest");
        _stake(honest, BASE);
        vm.prank(honest);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_RegistryFull.selector, ~uint256(15), epoch + 1)
        );
        registry.register();

        vm.warp((epoch + 1) * LEDGER_EPOCH);
        vm.prank(honest);
        uint256 g = gasleft();
        registry.register();
        emit log_named_uint("register gas, recycled index", g - gasleft());
        assertTrue(registry.isActive(honest));
        (, uint8 index) = registry.indexOf(honest);
        assertEq(index, 4, "the lowest recycled index");

        // cycling again in the new epoch only delays others until the next one
        vm.prank(owner);
        registry.setThreshold(4); // 6 registered need 4
        _cycle(20, 2);
        address second = makeAddr("second");
        _stake(second, BASE);
        vm.prank(second);
        registry.register();
        assertTrue(registry.isRegistered(second), "free indices from earlier epochs remain");
    }

    /// @dev `indexIn` names exactly one holder per index per epoch, across recycling.
    function test_indexIn_namesOneHolderPerEpoch() public {
        address old = operators[3];
        uint256 e0 = block.timestamp / LEDGER_EPOCH;
        vm.prank(old);
        registry.deregister();
        _cycle(CYCLED, 3); // every fresh index used
        address newcomer = makeAddr("newcomer");
        _stake(newcomer, BASE);
        vm.prank(newcomer);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_RegistryFull.selector, ~uint256(7), e0 + 1));
        registry.register(); // index 3 cools during e0 too

        vm.warp((e0 + 1) * LEDGER_EPOCH);
        vm.prank(newcomer);
        registry.register();
        (bool held, uint8 index) = registry.indexIn(newcomer, e0 + 1);
        assertTrue(held);
        assertEq(index, 3);
        (held, ) = registry.indexIn(newcomer, e0);
        assertFalse(held, "the newcomer did not hold it in e0");
        (held, index) = registry.indexIn(old, e0);
        assertTrue(held);
        assertEq(index, 3);
        (held, ) = registry.indexIn(old, e0 + 1);
        assertFalse(held, "the old holder no longer holds it");

        // the old operator comes back: its index is taken, it gets another recycled one
        vm.prank(old);
        registry.register();
        (held, index) = registry.indexIn(old, e0 + 1);
        assertTrue(held);
        assertTrue(index != 3);
    }

    /// @dev An operator re-registering takes back its own index at once when nobody held it since.
    function test_reregister_takesBackItsOwnIndexAtOnce() public {
        address op = operators[2];
        vm.startPrank(op);
        registry.deregister();
        uint256 g = gasleft();
        registry.register();
        emit log_named_uint("register gas, own index back", g - gasleft());
        vm.stopPrank();
        (, uint8 index) = registry.indexOf(op);
        assertEq(index, 2);
        (bool held, uint8 idx) = registry.indexIn(op, block.timestamp / LEDGER_EPOCH);
        assertTrue(held);
        assertEq(idx, 2);
    }

    function test_register_gasFreshIndex() public {
        address a = makeAddr("fresh");
        _stake(a, BASE);
        vm.prank(a);
        uint256 g = gasleft();
        registry.register();
        emit log_named_uint("register gas, fresh index", g - gasleft());
    }

    /*//////////////////////////////////////////////////////////////
                 CASE 2: EVICT ONLY FOR OBJECTIVE REASONS
    //////////////////////////////////////////////////////////////*/

    /// @dev The chained attack: a bought (false) dispute slashes two honest operators below their
    /// required stake, the attacker evicts them and registers its own keys up to the threshold.
    /// The evict step fails: what disputes took does not make an operator evictable.
    function test_boughtDisputeSlash_thenEvict_isRefused() public {
        address module = makeAddr("disputeModule");
        vm.prank(owner);
        registry.setDisputeModule(module);
        address attacker = makeAddr("attacker");
        uint256 attackerBefore = stakeToken.balanceOf(attacker);
        for (uint256 i = 1; i <= 2; ++i) {
            vm.prank(module);
            registry.slashFault(operators[i], keccak256(abi.encode("false claim", i)), 5_000, attacker, 0);
            assertFalse(registry.isActive(operators[i]), "slashed below the required stake");
        }
        assertEq(stakeToken.balanceOf(attacker), attackerBefore, "reward 0 in this setup");
        for (uint256 i = 1; i <= 2; ++i) {
            vm.prank(attacker);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IStakingRegistry.Staking_NotEvictable.selector,
                    operators[i],
                    BASE / 2,
                    BASE / 2,
                    BASE
                )
            );
            registry.evict(operators[i]);
            assertTrue(registry.isRegistered(operators[i]), "the seat stays");
        }
        // the attacker's own keys: at most one more seat under the threshold rule (3 of 5)
        address k1 = makeAddr("k1");
        address k2 = makeAddr("k2");
        _stake(k1, BASE);
        _stake(k2, BASE);
        vm.prank(k1);
        registry.register();
        vm.prank(k2);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidThreshold.selector, 3, 6));
        registry.register();
        assertEq(registry.registeredCount(), 5);

        // the honest operator tops up and is active again
        _stake(operators[1], BASE / 2);
        assertTrue(registry.isActive(operators[1]));
    }

    /// @dev Evict still works for stake withdrawn or unbonding ...
    function test_evict_worksForUnbondedStake() public {
        address op = operators[3];
        vm.prank(op);
        adapter.requestUnbond(BASE);
        vm.warp(block.timestamp + UNBONDING - (WINDOW + ESCALATION));
        assertFalse(registry.isActive(op));
        registry.evict(op);
        assertFalse(registry.isRegistered(op));
    }

    /// @dev ... for an objective fault (equivocation) ...
    function test_evict_worksAfterAnObjectiveFault() public {
        _proveAs(watcher, 3, keccak256("r"));
        registry.evict(operators[3]);
        assertFalse(registry.isRegistered(operators[3]));
    }

    /// @dev ... and for a dispute-slashed operator that then withdrew the rest.
    function test_evict_worksWhenDisputeSlashedOperatorAlsoUnbonds() public {
        address module = makeAddr("disputeModule");
        vm.prank(owner);
        registry.setDisputeModule(module);
        vm.prank(module);
        registry.slashFault(operators[1], keccak256("claim"), 5_000, module, 0);
        vm.prank(operators[1]);
        adapter.requestUnbond(BASE / 2);
        vm.warp(block.timestamp + UNBONDING - (WINDOW + ESCALATION));
        registry.evict(operators[1]);
        assertFalse(registry.isRegistered(operators[1]));
    }
}
