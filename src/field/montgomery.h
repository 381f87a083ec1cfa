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

// a - m if a >= m, else a. Requires a < 2m.
[[gnu::always_inline]] constexpr inline Limbs reduce_once(const Limbs& a, const Limbs& m) {
  u128 d = u128{a[0]} - m[0];
  const std::uint64_t s0 = static_cast<std::uint64_t>(d);
  d = u128{a[1]} - m[1] - static_cast<std::uint64_t>(d >> 127);
  const std::uint64_t s1 = static_cast<std::uint64_t>(d);
  d = u128{a[2]} - m[2] - static_cast<std::uint64_t>(d >> 127);
  const std::uint64_t s2 = static_cast<std::uint64_t>(d);
  d = u128{a[3]} - m[3] - static_cast<std::uint64_t>(d >> 127);
  const std::uint64_t s3 = static_cast<std::uint64_t>(d);
  // All ones when a < m (the subtraction borrowed): keep a.
  const std::uint64_t keep = 0 - static_cast<std::uint64_t>(d >> 127);
  return {(a[0] & keep) | (s0 & ~keep), (a[1] & keep) | (s1 & ~keep), (a[2] & keep) | (s2 & ~keep),
          (a[3] & keep) | (s3 & ~keep)};
}

// a + b without reduction. Requires a + b < 2^256.
[[gnu::always_inline]] constexpr inline Limbs add_raw(const Limbs& a, const Limbs& b) {
  u128 s = u128{a[0]} + b[0];
  const std::uint64_t r0 = static_cast<std::uint64_t>(s);
  s = u128{a[1]} + b[1] + static_cast<std::uint64_t>(s >> 64);
  const std::uint64_t r1 = static_cast<std::uint64_t>(s);
  s = u128{a[2]} + b[2] + static_cast<std::uint64_t>(s >> 64);
  const std::uint64_t r2 = static_cast<std::uint64_t>(s);
  s = u128{a[3]} + b[3] + static_cast<std::uint64_t>(s >> 64);
  return {r0, r1, r2, static_cast<std::uint64_t>(s)};
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
  u128 d = u128{a[0]} - b[0];
  std::uint64_t r0 = static_cast<std::uint64_t>(d);
  d = u128{a[1]} - b[1] - static_cast<std::uint64_t>(d >> 127);
  std::uint64_t r1 = static_cast<std::uint64_t>(d);
  d = u128{a[2]} - b[2] - static_cast<std::uint64_t>(d >> 127);
  std::uint64_t r2 = static_cast<std::uint64_t>(d);
  d = u128{a[3]} - b[3] - static_cast<std::uint64_t>(d >> 127);
  std::uint64_t r3 = static_cast<std::uint64_t>(d);
  // Add p back when the subtraction borrowed.
  const std::uint64_t mask = 0 - static_cast<std::uint64_t>(d >> 127);
  u128 s = u128{r0} + (kP[0] & mask);
  r0 = static_cast<std::uint64_t>(s);
  s = u128{r1} + (kP[1] & mask) + static_cast<std::uint64_t>(s >> 64);
  r1 = static_cast<std::uint64_t>(s);
  s = u128{r2} + (kP[2] & mask) + static_cast<std::uint64_t>(s >> 64);
  r2 = static_cast<std::uint64_t>(s);
  r3 = r3 + (kP[3] & mask) + static_cast<std::uint64_t>(s >> 64);
  return {r0, r1, r2, r3};
}

// Montgomery product a*b/R mod p, lazy. Requires a < 2p and a*b < p*R (both lazy suffices; so does
// a < p with any 256-bit b). Coarsely Integrated Operand Scanning (Koc, Acar, Kaliski 1996) in the
// form without the extra carry word, valid because a + p < 2^256 keeps every intermediate t < a + p.
[[gnu::always_inline]] constexpr inline Limbs mul_lazy(const Limbs& a, const Limbs& b) {
  std::uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (int i = 0; i < 4; ++i) {
    const std::uint64_t bi = b[i];
    u128 x = u128{a[0]} * bi + t0;
    std::uint64_t hi_a = static_cast<std::uint64_t>(x >> 64);
    t0 = static_cast<std::uint64_t>(x);
    const std::uint64_t m = t0 * kPInv;
    u128 y = u128{m} * kP[0] + t0;
    std::uint64_t hi_c = static_cast<std::uint64_t>(y >> 64);

    x = u128{a[1]} * bi + t1 + hi_a;
    hi_a = static_cast<std::uint64_t>(x >> 64);
    t1 = static_cast<std::uint64_t>(x);
    y = u128{m} * kP[1] + t1 + hi_c;
    hi_c = static_cast<std::uint64_t>(y >> 64);
    t0 = static_cast<std::uint64_t>(y);

    x = u128{a[2]} * bi + t2 + hi_a;
    hi_a = static_cast<std::uint64_t>(x >> 64);
    t2 = static_cast<std::uint64_t>(x);
    y = u128{m} * kP[2] + t2 + hi_c;
    hi_c = static_cast<std::uint64_t>(y >> 64);
    t1 = static_cast<std::uint64_t>(y);

    x = u128{a[3]} * bi + t3 + hi_a;
    hi_a = static_cast<std::uint64_t>(x >> 64);
    t3 = static_cast<std::uint64_t>(x);
    y = u128{m} * kP[3] + t3 + hi_c;
    hi_c = static_cast<std::uint64_t>(y >> 64);
    t2 = static_cast<std::uint64_t>(y);

    t3 = hi_a + hi_c;
  }
  return {t0, t1, t2, t3};
}

