#include "bucketpay/poseidon2.h"

#include <cassert>
#include <string_view>

#include "field/montgomery.h"
#include "poseidon2/poseidon2_params.h"

namespace bucketpay::poseidon2 {
namespace {

using mont::Limbs;

// The state lives in Montgomery form in the lazy range [0, 2p) for the whole permutation
// (see field/montgomery.h); only the output is brought back to canonical form.

constexpr int hex_value(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

// "0x" + 64 hex digits (the generated parameter format) -> Montgomery limbs.
constexpr Limbs montgomery_constant(std::string_view hex) {
  Limbs v{};
  for (std::size_t i = 2; i < hex.size(); ++i) {
    v[3] = (v[3] << 4) | (v[2] >> 60);
    v[2] = (v[2] << 4) | (v[1] >> 60);
    v[1] = (v[1] << 4) | (v[0] >> 60);
    v[0] = (v[0] << 4) | static_cast<std::uint64_t>(hex_value(hex[i]));
  }
  return mont::to_montgomery(v);
}

constexpr std::size_t kHalfFull = params::kRoundsFull / 2;

struct Tables {
  std::array<std::array<Limbs, 4>, params::kRoundsFull> full;  // rounds 0..3, then 60..63
  std::array<Limbs, params::kRoundsPartial> partial;            // lane 0 of rounds 4..59
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

constexpr Tables kTables = make_tables();

[[gnu::always_inline]] inline Limbs sbox(const Limbs& x) {
  const Limbs x2 = mont::square_lazy(x);
  const Limbs x4 = mont::square_lazy(x2);
  return mont::mul_lazy(x, x4);
}

// M4 = [[5,7,1,3],[4,6,1,1],[1,3,5,7],[1,1,4,6]] with the paper's 8 additions and 4 doublings.
[[gnu::always_inline]] inline void external_layer(Limbs& a, Limbs& b, Limbs& c, Limbs& d) {
  using mont::add_lazy;
  const Limbs t0 = add_lazy(a, b);                      // A + B
  const Limbs t1 = add_lazy(c, d);                      // C + D
  const Limbs t2 = add_lazy(add_lazy(b, b), t1);        // 2B + C + D
  const Limbs t3 = add_lazy(add_lazy(d, d), t0);        // A + B + 2D
  Limbs t4 = add_lazy(t1, t1);
  t4 = add_lazy(add_lazy(t4, t4), t3);                  // A + B + 4C + 6D
  Limbs t5 = add_lazy(t0, t0);
  t5 = add_lazy(add_lazy(t5, t5), t2);                  // 4A + 6B + C + D
  a = add_lazy(t3, t5);                                 // 5A + 7B + C + 3D
  b = t5;
  c = add_lazy(t2, t4);                                 // A + 3B + 5C + 7D
  d = t4;
}

[[gnu::always_inline]] inline void full_round(const std::array<Limbs, 4>& rc, Limbs& a, Limbs& b,
                                              Limbs& c, Limbs& d) {
  a = sbox(mont::add_lazy(a, rc[0]));
  b = sbox(mont::add_lazy(b, rc[1]));
  c = sbox(mont::add_lazy(c, rc[2]));
  d = sbox(mont::add_lazy(d, rc[3]));
  external_layer(a, b, c, d);
}

// y_i = x_i * (D_i - 1) + (x_0 + x_1 + x_2 + x_3).
[[gnu::always_inline]] inline void partial_round(const Limbs& rc, Limbs& a, Limbs& b, Limbs& c,
                                                 Limbs& d) {
  using mont::add_lazy;
  using mont::mul_lazy;
  a = sbox(add_lazy(a, rc));
  const Limbs sum = add_lazy(add_lazy(a, b), add_lazy(c, d));
  const auto& diag = kTables.diagonal_minus_one;
  a = add_lazy(mul_lazy(a, diag[0]), sum);
  b = add_lazy(mul_lazy(b, diag[1]), sum);
  c = add_lazy(mul_lazy(c, diag[2]), sum);
  d = add_lazy(mul_lazy(d, diag[3]), sum);
}

}  // namespace

void permute(State& state) {
  Limbs a = state[0].montgomery_limbs();
  Limbs b = state[1].montgomery_limbs();
  Limbs c = state[2].montgomery_limbs();
  Limbs d = state[3].montgomery_limbs();

  external_layer(a, b, c, d);
  for (std::size_t r = 0; r < kHalfFull; ++r) full_round(kTables.full[r], a, b, c, d);
  for (std::size_t r = 0; r < params::kRoundsPartial; ++r) partial_round(kTables.partial[r], a, b, c, d);
  for (std::size_t r = kHalfFull; r < params::kRoundsFull; ++r) full_round(kTables.full[r], a, b, c, d);

  state[0] = Fr::from_montgomery_limbs(mont::canonical(a));
  state[1] = Fr::from_montgomery_limbs(mont::canonical(b));
  state[2] = Fr::from_montgomery_limbs(mont::canonical(c));
  state[3] = Fr::from_montgomery_limbs(mont::canonical(d));
}

State permutation(const State& input) {
  State s = input;
  permute(s);
  return s;
}

Fr hash(std::span<const Fr> inputs) {
  assert(!inputs.empty() && inputs.size() <= 3 && "poseidon2::hash takes 1 to 3 inputs");
  State s{};
  for (std::size_t i = 0; i < inputs.size() && i < 3; ++i) s[i] = inputs[i];
  // Capacity element n * 2^64 (Barretenberg's sponge IV for n inputs and one output).
  s[3] = Fr::from_montgomery_limbs(mont::to_montgomery({0, inputs.size(), 0, 0}));
  permute(s);
  return s[0];
}

Fr hash1(const Fr& a) { return hash(std::array<Fr, 1>{a}); }
Fr hash2(const Fr& a, const Fr& b) { return hash(std::array<Fr, 2>{a, b}); }
Fr hash3(const Fr& a, const Fr& b, const Fr& c) { return hash(std::array<Fr, 3>{a, b, c}); }

}  // namespace bucketpay::poseidon2
