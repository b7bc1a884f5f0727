// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IExecutableOracle} from "../interfaces/IExecutableOracle.sol";

/// @title IVersatusConsumer
/// @notice What a program's CALL instruction names to deliver a result to a consumer contract:
/// `{"op":"call","target":<consumer>,"data":abi.encodeCall(IVersatusConsumer.onResult, (requestId, result))}`.
interface IVersatusConsumer {
    /// @notice Delivers `result` for `requestId`; only this chain's Disperser may call it.
    function onResult(bytes32 requestId, bytes calldata result) external payable;
}

/// @title VersatusConsumer
/// @notice Base contract for a contract that asks Versatus for a computation and receives the
/// answer in a callback (what Chainlink Functions' `FunctionsClient.fulfillRequest` does). The
/// consumer makes the request itself ({_sendRequest}, escrowing ETH from its own balance); the
/// program's result carries a CALL instruction (SPEC 3.3) to {onResult}; the Disperser runs it
/// while it settles the request, with a fixed gas limit (`Disperser.CALL_GAS_LIMIT`, 200,000).
///
/// {onResult} accepts a delivery only when all of these hold:
/// - the caller is this chain's Disperser (the ExecutableOracle): nobody else can call it;
/// - the requestId is one this contract asked for and has not been answered: a result for a
///   request someone else made, or a second delivery for the same request, is refused;
/// - the request was ingested in this very block (`settlementOf(requestId).ingestedAt` is now):
///   another request's program cannot answer one of ours before ours is settled.
///
/// Known limit (docs/from-chainlink-functions.md): the Disperser does not tell a CALL target which
/// request it is settling. If our request settled without delivering (its program failed, or its
/// CALL ran out of gas) and another request's result, ingested in the same block after it, CALLs
/// {onResult} with our id, it is accepted. Use a program whose output always calls back, keep
/// {_fulfill} under the gas limit, and check what you can of the payload in {_fulfill}.
/// @dev Inherit, implement {_fulfill}, and call {_sendRequest}. Failures inside {onResult} surface
/// as the Disperser's `InstructionFailed` (the CALL's share of the escrow is refunded to this
/// contract, which therefore has a `receive`).
abstract contract VersatusConsumer is IVersatusConsumer {
    /// @notice This chain's ExecutableOracle: where requests are made and the Disperser that calls back.
    IExecutableOracle public immutable oracle;

    /// @dev Requests this contract made and that have not been answered yet.
    mapping(bytes32 requestId => bool open) private _awaiting;

    /// @notice A request this contract made.
    event VersatusRequestSent(bytes32 indexed requestId, bytes32 indexed programId);
    /// @notice The result of one of this contract's requests was delivered.
    event VersatusResultReceived(bytes32 indexed requestId);

    /// @notice {onResult} was called by someone other than this chain's Disperser.
    error VersatusConsumer_NotDisperser(address caller);
    /// @notice {onResult} named a request this contract did not make, or one already answered.
    error VersatusConsumer_NotAwaited(bytes32 requestId);
    /// @notice {onResult} named one of our requests that is not being settled in this block.
    error VersatusConsumer_NotSettling(bytes32 requestId);
    /// @notice The oracle address is zero.
    error VersatusConsumer_ZeroOracle();

    /// @param oracle_ This chain's ExecutableOracle (deployments/<network>/ExecutableOracle.json).
    constructor(IExecutableOracle oracle_) {
        if (address(oracle_) == address(0)) revert VersatusConsumer_ZeroOracle();
        oracle = oracle_;
    }

    /// @notice Refunds (unspent escrow, a failed CALL's share) come back here.
    receive() external payable virtual {}

    /// @inheritdoc IVersatusConsumer
    function onResult(bytes32 requestId, bytes calldata result) external payable {
        if (msg.sender != address(oracle)) revert VersatusConsumer_NotDisperser(msg.sender);
        if (!_awaiting[requestId]) revert VersatusConsumer_NotAwaited(requestId);
        (uint256 ingestedAt, ) = oracle.settlementOf(requestId);
        if (ingestedAt != block.timestamp) revert VersatusConsumer_NotSettling(requestId);
        delete _awaiting[requestId];
        emit VersatusResultReceived(requestId);
        _fulfill(requestId, result);
    }

    /// @notice Whether `requestId` is one of this contract's requests still waiting for its result.
    function isAwaiting(bytes32 requestId) public view returns (bool) {
        return _awaiting[requestId];
    }

    /// @notice Asks the oracle to run `programId` on `input`, escrowing `value` wei of this
    /// contract's balance (the fee included; what the program does not spend comes back here).
    /// @param ttl Seconds until anyone may `refund` the request if no result arrived.
    /// @return requestId The id the oracle assigned; {onResult} accepts exactly this one, once.
    function _sendRequest(
        bytes32 programId,
        bytes memory input,
        uint64 ttl,
        uint256 value
    ) internal returns (bytes32 requestId) {
        requestId = oracle.request{value: value}(programId, input, ttl);
        _awaiting[requestId] = true;
        emit VersatusRequestSent(requestId, programId);
    }

    /// @notice Stops waiting for `requestId` (e.g. after refunding it): a late delivery is refused.
    function _forget(bytes32 requestId) internal {
        delete _awaiting[requestId];
    }

    /// @notice The consumer's logic: runs inside the Disperser's CALL (at most the CALL gas limit,
    /// minus what {onResult} used). Reverting refunds the CALL's share and emits `InstructionFailed`,
    /// and the request stays answered: no second delivery is accepted.
    function _fulfill(bytes32 requestId, bytes calldata result) internal virtual;
}
