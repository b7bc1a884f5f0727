// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IDisputeManager} from "../interfaces/IDisputeManager.sol";
import {IStakingRegistry} from "../interfaces/IStakingRegistry.sol";
import {IInstructionIngestor} from "../interfaces/IInstructionIngestor.sol";
import {Result, ResultTypedData} from "../interfaces/IInstruction.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title DisputeManager
/// @notice Bonded, front-running-proof challenges of ingested results against every signer the
/// ingestor recorded, decided by stake-weighted commit-reveal votes of the registry's watchers
/// whose stake is at risk (SPEC 3.5). See {IDisputeManager} for the rules.
/// @dev Money rule: this contract's ETH balance is always the bonds of open disputes plus what is
/// owed (returned bonds, treasury shares) plus {totalBurned}; ETH leaves only through {withdraw}.
/// Slashed stake never passes through here: the registry's adapter pays the challenger and the
/// treasury directly. Slashing calls are never wrapped in try/catch: a caller who starves them of
/// gas must not be able to resolve a dispute while skipping a slash.
contract DisputeManager is IDisputeManager, Ownable2Step, ReentrancyGuardTransient {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @dev Every parameter in two slots.
    struct PackedParams {
        uint96 bond;
        uint32 challengeWindow;
        uint32 commitPeriod;
        uint32 revealPeriod;
        uint16 wrongResultSlashBps;
        uint16 unavailableSlashBps;
        uint16 challengerRewardBps;
        uint16 bondBurnBps;
        // second slot
        address treasury;
        uint16 minParticipationBps;
        uint16 upholdQuorumBps;
        uint16 wrongVoteSlashBps;
        uint8 maxExtensions;
    }

    /// @dev A pending challenge commitment, one slot.
    struct ChallengeCommit {
        uint64 seq;
        uint40 committedAt;
        uint64 blockNumber;
    }

    /// @dev Open disputes per kind on one result, and whether one was upheld, one slot.
    struct ResultState {
        uint64 openWrongResult;
        uint64 openDataUnavailable;
        bool overturned;
    }

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The most extensions a dispute may have (bounds the loop over rounds).
    uint256 public constant MAX_EXTENSIONS = 8;
    /// @notice The most voters of one dispute: resolve slashes each wrong or silent one in one
    /// transaction. The registry bounds the watchers registered at once well below it; churn
    /// (deregister, move stake, register) is what this bounds.
    uint256 public constant MAX_VOTERS = 256;
    uint256 internal constant BPS = 10_000;

    /*//////////////////////////////////////////////////////////////
                               IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDisputeManager
    IStakingRegistry public immutable registry;
    /// @inheritdoc IDisputeManager
    IInstructionIngestor public immutable ingestor;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    PackedParams internal _params;
    /// @inheritdoc IDisputeManager
    uint256 public disputeCount;
    /// @inheritdoc IDisputeManager
    uint256 public challengeCommitCount;
    /// @inheritdoc IDisputeManager
    uint256 public totalBurned;
    /// @inheritdoc IDisputeManager
    uint256 public totalOwed;

    mapping(uint256 disputeId => Dispute) internal _disputes;
    mapping(uint256 disputeId => address[]) internal _signers;
    mapping(uint256 disputeId => address[]) internal _voters;
    mapping(uint256 disputeId => mapping(address voter => Vote)) internal _votes;
    mapping(bytes32 commitment => ChallengeCommit) internal _challengeCommits;
    mapping(bytes32 resultAndClaim => uint256 disputeId) internal _disputeOfClaim;
    mapping(bytes32 resultHash => ResultState) internal _results;
    /// @inheritdoc IDisputeManager
    mapping(address account => uint256) public owed;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param registry_ Slashes operators and watchers; its `slashableWindow()` bounds the params.
    /// @param ingestor_ Records each ingested result's signers ({IInstructionIngestor.ingestionOf}).
    /// @param p See {setParams}.
    constructor(
        address initialOwner,
        IStakingRegistry registry_,
        IInstructionIngestor ingestor_,
        Params memory p
    ) Ownable(initialOwner) {
        if (address(registry_) == address(0) || address(ingestor_) == address(0)) revert Dispute_ZeroAddress();
        registry = registry_;
        ingestor = ingestor_;
        _setParams(p);
    }

    /*//////////////////////////////////////////////////////////////
                          EXTERNAL: CHALLENGES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDisputeManager
    function commitChallenge(bytes32 commitment) external returns (uint256 seq) {
        if (commitment == bytes32(0)) revert Dispute_ZeroCommitment();
        ChallengeCommit storage c = _challengeCommits[commitment];
        if (c.seq != 0) revert Dispute_ChallengeAlreadyCommitted(commitment, c.seq);
        seq = ++challengeCommitCount;
        // casts exact: a sequence number and a timestamp / block number far below 2^40
        c.seq = uint64(seq);
        c.committedAt = uint40(block.timestamp);
        c.blockNumber = uint64(block.number);
        emit ChallengeCommitted(commitment, msg.sender, seq);
    }

    /// @inheritdoc IDisputeManager
    function challenge(
        Result calldata r,
        address[] calldata signers,
        Kind kind,
        bytes32 claimedBodyHash,
        bytes32 salt
    ) external payable nonReentrant returns (uint256 disputeId) {
        // ---- checks
        PackedParams memory p = _params;
        (bytes32 resultHash, uint256 windowEnd, uint64 seq) = _checkChallenge(
            r,
            signers,
            kind,
            claimedBodyHash,
            salt,
            p
        );
        bytes32 claimKey = keccak256(abi.encode(resultHash, kind, claimedBodyHash));
        disputeId = _disputeOfClaim[claimKey];
        if (disputeId != 0) {
            // the earliest commitment among the revealed challenges of a claim is the challenger
            Dispute storage existing = _disputes[disputeId];
            if (existing.state != State.Open || existing.challengeSeq < seq) {
                revert Dispute_AlreadyChallenged(resultHash, claimedBodyHash, disputeId, existing.challengeSeq, seq);
            }
            _replaceChallenger(disputeId, existing, seq);
            return disputeId;
        }

        // ---- effects
        disputeId = ++disputeCount;
        _disputeOfClaim[claimKey] = disputeId;
        ResultState storage rs = _results[resultHash];
        if (kind == Kind.WrongResult) ++rs.openWrongResult;
        else ++rs.openDataUnavailable;
        _signers[disputeId] = signers;
        Dispute storage d = _disputes[disputeId];
        d.challenger = msg.sender;
        d.kind = kind;
        d.state = State.Open;
        d.challengeSeq = seq;
        d.originChainId = r.originChainId;
        d.requestId = r.requestId;
        d.resultHash = resultHash;
        d.resultBodyHash = r.bodyHash;
        d.claimedBodyHash = claimedBodyHash;
        d.bond = msg.value;
        _schedule(d, p, windowEnd);
        _emitOpened(disputeId, d, signers);
    }

    /*//////////////////////////////////////////////////////////////
                            EXTERNAL: VOTES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDisputeManager
    function commitVote(uint256 disputeId, bytes32 commitment) external {
        if (commitment == bytes32(0)) revert Dispute_ZeroCommitment(); // zero means "no vote"
        Dispute storage d = _openDispute(disputeId);
        _sync(disputeId, d);
        if (block.timestamp > d.commitEnd) revert Dispute_CommitClosed(disputeId, d.commitEnd, block.timestamp);
        Vote storage v = _votes[disputeId][msg.sender];
        if (v.commitment != bytes32(0)) revert Dispute_AlreadyCommitted(disputeId, msg.sender);
        address[] storage voters = _voters[disputeId];
        if (voters.length >= MAX_VOTERS) revert Dispute_TooManyVoters(disputeId, MAX_VOTERS);
        uint256 weight = registry.watcherWeight(msg.sender);
        if (weight == 0) revert Dispute_NotWatcher(msg.sender);
        if (weight > type(uint128).max) weight = type(uint128).max;
        v.commitment = commitment;
        v.weight = uint128(weight);
        v.round = d.round;
        voters.push(msg.sender);
        emit VoteCommitted(disputeId, msg.sender, commitment, weight);
    }

    /// @inheritdoc IDisputeManager
    function revealVote(uint256 disputeId, bool upholds, bytes32 salt) external {
        Dispute storage d = _openDispute(disputeId);
        _sync(disputeId, d);
        if (block.timestamp <= d.commitEnd || block.timestamp > d.revealEnd) {
            revert Dispute_NotRevealPhase(disputeId, d.commitEnd, d.revealEnd, block.timestamp);
        }
        Vote storage v = _votes[disputeId][msg.sender];
        // a vote is revealed in the round it was committed in, so every round's tally is closed
        // when its reveal phase ends (and an extension is decided on it)
        if (v.commitment == bytes32(0) || v.revealed || v.round != d.round) {
            revert Dispute_NothingToReveal(disputeId, msg.sender);
        }
        if (v.commitment != voteCommitment(disputeId, msg.sender, upholds, salt)) {
            revert Dispute_CommitmentMismatch(disputeId, msg.sender);
        }
        // stake added after committing does not count; stake taken away since does not either
        uint256 weight = registry.watcherWeight(msg.sender);
        if (weight > v.weight) weight = v.weight;
        v.revealed = true;
        v.upholds = upholds;
        // casts exact: weight <= v.weight < 2^128; sums of at most MAX_VOTERS such weights are
        // bounded by the stake asset's supply, far below 2^128
        if (upholds) d.upholdWeight += uint128(weight);
        else d.rejectWeight += uint128(weight);
        emit VoteRevealed(disputeId, msg.sender, upholds, weight);
    }

    /// @inheritdoc IDisputeManager
    function resolve(uint256 disputeId) external nonReentrant {
        // ---- checks
        Dispute storage d = _openDispute(disputeId);
        _sync(disputeId, d);
        if (block.timestamp <= d.revealEnd) revert Dispute_RevealNotOver(disputeId, d.revealEnd, block.timestamp);
        if (block.timestamp <= d.windowEnd) {
            revert Dispute_WindowOpen(d.originChainId, d.requestId, d.windowEnd, block.timestamp);
        }
        PackedParams memory p = _params;
        ResultState storage rs = _results[d.resultHash];
        _checkNoHeavierClaim(disputeId, d.kind, rs, p);

        // ---- effects
        State outcome = _outcome(d);
        d.state = outcome;
        if (d.kind == Kind.WrongResult) --rs.openWrongResult;
        else --rs.openDataUnavailable;
        uint256 bond = d.bond;
        uint256 burned;
        if (outcome == State.Rejected) {
            burned = (bond * p.bondBurnBps) / BPS;
            totalBurned += burned;
            _credit(p.treasury, bond - burned);
        } else {
            // upheld, or dismissed: never decided against the challenger by default
            _credit(d.challenger, bond);
        }
        if (outcome == State.Upheld) rs.overturned = true;

        // ---- interactions: the accused once per fault (the registry skips repeats), then voters
        uint256 slashed;
        uint256 reward;
        if (outcome == State.Upheld) (slashed, reward) = _slashSigners(disputeId, d, p);
        uint256 votersSlashed = _slashVoters(disputeId, outcome, p.wrongVoteSlashBps);
        emit DisputeResolved(
            disputeId,
            outcome,
            d.upholdWeight,
            d.rejectWeight,
            slashed,
            reward,
            burned,
            outcome == State.Rejected ? bond - burned : 0,
            votersSlashed
        );
    }

    /// @inheritdoc IDisputeManager
    function withdraw() external nonReentrant {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert Dispute_NothingToWithdraw(msg.sender);
        owed[msg.sender] = 0;
        totalOwed -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert Dispute_EthTransferFailed(msg.sender, amount);
    }

    /// @inheritdoc IDisputeManager
    function setParams(Params calldata p) external onlyOwner {
        _setParams(p);
    }

    /*//////////////////////////////////////////////////////////////
                             EXTERNAL: VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDisputeManager
    function challengeCommitment(
        address challenger,
        uint256 originChainId,
        bytes32 requestId,
        Kind kind,
        bytes32 claimedBodyHash,
        bytes32 salt
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(challenger, originChainId, requestId, kind, claimedBodyHash, salt));
    }

    /// @inheritdoc IDisputeManager
    function voteCommitment(
        uint256 disputeId,
        address voter,
        bool upholds,
        bytes32 salt
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(disputeId, voter, upholds, salt));
    }

    /// @inheritdoc IDisputeManager
    function challengeCommitOf(
        bytes32 commitment
    ) external view returns (uint256 seq, uint256 committedAt, uint256 blockNumber) {
        ChallengeCommit memory c = _challengeCommits[commitment];
        return (c.seq, c.committedAt, c.blockNumber);
    }

    /// @inheritdoc IDisputeManager
    function disputeOf(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @inheritdoc IDisputeManager
    function signersOf(uint256 disputeId) external view returns (address[] memory) {
        return _signers[disputeId];
    }

    /// @inheritdoc IDisputeManager
    function votersOf(uint256 disputeId) external view returns (address[] memory) {
        return _voters[disputeId];
    }

    /// @inheritdoc IDisputeManager
    function voteOf(uint256 disputeId, address voter) external view returns (Vote memory) {
        return _votes[disputeId][voter];
    }

    /// @inheritdoc IDisputeManager
    function phasesOf(uint256 disputeId) external view returns (uint256 commitEnd, uint256 revealEnd, uint256 round) {
        Dispute storage d = _disputes[disputeId];
        if (d.state != State.Open) return (d.commitEnd, d.revealEnd, d.round);
        return _currentRound(d);
    }

    /// @inheritdoc IDisputeManager
    function resultStatus(bytes32 resultHash) external view returns (uint256 openDisputes, bool overturned) {
        ResultState memory rs = _results[resultHash];
        return (uint256(rs.openWrongResult) + rs.openDataUnavailable, rs.overturned);
    }

    /// @inheritdoc IDisputeManager
    function params() external view returns (Params memory) {
        PackedParams memory p = _params;
        return
            Params({
                bond: p.bond,
                challengeWindow: p.challengeWindow,
                commitPeriod: p.commitPeriod,
                revealPeriod: p.revealPeriod,
                maxExtensions: p.maxExtensions,
                minParticipationBps: p.minParticipationBps,
                upholdQuorumBps: p.upholdQuorumBps,
                wrongResultSlashBps: p.wrongResultSlashBps,
                unavailableSlashBps: p.unavailableSlashBps,
                challengerRewardBps: p.challengerRewardBps,
                wrongVoteSlashBps: p.wrongVoteSlashBps,
                bondBurnBps: p.bondBurnBps,
                treasury: p.treasury
            });
    }

    /// @notice Receives forfeited bonds (minus the burned part).
    function treasury() external view returns (address) {
        return _params.treasury;
    }

    /// @notice The EIP-712 struct hash of `r` (what disputes are keyed by).
    function resultHashOf(Result calldata r) external pure returns (bytes32) {
        return ResultTypedData.structHash(r);
    }

    /// @inheritdoc IDisputeManager
    function windowEndOf(uint256 originChainId, bytes32 requestId) external view returns (uint256) {
        (uint256 at, ) = ingestor.ingestionOf(originChainId, requestId);
        return at == 0 ? 0 : at + _params.challengeWindow;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _setParams(Params memory p) internal {
        _checkRange("bond", p.bond, 1, type(uint96).max);
        _checkRange("challengeWindow", p.challengeWindow, 1, type(uint32).max);
        _checkRange("commitPeriod", p.commitPeriod, 1, type(uint32).max);
        _checkRange("revealPeriod", p.revealPeriod, 1, type(uint32).max);
        _checkRange("maxExtensions", p.maxExtensions, 0, MAX_EXTENSIONS);
        // no participation minimum would let a lone voter decide
        _checkRange("minParticipationBps", p.minParticipationBps, 1, BPS);
        // a quorum of at most half would let a bare majority uphold
        _checkRange("upholdQuorumBps", p.upholdQuorumBps, BPS / 2 + 1, BPS);
        _checkRange("wrongResultSlashBps", p.wrongResultSlashBps, 0, BPS);
        _checkRange("unavailableSlashBps", p.unavailableSlashBps, 0, BPS);
        _checkRange("challengerRewardBps", p.challengerRewardBps, 0, BPS);
        _checkRange("wrongVoteSlashBps", p.wrongVoteSlashBps, 0, BPS);
        _checkRange("bondBurnBps", p.bondBurnBps, 0, BPS);
        if (p.treasury == address(0)) revert Dispute_ZeroAddress();
        // every bound above keeps this far from overflowing
        uint256 duration = p.challengeWindow + (p.commitPeriod + p.revealPeriod) * (1 + p.maxExtensions);
        uint256 slashableWindow = registry.slashableWindow();
        // a dispute opened at the window's last second resolves at the earliest one second after
        // its last reveal phase; the accused's stake was active at ingestion, i.e. slashable until
        // strictly after ingestion + slashableWindow: so the duration must be strictly shorter
        if (duration >= slashableWindow) {
            revert Dispute_DurationExceedsSlashableWindow(
                p.challengeWindow,
                p.commitPeriod,
                p.revealPeriod,
                p.maxExtensions,
                duration,
                slashableWindow
            );
        }
        // casts exact: every bound checked above
        _params = PackedParams({
            bond: uint96(p.bond),
            challengeWindow: uint32(p.challengeWindow),
            commitPeriod: uint32(p.commitPeriod),
            revealPeriod: uint32(p.revealPeriod),
            wrongResultSlashBps: uint16(p.wrongResultSlashBps),
            unavailableSlashBps: uint16(p.unavailableSlashBps),
            challengerRewardBps: uint16(p.challengerRewardBps),
            bondBurnBps: uint16(p.bondBurnBps),
            treasury: p.treasury,
            minParticipationBps: uint16(p.minParticipationBps),
            upholdQuorumBps: uint16(p.upholdQuorumBps),
            wrongVoteSlashBps: uint16(p.wrongVoteSlashBps),
            maxExtensions: uint8(p.maxExtensions)
        });
        emit ParamsSet(p);
    }

    function _checkRange(string memory name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert Dispute_InvalidParam(name, value);
    }

    /// @dev The checks of {challenge}: bond, claim, ingested result and accused, window, and the
    /// caller's commitment (consumed). Returns the result's struct hash, the window's end and the
    /// commitment's sequence number.
    function _checkChallenge(
        Result calldata r,
        address[] calldata signers,
        Kind kind,
        bytes32 claimedBodyHash,
        bytes32 salt,
        PackedParams memory p
    ) internal returns (bytes32 resultHash, uint256 windowEnd, uint64 seq) {
        if (msg.value != p.bond) revert Dispute_WrongBond(msg.value, p.bond);
        bool validClaim =
            kind == Kind.WrongResult
                ? claimedBodyHash != bytes32(0) && claimedBodyHash != r.bodyHash
                : claimedBodyHash == bytes32(0);
        if (!validClaim) revert Dispute_InvalidClaim(kind, r.bodyHash, claimedBodyHash);
        uint256 ingestedAt;
        (resultHash, ingestedAt) = _checkIngested(r, signers);
        windowEnd = ingestedAt + p.challengeWindow;
        if (block.timestamp > windowEnd) {
            revert Dispute_WindowClosed(r.originChainId, r.requestId, windowEnd, block.timestamp);
        }
        seq = _consumeCommitment(
            challengeCommitment(msg.sender, r.originChainId, r.requestId, kind, claimedBodyHash, salt),
            ingestedAt
        );
    }

    /// @dev Checks that `r` is the result ingested for its request and `signers` every signer
    /// recorded with it (ascending), each an operator the registry can slash.
    function _checkIngested(
        Result calldata r,
        address[] calldata signers
    ) internal view returns (bytes32 resultHash, uint256 ingestedAt) {
        bytes32 recorded;
        (ingestedAt, recorded) = ingestor.ingestionOf(r.originChainId, r.requestId);
        if (ingestedAt == 0) revert Dispute_NotIngested(r.originChainId, r.requestId);
        resultHash = ResultTypedData.structHash(r);
        bytes32 presented = ResultTypedData.signersCommitment(resultHash, signers);
        if (presented != recorded) revert Dispute_AccusedMismatch(r.originChainId, r.requestId, recorded, presented);
        for (uint256 i; i < signers.length; ++i) {
            (bool known, ) = registry.indexOf(signers[i]);
            if (!known) revert Dispute_UnknownSigner(signers[i]);
        }
    }

    /// @dev Deletes the caller's challenge commitment after checking it was made after the
    /// ingestion and in an earlier block; returns its sequence number.
    function _consumeCommitment(bytes32 commitment, uint256 ingestedAt) internal returns (uint64 seq) {
        ChallengeCommit memory c = _challengeCommits[commitment];
        if (c.seq == 0) revert Dispute_ChallengeNotCommitted(commitment);
        if (c.blockNumber >= block.number) {
            revert Dispute_ChallengeRevealTooEarly(commitment, c.blockNumber, block.number);
        }
        if (c.committedAt < ingestedAt) {
            revert Dispute_ChallengeCommittedBeforeIngestion(commitment, c.committedAt, ingestedAt);
        }
        delete _challengeCommits[commitment];
        return c.seq;
    }

    /// @dev The caller's earlier commitment takes `d` over; the replaced challenger gets its bond
    /// back (the new bond, equal to it, stays in its place).
    function _replaceChallenger(uint256 disputeId, Dispute storage d, uint64 seq) internal {
        address previous = d.challenger;
        uint64 previousSeq = d.challengeSeq;
        _credit(previous, d.bond);
        d.challenger = msg.sender;
        d.challengeSeq = seq;
        d.bond = msg.value;
        emit ChallengerReplaced(disputeId, previous, msg.sender, previousSeq, seq);
    }

    /// @dev Writes the first round's phases and fixes the vote rules at opening.
    function _schedule(Dispute storage d, PackedParams memory p, uint256 windowEnd) internal {
        // casts exact: timestamps far below 2^40
        d.openedAt = uint40(block.timestamp);
        d.commitEnd = uint40(block.timestamp + p.commitPeriod);
        d.revealEnd = uint40(block.timestamp + p.commitPeriod + p.revealPeriod);
        d.windowEnd = uint40(windowEnd);
        d.commitPeriod = p.commitPeriod;
        d.revealPeriod = p.revealPeriod;
        d.maxExtensions = p.maxExtensions;
        d.upholdQuorumBps = p.upholdQuorumBps;
        // participation is measured against the watcher stake registered when the dispute opened,
        // rounded up so that a minimum of 1 bps of a small total still needs a vote
        d.requiredWeight = (registry.totalWatcherWeight() * p.minParticipationBps + BPS - 1) / BPS;
    }

    /// @dev Whether enough weight was revealed for the vote to decide.
    function _participationMet(Dispute storage d) internal view returns (bool) {
        uint256 voted = uint256(d.upholdWeight) + d.rejectWeight;
        return voted != 0 && voted >= d.requiredWeight;
    }

    /// @dev The round `d` is in now: a round whose reveal phase ended short of participation is
    /// followed by another, back to back, until the extensions run out. Rounds are scheduled from
    /// the previous round's end (not from when anyone calls), so the result does not depend on
    /// when it is computed: participation only changes inside a reveal phase.
    function _currentRound(
        Dispute storage d
    ) internal view returns (uint256 commitEnd, uint256 revealEnd, uint256 round) {
        (commitEnd, revealEnd, round) = (d.commitEnd, d.revealEnd, d.round);
        if (block.timestamp <= revealEnd || round >= d.maxExtensions || _participationMet(d)) {
            return (commitEnd, revealEnd, round);
        }
        while (block.timestamp > revealEnd && round < d.maxExtensions) {
            ++round;
            commitEnd = revealEnd + d.commitPeriod;
            revealEnd = commitEnd + d.revealPeriod;
        }
    }

    /// @dev Writes the current round of `d` (see {_currentRound}), one {DisputeExtended} per round
    /// added.
    function _sync(uint256 disputeId, Dispute storage d) internal {
        (uint256 commitEnd, uint256 revealEnd, uint256 round) = _currentRound(d);
        uint256 from = d.round;
        if (round == from) return;
        uint256 voted = uint256(d.upholdWeight) + d.rejectWeight;
        // casts exact: round <= MAX_EXTENSIONS, timestamps far below 2^40
        d.round = uint8(round);
        d.commitEnd = uint40(commitEnd);
        d.revealEnd = uint40(revealEnd);
        uint256 span = uint256(d.commitPeriod) + d.revealPeriod;
        for (uint256 k = from + 1; k <= round; ++k) {
            uint256 end = revealEnd - (round - k) * span;
            emit DisputeExtended(disputeId, k, end - d.revealPeriod, end, voted, d.requiredWeight);
        }
    }

    /// @dev The outcome of a dispute whose last round is over (see the contract NatSpec).
    function _outcome(Dispute storage d) internal view returns (State) {
        if (!_participationMet(d)) return State.Dismissed;
        uint256 up = d.upholdWeight;
        uint256 down = d.rejectWeight;
        if (up > down && up * BPS >= (up + down) * d.upholdQuorumBps) return State.Upheld;
        if (down >= up) return State.Rejected;
        return State.Dismissed; // an upholding majority short of the quorum
    }

    /// @dev One fault per request slashes each operator once: the first upheld dispute resolved
    /// takes it. So a claim waits while a claim of the other kind with a larger slash is open on
    /// the same result (a signer cannot escape a wrong-result slash by getting its own cheaper
    /// data-unavailable claim upheld first).
    function _checkNoHeavierClaim(
        uint256 disputeId,
        Kind kind,
        ResultState storage rs,
        PackedParams memory p
    ) internal view {
        if (kind == Kind.DataUnavailable) {
            if (rs.openWrongResult != 0 && p.wrongResultSlashBps > p.unavailableSlashBps) {
                revert Dispute_HeavierClaimOpen(disputeId, Kind.WrongResult);
            }
        } else if (rs.openDataUnavailable != 0 && p.unavailableSlashBps > p.wrongResultSlashBps) {
            revert Dispute_HeavierClaimOpen(disputeId, Kind.DataUnavailable);
        }
    }

    /// @dev Slashes every signer recorded with the overturned result for the request's one fault;
    /// the registry pays the challenger its share and the treasury the rest, and skips an operator
    /// already slashed for this request (another claim kind, or equivocation).
    function _slashSigners(
        uint256 disputeId,
        Dispute storage d,
        PackedParams memory p
    ) internal returns (uint256 slashed, uint256 reward) {
        uint256 slashBps = d.kind == Kind.WrongResult ? p.wrongResultSlashBps : p.unavailableSlashBps;
        bytes32 faultId = registry.faultIdOf(d.originChainId, d.requestId);
        address challenger = d.challenger;
        address[] memory signers = _signers[disputeId];
        for (uint256 i; i < signers.length; ++i) {
            (uint256 toChallenger, uint256 rest) = registry.slashFault(
                signers[i],
                faultId,
                slashBps,
                challenger,
                p.challengerRewardBps
            );
            reward += toChallenger;
            slashed += toChallenger + rest;
        }
    }

    /// @dev Slashes every voter that never revealed, and, when the vote decided (upheld or
    /// rejected), every voter that revealed against the outcome.
    function _slashVoters(uint256 disputeId, State outcome, uint256 slashBps) internal returns (uint256 total) {
        if (slashBps == 0) return 0;
        address[] memory voters = _voters[disputeId];
        bool decided = outcome != State.Dismissed;
        bool upheld = outcome == State.Upheld;
        for (uint256 i; i < voters.length; ++i) {
            Vote memory v = _votes[disputeId][voters[i]];
            if (v.revealed && (!decided || v.upholds == upheld)) continue;
            uint256 taken = registry.slashWatcher(voters[i], slashBps);
            total += taken;
            emit VoterSlashed(disputeId, voters[i], v.revealed, taken);
        }
    }

    function _emitOpened(uint256 disputeId, Dispute storage d, address[] calldata signers) internal {
        emit DisputeOpened(
            disputeId,
            d.requestId,
            d.originChainId,
            d.kind,
            d.challenger,
            d.resultHash,
            d.resultBodyHash,
            d.claimedBodyHash,
            signers,
            d.bond,
            d.commitEnd,
            d.revealEnd
        );
    }

    function _credit(address account, uint256 amount) internal {
        if (amount == 0) return;
        owed[account] += amount;
        totalOwed += amount;
    }

    function _openDispute(uint256 disputeId) internal view returns (Dispute storage d) {
        d = _disputes[disputeId];
        if (d.state == State.None) revert Dispute_UnknownDispute(disputeId);
        if (d.state != State.Open) revert Dispute_NotOpen(disputeId, d.state);
    }
}
