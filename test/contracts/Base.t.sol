// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {ExecutableOracle} from "../../contracts/ExecutableOracle.sol";
import {InstructionIngestor} from "../../contracts/InstructionIngestor.sol";
import {OwnedOperatorSet} from "../../contracts/operators/OwnedOperatorSet.sol";
import {VersatusFactory} from "../../contracts/factory/VersatusFactory.sol";
import {OmniToken} from "../../contracts/tokens/OmniToken.sol";
import {StandardERC20} from "../../contracts/tokens/StandardERC20.sol";
import {StandardERC721} from "../../contracts/tokens/StandardERC721.sol";
import {IDisperser} from "../../contracts/interfaces/IDisperser.sol";
import {IOperatorSet} from "../../contracts/interfaces/IOperatorSet.sol";
import {Instruction, Result, Ops} from "../../contracts/interfaces/IInstruction.sol";

/// @dev Deploys and wires the suite like deploy/ does: 4 operators, threshold 3, one poster.
abstract contract BaseTest is Test {
    uint256 internal constant ETH_FEE = 1e14;
    uint256 internal constant REMOTE_CHAIN = 31338;
    bytes32 internal constant PROGRAM = keccak256("program");

    address internal owner = makeAddr("owner");
    address internal poster = makeAddr("poster");
    address internal requester = makeAddr("requester");
    address internal payee = makeAddr("payee");

    uint256[4] internal operatorKeys;
    address[4] internal operators;

    ExecutableOracle internal oracle;
    InstructionIngestor internal ingestor;
    OwnedOperatorSet internal operatorSet;
    VersatusFactory internal factory;
    OmniToken internal omni;
    StandardERC20 internal token;

    function setUp() public virtual {
        address[] memory ops = new address[](4);
        for (uint256 i; i < 4; ++i) {
            operatorKeys[i] = uint256(keccak256(abi.encode("operator", i)));
            operators[i] = vm.addr(operatorKeys[i]);
            ops[i] = operators[i];
        }
        operatorSet = new OwnedOperatorSet(owner, ops, 3);
        oracle = new ExecutableOracle(owner, ETH_FEE);
        ingestor = new InstructionIngestor(owner, IDisperser(address(oracle)), IOperatorSet(address(operatorSet)));
        factory = new VersatusFactory(owner);
        vm.startPrank(owner);
        oracle.setIngestor(address(ingestor));
        ingestor.setPoster(poster, true);
        factory.registerKind(keccak256("ERC20"), type(StandardERC20).creationCode);
        factory.registerKind(keccak256("ERC721"), type(StandardERC721).creationCode);
        factory.registerKind(keccak256("OMNITOKEN"), type(OmniToken).creationCode);
        factory.setDisperser(address(oracle));
        oracle.setFactory(factory);
        vm.stopPrank();
        omni = OmniToken(
            factory.create(
                keccak256("OMNITOKEN"),
                keccak256("omni"),
                abi.encode("Omni", "OMNI", owner, 1_000_000e18, block.chainid, _controllers())
            )
        );
        token = StandardERC20(
            factory.create(keccak256("ERC20"), keccak256("tok"), abi.encode("Tok", "TOK", requester, 1_000_000e18))
        );
        // The owner accepts tokens through a round-trip probe of its own funds (borrowed here and
        // given back, so the requester's balance is whole again).
        vm.prank(requester);
        token.transfer(owner, 1e18);
        vm.startPrank(owner);
        omni.setMintLimit(REMOTE_CHAIN, 1_000e18, 3600);
        omni.setMintLimit(block.chainid, 1_000e18, 3600);
        token.approve(address(oracle), 1e18);
        oracle.acceptToken(address(token), 1e15, 1e18);
        token.transfer(requester, 1e18);
        omni.approve(address(oracle), 1e18);
        oracle.acceptToken(address(omni), 1, 1e18);
        oracle.setFree(address(omni)); // on purpose: omni requests carry no fee in these tests
        oracle.publish(PROGRAM, "program", "ipfs://program");
        vm.stopPrank();
        vm.deal(requester, 1_000 ether);
    }

    /// @dev Every epoch since the start of the test run, up to now (for fee claims).
    function _epochsSoFar() internal view returns (uint256[] memory epochs) {
        uint256 last = block.timestamp / 1 hours;
        uint256 first = last > 64 ? last - 64 : 0;
        epochs = new uint256[](last - first + 1);
        for (uint256 e = first; e <= last; ++e) epochs[e - first] = e;
    }

    /// @dev The omni token's controller programs: PROGRAM, so the tests' results may move it.
    function _controllers() internal pure returns (bytes32[] memory c) {
        c = new bytes32[](1);
        c[0] = PROGRAM;
    }

    function _requestEth(uint256 amount) internal returns (bytes32) {
        vm.prank(requester);
        return oracle.request{value: amount}(PROGRAM, hex"1234", 1 hours);
    }

    function _requestToken(address asset, uint256 amount) internal returns (bytes32 id) {
        vm.startPrank(requester);
        StandardERC20(asset).approve(address(oracle), amount);
        id = oracle.requestWithToken(PROGRAM, hex"1234", 1 hours, asset, amount);
        vm.stopPrank();
    }

    function _result(
        bytes32 requestId,
        uint256 origin,
        uint8 status,
        Instruction[] memory ix
    ) internal pure returns (Result memory r) {
        r = Result({
            requestId: requestId,
            originChainId: origin,
            programId: PROGRAM,
            inputHash: keccak256(hex"1234"),
            status: status,
            instructionsHash: keccak256(abi.encode(ix)),
            bodyHash: keccak256(abi.encode("body", requestId))
        });
    }

    /// @dev Signs with operators[which[i]] and returns the signatures in ascending signer order.
    function _sign(Result memory r, uint256[] memory which) internal view returns (bytes[] memory sigs) {
        bytes32 digest = ingestor.resultDigest(r);
        return _signDigest(digest, which);
    }

    function _signDigest(bytes32 digest, uint256[] memory which) internal view returns (bytes[] memory sigs) {
        uint256 n = which.length;
        uint256[] memory keys = new uint256[](n);
        for (uint256 i; i < n; ++i) keys[i] = operatorKeys[which[i]];
        // insertion sort by address
        for (uint256 i = 1; i < n; ++i) {
            uint256 k = keys[i];
            uint256 j = i;
            while (j > 0 && vm.addr(keys[j - 1]) > vm.addr(k)) {
                keys[j] = keys[j - 1];
                --j;
            }
            keys[j] = k;
        }
        sigs = new bytes[](n);
        for (uint256 i; i < n; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = abi.encodePacked(rr, s, v);
        }
    }

    /// @dev The EIP-712 domain separator of an ingestor at `ingestorAddr` on chain `chainId`,
    /// computed here from the typed-data rules (not read from the contract).
    function _domainOf(uint256 chainId, address ingestorAddr) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak256("Versatus"),
                    keccak256("1"),
                    chainId,
                    ingestorAddr
                )
            );
    }

    function _three() internal pure returns (uint256[] memory w) {
        w = new uint256[](3);
        (w[0], w[1], w[2]) = (0, 1, 2);
    }

    function _ingest(Result memory r, Instruction[] memory ix) internal {
        bytes[] memory sigs = _sign(r, _three());
        vm.prank(poster);
        ingestor.ingest(r, ix, sigs, hex"00");
    }

    function _transfer(address to, uint256 amount) internal pure returns (Instruction memory) {
        return Instruction({op: Ops.TRANSFER, target: to, amount: amount, data: ""});
    }

    function _one(Instruction memory i) internal pure returns (Instruction[] memory ix) {
        ix = new Instruction[](1);
        ix[0] = i;
    }
}
