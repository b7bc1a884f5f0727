// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {NameRegistry} from "../../../contracts/names/NameRegistry.sol";
import {INameRegistry} from "../../../contracts/names/INameRegistry.sol";

/// @dev Shared setup: a registry for `.versatus` with a 60 s..1 day commit window and a 1-year term.
abstract contract NameRegistryBase is Test {
    uint64 internal constant MIN_AGE = 60;
    uint64 internal constant MAX_AGE = 1 days;
    uint64 internal constant PERIOD = 365 days;
    bytes32 internal constant SECRET = keccak256("alice's secret");

    NameRegistry internal names;
    address internal alice = makeAddr("alice");
    address internal mallory = makeAddr("mallory");

    function setUp() public virtual {
        vm.warp(1_800_000_000);
        names = new NameRegistry("versatus", MIN_AGE, MAX_AGE, PERIOD);
    }

    /// Commits for `owner` (sent by `owner`), waits the minimum age and reveals.
    function _register(string memory name, address owner) internal {
        vm.prank(owner);
        names.commit(names.makeCommitment(name, owner, SECRET));
        vm.warp(block.timestamp + MIN_AGE);
        vm.prank(owner);
        names.register(name, owner, SECRET);
    }
}

contract NameRegistryTest is NameRegistryBase {
    function test_register_afterTheMinimumAge_givesTheNameToTheCommittedOwner() public {
        bytes32 c = names.makeCommitment("app.versatus", alice, SECRET);
        vm.expectEmit(address(names));
        emit INameRegistry.NameCommitted(c, alice);
        vm.prank(alice);
        names.commit(c);
        vm.warp(block.timestamp + MIN_AGE);
        uint64 expiresAt = uint64(block.timestamp) + PERIOD;
        vm.expectEmit(address(names));
        emit INameRegistry.NameRegistered(keccak256("app.versatus"), "app.versatus", alice, expiresAt, 1);
        names.register("app.versatus", alice, SECRET); // anyone may send the reveal
        assertEq(names.ownerOf("app.versatus"), alice);
        INameRegistry.NameRecords memory r = names.records("app.versatus");
        assertEq(r.owner, alice);
        assertEq(r.expiresAt, expiresAt);
        assertEq(names.committedAt(c), 0, "the commitment is consumed");
    }

    function test_checkName_acceptsLabelsOfLettersDigitsAndInnerHyphens() public view {
        assertEq(names.checkName("a.versatus"), keccak256("a.versatus"));
        assertEq(names.checkName("hello-world-2.versatus"), keccak256("hello-world-2.versatus"));
        assertEq(names.checkName("xn--bcher-kva.versatus"), keccak256("xn--bcher-kva.versatus"));
        string memory longest = string.concat(_repeat("a", 63), ".versatus");
        assertEq(names.checkName(longest), keccak256(bytes(longest)));
    }

    function test_checkName_refusesEachBrokenRule_withThePosition() public {
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidLength.selector, "", 0));
        names.checkName("");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidCharacter.selector, "App.versatus", 0));
        names.checkName("App.versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidCharacter.selector, "a_b.versatus", 1));
        names.checkName("a_b.versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidCharacter.selector, "a b.versatus", 1));
        names.checkName("a b.versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidLabel.selector, "-a.versatus"));
        names.checkName("-a.versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidLabel.selector, "a-.versatus"));
        names.checkName("a-.versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_WrongSuffix.selector, "app.example", "versatus"));
        names.checkName("app.example");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_WrongSuffix.selector, "versatus", "versatus"));
        names.checkName("versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_WrongSuffix.selector, ".versatus", "versatus"));
        names.checkName(".versatus");
        vm.expectRevert(
            abi.encodeWithSelector(INameRegistry.Names_WrongSuffix.selector, "www.app.versatus", "versatus")
        );
        names.checkName("www.app.versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_WrongSuffix.selector, "appxversatus", "versatus"));
        names.checkName("appxversatus");
        string memory tooLong = string.concat(_repeat("a", 64), ".versatus");
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidLength.selector, tooLong, 73));
        names.checkName(tooLong);
    }

    function test_register_refusesAnInvalidName_beforeLookingAtCommitments() public {
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidCharacter.selector, "APP.versatus", 0));
        names.register("APP.versatus", alice, SECRET);
    }

    function test_constructor_refusesABadSuffixOrWindows() public {
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidSuffix.selector, "Ver"));
        new NameRegistry("Ver", 1, 2, 3);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidSuffix.selector, "a.b"));
        new NameRegistry("a.b", 1, 2, 3);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidWindows.selector, 0, 2, 3));
        new NameRegistry("versatus", 0, 2, 3);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidWindows.selector, 5, 5, 3));
        new NameRegistry("versatus", 5, 5, 3);
    }

    function test_setRecords_byTheOwner_areReadBackAndEmitted() public {
        _register("app.versatus", alice);
        bytes32 h = keccak256("app.versatus");
        bytes32 programId = sha256("package");
        vm.startPrank(alice);
        vm.expectEmit(address(names));
        emit INameRegistry.ContentSet(h, "app.versatus", programId, 1);
        names.setContent("app.versatus", programId, 1);

        bytes4[] memory a = new bytes4[](2);
        a[0] = 0x7f000001;
        a[1] = 0x0a000002;
        bytes16[] memory aaaa = new bytes16[](1);
        aaaa[0] = bytes16(uint128(1));
        vm.expectEmit(address(names));
        emit INameRegistry.AddressesSet(h, "app.versatus", a, aaaa);
        names.setAddresses("app.versatus", a, aaaa);

        string[] memory txt = new string[](2);
        txt[0] = "hello";
        txt[1] = "v=1";
        vm.expectEmit(address(names));
        emit INameRegistry.TextSet(h, "app.versatus", txt);
        names.setText("app.versatus", txt);

        INameRegistry.Endpoint[] memory eps = new INameRegistry.Endpoint[](1);
        eps[0] = INameRegistry.Endpoint({service: "gateway", url: "http://127.0.0.1:8080"});
        vm.expectEmit(address(names));
        emit INameRegistry.EndpointsSet(h, "app.versatus", eps);
        names.setEndpoints("app.versatus", eps);
        vm.stopPrank();

        INameRegistry.NameRecords memory r = names.records("app.versatus");
        assertEq(r.contentId, programId);
        assertEq(r.contentKind, 1);
        assertEq(r.a.length, 2);
        assertEq(r.a[1], a[1]);
        assertEq(r.aaaa[0], aaaa[0]);
        assertEq(r.txt[1], "v=1");
        assertEq(r.endpoints[0].url, "http://127.0.0.1:8080");

        // replacing a list drops the old entries
        string[] memory one = new string[](1);
        one[0] = "only";
        vm.prank(alice);
        names.setText("app.versatus", one);
        assertEq(names.records("app.versatus").txt.length, 1);
    }

    function test_setContent_refusesAKindWithoutAnIdAndAnUnknownKind() public {
        _register("app.versatus", alice);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidContent.selector, bytes32(0), 1));
        names.setContent("app.versatus", bytes32(0), 1);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidContent.selector, bytes32(uint256(1)), 0));
        names.setContent("app.versatus", bytes32(uint256(1)), 0);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_InvalidContent.selector, bytes32(uint256(1)), 3));
        names.setContent("app.versatus", bytes32(uint256(1)), 3);
        vm.stopPrank();
    }

    function test_setText_refusesTooManyOrTooLongStrings() public {
        _register("app.versatus", alice);
        string[] memory nine = new string[](9);
        for (uint256 i = 0; i < 9; ++i) nine[i] = "x";
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_TooManyRecords.selector, "app.versatus", 9, 8));
        names.setText("app.versatus", nine);
        string[] memory long = new string[](2);
        long[0] = "fine";
        long[1] = _repeat("y", 256);
        vm.expectRevert(
            abi.encodeWithSelector(INameRegistry.Names_InvalidRecordLength.selector, "app.versatus", 1, 256, 255)
        );
        names.setText("app.versatus", long);
        vm.stopPrank();
    }

    function test_transfer_movesTheNameWithItsRecords() public {
        _register("app.versatus", alice);
        bytes32 id = sha256("bundle");
        vm.startPrank(alice);
        names.setContent("app.versatus", id, 2);
        vm.expectEmit(address(names));
        emit INameRegistry.NameTransferred(keccak256("app.versatus"), "app.versatus", alice, mallory);
        names.transfer("app.versatus", mallory);
        vm.stopPrank();
        assertEq(names.ownerOf("app.versatus"), mallory);
        assertEq(names.records("app.versatus").contentId, id);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_NotOwner.selector, "app.versatus", alice, mallory));
        names.setContent("app.versatus", bytes32(0), 0);
    }

    function test_transfer_toZero_isRefused() public {
        _register("app.versatus", alice);
        vm.prank(alice);
        vm.expectRevert(INameRegistry.Names_ZeroOwner.selector);
        names.transfer("app.versatus", address(0));
    }

    function test_renew_extendsFromNow_andAnExpiredNameGoesDark() public {
        _register("app.versatus", alice);
        vm.warp(block.timestamp + PERIOD - 10);
        vm.prank(alice);
        names.renew("app.versatus");
        uint64 expiresAt = uint64(block.timestamp) + PERIOD;
        assertEq(names.records("app.versatus").expiresAt, expiresAt);
        vm.warp(expiresAt);
        assertEq(names.ownerOf("app.versatus"), address(0));
        assertEq(names.records("app.versatus").owner, address(0));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(INameRegistry.Names_NotRegistered.selector, "app.versatus", expiresAt));
        names.renew("app.versatus");
    }

    function test_reRegistrationAfterExpiry_startsWithNoRecordsOfTheEarlierHolder() public {
        _register("app.versatus", alice);
        string[] memory txt = new string[](1);
        txt[0] = "alice was here";
        vm.prank(alice);
        names.setText("app.versatus", txt);
        vm.warp(block.timestamp + PERIOD);
        _register("app.versatus", mallory);
        INameRegistry.NameRecords memory r = names.records("app.versatus");
        assertEq(r.owner, mallory);
        assertEq(r.generation, 2);
        assertEq(r.txt.length, 0);
    }

    function test_commit_refusesZero() public {
        vm.expectRevert(INameRegistry.Names_ZeroCommitment.selector);
        names.commit(bytes32(0));
    }

    function _repeat(string memory s, uint256 n) internal pure returns (string memory out) {
        for (uint256 i = 0; i < n; ++i) out = string.concat(out, s);
    }
}
