// Fr against GMP (an independent big-integer implementation): arithmetic, encodings, parsing.
#include "bucketpay/field.h"

#include <gmp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bucketpay/montgomery.h"

namespace bucketpay {
namespace {

constexpr const char* kModulusDecimal = "21888242871839275222246405745257275088548364400416034343698204186575808495617";

// A GMP integer with value semantics, enough for these tests.
class Z {
 public:
  Z() { mpz_init(v_); }
  explicit Z(const char* s, int base = 0) { mpz_init_set_str(v_, s, base); }
  explicit Z(const Fr::Limbs& l) {
    mpz_init(v_);
    mpz_import(v_, 4, -1, sizeof(std::uint64_t), 0, 0, l.data());
  }
  static Z pow2(unsigned k) {
    Z r;
    mpz_setbit(r.v_, k);
    return r;
  }
  Z(const Z& o) { mpz_init_set(v_, o.v_); }
  Z& operator=(const Z& o) {
    mpz_set(v_, o.v_);
    return *this;
  }
  ~Z() { mpz_clear(v_); }

  mpz_t& get() { return v_; }
  const mpz_t& get() const { return v_; }
  [[nodiscard]] Fr::Limbs limbs() const {
    EXPECT_TRUE(mpz_sgn(v_) >= 0 && mpz_sizeinbase(v_, 2) <= 256);
    Fr::Limbs l{};
    std::size_t n = 0;
    mpz_export(l.data(), &n, -1, sizeof(std::uint64_t), 0, 0, v_);
    return l;
  }
  [[nodiscard]] std::string str(int base) const {
    std::vector<char> buf(mpz_sizeinbase(v_, std::abs(base)) + 2);
    mpz_get_str(buf.data(), base, v_);
    return buf.data();
  }
  friend bool operator==(const Z& a, const Z& b) { return mpz_cmp(a.v_, b.v_) == 0; }
  friend void PrintTo(const Z& z, std::ostream* os) { *os << "0x" << z.str(16); }

