// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {StakingBase} from "./Staking.t.sol";
import {DisputeManager} from "../../contracts/staking/DisputeManager.sol";
import {IDisputeManager} from "../../contracts/interfaces/IDisputeManager.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";
import {IOperatorSet} from "../../contracts/interfaces/IOperatorSet.sol";
import {IExecutableOracle} from "../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @dev The staking suite plus a DisputeManager as the registry's dispute module, the ingestor
/// reading the registry, and three staked watchers (weights 30, 20, 10).
abstract contract DisputeBase is StakingBase {
    uint256 internal constant BOND = 1 ether;
    uint256 internal constant CHALLENGE_WINDOW = 1 hours;
    uint256 internal constant COMMIT = 30 minutes;
    uint256 internal constant REVEAL = 30 minutes;
    uint256 internal constant WRONG_BPS = 5_000;
    uint256 internal constant UNAVAILABLE_BPS = 1_000;
    uint256 internal constant CHALLENGER_BPS = 3_000;
    uint256 internal constant BURN_BPS = 5_000;
    uint256 internal constant WATCHER_MIN = 10e18;

    DisputeManager internal disputes;
    address[3] internal watchers;
    address internal challenger = makeAddr("challenger");
    bytes32 internal constant CORRECT = keccak256("the correct body");

    function setUp() public virtual override {
        super.setUp();
        disputes = new DisputeManager(owner, registry, ingestor, _params());
        vm.startPrank(owner);
        registry.setDisputeModule(address(disputes));
        registry.setWatcherMinStake(WATCHER_MIN);
        ingestor.setOperatorSet(IOperatorSet(address(registry)));
        vm.stopPrank();
        for (uint256 i; i < 3; ++i) {
            watchers[i] = makeAddr(string(abi.encode("watcher", i)));
            _stake(watchers[i], (3 - i) * 10e18);
            vm.prank(watchers[i]);
            registry.registerWatcher();
        }
        vm.deal(challenger, 100 ether);
    }

    function _params() internal view returns (DisputeManager.ParamsInput memory) {
        return
            DisputeManager.ParamsInput(
                BOND,
                CHALLENGE_WINDOW,
                COMMIT,
                REVEAL,
                WRONG_BPS,
                UNAVAILABLE_BPS,
                CHALLENGER_BPS,
                BURN_BPS,
                treasury
            );
    }

    /// @dev A request answered by operators 0, 1, 2 and ingested now.
    function _ingested() internal returns (Result memory r, bytes[] memory sigs) {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        sigs = _sign(r, _three());
        vm.prank(poster);
        ingestor.ingest(r, ix, sigs, hex"00");
    }

    function _challenge(Result memory r, bytes[] memory sigs) internal returns (uint256) {
        vm.prank(challenger);
        return disputes.challenge{value: BOND}(r, sigs, IDisputeManager.Kind.WrongResult, CORRECT);
    }

    function _commit(uint256 id, uint256 w, bool upholds) internal {
        bytes32 commitment = disputes.voteCommitment(id, watchers[w], upholds, keccak256(abi.encode("salt", w)));
        vm.prank(watchers[w]); // after computing the commitment: an external call would use the prank up
        disputes.commitVote(id, commitment);
    }

    function _reveal(uint256 id, uint256 w, bool upholds) internal {
        vm.prank(watchers[w]);
        disputes.revealVote(id, upholds, keccak256(abi.encode("salt", w)));
    }

    /// @dev Every watcher in `votes` (0 absent, 1 uphold, 2 reject) commits, then reveals.
    function _vote(uint256 id, uint8[3] memory votes) internal {
        for (uint256 w; w < 3; ++w) if (votes[w] != 0) _commit(id, w, votes[w] == 1);
        vm.warp(block.timestamp + COMMIT + 1);
        for (uint256 w; w < 3; ++w) if (votes[w] != 0) _reveal(id, w, votes[w] == 1);
        vm.warp(block.timestamp + REVEAL);
    }

    function _stakeOf(address who) internal view returns (uint256) {
        (uint256 bonded, uint256 unbonding, ) = adapter.stakeOf(who);
        return bonded + unbonding;
    }
}

