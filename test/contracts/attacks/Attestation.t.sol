// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {StakingBase} from "../Staking.t.sol";
import {IInstructionIngestor} from "../../../contracts/interfaces/IInstructionIngestor.sol";
import {IExecutableOracle} from "../../../contracts/interfaces/IExecutableOracle.sol";
import {IDisperser} from "../../../contracts/interfaces/IDisperser.sol";
import {IOperatorSet} from "../../../contracts/interfaces/IOperatorSet.sol";
import {IStakingRegistry, SignedResult} from "../../../contracts/interfaces/IStakingRegistry.sol";
import {Instruction, Result, Ops, ResultTypedData} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev Helpers to attest a batch the way protocol/attestation.ts does.
abstract contract AttestationHelpers is BaseTest {
    bytes32 internal constant BATCH_TYPEHASH = keccak256(
        "ResultBatch(Result[] results)Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"
    );

    function _structHash(Result memory r) internal pure returns (bytes32) {
        return keccak256(abi.encode(ResultTypedData.RESULT_TYPEHASH, r));
    }

    function _leaves(Result[] memory rs) internal pure returns (bytes32[] memory hs) {
        hs = new bytes32[](rs.length);
        for (uint256 i; i < rs.length; ++i) hs[i] = _structHash(rs[i]);
    }

    /// @dev The EIP-712 digest of a batch under the domain (`chainId`, `ingestorAddr`), computed here
    /// from the typed-data rules, not from the contract.
    function _batchDigestFor(
        Result[] memory rs,
        uint256 chainId,
        address ingestorAddr
    ) internal pure returns (bytes32) {
        bytes32 domain = _domainOf(chainId, ingestorAddr);
        bytes32 batchHash = keccak256(abi.encode(BATCH_TYPEHASH, keccak256(abi.encodePacked(_leaves(rs)))));
        return keccak256(abi.encodePacked("\x19\x01", domain, batchHash));
    }

    function _attest(Result[] memory rs, uint256[] memory which) internal view returns (bytes[] memory) {
        return _signDigest(_batchDigestFor(rs, block.chainid, address(ingestor)), which);
    }

    /// @dev A batch signature as evidence for one of its results (signature ++ struct hashes).
    function _evidence(bytes memory sig, Result[] memory rs) internal pure returns (bytes memory e) {
        e = sig;
        bytes32[] memory hs = _leaves(rs);
        for (uint256 i; i < hs.length; ++i) e = abi.encodePacked(e, hs[i]);
    }
}

