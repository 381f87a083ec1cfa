// Montgomery arithmetic on raw 4x64-bit limbs for the BN254 scalar field, R = 2^256.
//
// Internal to bucketpay: Fr (src/field) is built on these kernels, and Poseidon2 (src/poseidon2) uses
// them directly for its hot path with lazy reduction.
//
// Two ranges are used:
//  - canonical: a value < p (what Fr stores);
//  - lazy: a value < 2p. Since p < 2^254, 2p < 2^255 and the sum of two lazy values still fits in
//    256 bits.
// mul_lazy(a, b) with a < 2p and b < 2p returns a lazy value (< ab/R + p < 1.76p), congruent to
// a*b/R mod p, without the final subtraction; mul() returns the canonical value.
//
// Every function here is constant-time: no branches or memory accesses depend on the values.
// All are constexpr so that constant tables can be converted to Montgomery form at compile time.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace bucketpay::mont {

using Limbs = std::array<std::uint64_t, 4>;
__extension__ typedef unsigned __int128 u128;  // GCC/Clang extension, x86-64 and AArch64

inline constexpr Limbs kP = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL,
                             0x30644e72e131a029ULL};
inline constexpr Limbs k2P = {0x87c3eb27e0000002ULL, 0x5067d090f372e122ULL, 0x70a08b6d0302b0baULL,
                              0x60c89ce5c2634053ULL};
// -p^-1 mod 2^64.
inline constexpr std::uint64_t kPInv = 0xc2e1f593efffffffULL;
// R mod p (the Montgomery form of 1) and R^2 mod p (converts into Montgomery form).
inline constexpr Limbs kR = {0xac96341c4ffffffbULL, 0x36fc76959f60cd29ULL, 0x666ea36f7879462eULL,
                             0x0e0a77c19a07df2fULL};
inline constexpr Limbs kR2 = {0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL, 0x8c49833d53bb8085ULL,
                              0x0216d0b17f4e44a5ULL};

static_assert(kP[0] * kPInv == ~std::uint64_t{0}, "kPInv must be -p^-1 mod 2^64");
// The carry-free CIOS below needs a + p < 2^256 for its multiplicand a; with a < 2p that is 3p.
static_assert(kP[3] < (std::uint64_t{1} << 62), "p must leave two spare bits");

// Add and subtract with carry. On x86-64 the intrinsics compile to adc/sbb chains (baseline
// instructions, no ADX needed); elsewhere, and in constant evaluation, plain 128-bit arithmetic.
[[gnu::always_inline]] constexpr inline std::uint64_t addc(std::uint64_t a, std::uint64_t b, unsigned char& carry) {
#if defined(__x86_64__)
  if (!std::is_constant_evaluated()) {
    unsigned long long r;
    carry = _addcarry_u64(carry, a, b, &r);
    return r;
  }
#endif
  const u128 s = u128{a} + b + carry;
  carry = static_cast<unsigned char>(s >> 64);
  return static_cast<std::uint64_t>(s);
}

[[gnu::always_inline]] constexpr inline std::uint64_t subb(std::uint64_t a, std::uint64_t b, unsigned char& borrow) {
#if defined(__x86_64__)
  if (!std::is_constant_evaluated()) {
    unsigned long long r;
    borrow = _subborrow_u64(borrow, a, b, &r);
    return r;
  }
#endif
  const u128 d = u128{a} - b - borrow;
  borrow = static_cast<unsigned char>((d >> 64) & 1);
  return static_cast<std::uint64_t>(d);
}

// (hi, lo) = a * b.
[[gnu::always_inline]] constexpr inline std::uint64_t mul_wide(std::uint64_t a, std::uint64_t b, std::uint64_t& hi) {
  const u128 p = u128{a} * b;
  hi = static_cast<std::uint64_t>(p >> 64);
  return static_cast<std::uint64_t>(p);
}

// a - m if a >= m, else a. Requires a < 2m.
[[gnu::always_inline]] constexpr inline Limbs reduce_once(const Limbs& a, const Limbs& m) {
  unsigned char borrow = 0;
  const std::uint64_t s0 = subb(a[0], m[0], borrow);
  const std::uint64_t s1 = subb(a[1], m[1], borrow);
  const std::uint64_t s2 = subb(a[2], m[2], borrow);
  const std::uint64_t s3 = subb(a[3], m[3], borrow);
  // All ones when a < m (the subtraction borrowed): keep a.
  const std::uint64_t keep = 0 - static_cast<std::uint64_t>(borrow);
  return {(a[0] & keep) | (s0 & ~keep), (a[1] & keep) | (s1 & ~keep), (a[2] & keep) | (s2 & ~keep),
          (a[3] & keep) | (s3 & ~keep)};
}

