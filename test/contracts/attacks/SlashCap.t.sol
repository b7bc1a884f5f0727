// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakingBase} from "../Staking.t.sol";
import {IStakingRegistry} from "../../../contracts/interfaces/IStakingRegistry.sol";
import {INativeStakeAdapter} from "../../../contracts/interfaces/INativeStakeAdapter.sol";
import {IOperatorSet} from "../../../contracts/interfaces/IOperatorSet.sol";

/// @dev Issue 10 case 3, "colluders pre-burn the global slash cap". Choice: a capped slash is not
/// forgiven. The excess stays owed; while it owes, the operator is inactive, cannot register and
/// cannot withdraw the owed part; anyone collects it for the treasury as the cap refills.
contract SlashCapAttackTest is StakingBase {
    uint256 internal constant CAP = 50e18;
    uint256 internal constant PERIOD = 1 days;
    uint256 internal constant BIG = 1_000e18;

    function setUp() public override {
        super.setUp();
        vm.prank(owner);
        registry.setSlashCap(CAP, PERIOD);
    }

    /// @dev A cheap colluder self-slashes (equivocation) and spends the whole period's cap; then the
    /// big guilty operator's fault is proven. Before the fix it lost (almost) nothing; now the
    /// excess is owed and collected, period after period, until paid in full.
    function test_colludersSpendingTheCap_doNotShieldTheGuilty() public {
        address guilty = operators[0];
        _stake(guilty, BIG - BASE); // 1_000e18 staked
        // the colluder (operator 3) burns the cap on itself
        _proveAs(watcher, 3, keccak256("self-slash"));
        (, , uint256 left) = registry.slashCap();
        assertEq(left, 0, "cap spent");

        uint256 treasuryBefore = adapter.slashedOwed(treasury);
        _proveAs(watcher, 0, keccak256("real fraud"));
        uint256 wanted = (BIG * SLASH_BPS) / 10_000; // 500e18
        assertEq(registry.owedSlash(guilty), wanted, "nothing forgiven");
        assertEq(_heldOf(guilty), BIG, "nothing taken yet");
        assertFalse(registry.isActive(guilty), "inactive while it owes");
        address[] memory signers = new address[](1);
        signers[0] = guilty;
        vm.expectRevert(abi.encodeWithSelector(IOperatorSet.OperatorSet_NotActive.selector, guilty));
        registry.checkSigners(signers);

        // it tries to leave with everything: the owed part stays
        vm.prank(guilty);
        adapter.requestUnbond(BIG);
        vm.warp(block.timestamp + UNBONDING);
        uint256 balanceBefore = stakeToken.balanceOf(guilty);
        vm.prank(guilty);
        adapter.withdraw();
        assertEq(stakeToken.balanceOf(guilty) - balanceBefore, BIG - wanted, "only the part it does not owe");
        assertEq(_heldOf(guilty), wanted);
        vm.prank(guilty);
        vm.expectRevert(abi.encodeWithSelector(INativeStakeAdapter.Staking_SlashOwed.selector, guilty, wanted, wanted));
        adapter.withdraw();

        // anyone collects as the cap refills
        uint256 collected;
        address keeper = makeAddr("keeper");
        while (registry.owedSlash(guilty) != 0) {
            vm.warp(block.timestamp + PERIOD);
            vm.prank(keeper);
            collected += registry.collectOwedSlash(guilty);
        }
        assertEq(collected, wanted);
        assertEq(_heldOf(guilty), 0);
        assertEq(adapter.slashedOwed(treasury) - treasuryBefore, wanted, "all of it reached the treasury");
        // and it is not collectable twice
        vm.warp(block.timestamp + PERIOD);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_NothingToCollect.selector, guilty, 0, CAP));
        registry.collectOwedSlash(guilty);
    }

    /// @dev While it owes, the operator cannot come back by registering again.
    function test_owingOperator_cannotRegister() public {
        _proveAs(watcher, 3, keccak256("burn the cap"));
        _proveAs(watcher, 0, keccak256("fraud"));
        address op = operators[0];
        registry.evict(op); // objective fault: evictable
        _stake(op, 10 * BASE);
        vm.prank(op);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_InsufficientStakeForRegistration.selector,
                op,
                11 * BASE,
                type(uint256).max
            )
        );
        registry.register();
        vm.warp(block.timestamp + PERIOD);
        registry.collectOwedSlash(op);
        assertEq(registry.owedSlash(op), 0);
        vm.prank(op);
        registry.register();
        assertTrue(registry.isActive(op));
    }

    /// @dev The cap is collected, not bypassed: collecting within a spent period takes nothing.
    function test_collect_refusedWhileTheCapIsSpent() public {
        _proveAs(watcher, 3, keccak256("burn"));
        _proveAs(watcher, 0, keccak256("fraud"));
        uint256 owed = registry.owedSlash(operators[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NothingToCollect.selector, operators[0], owed, 0)
        );
        registry.collectOwedSlash(operators[0]);
        assertEq(_heldOf(operators[0]), BASE);
    }
}
