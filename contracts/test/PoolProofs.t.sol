// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {console} from "./utils/TestBase.sol";
import {PoolCalls} from "./PoolCalls.sol";
import {Vm} from "./utils/Vm.sol";
import {Pool} from "../src/Pool.sol";
import {IBatchProofVerifier} from "../src/IBatchProofVerifier.sol";
import {Poseidon2Ref} from "../src/Poseidon2Ref.sol";
import {TestToken} from "../src/test/TestToken.sol";

/// The Pool with its real verifiers, the batch verifiers generated from the circuits' keys
/// (src/generated/Batch{Spend,Split}Verifier.sol, made by scripts/gen_verifiers.sh), and real proofs
/// made by the C++ engine: build/fixtures/proofs.json, written by `bucketpay-fixtures --proofs`.
///
/// proofs.json format (hex strings are 0x + 64 digits unless noted):
///   {
///     "root": "0x..",                             // the root after all deposits (the proofs' root)
///     "deposits": [{"owner": "0x..", "value": <number, cents>, "commitment": "0x..",
///                   "leaf_index": <number>}, ...], // in order: leaf i = deposit i
///     "spend": [{"proof": "0x<bytes>", "public_inputs": ["0x..", x4], "note": n, "amount": n,
///                "auth": "0x<20-byte address>", "auth_key": "0x.."}, ...],
///     "split": [{... the same, "public_inputs": ["0x..", x12]}, ...]
///   }
/// spend public inputs [root, nullifier, value, auth]; split [root, nullifier, amount, auth,
/// out_cm[0..7]]. auth_key is the note's spend authorization key (throwaway test notes): the tests
/// sign payments with it, chosen after the proofs were made. At least 4 spends (17 for the batch
/// gas figure) and 2 splits (split[0] with 8 outputs). Every test skips, saying why, when the
/// fixture or the generated verifiers are missing.
contract PoolProofsTest is PoolCalls {
    uint256 internal constant UNIT = 10_000;
    address internal constant RELAYER = address(0x4E1A7);
    address internal constant THIRD_PARTY = address(0x3333);

    TestToken internal token;
    string internal json;
    string internal missing;

    function setUp() public {
        vm.warp(1_750_000_000);
        json = readFixture("proofs.json");
        if (bytes(json).length == 0) {
            missing = string.concat(fixturesDir(), "/proofs.json (written by bucketpay-fixtures --proofs)");
            return;
        }
        address spendV = _deploy("BatchSpendVerifier.sol:BatchSpendVerifier");
        address splitV = _deploy("BatchSplitVerifier.sol:BatchSplitVerifier");
        if (spendV == address(0) || splitV == address(0)) {
            missing =
            "src/generated/Batch{Spend,Split}Verifier.sol (scripts/gen_verifiers.sh build/circuits src/generated)";
            json = "";
            return;
        }
        token = new TestToken();
        pool = new Pool(token, UNIT, IBatchProofVerifier(spendV), IBatchProofVerifier(splitV));
        // Re-create the engine's tree on chain: same deposits (by owner), same order.
        uint256 n = jsonLength(json, ".deposits");
        token.mint(address(this), 1e30);
        token.approve(address(pool), type(uint256).max);
        token.mint(RELAYER, 1); // a relayer that already holds tokens (its balance slot exists)
        for (uint256 i = 0; i < n; ++i) {
            string memory d = at(".deposits", i);
            pool.deposit(
                vm.parseJsonUint(json, string.concat(d, ".owner")), vm.parseJsonUint(json, string.concat(d, ".value"))
            );
            vm.assertEq(pool.nextIndex() - 1, vm.parseJsonUint(json, string.concat(d, ".leaf_index")));
        }
    }

    function _deploy(string memory artifact) internal returns (address a) {
        try vm.deployCode(artifact) returns (address x) {
            a = x;
        } catch {
            a = address(0);
        }
    }

    /// Skips the running test (with the reason) when the fixture or the verifiers are missing.
    function _ready() internal returns (bool) {
        if (bytes(json).length != 0) return true;
        string memory why = string.concat("missing ", missing);
        console.log(why);
        vm.skip(true, why);
        return false;
    }

    struct Entry {
        bytes proof;
        uint256[] inputs;
        address auth;
        uint256 key;
    }

    function _entry(string memory kind, uint256 i) internal view returns (Entry memory e) {
        string memory k = at(string.concat(".", kind), i);
        e.proof = vm.parseJsonBytes(json, string.concat(k, ".proof"));
        e.inputs = vm.parseJsonUintArray(json, string.concat(k, ".public_inputs"));
        e.auth = vm.parseJsonAddress(json, string.concat(k, ".auth"));
        e.key = vm.parseJsonUint(json, string.concat(k, ".auth_key"));
    }

    function _spendProof(Entry memory e) internal pure returns (SpendProof memory) {
        return SpendProof(e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3])));
    }

    function _splitProof(Entry memory e) internal pure returns (Pool.SplitProof memory s) {
        uint256[8] memory outs;
        for (uint256 i = 0; i < 8; ++i) {
            outs[i] = e.inputs[4 + i];
        }
        s = Pool.SplitProof(e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3])), outs);
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// A batch of spend entries [first, first + n) paying `to` with `fee` to RELAYER, each signed by
    /// its note's auth key.
    function _batch(uint256 first, uint256 n, address to, uint256 fee)
        internal
        view
        returns (SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs, uint256 total)
    {
        spends = new SpendProof[](n);
        uint256[] memory nfs = new uint256[](n);
        Entry[] memory es = new Entry[](n);
        for (uint256 i = 0; i < n; ++i) {
            es[i] = _entry("spend", first + i);
            spends[i] = _spendProof(es[i]);
            nfs[i] = spends[i].nullifier;
            total += spends[i].value;
        }
        p = Pool.Payment(nfs, to, fee, fee == 0 ? address(0) : RELAYER, block.timestamp + 1 hours);
        bytes32 digest = pool.paymentDigest(p);
        sigs = new bytes[](n);
        for (uint256 i = 0; i < n; ++i) {
            sigs[i] = _sign(es[i].key, digest);
        }
    }

    /// The on-chain tree (commitments H(owner, value) computed by the contract) has the engine's
    /// root, each deposit's commitment is the reference Poseidon2's, and every proof's auth input
    /// is its auth key's address.
    function test_chainTreeMatchesEngine() public {
        if (!_ready()) return;
        vm.assertEq(pool.root(), vm.parseJsonUint(json, ".root"), "root");
        vm.assertEq(_entry("spend", 0).inputs[0], pool.root(), "the proofs' root");
        for (uint256 i = 0; i < jsonLength(json, ".deposits"); ++i) {
            string memory d = at(".deposits", i);
            uint256 cm = Poseidon2Ref.hash2(
                vm.parseJsonUint(json, string.concat(d, ".owner")), vm.parseJsonUint(json, string.concat(d, ".value"))
            );
            vm.assertEq(cm, vm.parseJsonUint(json, string.concat(d, ".commitment")), "commitment");
        }
        string[2] memory kinds = ["spend", "split"];
        for (uint256 k = 0; k < 2; ++k) {
            for (uint256 i = 0; i < jsonLength(json, string.concat(".", kinds[k])); ++i) {
                Entry memory e = _entry(kinds[k], i);
                vm.assertEq(vm.addr(e.key), e.auth, "auth key's address");
                vm.assertEq(address(uint160(e.inputs[3])), e.auth, "the proof's auth input");
                vm.assertEq(e.inputs[3] >> 160, 0);
            }
        }
    }

    /// A proof made before anyone knew the payee pays the recipient chosen now, with a fee, submitted
    /// by a third party; exactly once.
    function test_spendPaysARecipientChosenAfterProving() public {
        if (!_ready()) return;
        address recipient = address(uint160(uint256(keccak256(abi.encode("payee", block.timestamp)))));
        (SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs, uint256 total) =
            _batch(0, 1, recipient, 10);
        vm.prank(THIRD_PARTY);
        spendBatch(spends, p, sigs);
        vm.assertEq(token.balanceOf(recipient), total * UNIT - 10);
        vm.assertEq(token.balanceOf(RELAYER), 1 + 10);
        vm.assertTrue(pool.isSpent(spends[0].nullifier));
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, spends[0].nullifier));
        spendBatch(spends, p, sigs);
    }

    function test_spendBatchOfThree() public {
        if (!_ready()) return;
        (SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs, uint256 total) =
            _batch(1, 3, address(0xB0B), 0);
        spendBatch(spends, p, sigs);
        vm.assertEq(token.balanceOf(address(0xB0B)), total * UNIT);
    }

    function test_spendRejectsChangedInputsAndWrongSigners() public {
        if (!_ready()) return;
        (SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs,) = _batch(0, 1, address(0xB0B), 0);
        SpendProof memory good = spends[0];
        // Another value.
        spends[0] = _copy(good);
        spends[0].value = good.value + 1;
        vm.expectRevert(Pool.InvalidProof.selector);
        spendBatch(spends, p, sigs);
        // Another auth, with a valid signature by that other key: the proof binds the auth.
        Entry memory other = _entry("spend", 1);
        spends[0] = _copy(good);
        spends[0].auth = other.auth;
        bytes[] memory otherSigs = new bytes[](1);
        otherSigs[0] = _sign(other.key, pool.paymentDigest(p));
        vm.expectRevert(Pool.InvalidProof.selector);
        spendBatch(spends, p, otherSigs);
        // Another nullifier (the payment names it too, signed).
        spends[0] = _copy(good);
        spends[0].nullifier = good.nullifier ^ 1;
        Pool.Payment memory q = Pool.Payment(new uint256[](1), p.recipient, 0, address(0), p.deadline);
        q.nullifiers[0] = spends[0].nullifier;
        bytes[] memory qSigs = new bytes[](1);
        qSigs[0] = _sign(_entry("spend", 0).key, pool.paymentDigest(q));
        vm.expectRevert(Pool.InvalidProof.selector);
        spendBatch(spends, q, qSigs);
        // A tampered proof byte.
        spends[0] = _copy(good);
        spends[0].proof[100] = bytes1(uint8(spends[0].proof[100]) ^ 1);
        vm.expectRevert(Pool.InvalidProof.selector);
        spendBatch(spends, p, sigs);
        // Unknown root (a later root would be known; a made-up one is not).
        spends[0] = _copy(good);
        spends[0].root = good.root ^ 1;
        vm.expectRevert(abi.encodeWithSelector(Pool.UnknownRoot.selector, good.root ^ 1));
        spendBatch(spends, p, sigs);
        // The right proof signed by the wrong key.
        spends[0] = good;
        vm.expectRevert(abi.encodeWithSelector(Pool.WrongSigner.selector, 0));
        spendBatch(spends, p, otherSigs);
        // Still spendable after all that.
        spendBatch(spends, p, sigs);
        vm.assertTrue(pool.isSpent(good.nullifier));
    }

    /// All 17 fixture proofs in one batch (one verifyBatch call): one payment of their sum.
    function test_spendBatchOfSeventeen() public {
        if (!_ready()) return;
        uint256 n = jsonLength(json, ".spend");
        if (n < 17) {
            vm.skip(true, "fewer than 17 spend proofs in proofs.json");
            return;
        }
        (SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs, uint256 total) =
            _batch(0, 17, address(0xB0B), 170);
        (bytes[] memory proofs,) = proofsAndInputs(spends);
        vm.expectCall(
            address(pool.SPEND_VERIFIER()),
            abi.encodeCall(IBatchProofVerifier.verifyBatch, (proofs, _verifierInputs(spends))),
            1
        );
        vm.prank(THIRD_PARTY);
        spendBatch(spends, p, sigs);
        vm.assertEq(token.balanceOf(address(0xB0B)), total * UNIT - 170);
        for (uint256 i = 0; i < 17; ++i) {
            vm.assertTrue(pool.isSpent(spends[i].nullifier));
        }
    }

    /// The batch verifier accepts a batch holding one valid proof twice (it checks proofs, not
    /// notes); the Pool refuses it by the nullifier, and the note stays spendable.
    function test_sameProofTwiceRefusedByNullifier() public {
        if (!_ready()) return;
        Entry memory e = _entry("spend", 0);
        SpendProof[] memory twice = new SpendProof[](2);
        twice[0] = _spendProof(e);
        twice[1] = _spendProof(e);
        (bytes[] memory proofs,) = proofsAndInputs(twice);
        vm.assertTrue(pool.SPEND_VERIFIER().verifyBatch(proofs, _verifierInputs(twice)));
        uint256[] memory nfs = new uint256[](2);
        (nfs[0], nfs[1]) = (twice[0].nullifier, twice[0].nullifier);
        Pool.Payment memory p = Pool.Payment(nfs, address(0xB0B), 0, address(0), block.timestamp);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = _sign(e.key, pool.paymentDigest(p));
        sigs[1] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, twice[0].nullifier));
        spendBatch(twice, p, sigs);
        vm.assertFalse(pool.isSpent(twice[0].nullifier));
        (SpendProof[] memory once, Pool.Payment memory q, bytes[] memory qSigs,) = _batch(0, 1, address(0xB0B), 0);
        spendBatch(once, q, qSigs);
        vm.assertTrue(pool.isSpent(twice[0].nullifier));
    }

    /// One tampered proof (a KZG quotient replaced by a valid point, caught only by the batch's
    /// pairing; or a public input changed) at the first, a middle and the last position of a batch
    /// of up to 17 makes the whole batch InvalidProof; nothing is spent.
    function test_badProofAnywhereInBatchRejected() public {
        if (!_ready()) return;
        uint256 n = jsonLength(json, ".spend");
        if (n > 17) n = 17;
        uint256[3] memory at_ = [uint256(0), n / 2, n - 1];
        (SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs,) = _batch(0, n, address(0xB0B), 0);
        for (uint256 t = 0; t < 3; ++t) {
            SpendProof memory bad = spends[at_[t]];
            bytes memory good = bad.proof;
            for (uint256 kind = 0; kind < 2; ++kind) {
                if (kind == 0) {
                    bytes memory proof = bytes.concat(good);
                    assembly {
                        let last := add(add(proof, 0x20), sub(mload(proof), 0x40))
                        mstore(last, 1)
                        mstore(add(last, 0x20), 2)
                    }
                    bad.proof = proof;
                } else {
                    bad.proof = good;
                    bad.value += 1; // the signature does not cover the value: only the proof binds it
                }
                vm.expectRevert(Pool.InvalidProof.selector);
                spendBatch(spends, p, sigs);
            }
            bad.value -= 1;
        }
        for (uint256 i = 0; i < n; ++i) {
            vm.assertFalse(pool.isSpent(spends[i].nullifier));
        }
        spendBatch(spends, p, sigs); // the untouched batch still goes through
        vm.assertTrue(pool.isSpent(spends[n - 1].nullifier));
    }

    /// A deep copy (memory structs are references).
    function _copy(SpendProof memory q) internal pure returns (SpendProof memory) {
        return SpendProof(bytes.concat(q.proof), q.root, q.nullifier, q.value, q.auth);
    }

    /// A proof of one circuit does not pass the other circuit's verifier.
    function test_wrongCircuitRejected() public {
        if (!_ready()) return;
        Entry memory s = _entry("split", 0);
        Entry memory e = _entry("spend", 0);
        // The split proof, presented as a spend of its first four inputs.
        SpendProof[] memory spends = new SpendProof[](1);
        spends[0] = SpendProof(s.proof, s.inputs[0], s.inputs[1], 1, s.auth);
        Pool.Payment memory p = Pool.Payment(new uint256[](1), address(0xB0B), 0, address(0), block.timestamp);
        p.nullifiers[0] = s.inputs[1];
        bytes[] memory sigs = new bytes[](1);
        sigs[0] = _sign(s.key, pool.paymentDigest(p));
        vm.expectRevert(Pool.InvalidProof.selector);
        spendBatch(spends, p, sigs);
        // The spend proof, presented as a split.
        uint256[8] memory none;
        Pool.SplitProof memory asSplit = Pool.SplitProof(e.proof, e.inputs[0], e.inputs[1], e.inputs[2], e.auth, none);
        p.nullifiers[0] = e.inputs[1];
        bytes memory sig = _sign(e.key, pool.paymentDigest(p));
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(asSplit, p, sig);
    }

    /// split[0]: one note into 8 outputs, withdrawing the relayer's fee (a rebalancing split):
    /// the 8 commitments inserted in order as one batch, the fee paid.
    function test_splitIntoEightOutputs() public {
        if (!_ready()) return;
        Entry memory e = _entry("split", 0);
        Pool.SplitProof memory s = _splitProof(e);
        uint256 n0 = pool.nextIndex();
        uint256 fee = s.amount * UNIT;
        Pool.Payment memory p = Pool.Payment(new uint256[](1), RELAYER, fee, RELAYER, block.timestamp + 60);
        p.nullifiers[0] = s.nullifier;
        bytes memory sig = _sign(e.key, pool.paymentDigest(p));
        vm.recordLogs();
        vm.prank(THIRD_PARTY);
        pool.split(s, p, sig);
        uint256 outs = 0;
        for (uint256 i = 0; i < 8; ++i) {
            if (s.outCms[i] != 0) ++outs;
        }
        vm.assertEq(outs, 8);
        vm.assertEq(pool.nextIndex(), n0 + 8);
        vm.assertEq(token.balanceOf(RELAYER), 1 + fee);
        vm.assertTrue(pool.isSpent(s.nullifier));
        // Inserted events: the outputs in order, each with the batch's one root.
        uint256 k = 0;
        bytes32 topic = keccak256("Inserted(uint256,uint256,uint256)");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(pool) || logs[i].topics[0] != topic) continue;
            vm.assertEq(uint256(logs[i].topics[1]), s.outCms[k]);
            (uint256 index, uint256 root) = abi.decode(logs[i].data, (uint256, uint256));
            vm.assertEq(index, n0 + k);
            vm.assertEq(root, pool.root());
            ++k;
        }
        vm.assertEq(k, 8);
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, s.nullifier));
        pool.split(s, p, sig);
    }

    /// split[1]: seed mode, a withdrawal of 256 cents to a recipient chosen now, the change note
    /// inserted.
    function test_splitWithdrawsAndInsertsChange() public {
        if (!_ready()) return;
        Entry memory e = _entry("split", 1);
        Pool.SplitProof memory s = _splitProof(e);
        uint256 n0 = pool.nextIndex();
        uint256 outs = 0;
        for (uint256 i = 0; i < 8; ++i) {
            if (s.outCms[i] != 0) ++outs;
        }
        Pool.Payment memory p = Pool.Payment(new uint256[](1), address(0xB0B), 0, address(0), block.timestamp);
        p.nullifiers[0] = s.nullifier;
        pool.split(s, p, _sign(e.key, pool.paymentDigest(p)));
        vm.assertEq(token.balanceOf(address(0xB0B)), s.amount * UNIT);
        vm.assertEq(pool.nextIndex(), n0 + outs);
        vm.assertEq(outs, 1);
    }

    function test_splitRejectsChangedOutput() public {
        if (!_ready()) return;
        Entry memory e = _entry("split", 0);
        Pool.SplitProof memory s = _splitProof(e);
        Pool.Payment memory p = Pool.Payment(new uint256[](1), address(0xB0B), 0, address(0), block.timestamp);
        p.nullifiers[0] = s.nullifier;
        bytes memory sig = _sign(e.key, pool.paymentDigest(p));
        for (uint256 i = 0; i < 8; i += 7) {
            uint256 keep = s.outCms[i];
            s.outCms[i] = keep ^ 1;
            vm.expectRevert(Pool.InvalidProof.selector);
            pool.split(s, p, sig);
            s.outCms[i] = keep;
        }
        s.amount += 1;
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(s, p, sig);
        s.amount -= 1;
        pool.split(s, p, sig);
        vm.assertTrue(pool.isSpent(s.nullifier));
    }

    // --------------------------------------------------------------------------------------- gas
    // Transactions as a relayer pays them (utils/TxGas.sol): 21,000 + calldata + execution with
    // cold accounts and storage. Printed as "GAS <name> <n>" lines for scripts/gas.sh. The
    // recipient holds no tokens before (its balance slot is created: the costliest case); the fee
    // goes to a relayer that already holds tokens.

    function _log(string memory name, TxCost memory t) internal view {
        console.log(string.concat("GAS ", name, "_tx"), t.total);
        console.log(string.concat("GAS ", name, "_execution"), t.execution);
        console.log(string.concat("GAS ", name, "_calldata"), t.calldataGas);
        console.log(string.concat("GAS ", name, "_calldata_bytes"), t.calldataBytes);
    }

    /// The public inputs of `spends` as the Pool hands them to the verifier.
    function _verifierInputs(SpendProof[] memory spends) internal pure returns (bytes32[][] memory x) {
        x = new bytes32[][](spends.length);
        for (uint256 i = 0; i < spends.length; ++i) {
            x[i] = new bytes32[](4);
            x[i][0] = bytes32(spends[i].root);
            x[i][1] = bytes32(spends[i].nullifier);
            x[i][2] = bytes32(spends[i].value);
            x[i][3] = bytes32(uint256(uint160(spends[i].auth)));
        }
    }

    /// spendBatch with 1, 4, 8 and 17 proofs (each signed, a fee to the relayer), each from the same
    /// fresh state, and the verifyBatch call it makes measured alone (its frame).
    /// forge-config: default.isolate = true
    function test_gasSpendBatch() public {
        if (!_ready()) return;
        console.log("GAS pool_spend_proof_bytes", _entry("spend", 0).proof.length);
        uint256[4] memory sizes = [uint256(1), 4, 8, 17];
        uint256 snap = vm.snapshotState();
        for (uint256 j = 0; j < sizes.length; ++j) {
            uint256 n = sizes[j];
            if (!vm.keyExistsJson(json, string.concat(".spend[", vm.toString(n - 1), "]"))) continue;
            vm.revertToState(snap);
            snap = vm.snapshotState();
            (SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs,) =
                _batch(0, n, address(0xB0B0), 100);
            (bytes[] memory proofs,) = proofsAndInputs(spends);
            uint256 verify = measureCall(
                address(pool.SPEND_VERIFIER()),
                abi.encodeCall(IBatchProofVerifier.verifyBatch, (proofs, _verifierInputs(spends)))
            );
            TxCost memory t = measureTx(THIRD_PARTY, address(pool), spendBatchCalldata(spends, p, sigs));
            vm.assertTrue(pool.isSpent(spends[n - 1].nullifier));
            string memory name = string.concat("pool_spendBatch", vm.toString(n));
            _log(name, t);
            console.log(string.concat("GAS ", name, "_verify"), verify);
        }
    }

    /// forge-config: default.isolate = true
    function test_gasSplit() public {
        if (!_ready()) return;
        uint256 snap = vm.snapshotState();
        for (uint256 j = 0; j < 2; ++j) {
            vm.revertToState(snap);
            snap = vm.snapshotState();
            Entry memory e = _entry("split", j);
            Pool.SplitProof memory s = _splitProof(e);
            // split[0] rebalances (its amount is the relayer's fee); split[1] pays a fresh recipient.
            Pool.Payment memory p = j == 0
                ? Pool.Payment(new uint256[](1), RELAYER, s.amount * UNIT, RELAYER, block.timestamp)
                : Pool.Payment(new uint256[](1), address(0xB0B0), 100, RELAYER, block.timestamp);
            p.nullifiers[0] = s.nullifier;
            bytes memory data = abi.encodeCall(Pool.split, (s, p, _sign(e.key, pool.paymentDigest(p))));
            bytes[] memory proofs = new bytes[](1);
            proofs[0] = s.proof;
            bytes32[][] memory inputs = new bytes32[][](1);
            inputs[0] = _bytes32s(e.inputs);
            uint256 verify = measureCall(
                address(pool.SPLIT_VERIFIER()), abi.encodeCall(IBatchProofVerifier.verifyBatch, (proofs, inputs))
            );
            TxCost memory t = measureTx(THIRD_PARTY, address(pool), data);
            uint256 outs = 0;
            for (uint256 i = 0; i < 8; ++i) {
                if (s.outCms[i] != 0) ++outs;
            }
            string memory name = j == 0 ? "pool_split8" : "pool_split1";
            _log(name, t);
            console.log(string.concat("GAS ", name, "_outputs"), outs);
            console.log(string.concat("GAS ", name, "_verify"), verify);
        }
    }

    function _bytes32s(uint256[] memory a) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            b[i] = bytes32(a[i]);
        }
    }
}
