// `bucketpay inventory plan`'s simulation: the wallet's planner and rebalancer played over payment
// amounts (pure: no chain, no prover), its amounts file and its gas table.
#include "bucketpay/inventory_plan.h"

#include <gtest/gtest.h>

#include <bit>
#include <fstream>
#include <sstream>

#include "testing/testing.h"

namespace bucketpay {
namespace {

InventoryPolicy policy(const char* text) {
  auto p = InventoryPolicy::parse(text);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return p.ok() ? *p : InventoryPolicy{};
}

// 5 x 2^k cents, from 5 cents to $6.40.
constexpr const char* kFiveCents = "5=20,10=4,20=2,40=1,80=0,160=0,320=0,640=0";

TEST(InventoryPlan, FiveCentPaymentsFromAFiveCentPolicyTakeOneNoteAndLeaveNoOddChange) {
  for (Cents split_fee : {Cents{0}, Cents{3}}) {
    InventoryPlanOptions o;
    o.policy = policy(kFiveCents);
    o.deposit = 2'000;  // $20.00: the targets ($2.20) and 40 cents, then $6.40 notes
    o.split_fee = split_fee;
    const std::vector<Cents> amounts(300, 5);  // $15.00: far more 5-cent notes than the deposit made
    auto r = simulate_inventory(amounts, o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->paid, 300U) << "split fee " << split_fee;
    EXPECT_EQ(r->refused, 0U);
    EXPECT_EQ(r->notes_spent, 300U) << "one 5-cent note per payment";
    EXPECT_DOUBLE_EQ(r->notes_per_payment(), 1.0);
    EXPECT_EQ(r->payments_by_split, 0U) << "the rebalancer kept 5-cent notes ready";
    EXPECT_GT(r->rebalancing_splits, 0U);
    EXPECT_EQ(r->odd_notes_made, 0U) << "a split fee of 3 is raised to 5 rather than leave 2 cents of change";
    EXPECT_EQ(r->odd_notes_left, 0U);
    // Each split makes at most 8 notes, each with its spend proof.
    EXPECT_LE(r->spend_proofs, 8 * r->rebalancing_splits);
    EXPECT_EQ(r->split_proofs, r->rebalancing_splits);
    EXPECT_EQ(r->rebalancing_gas, r->rebalancing_splits * o.gas.split);
  }
}

TEST(InventoryPlan, PowerOfTwoDonorsSplitIntoExactDenominations) {
  InventoryPlanOptions o;  // the default policy, $12,000, no fees
  const std::vector<Cents> amounts = random_payment_amounts(100, 1, 20'000, 20261123);
  auto r = simulate_inventory(amounts, o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->paid, 100U);
  EXPECT_EQ(r->odd_notes_made, 0U) << "2^k splits into smaller powers of two with nothing left over";
  EXPECT_EQ(r->odd_notes_left, 0U);
  EXPECT_GT(r->rebalancing_splits, 0U);
  // Powers of two: no plan takes fewer notes than the amount's binary decomposition; with the
  // ladder kept stocked, hardly any takes more (one whose denomination ran out takes two halves).
  std::size_t bits = 0;
  for (Cents a : amounts) bits += static_cast<std::size_t>(std::popcount(a));
  EXPECT_GE(r->notes_spent, bits);
  EXPECT_LE(r->notes_spent, bits + 5);
  // Gas adds up from the table: the rebalancing splits, the deposit's notes.
  EXPECT_EQ(r->rebalancing_gas, r->rebalancing_splits * o.gas.split);
  EXPECT_EQ(r->deposit_gas, r->deposit_notes * o.gas.deposit_per_note);
  EXPECT_GT(r->payment_gas, 0U);
}

TEST(InventoryPlan, OddChangeOfADepositIsPaidOut) {
  // A deposit of $20.03 leaves 3 cents no 5-cent denomination makes: one odd note. Payments of 8
  // cents would be 5 + 3 from it; after the first one, no odd note is left.
  InventoryPlanOptions o;
  o.policy = policy(kFiveCents);
  o.deposit = 2'003;
  const std::vector<Cents> amounts = {8, 5, 10};
  auto r = simulate_inventory(amounts, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->odd_notes_made, 1U);
  EXPECT_EQ(r->odd_notes_left, 0U);
  EXPECT_EQ(r->paid, 3U);
  EXPECT_EQ(r->notes_spent, 4U);  // 5 + 3, 5, 10
}

TEST(InventoryPlan, AnAmountNoNoteMakesIsPaidByAnOnDemandSplitOrRefused) {
  InventoryPlanOptions o;
  o.policy = policy(kFiveCents);
  o.deposit = 640;  // one $6.40 note... and the targets take it apart: 20 x 5 = 100 first
  auto r = simulate_inventory(std::vector<Cents>{7}, o);  // 7 cents: no sum of 5-cent notes
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->paid, 1U);
  EXPECT_EQ(r->payments_by_split, 1U);
  EXPECT_EQ(r->odd_notes_made, 1U) << "what is left of a 5-cent note after 7 cents is odd change";
  auto too_much = simulate_inventory(std::vector<Cents>{700}, o);
  ASSERT_TRUE(too_much.ok());
  EXPECT_EQ(too_much->refused, 1U);
  EXPECT_EQ(too_much->paid, 0U);
}

TEST(InventoryPlan, RefusesNoAmountsAndAmountsOutOfRange) {
  InventoryPlanOptions o;
  EXPECT_EQ(simulate_inventory({}, o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(simulate_inventory(std::vector<Cents>{0}, o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(simulate_inventory(std::vector<Cents>{kMaxPaymentCents + 1}, o).status().code(),
            StatusCode::kInvalidArgument);
  o.policy.denominations.clear();
  EXPECT_EQ(simulate_inventory(std::vector<Cents>{1}, o).status().code(), StatusCode::kInvalidArgument);
}

TEST(PaymentAmounts, ParsesDollarsOnePerLine) {
  auto a = parse_payment_amounts("12.34\n0.01\r\n200\n1310.71");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(*a, (std::vector<Cents>{1234, 1, 20'000, 131'071}));
  for (const char* bad :
       {"", "\n", "-1\n", "12.345\n", "1e3\n", "1.00\n\n2.00\n", "abc", "0", "1310.72", " 1.00", "1,00", "+1"}) {
    auto r = parse_payment_amounts(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << "\"" << bad << "\"";
  }
  auto where = parse_payment_amounts("1.00\n2.00\n12.345\n");
  EXPECT_NE(where.status().message().find("line 3"), std::string::npos) << where.status().message();
}

TEST(PaymentAmounts, RandomAmountsAreBenchPaymentsOnesAndRepeatable) {
  const std::vector<Cents> a = random_payment_amounts(100, 1, 20'000, 20261123);
  ASSERT_EQ(a.size(), 100U);
  EXPECT_EQ(a, random_payment_amounts(100, 1, 20'000, 20261123));
  EXPECT_NE(a, random_payment_amounts(100, 1, 20'000, 20261124));
  for (Cents c : a) {
    EXPECT_GE(c, 1U);
    EXPECT_LE(c, 20'000U);
  }
}

TEST(GasTable, InterpolatesTheMeasuredSpendBatches) {
  const GasTable g;
  EXPECT_EQ(g.spend_batch_gas(0), 0U);
  EXPECT_EQ(g.spend_batch_gas(1), 697'276U);
  EXPECT_EQ(g.spend_batch_gas(8), 3'409'002U);
  EXPECT_EQ(g.spend_batch_gas(17), 6'911'253U);
  EXPECT_GT(g.spend_batch_gas(2), g.spend_batch_gas(1));
  EXPECT_LT(g.spend_batch_gas(2), 2 * g.spend_batch_gas(1));
  EXPECT_GT(g.spend_batch_gas(20), g.spend_batch_gas(17));
}

TEST(GasTable, FiguresAreDocsGasMd) {
  // The defaults must be what `make gas` measured (docs/gas.md is written by scripts/gas.sh).
  std::ifstream in(testing::project_root() / "docs" / "gas.md");
  ASSERT_TRUE(in) << "docs/gas.md";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  auto commas = [](std::uint64_t v) {
    const std::string d = std::to_string(v);
    std::string s;
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (i > 0 && (d.size() - i) % 3 == 0) s.push_back(',');
      s.push_back(d[i]);
    }
    return s;
  };
  const GasTable g;
  for (const GasTable::Point& p : g.spend_batch) {
    const std::string row = "| " + std::to_string(p.notes) + " | " + commas(p.gas) + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << row;
  }
  EXPECT_NE(doc.find("`split`, 1 note into 8 outputs (a rebalancing split: the relayer's fee withdrawn) | " +
                     commas(g.split) + " |"),
            std::string::npos);
  EXPECT_NE(doc.find("| `depositMany`, 16 notes: per note | " + commas(g.deposit_per_note) + " |"), std::string::npos);
}

}  // namespace
}  // namespace bucketpay
