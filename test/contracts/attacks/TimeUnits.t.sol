// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakingBase} from "../Staking.t.sol";
import {NativeStakeAdapter} from "../../../contracts/staking/NativeStakeAdapter.sol";
import {IStakingRegistry} from "../../../contracts/interfaces/IStakingRegistry.sol";

/// @dev Issue 10 case 3, "unbonding counts blocks while disputes count seconds": with 12 s blocks
/// an upheld dispute slashed nothing. Now every time is seconds and the registry refuses a window
/// its adapter's unbonding does not cover.
contract TimeUnitsAttackTest is StakingBase {
    /// @dev The operator signs, then unbonds everything at once, on a chain with 12 s blocks. A
    /// dispute decided at the very end of the slashable window still finds the whole stake.
    function test_unbondRightAfterSigning_upheldDisputeStillSlashes() public {
        address op = operators[1];
        address module = makeAddr("disputeModule");
        vm.prank(owner);
        registry.setDisputeModule(module);
        vm.prank(op);
        adapter.requestUnbond(BASE);
        uint256 window = registry.slashableWindow();
        // 12-second blocks: few blocks, many seconds
        vm.roll(block.number + window / 12);
        vm.warp(block.timestamp + window);
        vm.prank(op);
        vm.expectRevert(); // Staking_StillBonded: unbonding lasts longer than the window
        adapter.withdraw();
        uint256 before = _heldOf(op);
        assertEq(before, BASE);
        vm.prank(module);
        (uint256 reward, uint256 remainder) = registry.slashFault(op, keccak256("upheld"), 5_000, module, 2_000);
        assertEq(reward + remainder, BASE / 2, "the upheld dispute takes its share");
        assertEq(_heldOf(op), BASE / 2);
    }

    /// @dev A registry whose window outlasts its adapter's unbonding cannot be deployed.
    function test_windowLongerThanUnbonding_isRefused() public {
        NativeStakeAdapter quick = new NativeStakeAdapter(owner, address(stakeToken), 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_InvalidSlashableWindow.selector,
                WINDOW + ESCALATION,
                1 hours
            )
        );
        _deployRegistry(quick);
    }

    /// @dev Stake that could leave before the window ends does not count: an operator cannot be
    /// active with stake the window would not find.
    function test_stakeLeavingInsideTheWindow_doesNotCount() public {
        address op = operators[2];
        vm.prank(op);
        adapter.requestUnbond(1);
        (, , uint256 unlock) = adapter.stakeOf(op);
        vm.warp(unlock - registry.slashableWindow());
        assertFalse(registry.isActive(op));
    }
}
