// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {NameRegistryBase} from "../names/NameRegistry.t.sol";
import {INameRegistry} from "../../../contracts/names/INameRegistry.sol";

/// @dev Attacks on DNS names (NameRegistry): sniping a registration, writing someone else's
/// records, replaying stale or premature commitments.
contract DnsNamesAttackTest is NameRegistryBase {
    bytes32 internal constant MALLORY_SECRET = keccak256("mallory's secret");

    /// Mallory sees alice's reveal in the mempool (so now knows the name and the secret) and
    /// front-runs it with her own commit + reveal in the same block: her commitment is too new.
    function test_frontRunnerWhoSeesTheReveal_cannotTakeTheName() public {
        vm.prank(alice);
        names.commit(names.makeCommitment("app.versatus", alice, SECRET));
        vm.warp(block.timestamp + MIN_AGE);

        vm.startPrank(mallory);
        bytes32 theirs = names.makeCommitment("app.versatus", mallory, SECRET);
        names.commit(theirs);
        vm.expectRevert(
            abi.encodeWithSelector(INameRegistry.Names_CommitmentTooNew.selector, theirs, block.timestamp + MIN_AGE)
        );
        names.register("app.versatus", mallory, SECRET);
        // copying alice's reveal only ever registers the name for alice
        names.register("app.versatus", alice, SECRET);
        vm.stopPrank();
        assertEq(names.ownerOf("app.versatus"), alice);

        // and mallory's matured commitment is then useless: the name is taken
        vm.warp(block.timestamp + MIN_AGE);
        vm.prank(mallory);
        vm.expectRevert(
            abi.encodeWithSelector(
                INameRegistry.Names_NameTaken.selector,
                "app.versatus",
                alice,
                uint64(block.timestamp - MIN_AGE) + PERIOD
            )
        );
        names.register("app.versatus", mallory, SECRET);
    }

    /// Re-committing alice's commitment (to push its time later and make her reveal "too new") is a no-op.
    function test_recommittingSomeoneElsesCommitment_doesNotDelayTheirReveal() public {
        bytes32 c = names.makeCommitment("app.versatus", alice, SECRET);
        vm.prank(alice);
        names.commit(c);
        uint256 at = block.timestamp;
        vm.warp(block.timestamp + MIN_AGE - 1);
        vm.prank(mallory);
        names.commit(c);
        assertEq(names.committedAt(c), at);
        vm.warp(block.timestamp + 1);
        vm.prank(alice);
        names.register("app.versatus", alice, SECRET);
        assertEq(names.ownerOf("app.versatus"), alice);
    }

    function test_nonOwner_cannotChangeAnyRecordOrTheOwnership() public {
        _register("app.versatus", alice);
        bytes4[] memory a = new bytes4[](1);
        a[0] = 0x01020304;
        string[] memory txt = new string[](1);
        txt[0] = "phish";
        INameRegistry.Endpoint[] memory eps = new INameRegistry.Endpoint[](1);
        eps[0] = INameRegistry.Endpoint({service: "gateway", url: "http://evil"});
        bytes memory notOwner = abi.encodeWithSelector(
            INameRegistry.Names_NotOwner.selector,
            "app.versatus",
            mallory,
            alice
        );
        vm.startPrank(mallory);
        vm.expectRevert(notOwner);
        names.setContent("app.versatus", keccak256("evil"), 2);
        vm.expectRevert(notOwner);
        names.setAddresses("app.versatus", a, new bytes16[](0));
        vm.expectRevert(notOwner);
        names.setText("app.versatus", txt);
        vm.expectRevert(notOwner);
        names.setEndpoints("app.versatus", eps);
        vm.expectRevert(notOwner);
        names.transfer("app.versatus", mallory);
        vm.expectRevert(notOwner);
        names.renew("app.versatus");
        vm.stopPrank();
        INameRegistry.NameRecords memory r = names.records("app.versatus");
        assertEq(r.owner, alice);
        assertEq(r.contentId, bytes32(0));
        assertEq(r.a.length + r.txt.length + r.endpoints.length, 0);
    }

    function test_staleCommitment_cannotBeRevealed() public {
        bytes32 c = names.makeCommitment("app.versatus", alice, SECRET);
        vm.prank(alice);
        names.commit(c);
        uint256 at = block.timestamp;
        vm.warp(at + MAX_AGE + 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_CommitmentExpired.selector, c, at + MAX_AGE));
        names.register("app.versatus", alice, SECRET);
        // committing again starts a fresh window
        vm.prank(alice);
        names.commit(c);
        assertEq(names.committedAt(c), block.timestamp);
    }

    function test_revealTooEarly_fails_evenOneSecondBefore() public {
        bytes32 c = names.makeCommitment("app.versatus", alice, SECRET);
        vm.prank(alice);
        names.commit(c);
        uint256 at = block.timestamp;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_CommitmentTooNew.selector, c, at + MIN_AGE));
        names.register("app.versatus", alice, SECRET);
        vm.warp(at + MIN_AGE - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_CommitmentTooNew.selector, c, at + MIN_AGE));
        names.register("app.versatus", alice, SECRET);
    }

    /// A reveal with another secret (guessing) or another owner matches no commitment.
    function test_revealWithAnotherSecretOrOwner_findsNoCommitment() public {
        vm.prank(alice);
        names.commit(names.makeCommitment("app.versatus", alice, SECRET));
        vm.warp(block.timestamp + MIN_AGE);
        vm.startPrank(mallory);
        vm.expectRevert(
            abi.encodeWithSelector(
                INameRegistry.Names_CommitmentNotFound.selector,
                names.makeCommitment("app.versatus", mallory, SECRET)
            )
        );
        names.register("app.versatus", mallory, SECRET);
        vm.expectRevert(
            abi.encodeWithSelector(
                INameRegistry.Names_CommitmentNotFound.selector,
                names.makeCommitment("app.versatus", alice, MALLORY_SECRET)
            )
        );
        names.register("app.versatus", alice, MALLORY_SECRET);
        vm.stopPrank();
    }

    /// The previous holder's records never resurface for a new holder, nor can a lapsed holder write.
    function test_lapsedOwner_cannotWriteRecords() public {
        _register("app.versatus", alice);
        uint64 expiresAt = uint64(block.timestamp) + PERIOD;
        vm.warp(expiresAt);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_NotRegistered.selector, "app.versatus", expiresAt));
        names.setContent("app.versatus", keccak256("late"), 1);
    }

    /// Fuzzed: whatever bytes a caller tries, a name with an upper-case letter never registers.
    function testFuzz_upperCaseNames_neverValidate(uint8 position, uint8 letter) public {
        bytes memory label = bytes("abcdefgh");
        uint256 i = bound(position, 0, label.length - 1);
        label[i] = bytes1(uint8(bound(letter, 0x41, 0x5a)));
        string memory name = string.concat(string(label), ".versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidCharacter.selector, name, i));
        names.checkName(name);
    }
}
