// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DisputeBase} from "../Disputes.t.sol";
import {IDisputeManager} from "../../../contracts/interfaces/IDisputeManager.sol";
import {Result} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev Issue 10 case 3, "the first valid challenge cannot be front-run": a copier who sees the
/// honest challenger's transaction in the mempool and an insider who commits before the result is
/// even ingested. The rule under test: among the revealed challenges of one claim, the earliest
/// commitment is the challenger (reward and bond), whatever the order of the reveals.
contract ChallengesAttackTest is DisputeBase {
    address internal copier = makeAddr("copier");
    IDisputeManager.Kind internal constant WRONG = IDisputeManager.Kind.WrongResult;

    function setUp() public override {
        super.setUp();
        vm.deal(copier, 10 ether);
    }

    function _upholdAndResolve(uint256 id) internal {
        _vote(id, [uint8(1), 1, 1]);
        disputes.resolve(id);
    }

    /// @dev The copier replays the honest reveal's calldata from its own address: its commitment
    /// would name the copier, and it never made one.
    function test_copiedReveal_isRefused() public {
        (Result memory r, address[] memory signers) = _ingested();
        _commitChallenge(challenger, r, WRONG, CORRECT, SALT);
        _nextBlock();
        bytes32 copied = disputes.challengeCommitment(copier, r.originChainId, r.requestId, WRONG, CORRECT, SALT);
        vm.prank(copier);
        vm.expectRevert(abi.encodeWithSelector(IDisputeManager.Dispute_ChallengeNotCommitted.selector, copied));
        disputes.challenge{value: BOND}(r, signers, WRONG, CORRECT, SALT);
        uint256 id = _reveal(challenger, r, signers, WRONG, CORRECT, SALT);
        assertEq(disputes.disputeOf(id).challenger, challenger);
    }

    /// @dev The copier sees the honest reveal in the mempool and, in the same block, commits the
    /// same claim and tries to reveal it first: refused (reveal in a later block). In the next block
    /// its reveal is refused too: its commitment is later than the honest one.
    function test_copierFrontRunningTheReveal_isRefused() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 honestSeq = _commitChallenge(challenger, r, WRONG, CORRECT, SALT);
        _nextBlock();
        uint256 copierSeq = _commitChallenge(copier, r, WRONG, CORRECT, "copy");
        bytes32 c = disputes.challengeCommitment(copier, r.originChainId, r.requestId, WRONG, CORRECT, "copy");
        vm.prank(copier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_ChallengeRevealTooEarly.selector,
                c,
                block.number,
                block.number
            )
        );
        disputes.challenge{value: BOND}(r, signers, WRONG, CORRECT, "copy");
        uint256 id = _reveal(challenger, r, signers, WRONG, CORRECT, SALT);
        _nextBlock();
        vm.prank(copier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_AlreadyChallenged.selector,
                disputes.resultHashOf(r),
                CORRECT,
                id,
                honestSeq,
                copierSeq
            )
        );
        disputes.challenge{value: BOND}(r, signers, WRONG, CORRECT, "copy");
    }

    /// @dev The honest challenger committed first but its reveal is delayed (or censored for a
    /// while); the copier, who committed later, reveals first and opens the dispute. The honest
    /// reveal still lands in the window and takes the dispute over: the reward goes to the honest
    /// challenger, the copier gets its bond back and nothing else.
    function test_laterCommitmentRevealedFirst_losesTheReward() public {
        (Result memory r, address[] memory signers) = _ingested();
        uint256 copierEthBefore = copier.balance;
        uint256 honestEthBefore = challenger.balance;
        uint256 honestSeq = _commitChallenge(challenger, r, WRONG, CORRECT, SALT);
        uint256 copierSeq = _commitChallenge(copier, r, WRONG, CORRECT, "copy");
        assertLt(honestSeq, copierSeq);
        _nextBlock();
        uint256 id = _reveal(copier, r, signers, WRONG, CORRECT, "copy");
        assertEq(disputes.disputeOf(id).challenger, copier);
        _nextBlock();
        vm.expectEmit(address(disputes));
        emit IDisputeManager.ChallengerReplaced(id, copier, challenger, copierSeq, honestSeq);
        assertEq(_reveal(challenger, r, signers, WRONG, CORRECT, SALT), id, "the same dispute");
        assertEq(disputes.disputeOf(id).challenger, challenger);
        assertEq(disputes.owed(copier), BOND, "the copier's bond is credited back at once");
        assertEq(address(disputes).balance, 2 * BOND);

        _upholdAndResolve(id);
        uint256 perSigner = (BASE * WRONG_BPS) / 10_000;
        assertEq(stakeToken.balanceOf(challenger), 3 * ((perSigner * CHALLENGER_BPS) / 10_000), "reward to the first");
        assertEq(stakeToken.balanceOf(copier), 0, "nothing to the copier");
        vm.prank(copier);
        disputes.withdraw();
        vm.prank(challenger);
        disputes.withdraw();
        assertEq(copier.balance, copierEthBefore, "the copier is back where it started");
        assertEq(challenger.balance, honestEthBefore);
        assertEq(address(disputes).balance, 0);
    }

    /// @dev An insider (a signer of a wrong result) commits its own challenge before the result is
    /// ingested, to be first whatever happens: refused, the window starts at ingestion.
    function test_commitmentBeforeIngestion_isRefused() public {
        address insider = operators[0];
        vm.deal(insider, 10 ether);
        bytes32 id = _requestEth(1 ether);
        // the insider knows the request id and the claim before the result lands
        bytes32 c = disputes.challengeCommitment(insider, block.chainid, id, WRONG, CORRECT, SALT);
        vm.prank(insider);
        disputes.commitChallenge(c);
        uint256 committedAt = block.timestamp;
        _nextBlock();
        (Result memory r, address[] memory signers) = _ingestedFor(id);
        _nextBlock();
        vm.prank(insider);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_ChallengeCommittedBeforeIngestion.selector,
                c,
                committedAt,
                block.timestamp - 1
            )
        );
        disputes.challenge{value: BOND}(r, signers, WRONG, CORRECT, SALT);
    }

    function _ingestedFor(bytes32 id) internal returns (Result memory r, address[] memory signers) {
        r = _result(id, block.chainid, 0, _one(_transfer(payee, 0.5 ether)));
        vm.prank(poster);
        ingestor.ingest(r, _one(_transfer(payee, 0.5 ether)), _sign(r, _three()), hex"00");
        signers = _sorted(_three());
        recorder.record(r, signers);
    }
}
