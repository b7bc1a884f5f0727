// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Result} from "./IInstruction.sol";
import {IStakingRegistry} from "./IStakingRegistry.sol";
import {IInstructionIngestor} from "./IInstructionIngestor.sol";

/// @title IDisputeManager
/// @notice Disputes over ingested results (SPEC 3.5). Within `challengeWindow` seconds after a
/// result is ingested, anyone may challenge it with a bond in ETH, presenting the result and its
/// operators' signatures and either naming the correct `bodyHash` (WrongResult) or claiming its
/// execution record cannot be read from DA (DataUnavailable). Registered watchers then commit
/// (`commitPeriod`) and reveal (`revealPeriod`) stake-weighted votes on whether the claim holds.
/// Upheld: every signer presented is slashed through the registry (a share to the challenger,
/// the rest to the treasury; once per operator and fault), the bond comes back. Rejected (a tie
/// or no votes included): part of the bond is burned, the rest goes to the treasury.
/// A result that was never upheld against and whose window passed can be finalised once, which
/// raises its signers' reputation.
/// @dev Times are block timestamps. A challenge needs at least `threshold` valid signatures (in
/// strictly ascending signer order, low s) under the ingestor's EIP-712 domain, all by operators
/// the registry knows: since the threshold is a strict majority of the registered operators, a
/// threshold-signed result that conflicts with the ingested one implies an equivocating signer.
interface IDisputeManager {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice What a challenge claims.
    enum Kind {
        WrongResult,
        DataUnavailable
    }

    /// @notice Lifecycle of a dispute.
    enum State {
        None,
        Open,
        Upheld,
        Rejected
    }

