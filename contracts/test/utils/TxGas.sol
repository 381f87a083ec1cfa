// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {TestBase} from "./TestBase.sol";

/// @notice What a transaction would pay for one call, measured inside a forge test:
///   total = 21,000 (intrinsic) + calldata (EIP-2028: 16 gas per non-zero byte, 4 per zero byte, of
///           the exact ABI-encoded calldata) + execution.
/// Execution is the gas the called contract's frame uses, as for a transaction's top-level call:
/// every account the call touches (listed by the caller, plus the target) and their storage are
/// marked cold first (`vm.cool`), so first accesses cost what they cost in a fresh transaction
/// (EIP-2929), and the call instruction's own cost is removed by calibrating against the same call
/// to a (cooled) contract whose code is STOP. Gas refunds (EIP-3529) are not subtracted, so totals
/// are upper bounds by the refund (none in the Pool's calls). EIP-7623's calldata floor does not
/// apply to these calls (their execution exceeds it).
abstract contract TxGas is TestBase {
    address private constant STOP = address(0x5700);

    struct TxCost {
        uint256 execution;
        uint256 calldataGas;
        uint256 calldataBytes;
        uint256 total;
    }

    function calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i = 0; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    /// Calls `to` with `data` as `from` (reverting with the call's error if it fails) and returns
    /// its cost as a transaction. `touched`: the other accounts the call reads or writes.
    function measureTx(address from, address to, bytes memory data, address[] memory touched)
        internal
        returns (TxCost memory t)
    {
        if (STOP.code.length == 0) vm.etch(STOP, hex"00");
        for (uint256 i = 0; i < touched.length; ++i) {
            vm.cool(touched[i]);
        }
        vm.cool(to);
        vm.cool(STOP);
        uint256 g = gasleft();
        (bool ok0,) = STOP.call(data);
        uint256 base = g - gasleft();
        require(ok0, "calibration call failed");
        vm.prank(from);
        g = gasleft();
        (bool ok, bytes memory ret) = to.call(data);
        uint256 used = g - gasleft();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        t.execution = used - base;
        t.calldataBytes = data.length;
        t.calldataGas = calldataGas(data);
        t.total = 21_000 + t.calldataGas + t.execution;
    }

    /// Execution gas of a call (as above) without the transaction parts: for an inner call such as
    /// a verifier's verify(), measured from outside with its accounts cold.
    function measureCall(address to, bytes memory data) internal returns (uint256) {
        return measureTx(address(this), to, data, new address[](0)).execution;
    }

    function addrs(address a, address b, address c) internal pure returns (address[] memory x) {
        x = new address[](3);
        (x[0], x[1], x[2]) = (a, b, c);
    }

    function addrs(address a, address b) internal pure returns (address[] memory x) {
        x = new address[](2);
        (x[0], x[1]) = (a, b);
    }
}
