// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInstructionIngestor} from "./interfaces/IInstructionIngestor.sol";
import {IDisperser} from "./interfaces/IDisperser.sol";
import {IOperatorSet} from "./interfaces/IOperatorSet.sol";
import {IExecutableOracle} from "./interfaces/IExecutableOracle.sol";
import {Instruction, Result, Ops, ResultTypedData} from "./interfaces/IInstruction.sol";
import {ResultSignatures} from "./core/ResultSignatures.sol";
import {RemoteIngestion, RemoteIngestionLib} from "./core/RemoteIngestion.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title InstructionIngestor
/// @notice Verifies quorum-signed results and hands them to the Disperser (SPEC 3.2).
/// @dev Signatures: 65 bytes (r, s, v), low s only (OpenZeppelin ECDSA rejects malleable ones),
/// signers strictly ascending by address. A result is accepted once per (originChainId, requestId):
/// same-chain results through the request's escrow status, other chains' results through
/// {_remoteIngestedAt}. The domain separator binds the chain id and this contract, so a result signed
/// for one chain cannot be replayed on another.
contract InstructionIngestor is IInstructionIngestor, EIP712, Ownable2Step, ReentrancyGuardTransient {
    using RemoteIngestionLib for RemoteIngestion;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice keccak256("Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)")
    bytes32 public constant RESULT_TYPEHASH = ResultTypedData.RESULT_TYPEHASH;

    uint8 internal constant SKIP_INGESTED = 1;
    uint8 internal constant SKIP_NOT_BOUND = 5;
    uint8 internal constant SKIP_REJECTED = 6;

    /// @dev What {ingestAttested} verified once for all of a batch's results.
    struct Attestation {
        IOperatorSet set;
        uint256 signerBitmap;
        address[] signers;
    }

    /// @notice The oracle's dispersal side (the ExecutableOracle of this chain).
    IDisperser public immutable disperser;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IInstructionIngestor
    IOperatorSet public operatorSet;
    /// @notice When true, anyone may post results (the signatures are what matters).
    bool public openPosting;
    /// @notice Accounts allowed to post results while posting is restricted.
    mapping(address account => bool allowed) public isPoster;
    /// @dev keccak256(originChainId, requestId) of another chain's result => its signers
    /// commitment and ingestion time.
    mapping(bytes32 originAndRequest => RemoteIngestion ingestion) private _remoteIngestedAt;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(
        address initialOwner,
        IDisperser disperser_,
        IOperatorSet operatorSet_
    ) EIP712("Versatus", "1") Ownable(initialOwner) {
        if (address(disperser_) == address(0) || address(operatorSet_) == address(0)) revert Ingestor_ZeroAddress();
        disperser = disperser_;
        operatorSet = operatorSet_;
        emit OperatorSetChanged(address(0), address(operatorSet_));
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IInstructionIngestor
    function ingest(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes[] calldata signatures,
        bytes calldata daPointer
    ) external nonReentrant {
        _checkPoster();
        uint8 skipReason = _ingest(r, instructions, signatures, daPointer);
        if (skipReason == SKIP_INGESTED) revert Ingestor_AlreadyIngested(r.requestId, r.originChainId);
        if (skipReason == SKIP_NOT_BOUND) revert Ingestor_ResultNotBound(r.requestId, r.programId, r.inputHash);
        if (skipReason != 0) revert Ingestor_RequestNotSettleable(r.requestId, skipReason);
    }

    /// @inheritdoc IInstructionIngestor
    function ingestBatch(
        Result[] calldata results,
        Instruction[][] calldata instructions,
        bytes[][] calldata signatures,
        bytes[] calldata daPointers
    ) external nonReentrant {
        _checkPoster();
        uint256 n = results.length;
        if (instructions.length != n || signatures.length != n || daPointers.length != n) {
            revert Ingestor_BatchLengthMismatch(n, instructions.length, signatures.length, daPointers.length);
        }
        for (uint256 i; i < n; ++i) {
            Result calldata r = results[i];
            // Each result in its own call frame: whatever it fails with reverts that frame alone,
            // so a hostile result costs the poster its gas and never sinks the others.
            try this.ingestFromBatch(r, instructions[i], signatures[i], daPointers[i]) returns (uint8 skipReason) {
                if (skipReason != 0) emit ResultSkipped(r.requestId, r.originChainId, skipReason);
            } catch (bytes memory reason) {
                emit ResultSkipped(r.requestId, r.originChainId, SKIP_REJECTED);
                emit ResultRejected(r.requestId, r.originChainId, bytes4(reason));
            }
        }
    }

    /// @inheritdoc IInstructionIngestor
    function ingestFromBatch(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes[] calldata signatures,
        bytes calldata daPointer
    ) external returns (uint8 skipReason) {
        // Only this contract, inside ingestBatch (which holds the guard and checked the poster):
        // a dispersal target cannot enter here, and neither can anyone outside a batch.
        if (msg.sender != address(this) || !_reentrancyGuardEntered()) revert Ingestor_NotBatch(msg.sender);
        return _ingest(r, instructions, signatures, daPointer);
    }

    /// @inheritdoc IInstructionIngestor
    function ingestAttested(
        Result[] calldata results,
        Instruction[][] calldata instructions,
        bytes[] calldata daPointers,
        bytes[] calldata signatures
    ) external nonReentrant {
        _checkPoster();
        uint256 n = results.length;
        if (n == 0) revert Ingestor_EmptyBatch();
        if (instructions.length != n || daPointers.length != n) {
            revert Ingestor_BatchLengthMismatch(n, instructions.length, signatures.length, daPointers.length);
        }
        // ---- checks: the batch's signatures, once
        bytes32[] memory hashes = _structHashes(results);
        bytes32 batchHash = ResultSignatures.batchStructHash(keccak256(abi.encodePacked(hashes)));
        Attestation memory a;
        a.set = operatorSet;
        (a.signerBitmap, a.signers) = _verifySigners(a.set, batchHash, _hashTypedDataV4(batchHash), signatures);
        emit BatchAttested(batchHash, n, a.signerBitmap);
        // ---- each result in its own call frame, as in ingestBatch
        for (uint256 i; i < n; ++i) {
            _ingestAttestedAt(results[i], instructions[i], daPointers[i], a, hashes[i]);
        }
    }

    /// @inheritdoc IInstructionIngestor
    function ingestAttestedOne(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes calldata daPointer,
        address set,
        uint256 signerBitmap,
        uint256 signerCount,
        bytes32 signersCommitment
    ) external returns (uint8 skipReason) {
        // Only this contract, inside ingestAttested (which holds the guard, checked the poster and
        // verified the batch's signatures): the arguments after `daPointer` are its own findings.
        if (msg.sender != address(this) || !_reentrancyGuardEntered()) revert Ingestor_NotBatch(msg.sender);
        _checkResult(r, instructions);
        return _settle(r, instructions, daPointer, set, signerBitmap, signerCount, signersCommitment);
    }

    /// @notice Adds or removes a poster.
    /// @dev Requirements: owner; non-zero account. Emits {PosterSet}.
    function setPoster(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert Ingestor_ZeroAddress();
        isPoster[account] = allowed;
        emit PosterSet(account, allowed);
    }

    /// @notice Opens posting to everyone, or restricts it to posters again.
    /// @dev Requirements: owner. Emits {OpenPostingSet}.
    function setOpenPosting(bool open) external onlyOwner {
        openPosting = open;
        emit OpenPostingSet(open);
    }

    /// @notice Points the ingestor at another operator set (e.g. the staked registry).
    /// @dev Requirements: owner; non-zero. Fee ledgers are per set, so fees earned under the old
    /// set stay claimable from it. Emits {OperatorSetChanged}.
    function setOperatorSet(IOperatorSet newSet) external onlyOwner {
        if (address(newSet) == address(0)) revert Ingestor_ZeroAddress();
        IOperatorSet previous = operatorSet;
        operatorSet = newSet;
        emit OperatorSetChanged(address(previous), address(newSet));
    }

    /// @inheritdoc IInstructionIngestor
    function isIngested(uint256 originChainId, bytes32 requestId) external view returns (bool) {
        return ingestedAt(originChainId, requestId) != 0;
    }

    /// @inheritdoc IInstructionIngestor
    function ingestedAt(uint256 originChainId, bytes32 requestId) public view returns (uint256 ingestedAt_) {
        (ingestedAt_, ) = ingestionOf(originChainId, requestId);
    }

    /// @inheritdoc IInstructionIngestor
    function ingestionOf(
        uint256 originChainId,
        bytes32 requestId
    ) public view returns (uint256 ingestedAt_, bytes32 signersCommitment) {
        if (originChainId != block.chainid) {
            RemoteIngestion ingestion = _remoteIngestedAt[_remoteKey(originChainId, requestId)];
            return (ingestion.ingestedAt(), ingestion.commitment());
        }
        return IExecutableOracle(address(disperser)).settlementOf(requestId);
    }

    /// @inheritdoc IInstructionIngestor
    function resultDigest(Result calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(ResultTypedData.structHash(r));
    }

    /// @inheritdoc IInstructionIngestor
    function batchDigest(Result[] calldata results) external view returns (bytes32) {
        return _hashTypedDataV4(ResultSignatures.batchStructHash(keccak256(abi.encodePacked(_structHashes(results)))));
    }

    /// @notice The EIP-712 domain separator of this chain and contract.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _checkPoster() internal view {
        if (!openPosting && !isPoster[msg.sender]) revert Ingestor_NotPoster(msg.sender);
    }

    /// @dev Verifies and disperses one result. Returns 0 when ingested, else why nothing happened.
    function _ingest(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes[] calldata signatures,
        bytes calldata daPointer
    ) internal returns (uint8 skipReason) {
        // ---- checks
        (IOperatorSet set, uint256 signerBitmap, bytes32 commitment) = _verify(r, instructions, signatures);
        return _settle(r, instructions, daPointer, address(set), signerBitmap, signatures.length, commitment);
    }

    /// @dev Settles one verified result: same-chain through the disperser (which settles the escrow
    /// before it calls anything), other chains' through this contract's replay slot. Returns 0 when
    /// ingested, else why nothing happened.
    function _settle(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes calldata daPointer,
        address set,
        uint256 signerBitmap,
        uint256 signerCount,
        bytes32 commitment
    ) internal returns (uint8 skipReason) {
        if (r.originChainId == block.chainid) {
            skipReason = disperser.disperse(r, instructions, set, signerBitmap, signerCount, commitment);
            if (skipReason != 0) return skipReason;
        } else {
            if (r.status != Ops.STATUS_OK) revert Ingestor_RemoteProgramError(r.requestId, r.originChainId);
            bytes32 key = _remoteKey(r.originChainId, r.requestId);
            if (!_remoteIngestedAt[key].isEmpty()) return SKIP_INGESTED;
            // Non-zero: the time is (block timestamps are never 0 on a live chain).
            _remoteIngestedAt[key] = RemoteIngestionLib.pack(commitment, block.timestamp);
            disperser.disperseRemote(r, instructions);
        }
        emit ResultIngested(r.requestId, r.originChainId, r.status, r.bodyHash, daPointer);
    }

    /// @dev Checks status and instructions hash, then the signatures. Returns the operator set, the
    /// bitmap of the signers' indices and the commitment to the Result and its signers.
    function _verify(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes[] calldata signatures
    ) internal view returns (IOperatorSet set, uint256 signerBitmap, bytes32 commitment) {
        _checkResult(r, instructions);
        set = operatorSet;
        bytes32 structHash = ResultTypedData.structHash(r);
        address[] memory signers;
        (signerBitmap, signers) = _verifySigners(set, r.requestId, _hashTypedDataV4(structHash), signatures);
        commitment = ResultTypedData.signersCommitment(structHash, signers);
    }

    /// @dev One result of {ingestAttested}, in its own call frame: a failure skips it alone.
    function _ingestAttestedAt(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes calldata daPointer,
        Attestation memory a,
        bytes32 structHash
    ) internal {
        try
            this.ingestAttestedOne(
                r,
                instructions,
                daPointer,
                address(a.set),
                a.signerBitmap,
                a.signers.length,
                ResultTypedData.signersCommitment(structHash, a.signers)
            )
        returns (uint8 skipReason) {
            if (skipReason != 0) emit ResultSkipped(r.requestId, r.originChainId, skipReason);
        } catch (bytes memory reason) {
            emit ResultSkipped(r.requestId, r.originChainId, SKIP_REJECTED);
            emit ResultRejected(r.requestId, r.originChainId, bytes4(reason));
        }
    }

    /// @dev The checks of a Result that need no signature: a known status, and instructions that
    /// hash to the signed `instructionsHash`.
    function _checkResult(Result calldata r, Instruction[] calldata instructions) internal pure {
        if (r.status > Ops.STATUS_PROGRAM_ERROR) revert Ingestor_InvalidStatus(r.requestId, r.status);
        bytes32 actual = keccak256(abi.encode(instructions));
        if (actual != r.instructionsHash) revert Ingestor_InstructionsMismatch(r.requestId, r.instructionsHash, actual);
    }

    /// @dev The struct hashes of `results`, in order.
    function _structHashes(Result[] calldata results) internal pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](results.length);
        for (uint256 i; i < results.length; ++i) hashes[i] = ResultTypedData.structHash(results[i]);
    }

    /// @dev Recovers every signer (ascending, low s), checks them against the operator set and the
    /// threshold, and returns the bitmap of their indices and the signers.
    function _verifySigners(
        IOperatorSet set,
        bytes32 requestId,
        bytes32 digest,
        bytes[] calldata signatures
    ) internal view returns (uint256 signerBitmap, address[] memory signers) {
        uint256 n = signatures.length;
        signers = new address[](n);
        address previous;
        for (uint256 i; i < n; ++i) {
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert Ingestor_InvalidSignature(requestId, i);
            if (signer <= previous) revert Ingestor_SignersNotAscending(requestId, i, signer, previous);
            signers[i] = signer;
            previous = signer;
        }
        uint256 threshold;
        (threshold, signerBitmap) = set.checkSigners(signers);
        if (n == 0 || n < threshold) revert Ingestor_NotEnoughSignatures(requestId, n, threshold);
    }

    function _remoteKey(uint256 originChainId, bytes32 requestId) internal pure returns (bytes32) {
        return keccak256(abi.encode(originChainId, requestId));
    }
}