/// @dev Issue 14: batch attestation. The quorum signs one `ResultBatch` over many Results; the
/// batch pays its signatures once. Every rule of a single ingest still holds per result, and the
/// attestation itself cannot be forged, stretched to other results, or replayed into a second payment.
contract AttestationIngestTest is AttestationHelpers {
    struct Batch {
        Result[] rs;
        Instruction[][] ixs;
        bytes[] das;
    }

    address internal other = makeAddr("other payee");

    function _batch(uint256 n) internal returns (Batch memory b) {
        b.rs = new Result[](n);
        b.ixs = new Instruction[][](n);
        b.das = new bytes[](n);
        for (uint256 i; i < n; ++i) _honest(b, i);
    }

    /// @dev An honest result paying `payee` 0.5 ether from a fresh 1 ether request.
    function _honest(Batch memory b, uint256 i) internal {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 0.5 ether));
        (b.rs[i], b.ixs[i], b.das[i]) = (_result(id, block.chainid, Ops.STATUS_OK, ix), ix, hex"00");
    }

    function _post(Batch memory b, bytes[] memory sigs) internal {
        vm.prank(poster);
        ingestor.ingestAttested(b.rs, b.ixs, b.das, sigs);
    }

    function _signersOf(uint256[] memory which) internal view returns (address[] memory s) {
        s = new address[](which.length);
        for (uint256 i; i < which.length; ++i) s[i] = operators[which[i]];
        for (uint256 i = 1; i < s.length; ++i) {
            for (uint256 j = i; j > 0 && s[j - 1] > s[j]; --j) (s[j - 1], s[j]) = (s[j], s[j - 1]);
        }
    }

    function _status(bytes32 id) internal view returns (uint8) {
        return uint8(oracle.escrowOf(id).status);
    }

    function test_attestedBatch_settlesEveryResultWithOneSetOfSignatures() public {
        Batch memory b = _batch(3);
        bytes[] memory sigs = _attest(b.rs, _three());
        bytes32 batchHash = keccak256(abi.encode(BATCH_TYPEHASH, keccak256(abi.encodePacked(_leaves(b.rs)))));
        uint256 oracleBefore = address(oracle).balance;
        vm.expectEmit(address(ingestor));
        emit IInstructionIngestor.BatchAttested(batchHash, 3, 0x7);
        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(address(ingestor));
            emit IInstructionIngestor.ResultIngested(b.rs[i].requestId, block.chainid, 0, b.rs[i].bodyHash, hex"00");
        }
        _post(b, sigs);
        assertEq(payee.balance, 1.5 ether, "every result paid once");
        assertEq(address(oracle).balance, oracleBefore - 3 * (1 ether - ETH_FEE), "the fees stay, the rest left");
        address[] memory signers = _signersOf(_three());
        for (uint256 i; i < 3; ++i) {
            assertEq(_status(b.rs[i].requestId), uint8(IExecutableOracle.RequestStatus.Ingested));
            // disputes accuse exactly the batch's signers of each of its results
            (uint256 at, bytes32 commitment) = ingestor.ingestionOf(block.chainid, b.rs[i].requestId);
            assertEq(at, block.timestamp);
            assertEq(commitment, ResultTypedData.signersCommitment(_structHash(b.rs[i]), signers));
        }
        // the fee ledger counted one share per signer per result, as for single ingests
        uint256 epoch = block.timestamp / 1 hours;
        uint256 share = ETH_FEE / 3;
        for (uint256 i; i < 3; ++i) {
            assertEq(oracle.signatureCount(address(operatorSet), 0, share, epoch, uint8(i)), 3);
        }
        assertEq(oracle.signatureCount(address(operatorSet), 0, share, epoch, 3), 0, "the non-signer earned nothing");
    }

    function test_batchDigest_isTheEIP712OfResultBatch() public {
        Batch memory b = _batch(2);
        assertEq(ingestor.batchDigest(b.rs), _batchDigestFor(b.rs, block.chainid, address(ingestor)));
    }

    function test_attestedBatch_forgedSignature_reverts() public {
        Batch memory b = _batch(2);
        bytes[] memory sigs = _attest(b.rs, _three());
        sigs[1] = new bytes(65); // unrecoverable
        vm.expectRevert(
            abi.encodeWithSelector(
                IInstructionIngestor.Ingestor_InvalidSignature.selector,
                keccak256(abi.encode(BATCH_TYPEHASH, keccak256(abi.encodePacked(_leaves(b.rs))))),
                1
            )
        );
        _post(b, sigs);
        assertEq(payee.balance, 0);
    }

    function test_attestedBatch_signerNotInTheSet_reverts() public {
        Batch memory b = _batch(2);
        uint256 outsiderKey = uint256(keccak256("outsider"));
        address outsider = vm.addr(outsiderKey);
        bytes32 digest = ingestor.batchDigest(b.rs);
        // two operators and the outsider, in ascending order
        bytes[] memory sigs = new bytes[](3);
        address[3] memory who = [operators[0], operators[1], outsider];
        uint256[3] memory keys = [operatorKeys[0], operatorKeys[1], outsiderKey];
        for (uint256 i = 1; i < 3; ++i) {
            for (uint256 j = i; j > 0 && who[j - 1] > who[j]; --j) {
                (who[j - 1], who[j]) = (who[j], who[j - 1]);
                (keys[j - 1], keys[j]) = (keys[j], keys[j - 1]);
            }
        }
        for (uint256 i; i < 3; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = abi.encodePacked(rr, s, v);
        }
        vm.expectRevert(abi.encodeWithSelector(IOperatorSet.OperatorSet_NotActive.selector, outsider));
        _post(b, sigs);
        assertEq(_status(b.rs[0].requestId), uint8(IExecutableOracle.RequestStatus.Open));
    }

    function test_attestedBatch_tooFewSignatures_reverts() public {
        Batch memory b = _batch(2);
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (0, 1);
        bytes[] memory sigs = _attest(b.rs, two);
        bytes32 batchHash = keccak256(abi.encode(BATCH_TYPEHASH, keccak256(abi.encodePacked(_leaves(b.rs)))));
        vm.expectRevert(
            abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotEnoughSignatures.selector, batchHash, 2, 3)
        );
        _post(b, sigs);
    }

    function test_attestedBatch_duplicatedSigner_reverts() public {
        Batch memory b = _batch(2);
        bytes[] memory sigs = _attest(b.rs, _three());
        sigs[2] = sigs[1];
        vm.expectPartialRevert(IInstructionIngestor.Ingestor_SignersNotAscending.selector);
        _post(b, sigs);
    }

    /// A poster that alters any attested result (here: raises a payout) or reorders the batch
    /// recovers other signers: the whole batch is refused and nothing moves.
    function test_attestedBatch_tamperedOrReorderedResult_reverts() public {
        Batch memory b = _batch(2);
        bytes[] memory sigs = _attest(b.rs, _three());
        Instruction[] memory greedy = _one(_transfer(payee, 0.9 ether));
        Result memory tampered = _result(b.rs[1].requestId, block.chainid, Ops.STATUS_OK, greedy);
        Batch memory t = Batch(new Result[](2), new Instruction[][](2), b.das);
        (t.rs[0], t.ixs[0], t.rs[1], t.ixs[1]) = (b.rs[0], b.ixs[0], tampered, greedy);
        vm.expectRevert();
        _post(t, sigs);
        Batch memory swapped = Batch(new Result[](2), new Instruction[][](2), b.das);
        (swapped.rs[0], swapped.ixs[0], swapped.rs[1], swapped.ixs[1]) = (b.rs[1], b.ixs[1], b.rs[0], b.ixs[0]);
        vm.expectRevert();
        _post(swapped, sigs);
        assertEq(payee.balance, 0, "nothing moved");
        _post(b, sigs);
        assertEq(payee.balance, 1 ether, "the batch as signed still lands");
    }

    /// Result signatures are not batch attestations, and a batch attestation is not a result
    /// signature: the typed data differ, so each recovers strangers in the other's place (refused as
    /// inactive, or as out of order, whichever the recovered addresses hit first).
    function test_signatureKinds_doNotStandInForEachOther() public {
        Batch memory b = _batch(1);
        bytes[] memory resultSigs = _sign(b.rs[0], _three());
        vm.expectRevert();
        _post(b, resultSigs);
        bytes[] memory batchSigs = _attest(b.rs, _three());
        vm.prank(poster);
        vm.expectRevert();
        ingestor.ingest(b.rs[0], b.ixs[0], batchSigs, hex"00");
        assertEq(_status(b.rs[0].requestId), uint8(IExecutableOracle.RequestStatus.Open));
    }

    /// Replaying an attested batch settles nothing twice: every result is skipped as ingested.
    function test_attestedBatch_replayed_paysNothingTwice() public {
        Batch memory b = _batch(2);
        bytes[] memory sigs = _attest(b.rs, _three());
        _post(b, sigs);
        uint256 oracleBefore = address(oracle).balance;
        uint256 payeeBefore = payee.balance;
        for (uint256 i; i < 2; ++i) {
            vm.expectEmit(address(ingestor));
            emit IInstructionIngestor.ResultSkipped(b.rs[i].requestId, block.chainid, 1);
        }
        _post(b, sigs);
        assertEq(payee.balance, payeeBefore);
        assertEq(address(oracle).balance, oracleBefore);
    }

    /// One result attested in two batches settles once: the second batch skips it and lands the rest.
    function test_resultInTwoBatches_settlesOnce() public {
        Batch memory first = _batch(2);
        _post(first, _attest(first.rs, _three()));
        Batch memory second = _batch(2);
        (second.rs[0], second.ixs[0]) = (first.rs[1], first.ixs[1]);
        uint256 payeeBefore = payee.balance;
        vm.expectEmit(address(ingestor));
        emit IInstructionIngestor.ResultSkipped(first.rs[1].requestId, block.chainid, 1);
        _post(second, _attest(second.rs, _three()));
        assertEq(payee.balance - payeeBefore, 0.5 ether, "only the new result paid");
        assertEq(_status(second.rs[1].requestId), uint8(IExecutableOracle.RequestStatus.Ingested));
    }

    /// A result that cannot settle (over budget, instructions that are not the signed ones) is
    /// skipped with its error; the batch's other results land.
    function test_attestedBatch_hostileResults_areSkippedAndTheRestLands() public {
        Batch memory b = _batch(4);
        // 1: spends more than escrow minus fee
        Instruction[] memory over = _one(_transfer(other, 1 ether));
        b.rs[1] = _result(b.rs[1].requestId, block.chainid, Ops.STATUS_OK, over);
        b.ixs[1] = over;
        // 2: the poster supplies other instructions than the signed ones
        b.ixs[2] = _one(_transfer(other, 0.1 ether));
        bytes[] memory sigs = _attest(b.rs, _three());
        vm.expectEmit(address(ingestor));
        emit IInstructionIngestor.ResultRejected(
            b.rs[1].requestId,
            block.chainid,
            IDisperser.Disperser_BudgetExceeded.selector
        );
        vm.expectEmit(address(ingestor));
        emit IInstructionIngestor.ResultRejected(
            b.rs[2].requestId,
            block.chainid,
            IInstructionIngestor.Ingestor_InstructionsMismatch.selector
        );
        _post(b, sigs);
        assertEq(payee.balance, 1 ether, "results 0 and 3 paid");
        assertEq(other.balance, 0);
        assertEq(_status(b.rs[1].requestId), uint8(IExecutableOracle.RequestStatus.Open));
        assertEq(_status(b.rs[2].requestId), uint8(IExecutableOracle.RequestStatus.Open));
    }

    /// A cross-chain MINT in an attested batch mints once; the same result again is skipped.
    function test_attestedBatch_crossChainMint_once() public {
        Batch memory b = Batch(new Result[](1), new Instruction[][](1), new bytes[](1));
        Instruction[] memory ix = _one(Instruction(Ops.MINT, other, 5e18, abi.encode(address(omni))));
        b.rs[0] = _result(keccak256("remote"), REMOTE_CHAIN, Ops.STATUS_OK, ix);
        b.ixs[0] = ix;
        bytes[] memory sigs = _attest(b.rs, _three());
        _post(b, sigs);
        assertEq(omni.balanceOf(other), 5e18);
        assertTrue(ingestor.isIngested(REMOTE_CHAIN, keccak256("remote")));
        _post(b, sigs);
        assertEq(omni.balanceOf(other), 5e18, "minted once");
    }

    function test_ingestAttestedOne_onlyFromItsBatch() public {
        Batch memory b = _batch(1);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotBatch.selector, poster));
        vm.prank(poster);
        ingestor.ingestAttestedOne(b.rs[0], b.ixs[0], hex"00", address(operatorSet), 7, 3, bytes32(0));
        // not even the ingestor itself outside a batch (no guard held)
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotBatch.selector, address(ingestor)));
        vm.prank(address(ingestor));
        ingestor.ingestAttestedOne(b.rs[0], b.ixs[0], hex"00", address(operatorSet), 7, 3, bytes32(0));
    }

    function test_attestedBatch_badShape_reverts() public {
        Batch memory b = _batch(2);
        bytes[] memory sigs = _attest(b.rs, _three());
        vm.expectRevert(IInstructionIngestor.Ingestor_EmptyBatch.selector);
        vm.prank(poster);
        ingestor.ingestAttested(new Result[](0), new Instruction[][](0), new bytes[](0), sigs);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_BatchLengthMismatch.selector, 2, 1, 3, 2));
        vm.prank(poster);
        ingestor.ingestAttested(b.rs, new Instruction[][](1), b.das, sigs);
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotPoster.selector, payee));
        vm.prank(payee);
        ingestor.ingestAttested(b.rs, b.ixs, b.das, sigs);
    }
}

