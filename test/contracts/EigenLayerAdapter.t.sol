// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {EigenLayerAdapter} from "../../contracts/staking/EigenLayerAdapter.sol";
import {LocalAllocationManager, LocalStrategy} from "../../contracts/test/LocalAllocationManager.sol";
import {
    IAllocationManagerLike,
    IStrategyLike,
    OperatorSet
} from "../../contracts/interfaces/eigen/IAllocationManagerLike.sol";
import {StakingRegistry} from "../../contracts/staking/StakingRegistry.sol";
import {StandardERC20} from "../../contracts/tokens/StandardERC20.sol";
import {IRestakingAdapter} from "../../contracts/interfaces/IRestakingAdapter.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @dev The EigenLayerAdapter against the local AllocationManager stand-in: the adapter is its
/// own AVS (operator set SET_ID, redistribution recipient = the adapter).
abstract contract EigenAdapterBase is BaseTest {
    uint32 internal constant DELAY = 200; // DEALLOCATION_DELAY, blocks
    uint32 internal constant SET_ID = 7;
    uint256 internal constant WAD = 1e18;

    address internal slasherAcct = makeAddr("slasher");
    address internal recipient = makeAddr("recipient");
    address internal treasury = makeAddr("treasury");
    address internal watcher = makeAddr("watcher");
    address internal stranger = makeAddr("stranger");

    StandardERC20 internal stakeToken;
    LocalStrategy internal strategy;
    LocalAllocationManager internal alm;
    EigenLayerAdapter internal adapter;
    OperatorSet internal set;

    function setUp() public virtual override {
        super.setUp();
        _roll(1_000);
        stakeToken = new StandardERC20("Versatus", "VRS", address(this), 1_000_000_000_000e18);
        strategy = new LocalStrategy(IERC20(address(stakeToken)));
        alm = new LocalAllocationManager(DELAY);
        adapter = _newAdapter(SET_ID);
        set = OperatorSet(address(adapter), SET_ID);
        vm.prank(owner);
        adapter.setSlasher(slasherAcct);
    }

    /// @dev Moves block number and timestamp together (one second per block, the adapter's
    /// `secondsPerBlock` here), so the block numbers these tests reason in are also the times the
    /// adapter's `slashableStake` takes.
    function _roll(uint256 b) internal {
        vm.roll(b);
        vm.warp(b);
    }

    function _newAdapter(uint32 setId) internal returns (EigenLayerAdapter) {
        return
            new EigenLayerAdapter(
                owner,
                IAllocationManagerLike(address(alm)),
                address(0),
                setId,
                strategy,
                address(stakeToken),
                1
            );
    }

    function _deposit(address op, uint256 amount) internal {
        stakeToken.transfer(op, amount);
        vm.startPrank(op);
        stakeToken.approve(address(alm), amount);
        alm.depositIntoStrategy(strategy, IERC20(address(stakeToken)), amount);
        vm.stopPrank();
    }

    function _allocate(address op, OperatorSet memory s, uint256 newAmount) internal {
        vm.prank(op);
        alm.modifyAllocation(s, strategy, newAmount);
    }

    /// @dev Deposits `amount` and allocates all of it to `s`.
    function _stake(address op, OperatorSet memory s, uint256 amount) internal {
        _deposit(op, amount);
        _allocate(op, s, amount);
    }

    function _slash(address op, uint256 amount, address to) internal returns (uint256) {
        vm.prank(slasherAcct);
        return adapter.slash(op, amount, to, amount, to);
    }

    function _current(address op) internal view returns (uint256) {
        return alm.getAllocation(op, set, strategy).currentAmount;
    }

    function _wads(uint256 wad) internal pure returns (uint256[] memory w) {
        w = new uint256[](1);
        w[0] = wad;
    }

    function _strategies(IStrategyLike s) internal pure returns (IStrategyLike[] memory list) {
        list = new IStrategyLike[](1);
        list[0] = s;
    }
}

