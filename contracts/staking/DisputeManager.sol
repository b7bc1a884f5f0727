// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IDisputeManager} from "../interfaces/IDisputeManager.sol";
import {IStakingRegistry} from "../interfaces/IStakingRegistry.sol";
import {IInstructionIngestor} from "../interfaces/IInstructionIngestor.sol";
import {Result, ResultTypedData} from "../interfaces/IInstruction.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title DisputeManager
/// @notice Bonded challenges of ingested results, decided by stake-weighted commit-reveal votes
/// of the registry's watchers; slashes the signers of overturned results and finalises the rest
/// (SPEC 3.5). See {IDisputeManager} for the rules.
/// @dev Money rule: this contract's ETH balance is always the bonds of open disputes plus what is
/// owed (returned bonds, treasury shares) plus {totalBurned}; bonds leave only through
/// {withdraw}. Slashed stake never passes through here: the registry's adapter pays the
/// challenger and the treasury directly.
contract DisputeManager is IDisputeManager, Ownable2Step, ReentrancyGuardTransient {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @dev Every parameter in one slot.
    struct Params {
        uint96 bond;
        uint32 challengeWindow;
        uint32 commitPeriod;
        uint32 revealPeriod;
        uint16 wrongResultSlashBps;
        uint16 unavailableSlashBps;
        uint16 challengerRewardBps;
        uint16 bondBurnBps;
    }

    /// @notice Constructor argument, same units as {setParams}.
    struct ParamsInput {
        uint256 bond;
        uint256 challengeWindow;
        uint256 commitPeriod;
        uint256 revealPeriod;
        uint256 wrongResultSlashBps;
        uint256 unavailableSlashBps;
        uint256 challengerRewardBps;
        uint256 bondBurnBps;
        address treasury;
    }

    struct Vote {
        bytes32 commitment;
        uint128 weight;
        bool revealed;
    }

    struct ResultState {
        uint128 openDisputes;
        bool overturned;
    }

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The InstructionIngestor's RESULT_TYPEHASH.
    bytes32 public constant RESULT_TYPEHASH = ResultTypedData.RESULT_TYPEHASH;
    uint256 internal constant BPS = 10_000;

    /*//////////////////////////////////////////////////////////////
                               IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDisputeManager
    IStakingRegistry public immutable registry;
    /// @inheritdoc IDisputeManager
    IInstructionIngestor public immutable ingestor;
    /// @dev The ingestor's EIP-712 domain separator on this chain.
    bytes32 internal immutable _domainSeparator;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    Params internal _params;
    /// @notice Receives forfeited bonds (minus the burned part).
    address public treasury;
    /// @inheritdoc IDisputeManager
    uint256 public disputeCount;
    /// @inheritdoc IDisputeManager
    uint256 public totalBurned;
    /// @notice Sum of {owed} over every account.
    uint256 public totalOwed;

    mapping(uint256 disputeId => Dispute) internal _disputes;
    mapping(uint256 disputeId => address[]) internal _signers;
    mapping(uint256 disputeId => mapping(address voter => Vote)) internal _votes;
    mapping(bytes32 resultAndClaim => uint256 disputeId) internal _disputeOfClaim;
    mapping(bytes32 resultHash => ResultState) internal _results;
    mapping(bytes32 originAndRequest => bool) internal _finalized;
    /// @inheritdoc IDisputeManager
    mapping(address account => uint256) public owed;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(
        address initialOwner,
        IStakingRegistry registry_,
        IInstructionIngestor ingestor_,
        ParamsInput memory p
    ) Ownable(initialOwner) {
        if (address(registry_) == address(0) || address(ingestor_) == address(0)) revert Dispute_ZeroAddress();
        registry = registry_;
        ingestor = ingestor_;
        _domainSeparator = ResultTypedData.domainSeparator(block.chainid, address(ingestor_));
        _setParams(p);
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL: DISPUTES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDisputeManager
    function challenge(
        Result calldata r,
        bytes[] calldata signatures,
        Kind kind,
        bytes32 claimedBodyHash
    ) external payable nonReentrant returns (uint256 disputeId) {
        // ---- checks
        Params memory p = _params;
        if (msg.value != p.bond) revert Dispute_WrongBond(msg.value, p.bond);
        bool validClaim =
            kind == Kind.WrongResult
                ? claimedBodyHash != bytes32(0) && claimedBodyHash != r.bodyHash
                : claimedBodyHash == bytes32(0);
        if (!validClaim) revert Dispute_InvalidClaim(kind, r.bodyHash, claimedBodyHash);
        uint256 windowEnd = _windowEnd(r);
        if (block.timestamp > windowEnd) {
            revert Dispute_WindowClosed(r.originChainId, r.requestId, windowEnd, block.timestamp);
        }
        (bytes32 resultHash, address[] memory signers) = _verifiedSigners(r, signatures);
        bytes32 claimKey = keccak256(abi.encode(resultHash, kind, claimedBodyHash));
        uint256 existing = _disputeOfClaim[claimKey];
        if (existing != 0) revert Dispute_AlreadyChallenged(resultHash, claimedBodyHash, existing);

        // ---- effects
        disputeId = ++disputeCount;
        _disputeOfClaim[claimKey] = disputeId;
        ++_results[resultHash].openDisputes;
        _signers[disputeId] = signers;
        Dispute storage d = _disputes[disputeId];
        d.challenger = msg.sender;
        d.openedAt = uint64(block.timestamp);
        d.kind = kind;
        d.state = State.Open;
        d.commitEnd = uint64(block.timestamp + p.commitPeriod);
        d.revealEnd = uint64(block.timestamp + p.commitPeriod + p.revealPeriod);
        d.originChainId = r.originChainId;
        d.requestId = r.requestId;
        d.resultHash = resultHash;
        d.resultBodyHash = r.bodyHash;
        d.claimedBodyHash = claimedBodyHash;
        d.bond = msg.value;
        _emitOpened(disputeId, d, signers);
    }

    /// @inheritdoc IDisputeManager
    function commitVote(uint256 disputeId, bytes32 commitment) external {
        Dispute storage d = _openDispute(disputeId);
        if (block.timestamp > d.commitEnd) revert Dispute_CommitClosed(disputeId, d.commitEnd, block.timestamp);
        Vote storage v = _votes[disputeId][msg.sender];
        if (v.commitment != bytes32(0)) revert Dispute_AlreadyCommitted(disputeId, msg.sender);
        uint256 weight = registry.watcherWeight(msg.sender);
        if (weight == 0) revert Dispute_NotWatcher(msg.sender);
        if (weight > type(uint128).max) weight = type(uint128).max;
        v.commitment = commitment;
        v.weight = uint128(weight);
        emit VoteCommitted(disputeId, msg.sender, commitment, weight);
    }

    /// @inheritdoc IDisputeManager
    function revealVote(uint256 disputeId, bool upholds, bytes32 salt) external {
        Dispute storage d = _openDispute(disputeId);
        if (block.timestamp <= d.commitEnd || block.timestamp > d.revealEnd) {
            revert Dispute_NotRevealPhase(disputeId, d.commitEnd, d.revealEnd, block.timestamp);
        }
        Vote storage v = _votes[disputeId][msg.sender];
        if (v.commitment == bytes32(0) || v.revealed) revert Dispute_NothingToReveal(disputeId, msg.sender);
        if (v.commitment != voteCommitment(disputeId, msg.sender, upholds, salt)) {
            revert Dispute_CommitmentMismatch(disputeId, msg.sender);
        }
        // stake added after committing does not count; stake taken away since does not either
        uint256 weight = registry.watcherWeight(msg.sender);
        if (weight > v.weight) weight = v.weight;
        v.revealed = true;
        if (upholds) d.upholdWeight += weight;
        else d.rejectWeight += weight;
        emit VoteRevealed(disputeId, msg.sender, upholds, weight);
    }

    /// @inheritdoc IDisputeManager
    function resolve(uint256 disputeId) external nonReentrant {
        // ---- checks
        Dispute storage d = _openDispute(disputeId);
        if (block.timestamp <= d.revealEnd) revert Dispute_RevealNotOver(disputeId, d.revealEnd, block.timestamp);

        // ---- effects
        Params memory p = _params;
        ResultState storage rs = _results[d.resultHash];
        --rs.openDisputes;
        uint256 bond = d.bond;
        if (d.upholdWeight > d.rejectWeight) {
            d.state = State.Upheld;
            rs.overturned = true;
            _credit(d.challenger, bond);
            // ---- interactions: each signer once per fault (the registry skips repeats)
            (uint256 slashed, uint256 reward) = _slashSigners(disputeId, d, p);
            emit DisputeResolved(disputeId, State.Upheld, d.upholdWeight, d.rejectWeight, slashed, reward, 0, 0);
        } else {
            d.state = State.Rejected;
            uint256 burned = (bond * p.bondBurnBps) / BPS;
            totalBurned += burned;
            _credit(treasury, bond - burned);
            emit DisputeResolved(
                disputeId,
                State.Rejected,
                d.upholdWeight,
                d.rejectWeight,
                0,
                0,
                burned,
                bond - burned
            );
        }
    }

    /// @inheritdoc IDisputeManager
    function finalize(Result calldata r, bytes[] calldata signatures) external nonReentrant {
        _finalize(r, signatures, true);
    }

    /// @inheritdoc IDisputeManager
    function finalizeBatch(
        Result[] calldata results,
        bytes[][] calldata signatures
    ) external nonReentrant returns (uint256 finalized) {
        if (results.length != signatures.length) {
            revert Dispute_BatchLengthMismatch(results.length, signatures.length);
        }
        for (uint256 i; i < results.length; ++i) {
            if (_finalize(results[i], signatures[i], false)) ++finalized;
        }
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
    function setParams(
        uint256 bond,
        uint256 challengeWindow,
        uint256 commitPeriod,
        uint256 revealPeriod,
        uint256 wrongResultSlashBps,
        uint256 unavailableSlashBps,
        uint256 challengerRewardBps,
        uint256 bondBurnBps,
        address treasury_
    ) external onlyOwner {
        _setParams(
            ParamsInput(
                bond,
                challengeWindow,
                commitPeriod,
                revealPeriod,
                wrongResultSlashBps,
                unavailableSlashBps,
                challengerRewardBps,
                bondBurnBps,
                treasury_
            )
        );
    }

    /*//////////////////////////////////////////////////////////////
                             EXTERNAL: VIEWS
    //////////////////////////////////////////////////////////////*/

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
    function disputeOf(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @inheritdoc IDisputeManager
    function signersOf(uint256 disputeId) external view returns (address[] memory) {
        return _signers[disputeId];
    }

    /// @inheritdoc IDisputeManager
    function phasesOf(uint256 disputeId) external view returns (uint256 commitEnd, uint256 revealEnd) {
        Dispute storage d = _disputes[disputeId];
        return (d.commitEnd, d.revealEnd);
    }

    /// @inheritdoc IDisputeManager
    function resultStatus(bytes32 resultHash) external view returns (uint256 openDisputes, bool overturned) {
        ResultState memory rs = _results[resultHash];
        return (rs.openDisputes, rs.overturned);
    }

    /// @inheritdoc IDisputeManager
    function isFinalized(uint256 originChainId, bytes32 requestId) external view returns (bool) {
        return _finalized[keccak256(abi.encode(originChainId, requestId))];
    }

    /// @notice The dispute parameters (see {setParams}).
    function params() external view returns (ParamsInput memory) {
        Params memory p = _params;
        return
            ParamsInput(
                p.bond,
                p.challengeWindow,
                p.commitPeriod,
                p.revealPeriod,
                p.wrongResultSlashBps,
                p.unavailableSlashBps,
                p.challengerRewardBps,
                p.bondBurnBps,
                treasury
            );
    }

    /// @notice The EIP-712 struct hash of `r` (what disputes and finalisation are keyed by).
    function resultHashOf(Result calldata r) public pure returns (bytes32) {
        return ResultTypedData.structHash(r);
    }

    /// @notice When the challenge window of the result for (originChainId, requestId) ends (0 if
    /// no result was ingested).
    function windowEndOf(uint256 originChainId, bytes32 requestId) public view returns (uint256) {
        uint256 at = ingestor.ingestedAt(originChainId, requestId);
        return at == 0 ? 0 : at + _params.challengeWindow;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _setParams(ParamsInput memory p) internal {
        if (
            p.bond == 0 ||
            p.bond > type(uint96).max ||
            p.challengeWindow == 0 ||
            p.commitPeriod == 0 ||
            p.revealPeriod == 0 ||
            p.challengeWindow > type(uint32).max ||
            p.commitPeriod > type(uint32).max ||
            p.revealPeriod > type(uint32).max ||
            p.commitPeriod + p.revealPeriod > 2 * p.challengeWindow ||
            p.wrongResultSlashBps > BPS ||
            p.unavailableSlashBps > BPS ||
            p.challengerRewardBps > BPS ||
            p.bondBurnBps > BPS
        ) revert Dispute_InvalidParams();
        if (p.treasury == address(0)) revert Dispute_ZeroAddress();
        // casts exact: every bound checked above
        _params = Params(
            uint96(p.bond),
            uint32(p.challengeWindow),
            uint32(p.commitPeriod),
            uint32(p.revealPeriod),
            uint16(p.wrongResultSlashBps),
            uint16(p.unavailableSlashBps),
            uint16(p.challengerRewardBps),
            uint16(p.bondBurnBps)
        );
        treasury = p.treasury;
        emit ParamsSet(
            p.bond,
            p.challengeWindow,
            p.commitPeriod,
            p.revealPeriod,
            p.wrongResultSlashBps,
            p.unavailableSlashBps,
            p.challengerRewardBps,
            p.bondBurnBps,
            p.treasury
        );
    }

    /// @dev Slashes every signer presented with the overturned result; the registry pays the
    /// challenger its share and the treasury the rest.
    function _slashSigners(
        uint256 disputeId,
        Dispute storage d,
        Params memory p
    ) internal returns (uint256 slashed, uint256 reward) {
        uint256 slashBps = d.kind == Kind.WrongResult ? p.wrongResultSlashBps : p.unavailableSlashBps;
        bytes32 faultId = keccak256(abi.encode(d.resultHash, d.kind));
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

    function _emitOpened(uint256 disputeId, Dispute storage d, address[] memory signers) internal {
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

    /// @dev Finalises `r` (see {finalize}). A state that forbids it reverts with its error when
    /// `strict`, else emits {FinalizeSkipped} with that error and returns false. Invalid
    /// signatures always revert: they are the caller's mistake, not the result's state.
    function _finalize(Result calldata r, bytes[] calldata signatures, bool strict) internal returns (bool) {
        // ---- checks
        (bytes memory blocked, bytes32 requestKey) = _requestBlocker(r);
        if (blocked.length != 0) return _skip(strict, r, blocked);
        (bytes32 resultHash, address[] memory signers) = _verifiedSigners(r, signatures);
        ResultState memory rs = _results[resultHash];
        if (rs.overturned)
            return _skip(strict, r, abi.encodeWithSelector(Dispute_ResultOverturned.selector, resultHash));
        if (rs.openDisputes != 0) {
            return
                _skip(strict, r, abi.encodeWithSelector(Dispute_ResultDisputed.selector, resultHash, rs.openDisputes));
        }
        (address[] memory active, uint256 threshold) = _activeOf(signers);
        if (active.length < threshold) {
            return
                _skip(
                    strict,
                    r,
                    abi.encodeWithSelector(Dispute_NotEnoughActiveSigners.selector, active.length, threshold)
                );
        }

        // ---- effects
        _finalized[requestKey] = true;
        emit ResultFinalized(r.requestId, r.originChainId, resultHash, active);

        // ---- interactions
        registry.recordFinalized(active);
        return true;
    }

    /// @dev Why the request of `r` cannot be finalised now (not ingested, window open, already
    /// final) as an encoded error, empty when it can; and its key in {_finalized}.
    function _requestBlocker(Result calldata r) internal view returns (bytes memory blocked, bytes32 requestKey) {
        uint256 windowEnd = windowEndOf(r.originChainId, r.requestId);
        if (windowEnd == 0) {
            return (abi.encodeWithSelector(Dispute_NotIngested.selector, r.originChainId, r.requestId), 0);
        }
        if (block.timestamp <= windowEnd) {
            blocked = abi.encodeWithSelector(
                Dispute_WindowOpen.selector,
                r.originChainId,
                r.requestId,
                windowEnd,
                block.timestamp
            );
            return (blocked, 0);
        }
        requestKey = keccak256(abi.encode(r.originChainId, r.requestId));
        if (_finalized[requestKey]) {
            blocked = abi.encodeWithSelector(Dispute_AlreadyFinalized.selector, r.originChainId, r.requestId);
        }
    }

    function _skip(bool strict, Result calldata r, bytes memory err) internal returns (bool) {
        if (strict) {
            assembly ("memory-safe") {
                revert(add(err, 32), mload(err))
            }
        }
        emit FinalizeSkipped(r.requestId, r.originChainId, bytes4(err));
        return false;
    }

    /// @dev The signers that are active operators now, and the threshold they must reach.
    function _activeOf(address[] memory signers) internal view returns (address[] memory active, uint256 threshold) {
        active = new address[](signers.length);
        uint256 n;
        for (uint256 i; i < signers.length; ++i) {
            if (registry.isActive(signers[i])) active[n++] = signers[i];
        }
        threshold = registry.threshold();
        // shrink the array to the active signers found
        assembly ("memory-safe") {
            mstore(active, n)
        }
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

    function _windowEnd(Result calldata r) internal view returns (uint256 windowEnd) {
        windowEnd = windowEndOf(r.originChainId, r.requestId);
        if (windowEnd == 0) revert Dispute_NotIngested(r.originChainId, r.requestId);
    }

    /// @dev Recovers the signers of `r` under the ingestor's domain: at least the registry's
    /// threshold, strictly ascending, low s, each an operator the registry knows.
    function _verifiedSigners(
        Result calldata r,
        bytes[] calldata signatures
    ) internal view returns (bytes32 resultHash, address[] memory signers) {
        resultHash = resultHashOf(r);
        bytes32 digest = MessageHashUtils.toTypedDataHash(_domainSeparator, resultHash);
        uint256 n = signatures.length;
        uint256 threshold = registry.threshold();
        if (n == 0 || n < threshold) revert Dispute_NotEnoughSignatures(n, threshold);
        signers = new address[](n);
        address previous;
        for (uint256 i; i < n; ++i) {
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert Dispute_InvalidSignature(i);
            if (signer <= previous) revert Dispute_SignersNotAscending(i, signer, previous);
            (bool known, ) = registry.indexOf(signer);
            if (!known) revert Dispute_UnknownSigner(signer);
            signers[i] = signer;
            previous = signer;
        }
    }
}
