#include "bucketpay/poseidon2.h"

#include <algorithm>
#include <cassert>

#include "bucketpay/montgomery.h"
#include "ifma.h"
#include "poseidon2_params.h"
#include "tables.h"

namespace bucketpay::poseidon2 {
namespace {

using mont::Limbs;

// The state lives in Montgomery form in the lazy range [0, 2p) for the whole permutation
// (see bucketpay/montgomery.h); only the output is brought back to canonical form.

using tables::kHalfFull;
using tables::kTables;

[[gnu::always_inline]] inline Limbs sbox(const Limbs& x) {
  const Limbs x2 = mont::square_lazy(x);
  const Limbs x4 = mont::square_lazy(x2);
  return mont::mul_lazy(x, x4);
}

// M4 = [[5,7,1,3],[4,6,1,1],[1,3,5,7],[1,1,4,6]] with the paper's 8 additions and 4 doublings.
[[gnu::always_inline]] inline void external_layer(Limbs& a, Limbs& b, Limbs& c, Limbs& d) {
  using mont::add_lazy;
  const Limbs t0 = add_lazy(a, b);                // A + B
  const Limbs t1 = add_lazy(c, d);                // C + D
  const Limbs t2 = add_lazy(add_lazy(b, b), t1);  // 2B + C + D
  const Limbs t3 = add_lazy(add_lazy(d, d), t0);  // A + B + 2D
  Limbs t4 = add_lazy(t1, t1);
  t4 = add_lazy(add_lazy(t4, t4), t3);  // A + B + 4C + 6D
  Limbs t5 = add_lazy(t0, t0);
  t5 = add_lazy(add_lazy(t5, t5), t2);  // 4A + 6B + C + D
  a = add_lazy(t3, t5);                 // 5A + 7B + C + 3D
  b = t5;
  c = add_lazy(t2, t4);  // A + 3B + 5C + 7D
  d = t4;
}

[[gnu::always_inline]] inline void full_round(const std::array<Limbs, 4>& rc, Limbs& a, Limbs& b, Limbs& c, Limbs& d) {
  a = sbox(mont::add_lazy(a, rc[0]));
  b = sbox(mont::add_lazy(b, rc[1]));
  c = sbox(mont::add_lazy(c, rc[2]));
  d = sbox(mont::add_lazy(d, rc[3]));
  external_layer(a, b, c, d);
}

// y_i = x_i * (D_i - 1) + (x_0 + x_1 + x_2 + x_3).
[[gnu::always_inline]] inline void partial_round(const Limbs& rc, Limbs& a, Limbs& b, Limbs& c, Limbs& d) {
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

namespace {
// Whether permute_many() uses the IFMA kernel: decided once, on first use.
bool use_ifma() {
  static const bool yes = ifma::supported();
  return yes;
}

// Capacity element n * 2^64 (Barretenberg's sponge IV for n inputs and one output).
Fr capacity(std::size_t n) { return Fr::from_montgomery_limbs(mont::to_montgomery({0, n, 0, 0})); }
}  // namespace

void permute_many(std::span<State> states) {
  std::size_t i = 0;
  if (use_ifma()) {
    for (; i + 8 <= states.size(); i += 8) ifma::permute8(&states[i]);
    if (i + 1 == states.size()) {
      permute(states[i]);  // one state alone: the scalar permutation is quicker than eight lanes
    } else if (i < states.size()) {
      std::array<State, 8> tail{};
      std::copy(states.begin() + static_cast<std::ptrdiff_t>(i), states.end(), tail.begin());
      ifma::permute8(tail.data());
      std::copy_n(tail.begin(), states.size() - i, states.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return;
  }
  for (; i < states.size(); ++i) permute(states[i]);
}

std::string_view permute_many_backend() { return use_ifma() ? "avx512ifma" : "scalar"; }

void hash3_many(std::span<const std::array<Fr, 3>> inputs, std::span<Fr> out) {
  assert(inputs.size() == out.size());
  const Fr iv = capacity(3);
  std::array<State, 64> chunk;
  for (std::size_t base = 0; base < out.size(); base += chunk.size()) {
    const std::size_t n = std::min(chunk.size(), out.size() - base);
    for (std::size_t k = 0; k < n; ++k) {
      const auto& in = inputs[base + k];
      chunk[k] = {in[0], in[1], in[2], iv};
    }
    permute_many(std::span<State>(chunk.data(), n));
    for (std::size_t k = 0; k < n; ++k) out[base + k] = chunk[k][0];
  }
}

Fr hash(std::span<const Fr> inputs) {
  assert(!inputs.empty() && inputs.size() <= 3 && "poseidon2::hash takes 1 to 3 inputs");
  State s{};
  for (std::size_t i = 0; i < inputs.size() && i < 3; ++i) s[i] = inputs[i];
  s[3] = capacity(inputs.size());
  permute(s);
  return s[0];
}

Fr hash1(const Fr& a) { return hash(std::array<Fr, 1>{a}); }
Fr hash2(const Fr& a, const Fr& b) { return hash(std::array<Fr, 2>{a, b}); }
Fr hash3(const Fr& a, const Fr& b, const Fr& c) { return hash(std::array<Fr, 3>{a, b, c}); }

}  // namespace bucketpay::poseidon2
