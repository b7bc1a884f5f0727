// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakingBase} from "../Staking.t.sol";
import {IStakingRegistry, SignedResult} from "../../../contracts/interfaces/IStakingRegistry.sol";
import {Instruction, Result, Ops} from "../../../contracts/interfaces/IInstruction.sol";

/// @dev An omni token naming one controller program (the shape SPEC 3.4 gives OmniToken).
contract ControlledToken {
    bytes32 public immutable controller;

    constructor(bytes32 controller_) {
        controller = controller_;
    }

    function isController(bytes32 programId) external view returns (bool) {
        return programId == controller;
    }
}

/// @dev Issue 10 case 1, "tokens from nothing": objective fraud proofs from signed Results alone,
/// no vote. An operator whose signed Results of one request mint more of a token than the origin
/// burned, or mint a token its program does not control, is slashed once, the prover rewarded.
contract FraudProofAttackTest is StakingBase {
    uint256 internal constant DEST_CHAIN = 999_999;
    address internal constant DEST_INGESTOR = address(0xDE57);
    bytes32 internal constant REQUEST = keccak256("mover request");

    ControlledToken internal moved;
    address internal alice = makeAddr("alice");

    function setUp() public override {
        super.setUp();
        moved = new ControlledToken(PROGRAM);
    }

    function _burn(address t, uint256 amount) internal pure returns (Instruction memory) {
        return Instruction(Ops.BURN, t, amount, "");
    }

    function _mint(address t, address to, uint256 amount) internal pure returns (Instruction memory) {
        return Instruction(Ops.MINT, to, amount, abi.encode(t));
    }

    function _signed(
        uint256 which,
        Instruction[] memory ix,
        uint256 chainId,
        address ingestorAddr
    ) internal view returns (SignedResult memory s) {
        Result memory r = _result(REQUEST, block.chainid, Ops.STATUS_OK, ix);
        s = SignedResult(r, ix, _signFor(r, which, chainId, ingestorAddr), chainId, ingestorAddr);
    }

    function _origin(uint256 which, uint256 burned) internal view returns (SignedResult memory) {
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = _burn(address(moved), burned);
        return _signed(which, ix, block.chainid, address(ingestor));
    }

    function _dest(uint256 which, uint256 minted, uint256 chainId) internal view returns (SignedResult memory) {
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = _mint(address(moved), alice, minted);
        return _signed(which, ix, chainId, DEST_INGESTOR);
    }

    function _one(SignedResult memory d) internal pure returns (SignedResult[] memory list) {
        list = new SignedResult[](1);
        list[0] = d;
    }

    /// @dev Burn 100 on the origin, mint 150 on a destination: slashed without a vote.
    function test_unbackedMint_isSlashedWithoutAVote() public {
        address op = operators[0];
        SignedResult memory o = _origin(0, 100);
        SignedResult memory d = _dest(0, 150, DEST_CHAIN);
        uint256 total = (BASE * SLASH_BPS) / 10_000;
        uint256 reward = (total * REWARD_BPS) / 10_000;
        uint256 treasuryBefore = adapter.slashedOwed(treasury);

        vm.expectEmit(address(registry));
        emit IStakingRegistry.FraudSlashed(op, block.chainid, REQUEST, 0, watcher, reward, total - reward);
        vm.prank(watcher);
        uint256 g = gasleft();
        registry.proveUnbackedMint(o, _one(d));
        emit log_named_uint("proveUnbackedMint gas, origin + 1 destination", g - gasleft());

        assertEq(_heldOf(op), BASE - total);
        assertEq(stakeToken.balanceOf(watcher), reward, "the prover is rewarded");
        assertEq(adapter.slashedOwed(treasury) - treasuryBefore, total - reward);
        assertEq(registry.reputationOf(op), 0);
        assertTrue(registry.faultSlashed(op, registry.faultIdOf(block.chainid, REQUEST)));
    }

    /// @dev Mints across several destinations count together; the origin's own mints count too.
    function test_unbackedMint_acrossTwoDestinations() public {
        SignedResult memory o = _origin(1, 100);
        SignedResult[] memory ds = new SignedResult[](2);
        ds[0] = _dest(1, 60, DEST_CHAIN);
        ds[1] = _dest(1, 60, DEST_CHAIN + 1);
        registry.proveUnbackedMint(o, ds);
        assertEq(_heldOf(operators[1]), BASE / 2);
    }

    /// @dev One wei over the burn is fraud too, and amounts near 2^256 neither overflow the proof
    /// nor hide the mint.
    function test_unbackedMint_exactAndHugeAmounts() public {
        registry.proveUnbackedMint(_origin(0, 100), _one(_dest(0, 101, DEST_CHAIN)));
        assertEq(_heldOf(operators[0]), BASE / 2);
        SignedResult[] memory ds = new SignedResult[](2);
        ds[0] = _dest(1, type(uint256).max, DEST_CHAIN);
        ds[1] = _dest(1, type(uint256).max, DEST_CHAIN + 1);
        registry.proveUnbackedMint(_origin(1, type(uint256).max - 1), ds);
        assertEq(_heldOf(operators[1]), BASE / 2);
    }

    /// @dev A backed mint (100 burned, 60 + 40 minted) is no fraud: nothing moves.
    function test_backedMint_isNotSlashable() public {
        SignedResult memory o = _origin(0, 100);
        SignedResult[] memory ds = new SignedResult[](2);
        ds[0] = _dest(0, 60, DEST_CHAIN);
        ds[1] = _dest(0, 40, DEST_CHAIN + 1);
        vm.expectRevert(IStakingRegistry.Staking_MintsBacked.selector);
        registry.proveUnbackedMint(o, ds);
        assertEq(_heldOf(operators[0]), BASE);
    }

    /// @dev A prover cannot present one honest destination twice to fake an over-mint.
    function test_unbackedMint_sameDestinationTwice_isRefused() public {
        SignedResult memory o = _origin(0, 100);
        SignedResult[] memory ds = new SignedResult[](2);
        ds[0] = _dest(0, 60, DEST_CHAIN);
        ds[1] = ds[0];
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_NotOneRequest.selector, 2));
        registry.proveUnbackedMint(o, ds);
        // nor the origin chain as a destination
        SignedResult[] memory onOrigin = _one(_dest(0, 60, block.chainid));
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.Staking_NotOneRequest.selector, 1));
        registry.proveUnbackedMint(o, onOrigin);
        assertEq(_heldOf(operators[0]), BASE);
    }

    /// @dev Instructions that are not the signed preimage, or another signer's Result, prove nothing.
    function test_unbackedMint_forgedEvidence_isRefused() public {
        SignedResult memory o = _origin(0, 100);
        SignedResult memory d = _dest(0, 150, DEST_CHAIN);
        d.instructions[0].amount = 10; // the signed hash committed to 150
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_InstructionsMismatch.selector,
                1,
                d.result.instructionsHash,
                keccak256(abi.encode(d.instructions))
            )
        );
        registry.proveUnbackedMint(o, _one(d));
        SignedResult memory other = _dest(1, 150, DEST_CHAIN);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_SignerMismatch.selector, 1, operators[0], operators[1])
        );
        registry.proveUnbackedMint(o, _one(other));
        assertEq(_heldOf(operators[0]), BASE);
        assertEq(_heldOf(operators[1]), BASE);
    }

    /// @dev One fault, one slash: a second proof, an equivocation proof or a dispute about the
    /// same request takes nothing more.
    function test_unbackedMint_slashesOncePerFault() public {
        SignedResult memory o = _origin(0, 100);
        SignedResult memory d = _dest(0, 150, DEST_CHAIN);
        registry.proveUnbackedMint(o, _one(d));
        uint256 after1 = _heldOf(operators[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_AlreadySlashed.selector,
                operators[0],
                block.chainid,
                REQUEST
            )
        );
        registry.proveUnbackedMint(o, _one(d));
        (Result memory a, bytes memory sigA, Result memory b, bytes memory sigB) = _equivocation(0, REQUEST);
        address ingestorAddr = address(ingestor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.Staking_AlreadySlashed.selector,
                operators[0],
                block.chainid,
                REQUEST
            )
        );
        registry.proveEquivocation(a, sigA, b, sigB, block.chainid, ingestorAddr);
        address module = makeAddr("disputeModule");
        vm.prank(owner);
        registry.setDisputeModule(module);
        bytes32 faultId = registry.faultIdOf(block.chainid, REQUEST);
        vm.prank(module);
        (uint256 reward, uint256 remainder) = registry.slashFault(operators[0], faultId, 5_000, module, 0);
        assertEq(reward + remainder, 0);
        assertEq(_heldOf(operators[0]), after1);
    }

    /// @dev A MINT of a token whose controllers do not include the program: slashed.
    function test_foreignMint_isSlashed() public {
        ControlledToken foreign = new ControlledToken(keccak256("another program"));
        Instruction[] memory ix = new Instruction[](2);
        ix[0] = _burn(address(moved), 1);
        ix[1] = _mint(address(foreign), alice, 1_000e18);
        SignedResult memory s = _signed(2, ix, block.chainid, address(ingestor));
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NotForeignMint.selector, 0, address(moved), PROGRAM)
        );
        registry.proveForeignMint(s, 0); // its own token: no fraud
        vm.prank(watcher);
        uint256 g = gasleft();
        registry.proveForeignMint(s, 1);
        emit log_named_uint("proveForeignMint gas", g - gasleft());
        assertEq(_heldOf(operators[2]), BASE / 2);
        assertGt(stakeToken.balanceOf(watcher), 0);
    }

    /// @dev A BURN of a foreign token is the same fault.
    function test_foreignBurn_isSlashed() public {
        ControlledToken foreign = new ControlledToken(keccak256("another program"));
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = _burn(address(foreign), 5);
        registry.proveForeignMint(_signed(3, ix, DEST_CHAIN, DEST_INGESTOR), 0);
        assertEq(_heldOf(operators[3]), BASE / 2);
    }

    /// @dev A target without code, or a non-mint instruction, proves nothing.
    function test_foreignMint_refusedWithoutProof() public {
        Instruction[] memory ix = new Instruction[](2);
        ix[0] = _mint(address(0xBEEF), alice, 1);
        ix[1] = _transfer(alice, 1);
        SignedResult memory s = _signed(0, ix, block.chainid, address(ingestor));
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NotForeignMint.selector, 0, address(0xBEEF), PROGRAM)
        );
        registry.proveForeignMint(s, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.Staking_NotForeignMint.selector, 1, address(0), PROGRAM)
        );
        registry.proveForeignMint(s, 1);
        assertEq(_heldOf(operators[0]), BASE);
    }
}
