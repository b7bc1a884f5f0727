// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Result} from "./IInstruction.sol";
import {IStakingRegistry} from "./IStakingRegistry.sol";
import {IInstructionIngestor} from "./IInstructionIngestor.sol";

/// @title IDisputeManager
/// @notice Disputes over ingested results (SPEC 3.5): a challenge nobody can front-run, the
/// accused fixed at ingestion, votes with the voters' stake at risk, and never a decision in the
/// challenger's favour by default.
///
/// **Opening (commit, then reveal).** A challenger first calls {commitChallenge} with
/// `challengeCommitment(challenger, originChainId, requestId, kind, claimedBodyHash, salt)`, then,
/// in a later block and while the result's challenge window (`challengeWindow` seconds after
/// ingestion) is open, {challenge} with the ingested `Result`, every signer the ingestor recorded
/// for it (ascending), the claim, the salt and the bond. The Result and the signers must hash to
/// the ingestor's `signersCommitment` ({IInstructionIngestor.ingestionOf}): the accused are exactly
/// every recorded signer, never a subset the challenger picks.
///
/// **Who is the challenger (the reward rule).** Each commitment gets a global sequence number when
/// it is committed. Among the revealed challenges of one claim (same result, kind and claimed
/// bodyHash) the one with the **lowest sequence number** is the challenger, whatever the order of
/// the reveals: a later reveal with an earlier commitment takes the dispute over (the replaced
/// challenger's bond is credited back to it, it earns nothing). Commitments made before the
/// result was ingested, or revealed in their own block, are refused. A copier who sees a reveal
/// in the mempool cannot use it (the commitment names the challenger) and any commitment it makes
/// then is later than the original. Takeovers are possible until the dispute is resolved, which
/// is never before the window closes.
///
/// **Votes.** Registered watchers commit ({commitVote}) then reveal ({revealVote}) whether the claim
/// holds; weight = min(watcher weight at commit, at reveal). Each watcher votes once per dispute.
/// At resolution a revealed vote against the decided outcome, and every commitment never revealed,
/// loses `wrongVoteSlashBps` of the voter's stake ({IStakingRegistry.slashWatcher}).
///
/// **Outcome.** Participation is the revealed weight against `minParticipationBps` of the
/// registry's total watcher weight taken at opening. Too little: the dispute gets a new commit +
/// reveal round (votes already revealed keep counting), at most `maxExtensions` times, then it is
/// Dismissed. Enough: Upheld iff the upholding weight is at least `upholdQuorumBps` (> 50 %) of the
/// revealed weight; Rejected iff the rejecting weight is at least the upholding weight (a tie
/// rejects); otherwise (a bare upholding majority) Dismissed. Upheld: every recorded signer is
/// slashed once for the request's fault id ({IStakingRegistry.faultIdOf}; one slash per operator and
/// request whatever the claim kinds, equivocation included), a share to the challenger, the bond
/// returned. Rejected: part of the bond burned, the rest to the treasury. Dismissed (escalated):
/// nobody is slashed for the claim, the bond is returned, the result stands; only unrevealed
/// commitments are slashed.
///
/// @dev Times are block timestamps in seconds. The parameters are refused unless the longest
/// dispute (`challengeWindow + (commitPeriod + revealPeriod) * (1 + maxExtensions)`) ends before
/// the registry's `slashableWindow()`: an upheld dispute can then always be resolved while the
/// accused's stake (active at ingestion) is still slashable.
interface IDisputeManager {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice What a challenge claims.
    enum Kind {
        WrongResult,
        DataUnavailable
    }

    /// @notice Lifecycle of a dispute. Dismissed = too little participation after every extension,
    /// or an upholding majority short of the quorum: the bond comes back and nobody is slashed for
    /// the claim.
    enum State {
        None,
        Open,
        Upheld,
        Rejected,
        Dismissed
    }

