// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice One step of a result's dispersal (SPEC 3.3, normative encoding).
/// @dev `op`: 0 TRANSFER, 1 CALL, 2 MINT, 3 BURN, 4 CREATE.
struct Instruction {
    uint8 op;
    address target;
    uint256 amount;
    bytes data;
}

/// @notice The EIP-712 struct a quorum signs (SPEC 3.2, normative).
struct Result {
    bytes32 requestId;
    uint256 originChainId;
    bytes32 programId;
    bytes32 inputHash;
    uint8 status;
    bytes32 instructionsHash;
    bytes32 bodyHash;
}

/// @dev Opcodes and statuses shared by the ingestor and the disperser.
library Ops {
    uint8 internal constant TRANSFER = 0;
    uint8 internal constant CALL = 1;
    uint8 internal constant MINT = 2;
    uint8 internal constant BURN = 3;
    uint8 internal constant CREATE = 4;

    uint8 internal constant STATUS_OK = 0;
    uint8 internal constant STATUS_PROGRAM_ERROR = 1;
}

/// @dev The EIP-712 typed data of a Result (SPEC 3.2), in one place for the ingestor that accepts
/// it and the registry and dispute manager that judge signatures made for that ingestor.
library ResultTypedData {
    bytes32 internal constant RESULT_TYPEHASH = keccak256(
        "Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 internal constant NAME_HASH = keccak256("Versatus");
    bytes32 internal constant VERSION_HASH = keccak256("1");

    /// @dev The struct hash of `r`.
    function structHash(Result calldata r) internal pure returns (bytes32) {
        return keccak256(abi.encode(RESULT_TYPEHASH, r));
    }

    /// @dev What the ingestor records of an ingestion for later disputes: the Result and every
    /// signer it accepted (ascending), as 208 bits so it packs with a 40-bit time and an 8-bit status
    /// in one slot. The accused of a dispute are exactly these signers.
    function signersCommitment(bytes32 resultStructHash, address[] memory signers) internal pure returns (bytes32) {
        return bytes32(uint256(keccak256(abi.encode(resultStructHash, signers))) >> 48);
    }

    /// @dev The domain separator of the ingestor at `ingestor` on chain `chainId`.
    function domainSeparator(uint256 chainId, address ingestor) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, chainId, ingestor));
    }
}