// a + b without reduction. Requires a + b < 2^256.
[[gnu::always_inline]] constexpr inline Limbs add_raw(const Limbs& a, const Limbs& b) {
  unsigned char c = 0;
  const std::uint64_t r0 = addc(a[0], b[0], c);
  const std::uint64_t r1 = addc(a[1], b[1], c);
  const std::uint64_t r2 = addc(a[2], b[2], c);
  const std::uint64_t r3 = addc(a[3], b[3], c);
  return {r0, r1, r2, r3};
}

// Canonical a + b for canonical a, b.
[[gnu::always_inline]] constexpr inline Limbs add(const Limbs& a, const Limbs& b) {
  return reduce_once(add_raw(a, b), kP);
}

// Lazy a + b for lazy a, b.
[[gnu::always_inline]] constexpr inline Limbs add_lazy(const Limbs& a, const Limbs& b) {
  return reduce_once(add_raw(a, b), k2P);
}

// Canonical a - b for canonical a, b.
[[gnu::always_inline]] constexpr inline Limbs sub(const Limbs& a, const Limbs& b) {
  unsigned char borrow = 0;
  const std::uint64_t d0 = subb(a[0], b[0], borrow);
  const std::uint64_t d1 = subb(a[1], b[1], borrow);
  const std::uint64_t d2 = subb(a[2], b[2], borrow);
  const std::uint64_t d3 = subb(a[3], b[3], borrow);
  // Add p back when the subtraction borrowed.
  const std::uint64_t mask = 0 - static_cast<std::uint64_t>(borrow);
  unsigned char c = 0;
  const std::uint64_t r0 = addc(d0, kP[0] & mask, c);
  const std::uint64_t r1 = addc(d1, kP[1] & mask, c);
  const std::uint64_t r2 = addc(d2, kP[2] & mask, c);
  const std::uint64_t r3 = addc(d3, kP[3] & mask, c);
  return {r0, r1, r2, r3};
}

// One reduction step shared by mul_lazy and square_lazy: with t = (t0..t4) (5 words),
// returns (t + m*p) / 2^64 in t0..t3, where m = t0 * -p^-1 makes the division exact.
// Requires t + m*p < 2^320 (so t4 ends up 0 after the shift).
[[gnu::always_inline]] constexpr inline void reduce_step(std::uint64_t& t0, std::uint64_t& t1, std::uint64_t& t2,
                                                         std::uint64_t& t3, std::uint64_t t4) {
  const std::uint64_t m = t0 * kPInv;
  std::uint64_t h0, h1, h2, h3;
  const std::uint64_t l0 = mul_wide(m, kP[0], h0);
  const std::uint64_t l1 = mul_wide(m, kP[1], h1);
  const std::uint64_t l2 = mul_wide(m, kP[2], h2);
  const std::uint64_t l3 = mul_wide(m, kP[3], h3);
  unsigned char c = 0;
  (void)addc(t0, l0, c);  // the low word becomes 0
  t1 = addc(t1, l1, c);
  t2 = addc(t2, l2, c);
  t3 = addc(t3, l3, c);
  t4 = addc(t4, 0, c);
  c = 0;
  t0 = addc(t1, h0, c);
  t1 = addc(t2, h1, c);
  t2 = addc(t3, h2, c);
  t3 = addc(t4, h3, c);
}

// Montgomery product a*b/R mod p, lazy. Requires a < 2p and a*b < p*R (both lazy suffices; so does
// a < p with any 256-bit b). Coarsely Integrated Operand Scanning (Koc, Acar, Kaliski 1996) without
// the extra carry word: a + p < 2^256 keeps every intermediate t < a + p, so t + a*b_i + m*p < 2^320.
[[gnu::always_inline]] constexpr inline Limbs mul_lazy(const Limbs& a, const Limbs& b) {
  std::uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (int i = 0; i < 4; ++i) {
    // t += a * b_i, into five words.
    std::uint64_t h0, h1, h2, h3;
    const std::uint64_t l0 = mul_wide(a[0], b[i], h0);
    const std::uint64_t l1 = mul_wide(a[1], b[i], h1);
    const std::uint64_t l2 = mul_wide(a[2], b[i], h2);
    const std::uint64_t l3 = mul_wide(a[3], b[i], h3);
    unsigned char c = 0;
    t0 = addc(t0, l0, c);
    t1 = addc(t1, l1, c);
    t2 = addc(t2, l2, c);
    t3 = addc(t3, l3, c);
    std::uint64_t t4 = c;
    c = 0;
    t1 = addc(t1, h0, c);
    t2 = addc(t2, h1, c);
    t3 = addc(t3, h2, c);
    t4 = addc(t4, h3, c);
    reduce_step(t0, t1, t2, t3, t4);
  }
  return {t0, t1, t2, t3};
}

