// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IExecutableOracle} from "../interfaces/IExecutableOracle.sol";
import {VersatusConsumer} from "./VersatusConsumer.sol";

/// @title ExampleConsumer
/// @notice A minimal consumer: its owner asks a fixed program for an answer and the contract keeps
/// the latest one (e.g. a price, a score, a random pick). The program's output must end with
/// `{"op":"call","target":<this>,"data":abi.encodeCall(IVersatusConsumer.onResult, (VERSATUS_REQUEST_ID, answer))}`.
contract ExampleConsumer is VersatusConsumer {
    /// @notice The program every request runs (its id binds the request: SPEC 3.2).
    bytes32 public immutable programId;
    /// @notice Who may send requests.
    address public immutable owner;

    /// @notice The last answer delivered, and the request it answered.
    bytes public latestAnswer;
    bytes32 public latestRequestId;

    /// @notice An answer arrived.
    event Answered(bytes32 indexed requestId, bytes answer);

    /// @notice Only the owner may ask.
    error ExampleConsumer_NotOwner(address caller);

    constructor(IExecutableOracle oracle_, bytes32 programId_, address owner_) VersatusConsumer(oracle_) {
        programId = programId_;
        owner = owner_;
    }

    /// @notice Asks the program about `input`, escrowing the ETH sent with this call.
    function ask(bytes calldata input, uint64 ttl) external payable returns (bytes32 requestId) {
        if (msg.sender != owner) revert ExampleConsumer_NotOwner(msg.sender);
        return _sendRequest(programId, input, ttl, msg.value);
    }

    /// @inheritdoc VersatusConsumer
    function _fulfill(bytes32 requestId, bytes calldata result) internal override {
        latestAnswer = result;
        latestRequestId = requestId;
        emit Answered(requestId, result);
    }
}
