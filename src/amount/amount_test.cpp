#include "bucketpay/amount.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>

namespace bucketpay {
namespace {

struct Valid {
  const char* text;
  AmountUnit unit;
  Cents cents;
};

TEST(ParseAmount, AcceptsValidAmounts) {
  const Valid cases[] = {
      {"12.34", AmountUnit::kDollars, 1234},
      {"0.01", AmountUnit::kDollars, 1},
      {"1310.71", AmountUnit::kDollars, 131071},
      {"12", AmountUnit::kDollars, 1200},
      {"12.5", AmountUnit::kDollars, 1250},
      {"0.5", AmountUnit::kDollars, 50},
      {"655.36", AmountUnit::kDollars, 65536},
      {"99.99", AmountUnit::kDollars, 9999},
      {"1", AmountUnit::kCents, 1},
      {"1234", AmountUnit::kCents, 1234},
      {"131071", AmountUnit::kCents, 131071},
      {"0.10", AmountUnit::kDollars, 10},
  };
  for (const auto& c : cases) {
    auto r = parse_amount(c.text, c.unit);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().to_string();
    EXPECT_EQ(*r, c.cents) << c.text;
  }
}

TEST(ParseAmount, RejectsInvalidAmounts) {
  const char* dollars[] = {"",
                           "-1",
                           "-0.01",
                           "+1",
                           "12.345",
                           "1e3",
                           "1E3",
                           " 1",
                           "1 ",
                           "1 000",
                           "1,000.00",
                           ".5",
                           "5.",
                           "1.2.3",
                           "0",
                           "0.00",
                           "0.0",
                           "00.01",
                           "012.34",
                           "abc",
                           "12a",
                           "0x10",
                           "1310.72",
                           "1311",
                           "99999999999999999999999999",
                           "18446744073709551616",
                           "١٢",
                           "12\n",
                           "nan",
                           "inf",
                           "1.-1"};
  for (const char* text : dollars) {
    auto r = parse_amount(text, AmountUnit::kDollars);
    EXPECT_FALSE(r.ok()) << "accepted \"" << text << "\"";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("invalid amount"), std::string::npos);
    }
  }
  const char* cents[] = {"", "0", "-5", "12.34", "131072", "1e3", "007", "18446744073709551616"};
  for (const char* text : cents) {
    EXPECT_FALSE(parse_amount(text, AmountUnit::kCents).ok()) << "accepted cents \"" << text << "\"";
  }
}

TEST(ParseAmount, HonoursTheMaximumExactly) {
  EXPECT_TRUE(parse_amount("1310.71").ok());
  EXPECT_FALSE(parse_amount("1310.72").ok());
  // Note values can go up to 2^64 - 1 with a larger bound.
  auto big = parse_amount("18446744073709551615", AmountUnit::kCents, kMaxNoteValue);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(*big, kMaxNoteValue);
  EXPECT_FALSE(parse_amount("18446744073709551616", AmountUnit::kCents, kMaxNoteValue).ok());
  EXPECT_FALSE(parse_amount("184467440737095516.16", AmountUnit::kDollars, kMaxNoteValue).ok());
  auto big_dollars = parse_amount("184467440737095516.15", AmountUnit::kDollars, kMaxNoteValue);
  ASSERT_TRUE(big_dollars.ok());
  EXPECT_EQ(*big_dollars, kMaxNoteValue);
}

TEST(FormatDollars, TwoDecimals) {
  EXPECT_EQ(format_dollars(1), "0.01");
  EXPECT_EQ(format_dollars(1234), "12.34");
  EXPECT_EQ(format_dollars(100000), "1000.00");
  EXPECT_EQ(format_dollars(kMaxPaymentCents), "1310.71");
}

TEST(ParseAmount, RoundTripsEveryPaymentAmount) {
  for (Cents c = 1; c <= kMaxPaymentCents; ++c) {
    auto r = parse_amount(format_dollars(c));
    ASSERT_TRUE(r.ok()) << c;
    ASSERT_EQ(*r, c);
  }
}

TEST(Buckets, AreTheSeventeenPowersOfTwo) {
  ASSERT_EQ(kBuckets.size(), 17U);
  EXPECT_EQ(kBuckets.front(), 1U);
  EXPECT_EQ(kBuckets.back(), 65536U);
  EXPECT_EQ(kMaxPaymentCents, 131071U);
}

// Property: for every payable amount, the buckets are distinct powers of two, in increasing order,
// that sum to the amount (checked against the amount's bits independently of decompose()).
TEST(Decompose, BucketsAreDistinctPowersOfTwoSummingToTheAmount) {
  for (Cents a = 0; a <= kMaxPaymentCents; ++a) {
    const Decomposition d = decompose(a);
    Cents sum = 0;
    Cents previous = 0;
    for (Cents b : d) {  // widened from uint32_t
      ASSERT_TRUE(std::has_single_bit(b)) << a;
      ASSERT_GT(b, previous) << a;  // strictly increasing, hence distinct
      ASSERT_NE(a & b, 0U) << a;
      previous = b;
      sum += b;
    }
    ASSERT_EQ(sum, a);
    ASSERT_EQ(d.count, std::popcount(a));
  }
}

TEST(Decompose, KnownExamples) {
  const Decomposition d = decompose(1234);  // 1024 + 128 + 64 + 16 + 2
  std::vector<Cents> got(d.begin(), d.end());
  EXPECT_EQ(got, (std::vector<Cents>{2, 16, 64, 128, 1024}));
  EXPECT_EQ(decompose(0).count, 0);
  EXPECT_EQ(decompose(kMaxPaymentCents).count, 17);
}

}  // namespace
}  // namespace bucketpay
