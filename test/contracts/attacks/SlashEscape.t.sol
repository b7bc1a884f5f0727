// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DisputeBase} from "../Disputes.t.sol";
import {IDisputeManager} from "../../../contracts/interfaces/IDisputeManager.sol";
import {Instruction, Result, Ops} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev Issue 10 case 3, "escaping a slash" (the dispute half): a threshold subset presented to
/// shield a guilty signer, a different signed Result challenged in place of the ingested one, two
/// claim kinds (or a claim and an equivocation proof) slashing one fault twice or the cheaper one
/// first, and 12-second blocks letting stake leave before an upheld dispute resolves.
contract SlashEscapeAttackTest is DisputeBase {
    function _all() internal pure returns (uint256[] memory w) {
        w = new uint256[](4);
        (w[0], w[1], w[2], w[3]) = (0, 1, 2, 3);
    }

    /// @dev All four operators signed a wrong result. Operator 0 front-runs the honest challenger
    /// with the threshold subset {0, 1, 2} (before: accepted, operator 3 shielded for good and the
    /// reward taken). Now the subset is refused; the honest challenge names all four and all four
    /// are slashed.
    function test_thresholdSubsetChallenge_shieldsNobody() public {
        (Result memory r, address[] memory all) = _ingestedBy(_all());
        address[] memory subset = _sorted(_three());
        address guilty = operators[0];
        vm.deal(guilty, 10 ether);
        _commitChallenge(guilty, r, IDisputeManager.Kind.WrongResult, CORRECT, SALT);
        _nextBlock();
        vm.prank(guilty);
        vm.expectPartialRevert(IDisputeManager.Dispute_AccusedMismatch.selector);
        disputes.challenge{value: BOND}(r, subset, IDisputeManager.Kind.WrongResult, CORRECT, SALT);

        uint256 id = _challenge(r, all);
        assertEq(disputes.signersOf(id).length, 4, "the accused are every recorded signer");
        _vote(id, [uint8(1), 1, 1]);
        disputes.resolve(id);
        uint256 perSigner = (BASE * WRONG_BPS) / 10_000;
        for (uint256 i; i < 4; ++i) assertEq(_stakeOf(operators[i]), BASE - perSigner, "nobody shielded");
        assertEq(stakeToken.balanceOf(challenger), 4 * ((perSigner * CHALLENGER_BPS) / 10_000));
        assertEq(stakeToken.balanceOf(guilty), 0, "the guilty front-runner earns nothing");
    }

    /// @dev A threshold-signed Result other than the ingested one (same request, another body)
    /// cannot be challenged in its place: the accused and the result are the ingested ones.
    function test_challengeOfAResultOtherThanTheIngestedOne_isRefused() public {
        (Result memory r, address[] memory signers) = _ingested();
        Result memory other = _copy(r);
        other.bodyHash = keccak256("another body, signed by the same quorum");
        _commitChallenge(challenger, other, IDisputeManager.Kind.WrongResult, CORRECT, SALT);
        _nextBlock();
        uint256 ethBefore = challenger.balance;
        vm.prank(challenger);
        vm.expectPartialRevert(IDisputeManager.Dispute_AccusedMismatch.selector);
        disputes.challenge{value: BOND}(other, signers, IDisputeManager.Kind.WrongResult, CORRECT, SALT);
        assertEq(challenger.balance, ethBefore);
        assertEq(disputes.disputeCount(), 0);
    }

    /// @dev A signer of a wrong result gets its own data-unavailable claim (10 %) opened too, hoping
    /// it resolves first and uses up the fault before the wrong-result claim (50 %). It must wait;
    /// the wrong-result claim slashes 50 % once; the second upheld claim takes nothing more.
    function test_wrongResultPlusDataUnavailable_slashOnceAtTheLargerShare() public {
        (Result memory r, address[] memory signers) = _ingested();
        address accomplice = makeAddr("accomplice");
        vm.deal(accomplice, 10 ether);
        uint256 unavailable = _openAs(accomplice, r, signers, IDisputeManager.Kind.DataUnavailable, bytes32(0));
        uint256 wrong = _challenge(r, signers);
        for (uint256 w; w < 3; ++w) {
            _commit(unavailable, w, true);
            _commit(wrong, w, true);
        }
        _toReveal(wrong);
        for (uint256 w; w < 3; ++w) {
            _revealVote(unavailable, w, true);
            _revealVote(wrong, w, true);
        }
        _toEnd(wrong);

        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeManager.Dispute_HeavierClaimOpen.selector,
                unavailable,
                IDisputeManager.Kind.WrongResult
            )
        );
        disputes.resolve(unavailable);
        disputes.resolve(wrong);
        uint256 perSigner = (BASE * WRONG_BPS) / 10_000;
        for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE - perSigner);
        disputes.resolve(unavailable);
        assertEq(uint256(disputes.disputeOf(unavailable).state), uint256(IDisputeManager.State.Upheld));
        for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE - perSigner, "one fault, one slash");
        assertEq(stakeToken.balanceOf(accomplice), 0, "the cheaper claim earned nothing");
        assertEq(stakeToken.balanceOf(challenger), 3 * ((perSigner * CHALLENGER_BPS) / 10_000));
        assertEq(disputes.owed(challenger), BOND);
        assertEq(disputes.owed(accomplice), BOND, "an upheld claim gets its bond back");
    }

    /// @dev Operator 0 equivocated on the request and was slashed for it; the dispute on the same
    /// request slashes the other signers and leaves operator 0 at its one slash.
    function test_equivocationAndDisputeOnOneRequest_slashOnce() public {
        (Result memory r, address[] memory signers) = _ingested();
        _proveAs(watcher, 0, r.requestId);
        uint256 afterEquivocation = _stakeOf(operators[0]);
        assertLt(afterEquivocation, BASE);
        uint256 id = _challenge(r, signers);
        _vote(id, [uint8(1), 1, 1]);
        disputes.resolve(id);
        assertEq(_stakeOf(operators[0]), afterEquivocation, "one fault id per request");
        for (uint256 i = 1; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE - (BASE * WRONG_BPS) / 10_000);
    }

    /// @dev On a chain with 12-second blocks (time and height move together, every block exactly 12
    /// seconds), every signer of a wrong result asks to unbond everything right after ingestion.
    /// The challenge is revealed in the window's last block, the first rounds pass silently, the
    /// watchers vote in the last one and the dispute resolves in the first block after it: the stake
    /// is still there, because the parameters were checked against the registry's slashable window
    /// in seconds. (Before: unbonding counted blocks, disputes seconds; with 12 s blocks the stake
    /// had left long before.)
    function test_twelveSecondBlocks_upheldDisputeStillSlashes() public {
        (Result memory r, address[] memory signers) = _ingested();
        for (uint256 i; i < 3; ++i) {
            vm.prank(operators[i]);
            adapter.requestUnbond(BASE);
        }
        uint256 windowEnd = disputes.windowEndOf(r.originChainId, r.requestId);
        _block();
        _commitChallenge(challenger, r, IDisputeManager.Kind.WrongResult, CORRECT, SALT);
        while (block.timestamp + 12 <= windowEnd) _block();
        uint256 id = _reveal(challenger, r, signers, IDisputeManager.Kind.WrongResult, CORRECT, SALT);
        for (uint256 round; round < MAX_EXT; ++round) {
            (, uint256 revealEnd, ) = disputes.phasesOf(id);
            while (block.timestamp <= revealEnd) _block();
        }
        (uint256 commitEnd, uint256 lastRevealEnd, uint256 last) = disputes.phasesOf(id);
        assertEq(last, MAX_EXT, "every extension used");
        for (uint256 w; w < 3; ++w) _commit(id, w, true);
        while (block.timestamp <= commitEnd) _block();
        for (uint256 w; w < 3; ++w) _revealVote(id, w, true);
        while (block.timestamp <= lastRevealEnd) _block();
        disputes.resolve(id);
        uint256 perSigner = (BASE * WRONG_BPS) / 10_000;
        for (uint256 i; i < 3; ++i) assertEq(_stakeOf(operators[i]), BASE - perSigner, "the unbonding stake paid");
        assertEq(stakeToken.balanceOf(challenger), 3 * ((perSigner * CHALLENGER_BPS) / 10_000));
    }

    function _block() internal {
        vm.warp(block.timestamp + 12);
        vm.roll(block.number + 1);
    }
}
