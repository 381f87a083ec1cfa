#!/usr/bin/env python3
"""Writes a batch verifier for one circuit's ZK UltraHonk (keccak) proofs, e.g. BatchSpendVerifier.sol.

Usage (python3 standard library only, offline):
    python3 contracts/tools/gen_batch_verifier.py --vk VK --g2 CRS/bn254_g2.dat --name BatchSpendVerifier
        --out DIR [--params src/poseidon2/poseidon2_params.h] [--source TEXT]
scripts/gen_verifiers.sh runs it in the build beside `bb write_solidity_verifier`, from the same
verification key, into contracts/src/generated (gitignored).

Inputs
- VK: the verification key `bb write_vk -t evm` writes (bb 5.0.0, UltraKeccakZKFlavor): three header
  words (log2 of the circuit size, number of public inputs including the 8 pairing-point limbs, the
  public inputs' row offset), then the 28 precomputed commitments (x, y) in the flavor's entity
  order (sigma_1..4, id_1..4, lagrange_first, lagrange_last, q_lookup, table_1..4, q_m, q_r, q_o, q_c,
  q_l, q_4, q_arith, q_delta_range, q_elliptic, q_memory, q_nnf, q_poseidon2_external,
  q_poseidon2_internal). The VK hash the transcript starts from is keccak256(VK) mod p, computed here
  (bb writes the same value to vk_hash). Every commitment is checked to be on BN254's G1.
- G2: the CRS's bn254_g2.dat ([x]_2, four 32-byte words x.c0 x.c1 y.c0 y.c1), checked on the twist.
- PARAMS: the committed Poseidon2 parameters (only the internal matrix diagonal is taken, for the
  Poseidon2 internal relation).

Output: NAME.sol with
- contract NAME: verifyBatch(bytes[] proofs, bytes32[][] publicInputs) returns true if every proof
  is valid and reverts otherwise. Each proof gets every check of bb's verifier (proof length, value
  ranges, keccak transcript, public-input delta, sumcheck, Libra consistency, Shplemini scalars); then
  ONE multi-scalar multiplication in which each verification-key commitment and the generator appear
  once, with their scalars summed over the proofs with Fiat-Shamir weights, and ONE pairing over the
  weighted sum of the proofs' KZG claims. docs/batch-verifier.md describes the algorithm and why it
  is sound. A proof that carries a recursion claim (non-zero pairing-point limbs; no proof of a
  non-recursive circuit does) is refused instead of aggregated.
- contract NAMERelations: the same sumcheck relation code behind an external function, so that a
  test can compare it with bb's own Solidity relations on random inputs.
Everything that depends on the circuit (log n, number of public inputs, the commitments, the proof
layout and memory map) is computed here from the VK; the flavor's constants (42 entities, 29
subrelations, degree-8 ZK sumcheck univariates, the 256-element Libra subgroup) are bb 5.0.0's.
"""
import argparse
import os
import re
import sys

P = 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001  # BN254 scalar field
Q = 0x30644E72E131A029B85045B68181585D97816A916871CA8D3C208C16D87CFD47  # BN254 base field
MASK127 = (1 << 127) - 1
# The Libra subgroup (order 256) generator bb uses (barretenberg's SUBGROUP_GENERATOR for BN254).
SUBGROUP_SIZE = 256
SUBGROUP_GENERATOR = 0x07B0C561A6148404F086204A9F36FFB0617942546750F230C893619174A57A76
# The generator of BN254's G2 in the EVM pairing precompile's word order (x.c1, x.c0, y.c1, y.c0).
G2_ONE = [
    0x198E9393920D483A7260BFB731FB5D25F1AA493335A9E71297E485B7AEF312C2,
    0x1800DEEF121F1E76426A00665E5C4479674322D4F75EDADD46DEBD5CD992F6ED,
    0x090689D0585FF075EC9E99AD690C3395BC4B313370B38EF355ACDADCD122975B,
    0x12C85EA5DB8C6DEB4AAB71808DCB408FE3D1E7690C43D37B4CE6CC0166FA7DAA,
]
PAIRING_LIMBS = 8  # the pairing-point object at the start of every proof (4 lo/hi limb pairs)
NUM_ENTITIES = 42  # evaluations in the proof: the Gemini masking polynomial + 41 flavor entities
NUM_UNSHIFTED = 37  # masking + 28 precomputed + 8 witness
NUM_VK = 28
UNIVARIATE = 9  # ZK sumcheck round univariates: degree 8, 9 evaluations at 0..8
LIBRA_EVALS = 4
VK_ENTITY_NAMES = [
    "sigma_1", "sigma_2", "sigma_3", "sigma_4", "id_1", "id_2", "id_3", "id_4", "lagrange_first",
    "lagrange_last", "q_lookup", "table_1", "table_2", "table_3", "table_4", "q_m", "q_r", "q_o", "q_c",
    "q_l", "q_4", "q_arith", "q_delta_range", "q_elliptic", "q_memory", "q_nnf", "q_poseidon2_external",
    "q_poseidon2_internal",
]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ------------------------------------------------------------------------------------ keccak256
_RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B,
    0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088,
    0x0000000080008009, 0x000000008000000A, 0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
    0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
_ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
_M64 = (1 << 64) - 1


