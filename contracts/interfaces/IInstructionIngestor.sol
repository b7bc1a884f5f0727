// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Instruction, Result} from "./IInstruction.sol";
import {IOperatorSet} from "./IOperatorSet.sol";

/// @title IInstructionIngestor
/// @notice Accepts quorum-signed results (EIP-712 `Result`, domain "Versatus" version "1" on this
/// chain and this contract) and hands their instructions to the Disperser (SPEC 3.2).
/// @dev Signatures are 65-byte (r, s, v) ECDSA signatures with low s, ordered by strictly
/// increasing signer address: that one rule rejects duplicates and makes the set canonical.
interface IInstructionIngestor {
    /// @notice The caller may not post results (posting is restricted to posters).
    error Ingestor_NotPoster(address caller);
    /// @notice Fewer valid signatures than the threshold. `requestId` is the batch's struct hash
    /// ({batchDigest}) for the signatures of {ingestAttested}, likewise in the two errors below.
    error Ingestor_NotEnoughSignatures(bytes32 requestId, uint256 provided, uint256 threshold);
    /// @notice A signature does not recover (malformed, high s, wrong length).
    error Ingestor_InvalidSignature(bytes32 requestId, uint256 index);
    /// @notice Signers must be strictly increasing: a duplicate or reordered signature.
    error Ingestor_SignersNotAscending(bytes32 requestId, uint256 index, address signer, address previous);
    /// @notice The instructions do not hash to the signed `instructionsHash`.
    error Ingestor_InstructionsMismatch(bytes32 requestId, bytes32 signed, bytes32 actual);
    /// @notice The result was already ingested for (originChainId, requestId).
    error Ingestor_AlreadyIngested(bytes32 requestId, uint256 originChainId);
    /// @notice Unknown status value.
    error Ingestor_InvalidStatus(bytes32 requestId, uint8 status);
    /// @notice The batch arrays differ in length.
    error Ingestor_BatchLengthMismatch(uint256 results, uint256 instructions, uint256 signatures, uint256 daPointers);
    /// @notice The same-chain request cannot be settled by a result.
    /// @dev reason: 2 = refunded, 3 = no such request, 4 = deadline passed (1 = ingested uses {Ingestor_AlreadyIngested}).
    error Ingestor_RequestNotSettleable(bytes32 requestId, uint8 reason);
    /// @notice A cross-chain result with PROGRAM_ERROR status has nothing to do here.
    error Ingestor_RemoteProgramError(bytes32 requestId, uint256 originChainId);
    /// @notice The zero address is not allowed here.
    error Ingestor_ZeroAddress();
    /// @notice The same-chain Result names another program or input than its request (SPEC 3.2):
    /// the request id recomputed with `programId` and `inputHash` is not `requestId`.
    error Ingestor_ResultNotBound(bytes32 requestId, bytes32 programId, bytes32 inputHash);
    /// @notice {ingestFromBatch} and {ingestAttestedOne} are the ingestor's own entry points, for
    /// {ingestBatch} and {ingestAttested} only.
    error Ingestor_NotBatch(address caller);
    /// @notice {ingestAttested} got no results: there is nothing to attest.
    error Ingestor_EmptyBatch();

    /// @notice Emitted for every result ingested (SPEC 3.2, normative).
    event ResultIngested(
        bytes32 indexed requestId,
        uint256 indexed originChainId,
        uint8 status,
        bytes32 bodyHash,
        bytes daPointer
    );
    /// @notice Emitted when a batch skips a result; nothing of it changed state.
    /// @dev reason: 1 = already ingested, 2 = refunded, 3 = no such request, 4 = deadline passed,
    /// 5 = not bound to its request (another program or input), 6 = rejected (any other failure:
    /// signatures, threshold, instructions hash, budget, instructions on a failed result, ...;
    /// {ResultRejected} carries the error selector).
    event ResultSkipped(bytes32 indexed requestId, uint256 indexed originChainId, uint8 reason);
    /// @notice Emitted with {ResultSkipped} reason 6: the selector of the error the result failed with
    /// (the error {ingest} would revert with for it alone).
    event ResultRejected(bytes32 indexed requestId, uint256 indexed originChainId, bytes4 error);
    /// @notice Emitted by {ingestAttested} once per batch, before its results: the attested batch
    /// (its EIP-712 `ResultBatch` struct hash), how many results it holds and which operator
    /// indices signed it (bit i for index i).
    event BatchAttested(bytes32 indexed batchHash, uint256 results, uint256 signerBitmap);
    /// @notice Emitted when a poster is added or removed.
    event PosterSet(address indexed poster, bool allowed);
    /// @notice Emitted when posting is opened to everyone or restricted again.
    event OpenPostingSet(bool open);
    /// @notice Emitted when the operator set changes.
    event OperatorSetChanged(address indexed previous, address indexed current);

