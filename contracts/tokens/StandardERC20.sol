// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title StandardERC20
/// @notice Fixed-supply ERC-20 (+permit) created by the factory's "ERC20" kind.
contract StandardERC20 is ERC20Permit {
    constructor(
        string memory name,
        string memory symbol,
        address holder,
        uint256 supply
    ) ERC20(name, symbol) ERC20Permit(name) {
        _mint(holder, supply);
    }
}
