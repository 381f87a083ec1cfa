// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @notice The subset of forge's cheatcodes these tests use. forge-std is not available offline
/// (only an old unofficial npm copy exists), so the declarations are written here; each one is
/// copied verbatim from the cheatcode list forge 1.7.1 carries (`strings forge | grep 'function '`).
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed;
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    function assertEq(uint256 left, uint256 right, string calldata err) external pure;
    function assertEq(uint256 left, uint256 right) external pure;
    function assertEq(bytes32 left, bytes32 right) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata err) external pure;
    function assertEq(address left, address right) external pure;
    function assertEq(bool left, bool right) external pure;
    function assertTrue(bool condition) external pure;
    function assertTrue(bool condition, string calldata err) external pure;
    function assertFalse(bool condition) external pure;
    function assertFalse(bool condition, string calldata err) external pure;
    function assertLe(uint256 left, uint256 right) external pure;
    function assertLt(uint256 left, uint256 right) external pure;
    function assertLt(uint256 left, uint256 right, string calldata err) external pure;
    function assertLe(uint256 left, uint256 right, string calldata err) external pure;
    function assertNotEq(bytes32 left, bytes32 right) external pure;
    function assume(bool condition) external pure;
    function deployCode(string calldata artifactPath, bytes calldata constructorArgs) external returns (address deployedAddress);
    function deployCode(string calldata artifactPath) external returns (address deployedAddress);
    function envOr(string calldata name, string calldata defaultValue) external view returns (string memory value);
    function exists(string calldata path) external view returns (bool result);
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert() external;
    function expectCall(address callee, bytes calldata data, uint64 count) external;
    function keyExistsJson(string calldata json, string calldata key) external view returns (bool);
    function label(address account, string calldata newLabel) external;
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);
    function parseJsonBytes32Array(string calldata json, string calldata key) external pure returns (bytes32[] memory);
    function parseJsonUint(string calldata json, string calldata key) external pure returns (uint256);
    function parseJsonUintArray(string calldata json, string calldata key) external pure returns (uint256[] memory);
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function readFile(string calldata path) external view returns (string memory data);
    function skip(bool skipTest, string calldata reason) external;
    function toString(uint256 value) external pure returns (string memory stringifiedValue);
    function pauseGasMetering() external;
    function resumeGasMetering() external;
    function store(address target, bytes32 slot, bytes32 value) external;
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function expectEmit() external;
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);
    function parseJsonAddress(string calldata json, string calldata key) external pure returns (address);
    function cool(address target) external;
    function lastCallGas() external view returns (Gas memory gas);
    function etch(address target, bytes calldata newRuntimeBytecode) external;
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
    function warp(uint256 newTimestamp) external;
    function toString(address value) external pure returns (string memory stringifiedValue);
    function toString(bytes32 value) external pure returns (string memory stringifiedValue);
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    function recordLogs() external;
    function getRecordedLogs() external view returns (Log[] memory logs);
    function assertEq(bytes calldata left, bytes calldata right) external pure;
    function assertEq(address left, address right, string calldata err) external pure;
    function assertEq(bytes32[] calldata left, bytes32[] calldata right) external pure;
    function assertGe(uint256 left, uint256 right) external pure;
    function assertNotEq(address left, address right) external pure;
    function assertNotEq(uint256 left, uint256 right) external pure;
    function chainId(uint256 newChainId) external;
    function bound(uint256 current, uint256 min, uint256 max) external view returns (uint256);
    function parseJsonAddressArray(string calldata json, string calldata key) external pure returns (address[] memory);
    function parseJsonBytesArray(string calldata json, string calldata key) external pure returns (bytes[] memory);
    function parseJsonBytes32(string calldata json, string calldata key) external pure returns (bytes32);
    function eip712HashTypedData(string calldata jsonData) external pure returns (bytes32 digest);
    function eip712HashStruct(string calldata typeNameOrDefinition, bytes calldata abiEncodedData)
        external
        pure
        returns (bytes32 typeHash);
    function eip712HashType(string calldata typeNameOrDefinition) external pure returns (bytes32 typeHash);
}
