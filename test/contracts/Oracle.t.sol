// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {IExecutableOracle} from "../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Ops} from "../../contracts/interfaces/IInstruction.sol";

contract OracleTest is BaseTest {
    function test_request_escrowsAndEmits() public {
        bytes32 expected = oracle.nextRequestId(requester, PROGRAM, hex"1234");
        vm.expectEmit(address(oracle));
        emit IExecutableOracle.ExecutionRequested(
            expected,
            PROGRAM,
            requester,
            address(0),
            1 ether,
            uint64(block.timestamp + 1 hours),
            hex"1234"
        );
        bytes32 id = _requestEth(1 ether);
        assertEq(id, expected);
        uint256 hash = uint256(
            keccak256(abi.encode(block.chainid, address(oracle), requester, uint256(0), PROGRAM, keccak256(hex"1234")))
        );
        assertEq(id, bytes32(uint256(uint192(hash))), "nonce 0 in the top 64 bits, then 192 bits of the hash");
        IExecutableOracle.EscrowInfo memory info = oracle.escrowOf(id);
        assertEq(info.requester, requester);
        assertEq(info.amount, 1 ether);
        assertEq(uint8(info.status), uint8(IExecutableOracle.RequestStatus.Open));
        assertEq(address(oracle).balance, 1 ether);
    }

    function test_request_revertsOnUnknownProgram() public {
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_UnknownProgram.selector, bytes32(uint256(1))));
        oracle.request{value: 1 ether}(bytes32(uint256(1)), "", 1 hours);
    }

    function test_request_revertsOnBadTtl() public {
        vm.startPrank(requester);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_InvalidTtl.selector, 0, 7 days));
        oracle.request{value: 1 ether}(PROGRAM, "", 0);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_InvalidTtl.selector, 7 days + 1, 7 days));
        oracle.request{value: 1 ether}(PROGRAM, "", 7 days + 1);
        vm.stopPrank();
    }

    function test_request_revertsWhenFeeNotCovered() public {
        vm.prank(requester);
        vm.expectRevert(
            abi.encodeWithSelector(IExecutableOracle.Oracle_FeeNotCovered.selector, address(0), 1, ETH_FEE)
        );
        oracle.request{value: 1}(PROGRAM, "", 1 hours);
    }

    function test_requestWithToken_revertsOnTokenNotAccepted() public {
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_TokenNotAccepted.selector, address(0xBEEF)));
        oracle.requestWithToken(PROGRAM, "", 1 hours, address(0xBEEF), 1);
    }

    function test_refund_afterDeadlineReturnsEverything() public {
        bytes32 id = _requestEth(1 ether);
        uint256 before = requester.balance;
        vm.expectRevert(
            abi.encodeWithSelector(
                IExecutableOracle.Oracle_DeadlineNotReached.selector,
                id,
                uint64(block.timestamp + 1 hours),
                block.timestamp
            )
        );
        oracle.refund(id);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectEmit(address(oracle));
        emit IExecutableOracle.Refunded(id, requester, 1 ether);
        oracle.refund(id);
        assertEq(requester.balance, before + 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IExecutableOracle.Oracle_RequestNotOpen.selector,
                id,
                IExecutableOracle.RequestStatus.Refunded
            )
        );
        oracle.refund(id);
    }

    function test_refund_tokenRequest() public {
        bytes32 id = _requestToken(address(token), 5e18);
        vm.warp(block.timestamp + 2 hours);
        oracle.refund(id);
        assertEq(token.balanceOf(requester), 1_000_000e18, "the whole escrow came back");
        assertEq(token.balanceOf(address(oracle)), 0);
    }

    function test_refund_deferredWhenRequesterRefusesEth() public {
        Refuser refuser = new Refuser();
        vm.deal(address(refuser), 1 ether);
        vm.prank(address(refuser));
        bytes32 id = oracle.request{value: 1 ether}(PROGRAM, "", 1 hours);
        vm.warp(block.timestamp + 2 hours);
        oracle.refund(id);
        assertEq(oracle.pendingWithdrawal(address(refuser), address(0)), 1 ether);
        refuser.setAccept(true);
        vm.prank(address(refuser));
        oracle.withdraw(address(0));
        assertEq(address(refuser).balance, 1 ether);
    }

    function test_receive_refusesPlainEth() public {
        vm.expectRevert(abi.encodeWithSelector(IExecutableOracle.Oracle_DirectEthRefused.selector, requester, 1));
        vm.prank(requester);
        (bool ok, ) = address(oracle).call{value: 1}("");
        ok;
    }

    function test_setFee_isRateLimitedAndSnapshotsOpenRequests() public {
        // The first change after deployment is free (no request paid an earlier fee)...
        vm.warp(block.timestamp + 1);
        vm.prank(owner);
        oracle.setFee(address(0), 2e14);
        uint256 changedAt = block.timestamp;
        // ...the next one waits MAX_TTL, so only two fees can apply to open requests.
        vm.warp(block.timestamp + 1);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IExecutableOracle.Oracle_FeeChangeTooSoon.selector, address(0), changedAt + 7 days)
        );
        oracle.setFee(address(0), 3e14);
        vm.warp(changedAt + 7 days);
        // an open request made before the change pays the fee it was checked against
        bytes32 early = _requestEth(1 ether);
        vm.warp(block.timestamp + 1);
        vm.prank(owner);
        oracle.setFee(address(0), 5e14);
        Instruction[] memory none = new Instruction[](0);
        uint256 before = requester.balance;
        _ingest(_result(early, block.chainid, Ops.STATUS_PROGRAM_ERROR, none), none);
        assertEq(requester.balance, before + 1 ether - 2e14);
    }

    function test_publish_namesResolveToLatestAndAreOwned() public {
        vm.prank(owner);
        oracle.publish(bytes32(uint256(7)), "program", "v2");
        assertEq(oracle.resolve("program"), bytes32(uint256(7)));
        vm.prank(requester);
        vm.expectRevert();
        oracle.publish(bytes32(uint256(8)), "program", "hijack");
    }
}

contract Refuser {
    bool internal accept;

    function setAccept(bool a) external {
        accept = a;
    }

    receive() external payable {
        require(accept, "no");
    }
}
