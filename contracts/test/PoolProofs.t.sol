// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {console} from "./utils/TestBase.sol";
import {TxGas} from "./utils/TxGas.sol";
import {Pool} from "../src/Pool.sol";
import {IProofVerifier} from "../src/IProofVerifier.sol";
import {TestToken} from "../src/test/TestToken.sol";

/// The Pool with bb's real verifiers (src/generated, made by scripts/gen_verifiers.sh) and real
/// proofs made by the C++ engine: build/fixtures/proofs.json, written by `bucketpay-fixtures --proofs`.
///
/// proofs.json format (hex strings are 0x + 64 digits unless noted):
///   {
///     "recipient": "0x<20-byte address>",        // the address every proof pays
///     "root": "0x..",                             // the root after all deposits (the proofs' root)
///     "deposits": [{"pk": "0x..", "value": <number, cents>, "r": "0x..", "commitment": "0x..",
///                   "leaf_index": <number>}, ...], // in order: leaf i = deposit i
///     "spend": [{"proof": "0x<bytes>", "public_inputs": ["0x..", x4], "note_id": n, "amount": n}, ...],
///     "split": [{"proof": "0x<bytes>", "public_inputs": ["0x..", x6], "note_id": n, "amount": n}, ...]
///   }
/// spend public inputs [root, nullifier, value, recipient]; split [root, nullifier, amount,
/// recipient, out_cm1, out_cm2]. At least 4 spends and 1 split. Every test skips, saying why, when
/// the fixture or the generated verifiers are missing.
contract PoolProofsTest is TxGas {
    uint256 internal constant UNIT = 10_000;

    TestToken internal token;
    Pool internal pool;
    string internal json;
    address internal recipient;
    string internal missing;

    function setUp() public {
        json = readFixture("proofs.json");
        if (bytes(json).length == 0) {
            missing = string.concat(fixturesDir(), "/proofs.json (written by bucketpay-fixtures --proofs)");
            return;
        }
        address spendV = _deploy("SpendVerifier.sol:SpendVerifier");
        address splitV = _deploy("SplitVerifier.sol:SplitVerifier");
        if (spendV == address(0) || splitV == address(0)) {
            missing = "src/generated/{Spend,Split}Verifier.sol (scripts/gen_verifiers.sh build/circuits src/generated)";
            json = "";
            return;
        }
        token = new TestToken();
        pool = new Pool(token, UNIT, IProofVerifier(spendV), IProofVerifier(splitV));
        recipient = vm.parseJsonAddress(json, ".recipient");
        // Re-create the engine's tree on chain: same deposits, same order.
        uint256 n = jsonLength(json, ".deposits");
        token.mint(address(this), 1e30);
        token.approve(address(pool), type(uint256).max);
        for (uint256 i = 0; i < n; ++i) {
            string memory d = at(".deposits", i);
            uint256 pk = vm.parseJsonUint(json, string.concat(d, ".pk"));
            uint256 value = vm.parseJsonUint(json, string.concat(d, ".value"));
            uint256 r = vm.parseJsonUint(json, string.concat(d, ".r"));
            pool.deposit(pk, value, r);
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
    }

    function _entry(string memory kind, uint256 i) internal view returns (Entry memory e) {
        string memory k = at(string.concat(".", kind), i);
        e.proof = vm.parseJsonBytes(json, string.concat(k, ".proof"));
        e.inputs = vm.parseJsonUintArray(json, string.concat(k, ".public_inputs"));
    }

    function _spend(Entry memory e) internal {
        pool.spend(e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3])));
    }

    function _split(Entry memory e) internal {
        pool.split(
            e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3])), e.inputs[4], e.inputs[5]
        );
    }

    /// The on-chain tree (commitments computed by the contract) has the engine's root, and each
    /// deposit's commitment is the engine's.
    function test_chainTreeMatchesEngine() public {
        if (!_ready()) return;
        vm.assertEq(pool.root(), vm.parseJsonUint(json, ".root"), "root");
        vm.assertEq(_entry("spend", 0).inputs[0], pool.root(), "the proofs' root");
    }

    function test_spendPaysOnce() public {
        if (!_ready()) return;
        Entry memory e = _entry("spend", 0);
        vm.assertEq(address(uint160(e.inputs[3])), recipient);
        _spend(e);
        vm.assertEq(token.balanceOf(recipient), e.inputs[2] * UNIT);
        vm.assertTrue(pool.isSpent(e.inputs[1]));
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, e.inputs[1]));
        _spend(e);
    }

    function test_spendBatch() public {
        if (!_ready()) return;
        uint256 n = 3;
        Pool.SpendRequest[] memory qs = new Pool.SpendRequest[](n);
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            Entry memory e = _entry("spend", i + 1);
            qs[i] = Pool.SpendRequest(e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3])));
            total += e.inputs[2];
        }
        pool.spendBatch(qs);
        vm.assertEq(token.balanceOf(recipient), total * UNIT);
    }

    function test_spendRejectsChangedInputs() public {
        if (!_ready()) return;
        Entry memory e = _entry("spend", 0);
        address to = address(uint160(e.inputs[3]));
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(e.proof, e.inputs[0], e.inputs[1], e.inputs[2] + 1, to);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(0xdead));
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(e.proof, e.inputs[0], e.inputs[1] ^ 1, e.inputs[2], to);
        // A tampered proof byte.
        bytes memory bad = bytes.concat(e.proof); // a copy: e.proof is reused below
        bad[100] = bytes1(uint8(bad[100]) ^ 1);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(bad, e.inputs[0], e.inputs[1], e.inputs[2], to);
        // Unknown root (a later root would be known; a made-up one is not).
        vm.expectRevert(abi.encodeWithSelector(Pool.UnknownRoot.selector, e.inputs[0] ^ 1));
        pool.spend(e.proof, e.inputs[0] ^ 1, e.inputs[1], e.inputs[2], to);
        // Still spendable after all that.
        _spend(e);
    }

    /// A proof of one circuit does not pass the other circuit's verifier.
    function test_wrongCircuitRejected() public {
        if (!_ready()) return;
        Entry memory s = _entry("split", 0);
        Entry memory p = _entry("spend", 0);
        // The split proof, presented as a spend of its first four inputs.
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.spend(s.proof, s.inputs[0], s.inputs[1], s.inputs[2], address(uint160(s.inputs[3])));
        // The spend proof, presented as a split.
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(p.proof, p.inputs[0], p.inputs[1], p.inputs[2], address(uint160(p.inputs[3])), 0, 0);
    }

    function test_splitWithdrawsAndInsertsChange() public {
        if (!_ready()) return;
        Entry memory e = _entry("split", 0);
        uint256 n0 = pool.nextIndex();
        uint256 outs = (e.inputs[4] != 0 ? 1 : 0) + (e.inputs[5] != 0 ? 1 : 0);
        _split(e);
        vm.assertEq(token.balanceOf(address(uint160(e.inputs[3]))), e.inputs[2] * UNIT);
        vm.assertEq(pool.nextIndex(), n0 + outs);
        vm.assertTrue(pool.isSpent(e.inputs[1]));
        vm.expectRevert(abi.encodeWithSelector(Pool.NullifierAlreadySpent.selector, e.inputs[1]));
        _split(e);
    }

    function test_splitRejectsChangedOutput() public {
        if (!_ready()) return;
        Entry memory e = _entry("split", 0);
        vm.expectRevert(Pool.InvalidProof.selector);
        pool.split(
            e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3])), e.inputs[4] ^ 1, e.inputs[5]
        );
    }

    // --------------------------------------------------------------------------------------- gas
    // Transactions as a submitter pays them (utils/TxGas.sol): 21,000 + calldata + execution with
    // cold accounts and storage. Printed as "GAS <name> <n>" lines for scripts/gas.sh. The
    // recipient holds no tokens before (its balance slot is created: the costliest case) unless the
    // name says otherwise.

    function _log(string memory name, TxCost memory t) internal view {
        console.log(string.concat("GAS ", name, "_tx"), t.total);
        console.log(string.concat("GAS ", name, "_execution"), t.execution);
        console.log(string.concat("GAS ", name, "_calldata"), t.calldataGas);
        console.log(string.concat("GAS ", name, "_calldata_bytes"), t.calldataBytes);
    }

    function _spendData(Entry memory e) internal pure returns (bytes memory) {
        return abi.encodeCall(Pool.spend, (e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3]))));
    }

    function test_gasSpend() public {
        if (!_ready()) return;
        Entry memory e = _entry("spend", 0);
        bytes32[] memory inputs = new bytes32[](4);
        for (uint256 i = 0; i < 4; ++i) {
            inputs[i] = bytes32(e.inputs[i]);
        }
        // verify() alone: the call the Pool makes (its frame; the Pool also pays 2,600 for the cold
        // verifier account and copies the proof into memory for the call).
        uint256 v = measureCall(address(pool.SPEND_VERIFIER()), abi.encodeCall(IProofVerifier.verify, (e.proof, inputs)));
        TxCost memory t = measureTx(address(this), address(pool), _spendData(e), addrs(address(token), address(pool.SPEND_VERIFIER())));
        vm.assertEq(token.balanceOf(recipient), e.inputs[2] * UNIT);
        _log("pool_spend", t);
        console.log("GAS pool_spend_verify", v);
        console.log("GAS pool_spend_proof_bytes", e.proof.length);
        // A recipient that already holds tokens (a merchant's usual case).
        Entry memory f = _entry("spend", 1);
        t = measureTx(address(this), address(pool), _spendData(f), addrs(address(token), address(pool.SPEND_VERIFIER())));
        _log("pool_spend_funded_recipient", t);
    }

    function _batchData(uint256 n) internal view returns (bytes memory) {
        Pool.SpendRequest[] memory qs = new Pool.SpendRequest[](n);
        for (uint256 i = 0; i < n; ++i) {
            Entry memory e = _entry("spend", i);
            qs[i] = Pool.SpendRequest(e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3])));
        }
        return abi.encodeCall(Pool.spendBatch, (qs));
    }

    /// spendBatch with 1, 4 and 17 proofs, each from the same fresh state (the fixture has 17 spend
    /// proofs; an older one with fewer leaves the 17-proof row to scripts/gas.sh's extrapolation).
    function test_gasSpendBatch() public {
        if (!_ready()) return;
        address[] memory touched = addrs(address(token), address(pool.SPEND_VERIFIER()));
        uint256 snap = vm.snapshotState();
        TxCost memory one = measureTx(address(this), address(pool), _batchData(1), touched);
        vm.revertToState(snap);
        TxCost memory four = measureTx(address(this), address(pool), _batchData(4), touched);
        vm.assertEq(pool.isSpent(_entry("spend", 3).inputs[1]), true);
        _log("pool_spendBatch1", one);
        _log("pool_spendBatch4", four);
        if (vm.keyExistsJson(json, ".spend[16]")) {
            vm.revertToState(snap);
            TxCost memory seventeen = measureTx(address(this), address(pool), _batchData(17), touched);
            for (uint256 i = 0; i < 17; ++i) {
                vm.assertEq(pool.isSpent(_entry("spend", i).inputs[1]), true);
            }
            _log("pool_spendBatch17", seventeen);
        }
    }

    function test_gasSplit() public {
        if (!_ready()) return;
        Entry memory e = _entry("split", 0);
        bytes memory data = abi.encodeCall(
            Pool.split,
            (e.proof, e.inputs[0], e.inputs[1], e.inputs[2], address(uint160(e.inputs[3])), e.inputs[4], e.inputs[5])
        );
        TxCost memory t = measureTx(
            address(this), address(pool), data, addrs(address(token), address(pool.SPLIT_VERIFIER()), pool.HASHER())
        );
        _log("pool_split", t);
        uint256 outs = (e.inputs[4] != 0 ? 1 : 0) + (e.inputs[5] != 0 ? 1 : 0);
        console.log("GAS pool_split_outputs", outs);
    }
}
