// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {PoolBase} from "./PoolBase.sol";
import {console} from "./utils/TestBase.sol";
import {Pool} from "../src/Pool.sol";
import {IProofVerifier} from "../src/IProofVerifier.sol";

/// Deposits, spends, splits and input validation with mock verifiers (a proof is accepted only for
/// the public inputs it was registered with). Real proofs: PoolProofs.t.sol.
contract PoolLogicTest is PoolBase {
    // ---------------------------------------------------------------------------------- deposits

    function test_depositMovesTokensAndEmits() public {
        uint256 cm = commitment(7, 250, 99);
        uint256[] memory leaves = new uint256[](1);
        leaves[0] = cm;
        vm.expectEmit(true, false, false, true, address(pool));
        emit Inserted(cm, 0, modelRoot(leaves));
        uint256 before = token.balanceOf(ALICE);
        vm.prank(ALICE);
        pool.deposit(7, 250, 99);
        vm.assertEq(token.balanceOf(address(pool)), 250 * UNIT);
        vm.assertEq(before - token.balanceOf(ALICE), 250 * UNIT);
        vm.assertEq(pool.nextIndex(), 1);
    }

    function test_depositManyMovesTotal() public {
        uint256[] memory values = new uint256[](4);
        uint256[] memory rs = new uint256[](4);
        for (uint256 i = 0; i < 4; ++i) {
            values[i] = 1 << (2 * i);
            rs[i] = 500 + i;
        }
        vm.prank(ALICE);
        pool.depositMany(3, values, rs);
        vm.assertEq(token.balanceOf(address(pool)), (1 + 4 + 16 + 64) * UNIT);
        vm.assertEq(pool.nextIndex(), 4);
    }

    function test_depositValidation() public {
        vm.startPrank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, uint256(1) << 64));
        pool.deposit(1, 1 << 64, 1);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, P));
        pool.deposit(P, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, P + 5));
        pool.deposit(1, 1, P + 5);
        uint256[] memory two = new uint256[](2);
        uint256[] memory three = new uint256[](3);
        uint256[] memory none = new uint256[](0);
        vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, 2, 3));
        pool.depositMany(1, two, three);
        vm.expectRevert(Pool.EmptyBatch.selector);
        pool.depositMany(1, none, none);
        two[1] = 1 << 64;
        vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, uint256(1) << 64));
        pool.depositMany(1, two, two);
        vm.stopPrank();
        vm.assertEq(pool.nextIndex(), 0);
    }

    /// A deposit without allowance reverts (SafeERC20) and leaves the tree unchanged.
    function test_depositWithoutAllowanceReverts() public {
        token.mint(BOB, 1e12);
        uint256 root = pool.root();
        vm.prank(BOB);
        vm.expectRevert();
        pool.deposit(1, 1, 1);
        vm.assertEq(pool.root(), root);
    }

    function testFuzz_depositValidation(uint256 pk, uint256 value, uint256 r) public {
        vm.prank(ALICE);
        if (value >= 1 << 64) {
            vm.expectRevert();
            pool.deposit(pk, value, r);
        } else if (pk >= P || r >= P) {
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, pk >= P ? pk : r));
            pool.deposit(pk, value, r);
        } else {
            pool.deposit(pk, value, r);
            vm.assertEq(pool.nextIndex(), 1);
        }
    }

    // ------------------------------------------------------------------------------------ spends

    function _fund() internal returns (uint256 root) {
        uint256[] memory values = new uint256[](3);
        values[0] = 100;
        values[1] = 200;
        values[2] = 300;
        depositAll(values);
        return pool.root();
    }

    function _acceptSpend(uint256 root, uint256 nf, uint256 value, address to) internal returns (bytes memory proof) {
        proof = abi.encode("spend", nf, value, to);
        spendV.accept(proof, spendInputs(root, nf, value, to));
    }

    function test_spendPaysAndMarks() public {
        uint256 root = _fund();
        bytes memory proof = _acceptSpend(root, 42, 64, BOB);
        vm.expectEmit(true, true, false, true, address(pool));
        emit Spent(42, BOB, 64);
        pool.spend(proof, root, 42, 64, BOB);
        vm.assertEq(token.balanceOf(BOB), 64 * UNIT);
        vm.assertTrue(pool.isSpent(42));
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 42));
        pool.spend(proof, root, 42, 64, BOB);
    }

    function test_spendValidation() public {
        uint256 root = _fund();
        bytes memory proof = _acceptSpend(root, 42, 64, BOB);
        vm.expectRevert(Pool.ZeroRecipient.selector);
        pool.spend(proof, root, 42, 64, address(0));
        vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, uint256(1) << 64));
        pool.spend(proof, root, 42, 1 << 64, BOB);
        vm.expectRevert(abi.encodeWithSelector(Pool.UnknownRoot.selector, root + 1));
        pool.spend(proof, root + 1, 42, 64, BOB);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, 42 + P));
        pool.spend(proof, root, 42 + P, 64, BOB);
        // The proof is bound to its inputs: any other value, recipient or nullifier fails.
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(proof, root, 42, 65, BOB);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(proof, root, 42, 64, ALICE);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(proof, root, 43, 64, BOB);
        // A verifier that reverts counts as a rejection.
        spendV.setRevertInstead(true);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(proof, root, 42, 64, BOB);
    }

    /// An old root stays valid after later inserts.
    function test_oldRootStaysValid() public {
        uint256 root = _fund();
        depositAll(new uint256[](2));
        vm.assertTrue(pool.root() != root);
        bytes memory proof = _acceptSpend(root, 7, 100, BOB);
        pool.spend(proof, root, 7, 100, BOB);
        vm.assertEq(token.balanceOf(BOB), 100 * UNIT);
    }

    function _req(uint256 root, uint256 nf, uint256 value, address to) internal returns (Pool.SpendRequest memory q) {
        q = Pool.SpendRequest(_acceptSpend(root, nf, value, to), root, nf, value, to);
    }

    function test_spendBatchPaysEachRecipient() public {
        uint256 root = _fund();
        Pool.SpendRequest[] memory qs = new Pool.SpendRequest[](4);
        qs[0] = _req(root, 1, 64, BOB);
        qs[1] = _req(root, 2, 32, BOB);
        qs[2] = _req(root, 3, 4, ALICE);
        qs[3] = _req(root, 4, 1, BOB);
        uint256 aliceBefore = token.balanceOf(ALICE);
        pool.spendBatch(qs);
        vm.assertEq(token.balanceOf(BOB), 97 * UNIT);
        vm.assertEq(token.balanceOf(ALICE) - aliceBefore, 4 * UNIT);
        for (uint256 nf = 1; nf <= 4; ++nf) {
            vm.assertTrue(pool.isSpent(nf));
        }
    }

    function test_spendBatchValidation() public {
        uint256 root = _fund();
        vm.expectRevert(Pool.EmptyBatch.selector);
        pool.spendBatch(new Pool.SpendRequest[](0));
        // The same nullifier twice in one batch.
        Pool.SpendRequest[] memory qs = new Pool.SpendRequest[](2);
        qs[0] = _req(root, 5, 64, BOB);
        qs[1] = qs[0];
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 5));
        pool.spendBatch(qs);
        // One bad item reverts all.
        qs[1] = _req(root, 6, 64, BOB);
        qs[1].value = 63;
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spendBatch(qs);
        vm.assertFalse(pool.isSpent(5));
        vm.assertEq(token.balanceOf(BOB), 0);
    }

    // ------------------------------------------------------------------------------------ splits

    function test_splitInsertsOutputsAndPays() public {
        uint256 root = _fund();
        uint256 n0 = pool.nextIndex();
        bytes memory proof = abi.encode("split");
        splitV.accept(proof, splitInputs(root, 9, 256, BOB, 1111, 2222));
        vm.expectEmit(true, true, false, true, address(pool));
        emit Split(9, BOB, 256, 1111, 2222);
        pool.split(proof, root, 9, 256, BOB, 1111, 2222);
        vm.assertEq(pool.nextIndex(), n0 + 2);
        vm.assertEq(token.balanceOf(BOB), 256 * UNIT);
        vm.assertTrue(pool.isSpent(9));
        vm.assertTrue(pool.isKnownRoot(pool.root()));
        // Zero outputs are not inserted; amount 0 pays nothing and needs no recipient.
        uint256 root2 = pool.root();
        splitV.accept(proof, splitInputs(root2, 10, 0, address(0), 0, 3333));
        pool.split(proof, root2, 10, 0, address(0), 0, 3333);
        vm.assertEq(pool.nextIndex(), n0 + 3);
    }

    function test_splitValidation() public {
        uint256 root = _fund();
        bytes memory proof = abi.encode("split");
        splitV.accept(proof, splitInputs(root, 9, 256, BOB, 1111, 2222));
        vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, uint256(1) << 64));
        pool.split(proof, root, 9, 1 << 64, BOB, 1111, 2222);
        vm.expectRevert(Pool.ZeroRecipient.selector);
        pool.split(proof, root, 9, 256, address(0), 1111, 2222);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, P));
        pool.split(proof, root, 9, 256, BOB, P, 2222);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, P + 1));
        pool.split(proof, root, 9, 256, BOB, 1111, P + 1);
        vm.expectRevert(abi.encodeWithSelector(Pool.UnknownRoot.selector, 5));
        pool.split(proof, 5, 9, 256, BOB, 1111, 2222);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(proof, root, 9, 256, BOB, 1111, 2223);
        // A spend proof's inputs are not a split's (different verifier).
        bytes memory sp = _acceptSpend(root, 9, 256, BOB);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(sp, root, 9, 256, BOB, 1111, 2222);
        pool.split(proof, root, 9, 256, BOB, 1111, 2222);
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 9));
        pool.split(proof, root, 9, 256, BOB, 1111, 2222);
        // Spend and split share one nullifier set.
        bytes memory sp2 = _acceptSpend(root, 9, 1, BOB);
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 9));
        pool.spend(sp2, root, 9, 1, BOB);
    }

    function test_constructorValidation() public {
        IProofVerifier v = IProofVerifier(address(spendV));
        vm.expectRevert(Pool.InvalidUnit.selector);
        new Pool(token, 0, v, v);
        vm.expectRevert(Pool.InvalidUnit.selector);
        new Pool(token, 1 << 128, v, v);
        vm.expectRevert(Pool.ZeroAddress.selector);
        new Pool(token, 1, IProofVerifier(address(0)), v);
    }

    // ------------------------------------------------------------------------- validation fuzz

    /// depositMany: lengths must match, the batch must not be empty, each value < 2^64; nothing is
    /// inserted or pulled on a rejection.
    function testFuzz_depositManyValidation(uint8 nv, uint8 nr, uint256 big, uint256 pk) public {
        uint256[] memory values = new uint256[](nv % 5);
        uint256[] memory rs = new uint256[](nr % 5);
        if (values.length > 0) values[values.length - 1] = big;
        pk %= P;
        uint256 before = token.balanceOf(ALICE);
        vm.prank(ALICE);
        if (values.length == 0) {
            vm.expectRevert(Pool.EmptyBatch.selector);
        } else if (rs.length != values.length) {
            vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, values.length, rs.length));
        } else if (big > type(uint64).max) {
            vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, big));
        }
        pool.depositMany(pk, values, rs);
        bool ok = values.length != 0 && rs.length == values.length && big <= type(uint64).max;
        vm.assertEq(pool.nextIndex(), ok ? values.length : 0);
        vm.assertEq(before - token.balanceOf(ALICE), ok ? big * UNIT : 0);
    }

    /// spend: the first failing check names the problem; a valid proof for other inputs never helps.
    function testFuzz_spendValidation(uint256 root, uint256 nf, uint256 value, address to) public {
        uint256 known = _fund();
        bool rootOk = root % 4 != 0; // mostly the known root, sometimes the fuzzed one
        if (rootOk) root = known;
        if (value <= type(uint64).max) value %= 601; // the pool holds 600 (_fund)
        bytes memory proof = _acceptSpend(root, nf, value, to);
        if (value > type(uint64).max) {
            vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, value));
        } else if (to == address(0)) {
            vm.expectRevert(Pool.ZeroRecipient.selector);
        } else if (root >= P) {
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, root));
        } else if (nf >= P) {
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, nf));
        } else if (root != known) {
            vm.expectRevert(abi.encodeWithSelector(Pool.UnknownRoot.selector, root));
        }
        pool.spend(proof, root, nf, value, to);
        bool ok = value <= type(uint64).max && to != address(0) && root == known && nf < P;
        vm.assertEq(pool.isSpent(nf), ok);
    }

    /// split: amount < 2^64, a recipient when paying, canonical root, nullifier and outputs.
    function testFuzz_splitValidation(uint256 amount, bool pay, uint256 nf, uint256 cm1, uint256 cm2) public {
        uint256 root = _fund();
        address to = pay ? BOB : address(0);
        if (amount % 3 == 0) amount = 0;
        if (amount <= type(uint64).max) amount %= 601; // the pool holds 600 (_fund)
        bytes memory proof = abi.encode("split", nf);
        splitV.accept(proof, splitInputs(root, nf, amount, to, cm1, cm2));
        if (amount > type(uint64).max) {
            vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, amount));
        } else if (amount != 0 && !pay) {
            vm.expectRevert(Pool.ZeroRecipient.selector);
        } else if (cm1 >= P) {
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, cm1));
        } else if (cm2 >= P) {
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, cm2));
        } else if (nf >= P) {
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, nf));
        }
        pool.split(proof, root, nf, amount, to, cm1, cm2);
        bool ok = amount <= type(uint64).max && (amount == 0 || pay) && cm1 < P && cm2 < P && nf < P;
        vm.assertEq(pool.isSpent(nf), ok);
    }

    /// spendBatch: empty batches are rejected; an invalid item anywhere reverts the whole batch
    /// with that item's error.
    function testFuzz_spendBatchValidation(uint8 n, uint8 bad, uint256 nf) public {
        uint256 root = _fund();
        uint256 len = n % 4;
        Pool.SpendRequest[] memory qs = new Pool.SpendRequest[](len);
        for (uint256 i = 0; i < len; ++i) {
            qs[i] = _req(root, 100 + i, 1 + i, BOB);
        }
        if (len == 0) {
            vm.expectRevert(Pool.EmptyBatch.selector);
            pool.spendBatch(qs);
            return;
        }
        uint256 k = bad % len;
        nf = P + nf % (type(uint256).max - P); // a non-canonical nullifier
        qs[k] = _req(root, nf, 1, BOB);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, nf));
        pool.spendBatch(qs);
        for (uint256 i = 0; i < len; ++i) {
            vm.assertFalse(pool.isSpent(100 + i));
        }
    }

    function test_rootMustBeAFieldElement() public {
        uint256 root = _fund();
        bytes memory proof = _acceptSpend(root, 42, 64, BOB);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, root + P));
        pool.spend(proof, root + P, 42, 64, BOB);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, P));
        pool.split(proof, P, 42, 0, address(0), 0, 0);
    }

    // --------------------------------------------------------------------------------------- gas

    /// deposit and depositMany (16 notes) as transactions (utils/TxGas.sol: 21,000 + calldata +
    /// execution, cold accounts and storage), printed as "GAS <name> <n>" for scripts/gas.sh.
    /// On a pool that already has leaves, as a live pool has.
    function test_gasDeposits() public {
        depositAll(new uint256[](5));
        address[] memory touched = addrs(address(token), pool.HASHER());
        uint256 pk = 0x1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100abcd;
        uint256 r = 0x0badc0ffee0ddf00d0123456789abcdef0123456789abcdef0123456789abcd;
        TxCost memory one = measureTx(ALICE, address(pool), abi.encodeCall(Pool.deposit, (pk, 100, r)), touched);
        uint256 n = 16;
        uint256[] memory values = new uint256[](n);
        uint256[] memory rs = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            values[i] = 1 << i;
            rs[i] = uint256(keccak256(abi.encode(i))) % P;
        }
        TxCost memory many = measureTx(ALICE, address(pool), abi.encodeCall(Pool.depositMany, (pk, values, rs)), touched);
        vm.assertEq(pool.nextIndex(), 5 + 1 + n);
        console.log("GAS pool_deposit_tx", one.total);
        console.log("GAS pool_deposit_execution", one.execution);
        console.log("GAS pool_deposit_calldata", one.calldataGas);
        console.log("GAS pool_depositMany16_tx", many.total);
        console.log("GAS pool_depositMany16_per_note_tx", many.total / n);
        console.log("GAS pool_depositMany16_execution", many.execution);
        console.log("GAS pool_depositMany16_calldata", many.calldataGas);
    }
}
