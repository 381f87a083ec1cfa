#include "bucketpay/planner.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <set>

namespace bucketpay {
namespace {

// The fewest notes summing to `amount`, by trying every subset (0 when none exists).
int brute_force_min(const std::vector<PlanNote>& notes, Cents amount) {
  int best = 0;
  const std::uint32_t n = static_cast<std::uint32_t>(notes.size());
  for (std::uint32_t mask = 1; mask < (1U << n); ++mask) {
    Cents sum = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (mask & (1U << i)) sum += notes[i].value;
    }
    const int count = std::popcount(mask);
    if (sum == amount && (best == 0 || count < best)) best = count;
  }
  return best;
}

void expect_valid(const std::vector<PlanNote>& available, const Plan& plan, Cents amount) {
  EXPECT_EQ(plan.total(), amount);
  std::set<std::int64_t> ids;
  for (const auto& n : plan.notes) {
    EXPECT_TRUE(ids.insert(n.note_id).second) << "note used twice";
    EXPECT_NE(std::find(available.begin(), available.end(), n), available.end()) << "unknown note";
  }
}

TEST(Planner, MatchesBruteForceOnRandomInstances) {
  std::mt19937_64 rng(std::random_device{}());
  for (int round = 0; round < 3000; ++round) {
    const bool powers = round % 2 == 0;
    std::vector<PlanNote> notes;
    const int n = static_cast<int>(rng() % 13) + 1;
    for (int i = 0; i < n; ++i) {
      const Cents v = powers ? (Cents{1} << (rng() % 8)) : (rng() % 60) + 1;
      notes.push_back({i + 1, v});
    }
    const Cents amount = (rng() % 200) + 1;
    const int want = brute_force_min(notes, amount);
    auto plan = plan_payment(notes, amount);
    if (want == 0) {
      ASSERT_FALSE(plan.ok()) << "round " << round;
      EXPECT_EQ(plan.status().code(), StatusCode::kNotFound);
    } else {
      ASSERT_TRUE(plan.ok()) << "round " << round << ": " << plan.status().to_string();
      expect_valid(notes, *plan, amount);
      EXPECT_EQ(static_cast<int>(plan->notes.size()), want) << "round " << round;
    }
  }
}

TEST(Planner, AnInventoryOfTwoPerBucketPaysEveryAmount) {
  std::vector<PlanNote> notes;
  std::int64_t id = 1;
  for (Cents b : kBuckets) {
    notes.push_back({id++, b});
    notes.push_back({id++, b});
  }
  for (Cents a = 1; a <= kMaxPaymentCents; a += 97) {
    auto plan = plan_payment(notes, a);
    ASSERT_TRUE(plan.ok()) << a;
    expect_valid(notes, *plan, a);
    EXPECT_EQ(static_cast<int>(plan->notes.size()), std::popcount(a)) << a;
  }
}

TEST(Planner, SaysWhatIsMissing) {
  const std::vector<PlanNote> notes = {{1, 1}, {2, 4}, {3, 4}};
  auto short_of = plan_payment(notes, 100);
  ASSERT_FALSE(short_of.ok());
  EXPECT_NE(short_of.status().message().find("not enough ready notes: 0.09 ready, 1.00 asked"), std::string::npos)
      << short_of.status().message();
  auto no_combination = plan_payment(notes, 2);
  ASSERT_FALSE(no_combination.ok());
  EXPECT_NE(no_combination.status().message().find("missing denominations 0.02"), std::string::npos)
      << no_combination.status().message();
  EXPECT_EQ(plan_payment(notes, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(Planner, MixedNotesUseTheExactSearch) {
  // Greedy would take 6 and fail (6 + ? = 8); the optimum is 4 + 4.
  const std::vector<PlanNote> notes = {{1, 6}, {2, 4}, {3, 4}, {4, 3}};
  auto plan = plan_payment(notes, 8);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->notes.size(), 2U);
  expect_valid(notes, *plan, 8);
}

TEST(Planner, PrefersMarkedNotesAmongPlansWithTheFewestNotes) {
  // 5 = 4 + 1 = 3 + 2: two notes either way; the odd 3 is marked, so 3 + 2 is taken.
  const std::vector<PlanNote> notes = {{1, 4, false}, {2, 3, true}, {3, 1, false}, {4, 2, false}};
  auto plan = plan_payment(notes, 5);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->notes, (std::vector<PlanNote>{{2, 3, true}, {4, 2, false}}));
  // Never at the cost of a note more: 6 = 4 + 2 (two) rather than 3 + 2 + 1 (three, one marked).
  auto six = plan_payment(notes, 6);
  ASSERT_TRUE(six.ok());
  EXPECT_EQ(six->notes.size(), 2U);
  EXPECT_EQ(six->total(), 6U);
}

TEST(Planner, RaisesTheFeeByTheFewestCentsThatMakeAnExactPlan) {
  // 5-cent notes: 5 + a 3-cent fee is 8, no sum of them; a fee of 5 makes 10.
  const std::vector<PlanNote> fives = {{1, 5}, {2, 5}, {3, 10}};
  auto p = plan_payment_with_fee(fives, 5, 3);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->fee, 5U);
  EXPECT_EQ(p->plan.notes.size(), 1U) << "the 10-cent note";
  // Exact at once: the fee as quoted.
  auto exact = plan_payment_with_fee(fives, 5, 5);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->fee, 5U);
  // At most max(fee, 1) cents more: a 1-cent fee may become 2, not 5.
  auto far = plan_payment_with_fee(fives, 5, 1);
  EXPECT_EQ(far.status().code(), StatusCode::kNotFound);
  // No fee: raised by at most a cent.
  EXPECT_EQ(plan_payment_with_fee(fives, 5, 0)->fee, 0U);
}

}  // namespace
}  // namespace bucketpay