def _keccak_f(a):
    for rc in _RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _M64) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                r = _ROT[x][y]
                b[y][(2 * x + 3 * y) % 5] = ((a[x][y] << r) | (a[x][y] >> (64 - r))) & _M64 if r else a[x][y]
        a = [[b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
        a[0][0] ^= rc
    return a


def keccak256(data: bytes) -> bytes:
    rate = 136
    msg = bytearray(data) + b"\x01" + b"\x00" * ((-len(data) - 1) % rate)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        block = msg[off:off + rate]
        for i in range(rate // 8):
            x, y = i % 5, i // 5
            a[x][y] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        a = _keccak_f(a)
    out = b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return out


def selector(signature: str) -> int:
    return int.from_bytes(keccak256(signature.encode())[:4], "big")


# ------------------------------------------------------------------------------------ inputs
def on_g1(x, y):
    return (x, y) == (0, 0) or (x < Q and y < Q and (y * y - x * x * x - 3) % Q == 0)


def fq2_mul(a, b):
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def on_g2_twist(x, y):
    # y^2 = x^3 + 3 / (9 + u) over Fq2 = Fq[u]/(u^2 + 1)
    b = (3 * 9 * pow(82, -1, Q) % Q, (-3) * pow(82, -1, Q) % Q)  # 3 / (9 + u) = 3 (9 - u) / 82
    lhs = fq2_mul(y, y)
    rhs = fq2_mul(fq2_mul(x, x), x)
    rhs = ((rhs[0] + b[0]) % Q, (rhs[1] + b[1]) % Q)
    return lhs == rhs


def parse_vk(path):
    data = open(path, "rb").read()
    if len(data) % 32 != 0:
        sys.exit(f"gen_batch_verifier.py: {path}: {len(data)} bytes is not a whole number of 32-byte words")
    words = [int.from_bytes(data[i:i + 32], "big") for i in range(0, len(data), 32)]
    if len(words) != 3 + 2 * NUM_VK:
        sys.exit(f"gen_batch_verifier.py: {path}: {len(words)} words, expected {3 + 2 * NUM_VK} "
                 "(3 header words and 28 commitments of bb 5.0.0's UltraKeccakZK flavor)")
    log_n, num_public, pub_offset = words[0], words[1], words[2]
    if not 3 <= log_n <= 25:
        sys.exit(f"gen_batch_verifier.py: {path}: log circuit size {log_n} out of range")
    if not PAIRING_LIMBS <= num_public <= 1000:
        sys.exit(f"gen_batch_verifier.py: {path}: {num_public} public inputs (must include the 8 pairing limbs)")
    if pub_offset >= 1 << 16:
        sys.exit(f"gen_batch_verifier.py: {path}: public input offset {pub_offset} out of range")
    points = [(words[3 + 2 * i], words[4 + 2 * i]) for i in range(NUM_VK)]
    for name, (x, y) in zip(VK_ENTITY_NAMES, points):
        if not on_g1(x, y):
            sys.exit(f"gen_batch_verifier.py: {path}: commitment {name} is not on BN254 G1")
    vk_hash = int.from_bytes(keccak256(data), "big") % P
    return log_n, num_public, pub_offset, points, vk_hash


def parse_g2(path):
    data = open(path, "rb").read()
    if len(data) < 128:
        sys.exit(f"gen_batch_verifier.py: {path}: expected at least 128 bytes ([x]_2)")
    w = [int.from_bytes(data[i:i + 32], "big") for i in range(0, 128, 32)]
    x, y = (w[0], w[1]), (w[2], w[3])
    if not all(v < Q for v in w) or not on_g2_twist(x, y):
        sys.exit(f"gen_batch_verifier.py: {path}: [x]_2 is not on BN254's twist")
    return [w[1], w[0], w[3], w[2]]  # the precompile's order: x.c1, x.c0, y.c1, y.c0


def parse_poseidon2_diagonal(path):
    text = open(path).read()
    m = re.search(r"\bkInternalDiagonalMinusOne\b\s*=\s*\{(.*?)\};", text, re.S)
    if not m:
        sys.exit(f"gen_batch_verifier.py: kInternalDiagonalMinusOne not found in {path}")
    diag = [int(x, 16) for x in re.findall(r'"0x([0-9a-fA-F]{64})"', m.group(1))]
    if len(diag) != 4 or not all(d < P for d in diag):
        sys.exit(f"gen_batch_verifier.py: {path}: expected 4 field elements in kInternalDiagonalMinusOne")
    return diag


def h(x):
    """A field element or word as 64 hex digits; small numbers (addresses, sizes) as short hex."""
    return f"0x{x:064x}" if x >= 1 << 64 else hex(x)


# ------------------------------------------------------------------------------------ layouts
class ProofLayout:
    """Byte offsets of each part of a ZK UltraHonk keccak proof (bb 5.0.0) for log circuit size L."""

    def __init__(self, log_n):
        L = log_n
        off = 0

        def take(words):
            nonlocal off
            start = off
            off += 32 * words
            return start

        self.limbs = take(PAIRING_LIMBS)
        self.masking = take(2)
        self.w1 = take(2)
        self.w2 = take(2)
        self.w3 = take(2)
        self.read_counts = take(2)
        self.read_tags = take(2)
        self.w4 = take(2)
        self.lookup_inverses = take(2)
        self.z_perm = take(2)
        self.libra_concat = take(2)
        self.libra_sum = take(1)
        self.univariates = take(UNIVARIATE * L)
        self.evals = take(NUM_ENTITIES)
        self.libra_eval = take(1)
        self.libra_grand_product = take(2)
        self.libra_quotient = take(2)
        self.folds = take(2 * (L - 1))
        self.gemini_a = take(L)
        self.libra_poly_evals = take(LIBRA_EVALS)
        self.shplonk_q = take(2)
        self.kzg_quotient = take(2)
        self.size = off
        assert self.size == 32 * (82 + 12 * L)
        # Every commitment in the proof, in proof order.
        self.points = ([("masking", self.masking), ("w1", self.w1), ("w2", self.w2), ("w3", self.w3),
                        ("read_counts", self.read_counts), ("read_tags", self.read_tags), ("w4", self.w4),
                        ("lookup_inverses", self.lookup_inverses), ("z_perm", self.z_perm),
                        ("libra_concat", self.libra_concat), ("libra_grand_product", self.libra_grand_product),
                        ("libra_quotient", self.libra_quotient)]
                       + [(f"fold_{j}", self.folds + 64 * j) for j in range(L - 1)]
                       + [("shplonk_q", self.shplonk_q), ("kzg_quotient", self.kzg_quotient)])
        # Field elements (checked < p) lie in two runs of the proof.
        self.fr_ranges = [(self.libra_sum, self.libra_grand_product), (self.gemini_a, self.shplonk_q)]
        # The commitments of the proof that enter the MSM with a scalar from the record, in proof order.
        self.msm_points = ([("masking", self.masking), ("w1", self.w1), ("w2", self.w2), ("w3", self.w3),
                            ("read_counts", self.read_counts), ("read_tags", self.read_tags), ("w4", self.w4),
                            ("lookup_inverses", self.lookup_inverses), ("z_perm", self.z_perm),
                            ("libra_concat", self.libra_concat),
                            ("libra_grand_product", self.libra_grand_product),
                            ("libra_quotient", self.libra_quotient)]
                           + [(f"fold_{j}", self.folds + 64 * j) for j in range(L - 1)])


class Memory:
    """The fixed memory map of the verifier (word-aligned byte addresses), then the per-proof records."""

    def __init__(self, start):
        self.next = start
        self.names = []

    def alloc(self, name, words):
        addr = self.next
        self.next += 32 * words
        self.names.append((name, addr, words))
        return addr


def lagrange_denominator_inverses():
    """1 / prod_{m != j} (j - m) over the domain 0..8, mod p."""
    out = []
    for j in range(UNIVARIATE):
        d = 1
        for m in range(UNIVARIATE):
            if m != j:
                d = d * (j - m) % P
        out.append(pow(d, -1, P))
    return out


def _match_brace(text, open_index):
    """Index just past the brace that closes the one at open_index."""
    depth = 0
    for i in range(open_index, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unbalanced braces")


def localize_modulus(text):
    """In every inline-assembly block, the modulus P becomes a stack variable p: each Yul function
    that uses it starts with `let p := P`, and so does the block's top-level code (after its "main"
    marker line). Without this, solc's constant optimizer loads the 32-byte P from code (codecopy
    through scratch memory, ~30 gas) at each of its ~1,000 uses instead of one DUP."""
    marker = "// ================================================================= main"
    modulus = re.compile(r"\bP\b")
    out = []
    pos = 0
    for m in re.finditer(r"assembly \{", text):
        start = m.end() - 1
        end = _match_brace(text, start)
        block = text[start + 1:end - 1]
        parts = []
        top_uses_p = False
        i = 0
        for f in re.finditer(r"function \w+\([^)]*\)(\s*->\s*[\w, ]+)?\s*\{", block):
            top = block[i:f.start()]
            top_uses_p |= modulus.search(top) is not None
            parts.append(modulus.sub("p", top))
            body_open = f.end() - 1
            body_end = _match_brace(block, body_open)
            body = block[body_open + 1:body_end - 1]
            new_body = modulus.sub("p", body)
            if new_body != body:
                new_body = " let p := P " + new_body
            parts.append(block[f.start():body_open + 1] + new_body + "}")
            i = body_end
        top = block[i:]
        top_uses_p |= modulus.search(top) is not None
        parts.append(modulus.sub("p", top))
        new_block = "".join(parts)
        if top_uses_p:
            if marker not in new_block:
                raise ValueError("an assembly block's top-level code must follow a '" + marker + "' line")
            new_block = new_block.replace(marker, marker + "\n            let p := P", 1)
        out.append(text[pos:start + 1] + new_block + "}")
        pos = end
    out.append(text[pos:])
    return "".join(out)


# ------------------------------------------------------------------------------------ emitter
def generate(name, vk_path, g2_path, params_path, source):
    log_n, num_public, pub_offset, vk_points, vk_hash = parse_vk(vk_path)
    x2 = parse_g2(g2_path)
    diag = parse_poseidon2_diagonal(params_path)
    L = log_n
    npub = num_public - PAIRING_LIMBS  # the public inputs the caller passes
    lay = ProofLayout(L)
    g = SUBGROUP_GENERATOR
    assert pow(g, SUBGROUP_SIZE, P) == 1 and pow(g, SUBGROUP_SIZE // 2, P) != 1
    ginv = pow(g, -1, P)
    inv_d = lagrange_denominator_inverses()
    if 1 + UNIVARIATE * L > SUBGROUP_SIZE:
        sys.exit("gen_batch_verifier.py: log circuit size too large for the Libra subgroup")

    # ---- memory map
    mem = Memory(0x80)
    hash_words = max(1 + npub + PAIRING_LIMBS + 8, 1 + 6, 1 + 4, 1 + 3, 1 + UNIVARIATE,
                     1 + NUM_ENTITIES + 1 + 4, 1 + 2 * (L - 1), 1 + L + LIBRA_EVALS, 1 + 2)
    M = {}
    M["HASH"] = mem.alloc("HASH", hash_words)
    for c in ["ETA", "ETA2", "ETA3", "BETA", "GAMMA", "PI_DELTA", "LIBRA_CH", "RHO", "GEMINI_R", "NU",
              "SHPLONK_Z", "LAST", "LIBRA_NUM"]:
        M[c] = mem.alloc(c, 1)
    M["ALPHA"] = mem.alloc("ALPHA", 28)  # alpha^1 .. alpha^28
    M["GATE"] = mem.alloc("GATE", L)
    M["U"] = mem.alloc("U", L)
    M["RPOW"] = mem.alloc("RPOW", L)  # r^(2^j)
    M["FOLD"] = mem.alloc("FOLD", L)  # A_j(r^(2^j)), j = 0..L-1
    # Values inverted together per proof: index -> meaning
    inv_names = (["PI_DEN", "GEMINI_R"] + [f"Z_MINUS_R{j}" for j in range(L)] + [f"Z_PLUS_R{j}" for j in range(L)]
                 + [f"FOLD_DEN{j}" for j in range(L)] + ["Z_MINUS_GR", "Z_MINUS_1", "LIBRA_DEN", "R_MINUS_1",
                                                         "GR_MINUS_1"])
    NINV = len(inv_names)
    M["INV"] = mem.alloc("INV", NINV)
    M["INVP"] = mem.alloc("INVP", NINV)
    inv = {n: M["INV"] + 32 * i for i, n in enumerate(inv_names)}
    M["MODEXP"] = mem.alloc("MODEXP", 6)
    M["MSM_IN"] = mem.alloc("MSM_IN", 3)
    M["ACC0"] = mem.alloc("ACC0", 4)  # accumulator (x, y) then the ecMul output it adds
    M["ACC1"] = mem.alloc("ACC1", 4)
    M["PAIR"] = mem.alloc("PAIR", 12)
    M["VKS"] = mem.alloc("VKS", NUM_VK)  # summed scalars of the VK commitments
    M["GEN"] = mem.alloc("GEN", 1)  # summed scalar of the generator
    M["REC"] = mem.next  # records, one per proof, then the weight-seed buffer
    # Record of one proof (words): what the MSM pass needs, unweighted.
    rec_fields = ["LAST", "Z", "CONST", "NEG_U", "RHO"] + [f"S_{n}" for n, _ in lay.msm_points]
    R = {f: 32 * i for i, f in enumerate(rec_fields)}
    rec_size = 32 * len(rec_fields)

    nonzero_vk = [i for i, pt in enumerate(vk_points) if pt != (0, 0)]

    errors = {
        "BatchShape()": "the batch is empty, the two arrays differ in length, or an offset is malformed",
        "ProofShape(uint256)": "proof i has the wrong length or the wrong number of public inputs",
        "ProofValueOutOfRange(uint256)": "a value of proof i or a public input is not canonical "
                                         "(coordinate >= q, field element >= p, pairing limb too large)",
        "DegenerateChallenge(uint256)": "a challenge of proof i makes a denominator zero (bb's verifier "
                                        "reverts there too)",
        "SumcheckFailed(uint256)": "proof i fails a sumcheck round or the final relation check",
        "LibraConsistencyFailed(uint256)": "proof i's Libra evaluations are inconsistent",
        "PairingPointsNotDefault(uint256)": "proof i carries a recursion claim (pairing-point limbs not all "
                                            "zero): the spend circuit's proofs never do, and this verifier does "
                                            "not aggregate them",
        "PointNotOnCurve(uint256)": "a commitment of proof i is not on BN254 G1 (nor the identity)",
        "BatchPairingFailed()": "the batched pairing check failed: some proof's KZG claim is false",
    }
    sel = {sig.split("(")[0]: selector(sig) for sig in errors}

    def word(n):
        return 32 * n

    E = lambda k: f"calldataload(add(e, {word(k)}))"  # entity k (0 = Gemini masking) of the evaluations
    A = lambda i: f"mload({h(M['ALPHA'] + 32 * (i - 1))})"  # alpha^i

    # -------------------------------------------------------------- relations (shared by both contracts)
    neg_half = (P - 1) // 2
    relations = f"""
            // ---- The UltraHonk relations at the sumcheck point (bb 5.0.0's 29 subrelations).
            // e: calldata offset of the proof's evaluations (entity k at e + 32 k; 0 is the masking
            // polynomial). Each function returns its subrelations already multiplied by their alpha
            // powers (alpha^0 = 1 for subrelation 0), not yet by the pow polynomial.

            // Subrelations 0-2: permutation (grand product, its last value, its first value).
            function relPermutation(e) -> r {{
                let beta := mload({h(M["BETA"])})
                let gamma := mload({h(M["GAMMA"])})
                let num := 1
                let den := 1
                for {{ let k := 0 }} lt(k, 4) {{ k := add(k, 1) }} {{
                    let w := calldataload(add(e, add({word(29)}, shl(5, k))))
                    let id := calldataload(add(e, add({word(5)}, shl(5, k))))
                    let sigma := calldataload(add(e, add({word(1)}, shl(5, k))))
                    num := mulmod(num, addmod(addmod(w, mulmod(id, beta, P), P), gamma, P), P)
                    den := mulmod(den, addmod(addmod(w, mulmod(sigma, beta, P), P), gamma, P), P)
                }}
                let zPerm := {E(33)}
                let zPermShift := {E(41)}
                let lagFirst := {E(9)}
                let lagLast := {E(10)}
                r := addmod(
                    mulmod(addmod(zPerm, lagFirst, P), num, P),
                    sub(P, mulmod(addmod(zPermShift, mulmod(lagLast, mload({h(M["PI_DELTA"])}), P), P), den, P)),
                    P)
                r := addmod(r, mulmod({A(1)}, mulmod(lagLast, zPermShift, P), P), P)
                r := addmod(r, mulmod({A(2)}, mulmod(lagFirst, zPerm, P), P), P)
            }}

            // Subrelations 3-5: log-derivative lookup. r4 is subrelation 4 (times alpha^4), the one
            // that is not multiplied by the pow polynomial.
            function relLookup(e) -> r, r4 {{
                let beta := mload({h(M["BETA"])})
                let gamma := mload({h(M["GAMMA"])})
                let beta2 := mulmod(beta, beta, P)
                let beta3 := mulmod(beta2, beta, P)
                let tableTerm := addmod(addmod({E(12)}, gamma, P),
                    addmod(mulmod({E(13)}, beta, P), addmod(mulmod({E(14)}, beta2, P), mulmod({E(15)}, beta3, P), P), P), P)
                let lookupTerm := addmod(addmod({E(29)}, gamma, P), mulmod({E(17)}, {E(37)}, P), P)
                lookupTerm := addmod(lookupTerm, mulmod(addmod({E(30)}, mulmod({E(16)}, {E(38)}, P), P), beta, P), P)
                lookupTerm := addmod(lookupTerm, mulmod(addmod({E(31)}, mulmod({E(19)}, {E(39)}, P), P), beta2, P), P)
                lookupTerm := addmod(lookupTerm, mulmod({E(18)}, beta3, P), P)
                let inverses := {E(34)}
                let tags := {E(36)}
                let qLookup := {E(11)}
                // tags + q_lookup - tags * q_lookup
                let either := addmod(addmod(tags, qLookup, P), sub(P, mulmod(tags, qLookup, P)), P)
                let s3 := addmod(mulmod(mulmod(lookupTerm, tableTerm, P), inverses, P), sub(P, either), P)
                let s4 := addmod(mulmod(mulmod(qLookup, inverses, P), tableTerm, P),
                    sub(P, mulmod(mulmod({E(35)}, inverses, P), lookupTerm, P)), P)
                let s5 := addmod(mulmod(tags, tags, P), sub(P, tags), P)
                r := addmod(mulmod({A(3)}, s3, P), mulmod({A(5)}, s5, P), P)
                r4 := mulmod({A(4)}, s4, P)
            }}

            // Subrelations 6-7: arithmetic.
            function relArithmetic(e) -> r {{
                let qArith := {E(22)}
                let w1 := {E(29)}
                let w2 := {E(30)}
                let w4 := {E(32)}
                let qM := {E(16)}
                let s6 := mulmod(mulmod(mulmod(addmod(qArith, sub(P, 3), P), qM, P), mulmod(w2, w1, P), P), {h(neg_half)}, P)
                s6 := addmod(s6, addmod(mulmod({E(20)}, w1, P), mulmod({E(17)}, w2, P), P), P)
                s6 := addmod(s6, addmod(mulmod({E(18)}, {E(31)}, P), mulmod({E(21)}, w4, P), P), P)
                s6 := addmod(s6, {E(19)}, P)
                s6 := addmod(s6, mulmod(addmod(qArith, sub(P, 1), P), {E(40)}, P), P)
                s6 := mulmod(s6, qArith, P)
                let s7 := addmod(addmod(w1, w4, P), addmod(sub(P, {E(37)}), qM, P), P)
                s7 := mulmod(s7, addmod(qArith, sub(P, 2), P), P)
                s7 := mulmod(s7, addmod(qArith, sub(P, 1), P), P)
                s7 := mulmod(s7, qArith, P)
                r := addmod(mulmod({A(6)}, s6, P), mulmod({A(7)}, s7, P), P)
            }}

            // Subrelations 8-11: delta range, d (d - 1) (d - 2) (d - 3) q_range for four differences.
            function rangeTerm(d) -> t {{
                t := mulmod(mulmod(d, addmod(d, sub(P, 1), P), P), mulmod(addmod(d, sub(P, 2), P), addmod(d, sub(P, 3), P), P), P)
            }}
            function relDeltaRange(e) -> r {{
                let w1 := {E(29)}
                let w2 := {E(30)}
                let w3 := {E(31)}
                let w4 := {E(32)}
                r := mulmod({A(8)}, rangeTerm(addmod(w2, sub(P, w1), P)), P)
                r := addmod(r, mulmod({A(9)}, rangeTerm(addmod(w3, sub(P, w2), P)), P), P)
                r := addmod(r, mulmod({A(10)}, rangeTerm(addmod(w4, sub(P, w3), P)), P), P)
                r := addmod(r, mulmod({A(11)}, rangeTerm(addmod({E(37)}, sub(P, w4), P)), P), P)
                r := mulmod(r, {E(23)}, P)
            }}

            // Subrelations 12-13: elliptic curve (Grumpkin) addition and doubling.
            function relEllipticAdd(e) -> s12, s13 {{
                let x1 := {E(30)}
                let y1 := {E(31)}
                let x2 := {E(37)}
                let y2 := {E(40)}
                let y3 := {E(39)}
                let x3 := {E(38)}
                let qSign := {E(20)}
                let xDiff := addmod(x2, sub(P, x1), P)
                let y1y2 := mulmod(mulmod(y1, y2, P), qSign, P)
                s12 := mulmod(mulmod(addmod(addmod(x3, x2, P), x1, P), xDiff, P), xDiff, P)
                s12 := addmod(s12, sub(P, addmod(mulmod(y2, y2, P), mulmod(y1, y1, P), P)), P)
                s12 := addmod(s12, addmod(y1y2, y1y2, P), P)
                s13 := addmod(mulmod(addmod(y1, y3, P), xDiff, P),
                    mulmod(addmod(x3, sub(P, x1), P), addmod(mulmod(y2, qSign, P), sub(P, y1), P), P), P)
            }}
            function relEllipticDouble(e) -> s12, s13 {{
                let x1 := {E(30)}
                let y1 := {E(31)}
                let y3 := {E(39)}
                let x3 := {E(38)}
                let y1sq := mulmod(y1, y1, P)
                // x1^3 = y1^2 + 17 on Grumpkin (y^2 = x^3 - 17)
                let x1pow4 := mulmod(addmod(y1sq, 17, P), x1, P)
                s12 := addmod(mulmod(addmod(addmod(x3, x1, P), x1, P), mulmod(4, y1sq, P), P), sub(P, mulmod(9, x1pow4, P)), P)
                s13 := addmod(mulmod(mulmod(mulmod(3, x1, P), x1, P), addmod(x1, sub(P, x3), P), P),
                    sub(P, mulmod(addmod(y1, y1, P), addmod(y1, y3, P), P)), P)
            }}
            function relElliptic(e) -> r {{
                let qDouble := {E(16)}
                let notDouble := addmod(1, sub(P, qDouble), P)
                let a12, a13 := relEllipticAdd(e)
                let d12, d13 := relEllipticDouble(e)
                let s12 := addmod(mulmod(a12, notDouble, P), mulmod(d12, qDouble, P), P)
                let s13 := addmod(mulmod(a13, notDouble, P), mulmod(d13, qDouble, P), P)
                r := mulmod(addmod(mulmod({A(12)}, s12, P), mulmod({A(13)}, s13, P), P), {E(24)}, P)
            }}

            // Subrelations 14-19: memory (ROM/RAM records, sorted-list consistency, timestamps).
            // record(a, b, c) = c eta^3 + b eta^2 + a eta
            function memRecord(a, b, c) -> v {{
                v := addmod(addmod(mulmod(c, mload({h(M["ETA3"])}), P), mulmod(b, mload({h(M["ETA2"])}), P), P),
                    mulmod(a, mload({h(M["ETA"])}), P), P)
            }}
            function relMemorySorted(e, indexDelta, notIndexDelta) -> r {{
                // 15-19 (before the q_memory factor)
                let qLqR := mulmod({E(20)}, {E(17)}, P)
                let qO := {E(18)}
                let monotone := mulmod(indexDelta, addmod(indexDelta, sub(P, 1), P), P)
                let recordDelta := addmod({E(40)}, sub(P, {E(32)}), P)
                r := mulmod({A(15)}, mulmod(mulmod(notIndexDelta, recordDelta, P), qLqR, P), P)
                r := addmod(r, mulmod({A(16)}, mulmod(monotone, qLqR, P), P), P)
                let nextAccess := addmod({E(40)}, sub(P, memRecord({E(37)}, {E(38)}, {E(39)})), P)
                let valueDelta := addmod({E(39)}, sub(P, {E(31)}), P)
                let s17 := mulmod(mulmod(notIndexDelta, valueDelta, P), addmod(1, sub(P, nextAccess), P), P)
                r := addmod(r, mulmod({A(17)}, mulmod(s17, qO, P), P), P)
                r := addmod(r, mulmod({A(18)}, mulmod(monotone, qO, P), P), P)
                let s19 := addmod(mulmod(nextAccess, nextAccess, P), sub(P, nextAccess), P)
                r := addmod(r, mulmod({A(19)}, mulmod(s19, qO, P), P), P)
            }}
            function relMemoryIdentity(e, notIndexDelta) -> s14 {{
                let partial := addmod(memRecord({E(29)}, {E(30)}, {E(31)}), {E(19)}, P)
                let w4 := {E(32)}
                let ql := {E(20)}
                let recordCheck := addmod(partial, sub(P, w4), P)
                let access := addmod(w4, sub(P, partial), P)
                // ROM consistency + RAM timestamp + record check + RAM consistency
                s14 := mulmod(recordCheck, mulmod(ql, {E(17)}, P), P)
                let timeCheck := addmod(mulmod(notIndexDelta, addmod({E(38)}, sub(P, {E(30)}), P), P), sub(P, {E(31)}), P)
                s14 := addmod(s14, mulmod(timeCheck, mulmod({E(21)}, ql, P), P), P)
                s14 := addmod(s14, mulmod(recordCheck, mulmod({E(16)}, ql, P), P), P)
                s14 := addmod(s14, mulmod(mulmod(access, addmod(access, sub(P, 1), P), P), {E(18)}, P), P)
            }}
            function relMemory(e) -> r {{
                let indexDelta := addmod({E(37)}, sub(P, {E(29)}), P)
                let notIndexDelta := addmod(1, sub(P, indexDelta), P)
                r := addmod(mulmod({A(14)}, relMemoryIdentity(e, notIndexDelta), P),
                    relMemorySorted(e, indexDelta, notIndexDelta), P)
                r := mulmod(r, {E(25)}, P)
            }}

            // Subrelation 20: non-native field arithmetic (limb products and accumulators).
            function relNnfGates(e) -> v {{
                let w1 := {E(29)}
                let w2 := {E(30)}
                let w3 := {E(31)}
                let w4 := {E(32)}
                let w1s := {E(37)}
                let w2s := {E(38)}
                let w3s := {E(39)}
                let w4s := {E(40)}
                let limbs := addmod(mulmod(w1, w2s, P), mulmod(w1s, w2, P), P)
                let g2 := addmod(addmod(mulmod(w1, w4, P), mulmod(w2, w3, P), P), sub(P, w3s), P)
                g2 := addmod(addmod(mulmod(g2, {h(1 << 68)}, P), sub(P, w4s), P), limbs, P)
                g2 := mulmod(g2, {E(21)}, P)
                let sub2 := addmod(mulmod(limbs, {h(1 << 68)}, P), mulmod(w1s, w2s, P), P)
                let g1 := mulmod(addmod(sub2, sub(P, addmod(w3, w4, P)), P), {E(18)}, P)
                let g3 := mulmod(addmod(addmod(sub2, w4, P), sub(P, addmod(w3s, w4s, P)), P), {E(16)}, P)
                v := mulmod(addmod(addmod(g1, g2, P), g3, P), {E(17)}, P)
            }}
            function relNnfLimbs(e) -> v {{
                let s := {h(1 << 14)}
                let a1 := addmod(mulmod({E(38)}, s, P), {E(37)}, P)
                a1 := addmod(mulmod(a1, s, P), {E(31)}, P)
                a1 := addmod(mulmod(a1, s, P), {E(30)}, P)
                a1 := addmod(mulmod(a1, s, P), {E(29)}, P)
                a1 := mulmod(addmod(a1, sub(P, {E(32)}), P), {E(21)}, P)
                let a2 := addmod(mulmod({E(39)}, s, P), {E(38)}, P)
                a2 := addmod(mulmod(a2, s, P), {E(37)}, P)
                a2 := addmod(mulmod(a2, s, P), {E(32)}, P)
                a2 := addmod(mulmod(a2, s, P), {E(31)}, P)
                a2 := mulmod(addmod(a2, sub(P, {E(40)}), P), {E(16)}, P)
                v := mulmod(addmod(a1, a2, P), {E(18)}, P)
            }}
            function relNnf(e) -> r {{
                r := mulmod({A(20)}, mulmod(addmod(relNnfGates(e), relNnfLimbs(e), P), {E(26)}, P), P)
            }}

            // Subrelations 21-24: Poseidon2 external round (S-box on all lanes, then the 4x4 MDS matrix).
            function pow5(x) -> y {{
                let x2 := mulmod(x, x, P)
                y := mulmod(mulmod(x2, x2, P), x, P)
            }}
            function relPoseidonExternal(e) -> r {{
                let u1 := pow5(addmod({E(29)}, {E(20)}, P))
                let u2 := pow5(addmod({E(30)}, {E(17)}, P))
                let u3 := pow5(addmod({E(31)}, {E(18)}, P))
                let u4 := pow5(addmod({E(32)}, {E(21)}, P))
                let t0 := addmod(u1, u2, P)
                let t1 := addmod(u3, u4, P)
                let t2 := addmod(addmod(u2, u2, P), t1, P)
                let t3 := addmod(addmod(u4, u4, P), t0, P)
                let v4 := addmod(mulmod(4, t1, P), t3, P)
                let v2 := addmod(mulmod(4, t0, P), t2, P)
                let v1 := addmod(t3, v2, P)
                let v3 := addmod(t2, v4, P)
                r := mulmod({A(21)}, addmod(v1, sub(P, {E(37)}), P), P)
                r := addmod(r, mulmod({A(22)}, addmod(v2, sub(P, {E(38)}), P), P), P)
                r := addmod(r, mulmod({A(23)}, addmod(v3, sub(P, {E(39)}), P), P), P)
                r := addmod(r, mulmod({A(24)}, addmod(v4, sub(P, {E(40)}), P), P), P)
                r := mulmod(r, {E(27)}, P)
            }}

            // Subrelations 25-28: Poseidon2 internal round (S-box on lane 1, then diag(D) + ones).
            function relPoseidonInternal(e) -> r {{
                let u1 := pow5(addmod({E(29)}, {E(20)}, P))
                let u2 := {E(30)}
                let u3 := {E(31)}
                let u4 := {E(32)}
                let sum := addmod(addmod(u1, u2, P), addmod(u3, u4, P), P)
                r := mulmod({A(25)}, addmod(addmod(mulmod(u1, {h(diag[0])}, P), sum, P), sub(P, {E(37)}), P), P)
                r := addmod(r, mulmod({A(26)}, addmod(addmod(mulmod(u2, {h(diag[1])}, P), sum, P), sub(P, {E(38)}), P), P), P)
                r := addmod(r, mulmod({A(27)}, addmod(addmod(mulmod(u3, {h(diag[2])}, P), sum, P), sub(P, {E(39)}), P), P), P)
                r := addmod(r, mulmod({A(28)}, addmod(addmod(mulmod(u4, {h(diag[3])}, P), sum, P), sub(P, {E(40)}), P), P), P)
                r := mulmod(r, {E(28)}, P)
            }}

            // The batched relation: pow * (sum of alpha^i subrelation_i, i != 4) + alpha^4 subrelation_4.
            function relationSum(e, powEval) -> total {{
                let scaled, unscaled := relLookup(e)
                scaled := addmod(scaled, relPermutation(e), P)
                scaled := addmod(scaled, relArithmetic(e), P)
                scaled := addmod(scaled, relDeltaRange(e), P)
                scaled := addmod(scaled, relElliptic(e), P)
                scaled := addmod(scaled, relMemory(e), P)
                scaled := addmod(scaled, relNnf(e), P)
                scaled := addmod(scaled, relPoseidonExternal(e), P)
                scaled := addmod(scaled, relPoseidonInternal(e), P)
                total := addmod(mulmod(scaled, powEval, P), unscaled, P)
            }}
"""

    # -------------------------------------------------------------- per-proof checks
    def range_checks():
        """Straight-line checks of every proof value's range (and every point on the curve)."""
        lines = ["let q := Q", "let x", "let y", "let curve := 1"]
        # pairing limbs: lo limbs < 2^136, hi limbs < 2^120
        for i in range(PAIRING_LIMBS):
            bound = 136 if i % 2 == 0 else 120
            lines.append(f"ok := and(ok, iszero(shr({bound}, calldataload(add(pp, {lay.limbs + 32 * i})))))")
        # commitments: coordinates < q, and the point is the identity (0, 0) or on y^2 = x^3 + 3
        for name, off in lay.points:
            lines.append(f"// {name}")
            lines.append(f"x := calldataload(add(pp, {off}))")
            lines.append(f"y := calldataload(add(pp, {off + 32}))")
            lines.append("ok := and(ok, and(lt(x, q), lt(y, q)))")
            lines.append("curve := and(curve, or(iszero(or(x, y)), "
                         "eq(mulmod(y, y, q), addmod(mulmod(mulmod(x, x, q), x, q), 3, q))))")
        # field elements < p: eight per loop iteration, then the rest
        for a, b in lay.fr_ranges:
            words = (b - a) // 32
            blocks = words // 8
            if blocks:
                lines.append(f"for {{ let a := add(pp, {a}) }} lt(a, add(pp, {a + 256 * blocks})) {{ a := add(a, 0x100) }} {{")
                for t in range(8):
                    lines.append(f"    ok := and(ok, lt(calldataload(add(a, {32 * t})), P))")
                lines.append("}")
            for t in range(blocks * 8, words):
                lines.append(f"ok := and(ok, lt(calldataload(add(pp, {a + 32 * t})), P))")
        for t in range(npub):
            lines.append(f"ok := and(ok, lt(calldataload(add(pi, {32 * t})), P))")
        return "\n                ".join(lines)

    # unrolled barycentric-free evaluation of a round univariate at u (Lagrange form)
    def univariate_eval():
        lines = [f"num := mulmod(calldataload(base), {h(inv_d[0])}, P)", "let den := u"]
        for j in range(1, UNIVARIATE):
            lines.append(f"d := addmod(u, {h(P - j)}, P)")
            lines.append(f"num := addmod(mulmod(num, d, P), mulmod(mulmod(calldataload(add(base, {32 * j})), "
                         f"{h(inv_d[j])}, P), den, P), P)")
            if j != UNIVARIATE - 1:
                lines.append("den := mulmod(den, d, P)")
        return "\n                ".join(lines)

    def libra_round():
        """The nine entries u^0..u^8 of one sumcheck round: num/den += c / (g^-i r - 1) each."""
        out = []
        for j in range(UNIVARIATE):
            out.append(f"rp := mulmod(rp, {h(ginv)}, P)")
            out.append(f"d := addmod(rp, {h(P - 1)}, P)")
            if j == 0:
                out.append("num := addmod(mulmod(num, d, P), den, P)")
            else:
                out.append("num := addmod(mulmod(num, d, P), mulmod(c, den, P), P)")
                if j != UNIVARIATE - 1:
                    out.append("c := mulmod(c, u, P)")
            out.append("den := mulmod(den, d, P)")
        return "\n                    ".join(out)

    def batch_invert_forward():
        out = []
        for i in range(NINV):
            out.append(f"mstore({h(M['INVP'] + 32 * i)}, acc)")
            out.append(f"acc := mulmod(acc, mload({h(M['INV'] + 32 * i)}), P)")
        return "\n                ".join(out)

    def batch_invert_backward():
        out = []
        for i in reversed(range(NINV)):
            out.append(f"v := mload({h(M['INV'] + 32 * i)})")
            out.append(f"mstore({h(M['INV'] + 32 * i)}, mulmod(inv, mload({h(M['INVP'] + 32 * i)}), P))")
            if i:
                out.append("inv := mulmod(inv, v, P)")
        return "\n                ".join(out)

    def alpha_powers():
        out = []
        for i in range(28):
            out.append(f"mstore({h(M['ALPHA'] + 32 * i)}, a)")
            if i != 27:
                out.append("a := mulmod(a, alpha, P)")
        return "\n                ".join(out)

    def shifted_scalars():
        # (entity index in the evaluations, record field of its commitment)
        return [(37, "S_w1"), (38, "S_w2"), (39, "S_w3"), (40, "S_w4"), (41, "S_z_perm")]

    unshifted_witness = [(29, "S_w1"), (30, "S_w2"), (31, "S_w3"), (32, "S_w4"), (33, "S_z_perm"),
                         (34, "S_lookup_inverses"), (35, "S_read_counts"), (36, "S_read_tags")]

    def shplemini_batching():
        out = []
        out.append(f"// entity 0 (masking): scalar -U; entities 1..28: the VK's (summed later as NEG_U rho^k)")
        out.append(f"mstore(add(rec, {R['S_masking']}), negU)")
        out.append(f"batched := calldataload(add(e, 0))")
        out.append("let b := rho")
        out.append(f"for {{ let k := 1 }} lt(k, {NUM_VK + 1}) {{ k := add(k, 1) }} {{")
        out.append("    batched := addmod(batched, mulmod(calldataload(add(e, shl(5, k))), b, P), P)")
        out.append("    b := mulmod(b, rho, P)")
        out.append("}")
        for ent, field in unshifted_witness:
            out.append(f"mstore(add(rec, {R[field]}), mulmod(negU, b, P))")
            out.append(f"batched := addmod(batched, mulmod({E(ent)}, b, P), P)")
            out.append("b := mulmod(b, rho, P)")
        for ent, field in shifted_scalars():
            out.append(f"mstore(add(rec, {R[field]}), addmod(mload(add(rec, {R[field]})), mulmod(negS, b, P), P))")
            out.append(f"batched := addmod(batched, mulmod({E(ent)}, b, P), P)")
            out.append("b := mulmod(b, rho, P)")
        return "\n                ".join(out)

    def msm_proof_points():
        out = []
        for n, off in lay.msm_points:
            out.append(f"ok := and(ok, mulAddCalldata({h(M['ACC0'])}, add(pp, {off}), mulmod(mload(add(rec, {R['S_' + n]})), w, P)))")
        return "\n                ".join(out)

    def msm_vk_points():
        out = []
        for i in nonzero_vk:
            x, y = vk_points[i]
            out.append(f"// {VK_ENTITY_NAMES[i]}")
            out.append(f"ok := and(ok, mulAddConst({h(M['ACC0'])}, {h(x)}, {h(y)}, mload({h(M['VKS'] + 32 * i)})))")
        return "\n                ".join(out)

    def vk_scalar_accumulation():
        # VKS[i] += a * rho^(i+1) for the non-zero VK commitments
        out = ["let b := mulmod(a, rho, P)"]
        for i in range(NUM_VK):
            if i in nonzero_vk:
                addr = h(M["VKS"] + 32 * i)
                out.append(f"mstore({addr}, addmod(mload({addr}), b, P))")
            if i != NUM_VK - 1:
                out.append("b := mulmod(b, rho, P)")
        return "\n                ".join(out)

    fr_libra_terms = 1 + UNIVARIATE * L  # Libra challenge-polynomial entries that are not zero

    memmap = "\n".join(f"//   0x{addr:04x} {nm} ({words} word{'s' if words != 1 else ''})"
                       for nm, addr, words in mem.names)

    vk_comment = "\n".join(f"//   {VK_ENTITY_NAMES[i]}: ({h(x)}, {h(y)})" for i, (x, y) in enumerate(vk_points))
    err_decls = "\n".join(f"    /// {doc}\n    error {sig.replace('(uint256)', '(uint256 index)')};"
                          for sig, doc in errors.items())

    yul_common = f"""
            // ---- helpers
            function fail(selectorWord, index) {{
                mstore(0x00, selectorWord)
                mstore(0x04, index)
                revert(0x00, 0x24)
            }}
            function lo127(c) -> v {{ v := and(c, {h(MASK127)}) }}
"""

    contract = f"""// SPDX-License-Identifier: MIT
// GENERATED by contracts/tools/gen_batch_verifier.py; DO NOT EDIT.
// Source: {source}
// Circuit: log2(size) = {L}, {npub} public inputs (+ {PAIRING_LIMBS} pairing-point limbs in the proof),
// public input offset {pub_offset}, VK hash {h(vk_hash)} (= keccak256(vk) mod p).
// Verification key commitments (entity order):
{vk_comment}
// [x]_2 (from the CRS): {', '.join(h(v) for v in x2)}
// Memory map (bytes):
{memmap}
//   0x{M['REC']:04x} records ({len(rec_fields)} words per proof), then the weight seed input
pragma solidity ^0.8.27;

/// @title {name}
/// @notice Verifies k ZK UltraHonk proofs (keccak transcript, bb 5.0.0) of one circuit together:
/// every per-proof check of bb's verifier, then one multi-scalar multiplication in which each
/// verification-key commitment and the generator appear once, and one pairing over a random linear
/// combination of the k KZG claims. The weights are Fiat-Shamir outputs (keccak) over every proof
/// and public input (docs/batch-verifier.md). Accepts exactly the batches whose proofs bb's verifier
/// for this verification key accepts one by one, except with probability about 2^-253 per attempt
/// beyond bb's own soundness error, and except proofs that carry a recursion claim (non-zero
/// pairing-point limbs), which it rejects: a non-recursive circuit's proofs never carry one.
contract {name} {{
    uint256 internal constant P = {h(P)};
    uint256 internal constant Q = {h(Q)};
    /// log2 of the circuit size the verification key is for.
    uint256 public constant LOG_CIRCUIT_SIZE = {L};
    /// Public inputs per proof (without the pairing-point limbs, which are part of the proof).
    uint256 public constant NUMBER_OF_PUBLIC_INPUTS = {npub};
    /// Length of every proof in bytes.
    uint256 public constant PROOF_SIZE = {lay.size};
    /// keccak256 of the verification key, mod p: the first transcript input.
    uint256 public constant VK_HASH = {h(vk_hash)};

{err_decls}

    /// @notice Returns true if every proofs[i] is a valid proof for publicInputs[i]; reverts otherwise.
    /// @param proofs k >= 1 proofs as bb writes them (`bb prove -t evm`), each PROOF_SIZE bytes.
    /// @param publicInputs k arrays of NUMBER_OF_PUBLIC_INPUTS field elements (each < p).
    function verifyBatch(bytes[] calldata proofs, bytes32[][] calldata publicInputs) external view returns (bool) {{
        proofs;
        publicInputs;
        assembly {{
{yul_common}
{relations}
            // ---- ABI: the calldata offsets of proof i's bytes and public inputs i, validated.
            function element(arrayPtr, i, expectedLength) -> data {{
                let rel := calldataload(add(add(arrayPtr, 0x20), shl(5, i)))
                if gt(rel, 0xffffffff) {{ fail({h(sel['BatchShape'] << 224)}, 0) }}
                let ptr := add(add(arrayPtr, 0x20), rel)
                if iszero(eq(calldataload(ptr), expectedLength)) {{ fail({h(sel['ProofShape'] << 224)}, i) }}
                data := add(ptr, 0x20)
            }}
            function proofData(i) -> pp {{
                pp := element(add(4, calldataload(4)), i, {lay.size})
                if gt(add(pp, {lay.size}), calldatasize()) {{ fail({h(sel['BatchShape'] << 224)}, 0) }}
            }}
            function publicData(i) -> pi {{
                pi := element(add(4, calldataload(0x24)), i, {npub})
                if gt(add(pi, {32 * npub}), calldatasize()) {{ fail({h(sel['BatchShape'] << 224)}, 0) }}
            }}

            // ---- Transcript: the challenges of bb's verifier, in its order, into memory.
            // absorb(prev, from, bytes): keccak256(prev || calldata[from, from + bytes)) mod p
            function absorb(prev, from, len) -> c {{
                mstore({h(M['HASH'])}, prev)
                calldatacopy({h(M['HASH'] + 32)}, from, len)
                c := mod(keccak256({h(M['HASH'])}, add(len, 0x20)), P)
            }}
            function transcript(pp, pi) {{
                // eta: VK hash, public inputs, pairing limbs, masking commitment, w1, w2, w3
                mstore({h(M['HASH'])}, {h(vk_hash)})
                calldatacopy({h(M['HASH'] + 32)}, pi, {32 * npub})
                calldatacopy({h(M['HASH'] + 32 + 32 * npub)}, pp, {lay.read_counts})
                let c := mod(keccak256({h(M['HASH'])}, {32 + 32 * npub + lay.read_counts}), P)
                let eta := lo127(c)
                mstore({h(M['ETA'])}, eta)
                mstore({h(M['ETA2'])}, mulmod(eta, eta, P))
                mstore({h(M['ETA3'])}, mulmod(mulmod(eta, eta, P), eta, P))
                // beta, gamma: read counts, read tags, w4
                c := absorb(c, add(pp, {lay.read_counts}), {lay.lookup_inverses - lay.read_counts})
                mstore({h(M['BETA'])}, lo127(c))
                mstore({h(M['GAMMA'])}, shr(127, c))
                // alpha: lookup inverses, z_perm; its powers alpha^1..alpha^28
                c := absorb(c, add(pp, {lay.lookup_inverses}), {lay.libra_concat - lay.lookup_inverses})
                let alpha := lo127(c)
                let a := alpha
                {alpha_powers()}
                // gate challenges: g, g^2, g^4, ...
                mstore({h(M['HASH'])}, c)
                c := mod(keccak256({h(M['HASH'])}, 0x20), P)
                let gate := lo127(c)
                for {{ let k := 0 }} lt(k, {L}) {{ k := add(k, 1) }} {{
                    mstore(add({h(M['GATE'])}, shl(5, k)), gate)
                    gate := mulmod(gate, gate, P)
                }}
                // Libra challenge: Libra concatenation commitment, Libra sum
                c := absorb(c, add(pp, {lay.libra_concat}), {lay.univariates - lay.libra_concat})
                mstore({h(M['LIBRA_CH'])}, lo127(c))
                // sumcheck challenges: one per round univariate
                for {{ let k := 0 }} lt(k, {L}) {{ k := add(k, 1) }} {{
                    c := absorb(c, add(pp, add({lay.univariates}, mul(k, {32 * UNIVARIATE}))), {32 * UNIVARIATE})
                    mstore(add({h(M['U'])}, shl(5, k)), lo127(c))
                }}
                // rho: the 42 evaluations, the Libra evaluation, Libra grand sum and quotient commitments
                c := absorb(c, add(pp, {lay.evals}), {lay.folds - lay.evals})
                mstore({h(M['RHO'])}, lo127(c))
                // Gemini r: the fold commitments
                c := absorb(c, add(pp, {lay.folds}), {lay.gemini_a - lay.folds})
                mstore({h(M['GEMINI_R'])}, lo127(c))
                // Shplonk nu: Gemini evaluations, Libra polynomial evaluations
                c := absorb(c, add(pp, {lay.gemini_a}), {lay.shplonk_q - lay.gemini_a})
                mstore({h(M['NU'])}, lo127(c))
                // Shplonk z: the Shplonk quotient commitment
                c := absorb(c, add(pp, {lay.shplonk_q}), 0x40)
                mstore({h(M['SHPLONK_Z'])}, lo127(c))
                mstore({h(M['LAST'])}, c)
            }}

            // ---- The public-input delta's numerator and denominator (public inputs, then the limbs).
            function publicInputDelta(pp, pi) -> num, den {{
                let beta := mload({h(M['BETA'])})
                let gamma := mload({h(M['GAMMA'])})
                let numAcc := addmod(gamma, mulmod(beta, {(1 << 28) + pub_offset}, P), P)
                let denAcc := addmod(gamma, sub(P, mulmod(beta, {pub_offset + 1}, P)), P)
                num := 1
                den := 1
                for {{ let k := 0 }} lt(k, {num_public}) {{ k := add(k, 1) }} {{
                    let x
                    switch lt(k, {npub})
                    case 1 {{ x := calldataload(add(pi, shl(5, k))) }}
                    default {{ x := calldataload(add(pp, shl(5, sub(k, {npub})))) }}
                    num := mulmod(num, addmod(numAcc, x, P), P)
                    den := mulmod(den, addmod(denAcc, x, P), P)
                    numAcc := addmod(numAcc, beta, P)
                    denAcc := addmod(denAcc, sub(P, beta), P)
                }}
            }}

            // ---- Libra: sum over the challenge polynomial's non-zero entries c_i / (g^-i r - 1),
            // as one fraction num / den (den is inverted with the others).
            function libraFraction() -> num, den {{
                let r := mload({h(M['GEMINI_R'])})
                // entry 0: c = 1, denominator r - 1
                num := 1
                den := addmod(r, {h(P - 1)}, P)
                let rp := r
                for {{ let k := 0 }} lt(k, {L}) {{ k := add(k, 1) }} {{
                    let u := mload(add({h(M['U'])}, shl(5, k)))
                    let c := u
                    let d
                    {libra_round()}
                }}
            }}

            // ---- One modexp inverts every value in INV (in place); 0 if one of them is zero.
            function batchInvert() -> ok {{
                let acc := 1
                {batch_invert_forward()}
                ok := iszero(iszero(acc))
                mstore({h(M['MODEXP'])}, 0x20)
                mstore({h(M['MODEXP'] + 0x20)}, 0x20)
                mstore({h(M['MODEXP'] + 0x40)}, 0x20)
                mstore({h(M['MODEXP'] + 0x60)}, acc)
                mstore({h(M['MODEXP'] + 0x80)}, {h(P - 2)})
                mstore({h(M['MODEXP'] + 0xa0)}, P)
                ok := and(ok, staticcall(gas(), 0x05, {h(M['MODEXP'])}, 0xc0, {h(M['MODEXP'])}, 0x20))
                let inv := mload({h(M['MODEXP'])})
                let v
                {batch_invert_backward()}
            }}

            // ---- Sumcheck: the rounds, then the relations against the last round's target.
            // Round univariate at u in Lagrange form over 0..8 (exact for every u).
            function roundValue(base, u) -> num {{
                let d
                {univariate_eval()}
            }}
            function sumcheck(pp) -> ok {{
                ok := 1
                let target := mulmod(mload({h(M['LIBRA_CH'])}), calldataload(add(pp, {lay.libra_sum})), P)
                let powEval := 1
                for {{ let k := 0 }} lt(k, {L}) {{ k := add(k, 1) }} {{
                    let base := add(pp, add({lay.univariates}, mul(k, {32 * UNIVARIATE})))
                    ok := and(ok, eq(addmod(calldataload(base), calldataload(add(base, 0x20)), P), target))
                    let u := mload(add({h(M['U'])}, shl(5, k)))
                    // bb's barycentric evaluation divides by (u - j): u must not be in 0..8
                    ok := and(ok, gt(u, 8))
                    target := roundValue(base, u)
                    let gate := mload(add({h(M['GATE'])}, shl(5, k)))
                    powEval := mulmod(powEval, addmod(1, mulmod(u, addmod(gate, {h(P - 1)}, P), P), P), P)
                }}
                // row-disabling polynomial: 1 - prod_(k >= 2) (1 - u_k)
                let disabled := 1
                for {{ let k := 2 }} lt(k, {L}) {{ k := add(k, 1) }} {{
                    disabled := mulmod(disabled, addmod(1, sub(P, mload(add({h(M['U'])}, shl(5, k)))), P), P)
                }}
                let rel := relationSum(add(pp, {lay.evals}), powEval)
                let lhs := addmod(mulmod(rel, addmod(1, sub(P, disabled), P), P),
                    mulmod(calldataload(add(pp, {lay.libra_eval})), mload({h(M['LIBRA_CH'])}), P), P)
                ok := and(ok, eq(lhs, target))
            }}

            // ---- Libra consistency (small-subgroup IPA), with the inverses from batchInvert.
            function libraConsistent(pp) -> ok {{
                let r := mload({h(M['GEMINI_R'])})
                let r2 := mulmod(r, r, P)
                let vanishing := r2
                for {{ let k := 1 }} lt(k, 8) {{ k := add(k, 1) }} {{ vanishing := mulmod(vanishing, vanishing, P) }}
                vanishing := addmod(vanishing, {h(P - 1)}, P)  // r^256 - 1
                ok := iszero(iszero(vanishing))
                let scaled := mulmod(vanishing, {h(pow(SUBGROUP_SIZE, -1, P))}, P)  // (r^256 - 1) / 256
                let challengeEval := mulmod(mulmod(scaled, mload({h(M['LIBRA_NUM'])}), P), mload({h(inv['LIBRA_DEN'])}), P)
                let lagFirst := mulmod(scaled, mload({h(inv['R_MINUS_1'])}), P)
                let lagLast := mulmod(scaled, mload({h(inv['GR_MINUS_1'])}), P)
                let e0 := calldataload(add(pp, {lay.libra_poly_evals}))
                let e1 := calldataload(add(pp, {lay.libra_poly_evals + 32}))
                let e2 := calldataload(add(pp, {lay.libra_poly_evals + 64}))
                let e3 := calldataload(add(pp, {lay.libra_poly_evals + 96}))
                let diff := mulmod(lagFirst, e2, P)
                diff := addmod(diff, mulmod(addmod(r, {h(P - ginv)}, P),
                    addmod(addmod(e1, sub(P, e2), P), sub(P, mulmod(e0, challengeEval, P)), P), P), P)
                diff := addmod(diff, mulmod(lagLast, addmod(e2, sub(P, calldataload(add(pp, {lay.libra_eval}))), P), P), P)
                diff := addmod(diff, sub(P, mulmod(vanishing, e3, P)), P)
                ok := and(ok, iszero(diff))
            }}

            // ---- Shplemini: the scalars of the proof's commitments, the generator's and the KZG
            // quotient's, unweighted, into the proof's record.
            function shplemini(pp, rec) {{
                let e := add(pp, {lay.evals})
                let nu := mload({h(M['NU'])})
                let posInv0 := mload({h(inv['Z_MINUS_R0'])})
                let negInv0 := mload({h(inv['Z_PLUS_R0'])})
                let negU := sub(P, addmod(posInv0, mulmod(nu, negInv0, P), P))
                let negS := sub(P, mulmod(mload({h(inv['GEMINI_R'])}), addmod(posInv0, sub(P, mulmod(nu, negInv0, P)), P), P))
                let rho := mload({h(M['RHO'])})
                mstore(add(rec, {R['NEG_U']}), negU)
                mstore(add(rec, {R['RHO']}), rho)
                mstore(add(rec, {R['LAST']}), mload({h(M['LAST'])}))
                mstore(add(rec, {R['Z']}), mload({h(M['SHPLONK_Z'])}))
                let batched
                {shplemini_batching()}
                // A_j(r^(2^j)) from j = L-1 down to 0
                for {{ let j := {L} }} gt(j, 0) {{ }} {{
                    j := sub(j, 1)
                    let rj := mload(add({h(M['RPOW'])}, shl(5, j)))
                    let uj := mload(add({h(M['U'])}, shl(5, j)))
                    let aj := calldataload(add(pp, add({lay.gemini_a}, shl(5, j))))
                    let t := mulmod(rj, addmod(1, sub(P, uj), P), P)
                    let num := addmod(mulmod(mulmod(rj, batched, P), 2, P), sub(P, mulmod(aj, addmod(t, sub(P, uj), P), P)), P)
                    batched := mulmod(num, mload(add({h(inv['FOLD_DEN0'])}, shl(5, j))), P)
                    mstore(add({h(M['FOLD'])}, shl(5, j)), batched)
                }}
                let constant := addmod(mulmod(mload({h(M['FOLD'])}), posInv0, P),
                    mulmod(calldataload(add(pp, {lay.gemini_a})), mulmod(nu, negInv0, P), P), P)
                let nu2 := mulmod(nu, nu, P)
                b := nu2
                for {{ let j := 1 }} lt(j, {L}) {{ j := add(j, 1) }} {{
                    let sPos := mulmod(b, mload(add({h(inv['Z_MINUS_R0'])}, shl(5, j))), P)
                    let sNeg := mulmod(mulmod(b, nu, P), mload(add({h(inv['Z_PLUS_R0'])}, shl(5, j))), P)
                    mstore(add(rec, add({R['S_fold_0'] - 32}, shl(5, j))), sub(P, addmod(sPos, sNeg, P)))
                    constant := addmod(constant, addmod(mulmod(sNeg, calldataload(add(pp, add({lay.gemini_a}, shl(5, j)))), P),
                        mulmod(sPos, mload(add({h(M['FOLD'])}, shl(5, j))), P), P), P)
                    b := mulmod(b, nu2, P)
                }}
                // Libra openings: G(r), A(g r), A(r), A(1) = 0, Q(r)
                let lp := add(pp, {lay.libra_poly_evals})
                let s := mulmod(posInv0, b, P)
                mstore(add(rec, {R['S_libra_concat']}), sub(P, s))
                constant := addmod(constant, mulmod(s, calldataload(lp), P), P)
                b := mulmod(b, nu, P)
                s := mulmod(mload({h(inv['Z_MINUS_GR'])}), b, P)
                let grand := sub(P, s)
                constant := addmod(constant, mulmod(s, calldataload(add(lp, 0x20)), P), P)
                b := mulmod(b, nu, P)
                s := mulmod(posInv0, b, P)
                grand := addmod(grand, sub(P, s), P)
                constant := addmod(constant, mulmod(s, calldataload(add(lp, 0x40)), P), P)
                b := mulmod(b, nu, P)
                s := mulmod(mload({h(inv['Z_MINUS_1'])}), b, P)
                grand := addmod(grand, sub(P, s), P)
                b := mulmod(b, nu, P)
                s := mulmod(posInv0, b, P)
                mstore(add(rec, {R['S_libra_grand_product']}), grand)
                mstore(add(rec, {R['S_libra_quotient']}), sub(P, s))
                constant := addmod(constant, mulmod(s, calldataload(add(lp, 0x60)), P), P)
                mstore(add(rec, {R['CONST']}), constant)
            }}

            // ---- Pass 1 for proof i: every per-proof check; the record for the MSM.
            function checkProof(i, rec) {{
                let pp := proofData(i)
                let pi := publicData(i)
                let ok := 1
                {range_checks()}
                if iszero(ok) {{ fail({h(sel['ProofValueOutOfRange'] << 224)}, i) }}
                if iszero(curve) {{ fail({h(sel['PointNotOnCurve'] << 224)}, i) }}
                if iszero(pairingPointsDefault(pp)) {{ fail({h(sel['PairingPointsNotDefault'] << 224)}, i) }}
                transcript(pp, pi)
                // values to invert
                let num, den := publicInputDelta(pp, pi)
                mstore({h(inv['PI_DEN'])}, den)
                let r := mload({h(M['GEMINI_R'])})
                let z := mload({h(M['SHPLONK_Z'])})
                mstore({h(inv['GEMINI_R'])}, r)
                let rj := r
                for {{ let j := 0 }} lt(j, {L}) {{ j := add(j, 1) }} {{
                    mstore(add({h(M['RPOW'])}, shl(5, j)), rj)
                    mstore(add({h(inv['Z_MINUS_R0'])}, shl(5, j)), addmod(z, sub(P, rj), P))
                    mstore(add({h(inv['Z_PLUS_R0'])}, shl(5, j)), addmod(z, rj, P))
                    let uj := mload(add({h(M['U'])}, shl(5, j)))
                    mstore(add({h(inv['FOLD_DEN0'])}, shl(5, j)), addmod(mulmod(rj, addmod(1, sub(P, uj), P), P), uj, P))
                    rj := mulmod(rj, rj, P)
                }}
                mstore({h(inv['Z_MINUS_GR'])}, addmod(z, sub(P, mulmod({h(g)}, r, P)), P))
                mstore({h(inv['Z_MINUS_1'])}, addmod(z, {h(P - 1)}, P))
                let lnum, lden := libraFraction()
                mstore({h(M['LIBRA_NUM'])}, lnum)
                mstore({h(inv['LIBRA_DEN'])}, lden)
                mstore({h(inv['R_MINUS_1'])}, addmod(r, {h(P - 1)}, P))
                mstore({h(inv['GR_MINUS_1'])}, addmod(mulmod({h(g)}, r, P), {h(P - 1)}, P))
                if iszero(batchInvert()) {{ fail({h(sel['DegenerateChallenge'] << 224)}, i) }}
                mstore({h(M['PI_DELTA'])}, mulmod(num, mload({h(inv['PI_DEN'])}), P))
                if iszero(sumcheck(pp)) {{ fail({h(sel['SumcheckFailed'] << 224)}, i) }}
                if iszero(libraConsistent(pp)) {{ fail({h(sel['LibraConsistencyFailed'] << 224)}, i) }}
                shplemini(pp, rec)
            }}

            // ---- The pairing-point object (a recursion claim): must be the default, all limbs zero.
            // bb's verifier would fold a non-default one (two points, checked finite, < q and on
            // the curve) into the proof's pairing; no proof of a non-recursive circuit carries one.
            function pairingPointsDefault(pp) -> d {{
                d := 1
                for {{ let k := 0 }} lt(k, {PAIRING_LIMBS}) {{ k := add(k, 1) }} {{
                    d := and(d, iszero(calldataload(add(pp, shl(5, k)))))
                }}
            }}

            // ---- MSM helpers: acc (x, y) at acc, the ecMul result at acc + 0x40.
            function addTmp(acc) -> ok {{
                ok := staticcall(gas(), 0x06, acc, 0x80, acc, 0x40)
            }}
            function mulAddCalldata(acc, from, scalar) -> ok {{
                calldatacopy({h(M['MSM_IN'])}, from, 0x40)
                mstore({h(M['MSM_IN'] + 0x40)}, scalar)
                // (Yul evaluates arguments right to left: the two calls are separate statements)
                ok := staticcall(gas(), 0x07, {h(M['MSM_IN'])}, 0x60, add(acc, 0x40), 0x40)
                ok := and(ok, addTmp(acc))
            }}
            function mulAddConst(acc, x, y, scalar) -> ok {{
                mstore({h(M['MSM_IN'])}, x)
                mstore({h(M['MSM_IN'] + 0x20)}, y)
                mstore({h(M['MSM_IN'] + 0x40)}, scalar)
                ok := staticcall(gas(), 0x07, {h(M['MSM_IN'])}, 0x60, add(acc, 0x40), 0x40)
                ok := and(ok, addTmp(acc))
            }}

            // ---- Pass 2 for proof i with weight w: its weighted commitments into the accumulators.
            function accumulateProof(i, rec, w) {{
                let pp := proofData(i)
                let ok := 1
                switch i
                case 0 {{
                    // weight 1: the Shplonk quotient and the KZG quotient start the accumulators
                    calldatacopy({h(M['ACC0'])}, add(pp, {lay.shplonk_q}), 0x40)
                    calldatacopy({h(M['ACC1'])}, add(pp, {lay.kzg_quotient}), 0x40)
                }}
                default {{
                    ok := and(ok, mulAddCalldata({h(M['ACC0'])}, add(pp, {lay.shplonk_q}), w))
                    ok := and(ok, mulAddCalldata({h(M['ACC1'])}, add(pp, {lay.kzg_quotient}), w))
                }}
                {msm_proof_points()}
                ok := and(ok, mulAddCalldata({h(M['ACC0'])}, add(pp, {lay.kzg_quotient}), mulmod(mload(add(rec, {R['Z']})), w, P)))
                if iszero(ok) {{ fail({h(sel['PointNotOnCurve'] << 224)}, i) }}
                // generator and VK scalars
                mstore({h(M['GEN'])}, addmod(mload({h(M['GEN'])}), mulmod(mload(add(rec, {R['CONST']})), w, P), P))
                let a := mulmod(mload(add(rec, {R['NEG_U']})), w, P)
                let rho := mload(add(rec, {R['RHO']}))
                {vk_scalar_accumulation()}
            }}

            // ================================================================= main
            let k := calldataload(add(4, calldataload(4)))
            if or(or(iszero(k), gt(k, 0xffff)), gt(calldataload(4), 0xffffffff)) {{ fail({h(sel['BatchShape'] << 224)}, 0) }}
            if or(gt(calldataload(0x24), 0xffffffff), iszero(eq(calldataload(add(4, calldataload(0x24))), k))) {{
                fail({h(sel['BatchShape'] << 224)}, 0)
            }}
            // Pass 1: every per-proof check; records of the unweighted scalars.
            for {{ let i := 0 }} lt(i, k) {{ i := add(i, 1) }} {{
                checkProof(i, add({h(M['REC'])}, mul(i, {rec_size})))
            }}
            // Weights: seed = keccak256(for each proof: last transcript challenge, KZG quotient), w_0 = 1,
            // w_i = keccak256(seed, i) mod p.
            let seedBuf := add({h(M['REC'])}, mul(k, {rec_size}))
            for {{ let i := 0 }} lt(i, k) {{ i := add(i, 1) }} {{
                let at := add(seedBuf, mul(i, 0x60))
                mstore(at, mload(add(add({h(M['REC'])}, mul(i, {rec_size})), {R['LAST']})))
                calldatacopy(add(at, 0x20), add(proofData(i), {lay.kzg_quotient}), 0x40)
            }}
            let seed := keccak256(seedBuf, mul(k, 0x60))
            // Pass 2: one MSM.
            for {{ let a := {h(M['VKS'])} }} lt(a, {h(M['GEN'] + 32)}) {{ a := add(a, 0x20) }} {{ mstore(a, 0) }}
            for {{ let i := 0 }} lt(i, k) {{ i := add(i, 1) }} {{
                let w := 1
                if i {{
                    mstore(0x00, seed)
                    mstore(0x20, i)
                    w := mod(keccak256(0x00, 0x40), P)
                }}
                accumulateProof(i, add({h(M['REC'])}, mul(i, {rec_size})), w)
            }}
            let ok := 1
                {msm_vk_points()}
            ok := and(ok, mulAddConst({h(M['ACC0'])}, 1, 2, mload({h(M['GEN'])})))
            // One pairing: e(P0, [1]_2) e(-P1, [x]_2) == 1
            mstore({h(M['PAIR'])}, mload({h(M['ACC0'])}))
            mstore({h(M['PAIR'] + 0x20)}, mload({h(M['ACC0'] + 0x20)}))
            mstore({h(M['PAIR'] + 0x40)}, {h(G2_ONE[0])})
            mstore({h(M['PAIR'] + 0x60)}, {h(G2_ONE[1])})
            mstore({h(M['PAIR'] + 0x80)}, {h(G2_ONE[2])})
            mstore({h(M['PAIR'] + 0xa0)}, {h(G2_ONE[3])})
            mstore({h(M['PAIR'] + 0xc0)}, mload({h(M['ACC1'])}))
            mstore({h(M['PAIR'] + 0xe0)}, mod(sub(Q, mload({h(M['ACC1'] + 0x20)})), Q))
            mstore({h(M['PAIR'] + 0x100)}, {h(x2[0])})
            mstore({h(M['PAIR'] + 0x120)}, {h(x2[1])})
            mstore({h(M['PAIR'] + 0x140)}, {h(x2[2])})
            mstore({h(M['PAIR'] + 0x160)}, {h(x2[3])})
            ok := and(ok, staticcall(gas(), 0x08, {h(M['PAIR'])}, 0x180, 0x00, 0x20))
            if iszero(and(ok, eq(mload(0x00), 1))) {{ fail({h(sel['BatchPairingFailed'] << 224)}, 0) }}
            mstore(0x00, 1)
            return(0x00, 0x20)
        }}
    }}
}}

/// @notice {name}'s sumcheck relations behind an external function, for tests that compare them with
/// bb's Solidity relations on random inputs. Not used by {name}.
contract {name}Relations {{
    uint256 internal constant P = {h(P)};
    /// @param evals the 42 entity evaluations (index 0 is the Gemini masking polynomial, unused here)
    /// @param etaIn the relation parameter eta
    /// @param betaIn the relation parameter beta
    /// @param gammaIn the relation parameter gamma
    /// @param deltaIn the public-input delta
    /// @param alphaIn the subrelation challenge (subrelation i is weighted by alpha^i)
    /// @param powIn the pow polynomial's partial evaluation
    /// @return result the batched relation, as bb's verifier computes it before the row-disabling factor
    function relationSum(uint256[42] calldata evals, uint256 etaIn, uint256 betaIn, uint256 gammaIn,
        uint256 deltaIn, uint256 alphaIn, uint256 powIn) external pure returns (uint256 result) {{
        evals;
        assembly {{
{relations}
            // ================================================================= main
            mstore({h(M['ETA'])}, etaIn)
            mstore({h(M['ETA2'])}, mulmod(etaIn, etaIn, P))
            mstore({h(M['ETA3'])}, mulmod(mulmod(etaIn, etaIn, P), etaIn, P))
            mstore({h(M['BETA'])}, betaIn)
            mstore({h(M['GAMMA'])}, gammaIn)
            mstore({h(M['PI_DELTA'])}, deltaIn)
            let a := alphaIn
            for {{ let k := 0 }} lt(k, 28) {{ k := add(k, 1) }} {{
                mstore(add({h(M['ALPHA'])}, shl(5, k)), a)
                a := mulmod(a, alphaIn, P)
            }}
            result := relationSum(4, powIn)
        }}
    }}
}}
"""
    return localize_modulus(contract)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vk", required=True, help="verification key from `bb write_vk -t evm`")
    ap.add_argument("--g2", required=True, help="the CRS's bn254_g2.dat")
    ap.add_argument("--name", required=True, help="contract name, e.g. BatchSpendVerifier")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--params", default=os.path.join(ROOT, "src", "poseidon2", "poseidon2_params.h"))
    ap.add_argument("--source", default=None, help="text naming the VK's origin, for the header")
    args = ap.parse_args()
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", args.name):
        sys.exit(f"gen_batch_verifier.py: bad contract name {args.name!r}")
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    source = args.source or os.path.basename(args.vk)
    text = generate(args.name, args.vk, args.g2, args.params, source)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, args.name + ".sol")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    # Replace only when changed, so forge's cache stays valid across builds.
    if os.path.exists(path) and open(path).read() == text:
        os.remove(tmp)
    else:
        os.replace(tmp, path)
    print(f"gen_batch_verifier.py: {path}")


if __name__ == "__main__":
    main()
