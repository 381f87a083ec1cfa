// Poseidon2 against Barretenberg itself: the pinned native bb, through its msgpack API
// (Poseidon2Permutation, Poseidon2Hash), on fresh random inputs each run plus edge values.
#include "bucketpay/poseidon2.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "bucketpay/bb.h"
#include "poseidon2_params.h"
#include "testing/testing.h"

namespace bucketpay::poseidon2 {
namespace {

Fr parse(std::string_view s) {
  auto r = Fr::from_string(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? *r : Fr();
}

std::string show(const State& s) {
  std::string out;
  for (const Fr& x : s) out.append(out.empty() ? "[" : ", ").append(x.to_hex());
  return out.append("]");
}

// 0, 1, p - 1, 2^64: every lane combination of these is tested.
std::vector<Fr> edge_values() { return {Fr::zero(), Fr::one(), -Fr::one(), parse("18446744073709551616")}; }

// Every state whose four lanes are edge values (256 states).
std::vector<State> edge_states() {
  const auto edges = edge_values();
  std::vector<State> states;
  for (const Fr& w : edges) {
    for (const Fr& x : edges) {
      for (const Fr& y : edges) {
        for (const Fr& z : edges) states.push_back({w, x, y, z});
      }
    }
  }
  return states;
}

std::vector<State> random_states(std::size_t n) {
  std::vector<State> states(n);
  for (State& s : states) s = {Fr::random(), Fr::random(), Fr::random(), Fr::random()};
  return states;
}

// One persistent bb process for the whole suite.
class Poseidon2VsBb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bb::ProcessOptions options;
    options.binary = testing::bb_binary();
    auto p = bb::Process::start(options);
    if (!p.ok()) {
      start_error_ = new std::string(p.status().to_string());
      return;
    }
    bb_ = std::move(p).value().release();
  }
  static void TearDownTestSuite() {
    delete bb_;
    bb_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(bb_, nullptr) << "cannot start bb (" << testing::bb_binary()
                            << "): " << (start_error_ ? *start_error_ : "");
  }

  static State bb_permutation(const State& in) {
    auto r = bb_->poseidon2_permutation(in);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : State{};
  }
  static Fr bb_hash(std::span<const Fr> in) {
    auto r = bb_->poseidon2_hash(in);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : Fr();
  }

  static bb::Process* bb_;
  static std::string* start_error_;
};

bb::Process* Poseidon2VsBb::bb_ = nullptr;
std::string* Poseidon2VsBb::start_error_ = nullptr;

TEST(Poseidon2, ZeroStateMatchesBbVector) {
  // Observed from bb's msgpack API (docs/toolchain.md), not from this implementation.
  const State out = permutation(State{});
  EXPECT_EQ(out[0].to_hex(), "0x18dfb8dc9b82229cff974efefc8df78b1ce96d9d844236b496785c698bc6732e");
}

TEST(Poseidon2, MatchesBarretenbergSourceTestVector) {
  // TEST_VECTOR_INPUT/OUTPUT from Barretenberg's poseidon2_params.hpp (copied by extract_params.py).
  State in;
  State expected;
  for (std::size_t i = 0; i < 4; ++i) {
    in[i] = parse(params::kTestVectorInput[i]);
    expected[i] = parse(params::kTestVectorOutput[i]);
  }
  EXPECT_EQ(show(permutation(in)), show(expected));
}

TEST(Poseidon2, ParametersAreWellFormed) {
  for (const auto& round : params::kRoundConstants) {
    for (const auto hex : round) EXPECT_TRUE(Fr::from_string(hex).ok()) << hex;
  }
  for (const auto hex : params::kInternalDiagonalMinusOne) EXPECT_TRUE(Fr::from_string(hex).ok()) << hex;
  // The permutation adds only lane 0's constant in partial rounds: the others must be zero.
  for (std::size_t r = params::kRoundsFull / 2; r < params::kRoundsFull / 2 + params::kRoundsPartial; ++r) {
    for (std::size_t i = 1; i < 4; ++i) EXPECT_TRUE(parse(params::kRoundConstants[r][i]).is_zero()) << r;
  }
}

TEST(Poseidon2, InPlaceAndByValueAgree) {
  for (int i = 0; i < 20; ++i) {
    const State in = {Fr::random(), Fr::random(), Fr::random(), Fr::random()};
    State s = in;
    permute(s);
    EXPECT_EQ(s, permutation(in));
    EXPECT_NE(s, in);
  }
}

TEST(Poseidon2, HashIsOnePermutationWithLengthInCapacity) {
  // The protocol's definition (docs/protocol.md): H(x1..xn) = P([x1, x2, x3, n * 2^64])[0].
  const Fr two64 = parse("18446744073709551616");
  const Fr a = Fr::random(), b = Fr::random(), c = Fr::random();
  EXPECT_EQ(hash1(a), permutation({a, Fr::zero(), Fr::zero(), two64})[0]);
  EXPECT_EQ(hash2(a, b), permutation({a, b, Fr::zero(), two64 + two64})[0]);
  EXPECT_EQ(hash3(a, b, c), permutation({a, b, c, two64 + two64 + two64})[0]);
  const std::array<Fr, 3> abc = {a, b, c};
  EXPECT_EQ(hash(abc), hash3(a, b, c));
  EXPECT_EQ(hash(std::span<const Fr>(abc).first(2)), hash2(a, b));
  EXPECT_EQ(hash(std::span<const Fr>(abc).first(1)), hash1(a));
  // The length is part of the input: H(a) != H(a, 0).
  EXPECT_NE(hash1(a), hash2(a, Fr::zero()));
}

TEST_F(Poseidon2VsBb, PermutationOnEdgeValues) {
  for (const State& in : edge_states()) {
    ASSERT_EQ(show(permutation(in)), show(bb_permutation(in))) << "input " << show(in);
  }
}

TEST_F(Poseidon2VsBb, PermutationOnRandomInputs) {
  for (const State& in : random_states(1000)) {
    ASSERT_EQ(show(permutation(in)), show(bb_permutation(in))) << "input " << show(in);
  }
}

// permute_many() goes through the vector kernel on CPUs with AVX-512 IFMA, so every size that
// leaves a partial group of eight is checked, against bb itself as well as against permute().
TEST_F(Poseidon2VsBb, PermuteManyMatchesBbOnRandomAndEdgeInputs) {
  std::printf("permute_many backend on this CPU: %s\n", std::string(permute_many_backend()).c_str());
  std::vector<State> states = random_states(1003);
  const std::vector<State> edges = edge_states();
  states.insert(states.end(), edges.begin(), edges.end());
  const std::vector<State> inputs = states;
  permute_many(states);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_EQ(show(states[i]), show(bb_permutation(inputs[i]))) << "state " << i << ", input " << show(inputs[i]);
  }
}