 private:
  mpz_t v_;
};

const Z& modulus() {
  static const Z p(kModulusDecimal, 10);
  return p;
}

Z mod(const Z& a) {
  Z r;
  mpz_mod(r.get(), a.get(), modulus().get());
  return r;
}
Z add(const Z& a, const Z& b) {
  Z r;
  mpz_add(r.get(), a.get(), b.get());
  return mod(r);
}
Z sub(const Z& a, const Z& b) {
  Z r;
  mpz_sub(r.get(), a.get(), b.get());
  return mod(r);
}
Z mul(const Z& a, const Z& b) {
  Z r;
  mpz_mul(r.get(), a.get(), b.get());
  return mod(r);
}

Z value(const Fr& x) { return Z(x.to_canonical_limbs()); }
Fr fr(const Z& z) {
  auto r = Fr::from_canonical_limbs(z.limbs());
  EXPECT_TRUE(r.ok()) << z.str(16);
  return r.ok() ? *r : Fr();
}

// A fresh seed each run, printed so a failure can be replayed.
std::mt19937_64& rng() {
  static std::mt19937_64 gen = [] {
    const std::uint64_t seed = (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
    std::printf("field_test seed: %llu\n", static_cast<unsigned long long>(seed));
    return std::mt19937_64(seed);
  }();
  return gen;
}

Fr::Limbs random_limbs() { return {rng()(), rng()(), rng()(), rng()()}; }

// Random values mod p, biased towards structure (sparse limbs, all-ones limbs) now and then.
Z random_value() {
  Fr::Limbs l = random_limbs();
  switch (rng()() % 8) {
    case 0:
      l[1] = l[2] = l[3] = 0;
      break;
    case 1:
      l[0] = ~std::uint64_t{0};
      l[1] = ~std::uint64_t{0};
      break;
    case 2:
      l[3] = 0;
      break;
    default:
      break;
  }
  return mod(Z(l));
}

std::vector<Z> edge_values() {
  std::vector<Z> out;
  const Z& p = modulus();
  out.emplace_back("0", 10);
  out.emplace_back("1", 10);
  out.emplace_back("2", 10);
  out.push_back(sub(p, Z("1", 10)));  // p - 1 (sub reduces mod p: 0 - 1)
  out.push_back(sub(Z("0", 10), Z("2", 10)));
  for (unsigned k : {63u, 64u, 127u, 128u, 192u, 253u, 254u, 255u}) out.push_back(mod(Z::pow2(k)));
  Z half;
  mpz_fdiv_q_2exp(half.get(), p.get(), 1);
  out.push_back(half);                                           // (p - 1) / 2
  out.push_back(add(half, Z("1", 10)));                          // (p + 1) / 2
  out.push_back(mod(Z(mont::kR)));                               // R mod p
  out.push_back(mod(Z(Fr::Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL})));  // 2^256 - 1 mod p
  return out;
}

TEST(Fr, ConstantsAgreeWithGmp) {
  EXPECT_EQ(Z(Fr::kModulus), modulus());
  Z two_p;
  mpz_mul_ui(two_p.get(), modulus().get(), 2);
  EXPECT_EQ(Z(mont::k2P), two_p);
  EXPECT_EQ(Z(mont::kR), mod(Z::pow2(256)));
  EXPECT_EQ(Z(mont::kR2), mod(Z::pow2(512)));
  EXPECT_EQ(value(Fr::one()), Z("1", 10));
  EXPECT_EQ(value(Fr::zero()), Z("0", 10));
  EXPECT_TRUE(Fr().is_zero());
}

void check_binary_ops(const Z& a, const Z& b) {
  const Fr x = fr(a);
  const Fr y = fr(b);
  ASSERT_EQ(value(x), a);
  EXPECT_EQ(value(x + y), add(a, b)) << a.str(16) << " + " << b.str(16);
  EXPECT_EQ(value(x - y), sub(a, b)) << a.str(16) << " - " << b.str(16);
  EXPECT_EQ(value(x * y), mul(a, b)) << a.str(16) << " * " << b.str(16);
  Fr z = x;
  z += y;
  EXPECT_EQ(z, x + y);
  z = x;
  z -= y;
  EXPECT_EQ(z, x - y);
  z = x;
  z *= y;
  EXPECT_EQ(z, x * y);
}

void check_unary_ops(const Z& a) {
  const Fr x = fr(a);
  EXPECT_EQ(value(-x), sub(Z("0", 10), a)) << a.str(16);
  EXPECT_EQ(value(x.square()), mul(a, a)) << a.str(16);
  Z inv;
  if (mpz_sgn(a.get()) == 0) {
    EXPECT_TRUE(x.inverse().is_zero());
  } else {
    ASSERT_NE(mpz_invert(inv.get(), a.get(), modulus().get()), 0);
    EXPECT_EQ(value(x.inverse()), inv) << a.str(16);
    EXPECT_EQ(x * x.inverse(), Fr::one());
  }
}

void check_pow(const Z& a, const Fr::Limbs& e) {
  Z expected;
  mpz_powm(expected.get(), a.get(), Z(e).get(), modulus().get());
  EXPECT_EQ(value(fr(a).pow(e)), expected) << a.str(16) << " ^ " << Z(e).str(16);
}

TEST(Fr, ArithmeticOnEdgeValuesMatchesGmp) {
  const auto edges = edge_values();
  for (const Z& a : edges) {
    check_unary_ops(a);
    for (const Z& b : edges) check_binary_ops(a, b);
  }
}

TEST(Fr, ArithmeticOnRandomValuesMatchesGmp) {
  for (int i = 0; i < 5000; ++i) {
    const Z a = random_value();
    const Z b = random_value();
    check_binary_ops(a, b);
    if (i % 5 == 0) check_unary_ops(a);
    if (HasFailure()) return;
  }
}

TEST(Fr, PowMatchesGmp) {
  const Fr::Limbs p_minus_1 = {Fr::kModulus[0] - 1, Fr::kModulus[1], Fr::kModulus[2], Fr::kModulus[3]};
  const std::vector<Fr::Limbs> exponents = {{0, 0, 0, 0},
                                            {1, 0, 0, 0},
                                            {2, 0, 0, 0},
                                            {5, 0, 0, 0},
                                            p_minus_1,
                                            Fr::kModulus,
                                            {~0ULL, ~0ULL, ~0ULL, ~0ULL},
                                            {0, 0, 0, 1ULL << 63}};
  for (const Z& a : edge_values()) {
    for (const auto& e : exponents) check_pow(a, e);
  }
  for (int i = 0; i < 300; ++i) check_pow(random_value(), random_limbs());
  EXPECT_EQ(fr(Z("3", 10)).pow(4), Fr::from_u64(81));
}

TEST(Fr, LazyKernelsStayBelowTwoPAndAgreeWithGmp) {
  // Poseidon2 feeds mont:: values in [0, 2p): check the bounds claimed in montgomery.h.
  Z two_p;
  mpz_mul_ui(two_p.get(), modulus().get(), 2);
  const Z r_inv = [] {
    Z r;
    mpz_invert(r.get(), Z::pow2(256).get(), modulus().get());
    return r;
  }();
  auto lazy_value = [&](const Z& canonical) {  // canonical or canonical + p, at random
    if (rng()() & 1) return canonical;
    Z r;
    mpz_add(r.get(), canonical.get(), modulus().get());
    return r;
  };
  auto below_2p = [&](const Fr::Limbs& l) { return mpz_cmp(Z(l).get(), two_p.get()) < 0; };
  std::vector<Z> inputs = edge_values();
  for (int i = 0; i < 3000; ++i) inputs.push_back(random_value());
  Z p_minus_1 = sub(Z("0", 10), Z("1", 10));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Z a = lazy_value(inputs[i]);
    const Z b = lazy_value(inputs[(i * 7 + 3) % inputs.size()]);
    const Fr::Limbs m = mont::mul_lazy(a.limbs(), b.limbs());
    EXPECT_TRUE(below_2p(m));
    EXPECT_EQ(mod(Z(m)), mul(mul(a, b), r_inv));
    const Fr::Limbs s = mont::square_lazy(a.limbs());
    EXPECT_TRUE(below_2p(s));
    EXPECT_EQ(mod(Z(s)), mul(mul(a, a), r_inv));
    const Fr::Limbs t = mont::add_lazy(a.limbs(), b.limbs());
    EXPECT_TRUE(below_2p(t));
    EXPECT_EQ(mod(Z(t)), add(a, b));
    if (HasFailure()) return;
  }
  // The largest lazy inputs: 2p - 1.
  Z top;
  mpz_sub_ui(top.get(), two_p.get(), 1);
  const Fr::Limbs m = mont::mul_lazy(top.limbs(), top.limbs());
  EXPECT_TRUE(below_2p(m));
  EXPECT_EQ(mod(Z(m)), mul(mul(top, top), r_inv));
  EXPECT_TRUE(below_2p(mont::square_lazy(top.limbs())));
  EXPECT_EQ(mod(Z(mont::square_lazy(top.limbs()))), mul(mul(top, top), r_inv));
}

TEST(Fr, ByteHexDecimalRoundTripsMatchGmp) {
  std::vector<Z> values = edge_values();
  for (int i = 0; i < 2000; ++i) values.push_back(random_value());
  for (const Z& a : values) {
    const Fr x = fr(a);
    // Bytes: big-endian, 32 bytes.
    const Fr::Bytes b = x.to_bytes();
    Z from_bytes;
    mpz_import(from_bytes.get(), 32, 1, 1, 1, 0, b.data());
    EXPECT_EQ(from_bytes, a);
    auto back = Fr::from_bytes(b);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, x);
    // Hex: 0x + 64 lowercase digits.
    std::string hex = a.str(16);
    hex = "0x" + std::string(64 - hex.size(), '0') + hex;
    EXPECT_EQ(x.to_hex(), hex);
    auto from_hex = Fr::from_string(hex);
    ASSERT_TRUE(from_hex.ok()) << hex;
    EXPECT_EQ(*from_hex, x);
    // Short hex (no leading zeros) and upper case parse too.
    std::string short_hex = "0x" + a.str(16);
    auto from_short = Fr::from_string(short_hex);
    ASSERT_TRUE(from_short.ok()) << short_hex;
    EXPECT_EQ(*from_short, x);
    std::string upper = "0x" + a.str(-16);
    auto from_upper = Fr::from_string(upper);
    ASSERT_TRUE(from_upper.ok()) << upper;
    EXPECT_EQ(*from_upper, x);
    // Decimal.
    EXPECT_EQ(x.to_decimal(), a.str(10));
    auto from_dec = Fr::from_string(a.str(10));
    ASSERT_TRUE(from_dec.ok()) << a.str(10);
    EXPECT_EQ(*from_dec, x);
    // Montgomery limbs round-trip.
    EXPECT_EQ(Fr::from_montgomery_limbs(x.montgomery_limbs()), x);
    if (HasFailure()) return;
  }
}