    /// @notice Verifies `signatures` over `r` and disperses `instructions`.
    /// @dev Requirements: poster role (unless open); status 0 or 1; instructions hash to
    /// r.instructionsHash; at least threshold valid, ascending signatures of active operators; never
    /// ingested before for (originChainId, requestId); same-chain: the request is open, unexpired and
    /// matches programId and inputHash ({Ingestor_ResultNotBound} otherwise). Records the ingestion
    /// time and the commitment to the Result and its signers ({ingestionOf}). Emits {ResultIngested}.
    function ingest(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes[] calldata signatures,
        bytes calldata daPointer
    ) external;

    /// @notice Ingests many results in one transaction. A result that cannot settle or fails any
    /// check is skipped with {ResultSkipped} (and {ResultRejected}) and changes nothing; the rest of
    /// the batch lands, so one hostile result never reverts a batch.
    /// @dev Requirements: poster role (unless open); equal array lengths. Each result runs in a
    /// call of this contract to {ingestFromBatch}, whose revert undoes that result alone.
    function ingestBatch(
        Result[] calldata results,
        Instruction[][] calldata instructions,
        bytes[][] calldata signatures,
        bytes[] calldata daPointers
    ) external;

    /// @notice One result of {ingestBatch}: same checks and effects as {ingest}, but returns the
    /// skip reason (1..5) instead of reverting for it.
    /// @dev Requirements: called by this contract from within {ingestBatch} ({Ingestor_NotBatch}).
    function ingestFromBatch(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes[] calldata signatures,
        bytes calldata daPointer
    ) external returns (uint8 skipReason);

    /// @notice Ingests a batch the quorum attested as a whole: one signature per operator over the
    /// EIP-712 `ResultBatch(Result[] results)` of all `results`, so the batch pays its signatures
    /// once and each result only its own calldata and state (issue 14). Signing a batch attests each
    /// of its Results: equivocation and fraud proofs accept the same signature with the batch's
    /// struct hashes appended ({ResultSignatures}). Each result is checked and settled as by {ingest}
    /// and is recorded with the batch's signers ({ingestionOf}); one that cannot settle or fails a
    /// check is skipped with {ResultSkipped} (and {ResultRejected}) and the rest lands.
    /// @dev Requirements: poster role (unless open); at least one result; equal array lengths; at
    /// least threshold valid, ascending signatures of active operators over the whole batch (any
    /// change to any result, or to their order, invalidates them and reverts the call).
    /// Emits {BatchAttested}, then per result {ResultIngested} or {ResultSkipped}.
    /// @param results The attested Results, in the signed order.
    /// @param instructions Each Result's Instruction[] (hashing to its `instructionsHash`).
    /// @param daPointers Each Result's execution-record pointer, as in {ingest}.
    /// @param signatures 65-byte signatures over {batchDigest}, by strictly ascending signer address.
    function ingestAttested(
        Result[] calldata results,
        Instruction[][] calldata instructions,
        bytes[] calldata daPointers,
        bytes[] calldata signatures
    ) external;

    /// @notice One result of {ingestAttested}, whose batch signatures were verified: the per-result
    /// checks and effects of {ingest}, returning the skip reason (1..5) instead of reverting for it.
    /// @dev Requirements: called by this contract from within {ingestAttested} ({Ingestor_NotBatch}).
    /// @param r The Result. @param instructions Its Instruction[]. @param daPointer Its DA pointer.
    /// @param set The operator set the batch was verified against.
    /// @param signerBitmap The batch signers' indices. @param signerCount How many signed.
    /// @param signersCommitment {ResultTypedData.signersCommitment} of `r` and the batch's signers.
    function ingestAttestedOne(
        Result calldata r,
        Instruction[] calldata instructions,
        bytes calldata daPointer,
        address set,
        uint256 signerBitmap,
        uint256 signerCount,
        bytes32 signersCommitment
    ) external returns (uint8 skipReason);

    /// @notice The EIP-712 digest operators sign to attest `results` as one batch on this chain.
    function batchDigest(Result[] calldata results) external view returns (bytes32);

    /// @notice Whether a result was ingested for (originChainId, requestId).
    function isIngested(uint256 originChainId, bytes32 requestId) external view returns (bool);

    /// @notice Block timestamp at which the result for (originChainId, requestId) was ingested on
    /// this chain, or 0 if none was: the start of its dispute window.
    function ingestedAt(uint256 originChainId, bytes32 requestId) external view returns (uint256);

    /// @notice When a result of (originChainId, requestId) was ingested (0 if never) and the
    /// commitment to it and its signers ({ResultTypedData.signersCommitment}) recorded then.
    /// @dev Same-chain: kept in the request's escrow slot by the oracle; other chains: in this
    /// contract's slot of (originChainId, requestId). The accused of a dispute are exactly the
    /// signers whose ascending list hashes to this commitment with the Result.
    function ingestionOf(
        uint256 originChainId,
        bytes32 requestId
    ) external view returns (uint256 ingestedAt_, bytes32 signersCommitment);

    /// @notice The EIP-712 digest operators sign for `r` on this chain.
    function resultDigest(Result calldata r) external view returns (bytes32);

    /// @notice The operator set signatures are checked against.
    function operatorSet() external view returns (IOperatorSet);
}
