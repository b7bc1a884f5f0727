// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {IInstructionIngestor} from "../../../contracts/interfaces/IInstructionIngestor.sol";
import {IExecutableOracle} from "../../../contracts/interfaces/IExecutableOracle.sol";
import {IDisperser} from "../../../contracts/interfaces/IDisperser.sol";
import {IOperatorSet} from "../../../contracts/interfaces/IOperatorSet.sol";
import {Instruction, Result, Ops} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev One hostile result in a batch: it is skipped, changes nothing, and the honest ones land.
contract BatchesAttackTest is BaseTest {
    struct Batch {
        Result[] rs;
        Instruction[][] ixs;
        bytes[][] sigs;
    }

    /// @dev A batch of three: honest results at 0 and 2, the hostile one goes to 1.
    function _batch() internal returns (Batch memory b) {
        b.rs = new Result[](3);
        b.ixs = new Instruction[][](3);
        b.sigs = new bytes[][](3);
        _honest(b, 0);
        _honest(b, 2);
    }

    /// @dev An honest result paying `payee` 0.5 ether from a fresh 1 ether request.
    function _honest(Batch memory b, uint256 i) internal {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        (b.rs[i], b.ixs[i], b.sigs[i]) = (r, ix, _sign(r, _three()));
    }

    function _queue(Batch memory b, Result memory r, Instruction[] memory ix, bytes[] memory s) internal pure {
        (b.rs[1], b.ixs[1], b.sigs[1]) = (r, ix, s);
    }

    /// Posts the batch [honest, hostile, honest] and checks the hostile one was skipped with
    /// reason 6 and `selector`, its request untouched, and both honest ones paid.
    function _postAndCheck(Batch memory batch, bytes32 hostileId, uint256 origin, bytes4 selector) internal {
        bytes32 a = batch.rs[0].requestId;
        bytes32 b = batch.rs[2].requestId;
        uint256 oracleBefore = address(oracle).balance;
        uint256 hostileBefore = oracle.escrowOf(hostileId).amount;
        vm.expectEmit(address(ingestor));
        emit IInstructionIngestor.ResultSkipped(hostileId, origin, 6);
        vm.expectEmit(address(ingestor));
        emit IInstructionIngestor.ResultRejected(hostileId, origin, selector);
        vm.prank(poster);
        ingestor.ingestBatch(batch.rs, batch.ixs, batch.sigs, new bytes[](3));
        assertEq(payee.balance, 1 ether, "both honest results paid");
        assertEq(uint8(oracle.escrowOf(a).status), uint8(IExecutableOracle.RequestStatus.Ingested));
        assertEq(uint8(oracle.escrowOf(b).status), uint8(IExecutableOracle.RequestStatus.Ingested));
        // each honest request: 0.5 to the payee, 0.5 - fee back to the requester, fee stays
        assertEq(address(oracle).balance, oracleBefore - 2 * (1 ether - ETH_FEE));
        if (origin == block.chainid) {
            assertEq(uint8(oracle.escrowOf(hostileId).status), uint8(IExecutableOracle.RequestStatus.Open));
            assertEq(oracle.escrowOf(hostileId).amount, hostileBefore, "hostile request untouched");
        } else {
            assertFalse(ingestor.isIngested(origin, hostileId));
        }
    }

    function test_batch_badSignature_isSkippedAndTheRestLands() public {
        Batch memory batch = _batch();
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.9 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory s = _sign(r, _three());
        s[1] = new bytes(65); // unrecoverable
        _queue(batch, r, ix, s);
        _postAndCheck(batch, id, block.chainid, IInstructionIngestor.Ingestor_InvalidSignature.selector);
    }

    function test_batch_tooFewSignatures_isSkippedAndTheRestLands() public {
        Batch memory batch = _batch();
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.9 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (0, 1);
        _queue(batch, r, ix, _sign(r, two));
        _postAndCheck(batch, id, block.chainid, IInstructionIngestor.Ingestor_NotEnoughSignatures.selector);
    }

    function test_batch_outsiderSigner_isSkippedAndTheRestLands() public {
        Batch memory batch = _batch();
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.9 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory s = new bytes[](1);
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(uint256(keccak256("outsider")), ingestor.resultDigest(r));
        s[0] = abi.encodePacked(rr, ss, v);
        _queue(batch, r, ix, s);
        _postAndCheck(batch, id, block.chainid, IOperatorSet.OperatorSet_NotActive.selector);
    }

    function test_batch_budgetExceeded_isSkippedAndTheRestLands() public {
        Batch memory batch = _batch();
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 1 ether)); // more than escrow minus fee
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        _queue(batch, r, ix, _sign(r, _three()));
        _postAndCheck(batch, id, block.chainid, IDisperser.Disperser_BudgetExceeded.selector);
    }

    function test_batch_instructionsOnAFailedResult_areSkippedAndTheRestLands() public {
        Batch memory batch = _batch();
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.1 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_PROGRAM_ERROR, ix);
        _queue(batch, r, ix, _sign(r, _three()));
        _postAndCheck(batch, id, block.chainid, IDisperser.Disperser_InstructionsOnFailedResult.selector);
    }

    function test_batch_tamperedInstructions_areSkippedAndTheRestLands() public {
        Batch memory batch = _batch();
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.1 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory s = _sign(r, _three());
        ix = _one(_transfer(payee, 0.9 ether));
        _queue(batch, r, ix, s);
        _postAndCheck(batch, id, block.chainid, IInstructionIngestor.Ingestor_InstructionsMismatch.selector);
    }

    function test_batch_remoteTransfer_isSkippedAndTheRestLands() public {
        Batch memory batch = _batch();
        Instruction[] memory ix = _one(_transfer(payee, 1));
        Result memory r = _result(keccak256("remote"), REMOTE_CHAIN, Ops.STATUS_OK, ix);
        _queue(batch, r, ix, _sign(r, _three()));
        _postAndCheck(batch, keccak256("remote"), REMOTE_CHAIN, IDisperser.Disperser_OpNotAllowedCrossChain.selector);
        assertEq(ingestor.ingestedAt(REMOTE_CHAIN, keccak256("remote")), 0, "the remote record was undone too");
    }

    function test_batch_unknownStatus_isSkippedAndTheRestLands() public {
        Batch memory batch = _batch();
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = new Instruction[](0);
        Result memory r = _result(id, block.chainid, 7, ix);
        _queue(batch, r, ix, _sign(r, _three()));
        _postAndCheck(batch, id, block.chainid, IInstructionIngestor.Ingestor_InvalidStatus.selector);
    }

    /// A single ingest still reverts with the precise error.
    function test_ingest_single_stillRevertsWithThePreciseError() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 1 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory s = _sign(r, _three());
        vm.prank(poster);
        vm.expectRevert(
            abi.encodeWithSelector(IDisperser.Disperser_BudgetExceeded.selector, id, 1 ether - ETH_FEE, 1 ether)
        );
        ingestor.ingest(r, ix, s, "");
        assertEq(address(oracle).balance, 1 ether);
    }

    /// The batch's per-result entry point is closed to everyone else, including the ingestor's own
    /// address outside a batch.
    function test_ingestFromBatch_refusesEveryCallerButABatch() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory s = _sign(r, _three());
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotBatch.selector, poster));
        ingestor.ingestFromBatch(r, ix, s, "");
        vm.prank(address(ingestor));
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotBatch.selector, address(ingestor)));
        ingestor.ingestFromBatch(r, ix, s, "");
        assertEq(payee.balance, 0);
        assertEq(address(oracle).balance, 1 ether);
    }
}
