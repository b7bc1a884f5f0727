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
