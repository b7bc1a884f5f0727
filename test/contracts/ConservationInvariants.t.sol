// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {Test} from "forge-std/Test.sol";
import {ExecutableOracle} from "../../contracts/ExecutableOracle.sol";
import {InstructionIngestor} from "../../contracts/InstructionIngestor.sol";
import {VersatusFactory} from "../../contracts/factory/VersatusFactory.sol";
import {OmniToken} from "../../contracts/tokens/OmniToken.sol";
import {StandardERC20} from "../../contracts/tokens/StandardERC20.sol";
import {StandardERC721} from "../../contracts/tokens/StandardERC721.sol";
import {IDisperser} from "../../contracts/interfaces/IDisperser.sol";
import {IOperatorSet} from "../../contracts/interfaces/IOperatorSet.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";

contract InvGuzzler {
    fallback() external payable {
        while (true) {}
    }
}

contract InvBomber {
    fallback() external payable {
        assembly {
            revert(0, 250000)
        }
    }
}

contract InvReverter {
    fallback() external payable {
        revert("no");
    }
}

/// @dev Drives two suites in one EVM: suite A (the origin: results for its own requests) and
/// suite B (the destination: it sees A's results as coming from chain REMOTE). Programs are the
/// token's controller or a rogue one; instruction lists are fuzzed. Keeps `pending`: what A burned
/// and no chain minted or queued yet, per request and in total.
contract ConservationHandler is Test {
    uint256 internal constant REMOTE = 31338;
    uint256 internal constant FEE = 1e14;

    ExecutableOracle internal immutable oracleA;
    InstructionIngestor internal immutable ingestorA;
    OmniToken internal immutable omniA;
    InstructionIngestor internal immutable ingestorB;
    OmniToken internal immutable omniB;
    bytes32 internal immutable controller;
    bytes32 internal immutable rogue;
    address internal immutable requester;
    address internal immutable poster;
    address internal immutable payee = makeAddr("inv payee");
    address[4] internal hostile;
    uint256[4] internal keys;

    bytes32[] public settled;
    mapping(bytes32 requestId => uint256) public pendingOf;
    mapping(bytes32 requestId => bool) public mintedOnB;
    uint256 public pending;
    uint256 public ethSettled;
    uint256 public rogueAccepted;
    uint256 public openOmniEscrow;

    constructor(
        ExecutableOracle oracleA_,
        InstructionIngestor ingestorA_,
        OmniToken omniA_,
        InstructionIngestor ingestorB_,
        OmniToken omniB_,
        bytes32 controller_,
        bytes32 rogue_,
        address requester_,
        address poster_
    ) {
        (oracleA, ingestorA, omniA, ingestorB, omniB) = (oracleA_, ingestorA_, omniA_, ingestorB_, omniB_);
        (controller, rogue, requester, poster) = (controller_, rogue_, requester_, poster_);
        for (uint256 i; i < 4; ++i) keys[i] = uint256(keccak256(abi.encode("operator", i)));
        hostile[0] = address(new InvGuzzler());
        hostile[1] = address(new InvBomber());
        hostile[2] = address(new InvReverter());
        hostile[3] = payee;
    }

    /// A request escrowing omni tokens on A and a fuzzed result for it (controller or rogue program).
    function settleOmni(uint96 amountSeed, bool useRogue, uint256[4] calldata seeds, uint8 countSeed) external {
        uint256 amount = bound(amountSeed, 1, 1_000e18);
        bytes32 program = useRogue ? rogue : controller;
        vm.startPrank(requester);
        omniA.approve(address(oracleA), amount);
        bytes32 id = oracleA.requestWithToken(program, hex"1234", 1 hours, address(omniA), amount);
        vm.stopPrank();
        uint256 n = bound(countSeed, 0, 4);
        Instruction[] memory ix = new Instruction[](n);
        uint256 burned;
        uint256 minted;
        for (uint256 i; i < n; ++i) {
            uint256 s = seeds[i];
            uint256 share = bound(s >> 8, 0, amount);
            uint256 kind = s % 6;
            if (kind == 0 || kind == 1) {
                ix[i] = Instruction({op: Ops.BURN, target: address(omniA), amount: share, data: ""});
                burned += share;
            } else if (kind == 2) {
                ix[i] = Instruction({op: Ops.MINT, target: payee, amount: share, data: abi.encode(address(omniA))});
                minted += share;
            } else if (kind == 3) {
                // another omni token (same controllers): nothing of it is burned here
                ix[i] = Instruction({op: Ops.MINT, target: payee, amount: share, data: abi.encode(address(omniB))});
                minted += share;
            } else if (kind == 4) {
                ix[i] = Instruction({op: Ops.BURN, target: payee, amount: share, data: ""});
            } else {
                ix[i] = Instruction({op: Ops.TRANSFER, target: payee, amount: share, data: ""});
            }
        }
        Result memory r = _result(id, block.chainid, program, ix);
        bytes[] memory sigs = _sign(ingestorA, r);
        vm.prank(poster);
        try ingestorA.ingest(r, ix, sigs, "") {
            if (useRogue && (burned != 0 || minted != 0)) ++rogueAccepted;
            // A refused unbacked mint would have reverted: here burned >= minted must hold, else
            // the subtraction panics and the invariant run fails.
            uint256 left = burned - minted;
            pendingOf[id] = left;
            pending += left;
            settled.push(id);
        } catch {
            // refused: the escrow stays, refundable after the deadline
            openOmniEscrow += amount;
        }
    }

    /// B ingests a result of one of A's requests: a controller's mint bounded by what A burned for
    /// it (the rule every honest node applies off chain), or a rogue program's mint of any amount.
    function mintOnB(uint256 idSeed, uint96 amountSeed, bool useRogue) external {
        if (settled.length == 0) return;
        bytes32 id = settled[idSeed % settled.length];
        if (mintedOnB[id]) return;
        uint256 amount = useRogue ? bound(amountSeed, 1, 1e24) : bound(amountSeed, 0, pendingOf[id]);
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = Instruction({op: Ops.MINT, target: payee, amount: amount, data: abi.encode(address(omniB))});
        Result memory r = _result(id, REMOTE, useRogue ? rogue : controller, ix);
        bytes[] memory sigs = _sign(ingestorB, r);
        vm.prank(poster);
        ingestorB.ingest(r, ix, sigs, ""); // must never revert: queued or refused per instruction
        mintedOnB[id] = true;
        if (!useRogue) {
            pendingOf[id] -= amount;
            pending -= amount;
        }
    }

    /// Anyone completes a queued mint on either chain, some time later.
    function complete(uint256 idSeed, uint32 warp, bool onB) external {
        vm.warp(block.timestamp + bound(warp, 0, 2 hours));
        OmniToken t = onB ? omniB : omniA;
        uint256 next = t.nextQueueId();
        if (next == 1) return;
        try t.completeQueuedMint(1 + (idSeed % (next - 1))) {} catch {}
    }

    /// An ETH request whose result pays hostile CALL and TRANSFER targets.
    function settleEthHostile(uint96 amountSeed, uint256 targetSeed, bool asCall) external {
        uint256 amount = bound(amountSeed, FEE, 10 ether);
        vm.deal(requester, amount);
        vm.prank(requester);
        bytes32 id = oracleA.request{value: amount}(controller, hex"1234", 1 hours);
        Instruction[] memory ix = new Instruction[](1);
        ix[0] = Instruction({
            op: asCall ? Ops.CALL : Ops.TRANSFER,
            target: hostile[targetSeed % 4],
            amount: (amount - FEE) / 2,
            data: asCall ? bytes(hex"01") : bytes("")
        });
        Result memory r = _result(id, block.chainid, controller, ix);
        bytes[] memory sigs = _sign(ingestorA, r);
        vm.prank(poster);
        ingestorA.ingest(r, ix, sigs, ""); // a hostile target never reverts its result
        ++ethSettled;
    }

    function settledCount() external view returns (uint256) {
        return settled.length;
    }

    function _result(
        bytes32 id,
        uint256 origin,
        bytes32 program,
        Instruction[] memory ix
    ) internal pure returns (Result memory) {
        return
            Result({
                requestId: id,
                originChainId: origin,
                programId: program,
                inputHash: keccak256(hex"1234"),
                status: Ops.STATUS_OK,
                instructionsHash: keccak256(abi.encode(ix)),
                bodyHash: keccak256(abi.encode("body", id))
            });
    }

    /// @dev Three of the four operators, ascending by address.
    function _sign(InstructionIngestor ingestor, Result memory r) internal view returns (bytes[] memory sigs) {
        bytes32 digest = ingestor.resultDigest(r);
        uint256[3] memory k = [keys[0], keys[1], keys[2]];
        for (uint256 i = 1; i < 3; ++i) {
            for (uint256 j = i; j > 0 && vm.addr(k[j - 1]) > vm.addr(k[j]); --j) (k[j - 1], k[j]) = (k[j], k[j - 1]);
        }
        sigs = new bytes[](3);
        for (uint256 i; i < 3; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(k[i], digest);
            sigs[i] = abi.encodePacked(rr, s, v);
        }
    }
}

