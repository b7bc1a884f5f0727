// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {DisputeBase} from "./Disputes.t.sol";
import {DisputeManager} from "../../contracts/staking/DisputeManager.sol";
import {IDisputeManager} from "../../contracts/interfaces/IDisputeManager.sol";
import {Result} from "../../contracts/interfaces/IInstruction.sol";

/// @dev Opens (sometimes twice per claim, the later commitment first), votes on (sometimes never
/// revealing), extends and resolves disputes over random results in random order, proves
/// equivocations on disputed requests, and tracks the ETH, the voters' and the accused's stake.
contract DisputeHandler is Test {
    DisputeInvariantTest internal immutable t;
    DisputeManager internal immutable disputes;

    uint256[] public ids;
    uint256 public openBonds;
    uint256 public resolvedWithVoters;
    /// @dev Voters that should have lost stake at a resolution and did not.
    uint256 public unslashedWrongVoters;
    /// @dev Voters that voted with the outcome and lost stake anyway.
    uint256 public slashedRightVoters;
    /// @dev (operator, request) pairs that lost stake more than once.
    uint256 public doubleSlashes;
    uint256 public slashesSeen;
    Result[] internal results;
    mapping(uint256 index => address[]) internal signersOf;
    mapping(address operator => mapping(bytes32 requestId => uint256)) public slashCount;
    uint256 internal saltNonce;

    constructor(DisputeInvariantTest t_, DisputeManager disputes_) {
        t = t_;
        disputes = disputes_;
    }

    function challenge(bool unavailable, uint256 claimSeed) external {
        (Result memory r, address[] memory signers) = t.ingestedResult();
        results.push(r);
        signersOf[results.length - 1] = signers;
        _open(r, signers, unavailable, claimSeed, t.challengerAddr(), address(0));
    }

    /// @dev Another claim on a result already challenged (maybe the same claim: refused).
    function challengeAgain(uint256 which, bool unavailable, uint256 claimSeed) external {
        if (results.length == 0) return;
        uint256 i = which % results.length;
        try this.openExternal(results[i], signersOf[i], unavailable, claimSeed % 4) {} catch {}
    }

    /// @dev Two challengers commit the same claim; the later commitment reveals first, the earlier
    /// takes the dispute over.
    function challengeRace(uint256 claimSeed) external {
        (Result memory r, address[] memory signers) = t.ingestedResult();
        results.push(r);
        signersOf[results.length - 1] = signers;
        _open(r, signers, false, claimSeed, t.challengerAddr(), t.copierAddr());
    }

    function openExternal(Result calldata r, address[] calldata signers, bool unavailable, uint256 claimSeed) external {
        require(msg.sender == address(this), "handler only");
        _open(r, signers, unavailable, claimSeed, t.challengerAddr(), address(0));
    }

    function _open(
        Result memory r,
        address[] memory signers,
        bool unavailable,
        uint256 claimSeed,
        address first,
        address second
    ) internal {
        IDisputeManager.Kind kind =
            unavailable ? IDisputeManager.Kind.DataUnavailable : IDisputeManager.Kind.WrongResult;
        bytes32 claim = unavailable ? bytes32(0) : keccak256(abi.encode(claimSeed));
        bytes32 salt = bytes32(++saltNonce);
        vm.prank(first);
        disputes.commitChallenge(disputes.challengeCommitment(first, r.originChainId, r.requestId, kind, claim, salt));
        if (second != address(0)) {
            vm.prank(second);
            disputes.commitChallenge(
                disputes.challengeCommitment(second, r.originChainId, r.requestId, kind, claim, salt)
            );
        }
        vm.roll(block.number + 1);
        vm.deal(first, first.balance + 1 ether);
        uint256 id;
        if (second != address(0)) {
            vm.deal(second, second.balance + 1 ether);
            vm.prank(second);
            id = disputes.challenge{value: 1 ether}(r, signers, kind, claim, salt);
            vm.prank(first);
            disputes.challenge{value: 1 ether}(r, signers, kind, claim, salt); // takes it over
        } else {
            vm.prank(first);
            id = disputes.challenge{value: 1 ether}(r, signers, kind, claim, salt);
        }
        ids.push(id);
        openBonds += 1 ether; // one bond per dispute; a replaced challenger's is owed
    }

    /// @dev Commits or reveals, as the phase allows; `silent` commitments are never revealed.
    function vote(uint256 which, uint256 w, bool upholds, bool silent) external {
        if (ids.length == 0) return;
        uint256 id = ids[which % ids.length];
        address voter = t.watcherAt(w % 3);
        (uint256 commitEnd, uint256 revealEnd, ) = disputes.phasesOf(id);
        bytes32 salt = keccak256(abi.encode(id, voter));
        if (block.timestamp <= commitEnd) {
            bytes32 c = disputes.voteCommitment(id, voter, upholds, salt);
            vm.prank(voter);
            try disputes.commitVote(id, c) {} catch {}
        } else if (block.timestamp <= revealEnd && !silent) {
            IDisputeManager.Vote memory v = disputes.voteOf(id, voter);
            vm.prank(voter);
            try
                disputes.revealVote(id, v.commitment == disputes.voteCommitment(id, voter, true, salt), salt)
            {} catch {}
        }
    }

    function resolve(uint256 which) external {
        if (ids.length == 0) return;
        uint256 id = ids[which % ids.length];
        IDisputeManager.Dispute memory d = disputes.disputeOf(id);
        address[] memory signers = disputes.signersOf(id);
        address[] memory voters = disputes.votersOf(id);
        uint256[] memory opBefore = new uint256[](signers.length);
        uint256[] memory voterBefore = new uint256[](voters.length);
        for (uint256 i; i < signers.length; ++i) opBefore[i] = t.stakeOf(signers[i]);
        for (uint256 i; i < voters.length; ++i) voterBefore[i] = t.stakeOf(voters[i]);
        try disputes.resolve(id) {
            openBonds -= 1 ether;
        } catch {
            return;
        }
        for (uint256 i; i < signers.length; ++i) _countSlash(signers[i], d.requestId, opBefore[i]);
        IDisputeManager.State outcome = disputes.disputeOf(id).state;
        if (voters.length != 0) ++resolvedWithVoters;
        uint256 bps = disputes.params().wrongVoteSlashBps;
        for (uint256 i; i < voters.length; ++i) {
            IDisputeManager.Vote memory v = disputes.voteOf(id, voters[i]);
            bool wrong =
                !v.revealed ||
                    (outcome != IDisputeManager.State.Dismissed &&
                        v.upholds != (outcome == IDisputeManager.State.Upheld));
            uint256 afterStake = t.stakeOf(voters[i]);
            if (wrong && (voterBefore[i] * bps) / 10_000 != 0 && afterStake >= voterBefore[i]) ++unslashedWrongVoters;
            if (!wrong && afterStake < voterBefore[i]) ++slashedRightVoters;
        }
    }

    /// @dev An equivocation proof against one accused of a disputed request.
    function equivocate(uint256 which, uint256 op) external {
        if (results.length == 0) return;
        Result memory r = results[which % results.length];
        address[] memory signers = signersOf[which % results.length];
        uint256 k = op % signers.length;
        uint256 before = t.stakeOf(signers[k]);
        try t.equivocate(signers[k], r.requestId) {} catch {
            return;
        }
        _countSlash(signers[k], r.requestId, before);
    }

    function _countSlash(address operator, bytes32 requestId, uint256 before) internal {
        if (t.stakeOf(operator) >= before) return;
        ++slashesSeen;
        if (++slashCount[operator][requestId] > 1) ++doubleSlashes;
    }

    function wait(uint256 secondsToWait) external {
        vm.warp(block.timestamp + bound(secondsToWait, 1, 40));
        vm.roll(block.number + 1);
    }

    function withdraw(uint256 who) external {
        address a =
            who % 3 == 0
                ? t.treasuryAddr()
                : who % 3 == 1
                    ? t.challengerAddr()
                    : t.copierAddr();
        vm.prank(a);
        try disputes.withdraw() {} catch {}
    }
}

