// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IDisperser} from "../interfaces/IDisperser.sol";
import {IOmniToken} from "../interfaces/IOmniToken.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title BoundedCall
/// @notice Calls into code a result names (CALL and TRANSFER targets, refund receivers, tokens) that
/// cannot sink the caller: each gets a fixed gas limit, at most `MAX_RETURN_COPY` bytes of its
/// return data are copied, and the caller refuses to start one it cannot give its whole limit
/// (SPEC 3.2, "A target cannot sink a dispersal").
/// @dev What a hostile callee can cost the caller is then its gas limit plus a constant: it can
/// burn its own limit, and its return data (however large) costs only what the callee paid to
/// produce it. The gas check: CALL gives the callee min(limit, 63/64 of what is left after the
/// call's own cost), so `limit + limit/63 + CALL_OVERHEAD` left before the call guarantees the
/// callee its whole limit; with less, the callee could fail only because the poster chose a low
/// gas limit, and a failure there would move value (a refund instead of a payment).
library BoundedCall {
    /// @notice Gas of a CALL instruction's target and of a MINT's token call (a swap on a DEX fits).
    uint256 internal constant CALL_GAS = 200_000;
    /// @notice Gas of an ETH TRANSFER's receiver and of a refund's receiver: enough for a smart
    /// wallet's `receive` (a proxy, a delegatecall and an event), not for work.
    uint256 internal constant ETH_TRANSFER_GAS = 50_000;
    /// @notice Gas of an ERC-20 `transfer` (TRANSFER of a token, token refunds): a whitelisted
    /// token's transfer to a new holder costs ~30,000-60,000 (proxied tokens included).
    uint256 internal constant TOKEN_TRANSFER_GAS = 100_000;
    /// @notice Gas of the `isController` question asked of a token.
    uint256 internal constant VIEW_GAS = 30_000;
    /// @notice Return data copied at most (enough for an Error(string) of ~190 bytes or a custom error).
    uint256 internal constant MAX_RETURN_COPY = 256;
    /// @notice Upper bound of the CALL opcode's own cost and the few opcodes around it: cold account
    /// 2,600 + value transfer 9,000 + new account 25,000 + memory and stack work.
    uint256 internal constant CALL_OVERHEAD = 40_000;

    /// @dev Calls `target` with `value` and `data` (memory), giving it exactly `gasLimit` gas.
    /// Reverts with {IDisperser.Disperser_GasTooLow} when less is left than that needs.
    function call(
        address target,
        uint256 value,
        bytes memory data,
        uint256 gasLimit
    ) internal returns (bool ok, bytes memory reason) {
        checkGas(gasLimit);
        assembly ("memory-safe") {
            // Out size 0: nothing is copied by the CALL itself, whatever the callee returns.
            ok := call(gasLimit, target, value, add(data, 32), mload(data), 0, 0)
        }
        reason = returnData();
    }

    /// @dev Like {call} with `data` in calldata (copied to memory first: CALL reads memory).
    function callCalldata(
        address target,
        uint256 value,
        bytes calldata data,
        uint256 gasLimit
    ) internal returns (bool ok, bytes memory reason) {
        return call(target, value, data, gasLimit);
    }

    /// @dev Sends `amount` of `token` (0 = ETH) to `to` with `gasLimit` gas, or with all the gas
    /// left when `gasLimit` is 0 (for a receiver that pays for its own call: withdraw, claims).
    /// Returns false instead of reverting, with the (truncated) reason. An ERC-20 counts as paid
    /// when it returns nothing (and has code) or returns true.
    function pay(
        address token,
        address to,
        uint256 amount,
        uint256 gasLimit
    ) internal returns (bool ok, bytes memory reason) {
        if (amount == 0) return (true, "");
        bytes memory data = token == address(0) ? bytes("") : abi.encodeCall(IERC20.transfer, (to, amount));
        address callee = token == address(0) ? to : token;
        uint256 value = token == address(0) ? amount : 0;
        if (gasLimit == 0) {
            assembly ("memory-safe") {
                ok := call(gas(), callee, value, add(data, 32), mload(data), 0, 0)
            }
            reason = returnData();
        } else {
            (ok, reason) = call(callee, value, data, gasLimit);
        }
        if (ok && token != address(0)) {
            // Tokens that return nothing are fine (if they are contracts); tokens that return false failed.
            ok = reason.length == 0 ? token.code.length != 0 : (reason.length == 32 && abi.decode(reason, (bool)));
        }
    }

    /// @dev Whether `token` says `programId` controls it, asked with `gasLimit` gas (any failure,
    /// or an answer that is not exactly `true`, is a no).
    function isController(address token, bytes32 programId, uint256 gasLimit) internal view returns (bool yes) {
        checkGas(gasLimit);
        bytes memory data = abi.encodeCall(IOmniToken.isController, (programId));
        assembly ("memory-safe") {
            let ok := staticcall(gasLimit, token, add(data, 32), mload(data), 0, 0)
            if and(ok, eq(returndatasize(), 32)) {
                returndatacopy(0, 0, 32)
                yes := eq(mload(0), 1)
            }
        }
    }

    /// @dev The last call's return data, truncated to MAX_RETURN_COPY bytes.
    function returnData() internal pure returns (bytes memory out) {
        assembly ("memory-safe") {
            let size := returndatasize()
            if gt(size, MAX_RETURN_COPY) {
                size := MAX_RETURN_COPY
            }
            out := mload(0x40)
            mstore(out, size)
            returndatacopy(add(out, 32), 0, size)
            mstore(0x40, add(add(out, 32), and(add(size, 31), not(31))))
        }
    }

    /// @dev Reverts unless a call with `gasLimit` started now would get its whole limit.
    function checkGas(uint256 gasLimit) internal view {
        uint256 needed = gasLimit + gasLimit / 63 + CALL_OVERHEAD;
        uint256 left = gasleft();
        if (left < needed) revert IDisperser.Disperser_GasTooLow(left, needed);
    }
}