contract DisputeTest is DisputeBase {
    /*//////////////////////////////////////////////////////////////
                               OUTCOMES
    //////////////////////////////////////////////////////////////*/

    function test_upheld_slashesEverySignerPaysChallengerAndReturnsBond() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        _report(operators[0], 3);
        uint256 id = _challenge(r, sigs);
        _vote(id, [uint8(1), 2, 1]); // 30 + 10 uphold vs 20 reject
        disputes.resolve(id);

        uint256 perSigner = (BASE * WRONG_BPS) / 10_000;
        uint256 reward = (perSigner * CHALLENGER_BPS) / 10_000;
        for (uint256 i; i < 3; ++i) {
            assertEq(_stakeOf(operators[i]), BASE - perSigner, "signer slashed by the wrong-result share");
            assertEq(registry.reputationOf(operators[i]), 0, "reputation reset");
        }
        assertEq(_stakeOf(operators[3]), BASE, "the operator that did not sign is untouched");
        assertEq(stakeToken.balanceOf(challenger), 3 * reward, "challenger paid its share of each slash");
        assertEq(adapter.slashedOwed(treasury), 3 * (perSigner - reward), "treasury credited the rest");
        assertEq(disputes.owed(challenger), BOND, "bond returned");
        IDisputeManager.Dispute memory d = disputes.disputeOf(id);
        assertEq(uint256(d.state), uint256(IDisputeManager.State.Upheld));
        assertEq(d.upholdWeight, 40e18);
        assertEq(d.rejectWeight, 20e18);
        (uint256 open, bool overturned) = disputes.resultStatus(d.resultHash);
        assertEq(open, 0);
        assertTrue(overturned);

        uint256 before = challenger.balance;
        vm.prank(challenger);
        disputes.withdraw();
        assertEq(challenger.balance, before + BOND);
        assertEq(address(disputes).balance, 0);
    }

    function test_rejected_forfeitsBondWithPartBurnedAndLeavesSignersAlone() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        _vote(id, [uint8(2), 1, 1]); // 30 reject vs 30 uphold: a tie rejects
        disputes.resolve(id);

        assertEq(uint256(disputes.disputeOf(id).state), uint256(IDisputeManager.State.Rejected));
        for (uint256 i; i < 4; ++i) assertEq(_stakeOf(operators[i]), BASE);
        uint256 burned = (BOND * BURN_BPS) / 10_000;
        assertEq(disputes.totalBurned(), burned);
        assertEq(disputes.owed(treasury), BOND - burned);
        assertEq(disputes.owed(challenger), 0);
        assertEq(address(disputes).balance, BOND, "burned ETH stays locked here forever");
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NothingToWithdraw.selector, challenger));
        disputes.withdraw();
    }

    function test_noVotes_rejectsTheChallenge() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        vm.warp(block.timestamp + COMMIT + REVEAL + 1);
        vm.expectEmit(address(disputes));
        emit IDisputeManager.DisputeResolved(id, IDisputeManager.State.Rejected, 0, 0, 0, 0, BOND / 2, BOND / 2);
        disputes.resolve(id);
    }

    function test_dataUnavailable_upheldSlashesTheSmallerShare() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        vm.prank(challenger);
        uint256 id = disputes.challenge{value: BOND}(r, sigs, IDisputeManager.Kind.DataUnavailable, bytes32(0));
        _vote(id, [uint8(1), 1, 0]);
        disputes.resolve(id);
        uint256 perSigner = (BASE * UNAVAILABLE_BPS) / 10_000;
        for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE - perSigner);
    }

    function test_twoUpheldClaimsOnOneResult_slashEachSignerOnce() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 first = _challenge(r, sigs);
        vm.prank(challenger);
        uint256 second = disputes.challenge{value: BOND}(r, sigs, IDisputeManager.Kind.WrongResult, keccak256("x"));
        for (uint256 w; w < 3; ++w) {
            _commit(first, w, true);
            _commit(second, w, true);
        }
        vm.warp(block.timestamp + COMMIT + 1);
        for (uint256 w; w < 3; ++w) {
            _reveal(first, w, true);
            _reveal(second, w, true);
        }
        vm.warp(block.timestamp + REVEAL);
        disputes.resolve(first);
        uint256 afterFirst = _stakeOf(operators[0]);
        disputes.resolve(second);
        assertEq(_stakeOf(operators[0]), afterFirst, "one fault, one slash");
        assertEq(_stakeOf(operators[0]), BASE - (BASE * WRONG_BPS) / 10_000);
        assertEq(disputes.owed(challenger), 2 * BOND, "both bonds come back");
    }

    function test_disputeResolvesWithinTwoWindows() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        (, uint256 revealEnd) = disputes.phasesOf(id);
        assertLe(revealEnd - disputes.disputeOf(id).openedAt, 2 * CHALLENGE_WINDOW);

        DisputeManager.ParamsInput memory p = _params();
        p.commitPeriod = CHALLENGE_WINDOW + 1;
        p.revealPeriod = CHALLENGE_WINDOW;
        vm.expectRevert(IDisputeManager.Dispute_InvalidParams.selector);
        new DisputeManager(owner, registry, ingestor, p);
    }

    /*//////////////////////////////////////////////////////////////
                              FINALISATION
    //////////////////////////////////////////////////////////////*/

    function test_finalize_raisesSignersReputationOnceAfterTheWindow() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 windowEnd = block.timestamp + CHALLENGE_WINDOW;
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_WindowOpen.selector,
                r.originChainId,
                r.requestId,
                windowEnd,
                block.timestamp
            )
        );
        disputes.finalize(r, sigs);

        vm.warp(windowEnd + 1);
        disputes.finalize(r, sigs);
        for (uint256 i; i < 3; ++i) assertEq(registry.reputationOf(operators[i]), GAIN);
        assertEq(registry.reputationOf(operators[3]), 0);
        assertTrue(disputes.isFinalized(r.originChainId, r.requestId));
        assertLt(registry.requiredStake(operators[0]), BASE, "reputation lowers the required stake");

        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_AlreadyFinalized.selector, r.originChainId, r.requestId)
        );
        disputes.finalize(r, sigs);
    }

    function test_finalize_waitsForOpenDisputesAndNeverFollowsAnUpheldOne() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        _vote(id, [uint8(1), 0, 0]);
        vm.warp(block.timestamp + CHALLENGE_WINDOW); // past the window; the dispute is not resolved yet
        bytes32 resultHash = disputes.resultHashOf(r);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_ResultDisputed.selector, resultHash, 1));
        disputes.finalize(r, sigs);
        disputes.resolve(id);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_ResultOverturned.selector, resultHash));
        disputes.finalize(r, sigs);
    }

    function test_finalize_afterARejectedChallenge() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        _vote(id, [uint8(2), 0, 0]);
        vm.warp(block.timestamp + CHALLENGE_WINDOW);
        disputes.resolve(id);
        disputes.finalize(r, sigs);
        assertEq(registry.reputationOf(operators[0]), GAIN);
    }

    function test_finalizeBatch_finalisesWhatItCanAndSkipsTheRest() public {
        (Result memory a, bytes[] memory sigsA) = _ingested();
        (Result memory b, bytes[] memory sigsB) = _ingested();
        (Result memory c, bytes[] memory sigsC) = _ingested();
        _challenge(b, sigsB); // b stays disputed
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        disputes.finalize(c, sigsC); // c is already final

        Result[] memory rs = new Result[](3);
        bytes[][] memory sigs = new bytes[][](3);
        (rs[0], rs[1], rs[2]) = (a, b, c);
        (sigs[0], sigs[1], sigs[2]) = (sigsA, sigsB, sigsC);
        vm.expectEmit(address(disputes));
        emit IDisputeManager.FinalizeSkipped(
            b.requestId,
            b.originChainId,
            IDisputeManager.Dispute_ResultDisputed.selector
        );
        vm.expectEmit(address(disputes));
        emit IDisputeManager.FinalizeSkipped(
            c.requestId,
            c.originChainId,
            IDisputeManager.Dispute_AlreadyFinalized.selector
        );
        assertEq(disputes.finalizeBatch(rs, sigs), 1);
        assertTrue(disputes.isFinalized(a.originChainId, a.requestId));
        assertFalse(disputes.isFinalized(b.originChainId, b.requestId));
        assertEq(registry.reputationOf(operators[0]), 2 * GAIN, "a and c raised it, b did not");

        bytes[][] memory short = new bytes[][](2);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_BatchLengthMismatch.selector, 3, 2));
        disputes.finalizeBatch(rs, short);
    }

    /// @dev An operator that registered once, deregistered and took its stake back.
    function _formerOperator(string memory name) internal returns (address a, uint256 key) {
        (a, key) = makeAddrAndKey(name);
        _stake(a, BASE);
        vm.startPrank(a);
        registry.register();
        registry.deregister();
        adapter.requestUnbond(BASE);
        vm.roll(block.number + UNBONDING);
        adapter.withdraw();
        vm.stopPrank();
    }

    function test_finalize_refusesAMadeUpResultOfStakelessFormerOperators() public {
        uint256[] memory keys = new uint256[](3);
        (, keys[0]) = _formerOperator("former0");
        (, keys[1]) = _formerOperator("former1");
        (, keys[2]) = _formerOperator("former2");
        (Result memory r, bytes[] memory sigs) = _ingested();
        Result memory fake = _copy(r);
        fake.bodyHash = keccak256("made up after the window");
        bytes[] memory fakeSigs = new bytes[](3);
        address[] memory signers = new address[](3);
        for (uint256 i; i < 3; ++i) signers[i] = vm.addr(keys[i]);
        for (uint256 i; i < 3; ++i)
            for (uint256 j = i + 1; j < 3; ++j)
                if (signers[j] < signers[i]) {
                    (signers[i], signers[j]) = (signers[j], signers[i]);
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                }
        for (uint256 i; i < 3; ++i) {
            (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(keys[i], ingestor.resultDigest(fake));
            fakeSigs[i] = abi.encodePacked(rr, ss, v);
        }
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NotEnoughActiveSigners.selector, 0, 3));
        disputes.finalize(fake, fakeSigs);
        disputes.finalize(r, sigs);
        assertEq(registry.reputationOf(operators[0]), GAIN, "the honest signers keep their reputation");
        assertEq(registry.reputationOf(signers[0]), 0);
    }

    function test_finalize_creditsOnlyActiveSigners() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        uint256[] memory all = new uint256[](4);
        (all[0], all[1], all[2], all[3]) = (0, 1, 2, 3);
        bytes[] memory sigs = _sign(r, all);
        vm.prank(poster);
        ingestor.ingest(r, ix, sigs, hex"00");

        vm.prank(operators[0]);
        adapter.requestUnbond(1); // below the required stake once the unbonding stake unlocks
        vm.roll(block.number + UNBONDING);
        assertFalse(registry.isActive(operators[0]));
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        disputes.finalize(r, sigs);
        assertEq(registry.reputationOf(operators[0]), 0, "inactive: no reputation");
        for (uint256 i = 1; i < 4; ++i) assertEq(registry.reputationOf(operators[i]), GAIN);
    }

    function test_evict_anyoneRemovesAStakelessRegistration() public {
        (address zombie, ) = makeAddrAndKey("zombie");
        _stake(zombie, BASE);
        vm.startPrank(zombie);
        registry.register(); // 5 registered: the last seat under threshold 3
        adapter.requestUnbond(BASE);
        vm.roll(block.number + UNBONDING);
        adapter.withdraw();
        vm.stopPrank();
        assertTrue(registry.isRegistered(zombie));

        (address newcomer, ) = makeAddrAndKey("newcomer");
        _stake(newcomer, BASE);
        vm.prank(newcomer);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidThreshold.selector, 3, 6));
        registry.register();

        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_StillActive.selector, operators[1], BASE, BASE)
        );
        registry.evict(operators[1]);
        vm.expectEmit(address(registry));
        emit IStakingRegistry.OperatorEvicted(zombie, address(this), 0, BASE);
        registry.evict(zombie);
        assertFalse(registry.isRegistered(zombie));
        assertEq(registry.registeredCount(), 4);
        vm.prank(newcomer);
        registry.register();
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_NotRegistered.selector, zombie));
        registry.evict(zombie);
    }

    /*//////////////////////////////////////////////////////////////
                              SLASH CAP
    //////////////////////////////////////////////////////////////*/

    function test_slashCap_limitsWhatOnePeriodCanTake() public {
        uint256 cap = 60e18;
        vm.prank(owner);
        registry.setSlashCap(cap, 1_000);
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        _vote(id, [uint8(1), 0, 0]);
        disputes.resolve(id);
        uint256 taken = 3 * BASE - _stakeOf(operators[0]) - _stakeOf(operators[1]) - _stakeOf(operators[2]);
        assertEq(taken, cap, "50e18 + 10e18 + 0: the cap holds");
        (, , uint256 remaining) = registry.slashCap();
        assertEq(remaining, 0);

        // an equivocation in the same period takes nothing more but is still recorded
        _proveAs(watcher, 3, keccak256("later"));
        assertEq(_stakeOf(operators[3]), BASE);
        assertTrue(registry.equivocationSlashed(operators[3], block.chainid, keccak256("later")));

        // the next period has a fresh cap
        vm.roll(block.number + 1_000);
        (, , remaining) = registry.slashCap();
        assertEq(remaining, cap);
    }

    /*//////////////////////////////////////////////////////////////
                           CHALLENGE ERRORS
    //////////////////////////////////////////////////////////////*/

    function test_challenge_revertsOnBadInputAndChangesNothing() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        IDisputeManager.Kind wrong = IDisputeManager.Kind.WrongResult;

        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_WrongBond.selector, BOND - 1, BOND));
        disputes.challenge{value: BOND - 1}(r, sigs, wrong, CORRECT);

        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_InvalidClaim.selector, wrong, r.bodyHash, r.bodyHash)
        );
        disputes.challenge{value: BOND}(r, sigs, wrong, r.bodyHash);

        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_InvalidClaim.selector, wrong, r.bodyHash, bytes32(0))
        );
        disputes.challenge{value: BOND}(r, sigs, wrong, bytes32(0));

        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_InvalidClaim.selector,
                IDisputeManager.Kind.DataUnavailable,
                r.bodyHash,
                CORRECT
            )
        );
        disputes.challenge{value: BOND}(r, sigs, IDisputeManager.Kind.DataUnavailable, CORRECT);

        Result memory notIngested = _copy(r);
        notIngested.requestId = keccak256("nothing");
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_NotIngested.selector, r.originChainId, notIngested.requestId)
        );
        disputes.challenge{value: BOND}(notIngested, sigs, wrong, CORRECT);

        bytes[] memory two = new bytes[](2);
        (two[0], two[1]) = (sigs[0], sigs[1]);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NotEnoughSignatures.selector, 2, 3));
        disputes.challenge{value: BOND}(r, two, wrong, CORRECT);

        bytes[] memory swapped = new bytes[](3);
        (swapped[0], swapped[1], swapped[2]) = (sigs[1], sigs[0], sigs[2]);
        vm.prank(challenger);
        vm.expectPartialRevert(IDisputeManager.Dispute_SignersNotAscending.selector);
        disputes.challenge{value: BOND}(r, swapped, wrong, CORRECT);

        bytes[] memory bad = new bytes[](3);
        (bad[0], bad[1], bad[2]) = (sigs[0], sigs[1], hex"1234");
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_InvalidSignature.selector, 2));
        disputes.challenge{value: BOND}(r, bad, wrong, CORRECT);

        assertEq(disputes.disputeCount(), 0);
        assertEq(address(disputes).balance, 0);

        uint256 id = _challenge(r, sigs);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_AlreadyChallenged.selector,
                disputes.resultHashOf(r),
                CORRECT,
                id
            )
        );
        disputes.challenge{value: BOND}(r, sigs, wrong, CORRECT);

        uint256 windowEnd = block.timestamp + CHALLENGE_WINDOW;
        vm.warp(windowEnd + 1);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_WindowClosed.selector,
                r.originChainId,
                r.requestId,
                windowEnd,
                windowEnd + 1
            )
        );
        disputes.challenge{value: BOND}(r, sigs, wrong, keccak256("late"));
    }

    function test_challenge_revertsForSignaturesByStrangers() public {
        (Result memory r, ) = _ingested();
        uint256[] memory keys = new uint256[](3);
        keys[0] = 11;
        keys[1] = 12;
        keys[2] = 13;
        bytes32 digest = ingestor.resultDigest(r);
        bytes[] memory sigs = new bytes[](3);
        address[] memory addrs = new address[](3);
        for (uint256 i; i < 3; ++i) addrs[i] = vm.addr(keys[i]);
        // sort ascending
        for (uint256 i; i < 3; ++i)
            for (uint256 j = i + 1; j < 3; ++j)
                if (addrs[j] < addrs[i]) {
                    (addrs[i], addrs[j]) = (addrs[j], addrs[i]);
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                }
        for (uint256 i; i < 3; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = abi.encodePacked(rr, s, v);
        }
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_UnknownSigner.selector, addrs[0]));
        disputes.challenge{value: BOND}(r, sigs, IDisputeManager.Kind.WrongResult, CORRECT);
    }

    /*//////////////////////////////////////////////////////////////
                              VOTE ERRORS
    //////////////////////////////////////////////////////////////*/

    function test_votes_enforcePhasesRolesAndCommitments() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        (uint256 commitEnd, uint256 revealEnd) = disputes.phasesOf(id);

        vm.prank(operators[0]);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NotWatcher.selector, operators[0]));
        disputes.commitVote(id, keccak256("x"));

        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_UnknownDispute.selector, 99));
        disputes.commitVote(99, keccak256("x"));

        _commit(id, 0, true);
        vm.prank(watchers[0]);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_AlreadyCommitted.selector, id, watchers[0]));
        disputes.commitVote(id, keccak256("x"));

        vm.prank(watchers[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_NotRevealPhase.selector,
                id,
                commitEnd,
                revealEnd,
                block.timestamp
            )
        );
        disputes.revealVote(id, true, keccak256(abi.encode("salt", uint256(0))));

        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_RevealNotOver.selector, id, revealEnd, block.timestamp)
        );
        disputes.resolve(id);

        vm.warp(commitEnd + 1);
        vm.prank(watchers[1]);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_CommitClosed.selector, id, commitEnd, commitEnd + 1)
        );
        disputes.commitVote(id, keccak256("x"));

        vm.prank(watchers[0]);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_CommitmentMismatch.selector, id, watchers[0]));
        disputes.revealVote(id, false, keccak256(abi.encode("salt", uint256(0))));

        _reveal(id, 0, true);
        vm.prank(watchers[0]);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NothingToReveal.selector, id, watchers[0]));
        disputes.revealVote(id, true, keccak256(abi.encode("salt", uint256(0))));

        vm.warp(revealEnd + 1);
        disputes.resolve(id);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_NotOpen.selector, id, IDisputeManager.State.Upheld)
        );
        disputes.resolve(id);
    }

    function test_vote_stakeAddedAfterCommittingDoesNotCount() public {
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        _commit(id, 2, true); // weight 10
        _stake(watchers[2], 1_000e18);
        vm.warp(block.timestamp + COMMIT + 1);
        _reveal(id, 2, true);
        assertEq(disputes.disputeOf(id).upholdWeight, 10e18);
    }

    function test_watchers_areStakedAndNeverOperators() public {
        vm.prank(operators[0]);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_OperatorCannotWatch.selector, operators[0]));
        registry.registerWatcher();

        address poor = makeAddr("poor");
        _stake(poor, WATCHER_MIN - 1);
        vm.prank(poor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_InsufficientStakeForWatcher.selector,
                poor,
                WATCHER_MIN - 1,
                WATCHER_MIN
            )
        );
        registry.registerWatcher();

        vm.prank(watchers[0]);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_WatcherCannotOperate.selector, watchers[0]));
        registry.register();

        vm.prank(watchers[0]);
        registry.deregisterWatcher();
        assertEq(registry.watcherWeight(watchers[0]), 0);
    }

    function test_restricted_onlyOwnerAndDisputeModule() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        disputes.setParams(1, 1, 1, 1, 0, 0, 0, 0, treasury);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NotDisputeModule.selector, address(this), address(disputes))
        );
        registry.slashFault(operators[0], keccak256("f"), 10_000, address(this), 0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        registry.setDisputeModule(address(this));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        registry.setSlashCap(1, 1);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        registry.setWatcherMinStake(1);
    }

    function test_ingestedAt_isTheIngestionTimeOfLocalAndRemoteResults() public {
        vm.warp(block.timestamp + 100);
        (Result memory r, ) = _ingested();
        assertEq(ingestor.ingestedAt(r.originChainId, r.requestId), block.timestamp);
        IExecutableOracle.EscrowInfo memory e = oracle.escrowOf(r.requestId);
        assertEq(uint256(e.status), uint256(IExecutableOracle.RequestStatus.Ingested));
        assertEq(e.deadline, block.timestamp, "an ingested record keeps the ingestion time");
        assertEq(ingestor.ingestedAt(r.originChainId, keccak256("none")), 0);
        assertEq(ingestor.ingestedAt(REMOTE_CHAIN, r.requestId), 0);
    }

    /*//////////////////////////////////////////////////////////////
                                 FUZZ
    //////////////////////////////////////////////////////////////*/

    /// @dev Whatever the shares and votes: each signer loses exactly its slash, the challenger
    /// gets exactly its share, the treasury the rest, and the bond goes back or is split exactly.
    function testFuzz_resolution_movesExactlyWhatTheRulesSay(
        uint16 slashBps,
        uint16 rewardBps,
        uint16 burnBps,
        uint8 votes
    ) public {
        slashBps = uint16(bound(slashBps, 0, 10_000));
        rewardBps = uint16(bound(rewardBps, 0, 10_000));
        burnBps = uint16(bound(burnBps, 0, 10_000));
        vm.prank(owner);
        disputes.setParams(
            BOND,
            CHALLENGE_WINDOW,
            COMMIT,
            REVEAL,
            slashBps,
            UNAVAILABLE_BPS,
            rewardBps,
            burnBps,
            treasury
        );
        (Result memory r, bytes[] memory sigs) = _ingested();
        uint256 id = _challenge(r, sigs);
        uint8[3] memory v = [uint8(votes % 3), (votes / 3) % 3, (votes / 9) % 3];
        _vote(id, v);
        disputes.resolve(id);

        uint256 up;
        uint256 down;
        for (uint256 w; w < 3; ++w) {
            if (v[w] == 1) up += (3 - w) * 10e18;
            if (v[w] == 2) down += (3 - w) * 10e18;
        }
        uint256 perSigner = (BASE * slashBps) / 10_000;
        uint256 reward = (perSigner * rewardBps) / 10_000;
        if (up > down) {
            for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE - perSigner);
            assertEq(stakeToken.balanceOf(challenger), 3 * reward);
            assertEq(adapter.slashedOwed(treasury), 3 * (perSigner - reward));
            assertEq(disputes.owed(challenger), BOND);
        } else {
            for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE);
            uint256 burned = (BOND * burnBps) / 10_000;
            assertEq(disputes.totalBurned(), burned);
            assertEq(disputes.owed(treasury), BOND - burned);
        }
        assertEq(address(disputes).balance, disputes.totalOwed() + disputes.totalBurned());
    }
}

