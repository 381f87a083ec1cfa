// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {PoolBase} from "./PoolBase.sol";
import {console} from "./utils/TestBase.sol";
import {Pool} from "../src/Pool.sol";
import {Poseidon2Ref} from "../src/Poseidon2Ref.sol";
import {TreeZeros} from "../src/TreeZeros.sol";

/// The on-chain tree: zero subtrees, roots against an independent recomputation and against the C++
/// tree (build/fixtures/tree.json), leaf indices, batch inserts, capacity.
contract PoolTreeTest is PoolBase {
    function test_zeroSubtrees() public view {
        uint256[17] memory z = zeros();
        vm.assertEq(z[0], 0);
        for (uint256 k = 0; k < 16; ++k) {
            vm.assertEq(z[k + 1], Poseidon2Ref.hash3(z[k], z[k], z[k]));
        }
        vm.assertEq(TreeZeros.EMPTY_ROOT, z[16]);
        vm.assertEq(pool.root(), z[16]);
        vm.assertTrue(pool.isKnownRoot(z[16]));
        vm.assertEq(pool.nextIndex(), 0);
    }

    /// The C++ side's zero subtrees and its root after each insert (tree.json, written by the build).
    function test_treeFixture() public {
        string memory json = fixtureOrSkip("tree.json");
        if (bytes(json).length == 0) return;
        uint256[] memory fz = vm.parseJsonUintArray(json, ".zero_subtrees");
        uint256[17] memory z = zeros();
        vm.assertEq(fz.length, 17);
        for (uint256 k = 0; k < 17; ++k) {
            vm.assertEq(fz[k], z[k], "zero subtree");
        }
        vm.assertEq(vm.parseJsonUint(json, ".empty_root"), TreeZeros.EMPTY_ROOT);
        uint256[] memory leaves = vm.parseJsonUintArray(json, ".leaves");
        uint256[] memory roots = vm.parseJsonUintArray(json, ".roots");
        vm.assertEq(leaves.length, roots.length);
        // The pool inserts commitments it computes, so feed the fixture's leaves in as split outputs
        // (mock-verified), in batches of 1 to 8 (with absent outputs among them): each batch's
        // final root must match.
        uint256 i = 0;
        uint256 nf = 1;
        while (i < leaves.length) {
            uint256 batch = 1 + nf % 8;
            if (batch > leaves.length - i) batch = leaves.length - i;
            uint256[8] memory outs;
            // Spread the batch over the 8 slots, leaving gaps (absent outputs) between them.
            uint256 slot = nf % 2;
            for (uint256 j = 0; j < batch; ++j) {
                if (slot + (batch - j) > 8) slot = 8 - (batch - j);
                outs[slot] = leaves[i + j];
                slot += 1 + (nf + j) % 2;
            }
            _splitInsert(nf++, outs);
            i += batch;
            vm.assertEq(pool.root(), roots[i - 1], string.concat("root after leaf ", vm.toString(i - 1)));
            vm.assertTrue(pool.isKnownRoot(roots[i - 1]));
        }
        console.log("tree fixture roots checked:", roots.length);
    }

    /// Inserts the non-zero outs through a (mock-verified, signed) split that pays nothing.
    function _splitInsert(uint256 nf, uint256[8] memory outs) internal {
        uint256 key = authKey(nf);
        Pool.SplitProof memory s =
            Pool.SplitProof(abi.encode("split", nf), pool.root(), nf, 0, vm.addr(key), outs);
        splitV.accept(s.proof, splitInputs(s));
        Pool.Payment memory p = payment(one(nf), BOB, 0, address(0));
        pool.split(s, p, sign(key, pool.paymentDigest(p)));
    }

    function test_depositRootsMatchModel() public {
        uint256[] memory values = new uint256[](10);
        for (uint256 i = 0; i < values.length; ++i) {
            values[i] = 1 << i;
        }
        uint256[] memory all = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            vm.prank(ALICE);
            pool.deposit(1000 + i, values[i]);
            all[i] = commitment(1000 + i, values[i]);
            uint256[] memory prefix = new uint256[](i + 1);
            for (uint256 j = 0; j <= i; ++j) {
                prefix[j] = all[j];
            }
            uint256 expected = modelRoot(prefix);
            vm.assertEq(pool.root(), expected, "root after deposit");
            vm.assertTrue(pool.isKnownRoot(expected));
        }
        vm.assertEq(pool.nextIndex(), values.length);
    }

    /// Any split of a sequence of deposits into deposit/depositMany calls gives, after each call,
    /// the model's root of the leaves so far; every earlier root stays known.
    function testFuzz_batchesMatchModel(uint8 total, uint256 seed) public {
        uint256 n = 1 + uint256(total) % 40;
        uint256[] memory cms = new uint256[](n);
        uint256[] memory seen = new uint256[](n);
        uint256 nSeen = 0;
        uint256 i = 0;
        while (i < n) {
            seed = uint256(keccak256(abi.encode(seed)));
            uint256 batch = 1 + seed % 7;
            if (batch > n - i) batch = n - i;
            uint256[] memory values = new uint256[](batch);
            uint256[] memory owners = new uint256[](batch);
            for (uint256 j = 0; j < batch; ++j) {
                values[j] = 1 + ((seed >> (8 * j)) & 0xffff);
                owners[j] = uint256(keccak256(abi.encode(seed, j))) % P;
                cms[i + j] = commitment(owners[j], values[j]);
            }
            vm.prank(ALICE);
            if (batch == 1 && seed & 1 == 0) pool.deposit(owners[0], values[0]);
            else pool.depositMany(owners, values);
            i += batch;
            uint256[] memory prefix = new uint256[](i);
            for (uint256 j = 0; j < i; ++j) {
                prefix[j] = cms[j];
            }
            vm.assertEq(pool.root(), modelRoot(prefix));
            seen[nSeen++] = pool.root();
        }
        vm.assertEq(pool.nextIndex(), n);
        for (uint256 j = 0; j < nSeen; ++j) {
            vm.assertTrue(pool.isKnownRoot(seen[j]), "old roots stay known");
        }
    }

    /// Leaf indices in the events are consecutive across calls, and the event's root is the root
    /// after the call.
    function test_insertEventsCarryIndexAndRoot() public {
        uint256[] memory values = new uint256[](3);
        values[0] = 1;
        values[1] = 2;
        values[2] = 3;
        uint256[] memory owners = new uint256[](3);
        owners[0] = 11;
        owners[1] = 12;
        owners[2] = 13;
        vm.prank(ALICE);
        pool.deposit(9, 5);
        uint256[] memory leaves = new uint256[](4);
        leaves[0] = commitment(9, 5);
        for (uint256 i = 0; i < 3; ++i) {
            leaves[i + 1] = commitment(owners[i], values[i]);
        }
        uint256 expectedRoot = modelRoot(leaves);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectEmit(true, false, false, true, address(pool));
            emit Inserted(leaves[i + 1], i + 1, expectedRoot);
        }
        vm.prank(ALICE);
        pool.depositMany(owners, values);
        vm.assertEq(pool.root(), expectedRoot);
    }

    /// The last leaf fits, the next insert reverts with TreeFull (nextIndex set by vm.store); a
    /// split whose outputs would overflow the tree reverts as a whole.
    function test_treeFull() public {
        // Storage: slots 0 and 1 are EIP712's name and version fallbacks (unused, empty), slot 2
        // is nextIndex (the reentrancy guard is transient); checked below.
        bytes32 slot = bytes32(uint256(2));
        vm.assertEq(uint256(vm.load(address(pool), bytes32(uint256(0)))), 0);
        vm.assertEq(uint256(vm.load(address(pool), bytes32(uint256(1)))), 0);
        vm.prank(ALICE);
        pool.deposit(1, 1);
        vm.assertEq(uint256(vm.load(address(pool), slot)), 1);
        vm.store(address(pool), slot, bytes32(pool.CAPACITY() - 2));
        vm.assertEq(pool.nextIndex(), pool.CAPACITY() - 2);
        uint256[] memory v = new uint256[](2);
        v[0] = 1;
        v[1] = 1;
        // A split of 2 outputs fits exactly; a second one does not, nor does any deposit.
        uint256 key = authKey(3);
        uint256[8] memory outs = [uint256(5), 0, 0, 0, 0, 0, 0, 6];
        uint256 root = pool.root();
        Pool.SplitProof memory s = Pool.SplitProof(abi.encode("full"), root, 3, 0, vm.addr(key), outs);
        splitV.accept(s.proof, splitInputs(s));
        Pool.Payment memory p = payment(one(3), BOB, 0, address(0));
        pool.split(s, p, sign(key, pool.paymentDigest(p)));
        vm.assertEq(pool.nextIndex(), pool.CAPACITY());
        s.nullifier = 4;
        splitV.accept(s.proof, splitInputs(s));
        p = payment(one(4), BOB, 0, address(0));
        bytes memory sig = sign(key, pool.paymentDigest(p));
        vm.expectRevert(Pool.TreeFull.selector);
        pool.split(s, p, sig);
        vm.startPrank(ALICE);
        vm.expectRevert(Pool.TreeFull.selector);
        pool.deposit(1, 1);
        vm.expectRevert(Pool.TreeFull.selector);
        pool.depositMany(v, v);
        vm.stopPrank();
    }
}
