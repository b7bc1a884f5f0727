// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IOmniToken} from "../interfaces/IOmniToken.sol";
import {IContractFactory} from "../interfaces/IContractFactory.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {RateBucket, RateBucketLib} from "./RateBucket.sol";

/// @title OmniToken
/// @notice ERC-20 (+permit) that moves between chains by burn on the origin and mint on the
/// destination, both done only by the Disperser on quorum-signed results of the token's
/// controller programs (SPEC 3.4). A mint over the origin's rate limit is queued, never lost.
/// @dev Created through the VersatusFactory: the constructor takes no chain-specific argument (it
/// asks the factory for this chain's Disperser), so the token has one address on every chain, and
/// that address commits to its controller programs.
contract OmniToken is IOmniToken, ERC20Permit {
    using RateBucketLib for RateBucket;
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Most controller programs a token may name (keeps the check and the storage small).
    uint256 public constant MAX_CONTROLLERS = 16;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOmniToken
    address public immutable disperser;
    /// @notice Sets mint limits and hands the role on.
    address public admin;

    /// @dev originChainId => its mint rate limit ({RateBucket}).
    mapping(uint256 originChainId => RateBucket bucket) private _buckets;

    bytes32[] private _controllers;
    mapping(bytes32 programId => bool) private _isController;

    /// @inheritdoc IOmniToken
    uint256 public queuedTotal;
    /// @inheritdoc IOmniToken
    uint256 public nextQueueId = 1;
    mapping(uint256 id => QueuedMint) private _queue;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param initialSupply Minted to `admin` on the chain where `mintChainId` is this chain (the
    /// token's home), zero elsewhere, so the supply across chains starts where it should.
    /// @param controllers_ The programs whose results may MINT and BURN this token: non-zero,
    /// strictly ascending, at most MAX_CONTROLLERS. Part of the init, so of the CREATE2 address.
    constructor(
        string memory name,
        string memory symbol,
        address admin_,
        uint256 initialSupply,
        uint256 mintChainId,
        bytes32[] memory controllers_
    ) ERC20(name, symbol) ERC20Permit(name) {
        address d = IContractFactory(msg.sender).disperser();
        if (d == address(0)) revert OmniToken_NoDisperser();
        disperser = d;
        if (controllers_.length > MAX_CONTROLLERS) {
            revert OmniToken_TooManyControllers(controllers_.length, MAX_CONTROLLERS);
        }
        bytes32 previous;
        for (uint256 i; i < controllers_.length; ++i) {
            bytes32 programId = controllers_[i];
            // Ascending and non-zero: no duplicates, and one set has one encoding (one address).
            if (programId <= previous) revert OmniToken_InvalidController(i, programId);
            previous = programId;
            _controllers.push(programId);
            _isController[programId] = true;
            emit ControllerSet(programId);
        }
        admin = admin_;
        emit AdminChanged(address(0), admin_);
        if (block.chainid == mintChainId && initialSupply != 0) _mint(admin_, initialSupply);
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOmniToken
    function mint(
        address to,
        uint256 amount,
        uint256 originChainId,
        bytes32 requestId
    ) external returns (uint256 queueId) {
        if (msg.sender != disperser) revert OmniToken_NotDisperser(msg.sender);
        // A queued mint to nobody could never complete: refuse it up front, as _mint would.
        if (to == address(0)) revert OmniToken_ZeroReceiver();
        if (amount == 0) {
            emit CrossChainMinted(to, 0, originChainId, requestId);
            return 0;
        }
        RateBucket bucket = _buckets[originChainId];
        (uint256 available, uint256 capacity) = _refilled(bucket);
        if (capacity == 0 || amount > available) {
            // Over the limit or from an origin not allowed (yet): keep it, never refuse it.
            queueId = nextQueueId++;
            _queue[queueId] = QueuedMint({
                to: to,
                queuedAt: uint40(block.timestamp),
                amount: amount,
                originChainId: originChainId,
                requestId: requestId
            });
            queuedTotal += amount;
            emit MintQueued(queueId, to, amount, originChainId, requestId);
            return queueId;
        }
        _store(originChainId, bucket, available - amount);
        _mint(to, amount);
        emit CrossChainMinted(to, amount, originChainId, requestId);
    }

    /// @inheritdoc IOmniToken
    function completeQueuedMint(uint256 id) external {
        // ---- checks
        QueuedMint memory q = _queue[id];
        if (q.amount == 0) revert OmniToken_NoQueuedMint(id);
        RateBucket bucket = _buckets[q.originChainId];
        (uint256 available, uint256 capacity) = _refilled(bucket);
        // An origin never allowed, or disabled, keeps its mints queued until the admin allows it.
        if (capacity == 0) revert OmniToken_OriginNotAllowed(q.originChainId);
        uint256 readyAt = uint256(q.queuedAt) + bucket.window();
        if (q.amount > available && block.timestamp < readyAt) {
            revert OmniToken_QueuedMintNotReady(id, available, q.amount, readyAt);
        }
        // ---- effects: deleted before minting, so it completes once
        delete _queue[id];
        queuedTotal -= q.amount;
        // Past its window a large mint goes through whole and drains what the bucket holds.
        _store(q.originChainId, bucket, q.amount > available ? 0 : available - q.amount);
        _mint(q.to, q.amount);
        emit QueuedMintCompleted(id, msg.sender);
        emit CrossChainMinted(q.to, q.amount, q.originChainId, q.requestId);
    }

    /// @inheritdoc IOmniToken
    function burn(uint256 amount) external {
        if (msg.sender != disperser) revert OmniToken_NotDisperser(msg.sender);
        _burn(msg.sender, amount);
        emit CrossChainBurned(amount);
    }

    /// @inheritdoc IOmniToken
    function setMintLimit(uint256 originChainId, uint256 capacity, uint256 window) external {
        if (msg.sender != admin) revert OmniToken_NotAdmin(msg.sender);
        if (capacity > type(uint96).max || window == 0 || window > type(uint24).max) {
            revert OmniToken_InvalidLimit(capacity, window);
        }
        // A new limit starts full.
        _buckets[originChainId] = RateBucketLib.pack(capacity, capacity, block.timestamp, window);
        emit MintLimitSet(originChainId, capacity, window);
    }

    /// @notice Hands the admin role to `newAdmin`.
    /// @dev Requirements: caller is the admin. Emits {AdminChanged}.
    function setAdmin(address newAdmin) external {
        if (msg.sender != admin) revert OmniToken_NotAdmin(msg.sender);
        address previous = admin;
        admin = newAdmin;
        emit AdminChanged(previous, newAdmin);
    }

    /// @inheritdoc IOmniToken
    function isController(bytes32 programId) external view returns (bool) {
        return _isController[programId];
    }

    /// @inheritdoc IOmniToken
    function controllers() external view returns (bytes32[] memory) {
        return _controllers;
    }

    /// @inheritdoc IOmniToken
    function mintableNow(uint256 originChainId) external view returns (uint256 available) {
        (available, ) = _refilled(_buckets[originChainId]);
    }

    /// @inheritdoc IOmniToken
    function queuedMint(uint256 id) external view returns (QueuedMint memory) {
        return _queue[id];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Writes the bucket back with `available` left at this time (capacity and window kept).
    function _store(uint256 originChainId, RateBucket bucket, uint256 available) internal {
        _buckets[originChainId] = bucket.withAvailable(available, block.timestamp);
    }

    /// @dev Linear refill: `capacity` per `window` seconds, never above capacity.
    function _refilled(RateBucket bucket) internal view returns (uint256 available, uint256 capacity) {
        if (bucket.isEmpty()) return (0, 0);
        capacity = bucket.capacity();
        available = bucket.available();
        uint256 elapsed = block.timestamp - bucket.updatedAt();
        uint256 window = bucket.window();
        available += (capacity * elapsed) / window;
        if (available > capacity) available = capacity;
    }
}