// Montgomery square a*a/R mod p, lazy, for lazy a. Computes the 512-bit square with each cross
// product once, then reduces it word by word (separated operand scanning).
[[gnu::always_inline]] constexpr inline Limbs square_lazy(const Limbs& a) {
  // Cross products a_i * a_j, i < j, into r1..r6.
  std::uint64_t h01, h02, h03, h12, h13, h23;
  std::uint64_t r1 = mul_wide(a[0], a[1], h01);
  const std::uint64_t l02 = mul_wide(a[0], a[2], h02);
  const std::uint64_t l03 = mul_wide(a[0], a[3], h03);
  const std::uint64_t l12 = mul_wide(a[1], a[2], h12);
  const std::uint64_t l13 = mul_wide(a[1], a[3], h13);
  const std::uint64_t l23 = mul_wide(a[2], a[3], h23);
  unsigned char c = 0;
  std::uint64_t r2 = addc(l02, h01, c);
  std::uint64_t r3 = addc(l03, h02, c);
  std::uint64_t r4 = addc(h03, 0, c);  // a0*a_j row done: r1..r4
  c = 0;
  r3 = addc(r3, l12, c);
  r4 = addc(r4, h12, c);
  std::uint64_t r5 = addc(h13, 0, c);
  c = 0;
  r4 = addc(r4, l13, c);
  r5 = addc(r5, l23, c);
  std::uint64_t r6 = addc(h23, 0, c);
  // Double them.
  const std::uint64_t r7 = r6 >> 63;
  r6 = (r6 << 1) | (r5 >> 63);
  r5 = (r5 << 1) | (r4 >> 63);
  r4 = (r4 << 1) | (r3 >> 63);
  r3 = (r3 << 1) | (r2 >> 63);
  r2 = (r2 << 1) | (r1 >> 63);
  r1 = r1 << 1;
  // Add the squares a_i^2 on the diagonal.
  std::uint64_t s0h, s1h, s2h, s3h;
  std::uint64_t r0 = mul_wide(a[0], a[0], s0h);
  const std::uint64_t s1l = mul_wide(a[1], a[1], s1h);
  const std::uint64_t s2l = mul_wide(a[2], a[2], s2h);
  const std::uint64_t s3l = mul_wide(a[3], a[3], s3h);
  c = 0;
  r1 = addc(r1, s0h, c);
  r2 = addc(r2, s1l, c);
  r3 = addc(r3, s1h, c);
  r4 = addc(r4, s2l, c);
  r5 = addc(r5, s2h, c);
  r6 = addc(r6, s3l, c);
  std::uint64_t r7s = addc(r7, s3h, c);  // no carry out: a^2 < 2^512

  // Montgomery reduction of the low half, then add the high half. The result is
  // (a^2 + M*p)/R < a^2/R + p < 2p.
  std::uint64_t t0 = r0, t1 = r1, t2 = r2, t3 = r3;
  for (int i = 0; i < 4; ++i) reduce_step(t0, t1, t2, t3, 0);
  c = 0;
  t0 = addc(t0, r4, c);
  t1 = addc(t1, r5, c);
  t2 = addc(t2, r6, c);
  t3 = addc(t3, r7s, c);
  return {t0, t1, t2, t3};
}

// Canonical a*b/R mod p for a < 2p and b < 2p (or a < p and any b).
[[gnu::always_inline]] constexpr inline Limbs mul(const Limbs& a, const Limbs& b) {
  return reduce_once(mul_lazy(a, b), kP);
}

// Canonical form of a lazy value.
[[gnu::always_inline]] constexpr inline Limbs canonical(const Limbs& a) { return reduce_once(a, kP); }

// Montgomery form of a canonical (or any 256-bit) value: a*R mod p, canonical.
constexpr inline Limbs to_montgomery(const Limbs& a) { return mul(kR2, a); }
// Plain value of a Montgomery-form value: a/R mod p, canonical.
constexpr inline Limbs from_montgomery(const Limbs& a) { return mul(a, Limbs{1, 0, 0, 0}); }

}  // namespace bucketpay::mont
