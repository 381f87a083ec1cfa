// Amounts in cents and their binary buckets.
//
// A payment of A cents is made of notes whose values are distinct powers of two 2^0..2^16 cents
// (17 buckets, $0.01 to $1,310.71): the binary decomposition of A. kMaxPaymentCents is the largest
// amount one payment can carry.
//
// Parsing is strict; every function here is a pure function, safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "bucketpay/status.h"

namespace bucketpay {

using Cents = std::uint64_t;

inline constexpr int kBucketCount = 17;
// The largest amount one payment can carry: all 17 buckets, 2^17 - 1 cents = $1,310.71.
inline constexpr Cents kMaxPaymentCents = (Cents{1} << kBucketCount) - 1;  // 131,071
// The largest value a note can hold (the protocol's v < 2^64).
inline constexpr Cents kMaxNoteValue = ~Cents{0};

// The bucket denominations in cents, smallest first: 1, 2, 4, ..., 65,536.
inline constexpr std::array<Cents, kBucketCount> kBuckets = [] {
  std::array<Cents, kBucketCount> b{};
  for (int i = 0; i < kBucketCount; ++i) b[i] = Cents{1} << i;
  return b;
}();

enum class AmountUnit {
  kDollars,  // "12.34", "0.01", "1310.71", "12", "12.5": digits, optionally '.' and 1 or 2 decimals
  kCents,    // "1234": digits only
};

// Parses an amount into cents. Rejects: empty strings, signs (+/-), spaces, exponents, more than
// two decimals, a '.' without digits on both sides, leading zeros ("012"; "0.5" is fine), any
// other character, zero, and anything above `max_cents` (overflow included). The error message
// names the input and the rule it broke.
Result<Cents> parse_amount(std::string_view text, AmountUnit unit = AmountUnit::kDollars,
                           Cents max_cents = kMaxPaymentCents);

// "12.34" for 1234 cents (always two decimals).
std::string format_dollars(Cents cents);

// The buckets of an amount, smallest first.
// Only the first `count` entries of `buckets` are meaningful.
struct Decomposition {
  std::array<std::uint32_t, kBucketCount> buckets{};  // cents; 2^16 fits in 32 bits
  int count = 0;

  [[nodiscard]] const std::uint32_t* begin() const { return buckets.data(); }
  [[nodiscard]] const std::uint32_t* end() const { return buckets.data() + count; }
};

// Requires 0 <= cents <= kMaxPaymentCents (higher bits are ignored). Each set bit is one bucket.
inline Decomposition decompose(Cents cents) {
  // Branch-free: every bucket is written, and the count advances only over set bits, so random
  // amounts cost no mispredictions.
  Decomposition d;
  int count = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    d.buckets[static_cast<std::size_t>(count)] = std::uint32_t{1} << i;
    count += static_cast<int>((cents >> i) & 1U);
  }
  d.count = count;
  return d;
}

}  // namespace bucketpay
