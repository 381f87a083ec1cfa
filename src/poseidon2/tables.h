// Barretenberg's Poseidon2 parameters (poseidon2_params.h) as Montgomery-form limbs, computed at
// compile time. Internal to src/poseidon2: the scalar permutation (poseidon2.cpp) and the AVX-512
// IFMA one (poseidon2_ifma.cpp) both start from these.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "bucketpay/montgomery.h"
#include "poseidon2_params.h"

namespace bucketpay::poseidon2::tables {

using mont::Limbs;

constexpr int hex_value(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

// "0x" + 64 hex digits (the generated parameter format) -> plain limbs.
constexpr Limbs plain_constant(std::string_view hex) {
  Limbs v{};
  for (std::size_t i = 2; i < hex.size(); ++i) {
    v[3] = (v[3] << 4) | (v[2] >> 60);
    v[2] = (v[2] << 4) | (v[1] >> 60);
    v[1] = (v[1] << 4) | (v[0] >> 60);
    v[0] = (v[0] << 4) | static_cast<std::uint64_t>(hex_value(hex[i]));
  }
  return v;
}

// -> Montgomery limbs (x * 2^256 mod p, canonical).
constexpr Limbs montgomery_constant(std::string_view hex) { return mont::to_montgomery(plain_constant(hex)); }

inline constexpr std::size_t kHalfFull = params::kRoundsFull / 2;

struct Tables {
  std::array<std::array<Limbs, 4>, params::kRoundsFull> full;  // rounds 0..3, then 60..63
  std::array<Limbs, params::kRoundsPartial> partial;           // lane 0 of rounds 4..59
  std::array<Limbs, 4> diagonal_minus_one;
};

constexpr Tables make_tables() {
  Tables t{};
  for (std::size_t r = 0; r < params::kRounds; ++r) {
    const bool full = r < kHalfFull || r >= kHalfFull + params::kRoundsPartial;
    if (full) {
      const std::size_t k = r < kHalfFull ? r : r - params::kRoundsPartial;
      for (std::size_t i = 0; i < 4; ++i) t.full[k][i] = montgomery_constant(params::kRoundConstants[r][i]);
    } else {
      t.partial[r - kHalfFull] = montgomery_constant(params::kRoundConstants[r][0]);
    }
  }
  for (std::size_t i = 0; i < 4; ++i) {
    t.diagonal_minus_one[i] = montgomery_constant(params::kInternalDiagonalMinusOne[i]);
  }
  return t;
}

inline constexpr Tables kTables = make_tables();

}  // namespace bucketpay::poseidon2::tables