    /// @notice A dispute as stored (signers aside, see {signersOf}).
    struct Dispute {
        address challenger;
        uint64 openedAt;
        Kind kind;
        State state;
        uint64 commitEnd;
        uint64 revealEnd;
        uint256 originChainId;
        bytes32 requestId;
        bytes32 resultHash;
        bytes32 resultBodyHash;
        bytes32 claimedBodyHash;
        uint256 bond;
        uint256 upholdWeight;
        uint256 rejectWeight;
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
    /// @notice The challenge window is still open until `windowEnd`: not final yet.
    error Dispute_WindowOpen(uint256 originChainId, bytes32 requestId, uint256 windowEnd, uint256 nowTimestamp);
    /// @notice A WrongResult claim must name a non-zero bodyHash other than the result's; a
    /// DataUnavailable claim must name none.
    error Dispute_InvalidClaim(Kind kind, bytes32 resultBodyHash, bytes32 claimedBodyHash);
    /// @notice Signature `index` does not recover (malformed or high s).
    error Dispute_InvalidSignature(uint256 index);
    /// @notice Signers must be strictly ascending; `signer` at `index` is not above `previous`.
    error Dispute_SignersNotAscending(uint256 index, address signer, address previous);
    /// @notice Fewer signatures than the registry's threshold.
    error Dispute_NotEnoughSignatures(uint256 count, uint256 threshold);
    /// @notice `signer` was never an operator of the registry.
    error Dispute_UnknownSigner(address signer);
    /// @notice The same claim on the same result is already dispute `disputeId`.
    error Dispute_AlreadyChallenged(bytes32 resultHash, bytes32 claimedBodyHash, uint256 disputeId);
    /// @notice No dispute has id `disputeId`.
    error Dispute_UnknownDispute(uint256 disputeId);
    /// @notice `account` is not a watcher with voting weight.
    error Dispute_NotWatcher(address account);
    /// @notice The commit phase of `disputeId` ended at `commitEnd`.
    error Dispute_CommitClosed(uint256 disputeId, uint256 commitEnd, uint256 nowTimestamp);
    /// @notice `voter` already committed in `disputeId`.
    error Dispute_AlreadyCommitted(uint256 disputeId, address voter);
    /// @notice Reveals of `disputeId` are accepted after `commitEnd` until `revealEnd`.
    error Dispute_NotRevealPhase(uint256 disputeId, uint256 commitEnd, uint256 revealEnd, uint256 nowTimestamp);
    /// @notice `voter` has no commitment to reveal in `disputeId` (none, or already revealed).
    error Dispute_NothingToReveal(uint256 disputeId, address voter);
    /// @notice The revealed vote and salt do not match `voter`'s commitment.
    error Dispute_CommitmentMismatch(uint256 disputeId, address voter);
    /// @notice `disputeId` can be resolved after `revealEnd`.
    error Dispute_RevealNotOver(uint256 disputeId, uint256 revealEnd, uint256 nowTimestamp);
    /// @notice `disputeId` is not open (it is `state`).
    error Dispute_NotOpen(uint256 disputeId, State state);
    /// @notice The result still has `openDisputes` open disputes.
    error Dispute_ResultDisputed(bytes32 resultHash, uint256 openDisputes);
    /// @notice A dispute against the result was upheld: it never finalises.
    error Dispute_ResultOverturned(bytes32 resultHash);
    /// @notice Fewer of the presented signers are active operators than the threshold.
    error Dispute_NotEnoughActiveSigners(uint256 active, uint256 threshold);
    /// @notice A result for (originChainId, requestId) was already finalised.
    error Dispute_AlreadyFinalized(uint256 originChainId, bytes32 requestId);
    /// @notice A batch's arrays differ in length.
    error Dispute_BatchLengthMismatch(uint256 results, uint256 signatures);
    /// @notice Nothing is owed to `account`.
    error Dispute_NothingToWithdraw(address account);
    /// @notice Sending ETH to `to` failed.
    error Dispute_EthTransferFailed(address to, uint256 amount);
    /// @notice Invalid parameters (see {setParams}).
    error Dispute_InvalidParams();
    /// @notice A zero address where one is needed.
    error Dispute_ZeroAddress();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Emitted when a result is challenged. Votes are committed until `commitEnd` and
    /// revealed until `revealEnd`.
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
    /// @notice Emitted when a watcher commits a hidden vote with `weight`.
    event VoteCommitted(uint256 indexed disputeId, address indexed voter, bytes32 commitment, uint256 weight);
    /// @notice Emitted when a watcher reveals; `weight` is what counted.
    event VoteRevealed(uint256 indexed disputeId, address indexed voter, bool upholds, uint256 weight);
    /// @notice Emitted when a dispute is resolved. Upheld: `slashed` was taken from the signers
    /// (`challengerReward` of it to the challenger) and the bond returned. Rejected:
    /// `bondBurned` burned and `bondToTreasury` to the treasury.
    event DisputeResolved(
        uint256 indexed disputeId,
        State outcome,
        uint256 upholdWeight,
        uint256 rejectWeight,
        uint256 slashed,
        uint256 challengerReward,
        uint256 bondBurned,
        uint256 bondToTreasury
    );
    /// @notice Emitted when a result finalises unchallenged (or after every dispute failed) and
    /// its signers gain reputation.
    event ResultFinalized(
        bytes32 indexed requestId,
        uint256 indexed originChainId,
        bytes32 resultHash,
        address[] signers
    );
    /// @notice Emitted by {finalizeBatch} for a result it could not finalise; `reason` is the
    /// selector of the error {finalize} would have raised.
    event FinalizeSkipped(bytes32 indexed requestId, uint256 indexed originChainId, bytes4 reason);
    /// @notice Emitted when `account` takes ETH owed to it (returned bonds, treasury shares).
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Emitted when the dispute parameters change.
    event ParamsSet(
        uint256 bond,
        uint256 challengeWindow,
        uint256 commitPeriod,
        uint256 revealPeriod,
        uint256 wrongResultSlashBps,
        uint256 unavailableSlashBps,
        uint256 challengerRewardBps,
        uint256 bondBurnBps,
        address treasury
    );