// Montgomery square a*a/R mod p, lazy, for lazy a. Computes the 512-bit square with each cross
// product once, then reduces it word by word (separated operand scanning).
[[gnu::always_inline]] constexpr inline Limbs square_lazy(const Limbs& a) {
  // Cross products a_i * a_j, i < j, into r1..r6.
  u128 x = u128{a[0]} * a[1];
  std::uint64_t r1 = static_cast<std::uint64_t>(x);
  x = u128{a[0]} * a[2] + static_cast<std::uint64_t>(x >> 64);
  std::uint64_t r2 = static_cast<std::uint64_t>(x);
  x = u128{a[0]} * a[3] + static_cast<std::uint64_t>(x >> 64);
  std::uint64_t r3 = static_cast<std::uint64_t>(x);
  std::uint64_t r4 = static_cast<std::uint64_t>(x >> 64);

  x = u128{a[1]} * a[2] + r3;
  r3 = static_cast<std::uint64_t>(x);
  x = u128{a[1]} * a[3] + r4 + static_cast<std::uint64_t>(x >> 64);
  r4 = static_cast<std::uint64_t>(x);
  std::uint64_t r5 = static_cast<std::uint64_t>(x >> 64);

  x = u128{a[2]} * a[3] + r5;
  r5 = static_cast<std::uint64_t>(x);
  std::uint64_t r6 = static_cast<std::uint64_t>(x >> 64);

  // Double them.
  const std::uint64_t r7 = r6 >> 63;
  r6 = (r6 << 1) | (r5 >> 63);
  r5 = (r5 << 1) | (r4 >> 63);
  r4 = (r4 << 1) | (r3 >> 63);
  r3 = (r3 << 1) | (r2 >> 63);
  r2 = (r2 << 1) | (r1 >> 63);
  r1 = r1 << 1;

  // Add the squares a_i^2 on the diagonal.
  x = u128{a[0]} * a[0];
  std::uint64_t r[8] = {static_cast<std::uint64_t>(x), r1, r2, r3, r4, r5, r6, r7};
  u128 s = u128{r[1]} + static_cast<std::uint64_t>(x >> 64);
  r[1] = static_cast<std::uint64_t>(s);
  for (int i = 1; i < 4; ++i) {
    const u128 sq = u128{a[i]} * a[i];
    s = u128{r[2 * i]} + static_cast<std::uint64_t>(sq) + static_cast<std::uint64_t>(s >> 64);
    r[2 * i] = static_cast<std::uint64_t>(s);
    s = u128{r[2 * i + 1]} + static_cast<std::uint64_t>(sq >> 64) + static_cast<std::uint64_t>(s >> 64);
    r[2 * i + 1] = static_cast<std::uint64_t>(s);
  }
  // No carry out of r[7]: a^2 < 2^512.

  // Montgomery reduction: four rounds, each clearing the lowest remaining word.
  // The result < a^2/R + p < 2p; the words above stay within 512 bits.
  std::uint64_t top = 0;  // carry out of word i + 4 of the previous round
  for (int i = 0; i < 4; ++i) {
    const std::uint64_t m = r[i] * kPInv;
    u128 y = u128{m} * kP[0] + r[i];
    y = u128{m} * kP[1] + r[i + 1] + static_cast<std::uint64_t>(y >> 64);
    r[i + 1] = static_cast<std::uint64_t>(y);
    y = u128{m} * kP[2] + r[i + 2] + static_cast<std::uint64_t>(y >> 64);
    r[i + 2] = static_cast<std::uint64_t>(y);
    y = u128{m} * kP[3] + r[i + 3] + static_cast<std::uint64_t>(y >> 64);
    r[i + 3] = static_cast<std::uint64_t>(y);
    y = u128{r[i + 4]} + top + static_cast<std::uint64_t>(y >> 64);
    r[i + 4] = static_cast<std::uint64_t>(y);
    top = static_cast<std::uint64_t>(y >> 64);
  }
  return {r[4], r[5], r[6], r[7]};
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
