// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {console} from "forge-std/console.sol";
import {Vm} from "forge-std/Vm.sol";
import {ExecutableOracle} from "../../../contracts/ExecutableOracle.sol";
import {IDisperser} from "../../../contracts/interfaces/IDisperser.sol";
import {IExecutableOracle} from "../../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Result, Ops} from "../../../contracts/interfaces/IInstruction.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @dev Accepts anything and does nothing: the well-behaved target gas is compared against.
contract NormalTarget {
    fallback() external payable {}
}

/// @dev Burns every unit of gas it is given.
contract GasGuzzler {
    fallback() external payable {
        while (true) {}
    }
}

/// @dev Returns (or reverts with) as many bytes as its gas allows.
contract ReturnBomber {
    bool internal immutable asRevert;

    constructor(bool asRevert_) {
        asRevert = asRevert_;
    }

    fallback() external payable {
        bool r = asRevert;
        assembly {
            if r {
                revert(0, 250000)
            }
            return(0, 250000)
        }
    }
}

/// @dev Succeeds only with nearly its whole limit: a poster that starves it could make it fail.
contract GasSensitive {
    fallback() external payable {
        require(gasleft() >= 190_000, "starved");
    }
}

/// @dev Pulls its allowance, then burns its gas: the allowance must still end at zero.
contract PullThenGuzzle {
    function go(IERC20 asset, uint256 amount) external {
        asset.transferFrom(msg.sender, address(this), amount);
        while (true) {}
    }
}

/// @dev A requester whose `receive` can accept, revert, burn its gas or bomb its return data.
contract HostileRequester {
    uint8 public mode; // 0 accept, 1 revert, 2 guzzle, 3 bomb

    function setMode(uint8 m) external {
        mode = m;
    }

    function request(ExecutableOracle oracle, bytes32 program) external payable returns (bytes32) {
        return oracle.request{value: msg.value}(program, hex"1234", 1 hours);
    }

    function withdraw(ExecutableOracle oracle) external {
        oracle.withdraw(address(0));
    }

    receive() external payable {
        uint8 m = mode;
        if (m == 1) revert("no");
        if (m == 2) while (true) {}
        if (m == 3) {
            assembly {
                return(0, 250000)
            }
        }
    }
}

