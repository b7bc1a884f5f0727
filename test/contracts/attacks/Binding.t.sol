// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {IInstructionIngestor} from "../../../contracts/interfaces/IInstructionIngestor.sol";
import {IExecutableOracle} from "../../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Result, Ops, ResultTypedData} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev Attacks on the binding of a result to its request (SPEC 3.2, issue 10 item 7) and on the
/// ingestion record disputes rely on.
contract BindingAttackTest is BaseTest {
    bytes32 internal constant OTHER_PROGRAM = keccak256("other program");

    function setUp() public override {
        super.setUp();
        vm.prank(owner);
        oracle.publish(OTHER_PROGRAM, "other", "ipfs://other");
    }

    function _signed(Result memory r) internal view returns (bytes[] memory) {
        return _sign(r, _three());
    }

    /// A quorum-signed result of another program cannot spend this request's escrow.
    function test_resultForAnotherProgram_isRejectedAndMovesNothing() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.9 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        r.programId = OTHER_PROGRAM;
        bytes[] memory sigs = _signed(r);
        uint256 oracleBefore = address(oracle).balance;
        vm.prank(poster);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInstructionIngestor.Ingestor_ResultNotBound.selector,
                id,
                OTHER_PROGRAM,
                keccak256(hex"1234")
            )
        );
        ingestor.ingest(r, ix, sigs, hex"00");
        assertEq(payee.balance, 0, "payee got nothing");
        assertEq(address(oracle).balance, oracleBefore, "escrow untouched");
        assertEq(uint8(oracle.escrowOf(id).status), uint8(IExecutableOracle.RequestStatus.Open));
    }

    /// A quorum-signed result computed on another input cannot spend this request's escrow.
    function test_resultForAnotherInput_isRejectedAndMovesNothing() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.9 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        r.inputHash = keccak256(hex"ffff");
        bytes[] memory sigs = _signed(r);
        uint256 requesterBefore = requester.balance;
        vm.prank(poster);
        vm.expectRevert(
            abi.encodeWithSelector(IInstructionIngestor.Ingestor_ResultNotBound.selector, id, PROGRAM, r.inputHash)
        );
        ingestor.ingest(r, ix, sigs, hex"00");
        assertEq(payee.balance, 0);
        assertEq(requester.balance, requesterBefore);
        assertEq(address(oracle).balance, 1 ether);
    }

    /// A result naming a forged id (right program and input, another nonce or requester) matches no
    /// request: the recomputed id differs even when a record exists under the same low bits.
    function test_resultWithForgedNonce_isRejected() public {
        bytes32 id = _requestEth(1 ether);
        bytes32 other = _requestEth(1 ether); // nonce 1
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        // The id of request 1, but claiming to be the answer of request 0's bits: unknown id.
        Result memory r = _result(bytes32(uint256(other) ^ (uint256(1) << 192)), block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory sigs = _signed(r);
        vm.prank(poster);
        vm.expectRevert(
            abi.encodeWithSelector(IInstructionIngestor.Ingestor_RequestNotSettleable.selector, r.requestId, 3)
        );
        ingestor.ingest(r, ix, sigs, hex"00");
        assertEq(address(oracle).balance, 2 ether);
        id;
    }

    /// In a batch, the unbound result is skipped with reason 5 and the bound one lands.
    function test_batch_unboundResultIsSkippedWithReason5_andTheRestLands() public {
        bytes32 bad = _requestEth(1 ether);
        bytes32 good = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        Result[] memory rs = new Result[](2);
        rs[0] = _result(bad, block.chainid, Ops.STATUS_OK, ix);
        rs[0].programId = OTHER_PROGRAM;
        rs[1] = _result(good, block.chainid, Ops.STATUS_OK, ix);
        Instruction[][] memory ixs = new Instruction[][](2);
        (ixs[0], ixs[1]) = (ix, ix);
        bytes[][] memory sigs = new bytes[][](2);
        (sigs[0], sigs[1]) = (_signed(rs[0]), _signed(rs[1]));
        vm.expectEmit(address(ingestor));
        emit IInstructionIngestor.ResultSkipped(bad, block.chainid, 5);
        vm.prank(poster);
        ingestor.ingestBatch(rs, ixs, sigs, new bytes[](2));
        assertEq(payee.balance, 0.5 ether, "only the bound result paid");
        assertEq(uint8(oracle.escrowOf(bad).status), uint8(IExecutableOracle.RequestStatus.Open));
        assertEq(uint8(oracle.escrowOf(good).status), uint8(IExecutableOracle.RequestStatus.Ingested));
        assertEq(address(oracle).balance, 1 ether + ETH_FEE, "the bad escrow and the good one's fee stay");
    }

    /// The id carries the nonce in its top bits and commits to program and input.
    function test_requestId_bindsProgramInputAndNonce() public {
        bytes32 a = oracle.nextRequestId(requester, PROGRAM, hex"1234");
        assertTrue(a != oracle.nextRequestId(requester, OTHER_PROGRAM, hex"1234"));
        assertTrue(a != oracle.nextRequestId(requester, PROGRAM, hex"1235"));
        assertTrue(a != oracle.nextRequestId(payee, PROGRAM, hex"1234"));
        assertEq(_requestEth(1 ether), a);
        bytes32 b = _requestEth(1 ether);
        assertEq(uint256(a) >> 192, 0);
        assertEq(uint256(b) >> 192, 1);
    }

    /// The ingestion keeps its time and the commitment to the Result and exactly its signers.
    function test_ingestion_recordsTimeAndSignersCommitment() public {
        vm.warp(block.timestamp + 50);
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        _ingest(r, ix);
        (uint256 at, bytes32 commitment) = ingestor.ingestionOf(block.chainid, id);
        assertEq(at, block.timestamp);
        assertEq(ingestor.ingestedAt(block.chainid, id), block.timestamp);
        assertEq(commitment, this.commitmentOf(r, _sortedSigners(_three())));
        IExecutableOracle.EscrowInfo memory e = oracle.escrowOf(id);
        assertEq(uint8(e.status), uint8(IExecutableOracle.RequestStatus.Ingested));
        assertEq(e.deadline, block.timestamp, "deadline reports the ingestion time");
        assertEq(e.amount, 0, "the escrow was spent");
        // the escrow slot changed meaning: nothing can settle or refund it again
        vm.warp(block.timestamp + 2 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IExecutableOracle.Oracle_RequestNotOpen.selector,
                id,
                IExecutableOracle.RequestStatus.Ingested
            )
        );
        oracle.refund(id);
        (uint256 none, bytes32 noCommitment) = ingestor.ingestionOf(block.chainid, keccak256("none"));
        assertEq(none, 0);
        assertEq(noCommitment, bytes32(0));
    }

    /// Remote results keep the same record in the ingestor's slot.
    function test_remoteIngestion_recordsTimeAndSignersCommitment() public {
        Instruction[] memory mint = new Instruction[](1);
        mint[0] = Instruction({op: Ops.MINT, target: payee, amount: 1e18, data: abi.encode(address(omni))});
        Result memory r = _result(keccak256("remote"), REMOTE_CHAIN, Ops.STATUS_OK, mint);
        uint256[] memory all = new uint256[](4);
        (all[0], all[1], all[2], all[3]) = (0, 1, 2, 3);
        bytes[] memory sigs = _sign(r, all);
        vm.prank(poster);
        try ingestor.ingest(r, mint, sigs, hex"01") {} catch {
            // a controller rule may refuse this mint: the record is then still zero
            assertEq(ingestor.ingestedAt(REMOTE_CHAIN, r.requestId), 0);
            return;
        }
        (uint256 at, bytes32 commitment) = ingestor.ingestionOf(REMOTE_CHAIN, r.requestId);
        assertEq(at, block.timestamp);
        assertEq(commitment, this.commitmentOf(r, _sortedSigners(all)));
        assertTrue(ingestor.isIngested(REMOTE_CHAIN, r.requestId));
    }

    function commitmentOf(Result calldata r, address[] calldata signers) external pure returns (bytes32) {
        return ResultTypedData.signersCommitment(ResultTypedData.structHash(r), signers);
    }

    function _sortedSigners(uint256[] memory which) internal view returns (address[] memory s) {
        s = new address[](which.length);
        for (uint256 i; i < which.length; ++i) s[i] = operators[which[i]];
        for (uint256 i = 1; i < s.length; ++i) {
            address k = s[i];
            uint256 j = i;
            while (j > 0 && s[j - 1] > k) {
                s[j] = s[j - 1];
                --j;
            }
            s[j] = k;
        }
    }
}
