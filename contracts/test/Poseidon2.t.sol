// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {TestBase, console} from "./utils/TestBase.sol";
import {Poseidon2} from "../src/Poseidon2.sol";
import {Poseidon2Yul} from "../src/Poseidon2Yul.sol";
import {Poseidon2Ref} from "../src/Poseidon2Ref.sol";

/// Deploys a hasher from its constructor, as the Pool does.
contract HasherOwner {
    address public immutable HASHER = Poseidon2.deploy();

    function hash3(uint256 a, uint256 b, uint256 c) external view returns (uint256) {
        return Poseidon2.hash3(HASHER, a, b, c);
    }

    /// Gas of one hash as the Pool pays it (immutable hasher address, warm after the first call),
    /// and of the first call in a transaction (cold account access).
    function measure(uint256 x) external view returns (uint256 warm, uint256 cold) {
        uint256 g = gasleft();
        x = Poseidon2.hash3(HASHER, x, x, x);
        cold = g - gasleft();
        g = gasleft();
        x = Poseidon2.hash3(HASHER, x, x, x);
        warm = g - gasleft();
    }
}

/// The optimized Poseidon2 (raw-bytecode hasher, Poseidon2.sol) and the inline-assembly one
/// (Poseidon2Yul.sol) against Barretenberg's vectors and the readable reference (Poseidon2Ref.sol).
contract Poseidon2Test is TestBase {
    uint256 internal constant P = Poseidon2.P;
    address internal hasher;

    function setUp() public {
        hasher = Poseidon2.deploy();
    }

    // Independent vectors. ZERO_OUT0: bb's Poseidon2Permutation([0,0,0,0])[0] through bb's msgpack API
    // (docs/TOOLCHAIN). TV_*: the test vector in Barretenberg's poseidon2_params.hpp.
    uint256 internal constant ZERO_OUT0 = 0x18dfb8dc9b82229cff974efefc8df78b1ce96d9d844236b496785c698bc6732e;

    function _bbTestVector() internal pure returns (uint256[4] memory input, uint256[4] memory output) {
        input = [uint256(0), 1, 2, 3];
        output = [
            uint256(0x01bd538c2ee014ed5141b29e9ae240bf8db3fe5b9a38629a9647cf8d76c01737),
            0x239b62e7db98aa3a2a8f6a0d2fa1709e7a35959aa6c7034814d9daa90cbac662,
            0x04cbb44c61d928ed06808456bf758cbf0c18d1e15a7b6dbc8245fa7515d5e3cb,
            0x2e11c5cff2a22c64d01304b778d78f6998eff1ab73163a35603f54794c30847a
        ];
    }

    function test_zeroVector() public view {
        uint256[4] memory z;
        vm.assertEq(Poseidon2.permutation(hasher, z)[0], ZERO_OUT0);
        vm.assertEq(Poseidon2Ref.permutation(z)[0], ZERO_OUT0);
        vm.assertEq(Poseidon2Yul.permutation(z)[0], ZERO_OUT0);
    }

    /// The deployed hasher is exactly the generator's runtime code.
    function test_hasherCode() public {
        vm.assertEq(hasher.codehash, Poseidon2.RUNTIME_CODEHASH);
        vm.assertEq(new HasherOwner().HASHER().codehash, Poseidon2.RUNTIME_CODEHASH);
    }

    function test_barretenbergTestVector() public view {
        (uint256[4] memory input, uint256[4] memory output) = _bbTestVector();
        uint256[4] memory a = Poseidon2.permutation(hasher, input);
        uint256[4] memory b = Poseidon2Ref.permutation(input);
        uint256[4] memory c = Poseidon2Yul.permutation(input);
        for (uint256 i = 0; i < 4; ++i) {
            vm.assertEq(a[i], output[i], "optimized");
            vm.assertEq(b[i], output[i], "reference");
            vm.assertEq(c[i], output[i], "yul");
        }
    }

    /// Every vector of build/fixtures/poseidon2.json (written by the C++ side from bb), both implementations.
    function test_fixtureVectors() public {
        string memory json = fixtureOrSkip("poseidon2.json");
        if (bytes(json).length == 0) return;
        uint256 np = jsonLength(json, ".permutation");
        uint256 nh = jsonLength(json, ".hash");
        vm.assertTrue(np > 0 && nh > 0, "fixture has vectors");
        for (uint256 i = 0; i < np; ++i) {
            uint256[] memory input = vm.parseJsonUintArray(json, string.concat(at(".permutation", i), ".in"));
            uint256[] memory output = vm.parseJsonUintArray(json, string.concat(at(".permutation", i), ".out"));
            uint256[4] memory s = [input[0], input[1], input[2], input[3]];
            uint256[4] memory a = Poseidon2.permutation(hasher, s);
            uint256[4] memory b = Poseidon2Ref.permutation(s);
            uint256[4] memory c = Poseidon2Yul.permutation(s);
            for (uint256 j = 0; j < 4; ++j) {
                vm.assertEq(a[j], output[j], string.concat("optimized permutation vector ", vm.toString(i)));
                vm.assertEq(c[j], output[j], string.concat("yul permutation vector ", vm.toString(i)));
                vm.assertEq(b[j], output[j], string.concat("reference permutation vector ", vm.toString(i)));
            }
        }
        for (uint256 i = 0; i < nh; ++i) {
            uint256[] memory input = vm.parseJsonUintArray(json, string.concat(at(".hash", i), ".in"));
            uint256 out = vm.parseJsonUint(json, string.concat(at(".hash", i), ".out"));
            string memory label = string.concat("hash vector ", vm.toString(i));
            vm.assertEq(_opt(input), out, label);
            vm.assertEq(_yul(input), out, label);
            vm.assertEq(Poseidon2Ref.hash(input), out, label);
        }
        console.log("poseidon2 fixture vectors checked:", np + nh);
    }

    function _opt(uint256[] memory xs) internal view returns (uint256) {
        if (xs.length == 1) return Poseidon2.hash1(hasher, xs[0]);
        if (xs.length == 2) return Poseidon2.hash2(hasher, xs[0], xs[1]);
        require(xs.length == 3, "1..3 inputs");
        return Poseidon2.hash3(hasher, xs[0], xs[1], xs[2]);
    }

    function _yul(uint256[] memory xs) internal pure returns (uint256) {
        if (xs.length == 1) return Poseidon2Yul.hash1(xs[0]);
        if (xs.length == 2) return Poseidon2Yul.hash2(xs[0], xs[1]);
        require(xs.length == 3, "1..3 inputs");
        return Poseidon2Yul.hash3(xs[0], xs[1], xs[2]);
    }

    /// The hashes are the sponge of PROTOCOL.md: permutation([x1, x2, x3, n << 64])[0].
    function test_hashIsPermutationWithLengthTag() public view {
        vm.assertEq(Poseidon2.hash3(hasher, 1, 2, 3), Poseidon2.permutation(hasher, [uint256(1), 2, 3, 3 << 64])[0]);
        vm.assertEq(Poseidon2.hash2(hasher, 1, 2), Poseidon2.permutation(hasher, [uint256(1), 2, 0, 2 << 64])[0]);
        vm.assertEq(Poseidon2.hash1(hasher, 1), Poseidon2.permutation(hasher, [uint256(1), 0, 0, 1 << 64])[0]);
    }

    /// The lazy reductions at the extremes: inputs p - 1 (the largest canonical values).
    function test_maximalInputs() public view {
        uint256 m = P - 1;
        uint256[4] memory s = [m, m, m, m];
        uint256[4] memory a = Poseidon2.permutation(hasher, s);
        uint256[4] memory b = Poseidon2Ref.permutation(s);
        uint256[4] memory c = Poseidon2Yul.permutation(s);
        for (uint256 j = 0; j < 4; ++j) {
            vm.assertEq(a[j], b[j]);
            vm.assertEq(c[j], b[j]);
            vm.assertLt(a[j], P);
        }
    }

    /// Non-canonical inputs are hashed as the field element they represent (the optimized library
    /// reduces them); the reference rejects them.
    function test_nonCanonicalInputsReduce() public view {
        vm.assertEq(Poseidon2.hash3(hasher, P, P + 1, type(uint256).max), Poseidon2.hash3(hasher, 0, 1, type(uint256).max % P));
        uint256 m = type(uint256).max;
        uint256[4] memory a = Poseidon2.permutation(hasher, [m, m - 1, P, P + 1]);
        uint256[4] memory b = Poseidon2Ref.permutation([m % P, (m - 1) % P, 0, 1]);
        for (uint256 j = 0; j < 4; ++j) {
            vm.assertEq(a[j], b[j]);
        }
    }

    /// The hasher's calldata is 1..4 words; 4 words return 4 words, fewer return one.
    function test_hasherCallModes() public view {
        (bool ok, bytes memory ret) = hasher.staticcall(abi.encode(uint256(5), uint256(6), uint256(7)));
        vm.assertTrue(ok);
        vm.assertEq(ret.length, 32);
        vm.assertEq(abi.decode(ret, (uint256)), Poseidon2Ref.hash3(5, 6, 7));
        (ok, ret) = hasher.staticcall(abi.encode(uint256(5), uint256(6), uint256(7), uint256(8)));
        vm.assertTrue(ok);
        vm.assertEq(ret.length, 128);
        vm.assertEq(abi.decode(ret, (uint256[4]))[3], Poseidon2Ref.permutation([uint256(5), 6, 7, 8])[3]);
    }

    /// A hasher address without code is an error, not an echo of the input.
    function test_hashWithoutHasherReverts() public {
        vm.expectRevert(Poseidon2.HasherCallFailed.selector);
        this.hashAt(address(0xdead), 1, 2, 3);
    }

    function hashAt(address h, uint256 a, uint256 b, uint256 c) external view returns (uint256) {
        return Poseidon2.hash3(h, a, b, c);
    }

    function testFuzz_optimizedMatchesReference(uint256[4] memory s) public view {
        for (uint256 i = 0; i < 4; ++i) {
            s[i] %= P;
        }
        uint256[4] memory a = Poseidon2.permutation(hasher, s);
        uint256[4] memory b = Poseidon2Ref.permutation(s);
        uint256[4] memory c = Poseidon2Yul.permutation(s);
        for (uint256 j = 0; j < 4; ++j) {
            vm.assertEq(a[j], b[j]);
            vm.assertEq(c[j], b[j]);
        }
    }

    function testFuzz_hash3MatchesReference(uint256 x, uint256 y, uint256 z) public view {
        x %= P;
        y %= P;
        z %= P;
        vm.assertEq(Poseidon2.hash3(hasher, x, y, z), Poseidon2Ref.hash3(x, y, z));
        vm.assertEq(Poseidon2.hash2(hasher, x, y), Poseidon2Ref.hash2(x, y));
        vm.assertEq(Poseidon2.hash1(hasher, x), Poseidon2Ref.hash1(x));
        vm.assertEq(Poseidon2Yul.hash3(x, y, z), Poseidon2Ref.hash3(x, y, z));
    }

    /// Unreduced inputs (any uint256) hash as their residues.
    function testFuzz_anyInputReduces(uint256 x, uint256 y, uint256 z) public view {
        vm.assertEq(Poseidon2.hash3(hasher, x, y, z), Poseidon2Ref.hash3(x % P, y % P, z % P));
    }

    /// Gas per hash, printed as "GAS <name> <n>" lines for scripts/gas.sh. The hasher is measured
    /// around `Poseidon2.hash3` as the Pool calls it (argument stores, STATICCALL, result): the first
    /// call pays the cold account access (EIP-2929, once per transaction), later ones do not. The
    /// Yul library and the reference are internal calls.
    function test_gas() public {
        (uint256 opt, uint256 cold) = new HasherOwner().measure(0x1234);
        uint256 x = 0x1234;
        uint256 h = Poseidon2.hash3(hasher, x, x + 1, x + 2);
        uint256 h1 = Poseidon2.hash3(hasher, x + 3, x + 1, x + 2);
        uint256 g = gasleft();
        uint256 h2 = Poseidon2Yul.hash3(x, x + 1, x + 2);
        uint256 yul = g - gasleft();
        g = gasleft();
        uint256 h3 = Poseidon2Ref.hash3(x, x + 1, x + 2);
        uint256 ref = g - gasleft();
        vm.assertEq(h, h2);
        vm.assertEq(h, h3);
        vm.assertTrue(h1 != h);
        console.log("GAS poseidon2_hash3_optimized", opt);
        console.log("GAS poseidon2_hash3_optimized_first_call", cold);
        console.log("GAS poseidon2_hash3_yul", yul);
        console.log("GAS poseidon2_hash3_reference", ref);
    }
}