/// @dev Issue 10 attack 4: a CALL or TRANSFER target, or the requester's own `receive`, cannot sink
/// its result (or a batch), cannot make the poster pay more than the CALL limit, and a poster
/// cannot make a call fail by starving it of gas.
contract HostileTargetsAttackTest is BaseTest {
    function _call(address target, uint256 amount) internal pure returns (Instruction memory) {
        return Instruction({op: Ops.CALL, target: target, amount: amount, data: hex"01"});
    }

    function _signed(bytes32 id, Instruction[] memory ix) internal view returns (Result memory r, bytes[] memory s) {
        r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        s = _sign(r, _three());
    }

    /// @dev Gas the poster's ingest of one ETH CALL of 0.5 ether to `target` uses.
    function _ingestGas(address target) internal returns (uint256 used) {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_call(target, 0.5 ether));
        (Result memory r, bytes[] memory sigs) = _signed(id, ix);
        vm.prank(poster);
        uint256 g = gasleft();
        ingestor.ingest(r, ix, sigs, "");
        used = g - gasleft();
    }

    /// Every hostile CALL target fails its own instruction, its share goes back to the requester,
    /// and it costs the poster at most the CALL gas limit (plus the failure event) more than a
    /// well-behaved target. Before issue 10 a return bomb made the ingest revert at any gas limit.
    function test_hostileCallTargets_costAtMostTheCallLimitMore() public {
        // one ingest first warms the suite's own slots (operator set, fee ledger), which every
        // later ingest then shares: what differs below is the target alone
        _ingestGas(address(new NormalTarget()));
        uint256 guzzler = _ingestGas(address(new GasGuzzler()));
        uint256 bomber = _ingestGas(address(new ReturnBomber(false)));
        uint256 revertBomber = _ingestGas(address(new ReturnBomber(true)));
        uint256 normal = _ingestGas(address(new NormalTarget()));
        uint256 limit = oracle.CALL_GAS_LIMIT();
        console.log("ingest gas, one ETH CALL: normal target      ", normal);
        console.log("ingest gas, one ETH CALL: gas guzzler         ", guzzler);
        console.log("ingest gas, one ETH CALL: return bomber       ", bomber);
        console.log("ingest gas, one ETH CALL: revert bomber       ", revertBomber);
        console.log("CALL_GAS_LIMIT                                ", limit);
        // The target's limit, plus the failure event's extra bytes over CallExecuted (its reason is
        // at most MAX_RETURN_COPY bytes: 8 gas a byte, plus the words around it).
        uint256 eventSlack = 8 * oracle.MAX_RETURN_COPY() + 1_000;
        assertLe(guzzler - normal, limit + eventSlack, "guzzler");
        assertLe(bomber - normal, limit + eventSlack, "return bomb");
        assertLe(revertBomber - normal, limit + eventSlack, "revert bomb");
        assertEq(address(oracle).balance, 5 * ETH_FEE, "the oracle keeps only the fees");
    }

    /// A return-bombing target's result settles; its share is refunded; the reason kept is truncated.
    function test_revertBombTarget_refundsShareWithTruncatedReason() public {
        ReturnBomber bomber = new ReturnBomber(true);
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_call(address(bomber), 0.5 ether));
        (Result memory r, bytes[] memory sigs) = _signed(id, ix);
        uint256 before = requester.balance;
        vm.recordLogs();
        vm.prank(poster);
        ingestor.ingest(r, ix, sigs, "");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool seen;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == IDisperser.InstructionFailed.selector) {
                (, , , bytes memory reason) = abi.decode(logs[i].data, (uint256, uint8, address, bytes));
                assertEq(reason.length, oracle.MAX_RETURN_COPY(), "reason truncated");
                seen = true;
            }
        }
        assertTrue(seen, "failure reported");
        assertEq(address(bomber).balance, 0);
        assertEq(requester.balance, before + 1 ether - ETH_FEE, "whole share refunded");
    }

    /// ETH TRANSFERs to hostile receivers fail alone (stipend), refunded, and the result settles.
    function test_hostileTransferReceivers_refundTheirShare() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = new Instruction[](4);
        ix[0] = _transfer(address(new GasGuzzler()), 0.1 ether);
        ix[1] = _transfer(address(new ReturnBomber(false)), 0.1 ether);
        ix[2] = _transfer(address(new ReturnBomber(true)), 0.1 ether);
        ix[3] = _transfer(payee, 0.1 ether);
        uint256 before = requester.balance;
        _ingest(_result(id, block.chainid, Ops.STATUS_OK, ix), ix);
        assertEq(payee.balance, 0.1 ether, "the honest payee is paid");
        assertEq(requester.balance, before + 0.9 ether - ETH_FEE, "three failed shares refunded");
        assertEq(address(oracle).balance, ETH_FEE);
    }

    /// The requester's own `receive` reverting, burning its gas or bombing its return data defers
    /// its refund (withdraw later) instead of sinking the settlement.
    function test_hostileRequesterReceive_defersRefund() public {
        for (uint8 mode = 1; mode <= 3; ++mode) {
            HostileRequester hostile = new HostileRequester();
            vm.deal(address(hostile), 0);
            hostile.setMode(mode);
            bytes32 id = hostile.request{value: 1 ether}(oracle, PROGRAM);
            Instruction[] memory ix = _one(_transfer(payee, 0.25 ether));
            uint256 payeeBefore = payee.balance;
            _ingest(_result(id, block.chainid, Ops.STATUS_OK, ix), ix);
            assertEq(payee.balance, payeeBefore + 0.25 ether, "payee paid");
            uint256 owed = 0.75 ether - ETH_FEE;
            assertEq(oracle.pendingWithdrawal(address(hostile), address(0)), owed, "refund deferred");
            assertEq(uint8(oracle.escrowOf(id).status), uint8(IExecutableOracle.RequestStatus.Ingested));
            hostile.setMode(0);
            hostile.withdraw(oracle);
            assertEq(address(hostile).balance, owed, "withdrawn later");
        }
    }

    /// A hostile result in a batch does not sink the honest result next to it.
    function test_batch_hostileResultDoesNotSinkHonestOne() public {
        bytes32 bad = _requestEth(1 ether);
        bytes32 good = _requestEth(1 ether);
        Result[] memory rs = new Result[](2);
        Instruction[][] memory ixs = new Instruction[][](2);
        bytes[][] memory sigs = new bytes[][](2);
        bytes[] memory da = new bytes[](2);
        ixs[0] = _one(_call(address(new ReturnBomber(true)), 0.5 ether));
        ixs[1] = _one(_transfer(payee, 0.5 ether));
        (rs[0], sigs[0]) = _signed(bad, ixs[0]);
        (rs[1], sigs[1]) = _signed(good, ixs[1]);
        vm.prank(poster);
        ingestor.ingestBatch(rs, ixs, sigs, da);
        assertEq(uint8(oracle.escrowOf(bad).status), uint8(IExecutableOracle.RequestStatus.Ingested));
        assertEq(uint8(oracle.escrowOf(good).status), uint8(IExecutableOracle.RequestStatus.Ingested));
        assertEq(payee.balance, 0.5 ether);
        assertEq(address(oracle).balance, 2 * ETH_FEE);
    }

    /// Whatever gas the poster gives, either the whole ingest reverts (GasTooLow or out of gas) or
    /// the target got its whole limit: a poster cannot make a call fail on purpose.
    function test_posterCannotStarveACallIntoFailing() public {
        GasSensitive target = new GasSensitive();
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_call(address(target), 0.5 ether));
        (Result memory r, bytes[] memory sigs) = _signed(id, ix);
        uint256 reverted;
        uint256 succeeded;
        for (uint256 g = 150_000; g <= 600_000; g += 5_000) {
            uint256 snap = vm.snapshotState();
            vm.prank(poster);
            try ingestor.ingest{gas: g}(r, ix, sigs, "") {
                ++succeeded;
                assertEq(address(target).balance, 0.5 ether, "settled only with the target's call succeeding");
            } catch {
                ++reverted;
                assertEq(uint8(oracle.escrowOf(id).status), uint8(IExecutableOracle.RequestStatus.Open));
                assertEq(address(target).balance, 0);
            }
            vm.revertToState(snap);
        }
        assertGt(reverted, 0, "low gas refused");
        assertGt(succeeded, 0, "enough gas settles");
    }

    /// The refusal names the gas shortfall.
    function test_posterWithTooLittleGas_getsGasTooLow() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_call(address(new GasGuzzler()), 0.5 ether));
        (Result memory r, bytes[] memory sigs) = _signed(id, ix);
        vm.prank(poster);
        (bool ok, bytes memory err) = address(ingestor).call{gas: 230_000}(
            abi.encodeCall(ingestor.ingest, (r, ix, sigs, ""))
        );
        assertFalse(ok);
        assertEq(bytes4(err), IDisperser.Disperser_GasTooLow.selector);
        assertEq(uint8(oracle.escrowOf(id).status), uint8(IExecutableOracle.RequestStatus.Open), "nothing settled");
    }

    /// An ERC-20 CALL target that pulls and then burns its gas: the call fails, its pull is undone
    /// with the call, the allowance is zero afterwards and the share is refunded.
    function test_erc20CallTarget_failingLeavesNoAllowance() public {
        PullThenGuzzle target = new PullThenGuzzle();
        bytes32 id = _requestToken(address(token), 10e18);
        Instruction[] memory ix = _one(
            Instruction({
                op: Ops.CALL,
                target: address(target),
                amount: 5e18,
                data: abi.encodeCall(PullThenGuzzle.go, (IERC20(address(token)), 5e18))
            })
        );
        uint256 before = token.balanceOf(requester);
        _ingest(_result(id, block.chainid, Ops.STATUS_OK, ix), ix);
        assertEq(token.balanceOf(address(target)), 0, "pull undone");
        assertEq(token.allowance(address(oracle), address(target)), 0, "allowance zero");
        assertEq(token.balanceOf(requester), before + 10e18 - 1e15, "refunded");
        assertEq(token.balanceOf(address(oracle)), 1e15, "only the fee stays");
    }
}