contract EigenLayerAdapterTest is EigenAdapterBase {
    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTION
    //////////////////////////////////////////////////////////////*/

    function test_constructor_createsRedistributingSetPayingTheAdapter() public view {
        assertEq(adapter.avs(), address(adapter));
        assertEq(adapter.operatorSetId(), SET_ID);
        assertEq(address(adapter.allocationManager()), address(alm));
        assertEq(address(adapter.strategy()), address(strategy));
        assertEq(adapter.asset(), address(stakeToken));
        assertEq(adapter.deallocationDelay(), DELAY);
        assertEq(adapter.slasher(), slasherAcct);
        OperatorSet memory s = adapter.operatorSet();
        assertEq(s.avs, address(adapter));
        assertEq(s.id, SET_ID);
        assertTrue(alm.isOperatorSet(set));
        assertEq(alm.getRedistributionRecipient(set), address(adapter));
    }

    function test_constructor_revertsForBadArguments() public {
        IAllocationManagerLike am = IAllocationManagerLike(address(alm));
        vm.expectRevert(EigenLayerAdapter.Staking_ZeroAddress.selector);
        new EigenLayerAdapter(
            owner,
            IAllocationManagerLike(address(0)),
            address(0),
            1,
            strategy,
            address(stakeToken),
            1
        );
        vm.expectRevert(EigenLayerAdapter.Staking_ZeroAddress.selector);
        new EigenLayerAdapter(owner, am, address(0), 1, IStrategyLike(address(0)), address(stakeToken), 1);
        vm.expectRevert(EigenLayerAdapter.Staking_ZeroAddress.selector);
        new EigenLayerAdapter(owner, am, address(0), 1, strategy, address(0), 1);
        address other = address(new StandardERC20("Other", "OTH", address(this), 1));
        vm.expectRevert(
            abi.encodeWithSelector(EigenLayerAdapter.Staking_AssetMismatch.selector, address(stakeToken), other)
        );
        new EigenLayerAdapter(owner, am, address(0), 1, strategy, other, 1);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new EigenLayerAdapter(address(0), am, address(0), 1, strategy, address(stakeToken), 1);
    }

    /// @dev With an external AVS the adapter checks that the set pays it, and needs the AVS's
    /// permission to slash (the stand-in has no appointees, so only the AVS itself may).
    function test_externalAvs_needsRecipientAndPermission() public {
        address avsAcct = makeAddr("avs");
        uint32 id = 3;
        EigenLayerAdapter ext = new EigenLayerAdapter(
            owner,
            IAllocationManagerLike(address(alm)),
            avsAcct,
            id,
            strategy,
            address(stakeToken),
            1
        );
        assertEq(ext.avs(), avsAcct);
        OperatorSet memory extSet = OperatorSet(avsAcct, id);
        assertFalse(alm.isOperatorSet(extSet)); // the external AVS creates it
        vm.prank(owner);
        ext.setSlasher(slasherAcct);

        // the AVS pays someone else: slashing through the adapter would lose the funds
        IAllocationManagerLike.CreateSetParams[] memory params = new IAllocationManagerLike.CreateSetParams[](1);
        params[0] = IAllocationManagerLike.CreateSetParams(id, _strategies(strategy));
        address[] memory recipients = new address[](1);
        recipients[0] = treasury;
        vm.prank(avsAcct);
        alm.createRedistributingOperatorSets(avsAcct, params, recipients);
        _stake(operators[0], extSet, 10e18);
        assertEq(ext.slashableStake(operators[0], block.number), 10e18);
        vm.prank(slasherAcct);
        vm.expectRevert(
            abi.encodeWithSelector(EigenLayerAdapter.Staking_NotRedistributionRecipient.selector, treasury)
        );
        ext.slash(operators[0], 1e18, recipient, 1e18, recipient);

        // the AVS pays the adapter but has not let it slash
        EigenLayerAdapter ext2 = new EigenLayerAdapter(
            owner,
            IAllocationManagerLike(address(alm)),
            avsAcct,
            id + 1,
            strategy,
            address(stakeToken),
            1
        );
        params[0].operatorSetId = id + 1;
        recipients[0] = address(ext2);
        vm.prank(avsAcct);
        alm.createRedistributingOperatorSets(avsAcct, params, recipients);
        vm.prank(owner);
        ext2.setSlasher(slasherAcct);
        _stake(operators[1], OperatorSet(avsAcct, id + 1), 10e18);
        vm.prank(slasherAcct);
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.InvalidCaller.selector, address(ext2), avsAcct));
        ext2.slash(operators[1], 1e18, recipient, 1e18, recipient);
    }

    /*//////////////////////////////////////////////////////////////
                             SLASHABLE STAKE
    //////////////////////////////////////////////////////////////*/

    function test_slashableStake_followsDeallocation() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        uint256 b = block.number;
        assertEq(adapter.slashableStake(op, b), 100e18);
        assertEq(adapter.slashableStake(op, b + DELAY), 100e18);
        // a deallocation queued now would free everything at b + DELAY + 1: nothing guaranteed
        assertEq(adapter.slashableStake(op, b + DELAY + 1), 0);
        assertEq(adapter.slashableStake(op, type(uint256).max), 0);
        // a past block means now
        assertEq(adapter.slashableStake(op, 0), 100e18);

        _allocate(op, set, 40e18); // 60e18 leaves at b + DELAY + 1, slashable until then
        uint256 effect = b + DELAY + 1;
        assertEq(alm.getAllocation(op, set, strategy).effectBlock, effect);
        assertEq(adapter.slashableStake(op, b), 100e18);
        assertEq(adapter.slashableStake(op, b + DELAY), 100e18);

        _roll(b + 100);
        assertEq(adapter.slashableStake(op, effect - 1), 100e18);
        assertEq(adapter.slashableStake(op, effect), 40e18);
        assertEq(adapter.slashableStake(op, b + 100 + DELAY), 40e18);
        assertEq(adapter.slashableStake(op, b + 100 + DELAY + 1), 0);

        // the last slashable block: still all of it, and none of it withdrawable
        _roll(effect - 1);
        assertEq(adapter.slashableStake(op, block.number), 100e18);
        assertEq(alm.getAllocatableShares(op, strategy), 0);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.InsufficientShares.selector, 0, 60e18));
        alm.withdraw(strategy, 60e18);

        _roll(effect);
        assertEq(adapter.slashableStake(op, 0), 40e18);
        assertEq(adapter.slashableStake(op, block.number + DELAY), 40e18);
        assertEq(alm.getAllocatableShares(op, strategy), 60e18);
        vm.prank(op);
        alm.withdraw(strategy, 60e18);
        assertEq(stakeToken.balanceOf(op), 60e18);
        assertEq(adapter.slashableStake(op, block.number), 40e18);
        assertEq(stakeToken.balanceOf(address(alm)), 40e18);
    }

    function test_slashableStake_clampsBlockToUint32() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        _roll(uint256(type(uint32).max) - 10);
        // untilBlock beyond uint32 is asked as type(uint32).max (within the delay horizon)
        assertEq(adapter.slashableStake(op, block.number + 50), 100e18);
        assertEq(adapter.slashableStake(op, block.number), 100e18);
    }

    function test_slashableStake_zeroWithoutAllocation() public {
        address op = operators[0];
        _deposit(op, 100e18); // deposited, not allocated
        assertEq(adapter.slashableStake(op, block.number), 0);
        assertEq(adapter.slashableStake(stranger, block.number), 0);
        // allocation to another operator set does not count
        EigenLayerAdapter other = _newAdapter(SET_ID + 1);
        _allocate(op, OperatorSet(address(other), SET_ID + 1), 100e18);
        assertEq(adapter.slashableStake(op, block.number), 0);
        assertEq(other.slashableStake(op, block.number), 100e18);
    }

    /*//////////////////////////////////////////////////////////////
                                 SLASH
    //////////////////////////////////////////////////////////////*/

    function test_slash_exactAmount() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        vm.expectEmit(address(adapter));
        emit EigenLayerAdapter.OperatorSetSlashed(op, 1, 0.3e18, 30e18);
        vm.expectEmit(address(adapter));
        emit IRestakingAdapter.Slashed(op, recipient, 30e18, recipient, 0);
        assertEq(_slash(op, 30e18, recipient), 30e18);
        assertEq(stakeToken.balanceOf(recipient), 30e18);
        assertEq(stakeToken.balanceOf(address(adapter)), 0);
        assertEq(stakeToken.balanceOf(address(alm)), 70e18);
        assertEq(alm.stakerDepositShares(op, strategy), 70e18);
        assertEq(adapter.slashableStake(op, block.number), 70e18);
        assertEq(alm.getSlashCount(set), 1);

        // 35e18 of 70e18 is exactly half
        assertEq(_slash(op, 35e18, treasury), 35e18);
        assertEq(stakeToken.balanceOf(treasury), 35e18);
        assertEq(stakeToken.balanceOf(address(adapter)), 0);
        assertEq(_current(op), 35e18);
        assertEq(alm.getSlashCount(set), 2);
    }

    function test_slash_roundingSurplusIsRetainedAndSwept() public {
        address op = operators[0];
        _stake(op, set, 3);
        // wad = ceil(1e18 / 3) = 333333333333333334; slashed = ceil(3 * wad / 1e18) = 2
        vm.expectEmit(address(adapter));
        emit EigenLayerAdapter.OperatorSetSlashed(op, 1, 333333333333333334, 2);
        vm.expectEmit(address(adapter));
        emit IRestakingAdapter.Slashed(op, recipient, 1, recipient, 0);
        vm.expectEmit(address(adapter));
        emit EigenLayerAdapter.SurplusRetained(op, 1);
        assertEq(_slash(op, 1, recipient), 1);
        assertEq(stakeToken.balanceOf(recipient), 1);
        assertEq(stakeToken.balanceOf(address(adapter)), 1);
        assertEq(_current(op), 1);

        // a wad is 1e-18 of the allocation: 7 wei of 70e18 slashes 70 wei
        address op2 = operators[1];
        _stake(op2, set, 70e18);
        assertEq(_slash(op2, 7, recipient), 7);
        assertEq(stakeToken.balanceOf(recipient), 8);
        assertEq(stakeToken.balanceOf(address(adapter)), 1 + 63);
        assertEq(_current(op2), 70e18 - 70);

        // only the owner sweeps, to a non-zero address, something
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        adapter.sweep(stranger);
        vm.startPrank(owner);
        vm.expectRevert(EigenLayerAdapter.Staking_ZeroAddress.selector);
        adapter.sweep(address(0));
        vm.expectEmit(address(adapter));
        emit EigenLayerAdapter.SurplusSwept(treasury, 64);
        adapter.sweep(treasury);
        assertEq(stakeToken.balanceOf(treasury), 64);
        assertEq(stakeToken.balanceOf(address(adapter)), 0);
        vm.expectRevert(EigenLayerAdapter.Staking_NothingToSweep.selector);
        adapter.sweep(treasury);
        vm.stopPrank();
    }

    function test_slash_moreThanAvailableTakesEverything() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        _allocate(op, set, 40e18); // 60e18 pending deallocation: still slashable
        vm.expectEmit(address(adapter));
        emit EigenLayerAdapter.OperatorSetSlashed(op, 1, WAD, 100e18);
        assertEq(_slash(op, 500e18, recipient), 100e18);
        assertEq(stakeToken.balanceOf(recipient), 100e18);
        assertEq(stakeToken.balanceOf(address(alm)), 0);
        assertEq(stakeToken.balanceOf(address(adapter)), 0);
        LocalAllocationManager.Allocation memory a = alm.getAllocation(op, set, strategy);
        assertEq(a.currentAmount, 0);
        assertEq(a.pendingDeallocation, 0);
        assertEq(adapter.slashableStake(op, block.number), 0);
        // nothing left: no call to the AllocationManager
        assertEq(_slash(op, 1, recipient), 0);
        assertEq(alm.getSlashCount(set), 1);
    }

    function test_slash_takesPendingDeallocationProportionally() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        _allocate(op, set, 40e18); // 60e18 pending
        uint256 effect = block.number + DELAY + 1;
        _roll(effect - 1);
        assertEq(_slash(op, 50e18, recipient), 50e18); // half
        LocalAllocationManager.Allocation memory a = alm.getAllocation(op, set, strategy);
        assertEq(a.currentAmount, 50e18);
        assertEq(a.pendingDeallocation, 30e18);
        assertEq(adapter.slashableStake(op, effect), 20e18);
        _roll(effect);
        assertEq(adapter.slashableStake(op, block.number), 20e18);
        assertEq(alm.getAllocatableShares(op, strategy), 30e18);
        vm.prank(op);
        alm.withdraw(strategy, 30e18);
        assertEq(stakeToken.balanceOf(op), 30e18);
        assertEq(stakeToken.balanceOf(address(alm)), 20e18);
    }

    function test_slash_zeroAmountOrNoStakeReturnsZero() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        assertEq(_slash(op, 0, recipient), 0);
        assertEq(_slash(stranger, 10e18, recipient), 0);
        assertEq(alm.getSlashCount(set), 0);
        assertEq(stakeToken.balanceOf(recipient), 0);
        assertEq(_current(op), 100e18);
    }

    function test_slash_onlySlasher() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IRestakingAdapter.Staking_NotSlasher.selector, stranger, slasherAcct));
        adapter.slash(op, 1e18, stranger, 1e18, stranger);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IRestakingAdapter.Staking_NotSlasher.selector, owner, slasherAcct));
        adapter.slash(op, 1e18, owner, 1e18, owner);
        // the AllocationManager only takes slashes from the AVS (the adapter)
        IAllocationManagerLike.SlashingParams memory p = IAllocationManagerLike.SlashingParams(
            op,
            SET_ID,
            _strategies(strategy),
            _wads(WAD),
            "x"
        );
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(LocalAllocationManager.InvalidCaller.selector, stranger, address(adapter))
        );
        alm.slashOperator(address(adapter), p);
        // no slasher yet: nobody can slash
        EigenLayerAdapter fresh = _newAdapter(SET_ID + 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IRestakingAdapter.Staking_NotSlasher.selector, stranger, address(0)));
        fresh.slash(op, 1e18, stranger, 1e18, stranger);
        assertEq(_current(op), 100e18);
    }

    function test_slash_revertsForZeroRecipient() public {
        _stake(operators[0], set, 100e18);
        vm.prank(slasherAcct);
        vm.expectRevert(IRestakingAdapter.Staking_ZeroRecipient.selector);
        adapter.slash(operators[0], 1e18, address(0), 1e18, address(0));
    }

    function test_setSlasher_once() public {
        EigenLayerAdapter fresh = _newAdapter(SET_ID + 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        fresh.setSlasher(stranger);
        vm.startPrank(owner);
        vm.expectRevert(EigenLayerAdapter.Staking_ZeroSlasher.selector);
        fresh.setSlasher(address(0));
        vm.expectEmit(address(fresh));
        emit EigenLayerAdapter.SlasherSet(slasherAcct);
        fresh.setSlasher(slasherAcct);
        vm.expectRevert(abi.encodeWithSelector(EigenLayerAdapter.Staking_SlasherAlreadySet.selector, slasherAcct));
        fresh.setSlasher(owner);
        vm.stopPrank();
        assertEq(fresh.slasher(), slasherAcct);
    }

    function test_slash_gas() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        vm.prank(slasherAcct);
        uint256 g = gasleft();
        adapter.slash(op, 10e18, recipient, 10e18, recipient);
        uint256 fresh = g - gasleft();
        emit log_named_uint("EigenLayerAdapter.slash gas, fresh recipient (execution only)", fresh);
        vm.prank(slasherAcct);
        g = gasleft();
        adapter.slash(op, 10e18, recipient, 10e18, recipient);
        uint256 warm = g - gasleft();
        emit log_named_uint("EigenLayerAdapter.slash gas, recipient holds the asset (execution only)", warm);
        assertLe(fresh, 200_000); // loose: the stand-in, not EigenLayer, dominates
    }

    /*//////////////////////////////////////////////////////////////
                            STAND-IN RULES
    //////////////////////////////////////////////////////////////*/

    function test_standIn_enforcesEigenLayerRules() public {
        address op = operators[0];
        _stake(op, set, 100e18);
        vm.startPrank(address(adapter));
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.InvalidWadToSlash.selector, 0));
        alm.slashOperator(
            address(adapter),
            IAllocationManagerLike.SlashingParams(op, SET_ID, _strategies(strategy), _wads(0), "")
        );
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.InvalidWadToSlash.selector, WAD + 1));
        alm.slashOperator(
            address(adapter),
            IAllocationManagerLike.SlashingParams(op, SET_ID, _strategies(strategy), _wads(WAD + 1), "")
        );
        IStrategyLike stray = IStrategyLike(address(new LocalStrategy(IERC20(address(stakeToken)))));
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.StrategyNotInOperatorSet.selector, stray));
        alm.slashOperator(
            address(adapter),
            IAllocationManagerLike.SlashingParams(op, SET_ID, _strategies(stray), _wads(1), "")
        );
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.InputArrayLengthMismatch.selector, 1, 0));
        alm.slashOperator(
            address(adapter),
            IAllocationManagerLike.SlashingParams(op, SET_ID, _strategies(strategy), new uint256[](0), "")
        );
        vm.expectRevert(
            abi.encodeWithSelector(LocalAllocationManager.InvalidOperatorSet.selector, address(adapter), 99)
        );
        alm.slashOperator(
            address(adapter),
            IAllocationManagerLike.SlashingParams(op, 99, _strategies(strategy), _wads(1), "")
        );
        vm.stopPrank();

        // allocations: one pending change at a time, a real change, backed by deposits
        vm.startPrank(op);
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.SameMagnitude.selector, 100e18));
        alm.modifyAllocation(set, strategy, 100e18);
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.InsufficientMagnitude.selector, 0, 1));
        alm.modifyAllocation(set, strategy, 100e18 + 1);
        alm.modifyAllocation(set, strategy, 10e18);
        uint32 effect = uint32(block.number) + DELAY + 1;
        vm.expectRevert(abi.encodeWithSelector(LocalAllocationManager.ModificationAlreadyPending.selector, effect));
        alm.modifyAllocation(set, strategy, 5e18);
        vm.expectRevert(
            abi.encodeWithSelector(LocalAllocationManager.InvalidToken.selector, address(0xbeef), address(stakeToken))
        );
        alm.depositIntoStrategy(strategy, IERC20(address(0xbeef)), 1);
        vm.stopPrank();

        // anyone clears a due deallocation
        _roll(effect);
        uint16[] memory num = new uint16[](1);
        num[0] = 1;
        alm.clearDeallocationQueue(op, _strategies(strategy), num);
        assertEq(alm.getAllocation(op, set, strategy).effectBlock, 0);
        assertEq(alm.getAllocatableShares(op, strategy), 90e18);
        assertEq(alm.getRedistributionRecipient(OperatorSet(stranger, 1)), alm.DEFAULT_BURN_ADDRESS());
    }

    /*//////////////////////////////////////////////////////////////
                                  FUZZ
    //////////////////////////////////////////////////////////////*/

    /// @dev Slashing never creates or loses a token: stand-in + adapter + recipients + withdrawn
    /// == deposits; each slash forwards exactly min(amount, slashable) and the adapter keeps at
    /// most ceil(slashable / 1e18) of rounding surplus.
    function testFuzz_slash_conservesTokens(
        uint256[3] memory depositSeeds,
        uint256[3] memory allocSeeds,
        uint256[4] memory slashSeeds,
        uint256 deallocSeed,
        uint256 waitSeed
    ) public {
        uint256 deposited;
        for (uint256 i; i < 3; ++i) {
            uint256 dep = bound(depositSeeds[i], 1, 1e27);
            uint256 alloc = bound(allocSeeds[i], 0, dep);
            _deposit(operators[i], dep);
            if (alloc != 0) _allocate(operators[i], set, alloc);
            deposited += dep;
        }
        uint256 alloc0 = _current(operators[0]);
        if (alloc0 > 1) _allocate(operators[0], set, bound(deallocSeed, 0, alloc0 - 1));
        _roll(block.number + bound(waitSeed, 0, 2 * uint256(DELAY)));

        uint256 toRecipients;
        for (uint256 k; k < 4; ++k) {
            address op = operators[k % 3];
            address to = k % 2 == 0 ? watcher : treasury;
            uint256 amount = bound(slashSeeds[k], 0, 2e27);
            uint256 available = adapter.slashableStake(op, block.number);
            uint256 held = stakeToken.balanceOf(address(adapter));
            uint256 toBefore = stakeToken.balanceOf(to);
            uint256 got = _slash(op, amount, to);
            uint256 expected = amount < available ? amount : available;
            assertEq(got, expected);
            assertEq(stakeToken.balanceOf(to) - toBefore, got);
            assertLe(stakeToken.balanceOf(address(adapter)) - held, available / WAD + 1);
            assertEq(
                adapter.slashableStake(op, block.number),
                available - got - (stakeToken.balanceOf(address(adapter)) - held)
            );
            toRecipients += got;
        }

        // everything not allocated comes back out
        _roll(block.number + DELAY + 1);
        uint256 withdrawn;
        for (uint256 i; i < 3; ++i) {
            uint256 free = alm.getAllocatableShares(operators[i], strategy);
            if (free == 0) continue;
            vm.prank(operators[i]);
            alm.withdraw(strategy, free);
            withdrawn += free;
        }
        uint256 inAlm = stakeToken.balanceOf(address(alm));
        uint256 sumShares;
        for (uint256 i; i < 3; ++i) sumShares += alm.stakerDepositShares(operators[i], strategy);
        assertEq(inAlm, sumShares);
        assertEq(stakeToken.balanceOf(watcher) + stakeToken.balanceOf(treasury), toRecipients);
        assertEq(inAlm + stakeToken.balanceOf(address(adapter)) + toRecipients + withdrawn, deposited);
    }
}