TEST(Fr, FromU64MatchesGmp) {
  for (std::uint64_t v : {0ULL, 1ULL, 2ULL, 1ULL << 63, ~0ULL, 18446744073709551557ULL}) {
    EXPECT_EQ(value(Fr::from_u64(v)), Z(Fr::Limbs{v, 0, 0, 0}));
  }
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t v = rng()();
    EXPECT_EQ(value(Fr::from_u64(v)), Z(Fr::Limbs{v, 0, 0, 0}));
  }
}

TEST(Fr, FromBytesRejectsValuesNotBelowModulus) {
  const Z& p = modulus();
  Z p_plus_1;
  mpz_add_ui(p_plus_1.get(), p.get(), 1);
  for (const Z& v : {p, p_plus_1, Z(Fr::Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL}), Z::pow2(255), Z::pow2(254)}) {
    Fr::Bytes b{};
    std::size_t n = 0;
    mpz_export(b.data() + 32 - (mpz_sizeinbase(v.get(), 256)), &n, 1, 1, 1, 0, v.get());
    auto r = Fr::from_bytes(b);
    EXPECT_FALSE(r.ok()) << v.str(16);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
    EXPECT_FALSE(Fr::from_canonical_limbs(v.limbs()).ok()) << v.str(16);
  }
  // p - 1 is accepted.
  EXPECT_TRUE(Fr::from_canonical_limbs(sub(Z("0", 10), Z("1", 10)).limbs()).ok());
}

