// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "./Base.t.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IDisperser} from "../../contracts/interfaces/IDisperser.sol";
import {IInstructionIngestor} from "../../contracts/interfaces/IInstructionIngestor.sol";
import {IOmniToken} from "../../contracts/interfaces/IOmniToken.sol";
import {IContractFactory} from "../../contracts/interfaces/IContractFactory.sol";
import {IOperatorSet} from "../../contracts/interfaces/IOperatorSet.sol";
import {Instruction, Result} from "../../contracts/interfaces/IInstruction.sol";

/// @dev Every restricted function, called by any other account, reverts with its custom error.
contract AccessControlTest is BaseTest {
    function _stranger(address caller, address allowed) internal view returns (address) {
        vm.assume(caller != allowed && caller != address(0) && caller.code.length == 0);
        return caller;
    }

    function _expectNotOwner(address caller) internal {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
    }

    function testFuzz_oracleOwnerFunctions_revertForStrangers(address caller) public {
        caller = _stranger(caller, owner);
        _expectNotOwner(caller);
        oracle.setFee(address(0), 1);
        _expectNotOwner(caller);
        oracle.setIngestor(caller);
        _expectNotOwner(caller);
        oracle.setFactory(IContractFactory(caller));
    }

    function testFuzz_disperse_revertsForAnyoneButTheIngestor(address caller) public {
        caller = _stranger(caller, address(ingestor));
        vm.expectRevert(abi.encodeWithSelector(IDisperser.Disperser_NotIngestor.selector, caller));
        vm.prank(caller);
        Result memory r;
        oracle.disperse(r, new Instruction[](0), address(operatorSet), 1, 1, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDisperser.Disperser_NotIngestor.selector, caller));
        vm.prank(caller);
        Result memory r2;
        r2.originChainId = 1;
        oracle.disperseRemote(r2, new Instruction[](0));
    }

    function testFuzz_ingestorOwnerFunctions_revertForStrangers(address caller) public {
        caller = _stranger(caller, owner);
        _expectNotOwner(caller);
        ingestor.setPoster(caller, true);
        _expectNotOwner(caller);
        ingestor.setOpenPosting(true);
        _expectNotOwner(caller);
        ingestor.setOperatorSet(IOperatorSet(caller));
    }

    function testFuzz_ingest_revertsForNonPosters(address caller) public {
        caller = _stranger(caller, poster);
        Result memory r;
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotPoster.selector, caller));
        vm.prank(caller);
        ingestor.ingest(r, new Instruction[](0), new bytes[](0), "");
        vm.expectRevert(abi.encodeWithSelector(IInstructionIngestor.Ingestor_NotPoster.selector, caller));
        vm.prank(caller);
        ingestor.ingestBatch(new Result[](0), new Instruction[][](0), new bytes[][](0), new bytes[](0));
    }

    function testFuzz_operatorSetOwnerFunctions_revertForStrangers(address caller) public {
        caller = _stranger(caller, owner);
        _expectNotOwner(caller);
        operatorSet.addOperator(caller);
        _expectNotOwner(caller);
        operatorSet.removeOperator(operators[0]);
        _expectNotOwner(caller);
        operatorSet.setThreshold(4);
        _expectNotOwner(caller);
        operatorSet.reconfigure(new address[](0), new address[](0), 3);
    }

    function testFuzz_factoryOwnerFunctions_revertForStrangers(address caller) public {
        caller = _stranger(caller, owner);
        _expectNotOwner(caller);
        factory.registerKind(keccak256("X"), hex"00");
        _expectNotOwner(caller);
        factory.setDisperser(caller);
    }

    function testFuzz_omniMintBurn_revertForAnyoneButTheDisperser(address caller) public {
        caller = _stranger(caller, address(oracle));
        vm.expectRevert(abi.encodeWithSelector(IOmniToken.OmniToken_NotDisperser.selector, caller));
        vm.prank(caller);
        omni.mint(caller, 1, REMOTE_CHAIN, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IOmniToken.OmniToken_NotDisperser.selector, caller));
        vm.prank(caller);
        omni.burn(1);
    }

    function testFuzz_omniAdminFunctions_revertForStrangers(address caller) public {
        caller = _stranger(caller, owner);
        vm.expectRevert(abi.encodeWithSelector(IOmniToken.OmniToken_NotAdmin.selector, caller));
        vm.prank(caller);
        omni.setMintLimit(1, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IOmniToken.OmniToken_NotAdmin.selector, caller));
        vm.prank(caller);
        omni.setAdmin(caller);
    }
}
