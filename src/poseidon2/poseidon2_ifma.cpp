// Poseidon2 on eight states at once with AVX-512 IFMA (52-bit multiply-accumulate), for
// permute_many() on CPUs that have it. Only the functions marked BUCKETPAY_IFMA(_INLINE) use
// AVX-512; the file is compiled for the baseline, and poseidon2.cpp calls in here only after
// ifma::supported().
//
// Representation: each 512-bit vector holds one 52-bit limb of eight field elements (one per
// state), five limbs per element. Elements are in Montgomery form with R' = 2^260 (not the 2^256 of
// Fr): x is held as x * 2^260 mod p, in the lazy range of the bounds below, never reduced to
// canonical form until the output.
//
// mul(a, b) is word-by-word Montgomery multiplication (CIOS) in base 2^52 with 64-bit
// accumulators. For normalized a, b < 2^260 (every limb < 2^52) it returns a normalized value
// < a*b/2^260 + p. Every value stays below 2^260 with room to spare: ifma_bounds.py (run by ctest)
// follows the worst case through the whole permutation and prints (p < 2^253.6):
//  - inputs (< p) brought into R' form by mul(x, 2^264 mod p): < 2^253.6;
//  - after the full rounds' external layer (it multiplies by at most 16, its row sums): < 2^258.2;
//  - partial round outputs: < 2^255.7 (see partial_round);
//  - the largest multiplication input: b + c + d in the first partial round, < 2^259.5;
//  - the output mul(v, 2^256 mod p) < 1.08p is Fr's Montgomery form, reduced once.
// Additions leave limbs unnormalized (they only grow by a few bits); normalize() carries them before
// a value is multiplied.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "bucketpay/montgomery.h"
#include "ifma.h"
#include "tables.h"

