// The wallet's inventory policy (pure) and its configuration in a store. The wallet end to end on
// a real anvil (deposit, sync, pay through a relayer, reorganisations, a lying node, backup) is
// tests/e2e/wallet_e2e_test.cpp; its parts are unit-tested on a scripted chain and a scripted
// relayer beside this file (chain_indexer_test, payment_sender_test, payment_relay_test).
#include "bucketpay/wallet.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <numeric>
#include <string>

#include "bucketpay/planner.h"
#include "testing/testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------ policy (pure)

TEST(InventoryPolicy, DefaultsSuitAThousandDollars) {
  const InventoryPolicy p = InventoryPolicy::defaults();
  EXPECT_EQ(p.target_value(), 3 * 16383 + 2 * 16384);
  EXPECT_LE(p.target_value(), Cents{100'000});
  // The binary ladder: every power of two up to $655.36, the two largest at target 0.
  ASSERT_EQ(p.denominations.size(), kBuckets.size());
  EXPECT_EQ(p.values(), std::vector<Cents>(kBuckets.begin(), kBuckets.end()));
  EXPECT_EQ(p.target(65'536), 0U);
  EXPECT_TRUE(p.is_denomination(65'536));
  EXPECT_FALSE(p.is_denomination(3));
  auto parsed = InventoryPolicy::parse(p.to_string());
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->denominations, p.denominations);
  EXPECT_EQ(p.to_string(), "1=3,2=3,4=3,8=3,16=3,32=3,64=3,128=3,256=3,512=3,1024=3,2048=3,4096=3,8192=3,16384=2")
      << "the form stored before denominations were configurable";
}

TEST(InventoryPolicy, ParseRejectsBadItems) {
  for (const char* bad : {"", "0=1", "1=", "=2", "1=2,", "1=-1", "1=2x", "131072=1", "1=1001", "abc", "1=1,,2=1",
                          "5=1,5=2", "5.00=1", " 5=1"}) {
    EXPECT_EQ(InventoryPolicy::parse(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  auto ok = InventoryPolicy::parse("1=4,1024=2");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->target(1), 4U);
  EXPECT_EQ(ok->target(1024), 2U);
  EXPECT_TRUE(ok->is_denomination(2)) << "powers of two only: the whole ladder";
  EXPECT_EQ(ok->target_value(), 4U + 2048U);
  EXPECT_EQ(ok->to_string(), "1=4,1024=2");
}

TEST(InventoryPolicy, AnyDenominationsNamedAreExactlyTheDenominations) {
  auto p = InventoryPolicy::parse("20=5,5=20,10=10,40=0");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->values(), (std::vector<Cents>{5, 10, 20, 40}));
  EXPECT_FALSE(p->is_denomination(1));
  EXPECT_FALSE(p->is_denomination(8));
  EXPECT_TRUE(p->is_denomination(40));
  EXPECT_EQ(p->target_value(), 100U + 100U + 100U);
  EXPECT_EQ(p->to_string(), "5=20,10=10,20=5,40=0") << "zero targets kept: they name denominations";
  auto again = InventoryPolicy::parse(p->to_string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->denominations, p->denominations);
  EXPECT_EQ(p->shortage({{5, 18}, {10, 10}, {20, 7}}), (NoteCounts{{5, 2}})) << "only what is short";
}

TEST(InventoryPolicy, DepositValuesArePowersOfTwoSummingToTheAmount) {
  const InventoryPolicy p = InventoryPolicy::defaults();
  const NoteCounts none;
  for (Cents amount : {Cents{1}, Cents{99}, Cents{12'345}, Cents{100'000}, Cents{1'000'000}}) {
    const auto values = p.deposit_values(amount, none);
    Cents sum = 0;
    for (Cents v : values) {
      EXPECT_TRUE(std::has_single_bit(v) && v <= kBuckets.back()) << v;
      sum += v;
    }
    EXPECT_EQ(sum, amount);
  }
  // $1,000 fills every target first.
  const auto values = p.deposit_values(100'000, none);
  NoteCounts got;
  for (Cents v : values) ++got[v];
  for (const Denomination& d : p.denominations) EXPECT_GE(got[d.value], d.target) << d.value;
  // Targets already met: only the binary decomposition.
  NoteCounts full;
  for (const Denomination& d : p.denominations) full[d.value] = d.target;
  EXPECT_EQ(p.deposit_values(5, full), (std::vector<Cents>{4, 1}));
  // $12,000 (the payments benchmark): the targets, then $655.36 notes, then the binary rest.
  const auto big = p.deposit_values(1'200'000, none);
  EXPECT_EQ(std::count(big.begin(), big.end(), Cents{65'536}), 17);
}

TEST(InventoryPolicy, DepositValuesOfAFiveCentPolicyAreItsDenominationsAndOneOddNoteAtMost) {
  auto p = InventoryPolicy::parse("5=4,10=2,20=1,40=0");
  ASSERT_TRUE(p.ok());
  // 20 + 20 + 40 = the targets; 1,000 - 80 = 920 = 23 x 40.
  const auto values = p->deposit_values(1'000, {});
  EXPECT_EQ(std::count(values.begin(), values.end(), Cents{5}), 4);
  EXPECT_EQ(std::count(values.begin(), values.end(), Cents{10}), 2);
  EXPECT_EQ(std::count(values.begin(), values.end(), Cents{40}), 23);
  EXPECT_EQ(std::accumulate(values.begin(), values.end(), Cents{0}), 1'000U);
  // 1,003: 3 cents no denomination makes, as one odd note.
  const auto odd = p->deposit_values(1'003, {});
  EXPECT_EQ(std::count_if(odd.begin(), odd.end(), [&](Cents v) { return !p->is_denomination(v); }), 1);
  EXPECT_EQ(odd.back(), 3U);
}

TEST(InventoryPolicy, SurvivesTheStoreReopened) {
  const fs::path dir = fs::temp_directory_path() / ("bucketpay-policy-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  StoreOptions so;
  so.passphrase = "policy test";
  so.vault_params = VaultParams::fast();
  WalletConfig c;
  c.pool = *eth::Address::from_string("0x00000000000000000000000000000000000000aa");
  auto five = InventoryPolicy::parse("5=40,10=10,20=10,40=4,80=0");
  ASSERT_TRUE(five.ok());
  c.policy = *five;
  {
    auto store = open_sqlite_store(dir / "w.db", so);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    ASSERT_TRUE(save_config(**store, "w", c).is_ok());
    // A policy as an earlier version stored it (powers of two, zero targets left out).
    ASSERT_TRUE((*store)->put_setting("old", "policy", "1=4,1024=2").is_ok());
  }
  auto store = open_sqlite_store(dir / "w.db", so);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  auto loaded = load_config(**store, "w");
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->policy.denominations, five->denominations);
  EXPECT_TRUE(loaded->policy.is_denomination(80));
  EXPECT_FALSE(loaded->policy.is_denomination(8));
  auto old = (*store)->get_setting("old", "policy");
  ASSERT_TRUE(old.ok() && old->has_value());
  auto ladder = InventoryPolicy::parse(**old);
  ASSERT_TRUE(ladder.ok());
  EXPECT_EQ(ladder->denominations.size(), kBuckets.size());
  EXPECT_EQ(ladder->target(1024), 2U);
  store->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bucketpay
