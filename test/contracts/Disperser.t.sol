// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {IDisperser} from "../../contracts/interfaces/IDisperser.sol";
import {IExecutableOracle} from "../../contracts/interfaces/IExecutableOracle.sol";
import {IInstructionIngestor} from "../../contracts/interfaces/IInstructionIngestor.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

contract Reverter {
    fallback() external payable {
        revert("nope");
    }
}

/// @dev Tries to re-enter the oracle and the ingestor while being paid.
contract ReEnterer {
    IExecutableOracle internal immutable oracle;
    IInstructionIngestor internal immutable ingestor;
    bytes32 public victim;

    constructor(IExecutableOracle oracle_, IInstructionIngestor ingestor_) {
        oracle = oracle_;
        ingestor = ingestor_;
    }

    function setVictim(bytes32 id) external {
        victim = id;
    }

    fallback() external payable {
        oracle.refund(victim);
    }
}

/// @dev Pulls part of its allowance, like a DEX that fills partially.
contract Puller {
    function pull(IERC20 asset, uint256 amount) external {
        asset.transferFrom(msg.sender, address(this), amount);
    }
}

contract DisperserTest is BaseTest {
    Reverter internal reverter;
    ReEnterer internal reenterer;
    Puller internal puller;

    function setUp() public override {
        super.setUp();
        reverter = new Reverter();
        reenterer = new ReEnterer(oracle, ingestor);
        puller = new Puller();
    }

    /// @dev Random instruction lists over an ETH escrow: whatever the mix, the escrow is split exactly
    /// between targets, the signers' fee and the requester, or the whole result is refused.
    function testFuzz_disperse_ethConservesEscrow(uint96 amountSeed, uint256[6] memory seeds, uint8 count) public {
        uint256 amount = bound(uint256(amountSeed), ETH_FEE, 100 ether);
        bytes32 id = _requestEth(amount);
        reenterer.setVictim(id);
        uint256 n = bound(count, 0, 6);
        Instruction[] memory ix = new Instruction[](n);
        uint256 total;
        uint256 expectedPaid;
        for (uint256 i; i < n; ++i) {
            uint256 share = bound(seeds[i], 0, amount / 3);
            uint256 kind = seeds[i] % 4;
            if (kind == 0) {
                ix[i] = _transfer(payee, share);
                expectedPaid += share;
            } else if (kind == 1) {
                ix[i] = Instruction({op: Ops.CALL, target: payee, amount: share, data: ""});
                expectedPaid += share;
            } else if (kind == 2) {
                ix[i] = Instruction({op: Ops.CALL, target: address(reverter), amount: share, data: hex"01"});
            } else {
                ix[i] = Instruction({op: Ops.TRANSFER, target: address(reenterer), amount: share, data: ""});
            }
            total += share;
        }
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory sigs = _sign(r, _three());
        uint256 requesterBefore = requester.balance;
        vm.prank(poster);
        if (total > amount - ETH_FEE) {
            vm.expectRevert(
                abi.encodeWithSelector(IDisperser.Disperser_BudgetExceeded.selector, id, amount - ETH_FEE, total)
            );
            ingestor.ingest(r, ix, sigs, "");
            assertEq(address(oracle).balance, amount);
            return;
        }
        ingestor.ingest(r, ix, sigs, "");
        uint256 booked = (ETH_FEE / 3) * 3;
        assertEq(payee.balance, expectedPaid, "targets paid");
        assertEq(address(reverter).balance, 0, "reverting target paid nothing");
        assertEq(address(reenterer).balance, 0, "re-entering target paid nothing");
        assertEq(requester.balance, requesterBefore + amount - ETH_FEE - expectedPaid, "requester refunded");
        assertEq(address(oracle).balance, ETH_FEE, "oracle keeps only the fee");
        assertLe(booked, ETH_FEE);
    }

    function test_call_erc20GivesAllowanceThenZeroesIt() public {
        bytes32 id = _requestToken(address(token), 10e18);
        Instruction[] memory ix = _one(
            Instruction({
                op: Ops.CALL,
                target: address(puller),
                amount: 5e18,
                data: abi.encodeCall(Puller.pull, (IERC20(address(token)), 2e18))
            })
        );
        _ingest(_result(id, block.chainid, Ops.STATUS_OK, ix), ix);
        assertEq(token.balanceOf(address(puller)), 2e18);
        assertEq(token.allowance(address(oracle), address(puller)), 0);
        // 10 - 2 pulled - 0.001 fee back to the requester
        assertEq(token.balanceOf(requester), 1_000_000e18 - 2e18 - 1e15);
        assertEq(token.balanceOf(address(oracle)), 1e15);
    }

    function test_call_intoAnEscrowedTokenIsForbidden() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(
            Instruction({
                op: Ops.CALL,
                target: address(token),
                amount: 0,
                data: abi.encodeCall(IERC20.transfer, (payee, 1))
            })
        );
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory sigs = _sign(r, _three());
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IDisperser.Disperser_ForbiddenTarget.selector, 0, address(token)));
        ingestor.ingest(r, ix, sigs, "");
    }

    function test_programError_refundsEscrowMinusFee() public {
        bytes32 id = _requestEth(1 ether);
        uint256 before = requester.balance;
        Instruction[] memory none = new Instruction[](0);
        _ingest(_result(id, block.chainid, Ops.STATUS_PROGRAM_ERROR, none), none);
        assertEq(requester.balance, before + 1 ether - ETH_FEE);
    }

    function test_programError_withInstructionsIsRejected() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_transfer(payee, 1));
        Result memory r = _result(id, block.chainid, Ops.STATUS_PROGRAM_ERROR, ix);
        bytes[] memory sigs = _sign(r, _three());
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IDisperser.Disperser_InstructionsOnFailedResult.selector, id, 1));
        ingestor.ingest(r, ix, sigs, "");
    }

    function test_burn_spendsEscrowedOmniToken() public {
        vm.prank(owner);
        omni.transfer(requester, 100e18);
        vm.startPrank(requester);
        omni.approve(address(oracle), 40e18);
        bytes32 id = oracle.requestWithToken(PROGRAM, hex"1234", 1 hours, address(omni), 40e18);
        vm.stopPrank();
        uint256 supply = omni.totalSupply();
        Instruction[] memory ix = _one(Instruction({op: Ops.BURN, target: address(omni), amount: 30e18, data: ""}));
        _ingest(_result(id, block.chainid, Ops.STATUS_OK, ix), ix);
        assertEq(omni.totalSupply(), supply - 30e18);
        assertEq(omni.balanceOf(requester), 70e18);
    }

    function test_burn_needsATokenEscrow() public {
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(Instruction({op: Ops.BURN, target: address(0), amount: 1, data: ""}));
        Result memory r = _result(id, block.chainid, Ops.STATUS_OK, ix);
        bytes[] memory sigs = _sign(r, _three());
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IDisperser.Disperser_BurnNeedsToken.selector, 0));
        ingestor.ingest(r, ix, sigs, "");
    }

    /// @dev Rule changed on purpose (issue 10): a mint over the rate limit, or from an origin not
    /// allowed yet, is queued instead of reverting, so a burn on the origin is never stranded.
    function test_mint_overTheRateLimitIsQueuedNotRefused() public {
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = Instruction({op: Ops.MINT, target: payee, amount: 1_001e18, data: abi.encode(address(omni))});
        Result memory r = _result(keccak256("big"), REMOTE_CHAIN, Ops.STATUS_OK, ix);
        uint256 supply = omni.totalSupply();
        _ingest(r, ix);
        assertEq(omni.totalSupply(), supply, "nothing minted over the limit");
        assertEq(omni.queuedTotal(), 1_001e18, "queued");
        assertEq(omni.mintableNow(REMOTE_CHAIN), 1_000e18, "bucket untouched");
        Result memory unknownOrigin = _result(keccak256("x"), 999, Ops.STATUS_OK, ix);
        _ingest(unknownOrigin, ix);
        assertEq(omni.queuedTotal(), 2_002e18, "an origin not allowed yet queues too");
        assertEq(omni.balanceOf(payee), 0);
    }

    function test_create_deploysAtThePredictedAddressAndFailureIsReported() public {
        bytes memory init = abi.encode("Made", "MADE", payee, 7e18);
        address predicted = factory.predict(keccak256("ERC20"), keccak256("s1"), init);
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = new Instruction[](2);
        ix[0] = Instruction({
            op: Ops.CREATE,
            target: address(0),
            amount: 0,
            data: abi.encode(keccak256("ERC20"), keccak256("s1"), init)
        });
        ix[1] = Instruction({
            op: Ops.CREATE,
            target: address(0),
            amount: 0,
            data: abi.encode(keccak256("NOPE"), keccak256("s1"), init)
        });
        _ingest(_result(id, block.chainid, Ops.STATUS_OK, ix), ix);
        assertEq(IERC20(predicted).balanceOf(payee), 7e18);
        // a second CREATE of the same thing is refused (rule changed on purpose: it was a silent no-op)
        vm.expectRevert(
            abi.encodeWithSignature(
                "Factory_AlreadyCreated(bytes32,bytes32,address)",
                keccak256("ERC20"),
                keccak256("s1"),
                predicted
            )
        );
        factory.create(keccak256("ERC20"), keccak256("s1"), init);
    }
}
