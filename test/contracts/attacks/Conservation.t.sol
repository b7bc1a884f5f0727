// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {OmniToken} from "../../../contracts/tokens/OmniToken.sol";
import {IDisperser} from "../../../contracts/interfaces/IDisperser.sol";
import {IOmniToken} from "../../../contracts/interfaces/IOmniToken.sol";
import {IExecutableOracle} from "../../../contracts/interfaces/IExecutableOracle.sol";
import {Instruction, Result, Ops} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev Says it is controlled by everyone and burns its gas (or bombs its return data) when asked to mint.
contract FakeOmniToken {
    bool public bomb;

    constructor(bool bomb_) {
        bomb = bomb_;
    }

    function isController(bytes32) external pure returns (bool) {
        return true;
    }

    fallback() external {
        if (bomb) {
            assembly {
                return(0, 100000)
            }
        }
        while (true) {}
    }
}

/// @dev Conservation of omni tokens (SPEC 3.4, issue 10 attack 1 and the queue of item 8): every
/// case tries to make tokens from nothing and asserts supply and balances before and after.
contract ConservationAttackTest is BaseTest {
    bytes32 internal constant ROGUE = keccak256("rogue program");
    address internal attacker = makeAddr("attacker");

    function setUp() public override {
        super.setUp();
        vm.prank(owner);
        oracle.publish(ROGUE, "rogue", "ipfs://rogue");
        vm.prank(owner);
        omni.transfer(requester, 1_000e18);
    }

    // ------------------------------------------------------------------ helpers

    function _requestOmni(bytes32 program, uint256 amount) internal returns (bytes32 id) {
        vm.startPrank(requester);
        omni.approve(address(oracle), amount);
        id = oracle.requestWithToken(program, hex"1234", 1 hours, address(omni), amount);
        vm.stopPrank();
    }

    function _requestEthFor(bytes32 program, uint256 amount) internal returns (bytes32 id) {
        vm.prank(requester);
        id = oracle.request{value: amount}(program, hex"1234", 1 hours);
    }

    function _resultOf(
        bytes32 id,
        uint256 origin,
        bytes32 program,
        Instruction[] memory ix
    ) internal pure returns (Result memory r) {
        r = _result(id, origin, Ops.STATUS_OK, ix);
        r.programId = program;
    }

    function _expectRefused(Result memory r, Instruction[] memory ix, bytes memory err) internal {
        bytes[] memory sigs = _sign(r, _three());
        vm.prank(poster);
        vm.expectRevert(err);
        ingestor.ingest(r, ix, sigs, "");
    }

    function _mint(address token, address to, uint256 amount) internal pure returns (Instruction memory) {
        return Instruction({op: Ops.MINT, target: to, amount: amount, data: abi.encode(token)});
    }

    function _burn(address token, uint256 amount) internal pure returns (Instruction memory) {
        return Instruction({op: Ops.BURN, target: token, amount: amount, data: ""});
    }

    function _two(Instruction memory a, Instruction memory b) internal pure returns (Instruction[] memory ix) {
        ix = new Instruction[](2);
        (ix[0], ix[1]) = (a, b);
    }

    function _newOmni(bytes32 salt, bytes32[] memory ctl) internal returns (OmniToken t) {
        t = OmniToken(
            factory.create(keccak256("OMNITOKEN"), salt, abi.encode("Other", "OTH", owner, 0, block.chainid, ctl))
        );
        vm.prank(owner);
        t.setMintLimit(block.chainid, 1_000_000e18, 3600);
        vm.prank(owner);
        t.setMintLimit(REMOTE_CHAIN, 1_000e18, 3600);
    }

    // ------------------------------------------------------------------ same chain: refused

    /// Issue 10 attack 1: a program that is not the token's controller prints tokens for an ETH escrow.
    function test_mintByNonController_isRefusedOnChain() public {
        bytes32 id = _requestEthFor(ROGUE, 1 ether);
        Instruction[] memory ix = _one(_mint(address(omni), attacker, 100_000e18));
        uint256 supply = omni.totalSupply();
        uint256 escrowed = address(oracle).balance;
        _expectRefused(
            _resultOf(id, block.chainid, ROGUE, ix),
            ix,
            abi.encodeWithSelector(IDisperser.Disperser_NotController.selector, ROGUE, address(omni))
        );
        assertEq(omni.totalSupply(), supply, "supply unchanged");
        assertEq(omni.balanceOf(attacker), 0, "attacker got nothing");
        assertEq(omni.queuedTotal(), 0, "nothing queued");
        assertEq(address(oracle).balance, escrowed, "escrow untouched");
        assertEq(uint8(oracle.escrowOf(id).status), uint8(IExecutableOracle.RequestStatus.Open), "still open");
    }

    /// A controller program cannot mint without burning (nothing escrowed in the token at all).
    function test_unbackedMint_isRefusedOnChain() public {
        bytes32 id = _requestEthFor(PROGRAM, 1 ether);
        Instruction[] memory ix = _one(_mint(address(omni), attacker, 100_000e18));
        uint256 supply = omni.totalSupply();
        _expectRefused(
            _resultOf(id, block.chainid, PROGRAM, ix),
            ix,
            abi.encodeWithSelector(IDisperser.Disperser_UnbackedMint.selector, PROGRAM, address(omni), 100_000e18, 0)
        );
        assertEq(omni.totalSupply(), supply);
        assertEq(omni.balanceOf(attacker), 0);
    }

    /// Burning 40 and minting 100 of the escrowed token in one result is refused.
    function test_mintAboveBurn_isRefusedOnChain() public {
        bytes32 id = _requestOmni(PROGRAM, 40e18);
        Instruction[] memory ix = _two(_burn(address(omni), 40e18), _mint(address(omni), attacker, 100e18));
        uint256 supply = omni.totalSupply();
        _expectRefused(
            _resultOf(id, block.chainid, PROGRAM, ix),
            ix,
            abi.encodeWithSelector(IDisperser.Disperser_UnbackedMint.selector, PROGRAM, address(omni), 100e18, 40e18)
        );
        assertEq(omni.totalSupply(), supply, "supply unchanged");
        assertEq(omni.balanceOf(address(oracle)), 40e18, "escrow still held");
        assertEq(omni.balanceOf(attacker), 0);
    }

    /// The shipped token-mover's hole: burn the escrowed token, mint another one the input names.
    function test_burnOneTokenMintAnother_isRefusedOnChain() public {
        OmniToken other = _newOmni(keccak256("other"), _controllers());
        bytes32 id = _requestOmni(PROGRAM, 40e18);
        Instruction[] memory ix = _two(_burn(address(omni), 40e18), _mint(address(other), attacker, 40e18));
        _expectRefused(
            _resultOf(id, block.chainid, PROGRAM, ix),
            ix,
            abi.encodeWithSelector(IDisperser.Disperser_UnbackedMint.selector, PROGRAM, address(other), 40e18, 0)
        );
        assertEq(other.totalSupply(), 0, "nothing minted of the other token");
        assertEq(omni.balanceOf(address(oracle)), 40e18, "escrow still held");
    }

    /// A program that does not control the escrowed token cannot burn it either.
    function test_burnByNonController_isRefusedOnChain() public {
        bytes32 id = _requestOmni(ROGUE, 40e18);
        Instruction[] memory ix = _one(_burn(address(omni), 40e18));
        uint256 supply = omni.totalSupply();
        _expectRefused(
            _resultOf(id, block.chainid, ROGUE, ix),
            ix,
            abi.encodeWithSelector(IDisperser.Disperser_NotController.selector, ROGUE, address(omni))
        );
        assertEq(omni.totalSupply(), supply);
        assertEq(omni.balanceOf(address(oracle)), 40e18);
    }

    /// BURN must name the escrowed token as its target.
    function test_burnNamingAnotherTarget_isRefused() public {
        bytes32 id = _requestOmni(PROGRAM, 40e18);
        Instruction[] memory ix = _one(Instruction({op: Ops.BURN, target: attacker, amount: 40e18, data: ""}));
        _expectRefused(
            _resultOf(id, block.chainid, PROGRAM, ix),
            ix,
            abi.encodeWithSelector(IDisperser.Disperser_BurnTargetNotToken.selector, 0, attacker, address(omni))
        );
        assertEq(omni.balanceOf(address(oracle)), 40e18);
    }

    /// The honest case still works: burn 40, mint 40 on the same chain, supply unchanged.
    function test_backedMint_sameChain_conservesSupply() public {
        bytes32 id = _requestOmni(PROGRAM, 40e18);
        Instruction[] memory ix = _two(_burn(address(omni), 40e18), _mint(address(omni), payee, 40e18));
        uint256 supply = omni.totalSupply();
        _ingest(_resultOf(id, block.chainid, PROGRAM, ix), ix);
        assertEq(omni.totalSupply(), supply, "supply unchanged");
        assertEq(omni.balanceOf(payee), 40e18);
        assertEq(omni.balanceOf(address(oracle)), 0);
    }

    // ------------------------------------------------------------------ remote results

    /// A remote result of a non-controller program mints nothing, and does not revert (the
    /// result is recorded, the MINT reported failed with the controller error).
    function test_remoteMintByNonController_isNotMinted() public {
        Instruction[] memory ix = _one(_mint(address(omni), attacker, 500e18));
        Result memory r = _resultOf(keccak256("remote rogue"), REMOTE_CHAIN, ROGUE, ix);
        uint256 supply = omni.totalSupply();
        vm.expectEmit(address(oracle));
        emit IDisperser.InstructionFailed(
            r.requestId,
            0,
            Ops.MINT,
            address(omni),
            abi.encodeWithSelector(IDisperser.Disperser_NotController.selector, ROGUE, address(omni))
        );
        _ingest(r, ix);
        assertEq(omni.totalSupply(), supply, "supply unchanged");
        assertEq(omni.queuedTotal(), 0, "nothing queued");
        assertEq(omni.balanceOf(attacker), 0);
        assertTrue(ingestor.isIngested(REMOTE_CHAIN, r.requestId), "recorded once");
    }

    /// A remote MINT carries its origin reference (origin chain, request) in the token's event.
    function test_remoteMint_recordsOriginReference() public {
        Instruction[] memory ix = _one(_mint(address(omni), payee, 5e18));
        Result memory r = _resultOf(keccak256("ref"), REMOTE_CHAIN, PROGRAM, ix);
        vm.expectEmit(address(omni));
        emit IOmniToken.CrossChainMinted(payee, 5e18, REMOTE_CHAIN, r.requestId);
        _ingest(r, ix);
        assertEq(omni.balanceOf(payee), 5e18);
    }

    /// A fake "token" that claims every program controls it and then burns its gas (or bombs its
    /// return data) cannot sink the ingest: its MINT fails, the result is recorded.
    function test_remoteMintOfHostileFakeToken_cannotSinkIngest() public {
        for (uint256 k; k < 2; ++k) {
            FakeOmniToken fake = new FakeOmniToken(k == 1);
            Instruction[] memory ix = _one(_mint(address(fake), attacker, 1e18));
            Result memory r = _resultOf(keccak256(abi.encode("fake", k)), REMOTE_CHAIN, PROGRAM, ix);
            uint256 g = gasleft();
            _ingest(r, ix);
            uint256 used = g - gasleft();
            assertTrue(ingestor.isIngested(REMOTE_CHAIN, r.requestId));
            // the fake token's call costs at most its limit (+ the signature checks around it)
            assertLt(used, oracle.CALL_GAS_LIMIT() + 150_000, "bounded");
        }
    }

    /// A burn bigger than the destination's capacity is queued, cannot be completed early, is
    /// completed once the window passed (without capacity), and never twice.
    function test_remoteMintAboveCapacity_isQueuedThenCompletedOnce() public {
        Instruction[] memory ix = _one(_mint(address(omni), payee, 5_000e18)); // capacity 1,000
        Result memory r = _resultOf(keccak256("huge"), REMOTE_CHAIN, PROGRAM, ix);
        uint256 supply = omni.totalSupply();
        vm.expectEmit(address(omni));
        emit IOmniToken.MintQueued(1, payee, 5_000e18, REMOTE_CHAIN, r.requestId);
        _ingest(r, ix);
        assertEq(omni.totalSupply(), supply);
        assertEq(omni.queuedTotal(), 5_000e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOmniToken.OmniToken_QueuedMintNotReady.selector,
                1,
                1_000e18,
                5_000e18,
                block.timestamp + 3600
            )
        );
        omni.completeQueuedMint(1);
        vm.warp(block.timestamp + 3600);
        vm.prank(attacker); // anyone
        omni.completeQueuedMint(1);
        assertEq(omni.balanceOf(payee), 5_000e18);
        assertEq(omni.totalSupply(), supply + 5_000e18);
        assertEq(omni.queuedTotal(), 0);
        assertEq(omni.mintableNow(REMOTE_CHAIN), 0, "the bucket was drained");
        vm.expectRevert(abi.encodeWithSelector(IOmniToken.OmniToken_NoQueuedMint.selector, 1));
        omni.completeQueuedMint(1);
        assertEq(omni.balanceOf(payee), 5_000e18, "not minted twice");
    }

    /// A mint over what the bucket holds now completes as soon as the bucket refilled enough.
    function test_queuedMint_completesWhenCapacityReturns() public {
        Instruction[] memory ix = _one(_mint(address(omni), payee, 800e18));
        _ingest(_resultOf(keccak256("a"), REMOTE_CHAIN, PROGRAM, ix), ix); // minted: 200 left
        _ingest(_resultOf(keccak256("b"), REMOTE_CHAIN, PROGRAM, ix), ix); // queued
        assertEq(omni.balanceOf(payee), 800e18);
        assertEq(omni.queuedTotal(), 800e18);
        vm.warp(block.timestamp + 2160); // +600 refilled: 800 available
        omni.completeQueuedMint(1);
        assertEq(omni.balanceOf(payee), 1_600e18);
        assertEq(omni.queuedTotal(), 0);
        assertEq(omni.mintableNow(REMOTE_CHAIN), 0);
    }

    /// An origin never allowed keeps its mints queued (even past any window) until the admin allows it.
    function test_queuedMint_fromOriginNotAllowed_waitsForTheAdmin() public {
        Instruction[] memory ix = _one(_mint(address(omni), payee, 10e18));
        _ingest(_resultOf(keccak256("c"), 777, PROGRAM, ix), ix);
        assertEq(omni.queuedTotal(), 10e18);
        vm.warp(block.timestamp + 30 days);
        vm.expectRevert(abi.encodeWithSelector(IOmniToken.OmniToken_OriginNotAllowed.selector, 777));
        omni.completeQueuedMint(1);
        vm.prank(owner);
        omni.setMintLimit(777, 100e18, 3600);
        omni.completeQueuedMint(1);
        assertEq(omni.balanceOf(payee), 10e18);
        assertEq(omni.queuedTotal(), 0);
    }

    /// Only the disperser may queue, and queueing never needs the rate limit.
    function test_mintAndComplete_onlyDisperserQueues() public {
        vm.expectRevert(abi.encodeWithSelector(IOmniToken.OmniToken_NotDisperser.selector, attacker));
        vm.prank(attacker);
        omni.mint(attacker, 1, REMOTE_CHAIN, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IOmniToken.OmniToken_NoQueuedMint.selector, 7));
        omni.completeQueuedMint(7);
    }

    // ------------------------------------------------------------------ controllers at creation

    /// The controllers are part of the CREATE2 address, must be ascending and non-zero, and are readable.
    function test_controllers_fixedAtCreationAndCommittedToByTheAddress() public {
        bytes32[] memory a = _controllers();
        bytes32[] memory b = new bytes32[](1);
        b[0] = ROGUE;
        bytes memory initA = abi.encode("X", "X", owner, 0, block.chainid, a);
        bytes memory initB = abi.encode("X", "X", owner, 0, block.chainid, b);
        assertTrue(
            factory.predict(keccak256("OMNITOKEN"), keccak256("x"), initA) !=
                factory.predict(keccak256("OMNITOKEN"), keccak256("x"), initB),
            "another controller set is another token"
        );
        assertTrue(omni.isController(PROGRAM));
        assertFalse(omni.isController(ROGUE));
        assertEq(omni.controllers().length, 1);
        assertEq(omni.controllers()[0], PROGRAM);

        bytes32[] memory unordered = new bytes32[](2);
        (unordered[0], unordered[1]) = (bytes32(uint256(2)), bytes32(uint256(1)));
        bytes memory bad = abi.encode("X", "X", owner, 0, block.chainid, unordered);
        // the factory reports the constructor's failure as a failed creation
        vm.expectRevert(
            abi.encodeWithSignature("Factory_CreateFailed(bytes32,bytes32)", keccak256("OMNITOKEN"), keccak256("y"))
        );
        factory.create(keccak256("OMNITOKEN"), keccak256("y"), bad);
    }
}