    /*//////////////////////////////////////////////////////////////
                                FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Challenges the ingested result `r`, signed by `signatures`.
    /// @param claimedBodyHash For WrongResult, the bodyHash the challenger says is correct; for
    /// DataUnavailable, zero.
    /// @dev Requirements: `msg.value == bond`; a result ingested for (r.originChainId, r.requestId)
    /// at most `challengeWindow` seconds ago; a valid claim; >= threshold valid ascending
    /// signatures by known operators; the same claim on the same result not already made.
    /// Emits {DisputeOpened}.
    function challenge(
        Result calldata r,
        bytes[] calldata signatures,
        Kind kind,
        bytes32 claimedBodyHash
    ) external payable returns (uint256 disputeId);

    /// @notice Commits a hidden vote (see {voteCommitment}); the weight is the caller's watcher
    /// weight now, and the reveal counts at most that.
    /// @dev Requirements: an open dispute in its commit phase; the caller a watcher with weight;
    /// no earlier commitment. Emits {VoteCommitted}.
    function commitVote(uint256 disputeId, bytes32 commitment) external;

    /// @notice Reveals the caller's vote: `upholds` = the challenger's claim is true.
    /// @dev Requirements: in the reveal phase; a commitment equal to
    /// `voteCommitment(disputeId, msg.sender, upholds, salt)` not yet revealed. Counts
    /// min(committed weight, watcher weight now). Emits {VoteRevealed}.
    function revealVote(uint256 disputeId, bool upholds, bytes32 salt) external;

    /// @notice Resolves a dispute after its reveal phase: upheld iff the upholding weight is
    /// strictly greater than the rejecting weight.
    /// @dev Requirements: open; reveal phase over. Anyone may call. Emits {DisputeResolved}.
    function resolve(uint256 disputeId) external;

    /// @notice Finalises the ingested result `r`: the reputation of its signers that are active
    /// operators rises.
    /// @dev Requirements: ingested; its window over; no open dispute on it and none upheld; not
    /// finalised before for this request; >= threshold valid ascending signatures by known
    /// operators, of which >= threshold active now (so stake-less former operators cannot
    /// finalise a made-up result first). Emits {ResultFinalized} with the active signers.
    function finalize(Result calldata r, bytes[] calldata signatures) external;

    /// @notice Finalises several results in one transaction (see {finalize}); a result whose state
    /// forbids it (window open, already finalised, disputed, overturned, not enough active signers,
    /// not ingested) is skipped with {FinalizeSkipped}, invalid signatures revert the batch.
    /// @return finalized How many results were finalised.
    function finalizeBatch(
        Result[] calldata results,
        bytes[][] calldata signatures
    ) external returns (uint256 finalized);

    /// @notice Sends the caller the ETH owed to it.
    /// @dev Requirements: something owed. Emits {Withdrawn}.
    function withdraw() external;

    /// @notice Sets the dispute parameters (times in seconds, shares in basis points).
    /// @dev Requirements: owner; bond > 0; challengeWindow, commitPeriod, revealPeriod > 0;
    /// commitPeriod + revealPeriod <= 2 * challengeWindow; shares <= 10_000; treasury non-zero.
    /// Emits {ParamsSet}.
    function setParams(
        uint256 bond,
        uint256 challengeWindow,
        uint256 commitPeriod,
        uint256 revealPeriod,
        uint256 wrongResultSlashBps,
        uint256 unavailableSlashBps,
        uint256 challengerRewardBps,
        uint256 bondBurnBps,
        address treasury
    ) external;

    /// @notice The commitment a watcher submits for a vote.
    function voteCommitment(
        uint256 disputeId,
        address voter,
        bool upholds,
        bytes32 salt
    ) external pure returns (bytes32);

    /// @notice The dispute `disputeId`.
    function disputeOf(uint256 disputeId) external view returns (Dispute memory);

    /// @notice The signers presented with the challenged result of `disputeId`.
    function signersOf(uint256 disputeId) external view returns (address[] memory);

    /// @notice End of the commit phase and of the reveal phase of `disputeId`.
    function phasesOf(uint256 disputeId) external view returns (uint256 commitEnd, uint256 revealEnd);

    /// @notice Open disputes on a result (by its EIP-712 struct hash), and whether one was upheld.
    function resultStatus(bytes32 resultHash) external view returns (uint256 openDisputes, bool overturned);

    /// @notice Whether a result for (originChainId, requestId) was finalised.
    function isFinalized(uint256 originChainId, bytes32 requestId) external view returns (bool);

    /// @notice ETH owed to `account`.
    function owed(address account) external view returns (uint256);

    /// @notice Number of disputes opened so far (ids are 1..disputeCount).
    function disputeCount() external view returns (uint256);

    /// @notice ETH burned from forfeited bonds: held here forever, no function moves it.
    function totalBurned() external view returns (uint256);

    /// @notice The staking registry that slashes and keeps reputation.
    function registry() external view returns (IStakingRegistry);

    /// @notice The ingestor whose results are disputed (its chain and address are the EIP-712
    /// domain of the signatures).
    function ingestor() external view returns (IInstructionIngestor);
}
