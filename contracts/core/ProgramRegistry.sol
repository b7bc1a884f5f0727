// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IProgramRegistry} from "../interfaces/IProgramRegistry.sol";

/// @title ProgramRegistry
/// @notice Published programs and their names. The ExecutableOracle inherits it so that checking a
/// request's program is one storage read instead of a call to another contract (about 2,800 gas
/// less per request); its address is therefore the oracle's address.
abstract contract ProgramRegistry is IProgramRegistry {
    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(bytes32 programId => address publisher) private _publisherOf;
    mapping(bytes32 nameHash => address owner) private _nameOwner;
    mapping(bytes32 nameHash => bytes32 programId) private _latest;
    mapping(bytes32 commitment => uint256 blockNumber) private _reservedAt;

    uint256 private constant MAX_NAME_BYTES = 64;

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IProgramRegistry
    function reserveName(bytes32 commitment) external {
        if (commitment == bytes32(0)) revert Registry_ZeroCommitment();
        // The first reservation stands: copying a commitment must not push its block later.
        if (_reservedAt[commitment] == 0) _reservedAt[commitment] = block.number;
        emit NameReserved(commitment, msg.sender);
    }

    /// @inheritdoc IProgramRegistry
    function publish(bytes32 programId, string calldata name, string calldata uri) external {
        if (programId == bytes32(0)) revert Registry_ZeroProgramId();
        uint256 nameLength = bytes(name).length;
        if (nameLength == 0 || nameLength > MAX_NAME_BYTES) revert Registry_InvalidName(name);
        bytes32 nameHash = keccak256(bytes(name));
        address owner = _nameOwner[nameHash];
        if (owner == address(0)) {
            if (!_isRegistryAdmin(msg.sender)) _useReservation(programId, name);
            _nameOwner[nameHash] = msg.sender;
        } else if (owner != msg.sender) {
            revert Registry_NameTaken(name, owner);
        }
        if (_publisherOf[programId] == address(0)) _publisherOf[programId] = msg.sender;
        _latest[nameHash] = programId;
        emit ProgramPublished(programId, name, msg.sender, uri);
    }

    /// @inheritdoc IProgramRegistry
    function nameCommitment(address publisher, bytes32 programId, string calldata name) public pure returns (bytes32) {
        return keccak256(abi.encode(publisher, programId, name));
    }

    /// @inheritdoc IProgramRegistry
    function reservedAt(bytes32 commitment) external view returns (uint256) {
        return _reservedAt[commitment];
    }

    /// @inheritdoc IProgramRegistry
    function isPublished(bytes32 programId) public view returns (bool) {
        return _publisherOf[programId] != address(0);
    }

    /// @inheritdoc IProgramRegistry
    function resolve(string calldata name) external view returns (bytes32) {
        return _latest[keccak256(bytes(name))];
    }

    /// @inheritdoc IProgramRegistry
    function nameOwner(string calldata name) external view returns (address) {
        return _nameOwner[keccak256(bytes(name))];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Whether `account` administers the registry (publishes without a reservation).
    function _isRegistryAdmin(address account) internal view virtual returns (bool);

    /// @dev Consumes the caller's reservation of this first publish; it must be from an earlier block.
    function _useReservation(bytes32 programId, string calldata name) private {
        bytes32 commitment = nameCommitment(msg.sender, programId, name);
        uint256 reserved = _reservedAt[commitment];
        if (reserved == 0) revert Registry_NotReserved(name, commitment);
        if (block.number <= reserved) revert Registry_ReservationTooRecent(name, reserved + 1);
        delete _reservedAt[commitment];
    }
}
