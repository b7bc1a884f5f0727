// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {ExecutableOracle} from "../../../contracts/ExecutableOracle.sol";
import {IExecutableOracle} from "../../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Ops} from "../../../contracts/interfaces/IInstruction.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @dev Takes 1 % of every transfer from the amount the recipient receives (inbound fee).
contract FeeOnTransferToken is ERC20 {
    constructor(address holder) ERC20("Fee", "FEE") {
        _mint(holder, 1_000e18);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0xdead), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// @dev Charges the sender an extra 1 % on plain `transfer` (outbound from the oracle), on top of
/// the amount: the recipient gets all of it, the sender's balance drops by more.
contract OutboundFeeToken is ERC20 {
    constructor(address holder) ERC20("Out", "OUT") {
        _mint(holder, 1_000e18);
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        _update(msg.sender, address(0xdead), value / 100);
        return super.transfer(to, value);
    }
}

/// @dev Attacks through assets: zero fees, tokens that move other amounts than asked.
contract AssetsAttackTest is BaseTest {
    /// A zero fee cannot be set by mistake: it takes setFree, which says so in an event.
    function test_zeroFee_isRefusedUnlessMadeFreeOnPurpose() public {
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_ZeroFee.selector, address(0)));
        oracle.setFee(address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_ZeroFee.selector, address(token)));
        oracle.setFee(address(token), 0);
        FeeOnTransferToken other = new FeeOnTransferToken(owner);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_ZeroFee.selector, address(other)));
        oracle.acceptToken(address(other), 0, 1e18);
        vm.stopPrank();
        // a request still pays the ETH fee
        vm.prank(requester);
        vm.expectRevert(
            abi.encodeWithSelector(IExecutableOracle.Oracle_FeeNotCovered.selector, address(0), 0, ETH_FEE)
        );
        oracle.request{value: 0}(PROGRAM, hex"1234", 1 hours);
        // on purpose: the owner makes ETH free, with an event
        vm.expectEmit(address(oracle));
        emit IExecutableOracle.AssetMadeFree(address(0));
        vm.prank(owner);
        oracle.setFree(address(0));
        assertEq(oracle.feeOf(address(0)), 0);
        vm.prank(requester);
        oracle.request{value: 0}(PROGRAM, hex"1234", 1 hours);
    }

    /// The constructor refuses a zero ETH fee too.
    function test_constructor_refusesAZeroEthFee() public {
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_ZeroFee.selector, address(0)));
        new ExecutableOracle(owner, 0);
    }

    /// Making an asset free is an owner action like any fee change.
    function test_setFree_isOwnerOnly() public {
        vm.prank(requester);
        vm.expectRevert();
        oracle.setFree(address(0));
        assertEq(oracle.feeOf(address(0)), ETH_FEE);
    }

    /// A token that delivers less than sent is refused at acceptance: no requester can ever escrow it.
    function test_feeOnTransferToken_isRefusedAtAcceptance() public {
        FeeOnTransferToken fot = new FeeOnTransferToken(owner);
        uint256 ownerBefore = fot.balanceOf(owner);
        vm.startPrank(owner);
        fot.approve(address(oracle), 100e18);
        vm.expectRevert(
            abi.encodeWithSelector(IExecutableOracle.Oracle_TokenNotExact.selector, address(fot), 0, 100e18, 99e18)
        );
        oracle.acceptToken(address(fot), 1e15, 100e18);
        vm.stopPrank();
        assertEq(fot.balanceOf(owner), ownerBefore, "the probe reverted whole");
        assertEq(fot.balanceOf(address(oracle)), 0);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_TokenNotAccepted.selector, address(fot)));
        oracle.setFee(address(fot), 1e15);
    }

    /// A token that debits the sender more than it sends would drain other requesters' escrow on
    /// every payout: it is refused at acceptance.
    function test_outboundFeeToken_isRefusedAtAcceptance() public {
        OutboundFeeToken out = new OutboundFeeToken(owner);
        uint256 ownerBefore = out.balanceOf(owner);
        vm.startPrank(owner);
        // tokens already at the oracle (as other requesters' escrow would be) pay the hidden fee
        out.transfer(address(oracle), 10e18);
        ownerBefore = out.balanceOf(owner);
        out.approve(address(oracle), 100e18);
        vm.expectRevert(
            abi.encodeWithSelector(IExecutableOracle.Oracle_TokenNotExact.selector, address(out), 1, 100e18, 101e18)
        );
        oracle.acceptToken(address(out), 1e15, 100e18);
        vm.stopPrank();
        assertEq(out.balanceOf(owner), ownerBefore, "the probe reverted whole");
        assertEq(out.balanceOf(address(oracle)), 10e18, "the oracle's holdings untouched");
        // and since it is not accepted, nobody can escrow it
        vm.prank(owner);
        out.transfer(requester, 10e18);
        vm.startPrank(requester);
        out.approve(address(oracle), 10e18);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_TokenNotAccepted.selector, address(out)));
        oracle.requestWithToken(PROGRAM, hex"1234", 1 hours, address(out), 10e18);
        vm.stopPrank();
        assertEq(out.balanceOf(address(oracle)), 10e18);
    }

    /// An exact token is accepted once; the probe leaves both balances as they were.
    function test_acceptToken_exactTokenRoundTripsAndIsAcceptedOnce() public {
        vm.prank(requester);
        token.transfer(owner, 5e18);
        vm.startPrank(owner);
        token.approve(address(oracle), 5e18);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_TokenAlreadyAccepted.selector, address(token)));
        oracle.acceptToken(address(token), 1e15, 5e18);
        vm.stopPrank();
        assertEq(token.balanceOf(owner), 5e18);
    }

    /// Balance-delta accounting on the request side: the oracle holds exactly what it owes.
    function test_requestWithToken_escrowsExactlyTheAmount() public {
        uint256 before = token.balanceOf(requester);
        bytes32 id = _requestToken(address(token), 3e18);
        assertEq(token.balanceOf(address(oracle)), 3e18);
        assertEq(token.balanceOf(requester), before - 3e18);
        Instruction[] memory none = new Instruction[](0);
        _ingest(_result(id, block.chainid, Ops.STATUS_PROGRAM_ERROR, none), none);
        assertEq(token.balanceOf(requester), before - 1e15, "everything but the fee came back");
        assertEq(token.balanceOf(address(oracle)), 1e15, "the oracle holds exactly the fee it owes");
    }
}
