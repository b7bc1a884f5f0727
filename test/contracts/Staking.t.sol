// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {Test} from "forge-std/Test.sol";
import {NativeStakeAdapter} from "../../contracts/staking/NativeStakeAdapter.sol";
import {StakingRegistry} from "../../contracts/staking/StakingRegistry.sol";
import {StandardERC20} from "../../contracts/tokens/StandardERC20.sol";
import {IRestakingAdapter} from "../../contracts/interfaces/IRestakingAdapter.sol";
import {INativeStakeAdapter} from "../../contracts/interfaces/INativeStakeAdapter.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";
import {IOperatorSet} from "../../contracts/interfaces/IOperatorSet.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {LedgerRef} from "../../contracts/interfaces/IStakingRegistry.sol";

/// @dev A fee ledger as the oracle's interface promises it (IDisperser.signatureCount): the ingest
/// path counts one per signer per result under (operator set, asset, share, epoch, index). Tests
/// book the counts an ingestion would have made.
contract MockLedger {
    uint256 public constant LEDGER_EPOCH = 1 hours;
    mapping(bytes32 => uint256) internal _counts;

    function book(address set, uint256 assetId, uint256 share, uint256 epoch, uint8 index, uint256 n) external {
        _counts[keccak256(abi.encode(set, assetId, share, epoch, index))] += n;
    }

    function signatureCount(
        address set,
        uint256 assetId,
        uint256 share,
        uint256 epoch,
        uint8 index
    ) external view returns (uint256) {
        return _counts[keccak256(abi.encode(set, assetId, share, epoch, index))];
    }
}

/// @dev Shared deployment: a native-token adapter, the registry, 4 staked and registered operators.
abstract contract StakingBase is BaseTest {
    /// @dev Seconds: the challenge window, the longest dispute after it, and unbonding.
    uint256 internal constant WINDOW = 1 hours;
    uint256 internal constant ESCALATION = 5 hours;
    uint256 internal constant UNBONDING = 1 days;
    uint256 internal constant LEDGER_EPOCH = 1 hours;
    /// @dev The suite starts at a whole day, so ledger and decay epochs start aligned.
    uint256 internal constant START = 1_000 days;
    uint256 internal constant BASE = 100e18;
    uint256 internal constant FLOOR = 40e18;
    uint256 internal constant ALPHA = 5_000; // 50% discount at full reputation
    uint256 internal constant EPOCH = 1 days;
    uint256 internal constant GAIN = 100;
    uint256 internal constant MAX_GAIN = 500;
    uint256 internal constant DECAY = 50;
    uint256 internal constant SLASH_BPS = 5_000;
    uint256 internal constant REWARD_BPS = 2_000;

    address internal treasury = makeAddr("treasury");
    address internal watcher = makeAddr("watcher");
    /// @dev A staked watcher that votes (the invariant handler's); `watcher` is a stakeless submitter.
    address internal voter = makeAddr("voter");

    StandardERC20 internal stakeToken;
    NativeStakeAdapter internal adapter;
    StakingRegistry internal registry;
    MockLedger internal ledger;
    uint256 internal _shareNonce;

    function setUp() public virtual override {
        super.setUp();
        vm.roll(1_000);
        vm.warp(START);
        stakeToken = new StandardERC20("Versatus", "VRS", address(this), 1_000_000_000e18);
        adapter = new NativeStakeAdapter(owner, address(stakeToken), UNBONDING);
        registry = _deployRegistry(adapter);
        ledger = new MockLedger();
        vm.startPrank(owner);
        adapter.setSlasher(address(registry));
        registry.setLedger(address(ledger));
        vm.stopPrank();
        for (uint256 i; i < 4; ++i) {
            _stake(operators[i], BASE);
            vm.prank(operators[i]);
            registry.register();
        }
    }

    function _deployRegistry(IRestakingAdapter a) internal returns (StakingRegistry) {
        return
            new StakingRegistry(
                owner,
                a,
                WINDOW + ESCALATION,
                3,
                StakingRegistry.StakeConfig(BASE, FLOOR, ALPHA),
                StakingRegistry.ReputationConfig(EPOCH, GAIN, MAX_GAIN, DECAY),
                StakingRegistry.SlashConfig(SLASH_BPS, REWARD_BPS, treasury, type(uint128).max, 100)
            );
    }

    function _stake(address who, uint256 amount) internal {
        stakeToken.transfer(who, amount);
        vm.startPrank(who);
        stakeToken.approve(address(adapter), amount);
        adapter.deposit(amount);
        vm.stopPrank();
    }

    function _bonded(address who) internal view returns (uint256 bonded) {
        (bonded, , ) = adapter.stakeOf(who);
    }

    /// @dev Two different results for one request, both signed by operator `which`.
    function _equivocation(
        uint256 which,
        bytes32 requestId
    ) internal view returns (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) {
        a = _result(requestId, block.chainid, Ops.STATUS_OK, new Instruction[](0));
        b = _copy(a);
        b.bodyHash = keccak256("other body");
        uint256[] memory w = new uint256[](1);
        w[0] = which;
        sigA = _sign(a, w)[0];
        sigB = _sign(b, w)[0];
    }

    /// @dev Memory structs alias on assignment: copy field by field.
    function _copy(Result memory r) internal pure returns (Result memory c) {
        c = Result(r.requestId, r.originChainId, r.programId, r.inputHash, r.status, r.instructionsHash, r.bodyHash);
    }

    /// @dev Operator `which`'s signature on `r` under the ingestor domain (`chainId`, `ingestorAddr`).
    function _signFor(
        Result memory r,
        uint256 which,
        uint256 chainId,
        address ingestorAddr
    ) internal view returns (bytes memory) {
        bytes32 domain = _domainOf(chainId, ingestorAddr);
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"
                ),
                r
            )
        );
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(
            operatorKeys[which],
            keccak256(abi.encodePacked("\x19\x01", domain, structHash))
        );
        return abi.encodePacked(rr, ss, v);
    }

    /// @dev Everything `who` has in the adapter (bonded + unbonding).
    function _heldOf(address who) internal view returns (uint256) {
        (uint256 bonded, uint256 unbonding, ) = adapter.stakeOf(who);
        return bonded + unbonding;
    }

    function _proveAs(address submitter, uint256 which, bytes32 requestId) internal {
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(which, requestId);
        vm.prank(submitter);
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
    }

    /// @dev Books `times` results signed by `op` in the current ledger epoch (as the oracle's
    /// ingest path would), under a ledger of its own. Returns the ref to accrue later.
    function _book(address op, uint256 times) internal returns (LedgerRef memory ref) {
        uint256 epoch = block.timestamp / LEDGER_EPOCH;
        (bool held, uint8 index) = registry.indexIn(op, epoch);
        require(held, "no index held now");
        ref = LedgerRef(0, ++_shareNonce, epoch);
        ledger.book(address(registry), ref.assetId, ref.share, epoch, index, times);
    }

    /// @dev Warps to when ledger epoch `epoch` matures (over and past the slashable window).
    function _mature(uint256 epoch) internal {
        uint256 at = (epoch + 1) * LEDGER_EPOCH + WINDOW + ESCALATION;
        if (block.timestamp < at) vm.warp(at);
    }

    function _accrue(address op, LedgerRef memory ref) internal {
        LedgerRef[] memory refs = new LedgerRef[](1);
        refs[0] = ref;
        registry.accrueReputation(op, refs);
    }

    /// @dev `op` earns reputation for `times` results: booked now, accrued once mature (time moves on).
    function _report(address op, uint256 times) internal {
        LedgerRef memory ref = _book(op, times);
        _mature(ref.epoch);
        _accrue(op, ref);
    }
}

