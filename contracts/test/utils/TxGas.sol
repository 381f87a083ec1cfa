// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {TestBase} from "./TestBase.sol";
import {Vm} from "./Vm.sol";

/// @notice What a transaction costs, measured inside a forge test by making the call as a
/// transaction of its own: a test that measures runs in forge's isolation mode (inline config
/// `default.isolate = true` in the test's NatSpec, as the gas tests have), where every call the test contract makes is executed
/// as a separate transaction with a fresh EIP-2929 access list (only the sender, the target,
/// precompiles and coinbase warm; every other account and storage slot cold), original storage
/// values as committed before it, and the intrinsic gas charged. `vm.lastCallGas()` then reports
/// that transaction's gas, which is what a node charges:
///   total = 21,000 (intrinsic) + calldata (EIP-2028: 16 gas per non-zero byte, 4 per zero byte, of
///           the exact ABI-encoded calldata) + execution - refund (EIP-3529, capped at total / 5).
/// `execution` is the called frame's gas (total - 21,000 - calldata, before the refund). EIP-7623's
/// calldata floor does not apply (evm_version cancun).
///
/// An earlier version measured inside the test's own transaction: gasleft() around the call minus
/// a calibration call to a STOP contract, with the accounts "cooled" by `vm.cool`. It was wrong two
/// ways (TxGas.t.sol shows both): Solidity's `to.call(data)` copies `data` to free memory, so the
/// calibration call paid the copy's memory expansion and the measured one, reusing the region, did
/// not (a 17-proof verifyBatch came out ~280k low); and forge 1.7.1's `vm.cool` makes storage cold
/// again but not an account already touched in the test, so the second measurement of a test
/// missed 2,500 gas per account it touched (and the first one could gain 2,500 from a warm STOP).
abstract contract TxGas is TestBase {
    struct TxCost {
        uint256 execution;
        uint256 calldataGas;
        uint256 calldataBytes;
        uint256 refund;
        uint256 total;
    }

    function calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i = 0; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    /// Sends `data` to `to` from `from` as its own transaction (reverting with the call's error if
    /// it fails) and returns its cost. Reverts, once the call is made, unless the test runs in
    /// isolation mode.
    function measureTx(address from, address to, bytes memory data) internal returns (TxCost memory t) {
        vm.prank(from);
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        Vm.Gas memory g = vm.lastCallGas();
        _requireIsolation();
        t.calldataBytes = data.length;
        t.calldataGas = calldataGas(data);
        uint256 spent = g.gasTotalUsed;
        require(spent >= 21_000 + t.calldataGas, "TxGas: the call was not charged as a transaction");
        t.execution = spent - 21_000 - t.calldataGas;
        uint256 refund = g.gasRefunded > 0 ? uint256(int256(g.gasRefunded)) : 0;
        t.refund = refund < spent / 5 ? refund : spent / 5;
        t.total = spent - t.refund;
    }

    /// The execution gas of one call made as its own transaction (the called frame's gas: for an
    /// inner call such as a verifier's verify(), what that frame costs with its account cold and
    /// its calldata in place; the caller's copy of the arguments is the caller's cost).
    function measureCall(address to, bytes memory data) internal returns (uint256) {
        return measureTx(address(this), to, data).execution;
    }

    /// In isolation mode even a call to an account without code is charged 21,000.
    function _requireIsolation() private {
        (bool ok,) = address(uint160(uint256(keccak256("TxGas: no code here")))).call("");
        require(
            ok && vm.lastCallGas().gasTotalUsed >= 21_000, "TxGas: run with /// forge-config: default.isolate = true"
        );
    }
}