contract DisputeInvariantTest is DisputeBase {
    DisputeHandler internal handler;
    address internal copier = makeAddr("copier");

    function setUp() public override {
        super.setUp();
        handler = new DisputeHandler(this, disputes);
        targetContract(address(handler));
        vm.deal(requester, type(uint128).max);
    }

    function ingestedResult() external returns (Result memory r, address[] memory signers) {
        return _ingested();
    }

    function equivocate(address operator, bytes32 requestId) external {
        for (uint256 i; i < 4; ++i) if (operators[i] == operator) return _proveAs(watcher, i, requestId);
    }

    function challengerAddr() external view returns (address) {
        return challenger;
    }

    function copierAddr() external view returns (address) {
        return copier;
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

    /// @dev ETH: the manager holds exactly the open bonds, what it owes and what it burned.
    function invariant_bondsConserved() public view {
        assertEq(address(disputes).balance, handler.openBonds() + disputes.totalOwed() + disputes.totalBurned());
    }

    /// @dev No party's vote is free (SPEC 7): a resolved dispute slashed every voter that revealed
    /// against its decided outcome or never revealed, and nobody that voted with it.
    function invariant_watcherStakeAtRisk() public view {
        assertEq(handler.unslashedWrongVoters(), 0, "a wrong or silent voter kept its stake");
        assertEq(handler.slashedRightVoters(), 0, "a voter with the outcome lost stake");
    }

    /// @dev One fault, one slash: whatever the claims (wrong result, data unavailable, equivocation)
    /// about one request, each operator loses stake for it at most once.
    function invariant_oneSlashPerFault() public view {
        assertEq(handler.doubleSlashes(), 0);
    }

    /// @dev Stake: what left the adapter is exactly what the challengers, the equivocation
    /// submitter and the treasury got.
    function invariant_slashedStakeGoesOnlyToChallengersSubmitterAndTreasury() public view {
        assertEq(stakeToken.balanceOf(address(adapter)), adapter.totalStaked() + adapter.totalOwed());
    }
}
