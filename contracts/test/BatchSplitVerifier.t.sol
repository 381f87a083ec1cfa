// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {console} from "./utils/TestBase.sol";
import {TxGas} from "./utils/TxGas.sol";
import {IBatchVerifier, IHonkVerifier} from "./BatchVerifierBase.sol";

/// The batch verifier generated from the split circuit's key (src/generated/BatchSplitVerifier.sol,
/// same generator; protocol v2's split key has 12 public inputs (root, nullifier, amount, auth,
/// out_cm[8]) and log n = 12, spend's 4 and 11) on the fixture's real split proofs: it is generic over
/// the verification key. Batches of copies of a split proof are accepted; each changed public input,
/// and a changed KZG quotient, is rejected with bb's verifier agreeing. Pool.split uses it with one
/// proof because that is cheaper than bb's SplitVerifier (test_gasSplitVerify).
contract BatchSplitVerifierTest is TxGas {
    uint256 internal constant P = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    function _deploy(string memory artifact) internal returns (address a) {
        try vm.deployCode(artifact) returns (address x) {
            a = x;
        } catch {
            a = address(0);
        }
    }

    function _accepts(address v, bytes memory data) internal view returns (bool) {
        (bool ok, bytes memory ret) = v.staticcall{gas: 30_000_000}(data);
        return ok && ret.length == 32 && abi.decode(ret, (bool));
    }

    function _batch(bytes memory proof, bytes32[] memory pis, uint256 k)
        internal
        pure
        returns (bytes[] memory ps, bytes32[][] memory ins)
    {
        ps = new bytes[](k);
        ins = new bytes32[][](k);
        for (uint256 i = 0; i < k; ++i) {
            ps[i] = proof;
            ins[i] = pis;
        }
    }

    function test_splitProofBatches() public {
        string memory json = readFixture("proofs.json");
        address split = _deploy("SplitVerifier.sol:SplitVerifier");
        address batch = _deploy("BatchSplitVerifier.sol:BatchSplitVerifier");
        if (bytes(json).length == 0 || split == address(0) || batch == address(0)) {
            string memory why = "missing proofs.json or src/generated/{Split,BatchSplit}Verifier.sol";
            console.log(why);
            vm.skip(true, why);
            return;
        }
        bytes memory proof = vm.parseJsonBytes(json, ".split[0].proof");
        bytes32[] memory pis = vm.parseJsonBytes32Array(json, ".split[0].public_inputs");
        vm.assertEq(IBatchVerifier(batch).NUMBER_OF_PUBLIC_INPUTS(), pis.length);
        vm.assertTrue(_accepts(split, abi.encodeCall(IHonkVerifier.verify, (proof, pis))));
        for (uint256 k = 1; k <= 3; ++k) {
            (bytes[] memory ps, bytes32[][] memory ins) = _batch(proof, pis, k);
            vm.assertTrue(_accepts(batch, abi.encodeCall(IBatchVerifier.verifyBatch, (ps, ins))), "split batch");
        }
        for (uint256 t = 0; t < pis.length; ++t) {
            bytes32[] memory bad = new bytes32[](pis.length);
            for (uint256 u = 0; u < pis.length; ++u) {
                bad[u] = pis[u];
            }
            bad[t] = bytes32(addmod(uint256(bad[t]), 1, P));
            vm.assertFalse(_accepts(split, abi.encodeCall(IHonkVerifier.verify, (proof, bad))));
            (bytes[] memory ps, bytes32[][] memory ins) = _batch(proof, pis, 3);
            ins[t % 3] = bad;
            vm.assertFalse(_accepts(batch, abi.encodeCall(IBatchVerifier.verifyBatch, (ps, ins))), "changed input");
        }
        // The KZG quotient (the last point) replaced by the generator: caught by the pairing only.
        bytes memory other = bytes.concat(proof);
        assembly {
            let last := add(add(other, 0x20), sub(mload(other), 0x40))
            mstore(last, 1)
            mstore(add(last, 0x20), 2)
        }
        vm.assertFalse(_accepts(split, abi.encodeCall(IHonkVerifier.verify, (other, pis))));
        (bytes[] memory qs, bytes32[][] memory qis) = _batch(proof, pis, 3);
        qs[1] = other;
        (bool ok, bytes memory err) = batch.staticcall(abi.encodeCall(IBatchVerifier.verifyBatch, (qs, qis)));
        vm.assertFalse(ok);
        vm.assertEq(bytes4(err), bytes4(keccak256("BatchPairingFailed()")));
    }

    /// bb's SplitVerifier.verify() and BatchSplitVerifier.verifyBatch() of the same single proof,
    /// each call as its own transaction (utils/TxGas.sol: the verifier's frame), printed as GAS lines
    /// for scripts/gas.sh. Pool.split takes the batch verifier with k = 1 only because it is
    /// cheaper: this fails if a new bb or circuit turns that around.
    /// forge-config: default.isolate = true
    function test_gasSplitVerify() public {
        string memory json = readFixture("proofs.json");
        address split = _deploy("SplitVerifier.sol:SplitVerifier");
        address batch = _deploy("BatchSplitVerifier.sol:BatchSplitVerifier");
        if (bytes(json).length == 0 || split == address(0) || batch == address(0)) {
            string memory why = "missing proofs.json or src/generated/{Split,BatchSplit}Verifier.sol";
            console.log(why);
            vm.skip(true, why);
            return;
        }
        bytes memory proof = vm.parseJsonBytes(json, ".split[0].proof");
        bytes32[] memory pis = vm.parseJsonBytes32Array(json, ".split[0].public_inputs");
        uint256 single = measureCall(split, abi.encodeCall(IHonkVerifier.verify, (proof, pis)));
        console.log("GAS split_bb_verify", single);
        for (uint256 k = 1; k <= 2; ++k) {
            (bytes[] memory ps, bytes32[][] memory ins) = _batch(proof, pis, k);
            uint256 g = measureCall(batch, abi.encodeCall(IBatchVerifier.verifyBatch, (ps, ins)));
            console.log(string.concat("GAS split_batch_verify_k", vm.toString(k)), g);
            if (k == 1) vm.assertLt(g, single, "the batch verifier with one split proof costs more than bb's");
        }
        console.log("GAS split_proof_bytes", proof.length);
    }
}
