// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DisputeBase} from "../Disputes.t.sol";
import {IDisputeManager} from "../../../contracts/interfaces/IDisputeManager.sol";
import {Result} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev Issue 10 case 2, "bought disputes": a false WrongResult claim against a correct result,
/// pushed by an attacker who is both the challenger and a staked watcher ("mallory"). Before the
/// fix it won when no honest watcher voted, or with a bare majority of the weight that voted, and
/// the attacker's watcher stake was never at risk. Each test asserts the operators' stake, the
/// attacker's stake, tokens and ETH before and after.
contract BoughtDisputesAttackTest is DisputeBase {
    address internal mallory = makeAddr("mallory");
    bytes32 internal constant FALSE_CLAIM = keccak256("a body hash the program never produced");

    function setUp() public override {
        super.setUp();
        vm.deal(mallory, 10 ether);
    }

    function _malloryWatches(uint256 stake) internal {
        _stake(mallory, stake);
        vm.prank(mallory);
        registry.registerWatcher();
    }

    function _malloryVotes(uint256 id, bool upholds) internal {
        bytes32 c = disputes.voteCommitment(id, mallory, upholds, "m");
        vm.prank(mallory);
        disputes.commitVote(id, c);
    }

    function _malloryReveals(uint256 id, bool upholds) internal {
        vm.prank(mallory);
        disputes.revealVote(id, upholds, "m");
    }

    function _falseChallenge() internal returns (uint256 id) {
        (Result memory r, address[] memory signers) = _ingested(); // a correct result
        id = _openAs(mallory, r, signers, IDisputeManager.Kind.WrongResult, FALSE_CLAIM);
    }

    function _assertOperatorsUntouched() internal view {
        for (uint256 i; i < 4; ++i) assertEq(_stakeOf(operators[i]), BASE, "no operator loses stake");
        for (uint256 i; i < 4; ++i) assertTrue(registry.isActive(operators[i]), "every operator stays active");
    }

    /// @dev Mallory (25 of 85 watcher weight) alone upholds; no honest watcher votes. Before: upheld
    /// by default, three operators slashed 50 %, 30 % of it to mallory. Now: extended twice, then
    /// dismissed: nobody slashed, mallory earns nothing and only gets her bond back.
    function test_falseClaimWithNoHonestVoter_isNeverUpheld() public {
        _malloryWatches(25e18);
        uint256 ethBefore = mallory.balance;
        uint256 id = _falseChallenge();
        _malloryVotes(id, true);
        _toReveal(id);
        _malloryReveals(id, true);
        for (uint256 round; round <= MAX_EXT; ++round) _toEnd(id);
        disputes.resolve(id);

        assertEq(uint256(disputes.disputeOf(id).state), uint256(IDisputeManager.State.Dismissed));
        assertEq(disputes.disputeOf(id).round, MAX_EXT, "every extension was tried");
        _assertOperatorsUntouched();
        assertEq(stakeToken.balanceOf(mallory), 0, "no challenger reward");
        vm.prank(mallory);
        disputes.withdraw();
        assertEq(mallory.balance, ethBefore, "the bond only comes back");
    }

    /// @dev Mallory holds 45 of 105 watcher weight and upholds; one honest watcher (30) rejects:
    /// 45 of 75 voting is a bare majority (60 %), short of the 66 % quorum. Before: upheld. Now:
    /// dismissed, nobody slashed.
    function test_falseClaimWithABareMajority_isNotUpheld() public {
        _malloryWatches(45e18);
        uint256 id = _falseChallenge();
        _malloryVotes(id, true);
        _commit(id, 0, false);
        _toReveal(id);
        _malloryReveals(id, true);
        _revealVote(id, 0, false);
        _toEnd(id);
        disputes.resolve(id);

        IDisputeManager.Dispute memory d = disputes.disputeOf(id);
        assertEq(uint256(d.state), uint256(IDisputeManager.State.Dismissed));
        assertGt(d.upholdWeight, d.rejectWeight, "a majority upheld, and it was not enough");
        _assertOperatorsUntouched();
        assertEq(stakeToken.balanceOf(mallory), 0);
        assertEq(_stakeOf(watchers[0]), 30e18, "the honest minority is not punished for a dismissal");
    }

    /// @dev Mallory (25) upholds, the honest watchers (30 + 20) reject: rejected. Mallory loses the
    /// wrong-vote share of her stake and her bond (half burned, half to the treasury).
    function test_outvotedFalseClaim_costsTheBuyerStakeAndBond() public {
        _malloryWatches(25e18);
        uint256 ethBefore = mallory.balance;
        uint256 treasuryBefore = adapter.slashedOwed(treasury);
        uint256 id = _falseChallenge();
        _malloryVotes(id, true);
        _commit(id, 0, false);
        _commit(id, 1, false);
        _toReveal(id);
        _malloryReveals(id, true);
        _revealVote(id, 0, false);
        _revealVote(id, 1, false);
        _toEnd(id);
        disputes.resolve(id);

        assertEq(uint256(disputes.disputeOf(id).state), uint256(IDisputeManager.State.Rejected));
        _assertOperatorsUntouched();
        uint256 loss = (25e18 * WRONG_VOTE_BPS) / 10_000;
        assertEq(_stakeOf(mallory), 25e18 - loss, "the bought vote was at risk");
        assertEq(adapter.slashedOwed(treasury), treasuryBefore + loss);
        assertEq(_stakeOf(watchers[0]), 30e18);
        assertEq(_stakeOf(watchers[1]), 20e18);
        assertEq(mallory.balance, ethBefore - BOND, "the bond is lost");
        assertEq(disputes.owed(mallory), 0);
        assertEq(disputes.owed(treasury) + disputes.totalBurned(), BOND);
    }

    /// @dev Mallory commits, watches the honest reveals go against her, and keeps her own vote
    /// hidden to dodge the wrong-vote slash: a commitment never revealed is slashed too.
    function test_hiddenVote_cannotDodgeTheRisk() public {
        _malloryWatches(25e18);
        uint256 id = _falseChallenge();
        _malloryVotes(id, true);
        _commit(id, 0, false);
        _commit(id, 1, false);
        _toReveal(id);
        _revealVote(id, 0, false);
        _revealVote(id, 1, false);
        _toEnd(id);
        disputes.resolve(id);

        assertEq(uint256(disputes.disputeOf(id).state), uint256(IDisputeManager.State.Rejected));
        assertFalse(disputes.voteOf(id, mallory).revealed);
        assertEq(_stakeOf(mallory), 25e18 - (25e18 * WRONG_VOTE_BPS) / 10_000, "silence costs the same");
        _assertOperatorsUntouched();
    }

    /// @dev Mallory votes against the outcome, then deregisters and starts unbonding before the
    /// dispute resolves: the stake is still in the adapter, and still taken.
    function test_wrongVoterLeavingBeforeResolution_isStillSlashed() public {
        _malloryWatches(25e18);
        uint256 id = _falseChallenge();
        _malloryVotes(id, true);
        _commit(id, 0, false);
        _commit(id, 1, false);
        _toReveal(id);
        _malloryReveals(id, true);
        _revealVote(id, 0, false);
        _revealVote(id, 1, false);
        vm.startPrank(mallory);
        registry.deregisterWatcher();
        adapter.requestUnbond(25e18);
        vm.stopPrank();
        _toEnd(id);
        disputes.resolve(id);
        assertEq(_stakeOf(mallory), 25e18 - (25e18 * WRONG_VOTE_BPS) / 10_000);
    }
}