/// @dev Opens, votes on and resolves disputes over random results in random order, tracking the
/// stake and the ETH that move.
contract DisputeHandler is Test {
    DisputeInvariantTest internal immutable t;
    DisputeManager internal immutable disputes;

    uint256[] public ids;
    uint256 public openBonds;
    uint256 public withdrawnEth;
    uint256 public doubleSlashes;
    Result[] internal results;
    mapping(uint256 index => bytes[]) internal sigsOf;

    constructor(DisputeInvariantTest t_, DisputeManager disputes_) {
        t = t_;
        disputes = disputes_;
    }

    function challenge(bool unavailable, uint256 claimSeed) external {
        (Result memory r, bytes[] memory sigs) = t.ingestedResult();
        results.push(r);
        sigsOf[results.length - 1] = sigs;
        _challenge(r, sigs, unavailable, claimSeed);
    }

    /// @dev A second claim on a result already challenged (maybe already overturned).
    function challengeAgain(uint256 which, uint256 claimSeed) external {
        if (results.length == 0) return;
        uint256 i = which % results.length;
        try this.challengeExisting(results[i], sigsOf[i], claimSeed) {} catch {}
    }

    function challengeExisting(Result calldata r, bytes[] calldata sigs, uint256 claimSeed) external {
        require(msg.sender == address(this), "handler only");
        _challenge(r, sigs, false, claimSeed);
    }

    function _challenge(Result memory r, bytes[] memory sigs, bool unavailable, uint256 claimSeed) internal {
        address who = t.challengerAddr();
        vm.deal(who, 1 ether);
        vm.prank(who);
        uint256 id = disputes.challenge{value: 1 ether}(
            r,
            sigs,
            unavailable ? IDisputeManager.Kind.DataUnavailable : IDisputeManager.Kind.WrongResult,
            unavailable ? bytes32(0) : keccak256(abi.encode(claimSeed))
        );
        ids.push(id);
        openBonds += 1 ether;
    }

    /// @dev Two claims on one fresh result, both upheld by every watcher, resolved in turn: the
    /// second must take nothing.
    function doubleClaimUpheld(uint256 claimSeed) external {
        (Result memory r, bytes[] memory sigs) = t.ingestedResult();
        results.push(r);
        sigsOf[results.length - 1] = sigs;
        _challenge(r, sigs, false, claimSeed);
        uint256 first = ids[ids.length - 1];
        _challenge(r, sigs, false, claimSeed ^ 1);
        uint256 second = ids[ids.length - 1];
        for (uint256 w; w < 3; ++w) {
            address voter = t.watcherAt(w);
            bytes32 c1 = disputes.voteCommitment(first, voter, true, bytes32(w));
            bytes32 c2 = disputes.voteCommitment(second, voter, true, bytes32(w));
            vm.startPrank(voter);
            try disputes.commitVote(first, c1) {} catch {}
            try disputes.commitVote(second, c2) {} catch {}
            vm.stopPrank();
        }
        (uint256 commitEnd, uint256 revealEnd) = disputes.phasesOf(second);
        vm.warp(commitEnd + 1);
        for (uint256 w; w < 3; ++w) {
            vm.startPrank(t.watcherAt(w));
            try disputes.revealVote(first, true, bytes32(w)) {} catch {}
            try disputes.revealVote(second, true, bytes32(w)) {} catch {}
            vm.stopPrank();
        }
        vm.warp(revealEnd + 1);
        this.resolve(ids.length - 2);
        this.resolve(ids.length - 1);
    }

    function vote(uint256 which, uint256 w, bool upholds) external {
        if (ids.length == 0) return;
        uint256 id = ids[which % ids.length];
        address voter = t.watcherAt(w % 3);
        (uint256 commitEnd, uint256 revealEnd) = disputes.phasesOf(id);
        bytes32 salt = keccak256(abi.encode(id, voter));
        if (block.timestamp <= commitEnd) {
            bytes32 c = disputes.voteCommitment(id, voter, upholds, salt);
            vm.prank(voter);
            try disputes.commitVote(id, c) {} catch {}
        } else if (block.timestamp <= revealEnd) {
            vm.prank(voter);
            try disputes.revealVote(id, upholds, salt) {} catch {}
        }
    }

    function resolve(uint256 which) external {
        if (ids.length == 0) return;
        uint256 id = ids[which % ids.length];
        IDisputeManager.Dispute memory d = disputes.disputeOf(id);
        (, bool overturnedBefore) = disputes.resultStatus(d.resultHash);
        address[] memory signers = disputes.signersOf(id);
        uint256[] memory before = new uint256[](signers.length);
        for (uint256 i; i < signers.length; ++i) before[i] = t.stakeOf(signers[i]);
        try disputes.resolve(id) {
            openBonds -= 1 ether;
            // the same fault (result, kind) already upheld: nobody may lose stake again
            bool sameFault = overturnedBefore && d.kind == IDisputeManager.Kind.WrongResult;
            if (sameFault && disputes.disputeOf(id).state == IDisputeManager.State.Upheld) {
                for (uint256 i; i < signers.length; ++i) if (t.stakeOf(signers[i]) < before[i]) ++doubleSlashes;
            }
        } catch {}
    }

    function wait(uint256 secondsToWait) external {
        vm.warp(block.timestamp + bound(secondsToWait, 1, 40 minutes));
        vm.roll(block.number + 1);
    }

    function withdraw(bool treasury) external {
        address who = treasury ? t.treasuryAddr() : t.challengerAddr();
        uint256 before = who.balance;
        vm.prank(who);
        try disputes.withdraw() {
            withdrawnEth += who.balance - before;
        } catch {}
    }
}

