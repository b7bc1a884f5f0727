// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @title ResultSignatures
/// @notice The one rule for what an operator's signature on a Result is (SPEC 3.2, issue 14).
/// An operator attests a Result in one of two EIP-712 forms, both in the ingestor's domain:
/// - a **result signature**: over `Result(...)` itself, 65 bytes (r, s, v);
/// - a **batch attestation**: over `ResultBatch(Result[] results)`, which attests every Result of
///   the batch at once. As evidence for one of its Results it is written as the 65-byte signature
///   followed by the struct hashes of all the batch's Results in order (65 + 32k bytes, k >= 1),
///   one of which must be that Result's.
/// Signing a batch is signing each of its Results: an equivocation or a broken output rule proven
/// with batch attestations is slashed exactly like one proven with result signatures.
/// @dev EIP-712 encodes a `Result[]` member as keccak256 of the concatenated struct hashes, so
/// `batchStructHash(keccak256(abi.encodePacked(structHashes)))` is what wallets (viem's
/// `signTypedData` with the `ResultBatch` type) sign.
library ResultSignatures {
    /// @dev keccak256("ResultBatch(Result[] results)Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)")
    bytes32 internal constant BATCH_TYPEHASH = keccak256(
        "ResultBatch(Result[] results)Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"
    );

    /// @dev Length of an (r, s, v) signature.
    uint256 internal constant SIGNATURE_LENGTH = 65;

    /// @dev The struct hash of a `ResultBatch` whose results' struct hashes concatenate to
    /// `resultsHash` (= keccak256 of the concatenation).
    function batchStructHash(bytes32 resultsHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(BATCH_TYPEHASH, resultsHash));
    }

    /// @dev The EIP-712 digest `evidence` signs when it attests the Result with struct hash
    /// `resultStructHash` under `domainSeparator`, and its (r, s, v) part. `ok` is false when the
    /// evidence is neither 65 bytes nor 65 bytes plus whole words that include `resultStructHash`.
    function digestOf(
        bytes32 domainSeparator,
        bytes32 resultStructHash,
        bytes calldata evidence
    ) internal pure returns (bytes32 digest, bytes calldata rsv, bool ok) {
        rsv = evidence[0:0];
        uint256 length = evidence.length;
        if (length < SIGNATURE_LENGTH || (length - SIGNATURE_LENGTH) % 32 != 0) return (digest, rsv, false);
        rsv = evidence[:SIGNATURE_LENGTH];
        if (length == SIGNATURE_LENGTH) {
            return (MessageHashUtils.toTypedDataHash(domainSeparator, resultStructHash), rsv, true);
        }
        bytes calldata leaves = evidence[SIGNATURE_LENGTH:];
        bool member;
        for (uint256 offset; offset < leaves.length; offset += 32) {
            if (bytes32(leaves[offset:offset + 32]) == resultStructHash) {
                member = true;
                break;
            }
        }
        if (!member) return (digest, rsv, false);
        bytes32 resultsHash = keccak256(leaves);
        return (MessageHashUtils.toTypedDataHash(domainSeparator, batchStructHash(resultsHash)), rsv, true);
    }
}