/// @dev Signing a batch attests each of its results: equivocation and fraud proofs accept a batch
/// attestation (with the batch's struct hashes appended) like a result signature, so a batch
/// cannot be used to escape a slash; evidence that does not contain the result proves nothing.
contract AttestationProofsTest is StakingBase, AttestationHelpers {
    function setUp() public override(BaseTest, StakingBase) {
        StakingBase.setUp();
    }

    function _signBatchAs(uint256 which, Result[] memory rs) internal view returns (bytes memory) {
        uint256[] memory w = new uint256[](1);
        w[0] = which;
        return _signDigest(_batchDigestFor(rs, block.chainid, address(ingestor)), w)[0];
    }

    function _pair(bytes32 id) internal pure returns (Result memory a, Result memory b) {
        a = _result(id, 1, Ops.STATUS_OK, new Instruction[](0));
        b = _copy(a);
        b.bodyHash = keccak256("other body");
    }

    function test_equivocation_batchAttestationAgainstResultSignature_isSlashed() public {
        bytes32 id = keccak256("request");
        (Result memory a, Result memory b) = _pair(id);
        Result[] memory batch = new Result[](2);
        (batch[0], batch[1]) = (_result(keccak256("neighbour"), 1, Ops.STATUS_OK, new Instruction[](0)), a);
        bytes memory evidenceA = _evidence(_signBatchAs(1, batch), batch);
        uint256[] memory w = new uint256[](1);
        w[0] = 1;
        bytes memory sigB = _sign(b, w)[0];
        uint256 total = (BASE * SLASH_BPS) / 10_000;
        vm.expectEmit(address(registry));
        emit IStakingRegistry.EquivocationSlashed(
            operators[1],
            1,
            id,
            watcher,
            (total * REWARD_BPS) / 10_000,
            total - (total * REWARD_BPS) / 10_000
        );
        vm.prank(watcher);
        registry.proveEquivocation(a, evidenceA, b, sigB, block.chainid, address(ingestor));
        assertEq(_bonded(operators[1]), BASE - total);
    }

    function test_equivocation_twoBatchAttestations_isSlashedOnce() public {
        bytes32 id = keccak256("request");
        (Result memory a, Result memory b) = _pair(id);
        Result[] memory one = new Result[](1);
        one[0] = a;
        Result[] memory two = new Result[](1);
        two[0] = b;
        bytes memory ea = _evidence(_signBatchAs(2, one), one);
        bytes memory eb = _evidence(_signBatchAs(2, two), two);
        registry.proveEquivocation(a, ea, b, eb, block.chainid, address(ingestor));
        assertTrue(registry.equivocationSlashed(operators[2], 1, id));
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_AlreadySlashed.selector, operators[2], 1, id));
        registry.proveEquivocation(a, ea, b, eb, block.chainid, address(ingestor));
    }

    /// Evidence must contain the accused result: a batch signature over other results proves
    /// nothing about it, and truncated or padded evidence is malformed.
    function test_batchEvidence_withoutTheResult_orMalformed_isRefused() public {
        bytes32 id = keccak256("request");
        (Result memory a, Result memory b) = _pair(id);
        Result[] memory others = new Result[](1);
        others[0] = _result(keccak256("unrelated"), 1, Ops.STATUS_OK, new Instruction[](0));
        bytes memory sig = _signBatchAs(1, others);
        uint256[] memory w = new uint256[](1);
        w[0] = 1;
        bytes memory sigB = _sign(b, w)[0];
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidSignature.selector, 0));
        registry.proveEquivocation(a, _evidence(sig, others), b, sigB, block.chainid, address(ingestor));
        // claim the result is in the batch by appending its hash: the digest changes, the signer too
        Result[] memory forged = new Result[](2);
        (forged[0], forged[1]) = (others[0], a);
        vm.expectPartialRevert(IStakingRegistry.Staking_DifferentSigners.selector);
        registry.proveEquivocation(a, _evidence(sig, forged), b, sigB, block.chainid, address(ingestor));
        // not 65 + 32k bytes
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_InvalidSignature.selector, 0));
        registry.proveEquivocation(
            a,
            abi.encodePacked(_evidence(sig, others), bytes1(0x01)),
            b,
            sigB,
            block.chainid,
            address(ingestor)
        );
        assertFalse(registry.equivocationSlashed(operators[1], 1, id));
    }

    /// An unbacked mint attested in a batch on the destination is slashed like a signed one.
    function test_unbackedMint_provenWithABatchAttestation() public {
        bytes32 id = keccak256("mover request");
        SignedResult[] memory ds = new SignedResult[](1);
        ds[0] = _batchAttestedMint(id, 150);
        vm.prank(watcher);
        registry.proveUnbackedMint(_signedBurn(id, 100), ds);
        assertTrue(registry.faultSlashed(operators[0], registry.faultIdOf(block.chainid, id)));
    }

    function _signedBurn(bytes32 id, uint256 amount) internal view returns (SignedResult memory) {
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = Instruction(Ops.BURN, address(omni), amount, "");
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        return SignedResult(r, ix, _signFor(r, 0, block.chainid, address(ingestor)), block.chainid, address(ingestor));
    }

    /// @dev Operator 0's batch attestation of a one-result batch minting `amount` on chain 999999.
    function _batchAttestedMint(bytes32 id, uint256 amount) internal view returns (SignedResult memory) {
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = Instruction(Ops.MINT, payee, amount, abi.encode(address(omni)));
        Result[] memory batch = new Result[](1);
        batch[0] = _result(id, block.chainid, Ops.STATUS_OK, ix);
        uint256[] memory w = new uint256[](1);
        bytes memory sig = _signDigest(_batchDigestFor(batch, 999_999, address(0xDE57)), w)[0];
        return SignedResult(batch[0], ix, _evidence(sig, batch), 999_999, address(0xDE57));
    }
}
