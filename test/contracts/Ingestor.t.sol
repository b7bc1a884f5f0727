// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {IInstructionIngestor} from "../../contracts/interfaces/IInstructionIngestor.sol";
import {IOperatorSet} from "../../contracts/interfaces/IOperatorSet.sol";
import {IExecutableOracle} from "../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @dev Every way a signature set can be wrong is rejected, and a good one settles exactly once.
contract IngestorSignatureTest is BaseTest {
    bytes32 internal id;
    Instruction[] internal ix;
    Result internal r;

    function setUp() public override {
        super.setUp();
        id = _requestEth(1 ether);
        ix.push(_transfer(payee, 0.5 ether));
        r = _result(id, block.chainid, Ops.STATUS_OK, ix);
    }

    function _post(bytes[] memory sigs) internal {
        vm.prank(poster);
        ingestor.ingest(r, ix, sigs, hex"00");
    }

    function test_typehash_matchesSpec() public view {
        assertEq(
            ingestor.RESULT_TYPEHASH(),
            keccak256(
                "Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"
            )
        );
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Versatus"),
                keccak256("1"),
                block.chainid,
                address(ingestor)
            )
        );
        assertEq(ingestor.domainSeparator(), domain);
    }

    function test_ingest_acceptsThreeOfFour() public {
        _post(_sign(r, _three()));
        assertEq(payee.balance, 0.5 ether);
        assertTrue(ingestor.isIngested(block.chainid, id));
    }

    function test_ingest_acceptsAllFour() public {
        uint256[] memory all = new uint256[](4);
        (all[0], all[1], all[2], all[3]) = (0, 1, 2, 3);
        _post(_sign(r, all));
        assertEq(payee.balance, 0.5 ether);
    }

    function test_ingest_revertsOnTooFewSignatures() public {
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (0, 1);
        bytes[] memory sigs = _sign(r, two);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotEnoughSignatures.selector, id, 2, 3));
        _post(sigs);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotEnoughSignatures.selector, id, 0, 3));
        _post(new bytes[](0));
    }

    function test_ingest_revertsOnDuplicateSigner() public {
        bytes[] memory sigs = _sign(r, _three());
        sigs[1] = sigs[0];
        vm.expectRevert(); // SignersNotAscending(index 1, signer == previous)
        _post(sigs);
    }

    function test_ingest_revertsOnReorderedSignatures() public {
        bytes[] memory sigs = _sign(r, _three());
        (sigs[0], sigs[2]) = (sigs[2], sigs[0]);
        vm.expectPartialRevert(IInstructionIngestor.Ingestor_SignersNotAscending.selector);
        _post(sigs);
    }

    function test_ingest_revertsOnForgedSigner() public {
        bytes32 digest = ingestor.resultDigest(r);
        uint256 outsiderKey = uint256(keccak256("outsider"));
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(outsiderKey, digest);
        bytes[] memory sigs = _sign(r, _three());
        sigs[0] = abi.encodePacked(rr, s, v);
        // keep ascending order so the operator check is what fails
        _sortByRecovered(sigs, digest);
        vm.expectRevert(abi.encodeWithSelector(IOperatorSet.OperatorSet_NotActive.selector, vm.addr(outsiderKey)));
        _post(sigs);
    }

    function test_ingest_revertsOnWrongDomain() public {
        bytes32 wrongDomain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("NotVersatus"),
                keccak256("1"),
                block.chainid,
                address(ingestor)
            )
        );
        _expectRejectedWithDomain(wrongDomain);
    }

    function test_ingest_revertsOnWrongChain() public {
        bytes32 otherChain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Versatus"),
                keccak256("1"),
                block.chainid + 1,
                address(ingestor)
            )
        );
        _expectRejectedWithDomain(otherChain);
    }

    function test_ingest_revertsOnMalleableSignature() public {
        bytes[] memory sigs = _sign(r, _three());
        bytes memory sig = sigs[0];
        bytes32 s;
        uint8 v;
        assembly {
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes32 highS = bytes32(n - uint256(s));
        bytes32 rr;
        assembly {
            rr := mload(add(sig, 32))
        }
        sigs[0] = abi.encodePacked(rr, highS, v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_InvalidSignature.selector, id, 0));
        _post(sigs);
    }

    function test_ingest_revertsOnTamperedInstructions() public {
        bytes[] memory sigs = _sign(r, _three());
        ix[0].amount = 0.9 ether;
        vm.expectPartialRevert(IInstructionIngestor.Ingestor_InstructionsMismatch.selector);
        _post(sigs);
    }

    function test_ingest_revertsOnReplay() public {
        bytes[] memory sigs = _sign(r, _three());
        _post(sigs);
        vm.expectRevert(
            abi.encodeWithSelector(IInstructionIngestor.Ingestor_AlreadyIngested.selector, id, block.chainid)
        );
        _post(sigs);
    }

    function test_ingest_revertsAfterRefund() public {
        bytes[] memory sigs = _sign(r, _three());
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_RequestNotSettleable.selector, id, 4));
        _post(sigs);
        oracle.refund(id);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_RequestNotSettleable.selector, id, 2));
        _post(sigs);
    }

    function test_ingest_revertsForRemovedOperator() public {
        bytes[] memory sigs = _sign(r, _three());
        vm.prank(owner);
        operatorSet.removeOperator(operators[3]); // 3 of 3 left, threshold 3 still a majority
        _post(sigs); // signers 0,1,2 still active
        bytes32 id2 = _requestEth(1 ether);
        Result memory r2 = _result(id2, block.chainid, Ops.STATUS_OK, ix);
        uint256[] memory withRemoved = new uint256[](3);
        (withRemoved[0], withRemoved[1], withRemoved[2]) = (0, 1, 3);
        bytes[] memory sigs2 = _sign(r2, withRemoved);
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IOperatorSet.OperatorSet_NotActive.selector, operators[3]));
        ingestor.ingest(r2, ix, sigs2, hex"00");
    }

    function test_ingestBatch_skipsSettledAndIngestsTheRest() public {
        bytes32 id2 = _requestEth(1 ether);
        Result[] memory rs = new Result[](2);
        rs[0] = r;
        rs[1] = _result(id2, block.chainid, Ops.STATUS_OK, ix);
        Instruction[][] memory ixs = new Instruction[][](2);
        ixs[0] = ix;
        ixs[1] = ix;
        bytes[][] memory sigs = new bytes[][](2);
        sigs[0] = _sign(rs[0], _three());
        sigs[1] = _sign(rs[1], _three());
        bytes[] memory ptrs = new bytes[](2);
        _post(sigs[0]);
        vm.expectEmit(address(ingestor));
        emit IInstructionIngestor.ResultSkipped(id, block.chainid, 1);
        vm.prank(poster);
        ingestor.ingestBatch(rs, ixs, sigs, ptrs);
        assertEq(payee.balance, 1 ether);
        assertEq(uint8(oracle.escrowOf(id2).status), uint8(IExecutableOracle.RequestStatus.Ingested));
    }

    function test_ingestBatch_revertsOnLengthMismatch() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_BatchLengthMismatch.selector, 1, 0, 0, 0));
        ingestor.ingestBatch(new Result[](1), new Instruction[][](0), new bytes[][](0), new bytes[](0));
    }

    function test_ingest_remoteMintOnceAndOnlyMintOrCreate() public {
        Instruction[] memory mint = new Instruction[](1);
        mint[0] = Instruction({op: Ops.MINT, target: payee, amount: 5e18, data: abi.encode(address(omni))});
        Result memory remote = _result(keccak256("remote"), REMOTE_CHAIN, Ops.STATUS_OK, mint);
        bytes[] memory sigs = _sign(remote, _three());
        vm.prank(poster);
        ingestor.ingest(remote, mint, sigs, hex"01");
        assertEq(omni.balanceOf(payee), 5e18);
        vm.prank(poster);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInstructionIngestor.Ingestor_AlreadyIngested.selector,
                keccak256("remote"),
                REMOTE_CHAIN
            )
        );
        ingestor.ingest(remote, mint, sigs, hex"01");

        Instruction[] memory pay = _one(_transfer(payee, 1));
        Result memory remotePay = _result(keccak256("remote2"), REMOTE_CHAIN, Ops.STATUS_OK, pay);
        bytes[] memory sigs2 = _sign(remotePay, _three());
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSignature("Disperser_OpNotAllowedCrossChain(uint256,uint8)", 0, Ops.TRANSFER));
        ingestor.ingest(remotePay, pay, sigs2, hex"01");
    }

    function _expectRejectedWithDomain(bytes32 domainSeparator) internal {
        bytes32 structHash = keccak256(abi.encode(ingestor.RESULT_TYPEHASH(), r));
        bytes32 digest = MessageHashUtils.toTypedDataHash(domainSeparator, structHash);
        bytes[] memory sigs = _signDigest(digest, _three());
        _sortByRecovered(sigs, ingestor.resultDigest(r));
        // Against the real digest the signatures recover to strangers of the operator set.
        vm.expectPartialRevert(IOperatorSet.OperatorSet_NotActive.selector);
        _post(sigs);
    }

    function _sortByRecovered(bytes[] memory sigs, bytes32 digest) internal pure {
        for (uint256 i = 1; i < sigs.length; ++i) {
            bytes memory k = sigs[i];
            uint256 j = i;
            while (j > 0 && _recover(digest, sigs[j - 1]) > _recover(digest, k)) {
                sigs[j] = sigs[j - 1];
                --j;
            }
            sigs[j] = k;
        }
    }

    function _recover(bytes32 digest, bytes memory sig) internal pure returns (address) {
        bytes32 rr;
        bytes32 s;
        uint8 v;
        assembly {
            rr := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
        return ecrecover(digest, v, rr, s);
    }
}
