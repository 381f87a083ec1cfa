// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {console} from "./utils/TestBase.sol";
import {BatchVerifierBase, IBatchVerifier, IHonkVerifier} from "./BatchVerifierBase.sol";

interface IVkHash {
    function VK_HASH() external view returns (uint256);
}

/// The generated batch verifier (src/generated/BatchSpendVerifier.sol, docs/batch-verifier.md)
/// against bb's verifier (src/generated/SpendVerifier.sol) on the engine's real spend proofs:
/// valid batches of every size, public-input changes, shapes, a fuzzed bad proof at a fuzzed
/// position, its relations against bb's Solidity relations, and the gas table.
contract BatchSpendVerifierTest is BatchVerifierBase {
    uint256 internal constant MAX_BATCH = 17;

    /// Every batch of 1..17 consecutive proofs is accepted (starting at proof 0 and at proof 5, so
    /// each proof sits at several positions), and bb's verifier accepts each proof alone.
    function test_validBatchesOfEverySizeAccepted() public {
        if (!_ready(MAX_BATCH)) return;
        for (uint256 i = 0; i < proofs.length; ++i) {
            vm.assertTrue(_bbAccepts(proofs[i], inputs[i]), "bb's verifier accepts the fixture's proof");
        }
        for (uint256 k = 1; k <= MAX_BATCH; ++k) {
            for (uint256 first = 0; first < 6; first += 5) {
                uint256 mark = _memoryMark();
                (bytes[] memory ps, bytes32[][] memory pis) = _slice(first, k);
                (bool accepted, bytes memory err) = _batchVerdict(ps, pis);
                if (!accepted) {
                    console.log(
                        string.concat(
                            "k=",
                            vm.toString(k),
                            " first=",
                            vm.toString(first),
                            " error selector ",
                            vm.toString(uint256(uint32(bytes4(err))))
                        )
                    );
                }
                vm.assertTrue(accepted, "valid batch accepted");
                _memoryRelease(mark);
            }
        }
    }

    /// The same valid proof twice is a valid batch (the Pool's nullifier set refuses the second spend).
    function test_repeatedProofAccepted() public {
        if (!_ready(2)) return;
        (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, 3);
        ps[2] = ps[0];
        pis[2] = pis[0];
        vm.assertTrue(_batchAccepts(ps, pis));
    }

    /// Every public input of every proof changed (plus one, a random field element, plus p: not
    /// canonical), with the proof alone and in the middle of a batch of three: rejected by both
    /// verifiers.
    function test_everyPublicInputChangeRejected() public {
        if (!_ready(3)) return;
        uint256 cases = 0;
        for (uint256 j = 0; j < proofs.length; ++j) {
            for (uint256 t = 0; t < inputs[j].length; ++t) {
                uint256 x = uint256(inputs[j][t]);
                uint256[3] memory changed = [addmod(x, 1, P), _rand(j, t) % P, x + P];
                for (uint256 c = 0; c < 3; ++c) {
                    uint256 mark = _memoryMark();
                    bytes32[] memory bad = _copy(inputs[j]);
                    bad[t] = bytes32(changed[c]);
                    vm.assertFalse(_bbAccepts(proofs[j], bad), "bb accepted a changed public input");
                    bytes[] memory one = new bytes[](1);
                    bytes32[][] memory onePis = new bytes32[][](1);
                    (one[0], onePis[0]) = (proofs[j], bad);
                    vm.assertFalse(_batchAccepts(one, onePis), "changed public input accepted alone");
                    (bytes[] memory ps, bytes32[][] memory pis) = _slice(j + proofs.length - 1, 3);
                    pis[1] = bad;
                    vm.assertFalse(_batchAccepts(ps, pis), "changed public input accepted in a batch");
                    ++cases;
                    _memoryRelease(mark);
                }
            }
        }
        console.log("public-input changes rejected", cases);
    }

    /// Two proofs' public inputs swapped (every pair among the first eight) are rejected.
    function test_swappedPublicInputsRejected() public {
        if (!_ready(8)) return;
        for (uint256 a = 0; a < 8; ++a) {
            for (uint256 b = a + 1; b < 8; ++b) {
                uint256 mark = _memoryMark();
                (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, 8);
                (pis[a], pis[b]) = (pis[b], pis[a]);
                vm.assertFalse(_batchAccepts(ps, pis), "swapped public inputs accepted");
                vm.assertFalse(_bbAccepts(ps[a], pis[a]));
                _memoryRelease(mark);
            }
        }
    }

    /// Malformed batches: empty, arrays of different lengths, a proof one word short or long, a
    /// wrong number of public inputs. Each reverts with the error naming it.
    function test_malformedBatchesRevert() public {
        if (!_ready(2)) return;
        bytes4 shape = bytes4(keccak256("BatchShape()"));
        bytes4 proofShape = bytes4(keccak256("ProofShape(uint256)"));
        (bool ok, bytes memory err) = _batchVerdict(new bytes[](0), new bytes32[][](0));
        vm.assertFalse(ok);
        vm.assertEq(bytes4(err), shape);
        (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, 2);
        bytes32[][] memory onePis = new bytes32[][](1);
        onePis[0] = pis[0];
        (ok, err) = _batchVerdict(ps, onePis);
        vm.assertFalse(ok);
        vm.assertEq(bytes4(err), shape);
        ps[1] = bytes.concat(ps[1], bytes32(0));
        (ok, err) = _batchVerdict(ps, pis);
        vm.assertFalse(ok);
        vm.assertEq(keccak256(err), keccak256(abi.encodeWithSelector(proofShape, 1)));
        (ps, pis) = _slice(0, 2);
        bytes memory shorter = new bytes(ps[0].length - 32);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = ps[0][i];
        }
        ps[0] = shorter;
        (ok, err) = _batchVerdict(ps, pis);
        vm.assertEq(keccak256(err), keccak256(abi.encodeWithSelector(proofShape, 0)));
        (ps, pis) = _slice(0, 2);
        bytes32[] memory five = new bytes32[](pis[1].length + 1);
        for (uint256 i = 0; i < pis[1].length; ++i) {
            five[i] = pis[1][i];
        }
        pis[1] = five;
        (ok, err) = _batchVerdict(ps, pis);
        vm.assertEq(keccak256(err), keccak256(abi.encodeWithSelector(proofShape, 1)));
    }

    /// A non-default pairing-point object (a recursion claim: two valid points, [1] and [2], as
    /// limbs) in a proof of this non-recursive circuit: bb's verifier rejects it (the limbs are
    /// public inputs of the proof), and the batch verifier refuses any recursion claim, alone and
    /// in a batch, naming the proof.
    function test_pairingPointObjectRejected() public {
        if (!_ready(2)) return;
        uint256[8] memory limbs = [uint256(1), 0, 2, 0, 1, 0, 2, 0];
        (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, 2);
        for (uint256 i = 0; i < 8; ++i) {
            _setWord(ps[1], 32 * i, limbs[i]);
        }
        vm.assertFalse(_bbAccepts(ps[1], pis[1]));
        (bool ok, bytes memory err) = _batchVerdict(ps, pis);
        vm.assertFalse(ok);
        vm.assertEq(keccak256(err), keccak256(abi.encodeWithSignature("PairingPointsNotDefault(uint256)", 1)));
        for (uint256 limb = 0; limb < 8; ++limb) {
            (ps, pis) = _slice(0, 1);
            _setWord(ps[0], 32 * limb, 1);
            vm.assertFalse(_bbAccepts(ps[0], pis[0]));
            (ok, err) = _batchVerdict(ps, pis);
            vm.assertEq(keccak256(err), keccak256(abi.encodeWithSignature("PairingPointsNotDefault(uint256)", 0)));
        }
    }

    /// Fuzz: a batch of 1..17 valid proofs with one word of one proof changed (a random field
    /// element, the word plus one, plus p or q, or one bit flipped) is rejected, and bb's verifier
    /// rejects that proof alone.
    function testFuzz_oneBadProofAnywhere(uint256 kSeed, uint256 posSeed, uint256 mutation) public {
        if (!_ready(MAX_BATCH)) return;
        uint256 k = 1 + kSeed % MAX_BATCH;
        uint256 pos = posSeed % k;
        (bytes[] memory ps, bytes32[][] memory pis) = _slice(kSeed / MAX_BATCH, k);
        uint256 off = 32 * (_rand(mutation, 0) % (ps[pos].length / 32));
        uint256 old = _word(ps[pos], off);
        uint256 kind = mutation % 4;
        uint256 v;
        if (kind == 0) v = _rand(mutation, 1) % P;
        else if (kind == 1) v = old + 1;
        else if (kind == 2) v = old + (mutation % 8 < 4 ? P : Q);
        else v = old ^ (uint256(1) << (_rand(mutation, 2) % 256));
        vm.assume(v != old);
        _setWord(ps[pos], off, v);
        vm.assertFalse(_bbAccepts(ps[pos], pis[pos]), "bb accepted the changed proof");
        vm.assertFalse(_batchAccepts(ps, pis), "batch with a changed proof accepted");
    }

    // ------------------------------------------------------------------------------ weights
    /// Shplonk's z of a proof, from bb's own transcript code: ZKTranscriptLib.generateTranscript of
    /// bb's non-optimized verifier (src/generated/SpendVerifierPlain.sol), called with the proof laid
    /// out as its Honk.ZKProof struct (all static: 382 words, sumcheck rows padded to 25).
    function _z(address transcriptLib, bytes memory proof, bytes32[] memory pis) internal view returns (uint256) {
        uint256 n = batch.LOG_CIRCUIT_SIZE();
        uint256[382] memory w;
        uint256 o = 0; // proof word
        // limbs, masking
        for (uint256 i = 0; i < 10; ++i) {
            w[i] = _word(proof, 32 * o++);
        }
        // w1, w2, w3
        for (uint256 i = 10; i < 16; ++i) {
            w[i] = _word(proof, 32 * o++);
        }
        // read counts, read tags
        for (uint256 i = 18; i < 22; ++i) {
            w[i] = _word(proof, 32 * o++);
        }
        // w4
        for (uint256 i = 16; i < 18; ++i) {
            w[i] = _word(proof, 32 * o++);
        }
        // lookup inverses, z_perm, libra[0]
        for (uint256 i = 22; i < 28; ++i) {
            w[i] = _word(proof, 32 * o++);
        }
        w[32] = _word(proof, 32 * o++); // libra sum
        for (uint256 i = 0; i < 9 * n; ++i) {
            w[33 + i] = _word(proof, 32 * o++);
        }
        for (uint256 i = 0; i < 42; ++i) {
            w[259 + i] = _word(proof, 32 * o++);
        }
        w[258] = _word(proof, 32 * o++); // libra evaluation
        // libra[1], libra[2]
        for (uint256 i = 28; i < 32; ++i) {
            w[i] = _word(proof, 32 * o++);
        }
        for (uint256 i = 0; i < 2 * (n - 1); ++i) {
            w[301 + i] = _word(proof, 32 * o++);
        }
        for (uint256 i = 0; i < n; ++i) {
            w[349 + i] = _word(proof, 32 * o++);
        }
        // libra evals, shplonk Q, kzg
        for (uint256 i = 0; i < 8; ++i) {
            w[374 + i] = _word(proof, 32 * o++);
        }
        require(32 * o == proof.length, "struct layout");
        (bool ok, bytes memory ret) = transcriptLib.staticcall(
            abi.encodeWithSelector(
                bytes4(keccak256("generateTranscript(Honk.ZKProof,bytes32[],uint256,uint256,uint256)")),
                w,
                pis,
                IVkHash(address(batch)).VK_HASH(),
                pis.length + 8,
                n
            )
        );
        require(ok, "bb's generateTranscript");
        // ZKTranscript: relation parameters (4), alphas (28), gate (25), libra (1), u (25), rho, r, nu, z
        return abi.decode(_bytes(ret, 32 * 86, 32 * 87), (uint256));
    }

    /// The same z from the transcript's definition (keccak chain over the proof's sections in bb's
    /// order), written here from the layout: must equal bb's, which shows the struct mapping above.
    function _zDirect(bytes memory proof, bytes32[] memory pis) internal view returns (uint256) {
        uint256 n = batch.LOG_CIRCUIT_SIZE();
        uint256 univariates = 928;
        uint256 evals = univariates + 288 * n;
        uint256 folds = evals + 32 * 47;
        uint256 geminiA = folds + 64 * (n - 1);
        uint256 shplonkQ = geminiA + 32 * (n + 4);
        uint256 c = uint256(
            keccak256(
                bytes.concat(bytes32(IVkHash(address(batch)).VK_HASH()), abi.encodePacked(pis), _bytes(proof, 0, 512))
            )
        ) % P;
        c = _absorb(c, proof, 512, 704); // beta, gamma
        c = _absorb(c, proof, 704, 832); // alpha
        c = uint256(keccak256(abi.encode(c))) % P; // gate
        c = _absorb(c, proof, 832, univariates); // libra
        for (uint256 r = 0; r < n; ++r) {
            c = _absorb(c, proof, univariates + 288 * r, univariates + 288 * (r + 1));
        }
        c = _absorb(c, proof, evals, folds); // rho
        c = _absorb(c, proof, folds, geminiA); // gemini r
        c = _absorb(c, proof, geminiA, shplonkQ); // nu
        c = _absorb(c, proof, shplonkQ, shplonkQ + 64); // z
        return c & ((uint256(1) << 127) - 1);
    }

    function _absorb(uint256 c, bytes memory proof, uint256 from, uint256 to) internal pure returns (uint256) {
        return uint256(keccak256(bytes.concat(bytes32(c), _bytes(proof, from, to)))) % P;
    }

    function _bytes(bytes memory b, uint256 from, uint256 to) internal pure returns (bytes memory out) {
        out = new bytes(to - from);
        for (uint256 i = from; i < to; ++i) {
            out[i - from] = b[i];
        }
    }

    function _addG(bytes memory proof, uint256 off, uint256 s) internal view {
        (uint256 gx, uint256 gy) = _g1Mul(s);
        (bool ok, bytes memory ret) =
            address(6).staticcall(abi.encode(_word(proof, off), _word(proof, off + 32), gx, gy));
        require(ok, "ecAdd");
        (uint256 x, uint256 y) = abi.decode(ret, (uint256, uint256));
        _setWord(proof, off, x);
        _setWord(proof, off + 32, y);
    }

    /// Three proofs with KZG quotients W_i + s_i G, s = (z1 - z2, z2 - z0, z0 - z1): each claim is
    /// false (bb rejects each proof), but sum(s_i) = 0 and sum(z_i s_i) = 0, so an UNWEIGHTED sum of
    /// the three claims would be exactly the sum of the valid ones and pass. The KZG quotient is not
    /// in the transcript (z_i do not change), so only the Fiat-Shamir weights, which hash the
    /// quotients, stop this. The batch verifier rejects it alone, hidden among valid proofs, and in
    /// every order.
    function test_claimsThatCancelWithoutWeightsRejected() public {
        if (!_ready(7)) return;
        address transcriptLib = _deploy("SpendVerifierPlain.sol:ZKTranscriptLib");
        vm.assertTrue(transcriptLib != address(0), "src/generated/SpendVerifierPlain.sol");
        (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, 3);
        uint256 kzg = ps[0].length - 64;
        uint256[3] memory z;
        for (uint256 i = 0; i < 3; ++i) {
            z[i] = _z(transcriptLib, ps[i], pis[i]);
            vm.assertEq(z[i], _zDirect(ps[i], pis[i]), "bb's transcript and the test's disagree on z");
        }
        uint256[3] memory s = [addmod(z[1], P - z[2], P), addmod(z[2], P - z[0], P), addmod(z[0], P - z[1], P)];
        vm.assertEq(addmod(addmod(s[0], s[1], P), s[2], P), 0);
        vm.assertEq(addmod(addmod(mulmod(z[0], s[0], P), mulmod(z[1], s[1], P), P), mulmod(z[2], s[2], P), P), 0);
        for (uint256 i = 0; i < 3; ++i) {
            _addG(ps[i], kzg, s[i]);
            vm.assertFalse(_bbAccepts(ps[i], pis[i]), "bb accepted a proof with a changed KZG quotient");
        }
        bytes4 pairingFailed = bytes4(keccak256("BatchPairingFailed()"));
        (bool ok, bytes memory err) = _batchVerdict(ps, pis);
        vm.assertFalse(ok);
        vm.assertEq(bytes4(err), pairingFailed);
        // reversed order, and among four valid proofs
        (bytes[] memory qs, bytes32[][] memory qis) = _slice(3, 7);
        for (uint256 i = 0; i < 3; ++i) {
            (qs[2 * i], qis[2 * i]) = (ps[2 - i], pis[2 - i]);
        }
        (ok, err) = _batchVerdict(qs, qis);
        vm.assertFalse(ok);
        vm.assertEq(bytes4(err), pairingFailed);
    }

    /// The same proof twice, its KZG quotient W changed to W + G in one copy and W - G in the other:
    /// both claims are false, but their unweighted sum is exactly twice the valid claim (whatever
    /// z is). Rejected.
    function test_twoCopiesWhoseErrorsCancelRejected() public {
        if (!_ready(1)) return;
        (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, 2);
        ps[1] = bytes.concat(ps[0]);
        pis[1] = pis[0];
        uint256 kzg = ps[0].length - 64;
        _addG(ps[0], kzg, 1);
        _addG(ps[1], kzg, P - 1);
        vm.assertFalse(_bbAccepts(ps[0], pis[0]));
        vm.assertFalse(_bbAccepts(ps[1], pis[1]));
        (bool ok, bytes memory err) = _batchVerdict(ps, pis);
        vm.assertFalse(ok);
        vm.assertEq(bytes4(err), bytes4(keccak256("BatchPairingFailed()")));
    }

    /// One proof's KZG quotient replaced by another valid point (caught only by the batched
    /// pairing), at every position of a batch of 17: rejected every time.
    function test_badKzgClaimAtEveryPositionRejected() public {
        if (!_ready(MAX_BATCH)) return;
        bytes4 pairingFailed = bytes4(keccak256("BatchPairingFailed()"));
        for (uint256 pos = 0; pos < MAX_BATCH; ++pos) {
            uint256 mark = _memoryMark();
            (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, MAX_BATCH);
            _addG(ps[pos], ps[pos].length - 64, pos + 1);
            (bool ok, bytes memory err) = _batchVerdict(ps, pis);
            vm.assertFalse(ok);
            vm.assertEq(bytes4(err), pairingFailed);
            _memoryRelease(mark);
        }
    }

    // ------------------------------------------------------------------------------ relations
    struct RelationParameters {
        uint256 eta;
        uint256 beta;
        uint256 gamma;
        uint256 publicInputsDelta;
    }

    /// The batch verifier's relation code (the generator's, behind BatchSpendVerifierRelations)
    /// equals bb's RelationsLib.accumulateRelationEvaluations (src/generated/SpendVerifierPlain.sol,
    /// bb's non-optimized verifier) on random inputs, including small values (0..3) in every slot
    /// so that selectors take their gate values. This covers the subrelations the spend circuit's
    /// proofs leave at zero (lookup, range, elliptic, memory, non-native field).
    function test_relationsMatchBb() public {
        address lib = _deploy("SpendVerifierPlain.sol:RelationsLib");
        address mine = _deploy("BatchSpendVerifier.sol:BatchSpendVerifierRelations");
        if (lib == address(0) || mine == address(0)) {
            string memory why = "missing src/generated/{SpendVerifierPlain,BatchSpendVerifier}.sol";
            console.log(why);
            vm.skip(true, why);
            return;
        }
        bytes4 sel =
            bytes4(keccak256("accumulateRelationEvaluations(uint256[41],Honk.RelationParameters,uint256[28],uint256)"));
        for (uint256 run = 0; run < 96; ++run) {
            uint256[42] memory evals;
            uint256[41] memory bbEvals;
            for (uint256 i = 1; i < 42; ++i) {
                uint256 r = _rand(run, i);
                // a third of the runs: small values (gate selector values, equal neighbours)
                evals[i] = run % 3 == 2 ? r % 4 : r % P;
                bbEvals[i - 1] = evals[i];
            }
            RelationParameters memory rp =
                RelationParameters(_rand(run, 100) % P, _rand(run, 101) % P, _rand(run, 102) % P, _rand(run, 103) % P);
            uint256 alpha = _rand(run, 104) % P;
            uint256 powEval = _rand(run, 105) % P;
            uint256[28] memory alphas;
            uint256 a = alpha;
            for (uint256 i = 0; i < 28; ++i) {
                alphas[i] = a;
                a = mulmod(a, alpha, P);
            }
            (bool ok1, bytes memory want) = lib.staticcall(abi.encodeWithSelector(sel, bbEvals, rp, alphas, powEval));
            vm.assertTrue(ok1, "bb's RelationsLib call");
            (bool ok2, bytes memory got) = mine.staticcall(
                abi.encodeWithSignature(
                    "relationSum(uint256[42],uint256,uint256,uint256,uint256,uint256,uint256)",
                    evals,
                    rp.eta,
                    rp.beta,
                    rp.gamma,
                    rp.publicInputsDelta,
                    alpha,
                    powEval
                )
            );
            vm.assertTrue(ok2, "relationSum call");
            vm.assertEq(abi.decode(got, (uint256)), abi.decode(want, (uint256)), "relation sum differs from bb's");
        }
    }

    /// What a caller such as Pool.spendBatch pays on top of verifyBatch to hand it k proofs from its
    /// own calldata: forwarding `bytes[] calldata` as is (one copy into the call's memory), or
    /// building the arrays from an array of request structs first (two copies). Printed as GAS lines.
    /// Both include the caller's call to the (cold) verifier.
    /// forge-config: default.isolate = true
    function test_gasForwarding() public {
        if (!_ready(MAX_BATCH)) return;
        BatchForwarder f = new BatchForwarder(batch);
        uint256[2] memory sizes = [uint256(8), 17];
        for (uint256 s = 0; s < sizes.length; ++s) {
            uint256 k = sizes[s];
            (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, k);
            BatchForwarder.Request[] memory rs = new BatchForwarder.Request[](k);
            for (uint256 i = 0; i < k; ++i) {
                rs[i] = BatchForwarder.Request(ps[i], pis[i]);
            }
            uint256 alone = gasOf(address(batch), abi.encodeCall(IBatchVerifier.verifyBatch, (ps, pis)));
            uint256 arrays = gasOf(address(f), abi.encodeCall(BatchForwarder.fromArrays, (ps, pis)));
            uint256 structs = gasOf(address(f), abi.encodeCall(BatchForwarder.fromRequests, (rs)));
            string memory n = vm.toString(k);
            console.log(string.concat("GAS forward_arrays_k", n, "_overhead_per_proof"), (arrays - alone) / k);
            console.log(string.concat("GAS forward_requests_k", n, "_overhead_per_proof"), (structs - alone) / k);
        }
    }

    /// Execution gas of one call to `to` made as its own transaction (utils/TxGas.sol: its
    /// frame's gas, every account cold; the test must run in isolation mode).
    function gasOf(address to, bytes memory data) internal returns (uint256) {
        return measureCall(to, data);
    }

    // ------------------------------------------------------------------------------ gas
    /// verifyBatch's execution gas per proof for k = 1, 2, 4, 8, 17 and bb's verify() per proof,
    /// each call measured alone with cold accounts (gasOf), and the calldata gas per proof of the
    /// verifyBatch call (EIP-2028). Printed as "GAS <name> <n>" lines; docs/batch-verifier.md has
    /// the table.
    /// forge-config: default.isolate = true
    function test_gasBatchVerify() public {
        if (!_ready(MAX_BATCH)) return;
        uint256 single = 0;
        for (uint256 i = 0; i < 8; ++i) {
            single += gasOf(address(bb), abi.encodeCall(IHonkVerifier.verify, (proofs[i], inputs[i])));
        }
        console.log("GAS bb_verify_per_proof", single / 8);
        uint256[5] memory sizes = [uint256(1), 2, 4, 8, 17];
        for (uint256 s = 0; s < sizes.length; ++s) {
            (bytes[] memory ps, bytes32[][] memory pis) = _slice(0, sizes[s]);
            bytes memory data = abi.encodeCall(IBatchVerifier.verifyBatch, (ps, pis));
            uint256 g = gasOf(address(batch), data);
            string memory n = vm.toString(sizes[s]);
            console.log(string.concat("GAS batch_verify_k", n), g);
            console.log(string.concat("GAS batch_verify_k", n, "_per_proof"), g / sizes[s]);
            console.log(string.concat("GAS batch_verify_k", n, "_calldata_per_proof"), calldataGas(data) / sizes[s]);
            // what the ABI's offsets and lengths add (a flat layout would not have them)
            uint256 payload = 0;
            for (uint256 i = 0; i < sizes[s]; ++i) {
                payload += calldataGas(ps[i]) + calldataGas(abi.encodePacked(pis[i]));
            }
            console.log(
                string.concat("GAS batch_verify_k", n, "_calldata_abi_overhead_per_proof"),
                (calldataGas(data) - payload) / sizes[s]
            );
        }
    }
}

/// A stand-in for the Pool's side of spendBatch (test only): hands k proofs to the batch verifier.
contract BatchForwarder {
    struct Request {
        bytes proof;
        bytes32[] inputs;
    }

    IBatchVerifier internal immutable VERIFIER;

    constructor(IBatchVerifier verifier) {
        VERIFIER = verifier;
    }

    function fromArrays(bytes[] calldata proofs, bytes32[][] calldata inputs) external view returns (bool) {
        return VERIFIER.verifyBatch(proofs, inputs);
    }

    function fromRequests(Request[] calldata requests) external view returns (bool) {
        bytes[] memory proofs = new bytes[](requests.length);
        bytes32[][] memory inputs = new bytes32[][](requests.length);
        for (uint256 i = 0; i < requests.length; ++i) {
            proofs[i] = requests[i].proof;
            inputs[i] = requests[i].inputs;
        }
        return VERIFIER.verifyBatch(proofs, inputs);
    }
}