/// @dev SPEC 3.4 and 7 as invariants over two suites in one EVM: `sum(totalSupply) + queued +
/// burned-not-yet-minted` is constant under arbitrary instruction lists from controller and rogue
/// programs, and the escrow stays solvent under hostile targets.
contract ConservationInvariantsTest is BaseTest {
    bytes32 internal constant ROGUE = keccak256("rogue program");

    ExecutableOracle internal oracleB;
    InstructionIngestor internal ingestorB;
    VersatusFactory internal factoryB;
    OmniToken internal omniB;
    ConservationHandler internal handler;
    uint256 internal initialTotal;

    function setUp() public override {
        super.setUp();
        // Suite B: its own oracle, ingestor, factory and omni token (no supply: A is home).
        oracleB = new ExecutableOracle(owner, ETH_FEE);
        ingestorB = new InstructionIngestor(owner, IDisperser(address(oracleB)), IOperatorSet(address(operatorSet)));
        factoryB = new VersatusFactory(owner);
        vm.startPrank(owner);
        oracleB.setIngestor(address(ingestorB));
        ingestorB.setPoster(poster, true);
        factoryB.registerKind(keccak256("OMNITOKEN"), type(OmniToken).creationCode);
        factoryB.setDisperser(address(oracleB));
        oracleB.setFactory(factoryB);
        oracleA_publish();
        vm.stopPrank();
        omniB = OmniToken(
            factoryB.create(
                keccak256("OMNITOKEN"),
                keccak256("omni"),
                abi.encode("Omni", "OMNI", owner, 0, 0, _controllers())
            )
        );
        vm.startPrank(owner);
        omniB.setMintLimit(REMOTE_CHAIN, 1_000e18, 3600);
        omni.transfer(requester, 500_000e18);
        vm.stopPrank();
        handler = new ConservationHandler(oracle, ingestor, omni, ingestorB, omniB, PROGRAM, ROGUE, requester, poster);
        initialTotal = omni.totalSupply() + omniB.totalSupply();
        targetContract(address(handler));
    }

    function oracleA_publish() internal {
        oracle.publish(ROGUE, "rogue", "ipfs://rogue");
    }

    /// No token appears from nothing, none disappears: supply on both chains, plus what is queued on
    /// both, plus what was burned and is not minted yet, never changes.
    function invariant_omniSupplyConservedAcrossChains() public view {
        assertEq(
            omni.totalSupply() + omniB.totalSupply() + omni.queuedTotal() + omniB.queuedTotal() + handler.pending(),
            initialTotal,
            "conservation"
        );
    }

    /// A rogue program never moved an omni token on either chain.
    function invariant_rogueProgramsMoveNothing() public view {
        assertEq(handler.rogueAccepted(), 0);
    }

    /// Escrow solvency under hostile targets: after every settlement the oracle holds exactly the
    /// fees of the settled ETH requests (hostile targets' shares went back to the requester).
    function invariant_ethEscrowSolventUnderHostileTargets() public view {
        assertEq(address(oracle).balance, handler.ethSettled() * ETH_FEE, "ETH held");
        assertEq(omni.balanceOf(address(oracle)), handler.openOmniEscrow(), "omni held = refused requests' escrow");
    }
}
