// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {ExecutableOracle} from "../../contracts/ExecutableOracle.sol";
import {InstructionIngestor} from "../../contracts/InstructionIngestor.sol";
import {OmniToken} from "../../contracts/tokens/OmniToken.sol";
import {IExecutableOracle} from "../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";
import {Test} from "forge-std/Test.sol";

/// @dev Drives the oracle through requests, signed results, refunds, fee claims and cross-chain
/// mints, keeping the sums the contracts must honour (SPEC 7).
contract OracleHandler is Test {
    BaseInvariantTest internal immutable t;
    ExecutableOracle internal immutable oracle;
    InstructionIngestor internal immutable ingestor;
    OmniToken internal immutable omni;

    bytes32[] public ids;
    mapping(bytes32 => uint256) public amountOf;
    mapping(bytes32 => uint256) public settlements;
    uint256 public openEscrow;
    uint256 public feesBooked;
    uint256 public feesClaimed;
    uint256 public mintedBySignedResults;
    uint256 public doubleSettlements;
    uint256 internal remoteNonce;
    /// @dev Requests settled by a result, for the ingestion-record invariant.
    bytes32[] public ingestedIds;

    function ingestedCount() external view returns (uint256) {
        return ingestedIds.length;
    }

    /// @dev Fee-ledger epochs a result was booked in.
    uint256[] internal bookedEpochs;

    constructor(BaseInvariantTest test_, ExecutableOracle oracle_, InstructionIngestor ingestor_, OmniToken omni_) {
        t = test_;
        oracle = oracle_;
        ingestor = ingestor_;
        omni = omni_;
    }

    function request(uint96 amountSeed, uint32 ttlSeed) external {
        uint256 amount = bound(amountSeed, 1e14, 10 ether);
        uint64 ttl = uint64(bound(ttlSeed, 60, 1 days));
        address requester = t.requesterAddr();
        vm.deal(requester, amount);
        vm.prank(requester);
        bytes32 id = oracle.request{value: amount}(keccak256("program"), hex"1234", ttl);
        ids.push(id);
        amountOf[id] = amount;
        openEscrow += amount;
    }

    function ingest(uint256 idSeed, uint256 spendSeed, bool programError) external {
        if (ids.length == 0) return;
        bytes32 id = ids[idSeed % ids.length];
        uint256 amount = amountOf[id];
        uint256 spend = bound(spendSeed, 0, amount - 1e14);
        Instruction[] memory ix = programError ? new Instruction[](0) : new Instruction[](1);
        if (!programError) ix[0] = Instruction({op: Ops.TRANSFER, target: t.payeeAddr(), amount: spend, data: ""});
        Result memory r = t.buildResult(id, block.chainid, programError ? Ops.STATUS_PROGRAM_ERROR : Ops.STATUS_OK, ix);
        bytes[] memory sigs = t.signThree(r);
        vm.prank(t.posterAddr());
        try ingestor.ingest(r, ix, sigs, "") {
            if (++settlements[id] > 1) ++doubleSettlements;
            openEscrow -= amount;
            ingestedIds.push(id);
            feesBooked += (uint256(1e14) / 3) * 3;
            uint256 epoch = block.timestamp / 1 hours;
            if (bookedEpochs.length == 0 || bookedEpochs[bookedEpochs.length - 1] != epoch) bookedEpochs.push(epoch);
        } catch {}
    }

    function refund(uint256 idSeed, uint32 warp) external {
        if (ids.length == 0) return;
        vm.warp(block.timestamp + bound(warp, 0, 2 days));
        bytes32 id = ids[idSeed % ids.length];
        try oracle.refund(id) {
            if (++settlements[id] > 1) ++doubleSettlements;
            openEscrow -= amountOf[id];
        } catch {}
    }

    function claim(uint256 operatorSeed) external {
        address operator = t.operatorAddr(operatorSeed % 4);
        vm.prank(operator);
        try oracle.claimFees(address(t.operatorSetAddr()), 0, uint256(1e14) / 3, bookedEpochs) returns (uint256 paid) {
            feesClaimed += paid;
        } catch {}
    }

    function remoteMint(uint96 amountSeed, bool signed) external {
        uint256 amount = bound(amountSeed, 1, 10e18);
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = Instruction({op: Ops.MINT, target: t.payeeAddr(), amount: amount, data: abi.encode(address(omni))});
        Result memory r = t.buildResult(keccak256(abi.encode("remote", remoteNonce++)), 31338, Ops.STATUS_OK, ix);
        bytes[] memory sigs = signed ? t.signThree(r) : t.signTwo(r);
        vm.prank(t.posterAddr());
        try ingestor.ingest(r, ix, sigs, "") {
            mintedBySignedResults += amount;
        } catch {}
    }
}

abstract contract BaseInvariantTest is BaseTest {
    function requesterAddr() external view returns (address) {
        return requester;
    }

    function payeeAddr() external view returns (address) {
        return payee;
    }

    function posterAddr() external view returns (address) {
        return poster;
    }

    function operatorAddr(uint256 i) external view returns (address) {
        return operators[i];
    }

    function operatorSetAddr() external view returns (address) {
        return address(operatorSet);
    }

    function buildResult(
        bytes32 id,
        uint256 origin,
        uint8 status,
        Instruction[] memory ix
    ) external pure returns (Result memory) {
        return _result(id, origin, status, ix);
    }

    function signThree(Result memory r) external view returns (bytes[] memory) {
        return _sign(r, _three());
    }

    function signTwo(Result memory r) external view returns (bytes[] memory) {
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (1, 3);
        return _sign(r, two);
    }
}

contract InvariantsTest is BaseInvariantTest {
    OracleHandler internal handler;
    uint256 internal initialSupply;

    function setUp() public override {
        super.setUp();
        handler = new OracleHandler(this, oracle, ingestor, omni);
        initialSupply = omni.totalSupply();
        targetContract(address(handler));
    }

    /// Escrow solvency: the oracle holds at least every open escrow plus every unclaimed fee.
    function invariant_escrowSolvency() public view {
        assertGe(
            address(oracle).balance,
            handler.openEscrow() + handler.feesBooked() - handler.feesClaimed(),
            "insolvent"
        );
    }

    /// A request is settled at most once: ingested xor refunded.
    function invariant_settledAtMostOnce() public view {
        assertEq(handler.doubleSettlements(), 0);
    }

    /// Every ingested request keeps its ingestion time and a non-zero signers commitment (what a
    /// dispute needs to name the accused), and can never be refunded or settled again.
    function invariant_ingestionRecordKept() public view {
        uint256 n = handler.ingestedCount();
        // The latest few: every ingested id is the latest once, and checks stay linear in the run.
        for (uint256 i = n > 4 ? n - 4 : 0; i < n; ++i) {
            bytes32 id = handler.ingestedIds(i);
            (uint256 at, bytes32 commitment) = ingestor.ingestionOf(block.chainid, id);
            assertGt(at, 0, "ingestion time");
            assertLe(at, block.timestamp);
            assertTrue(commitment != bytes32(0), "signers commitment");
            assertEq(uint8(oracle.escrowOf(id).status), uint8(IExecutableOracle.RequestStatus.Ingested));
        }
    }

    /// No mint without a quorum-signed result: supply grows only by what signed results minted,
    /// and what the rate limit could not take yet is queued (issue 10: queued, never refused).
    function invariant_noMintWithoutQuorum() public view {
        assertEq(omni.totalSupply() + omni.queuedTotal(), initialSupply + handler.mintedBySignedResults());
    }
}
