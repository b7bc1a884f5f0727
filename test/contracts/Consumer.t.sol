// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {ExampleConsumer} from "../../contracts/consumer/ExampleConsumer.sol";
import {IVersatusConsumer, VersatusConsumer} from "../../contracts/consumer/VersatusConsumer.sol";
import {IExecutableOracle} from "../../contracts/interfaces/IExecutableOracle.sol";
import {IDisperser} from "../../contracts/interfaces/IDisperser.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";

/// @dev The consumer kit against the real oracle and ingestor: a delivery through a CALL
/// instruction of a signed, ingested result, and every way to deliver a result it must refuse.
contract ConsumerTest is BaseTest {
    ExampleConsumer internal consumer;
    address internal consumerOwner = makeAddr("consumerOwner");
    bytes internal constant QUESTION = hex"cafe";

    function setUp() public override {
        super.setUp();
        consumer = new ExampleConsumer(IExecutableOracle(address(oracle)), PROGRAM, consumerOwner);
        vm.deal(consumerOwner, 10 ether);
    }

    function _ask() internal returns (bytes32 id) {
        vm.prank(consumerOwner);
        id = consumer.ask{value: 1e15}(QUESTION, 1 hours);
    }

    function _deliver(bytes32 aboutId, bytes memory answer) internal pure returns (Instruction[] memory ix) {
        ix = new Instruction[](1);
        ix[0] = Instruction({
            op: Ops.CALL,
            target: address(0),
            amount: 0,
            data: abi.encodeCall(IVersatusConsumer.onResult, (aboutId, answer))
        });
    }

    /// @dev Signs (3 of 4) and ingests a result for `requestId` (made with `input`) on this chain.
    function _ingestResult(bytes32 requestId, bytes memory input, uint8 status, Instruction[] memory ix) internal {
        Result memory r = Result({
            requestId: requestId,
            originChainId: block.chainid,
            programId: PROGRAM,
            inputHash: keccak256(input),
            status: status,
            instructionsHash: keccak256(abi.encode(ix)),
            bodyHash: keccak256(abi.encode("body", requestId))
        });
        bytes[] memory sigs = _sign(r, _three());
        vm.prank(poster);
        ingestor.ingest(r, ix, sigs, hex"00");
    }

    /// @dev A signed result for `requestId` (made with `input`) whose program CALLs the consumer.
    function _ingestCall(bytes32 requestId, bytes memory input, Instruction[] memory ix) internal {
        ix[0].target = address(consumer);
        _ingestResult(requestId, input, Ops.STATUS_OK, ix);
    }

    function _requestByOther() internal returns (bytes32) {
        vm.prank(requester);
        return oracle.request{value: 1e15}(PROGRAM, hex"1234", 1 hours);
    }

    function test_deliversTheResultOfItsOwnRequestThroughTheCallInstruction() public {
        bytes32 id = _ask();
        assertTrue(consumer.isAwaiting(id));
        vm.expectEmit(address(consumer));
        emit ExampleConsumer.Answered(id, "42");
        _ingestCall(id, QUESTION, _deliver(id, "42"));
        assertEq(consumer.latestAnswer(), "42");
        assertEq(consumer.latestRequestId(), id);
        assertFalse(consumer.isAwaiting(id));
        // what the program did not spend (escrow minus fee) came back to the consumer
        assertEq(address(consumer).balance, 1e15 - ETH_FEE);
    }

    function test_attack_callNotFromTheDisperserIsRefused() public {
        bytes32 id = _ask();
        vm.expectRevert(abi.encodeWithSelector(VersatusConsumer.VersatusConsumer_NotDisperser.selector, address(this)));
        consumer.onResult(id, "fake");
        vm.prank(address(ingestor)); // not even the ingestor: only the Disperser runs CALLs
        vm.expectRevert(
            abi.encodeWithSelector(VersatusConsumer.VersatusConsumer_NotDisperser.selector, address(ingestor))
        );
        consumer.onResult(id, "fake");
        assertTrue(consumer.isAwaiting(id));
        assertEq(consumer.latestAnswer(), "");
    }

    function test_attack_resultForARequestItDidNotMakeIsRefused() public {
        bytes32 other = _requestByOther();
        vm.expectEmit(address(oracle));
        emit IDisperser.InstructionFailed(
            other,
            0,
            Ops.CALL,
            address(consumer),
            abi.encodeWithSelector(VersatusConsumer.VersatusConsumer_NotAwaited.selector, other)
        );
        _ingestCall(other, hex"1234", _deliver(other, "fake"));
        assertEq(consumer.latestAnswer(), "");
        assertEq(consumer.latestRequestId(), bytes32(0));
    }

    function test_attack_anotherRequestAnsweringOursBeforeOursSettlesIsRefused() public {
        bytes32 ours = _ask();
        bytes32 attacker = _requestByOther();
        vm.expectEmit(address(oracle));
        emit IDisperser.InstructionFailed(
            attacker,
            0,
            Ops.CALL,
            address(consumer),
            abi.encodeWithSelector(VersatusConsumer.VersatusConsumer_NotSettling.selector, ours)
        );
        _ingestCall(attacker, hex"1234", _deliver(ours, "fake"));
        assertTrue(consumer.isAwaiting(ours));
        // our own result still lands afterwards
        _ingestCall(ours, QUESTION, _deliver(ours, "42"));
        assertEq(consumer.latestAnswer(), "42");
    }

    function test_attack_replayOfAnAnsweredRequestIsRefusedInTheSameBlockAndLater() public {
        bytes32 ours = _ask();
        _ingestCall(ours, QUESTION, _deliver(ours, "42"));
        bytes32 sameBlock = _requestByOther();
        vm.expectEmit(address(oracle));
        emit IDisperser.InstructionFailed(
            sameBlock,
            0,
            Ops.CALL,
            address(consumer),
            abi.encodeWithSelector(VersatusConsumer.VersatusConsumer_NotAwaited.selector, ours)
        );
        _ingestCall(sameBlock, hex"1234", _deliver(ours, "replayed"));
        vm.warp(block.timestamp + 60);
        vm.roll(block.number + 5);
        bytes32 later = _requestByOther();
        _ingestCall(later, hex"1234", _deliver(ours, "replayed later"));
        // a direct replay by the disperser's address itself is refused the same way
        vm.prank(address(oracle));
        vm.expectRevert(abi.encodeWithSelector(VersatusConsumer.VersatusConsumer_NotAwaited.selector, ours));
        consumer.onResult(ours, "replayed");
        assertEq(consumer.latestAnswer(), "42");
    }

    /// @dev Pins the documented limit (VersatusConsumer NatSpec): the Disperser does not say which
    /// request a CALL settles, so a request of ours that settled in this block without delivering
    /// (here: its program failed) can be answered by another request's result in the same block.
    function test_knownLimit_sameBlockAnswerAfterOurRequestSettledWithoutDelivering() public {
        bytes32 ours = _ask();
        Instruction[] memory none = new Instruction[](0);
        _ingestResult(ours, QUESTION, Ops.STATUS_PROGRAM_ERROR, none);
        bytes32 attacker = _requestByOther();
        _ingestCall(attacker, hex"1234", _deliver(ours, "fake"));
        assertEq(consumer.latestAnswer(), "fake");
        // one block later the same trick is refused
        bytes32 ours2 = _ask();
        _ingestResult(ours2, QUESTION, Ops.STATUS_PROGRAM_ERROR, none);
        vm.warp(block.timestamp + 12);
        bytes32 attacker2 = _requestByOther();
        _ingestCall(attacker2, hex"1234", _deliver(ours2, "fake2"));
        assertEq(consumer.latestAnswer(), "fake");
    }

    function test_onlyTheOwnerAsks() public {
        vm.expectRevert(abi.encodeWithSelector(ExampleConsumer.ExampleConsumer_NotOwner.selector, address(this)));
        consumer.ask{value: 1e15}(QUESTION, 1 hours);
    }
}
