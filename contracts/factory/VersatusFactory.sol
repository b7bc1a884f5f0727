// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IContractFactory} from "../interfaces/IContractFactory.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title VersatusFactory
/// @notice CREATE2 factory of standard contracts, one address per (kind, salt, init) on every chain.
/// @dev A kind's creation code lives as the runtime code of a data contract (prefixed with STOP so
/// it can never run), which keeps the factory small whatever the kinds weigh. Kinds are set once:
/// changing a kind's code would change every address predicted for it.
contract VersatusFactory is IContractFactory, Ownable2Step {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice keccak256("ERC20")
    bytes32 public constant KIND_ERC20 = keccak256("ERC20");
    /// @notice keccak256("ERC721")
    bytes32 public constant KIND_ERC721 = keccak256("ERC721");
    /// @notice keccak256("OMNITOKEN")
    bytes32 public constant KIND_OMNITOKEN = keccak256("OMNITOKEN");

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice Data contract holding each kind's creation code.
    mapping(bytes32 kind => address store) public codeStoreOf;
    /// @inheritdoc IContractFactory
    address public disperser;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(address initialOwner) Ownable(initialOwner) {}

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers the creation code of `kind`.
    /// @dev Requirements: owner; kind not registered; code non-empty. Emits {KindRegistered}.
    function registerKind(bytes32 kind, bytes calldata creationCode) external onlyOwner {
        if (codeStoreOf[kind] != address(0)) revert Factory_KindExists(kind);
        if (creationCode.length == 0) revert Factory_EmptyCode(kind);
        // Data contract initcode: copy everything after this 12-byte header and return it as code.
        bytes memory runtime = abi.encodePacked(bytes1(0x00), creationCode);
        bytes memory initcode = abi.encodePacked(hex"61", uint16(runtime.length), hex"80600c6000396000f3", runtime);
        address store;
        assembly ("memory-safe") {
            store := create(0, add(initcode, 32), mload(initcode))
        }
        if (store == address(0)) revert Factory_EmptyCode(kind);
        codeStoreOf[kind] = store;
        emit KindRegistered(kind, store, keccak256(creationCode));
    }

    /// @notice Sets this chain's Disperser, which omni tokens created here will trust.
    /// @dev Requirements: owner; once only; non-zero. Emits {DisperserSet}.
    function setDisperser(address newDisperser) external onlyOwner {
        if (disperser != address(0)) revert Factory_DisperserAlreadySet(disperser);
        if (newDisperser == address(0)) revert Factory_ZeroAddress();
        disperser = newDisperser;
        emit DisperserSet(newDisperser);
    }

    /// @inheritdoc IContractFactory
    function create(bytes32 kind, bytes32 salt, bytes calldata init) external returns (address instance) {
        bytes memory initcode = _initcode(kind, init);
        bytes32 fullSalt = keccak256(abi.encode(kind, salt));
        instance = _predict(fullSalt, keccak256(initcode));
        if (instance.code.length != 0) revert Factory_AlreadyCreated(kind, salt, instance);
        address created;
        assembly ("memory-safe") {
            created := create2(0, add(initcode, 32), mload(initcode), fullSalt)
        }
        if (created == address(0)) revert Factory_CreateFailed(kind, salt);
        emit ContractCreated(kind, created, salt);
    }

    /// @inheritdoc IContractFactory
    function predict(bytes32 kind, bytes32 salt, bytes calldata init) external view returns (address) {
        return _predict(keccak256(abi.encode(kind, salt)), keccak256(_initcode(kind, init)));
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _initcode(bytes32 kind, bytes calldata init) internal view returns (bytes memory initcode) {
        address store = codeStoreOf[kind];
        if (store == address(0)) revert Factory_UnknownKind(kind);
        uint256 codeLength = store.code.length - 1;
        initcode = new bytes(codeLength + init.length);
        assembly ("memory-safe") {
            extcodecopy(store, add(initcode, 32), 1, codeLength)
            calldatacopy(add(add(initcode, 32), codeLength), init.offset, init.length)
        }
    }

    function _predict(bytes32 fullSalt, bytes32 initcodeHash) internal view returns (address) {
        return
            address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), fullSalt, initcodeHash)))));
    }
}
