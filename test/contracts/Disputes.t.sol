// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakingBase} from "./Staking.t.sol";
import {DisputeManager} from "../../contracts/staking/DisputeManager.sol";
import {IDisputeManager} from "../../contracts/interfaces/IDisputeManager.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";
import {IOperatorSet} from "../../contracts/interfaces/IOperatorSet.sol";
import {IInstructionIngestor} from "../../contracts/interfaces/IInstructionIngestor.sol";
import {IExecutableOracle} from "../../contracts/interfaces/IExecutableOracle.sol";
import {InstructionIngestor} from "../../contracts/InstructionIngestor.sol";
import {Instruction, Result, Ops, ResultTypedData} from "../../contracts/interfaces/IInstruction.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @dev Stands in for the ingestor's `ingestionOf` until the ingestor records the signers itself:
/// the ingestion time comes from the real ingestor, the commitment is computed exactly as the plan
/// says the ingestor does (`ResultTypedData.signersCommitment(structHash(r), signers)`, signers
/// ascending as accepted).
contract IngestionRecorder {
    InstructionIngestor internal immutable real;
    mapping(bytes32 key => bytes32) internal _commitments;

    constructor(InstructionIngestor real_) {
        real = real_;
    }

    function record(Result calldata r, address[] calldata signers) external {
        _commitments[keccak256(abi.encode(r.originChainId, r.requestId))] = ResultTypedData.signersCommitment(
            ResultTypedData.structHash(r),
            signers
        );
    }

    function ingestionOf(uint256 originChainId, bytes32 requestId) external view returns (uint256, bytes32) {
        return (
            real.ingestedAt(originChainId, requestId),
            _commitments[keccak256(abi.encode(originChainId, requestId))]
        );
    }
}

