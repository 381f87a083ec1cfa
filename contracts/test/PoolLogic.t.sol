// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {PoolBase} from "./PoolBase.sol";
import {console} from "./utils/TestBase.sol";
import {Vm} from "./utils/Vm.sol";
import {Pool} from "../src/Pool.sol";
import {IBatchProofVerifier} from "../src/IBatchProofVerifier.sol";
import {MockVerifier} from "./utils/MockVerifier.sol";

/// Deposits, spendBatch, split, EIP-712 payments and every refusal, with mock verifiers (a proof is
/// accepted only for the public inputs it was registered with). Real proofs: PoolProofs.t.sol.
contract PoolLogicTest is PoolBase {
    // ---------------------------------------------------------------------------------- deposits

    function test_depositMovesTokensAndEmits() public {
        uint256 cm = commitment(7, 250);
        uint256[] memory leaves = new uint256[](1);
        leaves[0] = cm;
        vm.expectEmit(true, false, false, true, address(pool));
        emit Inserted(cm, 0, modelRoot(leaves));
        uint256 before = token.balanceOf(ALICE);
        vm.prank(ALICE);
        pool.deposit(7, 250);
        vm.assertEq(token.balanceOf(address(pool)), 250 * UNIT);
        vm.assertEq(before - token.balanceOf(ALICE), 250 * UNIT);
        vm.assertEq(pool.nextIndex(), 1);
        vm.assertEq(pool.root(), modelRoot(leaves));
    }

    function test_depositManyMovesTotalOneRoot() public {
        uint256[] memory owners = new uint256[](4);
        uint256[] memory values = new uint256[](4);
        uint256[] memory cms = new uint256[](4);
        for (uint256 i = 0; i < 4; ++i) {
            owners[i] = 500 + i;
            values[i] = 1 << (2 * i);
            cms[i] = commitment(owners[i], values[i]);
        }
        uint256 root = modelRoot(cms);
        for (uint256 i = 0; i < 4; ++i) {
            vm.expectEmit(true, false, false, true, address(pool));
            emit Inserted(cms[i], i, root);
        }
        vm.prank(ALICE);
        pool.depositMany(owners, values);
        vm.assertEq(token.balanceOf(address(pool)), (1 + 4 + 16 + 64) * UNIT);
        vm.assertEq(pool.nextIndex(), 4);
        vm.assertEq(pool.root(), root);
    }

    function test_depositValidation() public {
        vm.startPrank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, uint256(1) << 64));
        pool.deposit(1, 1 << 64);
        vm.expectRevert(Pool.ZeroValue.selector);
        pool.deposit(1, 0);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, P));
        pool.deposit(P, 1);
        uint256[] memory two = new uint256[](2);
        uint256[] memory three = new uint256[](3);
        uint256[] memory none = new uint256[](0);
        vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, 2, 3));
        pool.depositMany(two, three);
        vm.expectRevert(Pool.EmptyBatch.selector);
        pool.depositMany(none, none);
        two[0] = 1;
        two[1] = 1 << 64;
        vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, uint256(1) << 64));
        pool.depositMany(two, two);
        two[1] = 0;
        vm.expectRevert(Pool.ZeroValue.selector);
        pool.depositMany(two, two);
        two[1] = 1;
        uint256[] memory owners = new uint256[](2);
        owners[1] = P + 3;
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, P + 3));
        pool.depositMany(owners, two);
        vm.stopPrank();
        vm.assertEq(pool.nextIndex(), 0);
        vm.assertEq(token.balanceOf(address(pool)), 0);
    }

    /// A deposit without allowance reverts (SafeERC20) and leaves the tree unchanged.
    function test_depositWithoutAllowanceReverts() public {
        token.mint(BOB, 1e12);
        uint256 root = pool.root();
        vm.prank(BOB);
        vm.expectRevert();
        pool.deposit(1, 1);
        vm.assertEq(pool.root(), root);
    }

    function testFuzz_depositValidation(uint256 owner, uint256 value) public {
        vm.prank(ALICE);
        if (owner >= P) {
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, owner));
        } else if (value >= 1 << 64) {
            vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, value));
        } else if (value == 0) {
            vm.expectRevert(Pool.ZeroValue.selector);
        }
        pool.deposit(owner, value);
        bool ok = owner < P && value != 0 && value < 1 << 64;
        vm.assertEq(pool.nextIndex(), ok ? 1 : 0);
        if (ok) {
            vm.assertEq(token.balanceOf(address(pool)), value * UNIT);
            uint256[] memory leaves = new uint256[](1);
            leaves[0] = commitment(owner, value);
            vm.assertEq(pool.root(), modelRoot(leaves));
        }
    }

    /// depositMany: lengths must match, the batch must not be empty, each value in [1, 2^64); nothing
    /// is inserted or pulled on a rejection.
    function testFuzz_depositManyValidation(uint8 nv, uint8 no, uint256 last, uint256 owner) public {
        uint256[] memory values = new uint256[](nv % 5);
        uint256[] memory owners = new uint256[](no % 5);
        for (uint256 i = 0; i < values.length; ++i) {
            values[i] = i + 1;
        }
        if (values.length > 0) values[values.length - 1] = last;
        owner %= P;
        for (uint256 i = 0; i < owners.length; ++i) {
            owners[i] = owner;
        }
        uint256 before = token.balanceOf(ALICE);
        vm.prank(ALICE);
        if (owners.length == 0) {
            vm.expectRevert(Pool.EmptyBatch.selector);
        } else if (values.length != owners.length) {
            vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, owners.length, values.length));
        } else if (last > type(uint64).max) {
            vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, last));
        } else if (last == 0) {
            vm.expectRevert(Pool.ZeroValue.selector);
        }
        pool.depositMany(owners, values);
        bool ok = owners.length != 0 && values.length == owners.length && last != 0 && last <= type(uint64).max;
        vm.assertEq(pool.nextIndex(), ok ? values.length : 0);
        uint256 total = 0;
        if (ok) {
            for (uint256 i = 0; i < values.length; ++i) {
                total += values[i];
            }
        }
        vm.assertEq(before - token.balanceOf(ALICE), total * UNIT);
    }

    // ------------------------------------------------------------------------------------ spends

    /// Three notes (100, 200, 300) deposited; returns the root.
    function _fund() internal returns (uint256 root) {
        uint256[] memory values = new uint256[](3);
        values[0] = 100;
        values[1] = 200;
        values[2] = 300;
        depositAll(values);
        return pool.root();
    }

    /// A spend proof the mock accepts for [root, nf, value, auth of key].
    function _spendProof(uint256 root, uint256 nf, uint256 value, uint256 key)
        internal
        returns (SpendProof memory q)
    {
        address auth = vm.addr(key);
        q = SpendProof(abi.encode("spend", nf, value, auth), root, nf, value, auth);
        spendV.accept(q.proof, spendInputs(root, nf, value, auth));
    }

    /// A batch of `values.length` spends (nullifiers 100 + i, keys authKey(i)) with its payment
    /// to BOB (fee to RELAYER) and signatures.
    struct Batch {
        SpendProof[] spends;
        Pool.Payment payment;
        bytes[] sigs;
        uint256[] keys;
    }

    function _batch(uint256 root, uint256[] memory values, uint256 fee) internal returns (Batch memory b) {
        uint256 n = values.length;
        b.spends = new SpendProof[](n);
        b.keys = new uint256[](n);
        uint256[] memory nfs = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            b.keys[i] = authKey(i);
            nfs[i] = 100 + i;
            b.spends[i] = _spendProof(root, nfs[i], values[i], b.keys[i]);
        }
        b.payment = payment(nfs, BOB, fee, RELAYER);
        b.sigs = signAll(b.keys, b.payment);
    }

    function _values(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory v) {
        v = new uint256[](3);
        (v[0], v[1], v[2]) = (a, b, c);
    }

    function test_spendBatchPaysRecipientAndFeeWithEvents() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(64, 32, 4), 5_000);
        bytes32 digest = pool.paymentDigest(b.payment);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectEmit(true, true, false, true, address(pool));
            emit Spent(100 + i, digest);
        }
        vm.expectEmit(true, true, true, true, address(pool));
        emit Paid(digest, BOB, 100 * UNIT - 5_000, RELAYER, 5_000);
        vm.prank(CAROL); // anyone submits
        spendBatch(b.spends, b.payment, b.sigs);
        vm.assertEq(token.balanceOf(BOB), 100 * UNIT - 5_000);
        vm.assertEq(token.balanceOf(RELAYER), 5_000);
        vm.assertEq(token.balanceOf(CAROL), 0);
        for (uint256 nf = 100; nf < 103; ++nf) {
            vm.assertTrue(pool.isSpent(nf));
        }
        // Exactly once.
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 100));
        spendBatch(b.spends, b.payment, b.sigs);
    }

    /// The order of events in a spendBatch: Spent x n, then Paid.
    function test_spendBatchEventOrder() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 0);
        vm.recordLogs();
        spendBatch(b.spends, b.payment, b.sigs);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32[] memory order = new bytes32[](4);
        uint256 k = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(pool)) order[k++] = logs[i].topics[0];
        }
        vm.assertEq(k, 4);
        for (uint256 i = 0; i < 3; ++i) {
            vm.assertEq(order[i], Spent.selector);
        }
        vm.assertEq(order[3], Paid.selector);
    }

    /// Whoever submits, the same people get the same amounts: the outcome does not depend on
    /// msg.sender (nor on the submitter holding tokens).
    function testFuzz_anySubmitterPaysTheSame(address sender, uint256 fee) public {
        vm.assume(sender != address(pool) && sender != BOB && sender != RELAYER);
        uint256 root = _fund();
        fee = fee % (7 * UNIT + 1);
        Batch memory b = _batch(root, _values(1, 2, 4), fee);
        uint256 senderBefore = token.balanceOf(sender);
        vm.prank(sender);
        spendBatch(b.spends, b.payment, b.sigs);
        vm.assertEq(token.balanceOf(BOB), 7 * UNIT - fee);
        vm.assertEq(token.balanceOf(RELAYER), fee);
        vm.assertEq(token.balanceOf(sender), senderBefore);
    }

    /// A batch of one is the single spend.
    function test_singleSpend() public {
        uint256 root = _fund();
        uint256[] memory v = new uint256[](1);
        v[0] = 64;
        Batch memory b = _batch(root, v, 0);
        spendBatch(b.spends, b.payment, b.sigs);
        vm.assertEq(token.balanceOf(BOB), 64 * UNIT);
        vm.assertEq(token.balanceOf(RELAYER), 0);
    }

    /// The deadline: valid at block.timestamp == deadline, refused one second later.
    function test_deadline() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 0);
        uint256 snap = vm.snapshotState();
        vm.warp(b.payment.deadline);
        spendBatch(b.spends, b.payment, b.sigs);
        vm.revertToState(snap);
        vm.warp(b.payment.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(Pool.PaymentExpired.selector, b.payment.deadline));
        spendBatch(b.spends, b.payment, b.sigs);
    }

    function test_wrongSigner() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 0);
        bytes32 digest = pool.paymentDigest(b.payment);
        // Signed by a key that is not the note's.
        b.sigs[1] = sign(authKey(99), digest);
        vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 1));
        spendBatch(b.spends, b.payment, b.sigs);
        // Right keys, wrong places.
        b.sigs = signAll(b.keys, b.payment);
        (b.sigs[0], b.sigs[2]) = (b.sigs[2], b.sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 0));
        spendBatch(b.spends, b.payment, b.sigs);
    }

    /// Signatures of another payment do not authorize this one: a relayer cannot change the
    /// recipient, the fee, the fee recipient, the deadline, the nullifiers, the chain or the pool.
    function test_signatureOfAnotherPayment() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 100);
        Pool.Payment memory p = b.payment;

        Pool.Payment memory q = _copy(p);
        q.recipient = RELAYER;
        _expectWrongSigner(b, q);
        q = _copy(p);
        q.fee = 101;
        _expectWrongSigner(b, q);
        q = _copy(p);
        q.feeRecipient = CAROL;
        _expectWrongSigner(b, q);
        q = _copy(p);
        q.deadline += 1;
        _expectWrongSigner(b, q);

        // Signatures over a payment of other notes (a superset) for a batch of fewer notes.
        uint256[] memory more = new uint256[](4);
        for (uint256 i = 0; i < 4; ++i) {
            more[i] = 100 + i;
        }
        Pool.Payment memory bigger = payment(more, BOB, 100, RELAYER);
        uint256[] memory keys4 = new uint256[](4);
        for (uint256 i = 0; i < 4; ++i) {
            keys4[i] = authKey(i);
        }
        bytes[] memory sigs4 = signAll(keys4, bigger);
        bytes[] memory sigs3 = new bytes[](3);
        for (uint256 i = 0; i < 3; ++i) {
            sigs3[i] = sigs4[i];
        }
        vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 0));
        spendBatch(b.spends, p, sigs3);

        // The same payment for another pool (same chain) or another chain.
        Pool other = new Pool(token, UNIT, IBatchProofVerifier(address(spendV)), IBatchProofVerifier(address(splitV)));
        vm.assertNotEq(other.paymentDigest(p), pool.paymentDigest(p));
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        bytes32 elsewhere = pool.paymentDigest(p);
        vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 0));
        spendBatch(b.spends, p, b.sigs);
        vm.chainId(chain);
        vm.assertNotEq(elsewhere, pool.paymentDigest(p));
        // And the original still works.
        spendBatch(b.spends, p, b.sigs);
    }

    function _copy(Pool.Payment memory p) internal pure returns (Pool.Payment memory) {
        return Pool.Payment(p.nullifiers, p.recipient, p.fee, p.feeRecipient, p.deadline);
    }

    function _expectWrongSigner(Batch memory b, Pool.Payment memory changed) internal {
        vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 0));
        spendBatch(b.spends, changed, b.sigs);
    }

    /// The malleable twin (r, n - s, v flipped) of a valid signature recovers the same address with
    /// a bare ecrecover, and the Pool refuses it; so are malformed signatures.
    function test_malleableAndMalformedSignatures() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 0);
        bytes32 digest = pool.paymentDigest(b.payment);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(b.keys[2], digest);
        bytes32 highS = bytes32(N - uint256(s));
        uint8 flipped = v == 27 ? 28 : 27;
        vm.assertEq(ecrecover(digest, flipped, r, highS), vm.addr(b.keys[2]));
        b.sigs[2] = abi.encodePacked(r, highS, flipped);
        vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 2));
        spendBatch(b.spends, b.payment, b.sigs);

        bytes[5] memory bad = [
            abi.encodePacked(r, s), // 64 bytes (EIP-2098 compact form is not accepted)
            abi.encodePacked(r, s, v, uint8(0)), // 66 bytes
            abi.encodePacked(r, s, v - 27), // v 0/1
            abi.encodePacked(bytes32(0), s, v), // r = 0
            abi.encodePacked(r, bytes32(0), v) // s = 0
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            b.sigs[2] = bad[i];
            vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 2));
            spendBatch(b.spends, b.payment, b.sigs);
        }
        b.sigs[2] = abi.encodePacked(r, s, v);
        spendBatch(b.spends, b.payment, b.sigs);
    }

    function test_feeLimits() public {
        uint256 root = _fund();
        // fee > total: refused.
        Batch memory b = _batch(root, _values(1, 2, 3), 6 * UNIT + 1);
        vm.expectRevert(abi.encodeWithSelector(Pool.FeeTooHigh.selector, 6 * UNIT + 1, 6 * UNIT));
        spendBatch(b.spends, b.payment, b.sigs);
        // fee == total: the recipient gets nothing (no transfer), the relayer everything.
        b = _batch(root, _values(1, 2, 3), 6 * UNIT);
        bytes32 digest = pool.paymentDigest(b.payment);
        vm.expectEmit(true, true, true, true, address(pool));
        emit Paid(digest, BOB, 0, RELAYER, 6 * UNIT);
        spendBatch(b.spends, b.payment, b.sigs);
        vm.assertEq(token.balanceOf(BOB), 0);
        vm.assertEq(token.balanceOf(RELAYER), 6 * UNIT);
    }

    function test_recipients() public {
        uint256 root = _fund();
        uint256[] memory keys = new uint256[](1);
        keys[0] = authKey(0);
        SpendProof[] memory spends = new SpendProof[](1);
        spends[0] = _spendProof(root, 100, 5, keys[0]);
        // No recipient.
        Pool.Payment memory p = payment(one(100), address(0), 0, address(0));
        bytes[] memory sigs = signAll(keys, p);
        vm.expectRevert(Pool.ZeroRecipient.selector);
        spendBatch(spends, p, sigs);
        // A fee without a fee recipient.
        p = payment(one(100), BOB, 1, address(0));
        sigs = signAll(keys, p);
        vm.expectRevert(Pool.ZeroFeeRecipient.selector);
        spendBatch(spends, p, sigs);
        // No fee, no fee recipient: fine.
        p = payment(one(100), BOB, 0, address(0));
        spendBatch(spends, p, signAll(keys, p));
        vm.assertEq(token.balanceOf(BOB), 5 * UNIT);
    }

    function test_repeatedAndSpentNullifiers() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 0);
        // The same note twice in one batch (its payment lists it twice, both signed).
        Batch memory twice = _batch(root, _values(1, 2, 3), 0);
        twice.spends[1] = twice.spends[0];
        uint256[] memory nfs = new uint256[](3);
        (nfs[0], nfs[1], nfs[2]) = (100, 100, 102);
        twice.payment = payment(nfs, BOB, 0, RELAYER);
        twice.keys[1] = twice.keys[0];
        twice.sigs = signAll(twice.keys, twice.payment);
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 100));
        spendBatch(twice.spends, twice.payment, twice.sigs);
        vm.assertFalse(pool.isSpent(100));
        // Spent earlier.
        spendBatch(b.spends, b.payment, b.sigs);
        Batch memory again = _batch(root, _values(1, 2, 3), 7);
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 100));
        spendBatch(again.spends, again.payment, again.sigs);
    }

    function test_paymentMismatchAndLengths() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 0);
        // The payment lists the notes in another order (each signature valid for it).
        uint256[] memory nfs = new uint256[](3);
        (nfs[0], nfs[1], nfs[2]) = (100, 102, 101);
        Pool.Payment memory reordered = payment(nfs, BOB, 0, RELAYER);
        bytes[] memory reorderedSigs = signAll(b.keys, reordered);
        vm.expectRevert(abi.encodeWithSelector(Pool.PaymentMismatch.selector, 1));
        spendBatch(b.spends, reordered, reorderedSigs);
        // Another nullifier entirely.
        uint256[] memory other = new uint256[](3);
        (other[0], other[1], other[2]) = (100, 555, 102);
        Pool.Payment memory unrelated = payment(other, BOB, 0, RELAYER);
        bytes[] memory unrelatedSigs = signAll(b.keys, unrelated);
        vm.expectRevert(abi.encodeWithSelector(Pool.PaymentMismatch.selector, 1));
        spendBatch(b.spends, unrelated, unrelatedSigs);
        // Lengths.
        Pool.Payment memory short_ = payment(one(100), BOB, 0, RELAYER);
        vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, 3, 1));
        spendBatch(b.spends, short_, b.sigs);
        bytes[] memory twoSigs = new bytes[](2);
        vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, 3, 2));
        spendBatch(b.spends, b.payment, twoSigs);
        Pool.Payment memory empty = payment(new uint256[](0), BOB, 0, RELAYER);
        vm.expectRevert(Pool.EmptyBatch.selector);
        spendBatch(new SpendProof[](0), empty, new bytes[](0));
    }

    function test_spendInputValidation() public {
        uint256 root = _fund();
        uint256 key = authKey(0);
        SpendProof[] memory spends = new SpendProof[](1);
        uint256[] memory keys = new uint256[](1);
        keys[0] = key;

        // Each case: the proof is accepted for exactly these inputs, so only the Pool's own check
        // can refuse it.
        spends[0] = _spendProof(root, 42, 0, key);
        _expectSpendRevert(spends, keys, 42, abi.encodeWithSelector(Pool.ZeroValue.selector));
        spends[0] = _spendProof(root, 42, 1 << 64, key);
        _expectSpendRevert(spends, keys, 42, abi.encodeWithSelector(Pool.ValueTooLarge.selector, uint256(1) << 64));
        spends[0] = _spendProof(root + P, 42, 1, key);
        _expectSpendRevert(spends, keys, 42, abi.encodeWithSelector(Pool.NotAFieldElement.selector, root + P));
        spends[0] = _spendProof(root, 42 + P, 1, key);
        _expectSpendRevert(spends, keys, 42 + P, abi.encodeWithSelector(Pool.NotAFieldElement.selector, 42 + P));
        spends[0] = _spendProof(root + 1, 42, 1, key);
        _expectSpendRevert(spends, keys, 42, abi.encodeWithSelector(Pool.UnknownRoot.selector, root + 1));
        // A zero auth: refused before any signature check (ecrecover's failure value is 0).
        spends[0] = SpendProof(abi.encode("zero auth"), root, 42, 1, address(0));
        spendV.accept(spends[0].proof, spendInputs(root, 42, 1, address(0)));
        _expectSpendRevert(spends, keys, 42, abi.encodeWithSelector(Pool.ZeroAuth.selector, 0));

        // The proof is bound to its public inputs: another value, nullifier or auth fails.
        SpendProof memory changed = _spendProof(root, 42, 64, key);
        changed.value = 65;
        _expectSpendRevertOne(changed, keys, 42, abi.encodeWithSelector(Pool.InvalidProof.selector));
        changed = _spendProof(root, 42, 64, key);
        changed.nullifier = 43;
        _expectSpendRevertOne(changed, keys, 43, abi.encodeWithSelector(Pool.InvalidProof.selector));
        // Another auth (signed by that other key): the proof binds the original auth.
        changed = _spendProof(root, 42, 64, key);
        changed.auth = vm.addr(authKey(1));
        uint256[] memory otherKey = new uint256[](1);
        otherKey[0] = authKey(1);
        _expectSpendRevertOne(changed, otherKey, 42, abi.encodeWithSelector(Pool.InvalidProof.selector));
        // A verifier that reverts counts as a rejection.
        spends[0] = _spendProof(root, 42, 64, key);
        spendV.setRevertInstead(true);
        _expectSpendRevert(spends, keys, 42, abi.encodeWithSelector(Pool.InvalidProof.selector));
        spendV.setRevertInstead(false);
        Pool.Payment memory p = payment(one(42), BOB, 0, address(0));
        spendBatch(spends, p, signAll(keys, p));
        vm.assertEq(token.balanceOf(BOB), 64 * UNIT);
    }

    function _expectSpendRevert(
        SpendProof[] memory spends,
        uint256[] memory keys,
        uint256 nf,
        bytes memory err
    ) internal {
        Pool.Payment memory p = payment(one(nf), BOB, 0, address(0));
        bytes[] memory sigs = signAll(keys, p);
        vm.expectRevert(err);
        spendBatch(spends, p, sigs);
    }

    function _expectSpendRevertOne(SpendProof memory q, uint256[] memory keys, uint256 nf, bytes memory err)
        internal
    {
        SpendProof[] memory spends = new SpendProof[](1);
        spends[0] = q;
        _expectSpendRevert(spends, keys, nf, err);
    }

    /// An old root stays valid after later inserts.
    function test_oldRootStaysValid() public {
        uint256 root = _fund();
        depositAll(_values(5, 6, 7));
        vm.assertTrue(pool.root() != root);
        Batch memory b = _batch(root, _values(100, 1, 1), 0);
        spendBatch(b.spends, b.payment, b.sigs);
        vm.assertEq(token.balanceOf(BOB), 102 * UNIT);
    }

    /// spendBatch: an invalid item anywhere reverts the whole batch with that item's error, and
    /// nothing is marked or paid.
    function testFuzz_spendBatchAllOrNothing(uint8 n, uint8 bad, uint256 nf) public {
        uint256 root = _fund();
        uint256 len = 1 + n % 4;
        uint256[] memory values = new uint256[](len);
        for (uint256 i = 0; i < len; ++i) {
            values[i] = 1 + i;
        }
        Batch memory b = _batch(root, values, 0);
        uint256 k = bad % len;
        nf = P + nf % (type(uint256).max - P); // a non-canonical nullifier
        b.spends[k] = _spendProof(root, nf, 1, b.keys[k]);
        b.payment.nullifiers[k] = nf;
        b.sigs = signAll(b.keys, b.payment);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, nf));
        spendBatch(b.spends, b.payment, b.sigs);
        for (uint256 i = 0; i < len; ++i) {
            vm.assertFalse(pool.isSpent(100 + i));
        }
        vm.assertEq(token.balanceOf(BOB), 0);
    }

    /// The batch's proofs go to the verifier in ONE verifyBatch call, with the proofs exactly as
    /// sent and the public inputs [root, nullifier, value, auth] of each, in order.
    function test_oneVerifyBatchCall() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 0);
        (bytes[] memory proofs,) = proofsAndInputs(b.spends);
        bytes32[][] memory inputs = new bytes32[][](3);
        for (uint256 i = 0; i < 3; ++i) {
            SpendProof memory q = b.spends[i];
            inputs[i] = spendInputs(q.root, q.nullifier, q.value, q.auth);
        }
        vm.expectCall(address(spendV), abi.encodeCall(MockVerifier.verifyBatch, (proofs, inputs)), 1);
        vm.expectCall(address(spendV), abi.encodeWithSelector(MockVerifier.verifyBatch.selector), 1);
        spendBatch(b.spends, b.payment, b.sigs);
        // A split: one call with its one proof and its 12 public inputs.
        uint256[8] memory outs;
        outs[0] = commitment(5, 1);
        Split memory x = _split(pool.root(), 9, 2, outs, BOB, 0);
        bytes[] memory one_ = new bytes[](1);
        one_[0] = x.s.proof;
        bytes32[][] memory splitIn = new bytes32[][](1);
        splitIn[0] = splitInputs(x.s);
        vm.expectCall(address(splitV), abi.encodeCall(MockVerifier.verifyBatch, (one_, splitIn)), 1);
        pool.split(x.s, x.payment, x.sig);
    }

    /// An invalid proof anywhere in a batch (the verifier says no for the whole batch) reverts it
    /// with InvalidProof: nothing marked, nothing paid.
    function testFuzz_invalidProofAnywhere(uint8 n, uint8 bad) public {
        uint256 root = _fund();
        uint256 len = 1 + n % 5;
        uint256[] memory values = new uint256[](len);
        for (uint256 i = 0; i < len; ++i) {
            values[i] = 1 + i;
        }
        Batch memory b = _batch(root, values, 0);
        b.spends[bad % len].proof = abi.encode("not accepted", bad);
        vm.expectRevert(Pool.InvalidProof.selector);
        spendBatch(b.spends, b.payment, b.sigs);
        for (uint256 i = 0; i < len; ++i) {
            vm.assertFalse(pool.isSpent(100 + i));
        }
        vm.assertEq(token.balanceOf(BOB), 0);
    }

    /// The proofs array has one proof per spend.
    function test_proofCountMismatch() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 0);
        (bytes[] memory proofs, Pool.SpendInputs[] memory inputs) = proofsAndInputs(b.spends);
        bytes[] memory fewer = new bytes[](2);
        (fewer[0], fewer[1]) = (proofs[0], proofs[1]);
        vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, 3, 2));
        pool.spendBatch(fewer, inputs, b.payment, b.sigs);
        bytes[] memory more = new bytes[](4);
        (more[0], more[1], more[2], more[3]) = (proofs[0], proofs[1], proofs[2], proofs[2]);
        vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, 3, 4));
        pool.spendBatch(more, inputs, b.payment, b.sigs);
        // Proofs in another order than their inputs: each proof is checked against its own item.
        (proofs[0], proofs[1]) = (proofs[1], proofs[0]);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spendBatch(proofs, inputs, b.payment, b.sigs);
    }

    /// The Pool's own checks come before the (costly) verification: a batch with an invalid proof
    /// and another fault fails with that fault, and the verifier is not called.
    function test_ownChecksBeforeTheProof() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(1, 2, 3), 6 * UNIT + 1);
        b.spends[1].proof = "not accepted";
        vm.expectCall(address(spendV), abi.encodeWithSelector(MockVerifier.verifyBatch.selector), 0);
        vm.expectRevert(abi.encodeWithSelector(Pool.FeeTooHigh.selector, 6 * UNIT + 1, 6 * UNIT));
        spendBatch(b.spends, b.payment, b.sigs);
        b = _batch(root, _values(1, 2, 3), 0);
        b.spends[1].proof = "not accepted";
        b.sigs[2] = b.sigs[0];
        vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 2));
        spendBatch(b.spends, b.payment, b.sigs);
    }

    /// Fee and recipient rules over random inputs: the first failing rule names the problem; on
    /// success the recipient gets sum * UNIT - fee and the fee recipient the fee.
    function testFuzz_paymentRules(uint256 fee, bool withFeeRecipient, bool withRecipient, uint32 late) public {
        uint256 root = _fund();
        fee = fee % (8 * UNIT);
        Batch memory b = _batch(root, _values(1, 2, 4), 0);
        b.payment.fee = fee;
        b.payment.feeRecipient = withFeeRecipient ? RELAYER : address(0);
        b.payment.recipient = withRecipient ? BOB : address(0);
        b.sigs = signAll(b.keys, b.payment);
        vm.warp(block.timestamp + (late % 3 == 0 ? 2 hours : 0));
        bool expired = late % 3 == 0;
        if (expired) {
            vm.expectRevert(abi.encodeWithSelector(Pool.PaymentExpired.selector, b.payment.deadline));
        } else if (!withRecipient) {
            vm.expectRevert(Pool.ZeroRecipient.selector);
        } else if (fee != 0 && !withFeeRecipient) {
            vm.expectRevert(Pool.ZeroFeeRecipient.selector);
        } else if (fee > 7 * UNIT) {
            vm.expectRevert(abi.encodeWithSelector(Pool.FeeTooHigh.selector, fee, 7 * UNIT));
        }
        spendBatch(b.spends, b.payment, b.sigs);
        bool ok = !expired && withRecipient && (fee == 0 || withFeeRecipient) && fee <= 7 * UNIT;
        vm.assertEq(token.balanceOf(BOB), ok ? 7 * UNIT - fee : 0);
        vm.assertEq(token.balanceOf(RELAYER), ok && withFeeRecipient ? fee : 0);
    }

    // ------------------------------------------------------------------------------------ splits

    /// A split proof the mock accepts, with its payment and signature.
    struct Split {
        Pool.SplitProof s;
        Pool.Payment payment;
        bytes sig;
        uint256 key;
    }

    function _split(uint256 root, uint256 nf, uint256 amount, uint256[8] memory outs, address to, uint256 fee)
        internal
        returns (Split memory x)
    {
        x.key = authKey(77);
        uint256[8] memory own; // a copy: memory arrays are references
        for (uint256 i = 0; i < 8; ++i) {
            own[i] = outs[i];
        }
        x.s = Pool.SplitProof(abi.encode("split", nf, amount, outs), root, nf, amount, vm.addr(x.key), own);
        splitV.accept(x.s.proof, splitInputs(x.s));
        x.payment = payment(one(nf), to, fee, fee == 0 ? address(0) : RELAYER);
        x.sig = sign(x.key, pool.paymentDigest(x.payment));
    }

    function test_splitInsertsOutputsAsOneBatchAndPays() public {
        uint256 root = _fund();
        uint256[] memory leaves = new uint256[](3 + 6);
        leaves[0] = commitment(1000, 100);
        leaves[1] = commitment(1001, 200);
        leaves[2] = commitment(1002, 300);
        uint256[8] memory outs = [uint256(11), 0, 33, 44, 0, 66, 77, 88];
        uint256 k = 3;
        for (uint256 i = 0; i < 8; ++i) {
            if (outs[i] != 0) leaves[k++] = outs[i];
        }
        uint256 newRoot = modelRoot(leaves);
        Split memory x = _split(root, 9, 256, outs, BOB, 1_000);
        bytes32 digest = pool.paymentDigest(x.payment);
        for (uint256 i = 0; i < 6; ++i) {
            vm.expectEmit(true, false, false, true, address(pool));
            emit Inserted(leaves[3 + i], 3 + i, newRoot);
        }
        vm.expectEmit(true, true, false, true, address(pool));
        emit Spent(9, digest);
        vm.expectEmit(true, true, true, true, address(pool));
        emit Paid(digest, BOB, 256 * UNIT - 1_000, RELAYER, 1_000);
        vm.prank(CAROL);
        pool.split(x.s, x.payment, x.sig);
        vm.assertEq(pool.nextIndex(), 9);
        vm.assertEq(pool.root(), newRoot);
        vm.assertEq(token.balanceOf(BOB), 256 * UNIT - 1_000);
        vm.assertEq(token.balanceOf(RELAYER), 1_000);
        vm.assertTrue(pool.isSpent(9));
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 9));
        pool.split(x.s, x.payment, x.sig);
    }

    /// A rebalancing split withdraws exactly the relayer's fee (amount * UNIT == fee, recipient =
    /// fee recipient); a pure split (amount 0, fee 0) pays nothing; every output absent inserts
    /// nothing.
    function test_splitKinds() public {
        uint256 root = _fund();
        uint256[8] memory outs = [uint256(1), 2, 3, 4, 5, 6, 7, 8];
        Split memory x = _split(root, 10, 3, outs, RELAYER, 3 * UNIT);
        x.payment.recipient = RELAYER;
        x.sig = sign(x.key, pool.paymentDigest(x.payment));
        pool.split(x.s, x.payment, x.sig);
        vm.assertEq(token.balanceOf(RELAYER), 3 * UNIT);
        vm.assertEq(pool.nextIndex(), 11);

        uint256[8] memory two = [uint256(0), 0, 0, 21, 0, 0, 22, 0];
        x = _split(pool.root(), 11, 0, two, BOB, 0);
        pool.split(x.s, x.payment, x.sig);
        vm.assertEq(token.balanceOf(BOB), 0);
        vm.assertEq(pool.nextIndex(), 13);

        uint256 rootBefore = pool.root();
        uint256[8] memory none;
        x = _split(rootBefore, 12, 50, none, BOB, 0);
        vm.recordLogs();
        pool.split(x.s, x.payment, x.sig);
        vm.assertEq(pool.nextIndex(), 13);
        vm.assertEq(pool.root(), rootBefore);
        vm.assertEq(token.balanceOf(BOB), 50 * UNIT);
        // Events: Spent, Paid (no Inserted).
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 k = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(pool)) continue;
            vm.assertEq(logs[i].topics[0], k == 0 ? Spent.selector : Paid.selector);
            ++k;
        }
        vm.assertEq(k, 2);
    }

    function test_splitValidation() public {
        uint256 root = _fund();
        uint256[8] memory outs = [uint256(11), 22, 0, 0, 0, 0, 0, 0];
        Split memory x = _split(root, 9, 256, outs, BOB, 100);

        // Payment: one nullifier, this one.
        Pool.Payment memory p = payment(new uint256[](2), BOB, 100, RELAYER);
        vm.expectRevert(abi.encodeWithSelector(Pool.LengthMismatch.selector, 1, 2));
        pool.split(x.s, p, x.sig);
        p = payment(one(8), BOB, 100, RELAYER);
        _expectSplitRevert(x, p, sign(x.key, pool.paymentDigest(p)), abi.encodeWithSelector(Pool.PaymentMismatch.selector, 0));
        // Signature: by another key; of another payment; malleable twin.
        bytes32 digest = pool.paymentDigest(x.payment);
        _expectSplitRevert(x, x.payment, sign(authKey(5), digest), abi.encodeWithSelector(Pool.WrongSigner.selector, 0));
        p = payment(one(9), RELAYER, 100, RELAYER);
        _expectSplitRevert(x, p, x.sig, abi.encodeWithSelector(Pool.WrongSigner.selector, 0));
        {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(x.key, digest);
            bytes memory twin = abi.encodePacked(r, bytes32(N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
            _expectSplitRevert(x, x.payment, twin, abi.encodeWithSelector(Pool.WrongSigner.selector, 0));
        }
        // Deadline, recipients, fee.
        vm.warp(x.payment.deadline + 1);
        _expectSplitRevert(x, x.payment, x.sig, abi.encodeWithSelector(Pool.PaymentExpired.selector, x.payment.deadline));
        vm.warp(NOW);
        p = payment(one(9), address(0), 0, address(0));
        _expectSplitRevert(x, p, sign(x.key, pool.paymentDigest(p)), abi.encodeWithSelector(Pool.ZeroRecipient.selector));
        p = payment(one(9), BOB, 100, address(0));
        _expectSplitRevert(x, p, sign(x.key, pool.paymentDigest(p)), abi.encodeWithSelector(Pool.ZeroFeeRecipient.selector));
        p = payment(one(9), BOB, 256 * UNIT + 1, RELAYER);
        _expectSplitRevert(
            x, p, sign(x.key, pool.paymentDigest(p)), abi.encodeWithSelector(Pool.FeeTooHigh.selector, 256 * UNIT + 1, 256 * UNIT)
        );

        // Inputs the Pool checks itself (the mock accepts each proof for its inputs).
        Split memory y = _split(root, 9, 1 << 64, outs, BOB, 0);
        vm.expectRevert(abi.encodeWithSelector(Pool.ValueTooLarge.selector, uint256(1) << 64));
        pool.split(y.s, y.payment, y.sig);
        for (uint256 i = 0; i < 8; ++i) {
            uint256[8] memory bad = [uint256(11), 22, 0, 0, 0, 0, 0, 0];
            bad[i] = P + i;
            y = _split(root, 9, 256, bad, BOB, 0);
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, P + i));
            pool.split(y.s, y.payment, y.sig);
        }
        y = _split(root + P, 9, 256, outs, BOB, 0);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, root + P));
        pool.split(y.s, y.payment, y.sig);
        y = _split(root, 9 + P, 256, outs, BOB, 0);
        vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, 9 + P));
        pool.split(y.s, y.payment, y.sig);
        y = _split(5, 9, 256, outs, BOB, 0);
        vm.expectRevert(abi.encodeWithSelector(Pool.UnknownRoot.selector, 5));
        pool.split(y.s, y.payment, y.sig);
        y = _split(root, 9, 256, outs, BOB, 0);
        y.s.auth = address(0);
        splitV.accept(y.s.proof, splitInputs(y.s));
        vm.expectRevert(abi.encodeWithSelector(Pool.ZeroAuth.selector, 0));
        pool.split(y.s, y.payment, y.sig);

        // The proof binds every public input: a changed output, amount or auth fails.
        Pool.SplitProof memory changed = _split(root, 9, 256, outs, BOB, 100).s;
        changed.outCms[7] = 1;
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(changed, x.payment, x.sig);
        changed = _split(root, 9, 256, outs, BOB, 100).s;
        changed.amount = 257;
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(changed, x.payment, x.sig);
        {
            // Another auth, with that key's valid signature.
            changed = _split(root, 9, 256, outs, BOB, 100).s;
            changed.auth = vm.addr(authKey(6));
            bytes memory bySix = sign(authKey(6), digest);
            vm.expectRevert(Pool.InvalidProof.selector);
            pool.split(changed, x.payment, bySix);
        }
        // A spend proof's inputs are not a split's (a different verifier).
        Pool.SplitProof memory asSplit = _split(root, 9, 256, outs, BOB, 100).s;
        asSplit.proof = _spendProof(root, 9, 256, x.key).proof;
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(asSplit, x.payment, x.sig);
        splitV.setRevertInstead(true);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(x.s, x.payment, x.sig);
        splitV.setRevertInstead(false);

        pool.split(x.s, x.payment, x.sig);
        // Spend and split share one nullifier set.
        SpendProof[] memory spends = new SpendProof[](1);
        spends[0] = _spendProof(root, 9, 1, x.key);
        uint256[] memory keys = new uint256[](1);
        keys[0] = x.key;
        _expectSpendRevert(spends, keys, 9, abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, 9));
    }

    function _expectSplitRevert(Split memory x, Pool.Payment memory p, bytes memory sig, bytes memory err) internal {
        vm.expectRevert(err);
        pool.split(x.s, p, sig);
    }

    /// split over random amounts, fees and outputs: canonical outputs, fee <= amount * UNIT, and on
    /// success exactly the non-zero outputs are inserted.
    function testFuzz_split(uint256 amount, uint256 fee, uint256[8] memory outs) public {
        uint256 root = _fund();
        amount = amount % 601;
        fee = fee % (700 * UNIT);
        uint256 present = 0;
        uint256 firstBad = 0;
        bool anyBad = false;
        for (uint256 i = 0; i < 8; ++i) {
            if (i % 3 == 0) outs[i] = 0; // some absent
            if (outs[i] >= P && !anyBad) {
                anyBad = true;
                firstBad = outs[i];
            }
            if (outs[i] != 0) ++present;
        }
        Split memory x = _split(root, 9, amount, outs, BOB, fee);
        if (fee > amount * UNIT) {
            vm.expectRevert(abi.encodeWithSelector(Pool.FeeTooHigh.selector, fee, amount * UNIT));
        } else if (anyBad) {
            vm.expectRevert(abi.encodeWithSelector(Pool.NotAFieldElement.selector, firstBad));
        }
        pool.split(x.s, x.payment, x.sig);
        bool ok = fee <= amount * UNIT && !anyBad;
        vm.assertEq(pool.nextIndex(), ok ? 3 + present : 3);
        vm.assertEq(token.balanceOf(BOB), ok ? amount * UNIT - fee : 0);
    }

    function test_constructorValidation() public {
        IBatchProofVerifier v = IBatchProofVerifier(address(spendV));
        vm.expectRevert(Pool.InvalidUnit.selector);
        new Pool(token, 0, v, v);
        vm.expectRevert(Pool.InvalidUnit.selector);
        new Pool(token, 1 << 128, v, v);
        vm.expectRevert(Pool.ZeroAddress.selector);
        new Pool(token, 1, IBatchProofVerifier(address(0)), v);
    }

    // ------------------------------------------------------------------------------------ EIP-712

    /// The domain separator is EIP-712's for {bucketpay, 2, chainId, pool}, and ERC-5267 says so.
    function test_domainSeparator() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("bucketpay"),
                keccak256("2"),
                block.chainid,
                address(pool)
            )
        );
        vm.assertEq(pool.domainSeparator(), expected);
        (bytes1 fields, string memory name, string memory version, uint256 chainId, address verifying,,) =
            pool.eip712Domain();
        vm.assertEq(uint256(uint8(fields)), 0x0f);
        vm.assertEq(keccak256(bytes(name)), keccak256("bucketpay"));
        vm.assertEq(keccak256(bytes(version)), keccak256("2"));
        vm.assertEq(chainId, block.chainid);
        vm.assertEq(verifying, address(pool));
        vm.assertEq(
            pool.PAYMENT_TYPEHASH(),
            vm.eip712HashType(
                "Payment(uint256[] nullifiers,address recipient,uint256 fee,address feeRecipient,uint256 deadline)"
            )
        );
    }

    /// The Pool's payment digest equals forge's EIP-712 implementation (from the typed-data JSON),
    /// its struct hash forge's eip712HashStruct, over random payments; a signature made with
    /// vm.sign of it is accepted by spendBatch.
    function testFuzz_paymentDigestMatchesForge(
        uint256[] memory nfs,
        address recipient,
        uint256 fee,
        address feeRecipient,
        uint256 deadline
    ) public view {
        vm.assume(nfs.length <= 20);
        Pool.Payment memory p = Pool.Payment(nfs, recipient, fee, feeRecipient, deadline);
        bytes32 digest = pool.paymentDigest(p);
        vm.assertEq(digest, vm.eip712HashTypedData(typedDataJson(p, address(pool))));
        vm.assertEq(
            digest, keccak256(abi.encodePacked(hex"1901", pool.domainSeparator(), forgeStructHash(p)))
        );
    }

    function test_signedWithVmSignIsAccepted() public {
        uint256 root = _fund();
        Batch memory b = _batch(root, _values(3, 2, 1), 42);
        bytes32 digest = vm.eip712HashTypedData(typedDataJson(b.payment, address(pool)));
        for (uint256 i = 0; i < 3; ++i) {
            b.sigs[i] = sign(b.keys[i], digest);
        }
        spendBatch(b.spends, b.payment, b.sigs);
        vm.assertEq(token.balanceOf(BOB), 6 * UNIT - 42);
    }

    // --------------------------------------------------------------------------------------- gas

    /// deposit and depositMany (16 notes) as transactions (utils/TxGas.sol: each its own
    /// transaction, 21,000 + calldata + execution), printed as "GAS <name> <n>" for scripts/gas.sh.
    /// On a pool that already has leaves, as a live pool has.
    /// forge-config: default.isolate = true
    function test_gasDeposits() public {
        depositAll(_values(1, 2, 3));
        depositAll(_values(4, 5, 6));
        uint256 owner = 0x1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100abcd;
        TxCost memory single = measureTx(ALICE, address(pool), abi.encodeCall(Pool.deposit, (owner, 100)));
        uint256 n = 16;
        uint256[] memory owners = new uint256[](n);
        uint256[] memory values = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            values[i] = 1 << i;
            owners[i] = uint256(keccak256(abi.encode(i))) % P;
        }
        TxCost memory many =
            measureTx(ALICE, address(pool), abi.encodeCall(Pool.depositMany, (owners, values)));
        vm.assertEq(pool.nextIndex(), 6 + 1 + n);
        console.log("GAS pool_deposit_tx", single.total);
        console.log("GAS pool_deposit_execution", single.execution);
        console.log("GAS pool_deposit_calldata", single.calldataGas);
        console.log("GAS pool_depositMany16_tx", many.total);
        console.log("GAS pool_depositMany16_per_note_tx", many.total / n);
        console.log("GAS pool_depositMany16_execution", many.execution);
        console.log("GAS pool_depositMany16_calldata", many.calldataGas);
    }
}
