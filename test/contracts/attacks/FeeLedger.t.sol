// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {IDisperser} from "../../../contracts/interfaces/IDisperser.sol";
import {IOperatorSet} from "../../../contracts/interfaces/IOperatorSet.sol";
import {IExecutableOracle} from "../../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Result, Ops} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev An operator set whose index 0 is recycled: `early` holds it before epoch `switchEpoch`,
/// `late` from then on (what a registry that recycles indices reports through indexIn).
contract RecyclingSet is IOperatorSet {
    address public immutable early;
    address public immutable late;
    uint256 public immutable switchEpoch;

    constructor(address early_, address late_, uint256 switchEpoch_) {
        (early, late, switchEpoch) = (early_, late_, switchEpoch_);
    }

    function threshold() external pure returns (uint256) {
        return 1;
    }

    function checkSigners(address[] calldata signers) external view returns (uint256, uint256 bitmap) {
        for (uint256 i; i < signers.length; ++i) {
            bool holds = block.timestamp / 1 hours < switchEpoch ? signers[i] == early : signers[i] == late;
            if (!holds) revert OperatorSet_NotActive(signers[i]);
            bitmap |= 1;
        }
        return (1, bitmap);
    }

    function indexOf(address operator) external view returns (bool, uint8) {
        return (operator == early || operator == late, 0);
    }

    function indexIn(address operator, uint256 epoch) external view returns (bool, uint8) {
        return (epoch < switchEpoch ? operator == early : operator == late, 0);
    }

    function isActive(address operator) external view returns (bool) {
        return block.timestamp / 1 hours < switchEpoch ? operator == early : operator == late;
    }

    function allOperators() external view returns (address[] memory list) {
        list = new address[](1);
        list[0] = block.timestamp / 1 hours < switchEpoch ? early : late;
    }
}

/// @dev Claims any index in any epoch for whoever asks.
contract LyingSet {
    function indexIn(address, uint256) external pure returns (bool, uint8) {
        return (true, 0);
    }
}