    /// @notice A dispute as stored (signers and voters aside, see {signersOf}, {votersOf}).
    /// @dev `round` counts the extensions used (0 = the first round); `commitEnd`/`revealEnd` are
    /// those of that round as last written: {phasesOf} gives the current ones. `commitPeriod`,
    /// `revealPeriod`, `maxExtensions`, `upholdQuorumBps` and `requiredWeight` are fixed at opening.
    struct Dispute {
        address challenger;
        uint40 openedAt;
        Kind kind;
        State state;
        uint8 round;
        uint8 maxExtensions;
        uint16 upholdQuorumBps;
        uint40 commitEnd;
        uint40 revealEnd;
        uint40 windowEnd;
        uint32 commitPeriod;
        uint32 revealPeriod;
        uint64 challengeSeq;
        uint256 originChainId;
        bytes32 requestId;
        bytes32 resultHash;
        bytes32 resultBodyHash;
        bytes32 claimedBodyHash;
        uint256 bond;
        uint256 requiredWeight;
        uint128 upholdWeight;
        uint128 rejectWeight;
    }

    /// @notice A watcher's vote in one dispute.
    struct Vote {
        bytes32 commitment;
        uint128 weight;
        uint8 round;
        bool revealed;
        bool upholds;
    }

    /// @notice Every parameter (times in seconds, shares in basis points, bond in wei).
    struct Params {
        uint256 bond;
        uint256 challengeWindow;
        uint256 commitPeriod;
        uint256 revealPeriod;
        uint256 maxExtensions;
        uint256 minParticipationBps;
        uint256 upholdQuorumBps;
        uint256 wrongResultSlashBps;
        uint256 unavailableSlashBps;
        uint256 challengerRewardBps;
        uint256 wrongVoteSlashBps;
        uint256 bondBurnBps;
        address treasury;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The ETH sent is not the bond (`required`).
    error Dispute_WrongBond(uint256 sent, uint256 required);
    /// @notice No result was ingested for (originChainId, requestId) on this chain.
    error Dispute_NotIngested(uint256 originChainId, bytes32 requestId);
    /// @notice The challenge window of the result closed at `windowEnd`.
    error Dispute_WindowClosed(uint256 originChainId, bytes32 requestId, uint256 windowEnd, uint256 nowTimestamp);
    /// @notice The challenge window is still open until `windowEnd` (a dispute resolves after it,
    /// so that an earlier challenge commitment can still be revealed).
    error Dispute_WindowOpen(uint256 originChainId, bytes32 requestId, uint256 windowEnd, uint256 nowTimestamp);
    /// @notice A WrongResult claim must name a non-zero bodyHash other than the result's; a
    /// DataUnavailable claim must name none.
    error Dispute_InvalidClaim(Kind kind, bytes32 resultBodyHash, bytes32 claimedBodyHash);
    /// @notice The presented Result and signers do not hash to what the ingestor recorded
    /// (`recorded`): not the ingested Result, or not every recorded signer in ascending order.
    error Dispute_AccusedMismatch(uint256 originChainId, bytes32 requestId, bytes32 recorded, bytes32 presented);
    /// @notice `signer` is not an operator the registry knows (it could not be slashed).
    error Dispute_UnknownSigner(address signer);
    /// @notice A zero challenge commitment.
    error Dispute_ZeroCommitment();
    /// @notice `commitment` was already committed (sequence `seq`).
    error Dispute_ChallengeAlreadyCommitted(bytes32 commitment, uint256 seq);
    /// @notice No challenge commitment `commitment` (never committed, or already revealed).
    error Dispute_ChallengeNotCommitted(bytes32 commitment);
    /// @notice A challenge is revealed in a later block than its commitment (`commitBlock`).
    error Dispute_ChallengeRevealTooEarly(bytes32 commitment, uint256 commitBlock, uint256 blockNumber);
    /// @notice The challenge commitment was made (`committedAt`) before the result was ingested.
    error Dispute_ChallengeCommittedBeforeIngestion(bytes32 commitment, uint256 committedAt, uint256 ingestedAt);
    /// @notice The same claim on the same result is already dispute `disputeId`, by a challenger
    /// whose commitment (`challengeSeq`) is not later than this one's (`seq`), or it is resolved.
    error Dispute_AlreadyChallenged(
        bytes32 resultHash,
        bytes32 claimedBodyHash,
        uint256 disputeId,
        uint256 challengeSeq,
        uint256 seq
    );
    /// @notice No dispute has id `disputeId`.
    error Dispute_UnknownDispute(uint256 disputeId);
    /// @notice `account` is not a watcher with voting weight.
    error Dispute_NotWatcher(address account);
    /// @notice The commit phase of the current round of `disputeId` ended at `commitEnd`.
    error Dispute_CommitClosed(uint256 disputeId, uint256 commitEnd, uint256 nowTimestamp);
    /// @notice `voter` already committed in `disputeId`.
    error Dispute_AlreadyCommitted(uint256 disputeId, address voter);
    /// @notice `disputeId` already has the most voters it can slash in one resolution.
    error Dispute_TooManyVoters(uint256 disputeId, uint256 maximum);
    /// @notice Reveals of the current round of `disputeId` are accepted after `commitEnd` until
    /// `revealEnd`.
    error Dispute_NotRevealPhase(uint256 disputeId, uint256 commitEnd, uint256 revealEnd, uint256 nowTimestamp);
    /// @notice `voter` has nothing to reveal in `disputeId` now (no commitment, already revealed,
    /// or committed in an earlier round whose reveal phase is over).
    error Dispute_NothingToReveal(uint256 disputeId, address voter);
    /// @notice The revealed vote and salt do not match `voter`'s commitment.
    error Dispute_CommitmentMismatch(uint256 disputeId, address voter);
    /// @notice `disputeId` can be resolved after `revealEnd` (of its last round).
    error Dispute_RevealNotOver(uint256 disputeId, uint256 revealEnd, uint256 nowTimestamp);
    /// @notice `disputeId` waits for the open dispute(s) of kind `heavier` on the same result, whose
    /// slash is larger: the one slash of this fault must be the largest upheld one.
    error Dispute_HeavierClaimOpen(uint256 disputeId, Kind heavier);
    /// @notice `disputeId` is not open (it is `state`).
    error Dispute_NotOpen(uint256 disputeId, State state);
    /// @notice Nothing is owed to `account`.
    error Dispute_NothingToWithdraw(address account);
    /// @notice Sending ETH to `to` failed.
    error Dispute_EthTransferFailed(address to, uint256 amount);
    /// @notice Parameter `name` cannot be `value` (see {setParams}).
    error Dispute_InvalidParam(string name, uint256 value);
    /// @notice The longest dispute, `challengeWindow + (commitPeriod + revealPeriod) *
    /// (1 + maxExtensions)` = `duration` seconds, does not end before the registry's
    /// `slashableWindow` (seconds): an upheld dispute could find the stake gone.
    error Dispute_DurationExceedsSlashableWindow(
        uint256 challengeWindow,
        uint256 commitPeriod,
        uint256 revealPeriod,
        uint256 maxExtensions,
        uint256 duration,
        uint256 slashableWindow
    );
    /// @notice A zero address where one is needed.
    error Dispute_ZeroAddress();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Emitted when `by` commits a hidden challenge; `seq` orders it against every other.
    event ChallengeCommitted(bytes32 indexed commitment, address indexed by, uint256 seq);
    /// @notice Emitted when a result is challenged. Votes are committed until `commitEnd` and
    /// revealed until `revealEnd` (first round); `signers` are every signer recorded at ingestion.
    /// The commitment's sequence number and the revealed weight the vote needs are in {disputeOf}.
    event DisputeOpened(
        uint256 indexed disputeId,
        bytes32 indexed requestId,
        uint256 indexed originChainId,
        Kind kind,
        address challenger,
        bytes32 resultHash,
        bytes32 resultBodyHash,
        bytes32 claimedBodyHash,
        address[] signers,
        uint256 bond,
        uint256 commitEnd,
        uint256 revealEnd
    );
    /// @notice Emitted when a challenge with an earlier commitment takes dispute `disputeId` over
    /// from `previous`, whose bond is credited back to it.
    event ChallengerReplaced(
        uint256 indexed disputeId,
        address indexed previous,
        address indexed challenger,
        uint256 previousSeq,
        uint256 seq
    );
    /// @notice Emitted when a watcher commits a hidden vote with `weight` in `round`.
    event VoteCommitted(uint256 indexed disputeId, address indexed voter, bytes32 commitment, uint256 weight);
    /// @notice Emitted when a watcher reveals; `weight` is what counted.
    event VoteRevealed(uint256 indexed disputeId, address indexed voter, bool upholds, uint256 weight);
    /// @notice Emitted when a round ended with `votedWeight` revealed, below `requiredWeight`: round
    /// `round` runs until `revealEnd`.
    event DisputeExtended(
        uint256 indexed disputeId,
        uint256 round,
        uint256 commitEnd,
        uint256 revealEnd,
        uint256 votedWeight,
        uint256 requiredWeight
    );
    /// @notice Emitted when `voter` lost `taken` of its stake in `disputeId`: it voted against the
    /// outcome (`revealed`) or never revealed.
    event VoterSlashed(uint256 indexed disputeId, address indexed voter, bool revealed, uint256 taken);
    /// @notice Emitted when a dispute is resolved. Upheld: `slashed` was taken from the signers
    /// (`challengerReward` of it to the challenger) and the bond returned. Rejected: `bondBurned`
    /// burned and `bondToTreasury` to the treasury. Dismissed: the bond returned. In every case
    /// `votersSlashed` was taken from wrong or silent voters.
    event DisputeResolved(
        uint256 indexed disputeId,
        State outcome,
        uint256 upholdWeight,
        uint256 rejectWeight,
        uint256 slashed,
        uint256 challengerReward,
        uint256 bondBurned,
        uint256 bondToTreasury,
        uint256 votersSlashed
    );
    /// @notice Emitted when `account` takes ETH owed to it (returned bonds, treasury shares).
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Emitted when the dispute parameters change.
    event ParamsSet(Params params);

