// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {console} from "./utils/TestBase.sol";
import {TxGas} from "./utils/TxGas.sol";

/// utils/TxGas.sol against callees whose cost follows from the EVM's prices alone (Cancun: base
/// costs, EIP-2929 cold/warm access, memory expansion 3w + w^2/512), and the in-transaction
/// measurement TxGas made before, kept here to show where it was wrong.
contract TxGasTest is TxGas {
    /// CALLDATASIZE PUSH0 PUSH0 CALLDATACOPY STOP: copies its whole calldata to memory at 0.
    address internal constant COPIER = address(0xC0C0);
    /// PUSH20 OTHER EXTCODESIZE PUSH0 SLOAD STOP: touches another account and its own slot 0.
    address internal constant TOUCHER = address(0x70C4);
    address internal constant OTHER = address(0x07E4);

    /// The copier's execution gas for `size` bytes of calldata: 2 + 2 + 2, CALLDATACOPY's 3 + 3 per
    /// word, and the memory expansion to w words (the frame starts with no memory).
    function copierGas(uint256 size) internal pure returns (uint256) {
        uint256 w = (size + 31) / 32;
        return 6 + 3 + 3 * w + 3 * w + w * w / 512;
    }

    /// The toucher in a fresh transaction: PUSH20 3, cold EXTCODESIZE 2,600, PUSH0 2, cold SLOAD 2,100.
    uint256 internal constant TOUCHER_GAS = 3 + 2_600 + 2 + 2_100;

    function setUp() public {
        vm.etch(COPIER, hex"365f5f3700");
        vm.etch(TOUCHER, abi.encodePacked(hex"73", OTHER, hex"3b5f5400"));
        vm.etch(OTHER, hex"00");
        vm.store(TOUCHER, 0, bytes32(uint256(1)));
    }

    function _data(uint256 size) internal pure returns (bytes memory data) {
        data = new bytes(size);
        for (uint256 i = 0; i < size; i += 97) {
            data[i] = 0x5a;
        }
    }

    /// Exact for calldata of any size, whatever memory the measuring frame holds, and every
    /// measurement of a test sees cold accounts and storage.
    /// forge-config: default.isolate = true
    function test_exactAgainstKnownCosts() public {
        uint256[6] memory sizes = [uint256(0), 1, 32, 6_848, 40_000, 120_000];
        uint256[3] memory held = [uint256(0), 50_000, 250_000];
        for (uint256 h = 0; h < held.length; ++h) {
            bytes memory hold = new bytes(held[h]); // memory held, as by a test holding many proofs
            if (hold.length != 0) hold[0] = 0x01;
            for (uint256 s = 0; s < sizes.length; ++s) {
                bytes memory data = _data(sizes[s]);
                vm.assertEq(measureCall(COPIER, data), copierGas(sizes[s]), "measureCall");
                TxCost memory t = measureTx(address(0xA11CE), COPIER, data);
                vm.assertEq(t.execution, copierGas(sizes[s]), "measureTx execution");
                vm.assertEq(t.calldataBytes, sizes[s]);
                vm.assertEq(t.total, 21_000 + t.calldataGas + copierGas(sizes[s]), "measureTx total");
            }
        }
        for (uint256 i = 0; i < 3; ++i) {
            vm.assertEq(measureCall(TOUCHER, ""), TOUCHER_GAS, "cold every time");
        }
    }

    /// TxGas before: gasleft() around a Solidity `to.call(data)`, minus the same call to a STOP
    /// contract, after `vm.cool` of the target, the STOP contract and the accounts listed.
    function measureCallBefore(address to, bytes memory data, address also) internal returns (int256) {
        address stop = address(0x5701);
        if (stop.code.length == 0) vm.etch(stop, hex"00");
        vm.cool(to);
        vm.cool(stop);
        if (also != address(0)) vm.cool(also);
        uint256 g = gasleft();
        (bool ok0,) = stop.call(data);
        uint256 base = g - gasleft();
        require(ok0, "calibration call failed");
        g = gasleft();
        (bool ok,) = to.call(data);
        uint256 used = g - gasleft();
        require(ok, "measured call failed");
        return int256(used) - int256(base); // it subtracted unchecked-free; here it may go below 0
    }

    /// Where the old measurement went wrong. (1) Large calldata from a frame holding memory: the
    /// calibration call paid the memory expansion of Solidity's copy of the calldata and the
    /// measured call did not, so ~120 KB (a 17-proof verifyBatch) measured from a frame holding
    /// 250 KB came out more than 100k low. (2) `vm.cool` does not make an account touched earlier
    /// in the test cold again (it does cool storage): measured a second time, a call touching
    /// another account came out 2,500 low.
    function test_previousMeasurementWasOff() public {
        bytes memory hold = new bytes(250_000);
        hold[0] = 0x01;
        bytes memory big = _data(120_000);
        int256 before = measureCallBefore(COPIER, big, address(0));
        console.log("copier, 120 KB: truth", copierGas(big.length));
        console.log("copier, 120 KB: old measurement + 1,000,000", uint256(before + 1_000_000));
        vm.assertTrue(before + 100_000 < int256(copierGas(big.length)), "the old measurement was low");

        measureCallBefore(TOUCHER, "", OTHER);
        uint256 second = uint256(measureCallBefore(TOUCHER, "", OTHER));
        console.log("toucher: truth", TOUCHER_GAS);
        console.log("toucher, second old measurement", second);
        vm.assertEq(second + 2_500, TOUCHER_GAS, "the account stayed warm");
    }

    /// Without isolation mode TxGas refuses to measure rather than report a frame's gas as a
    /// transaction's.
    function test_refusesWithoutIsolation() public {
        try this.measureExternal(COPIER) {
            vm.assertTrue(false, "measured without isolation");
        } catch Error(string memory why) {
            vm.assertEq(keccak256(bytes(why)), keccak256("TxGas: run with /// forge-config: default.isolate = true"));
        }
    }

    /// A measured call's revert data comes back unchanged (checked before isolation is).
    function test_revertPassesThrough() public {
        address reverter = address(0xBAD);
        // PUSH1 0x2a PUSH0 MSTORE PUSH1 0x20 PUSH0 REVERT: reverts with the word 42.
        vm.etch(reverter, hex"602a5f5260205ffd");
        try this.measureExternal(reverter) {
            vm.assertTrue(false, "no revert");
        } catch (bytes memory err) {
            vm.assertEq(abi.decode(err, (uint256)), 42);
        }
    }

    function measureExternal(address to) external returns (uint256) {
        return measureCall(to, hex"01");
    }
}
