// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title RequestIds
/// @notice How a request id binds a request to its program and input (SPEC 3.2), so a result for
/// another program or input is rejected without storing either.
/// @dev requestId = bytes32((nonce << 192) | uint192(uint256(keccak256(abi.encode(chainid, oracle,
/// requester, nonce, programId, inputHash))))), with `nonce` the oracle's global 64-bit request nonce.
/// The nonce sits in the top 64 bits so a settlement can recompute the id from the Result's
/// `programId` and `inputHash` and the requester of the escrow record; 192 bits of hash keep a
/// second preimage (another program or input with the same id) out of reach (2^192 work). The
/// offchain mirror is `protocol/`'s requestId helper.
library RequestIds {
    uint256 internal constant NONCE_SHIFT = 192;

    /// @dev The id of the request number `nonce` of `requester` on `oracle` (this chain).
    function compute(
        address oracle,
        address requester,
        uint256 nonce,
        bytes32 programId,
        bytes32 inputHash
    ) internal view returns (bytes32 requestId) {
        assembly ("memory-safe") {
            // abi.encode of six static words, hashed in the free memory without moving the pointer
            let p := mload(0x40)
            mstore(p, chainid())
            mstore(add(p, 0x20), and(oracle, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x40), and(requester, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x60), nonce)
            mstore(add(p, 0x80), programId)
            mstore(add(p, 0xa0), inputHash)
            let h := keccak256(p, 0xc0)
            requestId := or(shl(NONCE_SHIFT, nonce), shr(64, shl(64, h)))
        }
    }

    /// @dev The oracle's request nonce a request id was made with (its top 64 bits).
    function nonceOf(bytes32 requestId) internal pure returns (uint256) {
        return uint256(requestId) >> NONCE_SHIFT;
    }
}
