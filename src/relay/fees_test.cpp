// The fee rule (compute_fee), against figures worked out by hand.
#include <gtest/gtest.h>

#include "bucketpay/relay.h"

namespace bucketpay::relay {
namespace {

using eth::BundleKind;
using eth::U256;

TEST(FeeRule, DefaultGasTableCoversEveryMeasuredTransaction) {
  const GasTable t;
  // docs/gas.md: spendBatch 697,276 for 1 note, 1,858,068 for 4, 3,409,002 for 8, 6,911,253 for 17;
  // relay_e2e_test measured 1,107,027 for 2; split into 8 outputs 1,114,474.
  const std::pair<std::size_t, std::uint64_t> measured[] = {
      {1, 697'276}, {2, 1'107'027}, {4, 1'858'068}, {8, 3'409'002}, {17, 6'911'253}};
  for (const auto& [notes, gas] : measured) {
    EXPECT_GE(t.gas(BundleKind::kSpendBatch, notes), gas) << notes;
    // ... and within 5 % of them (a relayer charging far more would lose to others).
    EXPECT_LE(t.gas(BundleKind::kSpendBatch, notes), gas * 105 / 100) << notes;
  }
  EXPECT_GE(t.gas(BundleKind::kSplit, 1), 1'114'474U);
  EXPECT_LE(t.gas(BundleKind::kSplit, 1), 1'114'474U * 105 / 100);
  EXPECT_EQ(t.gas(BundleKind::kSpendBatch, 3), 340'000U + 3U * 390'000U);
}

TEST(FeeRule, SixDecimalTokenAtAFractionalPrice) {
  FeePolicy p;
  p.eth_price = "2500.5";
  p.margin_bps = 2000;
  // 1,510,000 gas * 2.5 gwei = 0.003775 ETH; * 2500.5 = 9.4393875 tokens = 9,439,387.5 units; * 1.2.
  Result<U256> fee = compute_fee(p, 6, BundleKind::kSpendBatch, 3, U256(2'500'000'000ULL));
  ASSERT_TRUE(fee.ok()) << fee.status().to_string();
  EXPECT_EQ(*fee, U256(11'327'265));
}

TEST(FeeRule, EighteenDecimalToken) {
  FeePolicy p;  // 3000 per ETH, 20 %
  // 730,000 gas * 2 gwei = 0.00146 ETH; * 3000 = 4.38 tokens = 4.38e18 units; * 1.2 = 5.256e18.
  Result<U256> fee = compute_fee(p, 18, BundleKind::kSpendBatch, 1, U256(2'000'000'000ULL));
  ASSERT_TRUE(fee.ok());
  EXPECT_EQ(*fee, U256(5'256'000'000'000'000'000ULL));
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