TEST(Poseidon2, PermuteManyMatchesPermuteForEverySize) {
  for (std::size_t n = 0; n <= 33; ++n) {
    std::vector<State> states = random_states(n);
    std::vector<State> expected = states;
    for (State& s : expected) permute(s);
    permute_many(states);
    ASSERT_EQ(states, expected) << "n = " << n;
  }
}

TEST(Poseidon2, PermuteManyOnLargestLazyInputs) {
  // Every lane at p - 1: the values the kernel's bounds (ifma_bounds.py) are computed from.
  const Fr top = -Fr::one();
  std::vector<State> states(8, State{top, top, top, top});
  permute_many(states);
  EXPECT_EQ(states[0], permutation({top, top, top, top}));
  for (const State& s : states) EXPECT_EQ(s, states[0]);
}

TEST(Poseidon2, Hash3ManyMatchesHash3) {
  for (std::size_t n : {0, 1, 2, 8, 63, 64, 65, 200}) {
    std::vector<std::array<Fr, 3>> in(n);
    for (auto& x : in) x = {Fr::random(), Fr::random(), Fr::random()};
    std::vector<Fr> out(n);
    hash3_many(in, out);
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(out[i], hash3(in[i][0], in[i][1], in[i][2])) << "n = " << n << ", i = " << i;
  }
}

TEST_F(Poseidon2VsBb, HashOfOneTwoThreeInputsMatchesBbSponge) {
  std::vector<std::vector<Fr>> cases;
  const auto edges = edge_values();
  for (const Fr& x : edges) {
    cases.push_back({x});
    for (const Fr& y : edges) {
      cases.push_back({x, y});
      for (const Fr& z : edges) cases.push_back({x, y, z});
    }
  }
  for (int i = 0; i < 400; ++i) {
    cases.push_back({Fr::random()});
    cases.push_back({Fr::random(), Fr::random()});
    cases.push_back({Fr::random(), Fr::random(), Fr::random()});
  }
  for (const auto& in : cases) {
    const Fr ours = hash(in);
    const Fr theirs = bb_hash(in);
    ASSERT_EQ(ours.to_hex(), theirs.to_hex()) << "n = " << in.size() << ", x1 = " << in[0].to_hex();
  }
}

}  // namespace
}  // namespace bucketpay::poseidon2
