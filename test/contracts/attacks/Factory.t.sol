// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BaseTest} from "../Base.t.sol";
import {IDisperser} from "../../../contracts/interfaces/IDisperser.sol";
import {IContractFactory} from "../../../contracts/interfaces/IContractFactory.sol";
import {Instruction, Ops} from "../../../contracts/interfaces/IInstruction.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @dev Issue 10 item 8: CREATE with a used salt was a silent no-op (the instruction looked done).
contract FactoryAttackTest is BaseTest {
    bytes32 internal constant KIND = keccak256("ERC20");

    function _createIx(bytes32 salt, bytes memory init) internal pure returns (Instruction memory) {
        return Instruction({op: Ops.CREATE, target: address(0), amount: 0, data: abi.encode(KIND, salt, init)});
    }

    /// The factory refuses a second creation at a used (kind, salt, init) with the existing instance.
    function test_createWithUsedSalt_revertsInFactory() public {
        bytes memory init = abi.encode("A", "A", payee, 5e18);
        address first = factory.create(KIND, keccak256("s"), init);
        vm.expectRevert(
            abi.encodeWithSelector(IContractFactory.Factory_AlreadyCreated.selector, KIND, keccak256("s"), first)
        );
        factory.create(KIND, keccak256("s"), init);
        assertEq(IERC20(first).balanceOf(payee), 5e18, "the first instance is untouched");
    }

    /// Front-running a result's CREATE with the same arguments makes that CREATE fail visibly
    /// (InstructionFailed carrying the factory's error), and the rest of the result still settles.
    function test_createWithUsedSalt_inDispersal_isInstructionFailed() public {
        bytes memory init = abi.encode("A", "A", payee, 5e18);
        address squatted = factory.create(KIND, keccak256("s"), init); // the front-runner
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = new Instruction[](2);
        ix[0] = _createIx(keccak256("s"), init);
        ix[1] = _transfer(payee, 0.5 ether);
        vm.expectEmit(address(oracle));
        emit IDisperser.InstructionFailed(
            id,
            0,
            Ops.CREATE,
            address(factory),
            abi.encodeWithSelector(IContractFactory.Factory_AlreadyCreated.selector, KIND, keccak256("s"), squatted)
        );
        uint256 before = requester.balance;
        _ingest(_result(id, block.chainid, Ops.STATUS_OK, ix), ix);
        assertEq(payee.balance, 0.5 ether, "the TRANSFER still ran");
        assertEq(requester.balance, before + 0.5 ether - ETH_FEE, "remainder refunded");
        assertEq(IERC20(squatted).totalSupply(), 5e18, "no second supply");
    }

    /// A fresh salt still creates at the predicted address and emits ContractCreated.
    function test_createWithFreshSalt_unchanged() public {
        bytes memory init = abi.encode("B", "B", payee, 1e18);
        address predicted = factory.predict(KIND, keccak256("fresh"), init);
        bytes32 id = _requestEth(1 ether);
        Instruction[] memory ix = _one(_createIx(keccak256("fresh"), init));
        vm.expectEmit(address(factory));
        emit IContractFactory.ContractCreated(KIND, predicted, keccak256("fresh"));
        _ingest(_result(id, block.chainid, Ops.STATUS_OK, ix), ix);
        assertEq(IERC20(predicted).balanceOf(payee), 1e18);
    }
}
