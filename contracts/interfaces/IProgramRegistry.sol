// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IProgramRegistry
/// @notice The global state of programs on one chain: content-addressed WebAssembly packages and
/// human names that resolve to the latest programId their owner set (SPEC 3.4).
interface IProgramRegistry {
    /// @notice A programId of zero is never a program.
    error Registry_ZeroProgramId();
    /// @notice The name is empty or longer than 64 bytes.
    error Registry_InvalidName(string name);
    /// @notice The name belongs to another publisher.
    error Registry_NameTaken(string name, address owner);

    /// @notice Emitted when a program is published (or a name is pointed at a new version).
    event ProgramPublished(bytes32 indexed programId, string name, address indexed publisher, string uri);

    /// @notice Publishes `programId` (sha256 of the canonical package) under `name`, fetchable at `uri`.
    /// @dev Requirements: `programId` non-zero; `name` 1..64 bytes and unowned or owned by the caller.
    /// The first publisher of a name owns it; later versions move the name to the new programId.
    /// Emits {ProgramPublished}.
    function publish(bytes32 programId, string calldata name, string calldata uri) external;

    /// @notice Whether `programId` has been published on this chain.
    function isPublished(bytes32 programId) external view returns (bool);

    /// @notice The latest programId published under `name` (zero if none).
    function resolve(string calldata name) external view returns (bytes32 programId);

    /// @notice The owner of `name` (zero if unclaimed).
    function nameOwner(string calldata name) external view returns (address);
}
