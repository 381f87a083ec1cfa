// Spending limits (SpendLimits, check_spend_limits): the text form, each cap against a journal,
// what does not count (failed payments, deposits, rebalances, payments older than the period), and
// the setting kept in the store. Wallet::pay runs the check first; the x402 end-to-end test
// (scripts/x402_e2e_test.sh) sees it refuse through the service.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "bucketpay/wallet.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;

const eth::Address kAlice = *eth::Address::from_string("0x00000000000000000000000000000000000000a1");
const eth::Address kBob = *eth::Address::from_string("0x00000000000000000000000000000000000000b0");
constexpr std::int64_t kNow = 1'700'000'000'000;

Payment paid(Cents amount, const eth::Address& to, std::int64_t created_ms,
             PaymentState state = PaymentState::kConfirmed, PaymentKind kind = PaymentKind::kPay) {
  Payment p;
  p.kind = kind;
  p.amount = amount;
  p.recipient = to.to_hex();
  p.created_ms = created_ms;
  p.state = state;
  return p;
}

TEST(SpendLimits, ParseAndPrintRoundTrip) {
  auto l = SpendLimits::parse("payee=500,period=2000,period_s=3600,payment=100");
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  EXPECT_EQ(l->per_payment, 100U);
  EXPECT_EQ(l->per_payee, 500U);
  EXPECT_EQ(l->per_period, 2000U);
  EXPECT_EQ(l->period_s, 3600U);
  auto back = SpendLimits::parse(l->to_string());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *l);
  auto none = SpendLimits::parse("none");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->any());
  EXPECT_EQ(none->to_string(), "none");
  for (const char* bad : {"payee", "payee=", "payee=-1", "payee=1x", "daily=5", "period_s=0", "payee=5,,period=1"}) {
    auto r = SpendLimits::parse(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SpendLimits, EachCapRefusesWhatWouldPassItAndSaysWhatIsLeft) {
  SpendLimits l;
  l.per_payment = 100;
  l.per_payee = 150;
  l.per_period = 250;
  l.period_s = 3600;
  const std::vector<Payment> journal = {paid(100, kAlice, kNow - 60'000), paid(50, kBob, kNow - 120'000)};
  EXPECT_TRUE(check_spend_limits(l, journal, 50, kAlice, kNow).is_ok());
  Status one = check_spend_limits(l, journal, 101, kBob, kNow);
  EXPECT_EQ(one.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(one.message().find("a payment may carry"), std::string::npos) << one.message();
  Status payee = check_spend_limits(l, journal, 51, kAlice, kNow);
  EXPECT_EQ(payee.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(payee.message().find("$0.50 left"), std::string::npos) << payee.message();
  EXPECT_TRUE(check_spend_limits(l, journal, 100, kBob, kNow).is_ok());
  const eth::Address carol = *eth::Address::from_string("0x00000000000000000000000000000000000000c0");
  EXPECT_TRUE(check_spend_limits(l, journal, 100, carol, kNow).is_ok());  // 250 in all: exactly the cap
  const std::vector<Payment> more = {paid(100, kAlice, kNow - 60'000), paid(100, kBob, kNow - 120'000)};
  Status total = check_spend_limits(l, more, 51, carol, kNow);
  EXPECT_EQ(total.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(total.message().find("$0.50 left of $2.50"), std::string::npos) << total.message();
}

TEST(SpendLimits, FailedOldAndOtherKindsDoNotCount) {
  SpendLimits l;
  l.per_payee = 100;
  l.period_s = 60;
  const std::vector<Payment> journal = {
      paid(100, kAlice, kNow - 61'000),                                                  // before the period
      paid(100, kAlice, kNow - 1'000, PaymentState::kFailed),                            // failed
      paid(100, kAlice, kNow - 1'000, PaymentState::kConfirmed, PaymentKind::kDeposit),  // not a payment
  };
  EXPECT_TRUE(check_spend_limits(l, journal, 100, kAlice, kNow).is_ok());
  // In flight counts: it may still land.
  const std::vector<Payment> flying = {paid(60, kAlice, kNow - 1'000, PaymentState::kSubmitted),
                                       paid(30, kAlice, kNow - 1'000, PaymentState::kSigned, PaymentKind::kSplit)};
  EXPECT_EQ(check_spend_limits(l, flying, 11, kAlice, kNow).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(check_spend_limits(l, flying, 10, kAlice, kNow).is_ok());
}

TEST(SpendLimits, KeptInTheWalletsSettings) {
  const fs::path dir = fs::temp_directory_path() / ("bucketpay-limits-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  StoreOptions so;
  so.passphrase = "limits test";
  so.vault_params = VaultParams::fast();
  WalletConfig c;
  c.pool = *eth::Address::from_string("0x00000000000000000000000000000000000000aa");
  c.limits = *SpendLimits::parse("payee=500,period_s=600");
  {
    auto store = open_sqlite_store(dir / "w.db", so);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    ASSERT_TRUE(save_config(**store, "w", c).is_ok());
  }
  auto store = open_sqlite_store(dir / "w.db", so);
  ASSERT_TRUE(store.ok());
  auto loaded = load_config(**store, "w");
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->limits, c.limits);
  store->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bucketpay
