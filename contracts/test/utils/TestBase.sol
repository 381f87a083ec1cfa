// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {Vm} from "./Vm.sol";

/// @notice console.log through forge's console precompile (same address and selectors as hardhat's).
library console {
    address private constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function _send(bytes memory payload) private view {
        // staticcall in a view context; forge intercepts the call and prints.
        (bool ok,) = CONSOLE.staticcall(payload);
        ok;
    }

    function log(string memory s) internal view {
        _send(abi.encodeWithSignature("log(string)", s));
    }

    function log(string memory s, uint256 v) internal view {
        _send(abi.encodeWithSignature("log(string,uint256)", s, v));
    }

    function log(string memory s, string memory v) internal view {
        _send(abi.encodeWithSignature("log(string,string)", s, v));
    }
}

/// @notice Base of the tests: the cheatcode handle and fixture helpers.
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// Directory of the fixtures the C++ build writes: env BUCKETPAY_FIXTURES (relative to contracts/
    /// or absolute), default ../build/fixtures.
    function fixturesDir() internal view returns (string memory) {
        return vm.envOr("BUCKETPAY_FIXTURES", string("../build/fixtures"));
    }

    /// The fixture's JSON text, or "" when it does not exist (the caller then skips, saying so).
    function readFixture(string memory name) internal view returns (string memory) {
        string memory path = string.concat(fixturesDir(), "/", name);
        if (!vm.exists(path)) return "";
        return vm.readFile(path);
    }

    /// Reads a fixture or marks the running test as skipped with the reason. Returns "" when skipped.
    function fixtureOrSkip(string memory name) internal returns (string memory json) {
        json = readFixture(name);
        if (bytes(json).length == 0) {
            string memory why = string.concat("fixture missing: ", fixturesDir(), "/", name);
            console.log(why);
            vm.skip(true, why);
        }
    }

    /// Number of elements of the JSON array at `key` (keys like ".permutation").
    function jsonLength(string memory json, string memory key) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, at(key, n))) {
            ++n;
        }
    }

    function at(string memory key, uint256 i) internal pure returns (string memory) {
        return string.concat(key, "[", vm.toString(i), "]");
    }
}