    /*//////////////////////////////////////////////////////////////
                                FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Commits a hidden challenge (see {challengeCommitment}); it gets the next sequence
    /// number, which decides who is the challenger of a claim (lowest revealed wins).
    /// @dev Requirements: non-zero; not committed before. Anyone may commit for anyone (the
    /// commitment names the challenger). Emits {ChallengeCommitted}.
    function commitChallenge(bytes32 commitment) external returns (uint256 seq);

    /// @notice Reveals a committed challenge of the ingested result `r`, accusing `signers`.
    /// @param signers Every signer the ingestor recorded for `r`, ascending.
    /// @param claimedBodyHash For WrongResult, the bodyHash the challenger says is correct; for
    /// DataUnavailable, zero.
    /// @param salt The salt of the caller's commitment.
    /// @dev Requirements: `msg.value == bond`; a valid claim; the result ingested at most
    /// `challengeWindow` seconds ago; `r` and `signers` hash to the ingestor's recorded commitment;
    /// every signer known to the registry; `challengeCommitment(msg.sender, ...)` committed after the
    /// ingestion and in an earlier block. The same claim already open with a later commitment is
    /// taken over ({ChallengerReplaced}); with an earlier one (or resolved), reverts. Emits
    /// {DisputeOpened} or {ChallengerReplaced}.
    function challenge(
        Result calldata r,
        address[] calldata signers,
        Kind kind,
        bytes32 claimedBodyHash,
        bytes32 salt
    ) external payable returns (uint256 disputeId);

    /// @notice Commits a hidden vote (see {voteCommitment}) in the current round; the weight is the
    /// caller's watcher weight now, and the reveal counts at most that. The vote is at risk: never
    /// revealing it, or revealing against the outcome, is slashed.
    /// @dev Requirements: an open dispute in the commit phase of its current round; the caller a
    /// watcher with weight; no earlier commitment in this dispute; fewer than {MAX_VOTERS} voters.
    /// Emits {VoteCommitted} (and {DisputeExtended} if a round ended short of participation).
    function commitVote(uint256 disputeId, bytes32 commitment) external;

    /// @notice Reveals the caller's vote: `upholds` = the challenger's claim is true.
    /// @dev Requirements: in the reveal phase of the round the vote was committed in; a commitment
    /// equal to `voteCommitment(disputeId, msg.sender, upholds, salt)` not yet revealed. Counts
    /// min(committed weight, watcher weight now). Emits {VoteRevealed}.
    function revealVote(uint256 disputeId, bool upholds, bytes32 salt) external;

    /// @notice Resolves a dispute (Upheld, Rejected or Dismissed, see the contract NatSpec),
    /// slashes the accused if upheld and every wrong or silent voter.
    /// @dev Requirements: open; its last round's reveal phase over; the result's challenge window
    /// closed; no open dispute of the other kind on the same result with a larger slash. Anyone may
    /// call. Emits {DisputeResolved}, {VoterSlashed} per voter slashed (and {DisputeExtended}).
    function resolve(uint256 disputeId) external;

    /// @notice Sends the caller the ETH owed to it.
    /// @dev Requirements: something owed. Emits {Withdrawn}.
    function withdraw() external;

    /// @notice Sets the dispute parameters.
    /// @dev Requirements: owner; bond in (0, 2^96); challengeWindow, commitPeriod, revealPeriod in
    /// (0, 2^32); maxExtensions <= {MAX_EXTENSIONS}; minParticipationBps in (0, 10_000];
    /// upholdQuorumBps in (5_000, 10_000]; other shares <= 10_000; treasury non-zero;
    /// `challengeWindow + (commitPeriod + revealPeriod) * (1 + maxExtensions) <
    /// registry.slashableWindow()`. Applies to disputes opened afterwards (times, quorum,
    /// participation) and to resolutions afterwards (slash and bond shares). Emits {ParamsSet}.
    function setParams(Params calldata p) external;

    /// @notice The commitment a challenger submits with {commitChallenge}:
    /// `keccak256(abi.encode(challenger, originChainId, requestId, kind, claimedBodyHash, salt))`.
    function challengeCommitment(
        address challenger,
        uint256 originChainId,
        bytes32 requestId,
        Kind kind,
        bytes32 claimedBodyHash,
        bytes32 salt
    ) external pure returns (bytes32);

    /// @notice The commitment a watcher submits for a vote: `keccak256(abi.encode(disputeId, voter,
    /// upholds, salt))`.
    function voteCommitment(
        uint256 disputeId,
        address voter,
        bool upholds,
        bytes32 salt
    ) external pure returns (bytes32);

    /// @notice A challenge commitment's sequence number, time and block (zeros if none pending).
    function challengeCommitOf(
        bytes32 commitment
    ) external view returns (uint256 seq, uint256 committedAt, uint256 blockNumber);

    /// @notice The dispute `disputeId`.
    function disputeOf(uint256 disputeId) external view returns (Dispute memory);

    /// @notice The accused of `disputeId`: every signer recorded at ingestion.
    function signersOf(uint256 disputeId) external view returns (address[] memory);

    /// @notice Every watcher that committed a vote in `disputeId`.
    function votersOf(uint256 disputeId) external view returns (address[] memory);

    /// @notice `voter`'s vote in `disputeId`.
    function voteOf(uint256 disputeId, address voter) external view returns (Vote memory);

    /// @notice The current round of `disputeId` (extensions applied as of now) and its commit and
    /// reveal ends.
    function phasesOf(uint256 disputeId) external view returns (uint256 commitEnd, uint256 revealEnd, uint256 round);

    /// @notice Open disputes on a result (by its EIP-712 struct hash), and whether one was upheld.
    function resultStatus(bytes32 resultHash) external view returns (uint256 openDisputes, bool overturned);

    /// @notice The dispute parameters.
    function params() external view returns (Params memory);

    /// @notice When the challenge window of the result for (originChainId, requestId) ends (0 if
    /// no result was ingested).
    function windowEndOf(uint256 originChainId, bytes32 requestId) external view returns (uint256);

    /// @notice ETH owed to `account`.
    function owed(address account) external view returns (uint256);

    /// @notice Sum of {owed} over every account.
    function totalOwed() external view returns (uint256);

    /// @notice Number of disputes opened so far (ids are 1..disputeCount).
    function disputeCount() external view returns (uint256);

    /// @notice Number of challenge commitments so far (sequence numbers are 1..challengeCommitCount).
    function challengeCommitCount() external view returns (uint256);

    /// @notice ETH burned from forfeited bonds: held here forever, no function moves it.
    function totalBurned() external view returns (uint256);

    /// @notice The staking registry that slashes operators and watchers.
    function registry() external view returns (IStakingRegistry);

    /// @notice The ingestor whose results are disputed (it records each result's signers).
    function ingestor() external view returns (IInstructionIngestor);
}