contract DisputeInvariantTest is DisputeBase {
    DisputeHandler internal handler;
    uint256 internal initialStake;

    function setUp() public override {
        super.setUp();
        handler = new DisputeHandler(this, disputes);
        targetContract(address(handler));
        initialStake = stakeToken.balanceOf(address(adapter));
        vm.deal(requester, type(uint128).max);
    }

    function ingestedResult() external returns (Result memory r, bytes[] memory sigs) {
        return _ingested();
    }

    function challengerAddr() external view returns (address) {
        return challenger;
    }

    function treasuryAddr() external view returns (address) {
        return treasury;
    }

    function watcherAt(uint256 i) external view returns (address) {
        return watchers[i];
    }

    function stakeOf(address who) external view returns (uint256) {
        return _stakeOf(who);
    }

    /// @dev One fault, one slash: a second upheld claim on an overturned result takes nothing.
    function invariant_nobodySlashedTwiceForOneFault() public view {
        assertEq(handler.doubleSlashes(), 0);
    }

    /// @dev ETH: the manager holds exactly the open bonds, what it owes and what it burned.
    function invariant_bondsConserved() public view {
        assertEq(address(disputes).balance, handler.openBonds() + disputes.totalOwed() + disputes.totalBurned());
    }

    /// @dev Stake: what left the adapter is exactly what the challenger and the treasury got.
    function invariant_slashedStakeGoesExactlyToChallengerAndTreasury() public view {
        uint256 held = stakeToken.balanceOf(address(adapter));
        assertEq(held, adapter.totalStaked() + adapter.totalOwed());
        assertEq(adapter.totalOwed(), adapter.slashedOwed(treasury));
        assertEq(
            adapter.totalStaked(),
            initialStake - stakeToken.balanceOf(challenger) - adapter.slashedOwed(treasury)
        );
    }
}
