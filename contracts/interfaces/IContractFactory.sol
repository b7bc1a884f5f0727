// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IContractFactory
/// @notice Deterministic (CREATE2) creation of standard contracts: the same kind, salt and init
/// give the same address on every chain where the factory sits at the same address (SPEC 3.4).
interface IContractFactory {
    /// @notice No creation code is registered for `kind`.
    error Factory_UnknownKind(bytes32 kind);
    /// @notice `kind` already has creation code; kinds are immutable so addresses stay predictable.
    error Factory_KindExists(bytes32 kind);
    /// @notice The creation code store for `kind` is empty.
    error Factory_EmptyCode(bytes32 kind);
    /// @notice CREATE2 failed (the constructor reverted on this init).
    error Factory_CreateFailed(bytes32 kind, bytes32 salt);
    /// @notice The disperser can be set once only.
    error Factory_DisperserAlreadySet(address disperser);
    /// @notice The zero address is not allowed here.
    error Factory_ZeroAddress();
    /// @notice `instance` already exists for this kind, salt and init: CREATE2 cannot create it
    /// again, and returning it silently would report a creation that did not happen.
    error Factory_AlreadyCreated(bytes32 kind, bytes32 salt, address instance);

    /// @notice Emitted for every contract created (SPEC 3.4, normative).
    event ContractCreated(bytes32 indexed kind, address indexed instance, bytes32 salt);
    /// @notice Emitted when a kind gets its creation code.
    event KindRegistered(bytes32 indexed kind, address codeStore, bytes32 codeHash);
    /// @notice Emitted when the disperser (the only minter of created omni tokens) is set.
    event DisperserSet(address indexed disperser);

    /// @notice Creates the contract of `kind` for `salt` and `init`.
    /// @param init ABI-encoded constructor arguments appended to the kind's creation code.
    /// @dev Anyone may call: the address is a pure function of (factory, kind, salt, init), so a
    /// front-runner can only create exactly the contract the caller wanted (check `predict` and the
    /// code there instead of relying on this call). Requirements: the kind is registered; nothing
    /// exists at the address yet ({Factory_AlreadyCreated}); the constructor succeeds.
    /// Emits {ContractCreated}.
    function create(bytes32 kind, bytes32 salt, bytes calldata init) external returns (address instance);

    /// @notice The address `create(kind, salt, init)` gives on every chain.
    function predict(bytes32 kind, bytes32 salt, bytes calldata init) external view returns (address);

    /// @notice The Disperser of this chain, read by omni tokens at construction.
    function disperser() external view returns (address);
}