namespace bucketpay::poseidon2::ifma {
namespace {

using mont::Limbs;
using Limbs52 = std::array<std::uint64_t, 5>;

constexpr std::uint64_t kMask52 = (std::uint64_t{1} << 52) - 1;

// Plain limbs -> five 52-bit limbs (the value must be < 2^260).
constexpr Limbs52 to52(const Limbs& a) {
  Limbs52 r{};
  for (int k = 0; k < 5; ++k) {
    const int bit = 52 * k;
    const int word = bit / 64;
    const int shift = bit % 64;
    std::uint64_t v = a[word] >> shift;
    if (shift > 12 && word + 1 < 4) v |= a[word + 1] << (64 - shift);
    r[k] = v & kMask52;
  }
  return r;
}

constexpr Limbs from52(const Limbs52& r) {
  return {r[0] | (r[1] << 52), (r[1] >> 12) | (r[2] << 40), (r[2] >> 24) | (r[3] << 28), (r[3] >> 36) | (r[4] << 16)};
}

// R'-form of a Fr Montgomery-form constant c * 2^256: c * 2^260 = mont::mul(c * 2^256, 16 * 2^256).
constexpr Limbs52 r260(const Limbs& montgomery) {
  return to52(mont::mul(montgomery, mont::to_montgomery({16, 0, 0, 0})));
}

struct Constants {
  Limbs52 p = to52(mont::kP);
  std::uint64_t p_inv = mont::kPInv & kMask52;                  // -p^-1 mod 2^52
  Limbs52 to_r260 = to52(mont::to_montgomery({256, 0, 0, 0}));  // 2^264 mod p
  Limbs52 to_r256 = to52(mont::kR);                             // 2^256 mod p
  Limbs52 one = to52(mont::to_montgomery({16, 0, 0, 0}));       // 2^260 mod p
  std::array<std::array<Limbs52, 4>, params::kRoundsFull> full{};
  std::array<Limbs52, params::kRoundsPartial> partial{};
  std::array<Limbs52, 4> diagonal_minus_one{};
};

constexpr Constants make_constants() {
  Constants c;
  for (std::size_t r = 0; r < params::kRoundsFull; ++r) {
    for (std::size_t i = 0; i < 4; ++i) c.full[r][i] = r260(tables::kTables.full[r][i]);
  }
  for (std::size_t r = 0; r < params::kRoundsPartial; ++r) c.partial[r] = r260(tables::kTables.partial[r]);
  for (std::size_t i = 0; i < 4; ++i) c.diagonal_minus_one[i] = r260(tables::kTables.diagonal_minus_one[i]);
  return c;
}

constexpr Constants kC = make_constants();
static_assert(from52(to52(mont::kP)) == mont::kP);
static_assert(mont::kP[3] < (std::uint64_t{1} << 62), "the bounds above need p < 2^254");

#define BUCKETPAY_IFMA __attribute__((target("avx512f,avx512ifma")))
#define BUCKETPAY_IFMA_INLINE __attribute__((target("avx512f,avx512ifma"), always_inline)) inline

using V = __m512i;
struct Fe {
  V l[5];
};

BUCKETPAY_IFMA_INLINE V splat(std::uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
BUCKETPAY_IFMA_INLINE V lo(V acc, V a, V b) { return _mm512_madd52lo_epu64(acc, a, b); }
BUCKETPAY_IFMA_INLINE V hi(V acc, V a, V b) { return _mm512_madd52hi_epu64(acc, a, b); }

// x >> 52 in every lane. (The maskz form: GCC 12's plain _mm512_srli_epi64 trips -Wuninitialized
// on its own undefined pass-through operand.)
BUCKETPAY_IFMA_INLINE V shr52(V x) { return _mm512_maskz_srli_epi64(0xFF, x, 52); }

BUCKETPAY_IFMA_INLINE Fe splat(const Limbs52& c) {
  return {{splat(c[0]), splat(c[1]), splat(c[2]), splat(c[3]), splat(c[4])}};
}

// Carries every limb into the next, leaving limbs < 2^52 (the value must be < 2^260).
BUCKETPAY_IFMA_INLINE Fe normalize(Fe x) {
  const V mask = splat(kMask52);
  for (int i = 0; i < 4; ++i) {
    x.l[i + 1] = _mm512_add_epi64(x.l[i + 1], shr52(x.l[i]));
    x.l[i] = _mm512_and_si512(x.l[i], mask);
  }
  return x;
}

BUCKETPAY_IFMA_INLINE Fe add(const Fe& a, const Fe& b) {
  Fe r{};
  for (int i = 0; i < 5; ++i) r.l[i] = _mm512_add_epi64(a.l[i], b.l[i]);
  return r;
}

// a * b / 2^260 mod p, normalized, < a*b/2^260 + p. Requires a, b normalized.
BUCKETPAY_IFMA_INLINE Fe mul(const Fe& a, const Fe& b) {
  const V zero = _mm512_setzero_si512();
  const V p_inv = splat(kC.p_inv);
  V t0 = zero, t1 = zero, t2 = zero, t3 = zero, t4 = zero, t5 = zero;
  for (int i = 0; i < 5; ++i) {
    const V bi = b.l[i];
    t0 = lo(t0, a.l[0], bi);
    t1 = hi(t1, a.l[0], bi);
    t1 = lo(t1, a.l[1], bi);
    t2 = hi(t2, a.l[1], bi);
    t2 = lo(t2, a.l[2], bi);
    t3 = hi(t3, a.l[2], bi);
    t3 = lo(t3, a.l[3], bi);
    t4 = hi(t4, a.l[3], bi);
    t4 = lo(t4, a.l[4], bi);
    t5 = hi(t5, a.l[4], bi);
    // m = t0 * -p^-1 mod 2^52 makes t0 + m*p divisible by 2^52.
    const V m = lo(zero, t0, p_inv);
    t0 = lo(t0, m, splat(kC.p[0]));
    t1 = hi(t1, m, splat(kC.p[0]));
    t1 = lo(t1, m, splat(kC.p[1]));
    t2 = hi(t2, m, splat(kC.p[1]));
    t2 = lo(t2, m, splat(kC.p[2]));
    t3 = hi(t3, m, splat(kC.p[2]));
    t3 = lo(t3, m, splat(kC.p[3]));
    t4 = hi(t4, m, splat(kC.p[3]));
    t4 = lo(t4, m, splat(kC.p[4]));
    t5 = hi(t5, m, splat(kC.p[4]));
    // Shift down one limb; t0's low 52 bits are zero, its high bits carry into t1.
    t0 = _mm512_add_epi64(t1, shr52(t0));
    t1 = t2;
    t2 = t3;
    t3 = t4;
    t4 = t5;
    t5 = zero;
  }
  return normalize(Fe{{t0, t1, t2, t3, t4}});
}

// x^5, input normalized.
BUCKETPAY_IFMA_INLINE Fe sbox(const Fe& x) {
  const Fe x2 = mul(x, x);
  const Fe x4 = mul(x2, x2);
  return mul(x4, x);
}

// M4 = [[5,7,1,3],[4,6,1,1],[1,3,5,7],[1,1,4,6]], as in the scalar permutation.
BUCKETPAY_IFMA_INLINE void external_layer(Fe& a, Fe& b, Fe& c, Fe& d) {
  const Fe t0 = add(a, b);
  const Fe t1 = add(c, d);
  const Fe t2 = add(add(b, b), t1);
  const Fe t3 = add(add(d, d), t0);
  Fe t4 = add(t1, t1);
  t4 = add(add(t4, t4), t3);
  Fe t5 = add(t0, t0);
  t5 = add(add(t5, t5), t2);
  a = add(t3, t5);
  b = t5;
  c = add(t2, t4);
  d = t4;
}

BUCKETPAY_IFMA_INLINE void full_round(const std::array<Limbs52, 4>& rc, Fe& a, Fe& b, Fe& c, Fe& d) {
  a = sbox(normalize(add(a, splat(rc[0]))));
  b = sbox(normalize(add(b, splat(rc[1]))));
  c = sbox(normalize(add(c, splat(rc[2]))));
  d = sbox(normalize(add(d, splat(rc[3]))));
  external_layer(a, b, c, d);
}

// y_i = x_i * (D_i - 1) + sum, sum = x_0 + x_1 + x_2 + x_3, with x_0 the S-box output.
// Left alone the sum would grow fourfold every round, so it is brought back near p by a
// multiplication with 2^260 (R' form of 1), computed from b + c + d alongside the S-box:
// b + c + d < 2^259.5 (the first round, after the external layer), mul(b + c + d, 1) < 1.01p,
// s = x^5 + that, y_i = mul(x_i, D_i - 1) + s < 2^255.7.
BUCKETPAY_IFMA_INLINE void partial_round(const Limbs52& rc, Fe& a, Fe& b, Fe& c, Fe& d) {
  const Fe x = normalize(add(a, splat(rc)));
  const Fe bcd = mul(normalize(add(add(b, c), d)), splat(kC.one));
  const Fe x5 = sbox(x);
  const Fe s = add(x5, bcd);
  a = add(mul(x5, splat(kC.diagonal_minus_one[0])), s);
  b = add(mul(normalize(b), splat(kC.diagonal_minus_one[1])), s);
  c = add(mul(normalize(c), splat(kC.diagonal_minus_one[2])), s);
  d = add(mul(normalize(d), splat(kC.diagonal_minus_one[3])), s);
}

// One lane of element e of eight states, in and out: 52-bit limbs, lane-major.
struct alignas(64) Transposed {
  std::uint64_t limb[5][8];
};

BUCKETPAY_IFMA_INLINE Fe load(const Transposed& t) {
  Fe r{};
  for (int i = 0; i < 5; ++i) r.l[i] = _mm512_load_si512(t.limb[i]);
  return r;
}

BUCKETPAY_IFMA_INLINE void store(const Fe& x, Transposed& t) {
  for (int i = 0; i < 5; ++i) _mm512_store_si512(t.limb[i], x.l[i]);
}

}  // namespace

bool supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
}

BUCKETPAY_IFMA void permute8(State* states) {
  std::array<Transposed, 4> in{};
  for (int lane = 0; lane < 8; ++lane) {
    for (int e = 0; e < 4; ++e) {
      const Limbs52 l = to52(states[lane][e].montgomery_limbs());
      for (int i = 0; i < 5; ++i) in[e].limb[i][lane] = l[i];
    }
  }
  const Fe to_r260 = splat(kC.to_r260);
  Fe a = mul(load(in[0]), to_r260);
  Fe b = mul(load(in[1]), to_r260);
  Fe c = mul(load(in[2]), to_r260);
  Fe d = mul(load(in[3]), to_r260);

  external_layer(a, b, c, d);
  for (std::size_t r = 0; r < tables::kHalfFull; ++r) full_round(kC.full[r], a, b, c, d);
  for (std::size_t r = 0; r < params::kRoundsPartial; ++r) partial_round(kC.partial[r], a, b, c, d);
  for (std::size_t r = tables::kHalfFull; r < params::kRoundsFull; ++r) full_round(kC.full[r], a, b, c, d);

  const Fe to_r256 = splat(kC.to_r256);
  std::array<Transposed, 4> out{};
  store(mul(normalize(a), to_r256), out[0]);
  store(mul(normalize(b), to_r256), out[1]);
  store(mul(normalize(c), to_r256), out[2]);
  store(mul(normalize(d), to_r256), out[3]);
  for (int lane = 0; lane < 8; ++lane) {
    for (int e = 0; e < 4; ++e) {
      Limbs52 l;
      for (int i = 0; i < 5; ++i) l[i] = out[e].limb[i][lane];
      states[lane][e] = Fr::from_montgomery_limbs(mont::canonical(from52(l)));
    }
  }
}

}  // namespace bucketpay::poseidon2::ifma
