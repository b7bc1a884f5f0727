// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IOmniToken
/// @notice The cross-chain token: burned on one chain and minted on another by quorum-signed
/// results. Only the Disperser can mint or burn; mints are rate-limited per origin chain so that a
/// compromised origin can mint at most one bucket before anyone reacts (SPEC 3.4).
interface IOmniToken {
    /// @notice The caller is not this chain's Disperser.
    error OmniToken_NotDisperser(address caller);
    /// @notice Minting for results from `originChainId` is not enabled.
    error OmniToken_OriginNotAllowed(uint256 originChainId);
    /// @notice The mint would exceed the origin chain's bucket.
    error OmniToken_RateLimited(uint256 originChainId, uint256 available, uint256 requested);
    /// @notice Rate limit settings out of range.
    error OmniToken_InvalidLimit(uint256 capacity, uint256 window);
    /// @notice The caller is not the token's admin.
    error OmniToken_NotAdmin(address caller);
    /// @notice The factory reported no disperser.
    error OmniToken_NoDisperser();

    /// @notice Emitted on every mint by a result from `originChainId`.
    event CrossChainMinted(address indexed to, uint256 amount, uint256 indexed originChainId);
    /// @notice Emitted on every burn by the Disperser.
    event CrossChainBurned(uint256 amount);
    /// @notice Emitted when an origin's mint limit changes.
    event MintLimitSet(uint256 indexed originChainId, uint256 capacity, uint256 window);
    /// @notice Emitted when the admin changes.
    event AdminChanged(address indexed previousAdmin, address indexed newAdmin);

    /// @notice Mints `amount` to `to` for a result from `originChainId`.
    /// @dev Requirements: caller is the Disperser; the origin's bucket holds `amount`.
    /// Emits {CrossChainMinted} and {IERC20.Transfer}.
    function mint(address to, uint256 amount, uint256 originChainId) external;

    /// @notice Burns `amount` from the Disperser's own balance (escrowed tokens of a request).
    /// @dev Requirements: caller is the Disperser. Emits {CrossChainBurned} and {IERC20.Transfer}.
    function burn(uint256 amount) external;

    /// @notice Sets the mint bucket of `originChainId`: up to `capacity`, refilled over `window` seconds.
    /// @dev Requirements: caller is the admin; capacity < 2^96; 0 < window < 2^24 (capacity 0 disables).
    /// Emits {MintLimitSet}.
    function setMintLimit(uint256 originChainId, uint256 capacity, uint256 window) external;

    /// @notice Amount that can be minted for `originChainId` now.
    function mintableNow(uint256 originChainId) external view returns (uint256);

    /// @notice The Disperser: the only account allowed to mint and burn.
    function disperser() external view returns (address);

    /// @notice Whether `programId` is one of this token's controller programs: only a controller's
    /// results may MINT or BURN it (SPEC 3.4). Fixed at creation, so the same on every chain.
    function isController(bytes32 programId) external view returns (bool);

    /// @notice The controller programs of this token.
    function controllers() external view returns (bytes32[] memory);
}