TEST(Fr, FromBytesReduceMatchesGmp) {
  std::vector<Fr::Limbs> inputs = {
      {0, 0, 0, 0}, {~0ULL, ~0ULL, ~0ULL, ~0ULL}, Fr::kModulus, mont::k2P, {0, 0, 0, 1ULL << 63}};
  for (int i = 0; i < 3000; ++i) inputs.push_back(random_limbs());
  for (const auto& l : inputs) {
    Fr::Bytes b{};
    const Z z(l);
    std::size_t n = 0;
    if (mpz_sgn(z.get()) != 0) {
      mpz_export(b.data() + 32 - mpz_sizeinbase(z.get(), 256), &n, 1, 1, 1, 0, z.get());
    }
    EXPECT_EQ(value(Fr::from_bytes_reduce(b)), mod(z)) << z.str(16);
  }
}

TEST(Fr, FromStringAcceptsValidInputs) {
  const std::string p_minus_1 = sub(Z("0", 10), Z("1", 10)).str(10);
  const struct {
    std::string text;
    std::string decimal;
  } cases[] = {
      {"0", "0"},
      {"1", "1"},
      {"10", "10"},
      {"0x0", "0"},
      {"0x1", "1"},
      {"0xff", "255"},
      {"0xFF", "255"},
      {"0xAbC", "2748"},
      {"0x" + std::string(64, '0'), "0"},
      {"0x" + std::string(63, '0') + "1", "1"},
      {"18446744073709551616", "18446744073709551616"},
      {"0x10000000000000000", "18446744073709551616"},
      {p_minus_1, p_minus_1},
      {"0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000", p_minus_1},
      {"0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000000", p_minus_1},
  };
  for (const auto& c : cases) {
    auto r = Fr::from_string(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().to_string();
    EXPECT_EQ(r->to_decimal(), c.decimal) << c.text;
  }
}

TEST(Fr, FromStringRejectsInvalidInputs) {
  const std::string p = kModulusDecimal;
  Z p_plus_1_z;
  mpz_add_ui(p_plus_1_z.get(), modulus().get(), 1);
  const std::string p_plus_1 = p_plus_1_z.str(10);
  const std::string two_256 = Z::pow2(256).str(10);
  const std::string cases[] = {
      "",
      "-1",
      "+1",
      "-0",
      " 1",
      "1 ",
      "\t1",
      "1\n",
      "01",
      "00",
      "007",
      "0x",
      "0X1",
      "0xg",
      "0x1g",
      "0x 1",
      "0x-1",
      "0x+1",
      "x1",
      "0b1",
      "0o7",
      "1e3",
      "1E3",
      "1.5",
      "1.0",
      ".5",
      "1,000",
      "1_000",
      "abc",
      "١",
      std::string("1\0", 2),
      "0x" + std::string(65, '0'),
      "0x1" + std::string(64, '0'),
      "0x" + std::string(64, 'f'),
      p,
      p_plus_1,
      two_256,
      two_256 + "0",
      std::string(200, '9'),
      "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001",  // p
      "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000002",  // p + 1
      "0x0x1",
  };
  for (const auto& text : cases) {
    auto r = Fr::from_string(text);
    EXPECT_FALSE(r.ok()) << "accepted '" << text << "'";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
    }
  }
}

TEST(Fr, RandomIsCanonicalDistinctAndSpread) {
  constexpr int kCount = 2000;
  std::set<Fr::Limbs> seen;
  Z half;
  mpz_fdiv_q_2exp(half.get(), modulus().get(), 1);
  int upper_half = 0;
  int top_bit_set = 0;  // bit 253: set in about 0.32 of uniform values below p
  for (int i = 0; i < kCount; ++i) {
    const Fr x = Fr::random();
    const auto l = x.to_canonical_limbs();
    ASSERT_TRUE(Fr::from_canonical_limbs(l).ok());
    seen.insert(l);
    if (mpz_cmp(Z(l).get(), half.get()) > 0) ++upper_half;
    if ((l[3] >> 61) & 1) ++top_bit_set;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  // Binomial tails far beyond 10 sigma: a failure means a biased generator, not bad luck.
  EXPECT_GT(upper_half, kCount / 2 - 250);
  EXPECT_LT(upper_half, kCount / 2 + 250);
  EXPECT_GT(top_bit_set, 400);
  EXPECT_LT(top_bit_set, 900);
}

}  // namespace
}  // namespace bucketpay