/// @dev Attacks on fee accounting: epochs, recycled indices, double claims, same-second fee changes.
contract FeeLedgerAttackTest is BaseTest {
    uint256 internal constant SHARE = ETH_FEE / 3;

    function _settleOne() internal returns (bytes32 id) {
        id = _requestEth(1 ether);
        Instruction[] memory none = new Instruction[](0);
        _ingest(_result(id, block.chainid, Ops.STATUS_PROGRAM_ERROR, none), none);
    }

    function _epochs(uint256 a) internal pure returns (uint256[] memory e) {
        e = new uint256[](1);
        e[0] = a;
    }

    /// A new holder of a recycled index cannot take the fees its predecessor earned in earlier epochs.
    function test_recycledIndex_earlierEpochsStayWithTheEarlierHolder() public {
        uint256 earlyKey = uint256(keccak256("early"));
        uint256 lateKey = uint256(keccak256("late"));
        address earlyOp = vm.addr(earlyKey);
        address lateOp = vm.addr(lateKey);
        uint256 e0 = block.timestamp / 1 hours;
        RecyclingSet set = new RecyclingSet(earlyOp, lateOp, e0 + 1);
        vm.prank(owner);
        ingestor.setOperatorSet(IOperatorSet(address(set)));

        // epoch e0: the early holder signs one result (fee 1e14 to a single signer)
        _ingestSignedBy(earlyKey);
        // epoch e0 + 1: index 0 now belongs to the late holder, who signs one result
        vm.warp(block.timestamp + 1 hours);
        _ingestSignedBy(lateKey);

        assertEq(oracle.signatureCount(address(set), 0, ETH_FEE, e0, 0), 1);
        assertEq(oracle.signatureCount(address(set), 0, ETH_FEE, e0 + 1, 0), 1);

        // the late holder lists both epochs: it is paid for its own epoch only
        uint256[] memory both = new uint256[](2);
        (both[0], both[1]) = (e0, e0 + 1);
        assertEq(oracle.claimableShares(address(set), 0, ETH_FEE, both, lateOp), 1);
        vm.prank(lateOp);
        uint256 paid = oracle.claimFees(address(set), 0, ETH_FEE, both);
        assertEq(paid, ETH_FEE);
        assertEq(lateOp.balance, ETH_FEE, "late holder: its own epoch");
        // the early holder still gets its epoch
        vm.prank(earlyOp);
        oracle.claimFees(address(set), 0, ETH_FEE, both);
        assertEq(earlyOp.balance, ETH_FEE, "early holder: its own epoch");
        assertEq(address(oracle).balance, 0, "everything paid, nothing twice");
    }

    function _ingestSignedBy(uint256 key) internal {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory none = new Instruction[](0);
        Result memory r = _result(id, block.chainid, Ops.STATUS_PROGRAM_ERROR, none);
        bytes[] memory sigs = new bytes[](1);
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, ingestor.resultDigest(r));
        sigs[0] = abi.encodePacked(rr, s, v);
        vm.prank(poster);
        ingestor.ingest(r, none, sigs, "");
    }

    /// Listing an epoch twice, or claiming again, pays nothing more.
    function test_claim_duplicateEpochsAndRepeatedClaimsPayOnce() public {
        _settleOne();
        _settleOne();
        uint256 e = block.timestamp / 1 hours;
        uint256[] memory twice = new uint256[](2);
        (twice[0], twice[1]) = (e, e);
        assertEq(oracle.claimableShares(address(operatorSet), 0, SHARE, twice, operators[0]), 2);
        vm.prank(operators[0]);
        uint256 paid = oracle.claimFees(address(operatorSet), 0, SHARE, twice);
        assertEq(paid, 2 * SHARE);
        assertEq(operators[0].balance, 2 * SHARE);
        vm.prank(operators[0]);
        vm.expectRevert(abi.encodeWithSelector(IDisperser.Disperser_NothingToClaim.selector, operators[0], 0, SHARE));
        oracle.claimFees(address(operatorSet), 0, SHARE, twice);
        assertEq(operators[0].balance, 2 * SHARE);
        // a non-signer (operator 3) has a lane but no count
        vm.prank(operators[3]);
        vm.expectRevert(abi.encodeWithSelector(IDisperser.Disperser_NothingToClaim.selector, operators[3], 0, SHARE));
        oracle.claimFees(address(operatorSet), 0, SHARE, twice);
        assertEq(operators[3].balance, 0);
    }

    /// An epoch still running is claimable again for what it counted since the last claim.
    function test_claim_runningEpochPaysOnlyTheIncrement() public {
        _settleOne();
        uint256[] memory e = _epochs(block.timestamp / 1 hours);
        vm.prank(operators[1]);
        oracle.claimFees(address(operatorSet), 0, SHARE, e);
        _settleOne();
        vm.prank(operators[1]);
        assertEq(oracle.claimFees(address(operatorSet), 0, SHARE, e), SHARE);
        assertEq(operators[1].balance, 2 * SHARE);
    }

    /// A fake operator set that says everybody holds index 0 reads only its own (empty) ledger.
    function test_claim_throughALyingSet_paysNothing() public {
        _settleOne();
        LyingSet liar = new LyingSet();
        address thief = makeAddr("thief");
        uint256 before = address(oracle).balance;
        vm.prank(thief);
        vm.expectRevert(abi.encodeWithSelector(IDisperser.Disperser_NothingToClaim.selector, thief, 0, SHARE));
        oracle.claimFees(address(liar), 0, SHARE, _epochs(block.timestamp / 1 hours));
        assertEq(address(oracle).balance, before);
        assertEq(thief.balance, 0);
    }

    /// An outsider of the real set cannot claim at all.
    function test_claim_byAnOutsider_reverts() public {
        _settleOne();
        address outsider = makeAddr("outsider");
        vm.prank(outsider);
        vm.expectRevert(
            abi.encodeWithSelector(IDisperser.Disperser_NotOperator.selector, address(operatorSet), outsider)
        );
        oracle.claimFees(address(operatorSet), 0, SHARE, _epochs(block.timestamp / 1 hours));
    }

    /// Counts are kept per epoch: a result books into the epoch of its ingestion.
    function test_signatureCount_isPerEpoch() public {
        uint256 e = block.timestamp / 1 hours;
        _settleOne();
        vm.warp(block.timestamp + 1 hours);
        _settleOne();
        _settleOne();
        assertEq(oracle.signatureCount(address(operatorSet), 0, SHARE, e, 0), 1);
        assertEq(oracle.signatureCount(address(operatorSet), 0, SHARE, e + 1, 0), 2);
        assertEq(oracle.signatureCount(address(operatorSet), 0, SHARE, e + 1, 3), 0, "operator 3 did not sign");
    }

    /// The ledger costs one storage write per group of 8 signers and the settlement one (the escrow slot).
    function test_ingest_writesTwoSlotsOfTheOracle() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory none = new Instruction[](0);
        Result memory r = _result(id, block.chainid, Ops.STATUS_PROGRAM_ERROR, none);
        bytes[] memory sigs = _sign(r, _three());
        vm.record();
        vm.prank(poster);
        ingestor.ingest(r, none, sigs, "");
        (, bytes32[] memory writes) = vm.accesses(address(oracle));
        assertEq(writes.length, 2, "escrow slot + one ledger group");
    }

    /// A fee cut in the same second as a request never overcharges it, whichever came first.
    function test_feeCut_sameSecond_chargesWhatTheRequestWasCheckedAgainst() public {
        vm.warp(block.timestamp + 10);
        bytes32 before = _requestEth(1 ether); // checked against 1e14
        vm.prank(owner);
        oracle.setFee(address(0), 4e13); // cut, same second
        bytes32 afterCut = _requestEth(1 ether); // checked against 4e13, same second
        Instruction[] memory none = new Instruction[](0);
        uint256 start = requester.balance;
        _ingest(_result(afterCut, block.chainid, Ops.STATUS_PROGRAM_ERROR, none), none);
        assertEq(requester.balance, start + 1 ether - 4e13, "charged the new, lower fee");
        _ingest(_result(before, block.chainid, Ops.STATUS_PROGRAM_ERROR, none), none);
        assertEq(requester.balance, start + 2 ether - 4e13 - ETH_FEE, "charged the fee it paid for");
    }

    /// A fee raise in the same second: the request before it pays the old fee, after it the new.
    function test_feeRaise_sameSecond_chargesWhatTheRequestWasCheckedAgainst() public {
        bytes32 before = _requestEth(1 ether);
        vm.prank(owner);
        oracle.setFee(address(0), 3e14);
        vm.prank(requester);
        vm.expectRevert(
            abi.encodeWithSelector(IExecutableOracle.Oracle_FeeNotCovered.selector, address(0), 2e14, 3e14)
        );
        oracle.request{value: 2e14}(PROGRAM, hex"1234", 1 hours);
        bytes32 afterRaise = _requestEth(1 ether);
        Instruction[] memory none = new Instruction[](0);
        uint256 start = requester.balance;
        _ingest(_result(before, block.chainid, Ops.STATUS_PROGRAM_ERROR, none), none);
        _ingest(_result(afterRaise, block.chainid, Ops.STATUS_PROGRAM_ERROR, none), none);
        assertEq(requester.balance, start + 2 ether - ETH_FEE - 3e14);
    }
}
