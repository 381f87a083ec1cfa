// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {console} from "./utils/TestBase.sol";
import {BatchVerifierBase} from "./BatchVerifierBase.sol";

/// Mutation campaign: changes to every section of real spend proofs (each commitment, the
/// sumcheck univariates and evaluations, Libra, the Gemini folds and evaluations, Shplonk, the KZG
/// quotient, the pairing-point limbs) with random field changes, swapped and foreign points and
/// values, points off the curve, negated and doubled points, the identity, values >= p or >= q.
/// Every mutated proof goes to bb's verifier alone, to the batch verifier alone, and to the batch
/// verifier hidden at a random position among valid proofs; the three verdicts must agree (bb
/// rejects them all). The seed is fixed, so the campaign is the same on every run.
contract BatchSpendVerifierMutationsTest is BatchVerifierBase {
    uint256 internal constant SEED = 0xba7c4;
    uint256 internal constant REPETITIONS = 6;

    enum Kind {
        Limb,
        G1,
        Fr
    }

    struct Section {
        string name;
        uint256 offset;
        uint256 words;
        Kind kind;
    }

    Section[] internal sections;
    string[8] internal REASONS = [
        "ProofValueOutOfRange(uint256)",
        "PointNotOnCurve(uint256)",
        "DegenerateChallenge(uint256)",
        "SumcheckFailed(uint256)",
        "LibraConsistencyFailed(uint256)",
        "PairingPointsNotDefault(uint256)",
        "BatchPairingFailed()",
        "other"
    ];
    uint256[8] internal tally;

    function _tally(bytes4 why) internal {
        for (uint256 i = 0; i + 1 < REASONS.length; ++i) {
            if (why == bytes4(keccak256(bytes(REASONS[i])))) {
                ++tally[i];
                return;
            }
        }
        ++tally[REASONS.length - 1];
    }

    function setUp() public override {
        super.setUp();
        if (address(batch) == address(0) || address(batch).code.length == 0) return;
        uint256 logN = batch.LOG_CIRCUIT_SIZE();
        uint256 off = 0;
        off = _add("pairing point limbs", off, 8, Kind.Limb);
        off = _add("gemini masking commitment", off, 2, Kind.G1);
        off = _add("w1", off, 2, Kind.G1);
        off = _add("w2", off, 2, Kind.G1);
        off = _add("w3", off, 2, Kind.G1);
        off = _add("lookup read counts", off, 2, Kind.G1);
        off = _add("lookup read tags", off, 2, Kind.G1);
        off = _add("w4", off, 2, Kind.G1);
        off = _add("lookup inverses", off, 2, Kind.G1);
        off = _add("z_perm", off, 2, Kind.G1);
        off = _add("libra concatenation commitment", off, 2, Kind.G1);
        off = _add("libra sum", off, 1, Kind.Fr);
        for (uint256 r = 0; r < logN; ++r) {
            off = _add(string.concat("sumcheck univariate ", vm.toString(r)), off, 9, Kind.Fr);
        }
        off = _add("sumcheck evaluations", off, 42, Kind.Fr);
        off = _add("libra evaluation", off, 1, Kind.Fr);
        off = _add("libra grand sum commitment", off, 2, Kind.G1);
        off = _add("libra quotient commitment", off, 2, Kind.G1);
        for (uint256 j = 0; j + 1 < logN; ++j) {
            off = _add(string.concat("gemini fold commitment ", vm.toString(j)), off, 2, Kind.G1);
        }
        off = _add("gemini evaluations", off, logN, Kind.Fr);
        off = _add("libra polynomial evaluations", off, 4, Kind.Fr);
        off = _add("shplonk quotient commitment", off, 2, Kind.G1);
        off = _add("kzg quotient commitment", off, 2, Kind.G1);
        require(off == batch.PROOF_SIZE(), "the test's proof layout differs from the verifier's");
    }

    function _add(string memory name, uint256 off, uint256 words, Kind kind) internal returns (uint256) {
        sections.push(Section(name, off, words, kind));
        return off + 32 * words;
    }

    function _kinds(Kind kind) internal pure returns (uint256) {
        return kind == Kind.G1 ? 11 : kind == Kind.Fr ? 8 : 4;
    }

    /// Applies mutation `kind` to section `s` of proof (a copy of proof j), with randomness n.
    /// Returns a description.
    function _mutate(bytes memory proof, uint256 j, Section memory s, uint256 kind, uint256 n)
        internal
        view
        returns (string memory what)
    {
        uint256 other = (j + 1 + _rand(n, 1) % (proofs.length - 1)) % proofs.length;
        if (s.kind == Kind.G1) {
            uint256 off = s.offset;
            uint256 x = _word(proof, off);
            uint256 y = _word(proof, off + 32);
            if (kind == 0) {
                (x, y) = _g1Mul(_rand(n, 2) % P);
                what = "random point on the curve";
            } else if (kind == 1) {
                y = y == 0 ? 0 : Q - y;
                if (x == 0 && y == 0) (x, y) = (1, 2);
                what = "negated point";
            } else if (kind == 2) {
                y = addmod(y, 1, Q);
                what = "y + 1 (off the curve)";
            } else if (kind == 3) {
                x = _rand(n, 3) % Q;
                what = "random x (off the curve)";
            } else if (kind == 4) {
                y = y + Q;
                what = "y + q (not canonical)";
            } else if (kind == 5) {
                x = x + Q;
                what = "x + q (not canonical)";
            } else if (kind == 6) {
                (x, y) = x == 0 && y == 0 ? (uint256(1), uint256(2)) : (uint256(0), uint256(0));
                what = "identity";
            } else if (kind == 7) {
                // swap with another commitment of the same proof
                Section memory t = _otherSection(s, Kind.G1, n);
                uint256 sx = _word(proof, t.offset);
                uint256 sy = _word(proof, t.offset + 32);
                if (sx == x && sy == y) (sx, sy) = _g1Mul(7);
                _setWord(proof, t.offset, x);
                _setWord(proof, t.offset + 32, y);
                (x, y) = (sx, sy);
                what = string.concat("swapped with ", t.name);
            } else if (kind == 8) {
                x = _word(proofs[other], off);
                y = _word(proofs[other], off + 32);
                if (x == _word(proof, off) && y == _word(proof, off + 32)) (x, y) = _g1Mul(3);
                what = "the same commitment of another proof";
            } else if (kind == 9) {
                (bool ok, bytes memory ret) = address(6).staticcall(abi.encode(x, y, x, y));
                require(ok, "ecAdd");
                (x, y) = abi.decode(ret, (uint256, uint256));
                if (x == 0 && y == 0) (x, y) = (1, 2);
                what = "doubled point";
            } else {
                x = x ^ (uint256(1) << (_rand(n, 4) % 254));
                what = "one bit of x flipped";
            }
            _setWord(proof, off, x);
            _setWord(proof, off + 32, y);
            return what;
        }
        uint256 o = s.offset + 32 * (_rand(n, 5) % s.words);
        uint256 v = _word(proof, o);
        uint256 w;
        if (s.kind == Kind.Limb) {
            if (kind == 0) {
                w = _rand(n, 6) % (uint256(1) << 120);
                what = "random limb";
            } else if (kind == 1) {
                w = v + (uint256(1) << (((o - s.offset) / 32) % 2 == 0 ? 136 : 120));
                what = "limb too large";
            } else if (kind == 2) {
                w = v + 1;
                what = "limb + 1";
            } else {
                w = _word(proofs[other], o) ^ 1;
                what = "another proof's limb, changed";
            }
        } else {
            if (kind == 0) {
                w = _rand(n, 7) % P;
                what = "random field element";
            } else if (kind == 1) {
                w = addmod(v, 1, P);
                what = "plus one";
            } else if (kind == 2) {
                w = v + P;
                what = "plus p (not canonical)";
            } else if (kind == 3) {
                // swap with another field element of the proof (another section)
                Section memory t = _otherSection(s, Kind.Fr, n);
                uint256 o2 = t.offset + 32 * (_rand(n, 8) % t.words);
                w = _word(proof, o2);
                _setWord(proof, o2, v);
                what = string.concat("swapped with ", t.name);
            } else if (kind == 4) {
                w = _word(proofs[other], o);
                what = "the same value of another proof";
            } else if (kind == 5) {
                w = 0;
                what = "zero";
            } else if (kind == 6) {
                w = v == 0 ? 0 : P - v;
                what = "negated";
            } else {
                w = v ^ (uint256(1) << (_rand(n, 9) % 254));
                what = "one bit flipped";
            }
            if (w == v) w = addmod(v, 2, P);
        }
        if (w == v) w = v + 1;
        _setWord(proof, o, w);
    }

    function _otherSection(Section memory s, Kind kind, uint256 n) internal view returns (Section memory t) {
        uint256 start = _rand(n, 10) % sections.length;
        for (uint256 i = 0; i < sections.length; ++i) {
            t = sections[(start + i) % sections.length];
            if (t.kind == kind && t.offset != s.offset) return t;
        }
        revert("no other section");
    }

    /// One mutation: the mutated proof alone to both verifiers and hidden in a batch of 2..5.
    /// Returns (bb accepted, batch alone accepted, batch hidden accepted).
    function runOne(uint256 sectionIndex, uint256 kind, uint256 rep)
        external
        view
        returns (bool bbOk, bool alone, bool hidden, string memory what, bytes4 why)
    {
        uint256 n = uint256(keccak256(abi.encode(SEED, sectionIndex, kind, rep)));
        uint256 j = n % proofs.length;
        bytes memory proof = bytes.concat(proofs[j]);
        what = _mutate(proof, j, sections[sectionIndex], kind, n);
        bbOk = _bbAccepts(proof, inputs[j]);
        bytes[] memory one = new bytes[](1);
        bytes32[][] memory onePis = new bytes32[][](1);
        (one[0], onePis[0]) = (proof, inputs[j]);
        bytes memory err;
        (alone, err) = _batchVerdict(one, onePis);
        if (err.length >= 4) why = bytes4(err);
        uint256 k = 2 + (n >> 128) % 4;
        (bytes[] memory ps, bytes32[][] memory pis) = _slice(j + 1, k);
        uint256 pos = (n >> 64) % k;
        (ps[pos], pis[pos]) = (proof, inputs[j]);
        hidden = _batchAccepts(ps, pis);
    }

    /// The fixed-seed campaign: REPETITIONS x every section x every mutation kind of that section.
    function test_mutationCampaign() public {
        if (!_ready(6)) return;
        // ~2,400 x (bb's verify + two batch verifications) exceeds forge's per-test gas limit (2^30)
        vm.pauseGasMetering();
        uint256 total = 0;
        uint256 bbRejected = 0;
        for (uint256 rep = 0; rep < REPETITIONS; ++rep) {
            for (uint256 s = 0; s < sections.length; ++s) {
                uint256 kinds = _kinds(sections[s].kind);
                for (uint256 kind = 0; kind < kinds; ++kind) {
                    (bool bbOk, bool alone, bool hidden, string memory what, bytes4 why) = this.runOne(s, kind, rep);
                    _tally(why);
                    if (alone != bbOk || hidden != bbOk) {
                        console.log(string.concat("MISMATCH ", sections[s].name, ": ", what, " rep ", vm.toString(rep)));
                    }
                    vm.assertTrue(alone == bbOk, "batch verifier alone disagrees with bb's verifier");
                    vm.assertTrue(hidden == bbOk, "batch verifier (hidden in a batch) disagrees with bb's verifier");
                    if (!bbOk) ++bbRejected;
                    ++total;
                }
            }
        }
        console.log("mutated proofs", total);
        console.log("rejected by bb's verifier and by the batch verifier, alone and hidden", bbRejected);
        console.log("sections", sections.length);
        console.log("the batch verifier's reasons (proof alone):");
        for (uint256 i = 0; i < REASONS.length; ++i) {
            console.log(string.concat("  ", REASONS[i]), tally[i]);
        }
        vm.assertLe(2000, total);
        vm.assertEq(bbRejected, total, "bb's verifier accepted a mutated proof");
    }
}
