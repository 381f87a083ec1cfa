// Poseidon2 over the BN254 scalar field, state width t = 4, exactly as Barretenberg implements it
// (and so Noir's std::hash::poseidon2_permutation): S-box x^5, 4 + 4 full rounds, 56 partial rounds,
// Barretenberg's round constants, external matrix M4 and internal diagonal.
// Paper: Grassi, Khovratovich, Schofnegger, "Poseidon2: A Faster Version of the Poseidon Hash
// Function", AFRICACRYPT 2023 (ePrint 2023/323).
//
// H() is the protocol's hash (docs/protocol.md): for n <= 3 inputs,
//   H(x1..xn) = P([x1, x2, x3, n * 2^64])[0], missing inputs 0.
// This is the noir-lang/poseidon library's sponge for n <= 3 inputs (a single permutation).
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "bucketpay/field.h"

namespace bucketpay::poseidon2 {

using State = std::array<Fr, 4>;

// The permutation P, in place.
void permute(State& state);
// The permutation P, by value.
[[nodiscard]] State permutation(const State& input);

// The permutation P applied to every state, in place; the same results as permute() on each.
// Built for throughput (a tree level, many notes): on CPUs with AVX-512 IFMA it permutes eight
// states at a time in vector lanes, otherwise it runs permute() on each.
void permute_many(std::span<State> states);
// Which implementation permute_many() uses on this CPU: "avx512ifma" or "scalar".
[[nodiscard]] std::string_view permute_many_backend();

// out[i] = H(inputs[i][0], inputs[i][1], inputs[i][2]) for every i: hash3() in bulk, through
// permute_many(). Requires inputs.size() == out.size() (asserted).
void hash3_many(std::span<const std::array<Fr, 3>> inputs, std::span<Fr> out);

// H(x1..xn) for 1 <= n <= 3. Requires inputs.size() in [1, 3] (asserted).
[[nodiscard]] Fr hash(std::span<const Fr> inputs);
[[nodiscard]] Fr hash1(const Fr& a);
[[nodiscard]] Fr hash2(const Fr& a, const Fr& b);
[[nodiscard]] Fr hash3(const Fr& a, const Fr& b, const Fr& c);

}  // namespace bucketpay::poseidon2