/// @dev The staking suite plus a DisputeManager as the registry's dispute module, the ingestor
/// reading the registry, and three staked watchers (weights 30, 20, 10 of 60).
abstract contract DisputeBase is StakingBase {
    uint256 internal constant BOND = 1 ether;
    uint256 internal constant CHALLENGE_WINDOW = 30;
    uint256 internal constant COMMIT = 10;
    uint256 internal constant REVEAL = 10;
    uint256 internal constant MAX_EXT = 2;
    uint256 internal constant MIN_PART_BPS = 5_000; // 30 of the 60 watcher weight
    uint256 internal constant QUORUM_BPS = 6_600; // 40 of 60 upholds, 30 of 50 does not
    uint256 internal constant WRONG_BPS = 5_000;
    uint256 internal constant UNAVAILABLE_BPS = 1_000;
    uint256 internal constant CHALLENGER_BPS = 3_000;
    uint256 internal constant WRONG_VOTE_BPS = 2_000;
    uint256 internal constant BURN_BPS = 5_000;
    uint256 internal constant WATCHER_MIN = 10e18;

    DisputeManager internal disputes;
    IngestionRecorder internal recorder;
    address[3] internal watchers;
    address internal challenger = makeAddr("challenger");
    bytes32 internal constant CORRECT = keccak256("the correct body");
    bytes32 internal constant SALT = keccak256("challenge salt");

    function setUp() public virtual override {
        super.setUp();
        recorder = new IngestionRecorder(ingestor);
        disputes = new DisputeManager(owner, registry, IInstructionIngestor(address(recorder)), _params());
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

    function _params() internal view returns (IDisputeManager.Params memory) {
        return
            IDisputeManager.Params({
                bond: BOND,
                challengeWindow: CHALLENGE_WINDOW,
                commitPeriod: COMMIT,
                revealPeriod: REVEAL,
                maxExtensions: MAX_EXT,
                minParticipationBps: MIN_PART_BPS,
                upholdQuorumBps: QUORUM_BPS,
                wrongResultSlashBps: WRONG_BPS,
                unavailableSlashBps: UNAVAILABLE_BPS,
                challengerRewardBps: CHALLENGER_BPS,
                wrongVoteSlashBps: WRONG_VOTE_BPS,
                bondBurnBps: BURN_BPS,
                treasury: treasury
            });
    }

    /// @dev A request answered by operators 0, 1, 2 and ingested now.
    function _ingested() internal returns (Result memory r, address[] memory signers) {
        return _ingestedBy(_three());
    }

    /// @dev A request answered and ingested with the signatures of operators `which`; the recorder
    /// keeps what the ingestor accepted.
    function _ingestedBy(uint256[] memory which) internal returns (Result memory r, address[] memory signers) {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory sigs = _sign(r, which);
        vm.prank(poster);
        ingestor.ingest(r, ix, sigs, hex"00");
        signers = _sorted(which);
        recorder.record(r, signers);
    }

    function _sorted(uint256[] memory which) internal view returns (address[] memory s) {
        s = new address[](which.length);
        for (uint256 i; i < which.length; ++i) s[i] = operators[which[i]];
        for (uint256 i = 1; i < s.length; ++i)
            for (uint256 j = i; j > 0 && s[j - 1] > s[j]; --j) (s[j - 1], s[j]) = (s[j], s[j - 1]);
    }

    /// @dev One block later, one second later.
    function _nextBlock() internal {
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 1);
    }

    function _commitChallenge(
        address who,
        Result memory r,
        IDisputeManager.Kind kind,
        bytes32 claim,
        bytes32 salt
    ) internal returns (uint256 seq) {
        bytes32 c = disputes.challengeCommitment(who, r.originChainId, r.requestId, kind, claim, salt);
        vm.prank(who);
        return disputes.commitChallenge(c);
    }

    function _reveal(
        address who,
        Result memory r,
        address[] memory signers,
        IDisputeManager.Kind kind,
        bytes32 claim,
        bytes32 salt
    ) internal returns (uint256) {
        vm.prank(who);
        return disputes.challenge{value: BOND}(r, signers, kind, claim, salt);
    }

    /// @dev `who` commits, and reveals one block later.
    function _openAs(
        address who,
        Result memory r,
        address[] memory signers,
        IDisputeManager.Kind kind,
        bytes32 claim
    ) internal returns (uint256) {
        _commitChallenge(who, r, kind, claim, SALT);
        _nextBlock();
        return _reveal(who, r, signers, kind, claim, SALT);
    }

    function _challenge(Result memory r, address[] memory signers) internal returns (uint256) {
        return _openAs(challenger, r, signers, IDisputeManager.Kind.WrongResult, CORRECT);
    }

    function _salt(uint256 w) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", w));
    }

    function _commit(uint256 id, uint256 w, bool upholds) internal {
        bytes32 commitment = disputes.voteCommitment(id, watchers[w], upholds, _salt(w));
        vm.prank(watchers[w]); // after computing the commitment: an external call would use the prank up
        disputes.commitVote(id, commitment);
    }

    function _revealVote(uint256 id, uint256 w, bool upholds) internal {
        vm.prank(watchers[w]);
        disputes.revealVote(id, upholds, _salt(w));
    }

    /// @dev Into the reveal phase of the current round.
    function _toReveal(uint256 id) internal {
        (uint256 commitEnd, , ) = disputes.phasesOf(id);
        vm.warp(commitEnd + 1);
        vm.roll(block.number + 1);
    }

    /// @dev Past the current round's reveal phase and the result's window.
    function _toEnd(uint256 id) internal {
        (, uint256 revealEnd, ) = disputes.phasesOf(id);
        uint256 windowEnd = disputes.disputeOf(id).windowEnd;
        vm.warp((revealEnd > windowEnd ? revealEnd : windowEnd) + 1);
        vm.roll(block.number + 1);
    }

    /// @dev Every watcher in `votes` (0 absent, 1 uphold, 2 reject) commits, then reveals; then
    /// the round ends.
    function _vote(uint256 id, uint8[3] memory votes) internal {
        for (uint256 w; w < 3; ++w) if (votes[w] != 0) _commit(id, w, votes[w] == 1);
        _toReveal(id);
        for (uint256 w; w < 3; ++w) if (votes[w] != 0) _revealVote(id, w, votes[w] == 1);
        _toEnd(id);
    }

    function _stakeOf(address who) internal view returns (uint256) {
        (uint256 bonded, uint256 unbonding, ) = adapter.stakeOf(who);
        return bonded + unbonding;
    }

    function _allStakes() internal view returns (uint256[4] memory ops, uint256[3] memory ws) {
        for (uint256 i; i < 4; ++i) ops[i] = _stakeOf(operators[i]);
        for (uint256 i; i < 3; ++i) ws[i] = _stakeOf(watchers[i]);
    }
}

