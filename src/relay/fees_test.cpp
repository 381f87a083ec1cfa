// The fee rule (compute_fee), against figures worked out by hand.
#include <gtest/gtest.h>

#include "bucketpay/relay.h"

namespace bucketpay::relay {
namespace {

using eth::BundleKind;
using eth::U256;

TEST(FeeRule, DefaultGasTableCoversEveryMeasuredTransaction) {
  const GasTable t;
  // docs/gas.md: spendBatch 697,276 for 1 note, 426,125 per note at 8 and 406,544 at 17; split 1,114,474.
  EXPECT_GE(t.gas(BundleKind::kSpendBatch, 1), 697'276U);
  EXPECT_GE(t.gas(BundleKind::kSpendBatch, 8), 8U * 426'125U);
  EXPECT_GE(t.gas(BundleKind::kSpendBatch, 17), 17U * 406'544U);
  EXPECT_GE(t.gas(BundleKind::kSplit, 1), 1'114'474U);
  // ... and stays within 3 % of them (a relayer charging far more would lose to others).
  EXPECT_LE(t.gas(BundleKind::kSpendBatch, 1), 697'276U * 103 / 100);
  EXPECT_LE(t.gas(BundleKind::kSpendBatch, 17), 17U * 406'544U * 103 / 100);
  EXPECT_EQ(t.gas(BundleKind::kSpendBatch, 3), 310'000U + 3U * 390'000U);
}

TEST(FeeRule, SixDecimalTokenAtAFractionalPrice) {
  FeePolicy p;
  p.eth_price = "2500.5";
  p.margin_bps = 2000;
  // 1,480,000 gas * 2.5 gwei = 0.0037 ETH; * 2500.5 = 9.251850 tokens = 9,251,850 units; * 1.2.
  Result<U256> fee = compute_fee(p, 6, BundleKind::kSpendBatch, 3, U256(2'500'000'000ULL));
  ASSERT_TRUE(fee.ok()) << fee.status().to_string();
  EXPECT_EQ(*fee, U256(11'102'220));
}

TEST(FeeRule, EighteenDecimalToken) {
  FeePolicy p;  // 3000 per ETH, 20 %
  // 700,000 gas * 2 gwei = 0.0014 ETH; * 3000 = 4.2 tokens = 4.2e18 units; * 1.2 = 5.04e18.
  Result<U256> fee = compute_fee(p, 18, BundleKind::kSpendBatch, 1, U256(2'000'000'000ULL));
  ASSERT_TRUE(fee.ok());
  EXPECT_EQ(*fee, U256(5'040'000'000'000'000'000ULL));
  // A split: 1,120,000 gas * 2 gwei * 3000 * 1.2 = 8.064 tokens.
  EXPECT_EQ(*compute_fee(p, 18, BundleKind::kSplit, 1, U256(2'000'000'000ULL)), U256(8'064'000'000'000'000'000ULL));
}

TEST(FeeRule, RoundsUpAndNeverGoesBelowTheMinimum) {
  FeePolicy p;
  p.eth_price = "1";
  p.margin_bps = 0;
  // 1,120,000 gas at 1 wei = 1.12e-12 ETH = 1.12e-6 units of a 6-decimal token: rounded up to 1.
  EXPECT_EQ(*compute_fee(p, 6, BundleKind::kSplit, 1, U256(1)), U256(1));
  EXPECT_EQ(*compute_fee(p, 6, BundleKind::kSplit, 1, U256(0)), U256(0));
  // Exactly 1,120,000 * 10^12 wei = 1.12 ETH = 1,120,000 units: no rounding.
  EXPECT_EQ(*compute_fee(p, 6, BundleKind::kSplit, 1, U256(1'000'000'000'000ULL)), U256(1'120'000));
  p.min_fee = U256(5);
  EXPECT_EQ(*compute_fee(p, 6, BundleKind::kSplit, 1, U256(1)), U256(5));
  EXPECT_EQ(*compute_fee(p, 6, BundleKind::kSplit, 1, U256(1'000'000'000'000ULL)), U256(1'120'000));
}

TEST(FeeRule, MarginIsInBasisPoints) {
  FeePolicy p;
  p.eth_price = "1";
  p.margin_bps = 1;  // 0.01 %
  // 1,000,000 units * 1.0001 = 1,000,100.
  p.gas.split = 1'000'000;
  EXPECT_EQ(*compute_fee(p, 6, BundleKind::kSplit, 1, U256(1'000'000'000'000ULL)), U256(1'000'100));
}

TEST(FeeRule, MalformedPoliciesAreRefused) {
  for (const char* price : {"", "0", "0.0", "-1", "1e3", ".5", "5.", "abc", "1.0000000000000000001", "1,5"}) {
    FeePolicy p;
    p.eth_price = price;
    Status st = validate_fee_policy(p);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << price;
    EXPECT_NE(st.message().find("ETH price"), std::string::npos) << st.message();
    EXPECT_FALSE(compute_fee(p, 18, BundleKind::kSplit, 1, U256(1)).ok()) << price;
  }
  FeePolicy p;
  p.eth_price = "0.000000000000000001";  // 18 decimals: the finest price accepted
  EXPECT_TRUE(validate_fee_policy(p).is_ok());
  p.margin_bps = 100'001;
  EXPECT_FALSE(validate_fee_policy(p).is_ok());
  p = FeePolicy{};
  p.quote_validity = std::chrono::seconds(0);
  EXPECT_FALSE(validate_fee_policy(p).is_ok());
  p = FeePolicy{};
  EXPECT_FALSE(compute_fee(p, 37, BundleKind::kSplit, 1, U256(1)).ok());
}

TEST(FeeRule, AProductAbove256BitsIsRefusedNotWrapped) {
  FeePolicy p;
  p.eth_price = std::string(59, '9');
  Result<U256> fee = compute_fee(p, 36, BundleKind::kSpendBatch, 30, U256::max());
  ASSERT_FALSE(fee.ok());
  EXPECT_NE(fee.status().message().find("overflows"), std::string::npos);
}

}  // namespace
}  // namespace bucketpay::relay