/// @dev The adapter behind the real StakingRegistry: operators stake through the stand-in,
/// register, and an equivocation is slashed through the adapter.
contract EigenLayerAdapterRegistryTest is EigenAdapterBase {
    uint256 internal constant WINDOW = 150; // challenge window + escalation, <= DELAY
    uint256 internal constant BASE = 100e18;
    uint256 internal constant FLOOR = 40e18;
    uint256 internal constant ALPHA = 5_000;
    uint256 internal constant SLASH_BPS = 5_000;
    uint256 internal constant REWARD_BPS = 2_000;

    EigenLayerAdapter internal regAdapter;
    OperatorSet internal regSet;
    StakingRegistry internal registry;

    function setUp() public override {
        super.setUp();
        regAdapter = _newAdapter(1);
        regSet = OperatorSet(address(regAdapter), 1);
        registry = _deployRegistry(regAdapter, WINDOW);
        vm.prank(owner);
        regAdapter.setSlasher(address(registry));
        for (uint256 i; i < 4; ++i) {
            _stake(operators[i], regSet, BASE);
            vm.prank(operators[i]);
            registry.register();
        }
    }

    function _deployRegistry(IRestakingAdapter a, uint256 window) internal returns (StakingRegistry) {
        return
            new StakingRegistry(
                owner,
                a,
                window,
                3,
                StakingRegistry.StakeConfig(BASE, FLOOR, ALPHA),
                StakingRegistry.ReputationConfig(100, 100, 500, 50),
                StakingRegistry.SlashConfig(SLASH_BPS, REWARD_BPS, treasury, type(uint128).max, 100)
            );
    }

    /// @dev Two different results for one request, both signed by operator `which`.
    function _equivocation(
        uint256 which,
        bytes32 requestId
    ) internal view returns (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) {
        a = _result(requestId, block.chainid, Ops.STATUS_OK, new Instruction[](0));
        b = Result(a.requestId, a.originChainId, a.programId, a.inputHash, a.status, a.instructionsHash, a.bodyHash);
        b.bodyHash = keccak256("other body");
        uint256[] memory w = new uint256[](1);
        w[0] = which;
        sigA = _sign(a, w)[0];
        sigB = _sign(b, w)[0];
    }

    function test_registry_slashesEquivocationThroughEigenAdapter() public {
        address op = operators[1];
        assertTrue(registry.isActive(op));
        bytes32 id = keccak256("request");
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(1, id);
        uint256 total = (BASE * SLASH_BPS) / 10_000; // 50e18
        uint256 reward = (total * REWARD_BPS) / 10_000; // 10e18
        // one slash of 50e18 out of 100e18: wad = 0.5e18 exactly, no rounding surplus
        uint256 surplus = 0;

        vm.expectEmit(address(registry));
        emit IStakingRegistry.EquivocationSlashed(op, block.chainid, id, watcher, reward, total - reward);
        vm.prank(watcher);
        uint256 g = gasleft();
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        uint256 used = g - gasleft();
        emit log_named_uint("proveEquivocation via EigenLayerAdapter gas, fresh recipients (execution only)", used);

        assertEq(stakeToken.balanceOf(watcher), reward);
        assertEq(regAdapter.slashedOwed(treasury), total - reward);
        assertEq(stakeToken.balanceOf(address(regAdapter)), total - reward + surplus);
        assertEq(alm.getAllocation(op, regSet, strategy).currentAmount, BASE - total - surplus);
        assertEq(stakeToken.balanceOf(address(alm)), 4 * BASE - total - surplus);
        assertEq(alm.getSlashCount(regSet), 1, "one AllocationManager slash per fault");
        assertFalse(registry.isActive(op));
        assertTrue(registry.isActive(operators[0]));

        // the sweep never touches credited slashes
        vm.prank(owner);
        vm.expectRevert(EigenLayerAdapter.Staking_NothingToSweep.selector);
        regAdapter.sweep(treasury);
        vm.prank(treasury);
        regAdapter.claimSlashed();
        assertEq(stakeToken.balanceOf(treasury), total - reward + surplus);
    }

    function test_registry_equivocationGasSteadyState() public {
        stakeToken.transfer(watcher, 1);
        stakeToken.transfer(treasury, 1);
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(3, keccak256("g"));
        vm.prank(watcher);
        uint256 g = gasleft();
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        uint256 used = g - gasleft();
        emit log_named_uint("proveEquivocation via EigenLayerAdapter gas, recipients hold the asset", used);
    }

    /// @dev Stake deallocated now is free after DELAY + 1 blocks: the registry refuses a window
    /// longer than DELAY blocks' worth of seconds (the adapter's unbonding period).
    function test_registry_refusesWindowBeyondDeallocationDelay() public {
        assertEq(regAdapter.unbondingPeriod(), uint256(DELAY));
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_InvalidSlashableWindow.selector,
                uint256(DELAY) + 1,
                uint256(DELAY)
            )
        );
        _deployRegistry(regAdapter, uint256(DELAY) + 1);
    }

    /// @dev With 12-second blocks a horizon of t seconds asks about ceil(t / 12) blocks ahead, and
    /// DELAY blocks are reported as DELAY * 12 seconds of unbonding.
    function test_secondsPerBlock_convertsConservatively() public {
        EigenLayerAdapter slow = new EigenLayerAdapter(
            owner,
            IAllocationManagerLike(address(alm)),
            address(0),
            9,
            strategy,
            address(stakeToken),
            12
        );
        OperatorSet memory slowSet = OperatorSet(address(slow), 9);
        address op = operators[0];
        _stake(op, slowSet, 100e18);
        assertEq(slow.unbondingPeriod(), uint256(DELAY) * 12);
        assertEq(slow.slashableStake(op, block.timestamp + uint256(DELAY) * 12), 100e18);
        assertEq(slow.slashableStake(op, block.timestamp + uint256(DELAY) * 12 + 1), 0, "one block too far");
        _allocate(op, slowSet, 40e18); // 60e18 free from block + DELAY + 1
        assertEq(slow.slashableStake(op, block.timestamp + uint256(DELAY) * 12), 100e18);
        vm.expectRevert(abi.encodeWithSelector(EigenLayerAdapter.Staking_InvalidSecondsPerBlock.selector, 0));
        new EigenLayerAdapter(
            owner,
            IAllocationManagerLike(address(alm)),
            address(0),
            10,
            strategy,
            address(stakeToken),
            0
        );
    }

    /// @dev An operator deallocating drops out of the active set as soon as the deallocation
    /// would land inside the registry's window.
    function test_registry_deallocationDeactivatesOperator() public {
        address op = operators[2];
        _allocate(op, regSet, FLOOR); // below the required BASE once it takes effect
        uint256 effect = block.number + DELAY + 1;
        _roll(effect - WINDOW - 1);
        assertTrue(registry.isActive(op));
        _roll(effect - WINDOW);
        assertFalse(registry.isActive(op));
    }
}
