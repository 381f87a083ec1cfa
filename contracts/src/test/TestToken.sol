// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A freely mintable ERC20 for tests and the demo (6 decimals, like a dollar stablecoin).
/// Anyone can mint: never deploy it where the token is meant to have value.
contract TestToken is ERC20 {
    constructor() ERC20("bucketpay test dollar", "tUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
