// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IOmniToken} from "../interfaces/IOmniToken.sol";
import {IContractFactory} from "../interfaces/IContractFactory.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title OmniToken
/// @notice ERC-20 (+permit) that moves between chains by burn on the origin and mint on the
/// destination, both done only by the Disperser on quorum-signed results (SPEC 3.4).
/// @dev Created through the ContractFactory: the constructor takes no chain-specific argument (it
/// asks the factory for this chain's Disperser), so the token has one address on every chain.
contract OmniToken is IOmniToken, ERC20Permit {
    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOmniToken
    address public immutable disperser;
    /// @notice Sets mint limits and hands the role on.
    address public admin;

    /// @dev originChainId => [0..95] capacity | [96..191] available | [192..231] updatedAt | [232..255] window
    mapping(uint256 originChainId => uint256 bucket) private _buckets;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param initialSupply Minted to `admin` on the chain where `mintChainId` is this chain (the
    /// token's home), zero elsewhere, so the supply across chains starts where it should.
    constructor(
        string memory name,
        string memory symbol,
        address admin_,
        uint256 initialSupply,
        uint256 mintChainId
    ) ERC20(name, symbol) ERC20Permit(name) {
        address d = IContractFactory(msg.sender).disperser();
        if (d == address(0)) revert OmniToken_NoDisperser();
        disperser = d;
        admin = admin_;
        emit AdminChanged(address(0), admin_);
        if (block.chainid == mintChainId && initialSupply != 0) _mint(admin_, initialSupply);
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOmniToken
    function mint(address to, uint256 amount, uint256 originChainId) external {
        if (msg.sender != disperser) revert OmniToken_NotDisperser(msg.sender);
        _consume(originChainId, amount);
        _mint(to, amount);
        emit CrossChainMinted(to, amount, originChainId);
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
        _buckets[originChainId] = capacity | (capacity << 96) | (block.timestamp << 192) | (window << 232);
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
    function isController(bytes32) external pure returns (bool) {
        return false; // TODO(disperse): controllers fixed at creation
    }

    /// @inheritdoc IOmniToken
    function controllers() external pure returns (bytes32[] memory) {
        return new bytes32[](0); // TODO(disperse)
    }

    /// @inheritdoc IOmniToken
    function mintableNow(uint256 originChainId) external view returns (uint256 available) {
        (available, ) = _refilled(_buckets[originChainId]);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _consume(uint256 originChainId, uint256 amount) internal {
        uint256 bucket = _buckets[originChainId];
        if (bucket == 0) revert OmniToken_OriginNotAllowed(originChainId);
        (uint256 available, uint256 capacity) = _refilled(bucket);
        if (amount > available) revert OmniToken_RateLimited(originChainId, available, amount);
        _buckets[originChainId] =
            capacity |
            ((available - amount) << 96) |
            (block.timestamp << 192) |
            (bucket & (uint256(type(uint24).max) << 232));
    }

    /// @dev Linear refill: `capacity` per `window` seconds, never above capacity.
    function _refilled(uint256 bucket) internal view returns (uint256 available, uint256 capacity) {
        if (bucket == 0) return (0, 0);
        capacity = uint96(bucket);
        available = uint96(bucket >> 96);
        uint256 elapsed = block.timestamp - uint40(bucket >> 192);
        uint256 window = uint24(bucket >> 232);
        available += (capacity * elapsed) / window;
        if (available > capacity) available = capacity;
    }
}
