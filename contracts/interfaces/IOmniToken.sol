// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IOmniToken
/// @notice The cross-chain token: burned on one chain and minted on another by quorum-signed
/// results. Only the Disperser can mint or burn, and only for results of the token's controller
/// programs, named at creation (SPEC 3.4). Mints are rate-limited per origin chain so that a
/// compromised origin can mint at most one bucket before anyone reacts; a mint the bucket cannot
/// take now is queued, never refused, and anyone completes it later (Wormhole NTT's inbound queue).
/// @dev Conservation across chains: `sum(totalSupply) + sum(queuedTotal) + burned-not-yet-minted`
/// is constant. A queued mint is completed at most once and never dropped.
interface IOmniToken {
    /// @notice A queued mint, waiting for capacity (or for its origin to be allowed).
    struct QueuedMint {
        address to;
        uint40 queuedAt;
        uint256 amount;
        uint256 originChainId;
        bytes32 requestId;
    }

    /// @notice The caller is not this chain's Disperser.
    error OmniToken_NotDisperser(address caller);
    /// @notice Minting for results from `originChainId` is not enabled (no bucket, or capacity 0).
    error OmniToken_OriginNotAllowed(uint256 originChainId);
    /// @notice Rate limit settings out of range.
    error OmniToken_InvalidLimit(uint256 capacity, uint256 window);
    /// @notice The caller is not the token's admin.
    error OmniToken_NotAdmin(address caller);
    /// @notice The factory reported no disperser.
    error OmniToken_NoDisperser();
    /// @notice Controller `index` is zero or not strictly above the previous one (the list is a set,
    /// ascending, so one set of controllers gives one CREATE2 address).
    error OmniToken_InvalidController(uint256 index, bytes32 programId);
    /// @notice More controllers than `max`.
    error OmniToken_TooManyControllers(uint256 count, uint256 max);
    /// @notice No queued mint `id` (never queued, or already completed).
    error OmniToken_NoQueuedMint(uint256 id);
    /// @notice Queued mint `id` needs `amount`, its origin's bucket holds `available`, and its
    /// window since queuing ends at `readyAt`.
    error OmniToken_QueuedMintNotReady(uint256 id, uint256 available, uint256 amount, uint256 readyAt);
    /// @notice A mint to the zero address (it could never be completed).
    error OmniToken_ZeroReceiver();

    /// @notice Emitted on every mint for a result of request `requestId` from `originChainId`
    /// (right away, or when a queued mint completes): the origin reference of the mint.
    event CrossChainMinted(
        address indexed to,
        uint256 amount,
        uint256 indexed originChainId,
        bytes32 indexed requestId
    );
    /// @notice Emitted when a mint is queued instead of minted (over the rate limit, or origin not allowed yet).
    event MintQueued(
        uint256 indexed id,
        address indexed to,
        uint256 amount,
        uint256 indexed originChainId,
        bytes32 requestId
    );
    /// @notice Emitted when queued mint `id` is completed (followed by {CrossChainMinted}).
    event QueuedMintCompleted(uint256 indexed id, address indexed by);
    /// @notice Emitted on every burn by the Disperser.
    event CrossChainBurned(uint256 amount);
    /// @notice Emitted when an origin's mint limit changes.
    event MintLimitSet(uint256 indexed originChainId, uint256 capacity, uint256 window);
    /// @notice Emitted when the admin changes.
    event AdminChanged(address indexed previousAdmin, address indexed newAdmin);
    /// @notice Emitted once per controller program at creation.
    event ControllerSet(bytes32 indexed programId);

    /// @notice Mints `amount` to `to` for request `requestId` of `originChainId`, or queues it when
    /// the origin's bucket cannot take it now or the origin is not allowed (yet).
    /// @dev Requirements: caller is the Disperser; `to` non-zero. Never reverts for the rate limit.
    /// Emits {CrossChainMinted} and {IERC20.Transfer}, or {MintQueued}.
    /// @return queueId 0 when minted now, else the id of the queued mint.
    function mint(
        address to,
        uint256 amount,
        uint256 originChainId,
        bytes32 requestId
    ) external returns (uint256 queueId);

    /// @notice Completes queued mint `id`: when its origin's bucket holds its amount now, or without
    /// capacity once the bucket's window has passed since it was queued (the bucket is drained
    /// by what it holds). Its origin must be allowed (capacity > 0). Anyone may call.
    /// @dev Emits {QueuedMintCompleted}, {CrossChainMinted} and {IERC20.Transfer}.
    function completeQueuedMint(uint256 id) external;

    /// @notice Burns `amount` from the Disperser's own balance (escrowed tokens of a request).
    /// @dev Requirements: caller is the Disperser. Emits {CrossChainBurned} and {IERC20.Transfer}.
    function burn(uint256 amount) external;

    /// @notice Sets the mint bucket of `originChainId`: up to `capacity`, refilled over `window` seconds.
    /// @dev Requirements: caller is the admin; capacity < 2^96; 0 < window < 2^24 (capacity 0 disables:
    /// mints from that origin are queued until it is enabled again). Emits {MintLimitSet}.
    function setMintLimit(uint256 originChainId, uint256 capacity, uint256 window) external;

    /// @notice Amount that can be minted for `originChainId` now.
    function mintableNow(uint256 originChainId) external view returns (uint256);

    /// @notice Sum of the amounts of all queued mints not completed yet.
    function queuedTotal() external view returns (uint256);

    /// @notice Queued mint `id` (amount 0 when there is none or it was completed).
    function queuedMint(uint256 id) external view returns (QueuedMint memory);

    /// @notice The id the next queued mint gets (ids start at 1).
    function nextQueueId() external view returns (uint256);

    /// @notice The Disperser: the only account allowed to mint and burn.
    function disperser() external view returns (address);

    /// @notice Whether `programId` is one of this token's controller programs: only a controller's
    /// results may MINT or BURN it (SPEC 3.4). Fixed at creation, so the same on every chain.
    function isController(bytes32 programId) external view returns (bool);

    /// @notice The controller programs of this token (ascending).
    function controllers() external view returns (bytes32[] memory);
}
