// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title StandardERC721
/// @notice ERC-721 whose owner mints, created by the factory's "ERC721" kind.
contract StandardERC721 is ERC721, Ownable {
    constructor(
        string memory name,
        string memory symbol,
        address initialOwner
    ) ERC721(name, symbol) Ownable(initialOwner) {}

    /// @notice Mints `tokenId` to `to`.
    /// @dev Requirements: owner; `tokenId` not minted. Emits {IERC721.Transfer}.
    function mint(address to, uint256 tokenId) external onlyOwner {
        _safeMint(to, tokenId);
    }
}