contract StakingTest is StakingBase {
    /*//////////////////////////////////////////////////////////////
                            RESTRICTED CALLS
    //////////////////////////////////////////////////////////////*/

    function test_restricted_revertForWrongCallers() public {
        address stranger = makeAddr("stranger");
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        adapter.setSlasher(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IRestakingAdapter.Staking_NotSlasher.selector, stranger, address(registry))
        );
        adapter.slash(operators[0], 1, stranger, 1, stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        registry.setThreshold(3);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        registry.setLedger(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        registry.setStakeParams(1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        registry.setReputationParams(1, 0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        registry.setSlashParams(1, 0, stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NotDisputeModule.selector, stranger, address(0))
        );
        registry.slashWatcher(stranger, 1);
        vm.stopPrank();

        // the owner cannot slash either, and the slasher is set once
        vm.startPrank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IRestakingAdapter.Staking_NotSlasher.selector, owner, address(registry))
        );
        adapter.slash(operators[0], 1, owner, 1, owner);
        vm.expectRevert(
            abi.encodeWithSelector(INativeStakeAdapter.Staking_SlasherAlreadySet.selector, address(registry))
        );
        adapter.setSlasher(owner);
        vm.stopPrank();
    }

    function test_params_revertWhenInvalid() public {
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidStakeParams.selector, 10, 11, 0));
        registry.setStakeParams(10, 11, 0);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidStakeParams.selector, 10, 1, 10_001));
        registry.setStakeParams(10, 1, 10_001);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidReputationParams.selector, 0, 1, 1, 1));
        registry.setReputationParams(0, 1, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidSlashParams.selector, 0, 0, treasury));
        registry.setSlashParams(0, 0, treasury);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidSlashParams.selector, 1, 0, address(0)));
        registry.setSlashParams(1, 0, address(0));
        // 4 registered: 2 is not a strict majority
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidThreshold.selector, 2, 4));
        registry.setThreshold(2);
        vm.expectEmit(address(registry));
        emit IStakingRegistry.ThresholdSet(3, 4);
        registry.setThreshold(4);
        vm.stopPrank();
    }

    function test_adapter_revertsWithoutUnbondingPeriod() public {
        vm.expectRevert(abi.encodeWithSelector(INativeStakeAdapter.Staking_UnbondingTooShort.selector, 0, 1));
        new NativeStakeAdapter(owner, address(stakeToken), 0);
    }

    /// @dev Units: the registry refuses a slashable window (seconds) longer than the adapter's
    /// unbonding period (seconds): an upheld dispute must never find the stake gone.
    function test_registry_refusesWindowLongerThanUnbonding() public {
        NativeStakeAdapter shortAdapter = new NativeStakeAdapter(owner, address(stakeToken), WINDOW + ESCALATION - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_InvalidSlashableWindow.selector,
                WINDOW + ESCALATION,
                WINDOW + ESCALATION - 1
            )
        );
        _deployRegistry(shortAdapter);
        assertEq(registry.slashableWindow(), WINDOW + ESCALATION);
        assertLe(registry.slashableWindow(), adapter.unbondingPeriod());
    }

    /*//////////////////////////////////////////////////////////////
                         STAKE / UNBOND / WITHDRAW
    //////////////////////////////////////////////////////////////*/

    function test_stake_unbondWithdrawTiming() public {
        address op = operators[0];
        uint256 before = stakeToken.balanceOf(op);
        vm.prank(op);
        vm.expectEmit(address(adapter));
        emit INativeStakeAdapter.UnbondRequested(op, 30e18, 30e18, block.timestamp + UNBONDING);
        adapter.requestUnbond(30e18);
        (uint256 bonded, uint256 unbonding, uint256 unlock) = adapter.stakeOf(op);
        assertEq(bonded, 70e18);
        assertEq(unbonding, 30e18);
        assertEq(unlock, block.timestamp + UNBONDING);
        // unbonding stake still slashable until its unlock block, not at it
        assertEq(adapter.slashableStake(op, unlock - 1), 100e18);
        assertEq(adapter.slashableStake(op, unlock), 70e18);

        vm.warp(unlock - 1);
        vm.prank(op);
        vm.expectRevert(
            abi.encodeWithSelector(INativeStakeAdapter.Staking_StillBonded.selector, op, unlock, unlock - 1)
        );
        adapter.withdraw();

        vm.warp(unlock);
        vm.prank(op);
        adapter.withdraw();
        assertEq(stakeToken.balanceOf(op), before + 30e18);
        assertEq(adapter.totalStaked(), 370e18);

        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(INativeStakeAdapter.Staking_NothingToWithdraw.selector, op));
        adapter.withdraw();
        vm.prank(op);
        vm.expectRevert(
            abi.encodeWithSelector(INativeStakeAdapter.Staking_InsufficientStake.selector, op, 70e18, 71e18)
        );
        adapter.requestUnbond(71e18);
    }

    function test_stake_secondUnbondPushesUnlockOut() public {
        address op = operators[0];
        vm.prank(op);
        adapter.requestUnbond(10e18);
        vm.warp(block.timestamp + UNBONDING / 2);
        vm.prank(op);
        adapter.requestUnbond(10e18);
        (, uint256 unbonding, uint256 unlock) = adapter.stakeOf(op);
        assertEq(unbonding, 20e18);
        assertEq(unlock, block.timestamp + UNBONDING);
    }

    function test_unbond_makesOperatorInactive() public {
        address op = operators[1];
        assertTrue(registry.isActive(op));
        vm.prank(op);
        adapter.requestUnbond(1);
        uint256 unlock = block.timestamp + UNBONDING;
        // the unbonding wei still backs the slashable window for a while...
        assertTrue(registry.isActive(op));
        vm.warp(unlock - (WINDOW + ESCALATION) - 1);
        assertTrue(registry.isActive(op));
        // ...and stops counting once it could be withdrawn before the window ends
        vm.warp(unlock - (WINDOW + ESCALATION));
        assertFalse(registry.isActive(op));
        address[] memory signers = new address[](1);
        signers[0] = op;
        vm.expectRevert(abi.encodeWithSelector(IOperatorSet.OperatorSet_NotActive.selector, op));
        registry.checkSigners(signers);
    }

    function test_eth_adapterDepositAndSlash() public {
        NativeStakeAdapter ethAdapter = new NativeStakeAdapter(owner, address(0), UNBONDING);
        StakingRegistry ethRegistry = _deployRegistry(ethAdapter);
        vm.prank(owner);
        ethAdapter.setSlasher(address(ethRegistry));
        address op = operators[2];
        vm.deal(op, 200 ether);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(INativeStakeAdapter.Staking_WrongValue.selector, 1 ether, 100 ether));
        ethAdapter.deposit{value: 1 ether}(100 ether);
        vm.startPrank(op);
        ethAdapter.deposit{value: 100 ether}(100 ether);
        ethRegistry.register();
        vm.stopPrank();
        assertTrue(ethRegistry.isActive(op));

        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(2, keccak256("r"));
        vm.prank(watcher);
        ethRegistry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        assertEq(watcher.balance, 10 ether);
        assertEq(ethAdapter.slashedOwed(treasury), 40 ether, "the treasury's share is credited, not sent");
        assertEq(address(ethAdapter).balance, 90 ether);
        assertEq(ethAdapter.totalStaked(), 50 ether);
        vm.prank(treasury);
        ethAdapter.claimSlashed();
        assertEq(treasury.balance, 40 ether);
        assertEq(address(ethAdapter).balance, 50 ether);
        vm.prank(treasury);
        vm.expectRevert(abi.encodeWithSelector(IRestakingAdapter.Staking_NothingOwed.selector, treasury));
        ethAdapter.claimSlashed();
    }

    /// @dev A submitter (or challenger) that refuses ETH must not be able to make a slash revert:
    /// its reward is credited instead.
    function test_eth_rewardRefusedIsCreditedNotReverted() public {
        NativeStakeAdapter ethAdapter = new NativeStakeAdapter(owner, address(0), UNBONDING);
        StakingRegistry ethRegistry = _deployRegistry(ethAdapter);
        vm.prank(owner);
        ethAdapter.setSlasher(address(ethRegistry));
        address op = operators[2];
        vm.deal(op, 100 ether);
        vm.startPrank(op);
        ethAdapter.deposit{value: 100 ether}(100 ether);
        ethRegistry.register();
        vm.stopPrank();

        RefusesEth refuser = new RefusesEth();
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(2, keccak256("r"));
        vm.expectEmit(address(ethAdapter));
        emit IRestakingAdapter.RewardCredited(address(refuser), 10 ether);
        vm.prank(address(refuser));
        ethRegistry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        assertEq(ethAdapter.slashedOwed(address(refuser)), 10 ether);
        assertEq(ethAdapter.totalOwed(), 50 ether);
        assertEq(address(ethAdapter).balance, 100 ether, "nothing left the adapter");
    }

    function test_erc20_adapterRejectsEth() public {
        vm.deal(operators[0], 1 ether);
        vm.prank(operators[0]);
        vm.expectRevert(abi.encodeWithSelector(INativeStakeAdapter.Staking_WrongValue.selector, 1, 0));
        adapter.deposit{value: 1}(1);
    }

    /*//////////////////////////////////////////////////////////////
                               REGISTRATION
    //////////////////////////////////////////////////////////////*/

    function test_register_revertsWithoutStakeOrMajority() public {
        address newcomer = makeAddr("newcomer");
        _stake(newcomer, BASE - 1);
        vm.prank(newcomer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_InsufficientStakeForRegistration.selector,
                newcomer,
                BASE - 1,
                BASE
            )
        );
        registry.register();
        _stake(newcomer, 1);
        vm.prank(newcomer);
        registry.register(); // 5 registered, 3 still a majority
        address sixth = makeAddr("sixth");
        _stake(sixth, BASE);
        vm.prank(sixth);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidThreshold.selector, 3, 6));
        registry.register();
        vm.prank(owner);
        registry.setThreshold(4);
        vm.prank(sixth);
        registry.register();
        (bool known, uint8 index) = registry.indexOf(sixth);
        assertTrue(known);
        assertEq(index, 5);
    }

    function test_deregister_keepsIndex() public {
        address op = operators[3];
        vm.prank(op);
        registry.deregister();
        assertFalse(registry.isActive(op));
        assertFalse(registry.isRegistered(op));
        assertEq(registry.registeredCount(), 3);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_NotRegistered.selector, op));
        registry.deregister();
        vm.prank(op);
        registry.register();
        assertTrue(registry.isRegistered(op));
        (, uint8 index) = registry.indexOf(op);
        assertEq(index, 3);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_AlreadyRegistered.selector, op));
        registry.register();
    }

    /*//////////////////////////////////////////////////////////////
                          REPUTATION / REQUIRED STAKE
    //////////////////////////////////////////////////////////////*/

    function test_requiredStake_fallsWithReputation_cappedPerEpoch_resetsOnSlash() public {
        address op = operators[0];
        assertEq(registry.requiredStake(op), BASE);
        LedgerRef memory r1 = _book(op, 3);
        LedgerRef memory r2 = _book(op, 10); // same ledger epoch, another ledger (share size)
        _mature(r1.epoch);
        _accrue(op, r1);
        assertEq(registry.reputationOf(op), 300);
        // 100e18 * (1 - 0.5 * 0.03)
        assertEq(registry.requiredStake(op), 98.5e18);
        _accrue(op, r2); // capped at MAX_GAIN for that ledger epoch
        assertEq(registry.reputationOf(op), MAX_GAIN);
        assertEq(registry.requiredStake(op), 97.5e18);

        vm.warp(block.timestamp + EPOCH); // next decay epoch: decays by DECAY; a new ledger epoch can gain
        assertEq(registry.reputationOf(op), MAX_GAIN - DECAY);
        _report(op, 1);
        assertEq(registry.reputationOf(op), MAX_GAIN - DECAY + GAIN);

        // the operator can now unbond and withdraw the difference and stay active (no decay meanwhile)
        vm.prank(owner);
        registry.setReputationParams(EPOCH, GAIN, MAX_GAIN, 0);
        uint256 required = registry.requiredStake(op);
        vm.prank(op);
        adapter.requestUnbond(BASE - required);
        vm.warp(block.timestamp + UNBONDING);
        vm.prank(op);
        adapter.withdraw();
        assertEq(_bonded(op), required);
        assertTrue(registry.isActive(op));

        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(0, keccak256("x"));
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        assertEq(registry.reputationOf(op), 0);
        assertEq(registry.requiredStake(op), BASE);
        assertFalse(registry.isActive(op));
    }

    function test_reputation_decaysToZeroAndFloorHolds() public {
        address op = operators[0];
        vm.startPrank(owner);
        registry.setStakeParams(BASE, 90e18, 10_000);
        registry.setReputationParams(EPOCH, 10_000, 10_000, DECAY);
        vm.stopPrank();
        _report(op, 1);
        assertEq(registry.reputationOf(op), 10_000);
        assertEq(registry.requiredStake(op), 90e18); // 0 without the floor
        vm.warp(block.timestamp + EPOCH * 1_000);
        assertEq(registry.reputationOf(op), 0);
        assertEq(registry.requiredStake(op), BASE);
    }

    function test_accrueReputation_revertsForUnknownOperator() public {
        address nobody = makeAddr("nobody");
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_UnknownOperator.selector, nobody));
        registry.accrueReputation(nobody, new LedgerRef[](0));
    }

    /*//////////////////////////////////////////////////////////////
                               EQUIVOCATION
    //////////////////////////////////////////////////////////////*/

    function test_equivocation_slashesOnceWithExactAmounts() public {
        address op = operators[1];
        bytes32 id = keccak256("request");
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(1, id);
        uint256 total = (BASE * SLASH_BPS) / 10_000; // 50e18
        uint256 reward = (total * REWARD_BPS) / 10_000; // 10e18
        uint256 supplyHeld = stakeToken.balanceOf(address(adapter));

        vm.expectEmit(address(registry));
        emit IStakingRegistry.EquivocationSlashed(op, block.chainid, id, watcher, reward, total - reward);
        vm.prank(watcher);
        uint256 g = gasleft();
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        uint256 used = g - gasleft();
        // worst case: both recipients had no balance (two zero-to-non-zero token balance writes,
        // 2 x 22.1k) plus the fault record and the slash-cap booking
        emit log_named_uint("proveEquivocation gas, fresh recipients (execution only)", used);
        assertLe(used, 145_000);

        assertEq(stakeToken.balanceOf(watcher), reward);
        assertEq(adapter.slashedOwed(treasury), total - reward);
        assertEq(stakeToken.balanceOf(address(adapter)), supplyHeld - reward, "the treasury's share stays, credited");
        assertEq(_bonded(op), BASE - total);
        assertTrue(registry.equivocationSlashed(op, block.chainid, id));
    }

    // The steady-state gas of a proof (target <= 120,000 per transaction) is measured by
    // `npm run bench:gas` (prove_equivocation): inside one test transaction storage stays warm.

    function test_equivocation_neverSlashesTwiceForOneRequest() public {
        address op = operators[1];
        bytes32 id = keccak256("request");
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(1, id);
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        uint256 bondedAfter = _bonded(op);
        // never twice for the same (operator, originChainId, requestId), even with other results
        Result memory c = _copy(b);
        c.bodyHash = keccak256("third");
        uint256[] memory w = new uint256[](1);
        w[0] = 1;
        bytes memory sigC = _sign(c, w)[0];
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_AlreadySlashed.selector, op, block.chainid, id)
        );
        registry.proveEquivocation(a, sigA, c, sigC, block.chainid, address(ingestor));
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_AlreadySlashed.selector, op, block.chainid, id)
        );
        registry.proveEquivocation(b, sigB, a, sigA, block.chainid, address(ingestor));
        assertEq(_bonded(op), bondedAfter);
        // another request is another fault
        (a, sigA, b, sigB) = _equivocation(1, keccak256("request 2"));
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        assertEq(_bonded(op), bondedAfter / 2);
    }

    function test_equivocation_revertsForNonEquivocation() public {
        bytes32 id = keccak256("request");
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(0, id);

        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_SameResult.selector,
                keccak256(
                    abi.encode(
                        keccak256(
                            "Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"
                        ),
                        a
                    )
                )
            )
        );
        registry.proveEquivocation(a, sigA, a, sigA, block.chainid, address(ingestor));

        Result memory other = _copy(b);
        other.requestId = keccak256("other");
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_DifferentRequests.selector,
                block.chainid,
                id,
                block.chainid,
                other.requestId
            )
        );
        registry.proveEquivocation(a, sigA, other, sigB, block.chainid, address(ingestor));

        // b signed by another operator
        uint256[] memory w = new uint256[](1);
        w[0] = 2;
        bytes memory sigB2 = _sign(b, w)[0];
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_DifferentSigners.selector, operators[0], operators[2])
        );
        registry.proveEquivocation(a, sigA, b, sigB2, block.chainid, address(ingestor));

        // a signature under another domain recovers someone else
        vm.expectRevert();
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid + 1, address(ingestor));

        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidSignature.selector, 1));
        registry.proveEquivocation(a, sigA, b, hex"1234", block.chainid, address(ingestor));
    }

    function test_equivocation_revertsForUnknownSigner() public {
        (Result memory a, , Result memory b, ) = _equivocation(0, keccak256("request"));
        uint256 strangerKey = uint256(keccak256("stranger key"));
        bytes32 da = ingestor.resultDigest(a);
        bytes32 db = ingestor.resultDigest(b);
        (uint8 v1, bytes32 r1, bytes32 s1) = vm.sign(strangerKey, da);
        (uint8 v2, bytes32 r2, bytes32 s2) = vm.sign(strangerKey, db);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_UnknownOperator.selector, vm.addr(strangerKey))
        );
        registry.proveEquivocation(
            a,
            abi.encodePacked(r1, s1, v1),
            b,
            abi.encodePacked(r2, s2, v2),
            block.chainid,
            address(ingestor)
        );
    }

    function test_equivocation_digestMatchesIngestor() public view {
        assertEq(
            keccak256(
                "Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"
            ),
            ingestor.RESULT_TYPEHASH()
        );
        assertEq(
            keccak256(
                abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak256("Versatus"),
                    keccak256("1"),
                    block.chainid,
                    address(ingestor)
                )
            ),
            ingestor.domainSeparator()
        );
    }

    function testFuzz_equivocation_splitsExactly(
        uint256 stakeSeed,
        uint256 slashSeed,
        uint256 rewardSeed,
        uint256 unbondSeed
    ) public {
        uint256 extra = bound(stakeSeed, 0, 1_000_000e18);
        uint256 slashBps = bound(slashSeed, 1, 10_000);
        uint256 rewardBps = bound(rewardSeed, 0, 10_000);
        address op = operators[2];
        if (extra != 0) _stake(op, extra);
        uint256 unbond = bound(unbondSeed, 0, BASE + extra);
        if (unbond != 0) {
            vm.prank(op);
            adapter.requestUnbond(unbond);
        }
        vm.prank(owner);
        registry.setSlashParams(slashBps, rewardBps, treasury);
        uint256 held = stakeToken.balanceOf(address(adapter));
        uint256 total = ((BASE + extra) * slashBps) / 10_000;
        uint256 reward = (total * rewardBps) / 10_000;

        _proveAs(watcher, 2, keccak256("f"));
        assertEq(stakeToken.balanceOf(watcher), reward);
        assertEq(adapter.slashedOwed(treasury), total - reward);
        assertEq(stakeToken.balanceOf(address(adapter)), held - reward);
        assertEq(adapter.totalStaked(), held - total);
        assertEq(adapter.slashableStake(op, 0), BASE + extra - total);
    }

    function testFuzz_stake_unbondWithdrawConserves(uint256 depositSeed, uint256 unbondSeed, uint256 waitSeed) public {
        address op = makeAddr("fuzzer");
        uint256 amount = bound(depositSeed, 1, 1_000_000e18);
        _stake(op, amount);
        uint256 unbond = bound(unbondSeed, 1, amount);
        vm.prank(op);
        adapter.requestUnbond(unbond);
        uint256 wait = bound(waitSeed, 0, 2 * UNBONDING);
        vm.warp(block.timestamp + wait);
        vm.prank(op);
        if (wait < UNBONDING) {
            vm.expectRevert();
            adapter.withdraw();
        } else {
            adapter.withdraw();
            assertEq(stakeToken.balanceOf(op), unbond);
        }
        assertEq(stakeToken.balanceOf(address(adapter)), adapter.totalStaked() + adapter.totalOwed());
    }

    /*//////////////////////////////////////////////////////////////
                           INGESTOR INTEGRATION
    //////////////////////////////////////////////////////////////*/

    function test_ingestor_acceptsResultSignedByStakedOperators() public {
        vm.prank(owner);
        ingestor.setOperatorSet(IOperatorSet(address(registry)));
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        _ingest(r, ix); // operators 0, 1, 2
        assertTrue(ingestor.isIngested(block.chainid, id));
        assertEq(payee.balance, 0.5 ether);

        // an operator that lost its stake can no longer sign
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(0, keccak256("e"));
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, address(ingestor));
        bytes32 id2 = _requestEth(1 ether);
        Result memory r2 = _result(id2, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory sigs = _sign(r2, _three());
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IOperatorSet.OperatorSet_NotActive.selector, operators[0]));
        ingestor.ingest(r2, ix, sigs, hex"00");
    }
}

