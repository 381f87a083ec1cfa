// The BN254 scalar field F_p, p = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001.
//
// Fr holds an element in Montgomery form (a * 2^256 mod p) in four 64-bit little-endian limbs,
// always fully reduced (< p), so == compares values. All arithmetic is constant-time with respect to
// the values (no branches or memory accesses that depend on secret data) except inverse() and pow(),
// which are variable-time in the exponent and must not be used on secret exponents.
//
// Parsing is strict: from_string accepts a decimal string ("0".."p-1", no sign, no leading '+',
// no spaces, no leading zeros except "0" itself) or a 0x-prefixed hex string of 1..64 hex digits
// (either case); anything else, or a value >= p, is an invalid-argument error.
//
// Thread safety: Fr is a plain value type.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "bucketpay/status.h"

namespace bucketpay {

class Fr {
 public:
  using Limbs = std::array<std::uint64_t, 4>;  // little-endian 64-bit limbs
  using Bytes = std::array<std::uint8_t, 32>;  // big-endian canonical encoding

  // p, canonical limbs.
  static constexpr Limbs kModulus = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL,
                                     0x30644e72e131a029ULL};

  // Zero.
  constexpr Fr() = default;

  static Fr zero() { return Fr(); }
  static Fr one();
  static Fr from_u64(std::uint64_t v);
  // Requires limbs < p (checked: returns an error otherwise).
  static Result<Fr> from_canonical_limbs(const Limbs& limbs);
  // 32 big-endian bytes; rejects values >= p.
  static Result<Fr> from_bytes(std::span<const std::uint8_t, 32> bytes);
  // Reduces any 256-bit big-endian value mod p (for hashing to the field, not for parsing input).
  static Fr from_bytes_reduce(std::span<const std::uint8_t, 32> bytes);
  // Decimal or 0x-hex, strictly (see the file comment).
  static Result<Fr> from_string(std::string_view s);
  // A uniformly random element from the OS's secure random source (libsodium), by rejection sampling.
  static Fr random();

  [[nodiscard]] Limbs to_canonical_limbs() const;
  [[nodiscard]] Bytes to_bytes() const;          // canonical, big-endian
  [[nodiscard]] std::string to_hex() const;      // "0x" + exactly 64 lowercase hex digits
  [[nodiscard]] std::string to_decimal() const;  // canonical decimal, no leading zeros

  friend Fr operator+(const Fr& a, const Fr& b);
  friend Fr operator-(const Fr& a, const Fr& b);
  friend Fr operator*(const Fr& a, const Fr& b);
  Fr operator-() const;
  Fr& operator+=(const Fr& b) { return *this = *this + b; }
  Fr& operator-=(const Fr& b) { return *this = *this - b; }
  Fr& operator*=(const Fr& b) { return *this = *this * b; }

  [[nodiscard]] Fr square() const;
  // a^e for a 256-bit exponent given as little-endian limbs. Variable-time in e.
  [[nodiscard]] Fr pow(const Limbs& e) const;
  [[nodiscard]] Fr pow(std::uint64_t e) const { return pow(Limbs{e, 0, 0, 0}); }
  // The multiplicative inverse; inverse of zero is zero. Variable-time.
  [[nodiscard]] Fr inverse() const;

  [[nodiscard]] bool is_zero() const { return (m_[0] | m_[1] | m_[2] | m_[3]) == 0; }
  friend bool operator==(const Fr& a, const Fr& b) = default;

  // Raw Montgomery limbs, for hashing into containers and for fast paths in Poseidon2.
  [[nodiscard]] const Limbs& montgomery_limbs() const { return m_; }
  static constexpr Fr from_montgomery_limbs(const Limbs& m) {
    Fr r;
    r.m_ = m;
    return r;
  }

 private:
  Limbs m_{};  // Montgomery form, < p
};

}  // namespace bucketpay
