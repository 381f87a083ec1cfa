// What a split makes: the 1-in-8-out fan-out of a rebalance (the fee rounded so that the rest is
// denominations, else one note of odd change), an on-demand split's change, and the policy's round
// of splits. Pure functions.
#include "split_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <numeric>

#include "rebalancer.h"

namespace bucketpay {
namespace {

Cents total(const std::vector<Cents>& v) { return std::accumulate(v.begin(), v.end(), Cents{0}); }
bool is_denomination(Cents v) { return std::has_single_bit(v) && v <= kBuckets.back(); }

Shortage short_of(std::initializer_list<std::pair<Cents, std::uint32_t>> items) {
  Shortage s;
  for (auto [value, count] : items) s[value] = count;
  return s;
}

const InventoryPolicy kLadder = InventoryPolicy::defaults();

TEST(SplitOutputs, AtMostEightTermsAreItsBinaryDecompositionRefinedTowardsWhatIsShort) {
  EXPECT_TRUE(split_outputs(0, kLadder, {}).empty());
  EXPECT_EQ(split_outputs(1020, kLadder, {}), (std::vector<Cents>{512, 256, 128, 64, 32, 16, 8, 4}));
  // Room left: the smallest term above a short denomination is halved, down to it.
  EXPECT_EQ(split_outputs(96, kLadder, short_of({{16, 2}})), (std::vector<Cents>{64, 16, 16}));
  EXPECT_EQ(split_outputs(64, kLadder, short_of({{1, 3}})), (std::vector<Cents>{32, 16, 8, 4, 1, 1, 1, 1}));
  EXPECT_EQ(split_outputs(64, kLadder, short_of({{1, 2}})), (std::vector<Cents>{32, 16, 8, 4, 2, 1, 1}));
  // No more than 8, whatever is short.
  EXPECT_EQ(split_outputs(255, kLadder, short_of({{1, 5}})).size(), 8U);
}

TEST(SplitOutputs, MoreThanEightTermsTakeWhatIsShortAndOneNoteOfOddChange) {
  // 65533 has 15 binary terms: 7 notes and the rest.
  const std::vector<Cents> outs = split_outputs(65'533, kLadder, short_of({{1, 2}, {4, 1}}));
  ASSERT_EQ(outs.size(), 8U);
  EXPECT_EQ(total(outs), 65'533U);
  EXPECT_EQ(std::count(outs.begin(), outs.end(), Cents{1}), 2);
  EXPECT_EQ(std::count(outs.begin(), outs.end(), Cents{4}), 1);
  EXPECT_EQ(std::count_if(outs.begin(), outs.end(), [](Cents v) { return !is_denomination(v); }), 1)
      << "one note of odd change, the rest denominations";
}

TEST(PlanFanOut, TheFeeIsRoundedUpSoThatTheRestIsDenominationsWhenThatIsCheap) {
  // 1024 - 3 = 1021 has 9 terms; 1024 - 4 = 1020 has 8: the fee goes up by a cent, no odd change.
  FanOut f = plan_fan_out(1024, 3, 4, kLadder, {});
  EXPECT_EQ(f.fee, 4U);
  EXPECT_EQ(f.outputs, (std::vector<Cents>{512, 256, 128, 64, 32, 16, 8, 4}));
  // A fee that makes it at once stays as it is.
  f = plan_fan_out(1024, 512, 512, kLadder, {});
  EXPECT_EQ(f.fee, 512U);
  EXPECT_EQ(f.outputs, std::vector<Cents>{512});
  // A large donor would need the fee raised far (2^16 - f has 8 terms only for f >= 256): odd
  // change instead, the fee as quoted.
  f = plan_fan_out(65'536, 3, 1, kLadder, short_of({{1, 3}}));
  EXPECT_EQ(f.fee, 3U);
  EXPECT_EQ(total(f.outputs), 65'533U);
  EXPECT_LE(f.outputs.size(), 8U);
  EXPECT_EQ(std::count(f.outputs.begin(), f.outputs.end(), Cents{1}), 3);
}

StoredNote note(std::int64_t id, Cents value) {
  StoredNote n;
  n.id = id;
  n.value = value;
  n.state = NoteState::kOnChain;
  n.leaf_index = static_cast<std::uint64_t>(id);
  return n;
}

TEST(PlanSplits, OneDonorFillsSeveralShortDenominationsAndPaysTheFee) {
  auto policy = InventoryPolicy::parse("1=2,2=2,4=2,8=1");
  ASSERT_TRUE(policy.ok());
  // Nothing small; one $10.24 note.
  const std::vector<PlannedSplit> splits = plan_splits({note(1, 1024)}, *policy, 3, 16);
  ASSERT_EQ(splits.size(), 1U);
  const PlannedSplit& s = splits[0];
  EXPECT_EQ(s.donor.id, 1);
  EXPECT_EQ(total(s.outputs) + s.fee, 1024U) << "value kept: outputs and the fee";
  EXPECT_LE(s.outputs.size(), 8U);
  EXPECT_GE(s.fee, 3U);
  EXPECT_NE(std::find(s.outputs.begin(), s.outputs.end(), Cents{1}), s.outputs.end());
}

TEST(PlanSplits, SurplusNotesGiveFirstAndANoteIsADonorOnce) {
  auto policy = InventoryPolicy::parse("1=1,64=1");
  ASSERT_TRUE(policy.ok());
  // The 64 is wanted; the 100 (no denomination) is surplus and gives first.
  const std::vector<PlannedSplit> splits = plan_splits({note(1, 64), note(2, 100)}, *policy, 2, 16);
  ASSERT_GE(splits.size(), 1U);
  EXPECT_EQ(splits[0].donor.id, 2);
  std::set<std::int64_t> donors;
  for (const PlannedSplit& s : splits) EXPECT_TRUE(donors.insert(s.donor.id).second);
  // Nothing short: nothing to do. Too small to pay the fee: passed over.
  EXPECT_TRUE(plan_splits({note(1, 1), note(2, 64)}, *policy, 2, 16).empty());
  EXPECT_TRUE(plan_splits({note(1, 2)}, *policy, 2, 16).empty());
}

// A service charging 5 cents: denominations 5 x 2^k.
InventoryPolicy five_cents() {
  auto p = InventoryPolicy::parse("5=4,10=2,20=2,40=1,80=0,160=0,320=0,640=0");
  EXPECT_TRUE(p.ok());
  return *p;
}

bool all_denominations(const std::vector<Cents>& v, const InventoryPolicy& p) {
  return std::all_of(v.begin(), v.end(), [&](Cents x) { return p.is_denomination(x); });
}

TEST(DenominationSums, FewestNotesGreedyOnAChainAndByTableOtherwise) {
  DenominationSums chain({40, 5, 20, 10});
  EXPECT_EQ(chain.fewest(75, 8), 4);  // 40 + 20 + 10 + 5
  EXPECT_EQ(chain.notes(75, 8), (std::vector<Cents>{40, 20, 10, 5}));
  EXPECT_EQ(chain.fewest(13, 8), -1) << "not a multiple of 5";
  EXPECT_EQ(chain.fewest(400, 8), -1) << "ten notes of 40: more than the limit";
  EXPECT_EQ(chain.fewest(0, 8), 0);
  // 1, 3, 4: greedy would make 6 as 4 + 1 + 1; the fewest is 3 + 3.
  DenominationSums odd({1, 3, 4});
  EXPECT_EQ(odd.fewest(6, 8), 2);
  EXPECT_EQ(odd.notes(6, 8), (std::vector<Cents>{3, 3}));
  EXPECT_EQ(odd.fewest(6, 1), -1);
  EXPECT_EQ(DenominationSums({}).fewest(6, 8), -1);
}

TEST(SplitOutputs, AFiveCentPolicyGetsItsShortDenominationsAndNoOddChange) {
  const InventoryPolicy p = five_cents();
  // 1,000 = 640 + 320 + 40; three 5s short come first, the rest 985 = 640 + 320 + 20 + 5.
  const std::vector<Cents> outs = split_outputs(1'000, p, short_of({{5, 3}}));
  EXPECT_EQ(total(outs), 1'000U);
  EXPECT_LE(outs.size(), 8U);
  EXPECT_TRUE(all_denominations(outs, p));
  EXPECT_EQ(std::count(outs.begin(), outs.end(), Cents{5}), 4);
  // 1,003 is no sum of 5-cent denominations: one odd note of change, the rest denominations.
  const std::vector<Cents> odd = split_outputs(1'003, p, short_of({{5, 2}}));
  EXPECT_EQ(total(odd), 1'003U);
  EXPECT_EQ(std::count_if(odd.begin(), odd.end(), [&](Cents v) { return !p.is_denomination(v); }), 1);
  EXPECT_GE(std::count(odd.begin(), odd.end(), Cents{5}), 2);
}

TEST(PlanFanOut, APowerOfTwoDonorBecomesExactFiveCentDenominations) {
  const InventoryPolicy p = five_cents();
  // $10.24 with a 3-cent fee: 1,021 is no multiple of 5; a fee of 4 makes 1,020, exact.
  const FanOut f = plan_fan_out(1'024, 3, 5, p, short_of({{5, 2}}));
  EXPECT_EQ(f.fee, 4U);
  EXPECT_EQ(total(f.outputs) + f.fee, 1'024U);
  EXPECT_LE(f.outputs.size(), 8U);
  EXPECT_TRUE(all_denominations(f.outputs, p)) << "no odd change";
  EXPECT_EQ(std::count(f.outputs.begin(), f.outputs.end(), Cents{5}), 2);
}

TEST(PlanSplits, OddNotesAreDonorsFirstAndTheirChangeIsDenominations) {
  const InventoryPolicy p = five_cents();
  // A $6.40 denomination and an odd $10.08 (change of another policy): the odd one gives first.
  const std::vector<PlannedSplit> splits = plan_splits({note(1, 640), note(2, 1'008)}, p, 3, 1);
  ASSERT_EQ(splits.size(), 1U);
  EXPECT_EQ(splits[0].donor.id, 2);
  EXPECT_TRUE(all_denominations(splits[0].outputs, p)) << "1,008 - 3 = 1,005 = 5-cent denominations";
  EXPECT_EQ(splits[0].fee, 3U);
}

}  // namespace
}  // namespace bucketpay