contract DisputeTest is DisputeBase {
    /*//////////////////////////////////////////////////////////////
                               OUTCOMES
    //////////////////////////////////////////////////////////////*/

    function test_upheld_slashesEveryRecordedSignerPaysChallengerAndReturnsBond() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        _vote(id, [uint8(1), 2, 1]); // 30 + 10 uphold vs 20 reject: 66.7 % >= 66 %
        disputes.resolve(id);

        uint256 perSigner = (BASE * WRONG_BPS) / 10_000;
        uint256 reward = (perSigner * CHALLENGER_BPS) / 10_000;
        for (uint256 i; i < 3; ++i) {
            assertEq(_stakeOf(operators[i]), BASE - perSigner, "signer slashed by the wrong-result share");
            assertEq(registry.reputationOf(operators[i]), 0, "reputation reset");
        }
        assertEq(_stakeOf(operators[3]), BASE, "the operator that did not sign is untouched");
        assertEq(stakeToken.balanceOf(challenger), 3 * reward, "challenger paid its share of each slash");
        uint256 voterSlash = (20e18 * WRONG_VOTE_BPS) / 10_000;
        assertEq(_stakeOf(watchers[1]), 20e18 - voterSlash, "the watcher that voted against the outcome pays");
        assertEq(_stakeOf(watchers[0]), 30e18);
        assertEq(_stakeOf(watchers[2]), 10e18);
        assertEq(
            adapter.slashedOwed(treasury),
            3 * (perSigner - reward) + voterSlash,
            "treasury credited the rest and the voter's slash"
        );
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

    function test_rejected_forfeitsBondSlashesUpholdersAndLeavesSignersAlone() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        _vote(id, [uint8(2), 1, 1]); // 30 reject vs 30 uphold: a tie rejects
        disputes.resolve(id);

        assertEq(uint256(disputes.disputeOf(id).state), uint256(IDisputeManager.State.Rejected));
        for (uint256 i; i < 4; ++i) assertEq(_stakeOf(operators[i]), BASE);
        assertEq(_stakeOf(watchers[0]), 30e18, "the majority keeps its stake");
        assertEq(_stakeOf(watchers[1]), 20e18 - (20e18 * WRONG_VOTE_BPS) / 10_000, "upholders pay");
        assertEq(_stakeOf(watchers[2]), 10e18 - (10e18 * WRONG_VOTE_BPS) / 10_000, "upholders pay");
        uint256 burned = (BOND * BURN_BPS) / 10_000;
        assertEq(disputes.totalBurned(), burned);
        assertEq(disputes.owed(treasury), BOND - burned);
        assertEq(disputes.owed(challenger), 0);
        assertEq(address(disputes).balance, BOND, "burned ETH stays locked here forever");
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NothingToWithdraw.selector, challenger));
        disputes.withdraw();
    }

    function test_noVotes_isExtendedThenDismissedWithTheBondBack() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        (uint256 commitEnd, uint256 revealEnd, uint256 round) = disputes.phasesOf(id);
        assertEq(round, 0);
        vm.warp(revealEnd + 1);
        (uint256 c1, uint256 r1, uint256 round1) = disputes.phasesOf(id);
        assertEq(round1, 1, "a silent round is followed by another");
        assertEq(c1, revealEnd + COMMIT, "scheduled from the previous round's end");
        assertEq(r1, revealEnd + COMMIT + REVEAL);
        assertGt(c1, commitEnd);

        _toEnd(id); // past round 1
        _toEnd(id); // past round 2, the last
        (, , uint256 last) = disputes.phasesOf(id);
        assertEq(last, MAX_EXT);
        vm.expectEmit(address(disputes));
        emit IDisputeManager.DisputeResolved(id, IDisputeManager.State.Dismissed, 0, 0, 0, 0, 0, 0, 0);
        disputes.resolve(id);
        assertEq(disputes.owed(challenger), BOND, "never decided against the challenger by default");
        for (uint256 i; i < 4; ++i) assertEq(_stakeOf(operators[i]), BASE, "nor in its favour");
        assertEq(disputes.disputeOf(id).round, MAX_EXT);
    }

    function test_extension_countsEarlierVotesAndDecidesOnceParticipationIsMet() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        _vote(id, [uint8(0), 0, 1]); // 10 of 60: below the 30 needed
        vm.expectRevert(); // the next round is running
        disputes.resolve(id);
        (, , uint256 round) = disputes.phasesOf(id);
        assertEq(round, 1);
        _vote(id, [uint8(1), 0, 0]); // +30: 40 upholding
        disputes.resolve(id);
        IDisputeManager.Dispute memory d = disputes.disputeOf(id);
        assertEq(uint256(d.state), uint256(IDisputeManager.State.Upheld));
        assertEq(d.upholdWeight, 40e18);
        assertEq(d.round, 1);
        assertEq(_stakeOf(operators[0]), BASE - (BASE * WRONG_BPS) / 10_000);
    }

    function test_bareMajority_isDismissedAndSlashesNoRevealedVoter() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        _vote(id, [uint8(1), 2, 0]); // 30 uphold vs 20 reject: 60 % < 66 %
        disputes.resolve(id);
        assertEq(uint256(disputes.disputeOf(id).state), uint256(IDisputeManager.State.Dismissed));
        for (uint256 i; i < 4; ++i) assertEq(_stakeOf(operators[i]), BASE);
        assertEq(_stakeOf(watchers[0]), 30e18);
        assertEq(_stakeOf(watchers[1]), 20e18);
        assertEq(disputes.owed(challenger), BOND);
    }

    function test_unrevealedVote_isSlashedWhateverTheOutcome() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        _commit(id, 0, true);
        _commit(id, 1, false);
        _commit(id, 2, true);
        _toReveal(id);
        _revealVote(id, 0, true);
        _revealVote(id, 2, true); // watcher 1 stays silent
        _toEnd(id);
        vm.expectEmit(address(disputes));
        emit IDisputeManager.VoterSlashed(id, watchers[1], false, (20e18 * WRONG_VOTE_BPS) / 10_000);
        disputes.resolve(id);
        assertEq(uint256(disputes.disputeOf(id).state), uint256(IDisputeManager.State.Upheld));
        assertEq(_stakeOf(watchers[1]), 20e18 - (20e18 * WRONG_VOTE_BPS) / 10_000);
        assertEq(_stakeOf(watchers[0]), 30e18);
    }

    function test_dataUnavailable_upheldSlashesTheSmallerShare() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _openAs(challenger, r, signers, IDisputeManager.Kind.DataUnavailable, bytes32(0));
        _vote(id, [uint8(1), 1, 0]);
        disputes.resolve(id);
        uint256 perSigner = (BASE * UNAVAILABLE_BPS) / 10_000;
        for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE - perSigner);
    }

    function test_resolve_waitsForTheChallengeWindow() public {
        IDisputeManager.Params memory p = _params();
        p.challengeWindow = 60;
        p.maxExtensions = 0;
        vm.prank(owner);
        disputes.setParams(p);
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        (, uint256 revealEnd, ) = disputes.phasesOf(id);
        uint256 windowEnd = disputes.windowEndOf(r.originChainId, r.requestId);
        assertGt(windowEnd, revealEnd);
        vm.warp(revealEnd + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_WindowOpen.selector,
                r.originChainId,
                r.requestId,
                windowEnd,
                revealEnd + 1
            )
        );
        disputes.resolve(id);
        vm.warp(windowEnd + 1);
        disputes.resolve(id);
    }

    /*//////////////////////////////////////////////////////////////
                               PARAMETERS
    //////////////////////////////////////////////////////////////*/

    function test_params_refuseADisputeLongerThanTheSlashableWindow() public {
        uint256 window = registry.slashableWindow();
        IDisputeManager.Params memory p = _params();
        p.challengeWindow = window - (COMMIT + REVEAL) * (1 + MAX_EXT); // exactly the window: refused
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_DurationExceedsSlashableWindow.selector,
                p.challengeWindow,
                COMMIT,
                REVEAL,
                MAX_EXT,
                window,
                window
            )
        );
        new DisputeManager(owner, registry, IInstructionIngestor(address(recorder)), p);

        p.challengeWindow -= 1; // one second shorter: accepted
        vm.prank(owner);
        disputes.setParams(p);
        assertEq(disputes.params().challengeWindow, p.challengeWindow);

        p.maxExtensions = MAX_EXT + 1; // one more round no longer fits
        vm.prank(owner);
        vm.expectPartialRevert(IDisputeManager.Dispute_DurationExceedsSlashableWindow.selector);
        disputes.setParams(p);
    }

    function test_params_refuseQuorumsAndParticipationThatDecideByDefault() public {
        IDisputeManager.Params memory p = _params();
        p.upholdQuorumBps = 5_000;
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_InvalidParam.selector, "upholdQuorumBps", 5_000)
        );
        disputes.setParams(p);
        p = _params();
        p.minParticipationBps = 0;
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_InvalidParam.selector, "minParticipationBps", 0)
        );
        disputes.setParams(p);
        p = _params();
        p.maxExtensions = 9;
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_InvalidParam.selector, "maxExtensions", 9));
        disputes.setParams(p);
        p = _params();
        p.bond = 0;
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_InvalidParam.selector, "bond", 0));
        disputes.setParams(p);
        p = _params();
        p.wrongVoteSlashBps = 10_001;
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_InvalidParam.selector, "wrongVoteSlashBps", 10_001)
        );
        disputes.setParams(p);
        p = _params();
        p.treasury = address(0);
        vm.prank(owner);
        vm.expectRevert(IDisputeManager.Dispute_ZeroAddress.selector);
        disputes.setParams(p);
    }

    /*//////////////////////////////////////////////////////////////
                           CHALLENGE ERRORS
    //////////////////////////////////////////////////////////////*/

    function test_challenge_revertsOnBadInputAndChangesNothing() public {
        (Result memory r, address[] memory signers) = _ingested();
        IDisputeManager.Kind wrong = IDisputeManager.Kind.WrongResult;
        _commitChallenge(challenger, r, wrong, CORRECT, SALT);
        _nextBlock();

        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_WrongBond.selector, BOND - 1, BOND));
        disputes.challenge{value: BOND - 1}(r, signers, wrong, CORRECT, SALT);

        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_InvalidClaim.selector, wrong, r.bodyHash, r.bodyHash)
        );
        disputes.challenge{value: BOND}(r, signers, wrong, r.bodyHash, SALT);

        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_InvalidClaim.selector, wrong, r.bodyHash, bytes32(0))
        );
        disputes.challenge{value: BOND}(r, signers, wrong, bytes32(0), SALT);

        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_InvalidClaim.selector,
                IDisputeManager.Kind.DataUnavailable,
                r.bodyHash,
                CORRECT
            )
        );
        disputes.challenge{value: BOND}(r, signers, IDisputeManager.Kind.DataUnavailable, CORRECT, SALT);

        Result memory notIngested = _copy(r);
        notIngested.requestId = keccak256("nothing");
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_NotIngested.selector, r.originChainId, notIngested.requestId)
        );
        disputes.challenge{value: BOND}(notIngested, signers, wrong, CORRECT, SALT);

        // the signers in another order are not what was recorded
        address[] memory swapped = new address[](3);
        (swapped[0], swapped[1], swapped[2]) = (signers[1], signers[0], signers[2]);
        vm.prank(challenger);
        vm.expectPartialRevert(IDisputeManager.Dispute_AccusedMismatch.selector);
        disputes.challenge{value: BOND}(r, swapped, wrong, CORRECT, SALT);

        // a salt that was never committed
        bytes32 other = disputes.challengeCommitment(challenger, r.originChainId, r.requestId, wrong, CORRECT, "x");
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_ChallengeNotCommitted.selector, other));
        disputes.challenge{value: BOND}(r, signers, wrong, CORRECT, "x");

        vm.expectRevert(IDisputeManager.Dispute_ZeroCommitment.selector);
        disputes.commitChallenge(bytes32(0));

        assertEq(disputes.disputeCount(), 0);
        assertEq(address(disputes).balance, 0);

        uint256 id = _reveal(challenger, r, signers, wrong, CORRECT, SALT);
        assertEq(id, 1);
        (uint256 seq, , ) = disputes.challengeCommitOf(
            disputes.challengeCommitment(challenger, r.originChainId, r.requestId, wrong, CORRECT, SALT)
        );
        assertEq(seq, 0, "a revealed commitment is spent");

        uint256 windowEnd = disputes.windowEndOf(r.originChainId, r.requestId);
        _commitChallenge(challenger, r, wrong, keccak256("late"), SALT);
        vm.warp(windowEnd + 1);
        vm.roll(block.number + 1);
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
        disputes.challenge{value: BOND}(r, signers, wrong, keccak256("late"), SALT);
    }

    function test_challenge_sameClaimTwiceIsRefused() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        uint256 seq = disputes.disputeOf(id).challengeSeq;
        _commitChallenge(challenger, r, IDisputeManager.Kind.WrongResult, CORRECT, "again");
        _nextBlock();
        bytes32 resultHash = disputes.resultHashOf(r);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_AlreadyChallenged.selector,
                resultHash,
                CORRECT,
                id,
                seq,
                seq + 1
            )
        );
        disputes.challenge{value: BOND}(r, signers, IDisputeManager.Kind.WrongResult, CORRECT, "again");
    }

    function test_challenge_refusesACommitmentMadeTwice() public {
        bytes32 c = keccak256("c");
        disputes.commitChallenge(c);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_ChallengeAlreadyCommitted.selector, c, 1));
        disputes.commitChallenge(c);
    }

    /*//////////////////////////////////////////////////////////////
                                 VOTES
    //////////////////////////////////////////////////////////////*/

    function test_vote_revertsForWrongRolesAndCommitments() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        (uint256 commitEnd, uint256 revealEnd, ) = disputes.phasesOf(id);

        vm.prank(operators[0]);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NotWatcher.selector, operators[0]));
        disputes.commitVote(id, keccak256("x"));

        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_UnknownDispute.selector, 99));
        disputes.commitVote(99, keccak256("x"));

        vm.prank(watchers[0]);
        vm.expectRevert(IDisputeManager.Dispute_ZeroCommitment.selector);
        disputes.commitVote(id, bytes32(0));

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
        disputes.revealVote(id, true, _salt(0));

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
        disputes.revealVote(id, false, _salt(0));

        vm.prank(watchers[1]);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NothingToReveal.selector, id, watchers[1]));
        disputes.revealVote(id, true, _salt(1));

        _revealVote(id, 0, true);
        vm.prank(watchers[0]);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NothingToReveal.selector, id, watchers[0]));
        disputes.revealVote(id, true, _salt(0));

        _toEnd(id);
        disputes.resolve(id);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeManager.Dispute_NotOpen.selector, id, IDisputeManager.State.Upheld)
        );
        disputes.resolve(id);
    }

    function test_vote_committedInOneRoundCannotBeRevealedInTheNext() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        _commit(id, 0, true);
        _toEnd(id); // round 0 over without a reveal: round 1
        _toReveal(id);
        vm.prank(watchers[0]);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_NothingToReveal.selector, id, watchers[0]));
        disputes.revealVote(id, true, _salt(0));
    }

    function test_vote_stakeAddedAfterCommittingDoesNotCount() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        _commit(id, 2, true); // weight 10
        _stake(watchers[2], 1_000e18);
        _toReveal(id);
        _revealVote(id, 2, true);
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
        disputes.setParams(_params());
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NotDisputeModule.selector, address(this), address(disputes))
        );
        registry.slashFault(operators[0], keccak256("f"), 10_000, address(this), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NotDisputeModule.selector, address(this), address(disputes))
        );
        registry.slashWatcher(watchers[0], 10_000);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        registry.setDisputeModule(address(this));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        registry.setWatcherMinStake(1);
    }

    function test_ingestedAt_isTheIngestionTimeOfLocalAndRemoteResults() public {
        vm.warp(block.timestamp + 100);
        (Result memory r, ) = _ingested();
        assertEq(ingestor.ingestedAt(r.originChainId, r.requestId), block.timestamp);
        IExecutableOracle.EscrowInfo memory e = oracle.escrowOf(r.requestId);
        assertEq(uint256(e.status), uint256(IExecutableOracle.RequestStatus.Ingested));
        assertEq(ingestor.ingestedAt(r.originChainId, keccak256("none")), 0);
        assertEq(ingestor.ingestedAt(REMOTE_CHAIN, r.requestId), 0);
    }

    /// @dev Gas of each step (execution only, warm-ish test state): printed for the README table.
    function test_gas_commitChallengeVoteResolve() public {
        (Result memory r, address[] memory signers) = _ingested();
        bytes32 c = disputes.challengeCommitment(
            challenger,
            r.originChainId,
            r.requestId,
            IDisputeManager.Kind.WrongResult,
            CORRECT,
            SALT
        );
        vm.prank(challenger);
        uint256 g = gasleft();
        disputes.commitChallenge(c);
        emit log_named_uint("commitChallenge gas", g - gasleft());
        _nextBlock();
        vm.prank(challenger);
        g = gasleft();
        uint256 id = disputes.challenge{value: BOND}(r, signers, IDisputeManager.Kind.WrongResult, CORRECT, SALT);
        emit log_named_uint("challenge (reveal, 3 signers) gas", g - gasleft());
        bytes32 vc = disputes.voteCommitment(id, watchers[1], false, _salt(1));
        for (uint256 w; w < 3; w += 2) _commit(id, w, true);
        vm.prank(watchers[1]);
        g = gasleft();
        disputes.commitVote(id, vc);
        emit log_named_uint("commitVote gas", g - gasleft());
        _toReveal(id);
        for (uint256 w; w < 3; w += 2) _revealVote(id, w, true);
        vm.prank(watchers[1]);
        g = gasleft();
        disputes.revealVote(id, false, _salt(1));
        emit log_named_uint("revealVote gas", g - gasleft());
        _toEnd(id);
        g = gasleft();
        disputes.resolve(id);
        emit log_named_uint("resolve (upheld, 3 signers and 1 wrong voter slashed) gas", g - gasleft());
    }

    /*//////////////////////////////////////////////////////////////
                                 FUZZ
    //////////////////////////////////////////////////////////////*/

    /// @dev Whatever the shares and votes: each signer loses exactly its slash, the challenger
    /// gets exactly its share, the treasury the rest, each wrong or silent voter its share, and
    /// the bond goes back or is split exactly.
    function testFuzz_resolution_movesExactlyWhatTheRulesSay(
        uint16 slashBps,
        uint16 rewardBps,
        uint16 burnBps,
        uint16 voteBps,
        uint8 votes
    ) public {
        IDisputeManager.Params memory p = _params();
        p.wrongResultSlashBps = bound(slashBps, 0, 10_000);
        p.challengerRewardBps = bound(rewardBps, 0, 10_000);
        p.bondBurnBps = bound(burnBps, 0, 10_000);
        p.wrongVoteSlashBps = bound(voteBps, 0, 10_000);
        p.maxExtensions = 0;
        vm.prank(owner);
        disputes.setParams(p);
        (Result memory r, address[] memory signers) = _ingested();
        uint256 id = _challenge(r, signers);
        uint8[3] memory v = [uint8(votes % 3), (votes / 3) % 3, (votes / 9) % 3];
        _vote(id, v);
        disputes.resolve(id);

        uint256 up;
        uint256 down;
        for (uint256 w; w < 3; ++w) {
            if (v[w] == 1) up += (3 - w) * 10e18;
            if (v[w] == 2) down += (3 - w) * 10e18;
        }
        IDisputeManager.State expected =
            up + down < 30e18
                ? IDisputeManager.State.Dismissed
                : up * 10_000 >= (up + down) * QUORUM_BPS
                    ? IDisputeManager.State.Upheld
                    : down >= up
                        ? IDisputeManager.State.Rejected
                        : IDisputeManager.State.Dismissed;
        assertEq(uint256(disputes.disputeOf(id).state), uint256(expected));
        uint256 perSigner = (BASE * p.wrongResultSlashBps) / 10_000;
        uint256 reward = (perSigner * p.challengerRewardBps) / 10_000;
        uint256 votersTaken;
        for (uint256 w; w < 3; ++w) {
            uint256 stake = (3 - w) * 10e18;
            bool wrong =
                expected == IDisputeManager.State.Upheld
                    ? v[w] == 2
                    : expected == IDisputeManager.State.Rejected && v[w] == 1;
            uint256 loss = wrong ? (stake * p.wrongVoteSlashBps) / 10_000 : 0;
            votersTaken += loss;
            assertEq(_stakeOf(watchers[w]), stake - loss, "voter loses exactly its share when wrong");
        }
        if (expected == IDisputeManager.State.Upheld) {
            for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE - perSigner);
            assertEq(stakeToken.balanceOf(challenger), 3 * reward);
            assertEq(adapter.slashedOwed(treasury), 3 * (perSigner - reward) + votersTaken);
            assertEq(disputes.owed(challenger), BOND);
        } else if (expected == IDisputeManager.State.Rejected) {
            for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE);
            uint256 burned = (BOND * p.bondBurnBps) / 10_000;
            assertEq(disputes.totalBurned(), burned);
            assertEq(disputes.owed(treasury), BOND - burned);
            assertEq(adapter.slashedOwed(treasury), votersTaken);
        } else {
            for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE);
            assertEq(disputes.owed(challenger), BOND);
        }
        assertEq(address(disputes).balance, disputes.totalOwed() + disputes.totalBurned());
    }
}