/// @dev Drives deposits, unbonds, withdrawals and equivocation proofs, tracking every unit that
/// enters or leaves the adapter and where slashed stake went (SPEC 7: nothing created or lost).
contract StakingHandler is Test {
    StakingInvariantTest internal immutable t;
    StandardERC20 internal immutable token;
    NativeStakeAdapter internal immutable adapter;
    StakingRegistry internal immutable registry;

    uint256 public deposited;
    uint256 public withdrawn;
    uint256 public toSubmitter;
    uint256 public toTreasury;
    uint256 public doubleSlashes;
    uint256 public watcherDeposited;
    uint256 public watcherTaken;
    uint256 internal nonce;

    constructor(StakingInvariantTest t_, StandardERC20 token_, NativeStakeAdapter adapter_, StakingRegistry registry_) {
        t = t_;
        token = token_;
        adapter = adapter_;
        registry = registry_;
    }

    function deposit(uint256 who, uint256 amount) external {
        address op = t.operatorAt(who % 4);
        amount = bound(amount, 1, 1_000e18);
        deal(address(token), op, amount);
        vm.startPrank(op);
        token.approve(address(adapter), amount);
        adapter.deposit(amount);
        vm.stopPrank();
        deposited += amount;
    }

    function unbond(uint256 who, uint256 amount) external {
        address op = t.operatorAt(who % 4);
        (uint256 bonded, , ) = adapter.stakeOf(op);
        if (bonded == 0) return;
        vm.prank(op);
        adapter.requestUnbond(bound(amount, 1, bonded));
    }

    function withdraw(uint256 who, uint256 wait) external {
        address op = t.operatorAt(who % 4);
        vm.warp(block.timestamp + bound(wait, 0, 300));
        (, uint256 unbonding, uint256 unlock) = adapter.stakeOf(op);
        if (unbonding == 0 || block.timestamp < unlock) return;
        uint256 before = token.balanceOf(op);
        vm.prank(op);
        adapter.withdraw();
        withdrawn += token.balanceOf(op) - before;
    }

    /// @dev The dispute module slashes `who` for the fault of request `nonce` (or a new one): it
    /// shares the fault id with equivocation, so at most one of them takes anything.
    function disputeSlash(uint256 who, bool repeat, uint256 bps) external {
        address op = t.operatorAt(who % 4);
        bytes32 requestId = keccak256(abi.encode("inv", repeat ? nonce : ++nonce));
        bytes32 faultId = registry.faultIdOf(block.chainid, requestId);
        bool already = registry.faultSlashed(op, faultId);
        address submitter = t.submitterAddr();
        uint256 s0 = token.balanceOf(submitter);
        uint256 t0 = adapter.slashedOwed(t.treasuryAddr());
        vm.prank(registry.disputeModule());
        (uint256 reward, uint256 remainder) = registry.slashFault(op, faultId, bound(bps, 0, 10_000), submitter, 2_000);
        if (already && reward + remainder != 0) ++doubleSlashes;
        toSubmitter += token.balanceOf(submitter) - s0;
        toTreasury += adapter.slashedOwed(t.treasuryAddr()) - t0;
    }

    /// @dev The watcher stakes more and (re)registers.
    function watcherStake(uint256 amount) external {
        address w = t.watcherAddr();
        amount = bound(amount, 1, 100e18);
        deal(address(token), w, amount);
        vm.startPrank(w);
        token.approve(address(adapter), amount);
        adapter.deposit(amount);
        if (!registry.isWatcher(w)) registry.registerWatcher();
        vm.stopPrank();
        watcherDeposited += amount;
    }

    /// @dev The dispute module slashes the watcher (a vote against the outcome).
    function watcherSlash(uint256 bps) external {
        address w = t.watcherAddr();
        if (!registry.wasWatcher(w)) return;
        uint256 t0 = adapter.slashedOwed(t.treasuryAddr());
        vm.prank(registry.disputeModule());
        uint256 taken = registry.slashWatcher(w, bound(bps, 0, 10_000));
        watcherTaken += taken;
        toTreasury += adapter.slashedOwed(t.treasuryAddr()) - t0;
    }

    function equivocate(uint256 who, bool repeat) external {
        uint256 i = who % 4;
        bytes32 requestId = keccak256(abi.encode("inv", repeat ? nonce : ++nonce));
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = t.equivocation(i, requestId);
        address submitter = t.submitterAddr();
        uint256 s0 = token.balanceOf(submitter);
        uint256 t0 = adapter.slashedOwed(t.treasuryAddr());
        bool already = registry.faultSlashed(t.operatorAt(i), registry.faultIdOf(block.chainid, requestId));
        address ingestorAddr = t.ingestorAddr(); // before the prank: an external call would use it up
        vm.prank(submitter);
        try registry.proveEquivocation(a, sigA, b, sigB, block.chainid, ingestorAddr) {
            if (already) ++doubleSlashes;
            toSubmitter += token.balanceOf(submitter) - s0;
            toTreasury += adapter.slashedOwed(t.treasuryAddr()) - t0;
        } catch {}
    }
}

