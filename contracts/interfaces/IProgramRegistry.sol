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

    /// @notice The first publish of `name` needs a reservation of `commitment` made in an earlier block.
    error Registry_NotReserved(string name, bytes32 commitment);
    /// @notice The reservation is from this block: publish from block `usableFrom` on.
    error Registry_ReservationTooRecent(string name, uint256 usableFrom);
    /// @notice A zero commitment reserves nothing.
    error Registry_ZeroCommitment();

    /// @notice Emitted when a program is published (or a name is pointed at a new version).
    event ProgramPublished(bytes32 indexed programId, string name, address indexed publisher, string uri);
    /// @notice Emitted when a name reservation is committed (the name stays hidden until publish).
    event NameReserved(bytes32 indexed commitment, address indexed reserver);

    /// @notice Commits to a first publish without revealing it: `commitment` =
    /// {nameCommitment}(publisher, programId, name). A front-runner who sees the later {publish}
    /// cannot use it: its own reservation would be from that block, too recent to publish in it.
    /// @dev Requirements: non-zero commitment. The first reservation of a commitment counts (a copy
    /// of someone's commitment only reserves it for them). Emits {NameReserved}.
    function reserveName(bytes32 commitment) external;

    /// @notice Publishes `programId` (sha256 of the canonical package) under `name`, fetchable at `uri`.
    /// @dev Requirements: `programId` non-zero; `name` 1..64 bytes and unowned or owned by the caller.
    /// The first publisher of a name owns it; later versions move the name to the new programId.
    /// The first publish of a name needs {reserveName} of {nameCommitment}(caller, programId, name)
    /// in an earlier block (the registry's owner, who administers the oracle, is exempt: its
    /// publishes cannot be front-run either, nobody else holds a reservation for them).
    /// Emits {ProgramPublished}.
    function publish(bytes32 programId, string calldata name, string calldata uri) external;

    /// @notice The reservation commitment of a first publish: keccak256(abi.encode(publisher, programId, name)).
    /// The programId (the hash of a package not yet public) keeps the name from being guessed from it.
    function nameCommitment(address publisher, bytes32 programId, string calldata name) external pure returns (bytes32);

    /// @notice Block number in which `commitment` was reserved (0 if never, or used by a publish).
    function reservedAt(bytes32 commitment) external view returns (uint256);

    /// @notice Whether `programId` has been published on this chain.
    function isPublished(bytes32 programId) external view returns (bool);

    /// @notice The latest programId published under `name` (zero if none).
    function resolve(string calldata name) external view returns (bytes32 programId);

    /// @notice The owner of `name` (zero if unclaimed).
    function nameOwner(string calldata name) external view returns (address);
}
