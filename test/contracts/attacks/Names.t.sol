// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {IProgramRegistry} from "../../../contracts/interfaces/IProgramRegistry.sol";

/// @dev Attacks on program names: squatting a first publish by front-running it.
contract NamesAttackTest is BaseTest {
    address internal author = makeAddr("author");
    address internal squatter = makeAddr("squatter");
    bytes32 internal constant PKG = keccak256("package");
    bytes32 internal constant SQUAT_PKG = keccak256("squatter package");

    /// A first publish without a reservation is refused (a front-runner copying it gets nothing).
    function test_firstPublish_withoutAReservation_isRefused() public {
        bytes32 c = oracle.nameCommitment(squatter, SQUAT_PKG, "splitter");
        vm.prank(squatter);
        vm.expectRevert(abi.encodeWithSelector(IProgramRegistry.Registry_NotReserved.selector, "splitter", c));
        oracle.publish(SQUAT_PKG, "splitter", "x");
        assertEq(oracle.nameOwner("splitter"), address(0));
    }

    /// The squatter sees the author's publish in the mempool and reserves in the same block: too
    /// recent. The author's publish lands and the name is the author's.
    function test_frontRunningAFirstPublish_failsAndTheAuthorGetsTheName() public {
        vm.prank(author);
        oracle.reserveName(oracle.nameCommitment(author, PKG, "splitter"));
        vm.roll(block.number + 1);
        // the squatter, now knowing the name from the pending publish, front-runs it
        vm.startPrank(squatter);
        oracle.reserveName(oracle.nameCommitment(squatter, SQUAT_PKG, "splitter"));
        vm.expectRevert(
            abi.encodeWithSelector(
                IProgramRegistry.Registry_ReservationTooRecent.selector,
                "splitter",
                block.number + 1
            )
        );
        oracle.publish(SQUAT_PKG, "splitter", "squat");
        // replaying the author's own commitment does not help: it is bound to the author's address
        oracle.reserveName(oracle.nameCommitment(author, PKG, "splitter"));
        vm.expectRevert(
            abi.encodeWithSelector(
                IProgramRegistry.Registry_NotReserved.selector,
                "splitter",
                oracle.nameCommitment(squatter, PKG, "splitter")
            )
        );
        oracle.publish(PKG, "splitter", "squat");
        vm.stopPrank();
        vm.prank(author);
        oracle.publish(PKG, "splitter", "ipfs://splitter");
        assertEq(oracle.nameOwner("splitter"), author);
        assertEq(oracle.resolve("splitter"), PKG);
        // one block later the squatter's reservation is usable, but the name is taken
        vm.roll(block.number + 1);
        vm.prank(squatter);
        vm.expectRevert(abi.encodeWithSelector(IProgramRegistry.Registry_NameTaken.selector, "splitter", author));
        oracle.publish(SQUAT_PKG, "splitter", "squat");
    }

    /// Copying a commitment cannot push its reservation to a later block.
    function test_copyingACommitment_doesNotDelayIt() public {
        bytes32 c = oracle.nameCommitment(author, PKG, "splitter");
        vm.prank(author);
        oracle.reserveName(c);
        uint256 at = block.number;
        vm.roll(block.number + 5);
        vm.prank(squatter);
        oracle.reserveName(c);
        assertEq(oracle.reservedAt(c), at);
        vm.prank(author);
        oracle.publish(PKG, "splitter", "x");
        assertEq(oracle.reservedAt(c), 0, "used up");
    }

    /// Later versions of an owned name need no reservation; others still cannot take it.
    function test_laterVersions_needNoReservation() public {
        vm.prank(author);
        oracle.reserveName(oracle.nameCommitment(author, PKG, "splitter"));
        vm.roll(block.number + 1);
        vm.prank(author);
        oracle.publish(PKG, "splitter", "v1");
        vm.prank(author);
        oracle.publish(keccak256("v2"), "splitter", "v2");
        assertEq(oracle.resolve("splitter"), keccak256("v2"));
        vm.prank(squatter);
        vm.expectRevert(abi.encodeWithSelector(IProgramRegistry.Registry_NameTaken.selector, "splitter", author));
        oracle.publish(SQUAT_PKG, "splitter", "squat");
    }

    /// The oracle's owner publishes without a reservation (deploy and devnet flows).
    function test_owner_publishesWithoutAReservation() public {
        vm.prank(owner);
        oracle.publish(PKG, "owned", "x");
        assertEq(oracle.nameOwner("owned"), owner);
    }

    function test_reserveName_refusesZero() public {
        vm.expectRevert(IProgramRegistry.Registry_ZeroCommitment.selector);
        oracle.reserveName(bytes32(0));
    }
}