contract StakingInvariantTest is StakingBase {
    StakingHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new StakingHandler(this, stakeToken, adapter, registry);
        vm.prank(owner);
        registry.setDisputeModule(makeAddr("disputeModule"));
        targetContract(address(handler));
    }

    function operatorAt(uint256 i) external view returns (address) {
        return operators[i];
    }

    function submitterAddr() external view returns (address) {
        return watcher;
    }

    function watcherAddr() external view returns (address) {
        return voter;
    }

    function treasuryAddr() external view returns (address) {
        return treasury;
    }

    function ingestorAddr() external view returns (address) {
        return address(ingestor);
    }

    function equivocation(
        uint256 which,
        bytes32 requestId
    ) external view returns (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) {
        return _equivocation(which, requestId);
    }

    /// @dev adapter balance == sum of stakes + pending withdrawals == in - out; slashes went
    /// exactly to the submitter and the treasury; nobody slashed twice for one fault.
    function invariant_stakeConserved() public view {
        uint256 sum;
        for (uint256 i; i < 4; ++i) {
            (uint256 bonded, uint256 unbonding, ) = adapter.stakeOf(operators[i]);
            sum += bonded + unbonding;
        }
        (uint256 wBonded, uint256 wUnbonding, ) = adapter.stakeOf(voter);
        sum += wBonded + wUnbonding;
        uint256 held = stakeToken.balanceOf(address(adapter));
        assertEq(adapter.totalStaked(), sum);
        assertEq(adapter.totalOwed(), adapter.slashedOwed(treasury));
        assertEq(held, sum + adapter.totalOwed(), "the adapter holds the stakes and the credited slashes");
        assertEq(
            held,
            4 * BASE + handler.deposited() + handler.watcherDeposited() - handler.withdrawn() - handler.toSubmitter()
        );
        assertEq(stakeToken.balanceOf(watcher), handler.toSubmitter());
        assertEq(adapter.slashedOwed(treasury), handler.toTreasury());
    }

    /// @dev One fault (one request) slashes an operator once, whatever the claim kinds.
    function invariant_oneSlashPerFault() public view {
        assertEq(handler.doubleSlashes(), 0);
    }

    /// @dev Watcher stake at risk: what the watcher holds in the adapter is exactly what it
    /// deposited minus what votes against the outcome took (all of which went to the treasury).
    function invariant_watcherStakeAccounted() public view {
        (uint256 bonded, uint256 unbonding, ) = adapter.stakeOf(voter);
        assertEq(bonded + unbonding, handler.watcherDeposited() - handler.watcherTaken());
        assertLe(registry.totalWatcherWeight(), bonded + unbonding);
    }
}

/// @dev A contract that refuses every ETH transfer.
contract RefusesEth {
    receive() external payable {
        revert("no ETH");
    }
}
