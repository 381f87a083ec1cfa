// The RelayJournal contract (bucketpay/store.h), run against both backends: the SQLite store and
// the PostgreSQL store on the throwaway cluster (pg_test_cluster.h; store_test.cpp registers its
// environment for the whole binary).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bucketpay/pg_store.h"
#include "bucketpay/store.h"
#include "pg_test_cluster.h"
#include "store_testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;
using store_testing::must;

enum class Backend { kSqlite, kPostgres };

class RelayJournalTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      pg_ = std::make_unique<pgtest::FreshDatabase>();
    } else {
      std::string tmpl = (fs::temp_directory_path() / "bucketpay-relay-journal-XXXXXX").string();
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
    }
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // Another handle on the same database (a second relayer process, or a restart).
  std::unique_ptr<Store> open() {
    StoreOptions options;
    options.passphrase = "relay journal test";
    options.vault_params = VaultParams::fast();
    if (pg_) {
      Result<std::unique_ptr<PgStore>> s = open_pg_store(pg_->url(), options);
      EXPECT_TRUE(s.ok()) << s.status().to_string();
      return s.ok() ? std::unique_ptr<Store>(std::move(*s)) : nullptr;
    }
    Result<std::unique_ptr<Store>> s = open_sqlite_store(dir_ / "relay.db", options);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(*s) : nullptr;
  }

  std::unique_ptr<pgtest::FreshDatabase> pg_;
  fs::path dir_;
};

std::string digest_of(int i) {
  std::string d = "0x";
  const std::string n = std::to_string(i);
  d += std::string(64 - n.size(), '0') + n;
  return d;
}

RelayEntry entry(int i, std::string sender = "0x00000000000000000000000000000000000000aa") {
  RelayEntry e;
  e.digest = digest_of(i);
  e.kind = "spend_batch";
  e.bundle = R"({"kind":"spend_batch","n":)" + std::to_string(i) + "}";
  e.fee = "5000000000000000";
  e.sender = std::move(sender);
  e.deadline = 1'700'000'300;
  e.created_ms = 1'700'000'000'000 + i;
  return e;
}

const std::vector<std::uint8_t> kRaw = {0x02, 0xf8, 0x01, 0x00, 0xff};

TEST_P(RelayJournalTest, AnEntryGoesFromReceivedToMined) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(must(store->get_relay(digest_of(1))).has_value());
  ASSERT_TRUE(store->begin_relay(entry(1)).is_ok());
  RelayEntry got = *must(store->get_relay(digest_of(1)));
  EXPECT_EQ(got.state, RelayEntryState::kReceived);
  EXPECT_EQ(got.bundle, entry(1).bundle);
  EXPECT_EQ(got.fee, "5000000000000000");
  EXPECT_EQ(got.deadline, 1'700'000'300U);
  EXPECT_EQ(got.created_ms, entry(1).created_ms);
  EXPECT_FALSE(got.nonce.has_value());
  EXPECT_TRUE(got.raw_tx.empty());

  // Not yet signed: it can be neither submitted nor mined.
  EXPECT_EQ(store->mark_relay_submitted(digest_of(1)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->mark_relay_mined(digest_of(1), 9, 1).code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(store->record_relay_signed(digest_of(1), "0xabc", kRaw, 7).is_ok());
  got = *must(store->get_relay(digest_of(1)));
  EXPECT_EQ(got.state, RelayEntryState::kSigned);
  EXPECT_EQ(got.tx_hash, "0xabc");
  EXPECT_EQ(got.raw_tx, kRaw);
  EXPECT_EQ(got.nonce, 7U);
  // One transaction per digest: a second signature is refused, naming the state.
  Status again = store->record_relay_signed(digest_of(1), "0xdef", kRaw, 8);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("is signed"), std::string::npos) << again.to_string();
  EXPECT_EQ(must(store->get_relay(digest_of(1)))->tx_hash, "0xabc");

  ASSERT_TRUE(store->mark_relay_submitted(digest_of(1)).is_ok());
  ASSERT_TRUE(store->mark_relay_submitted(digest_of(1)).is_ok());  // idempotent
  ASSERT_TRUE(store->mark_relay_mined(digest_of(1), 42, 700'000).is_ok());
  ASSERT_TRUE(store->mark_relay_mined(digest_of(1), 42, 700'000).is_ok());  // idempotent
  got = *must(store->get_relay(digest_of(1)));
  EXPECT_EQ(got.state, RelayEntryState::kMined);
  EXPECT_EQ(got.block, 42U);
  EXPECT_EQ(got.gas_used, 700'000U);
  EXPECT_EQ(store->mark_relay_submitted(digest_of(1)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->fail_relay(digest_of(1), RelayEntryState::kSubmitted, "x", 0, 0).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->mark_relay_submitted(digest_of(99)).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->record_relay_signed(digest_of(99), "0x1", kRaw, 1).code(), StatusCode::kNotFound);
}

TEST_P(RelayJournalTest, ADigestIsRecordedOnceAndLeftAsItIs) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->begin_relay(entry(1)).is_ok());
  ASSERT_TRUE(store->record_relay_signed(digest_of(1), "0xabc", kRaw, 0).is_ok());
  RelayEntry other = entry(1);
  other.bundle = "{}";
  other.fee = "1";
  EXPECT_EQ(store->begin_relay(other).code(), StatusCode::kAlreadyExists);
  const RelayEntry got = *must(store->get_relay(digest_of(1)));
  EXPECT_EQ(got.state, RelayEntryState::kSigned);
  EXPECT_EQ(got.bundle, entry(1).bundle);
  EXPECT_EQ(got.fee, "5000000000000000");
  RelayEntry empty = entry(2);
  empty.digest.clear();
  EXPECT_EQ(store->begin_relay(empty).code(), StatusCode::kInvalidArgument);
}

TEST_P(RelayJournalTest, FailIsACompareAndSetFromTheStateItWasReadIn) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(store->begin_relay(entry(i)).is_ok());
  ASSERT_TRUE(store->record_relay_signed(digest_of(2), "0x2", kRaw, 2).is_ok());
  ASSERT_TRUE(store->record_relay_signed(digest_of(3), "0x3", kRaw, 3).is_ok());
  ASSERT_TRUE(store->mark_relay_submitted(digest_of(3)).is_ok());

  // The wrong expected state changes nothing and says what the state is.
  Status wrong = store->fail_relay(digest_of(2), RelayEntryState::kSubmitted, "reverted", 5, 21'000);
  EXPECT_EQ(wrong.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.message().find("is signed"), std::string::npos) << wrong.to_string();
  EXPECT_EQ(must(store->get_relay(digest_of(2)))->state, RelayEntryState::kSigned);

  ASSERT_TRUE(store->fail_relay(digest_of(1), RelayEntryState::kReceived, "deadline passed", 0, 0).is_ok());
  ASSERT_TRUE(store->fail_relay(digest_of(2), RelayEntryState::kSigned, "refused by the node", 0, 0).is_ok());
  ASSERT_TRUE(store->fail_relay(digest_of(3), RelayEntryState::kSubmitted, "paid by 0xfeed", 12, 60'000).is_ok());
  const RelayEntry third = *must(store->get_relay(digest_of(3)));
  EXPECT_EQ(third.state, RelayEntryState::kFailed);
  EXPECT_EQ(third.reason, "paid by 0xfeed");
  EXPECT_EQ(third.block, 12U);
  EXPECT_EQ(third.gas_used, 60'000U);
  EXPECT_EQ(third.raw_tx, kRaw);  // what was signed stays on record
  // Failed is final.
  EXPECT_EQ(store->fail_relay(digest_of(3), RelayEntryState::kSubmitted, "again", 0, 0).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->mark_relay_mined(digest_of(3), 1, 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->fail_relay(digest_of(3), RelayEntryState::kFailed, "x", 0, 0).code(), StatusCode::kInvalidArgument);
}

TEST_P(RelayJournalTest, ASendersNonceIsHeldByOneEntryAtATime) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string other_sender = "0x00000000000000000000000000000000000000bb";
  ASSERT_TRUE(store->begin_relay(entry(1)).is_ok());
  ASSERT_TRUE(store->begin_relay(entry(2)).is_ok());
  ASSERT_TRUE(store->begin_relay(entry(3, other_sender)).is_ok());
  ASSERT_TRUE(store->record_relay_signed(digest_of(1), "0x1", kRaw, 5).is_ok());
  EXPECT_EQ(store->record_relay_signed(digest_of(2), "0x2", kRaw, 5).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->get_relay(digest_of(2)))->state, RelayEntryState::kReceived);
  // Another account's nonces are its own.
  EXPECT_TRUE(store->record_relay_signed(digest_of(3), "0x3", kRaw, 5).is_ok());
  // A transaction the node refused (failed while signed) no longer holds its nonce.
  ASSERT_TRUE(store->fail_relay(digest_of(1), RelayEntryState::kSigned, "refused", 0, 0).is_ok());
  EXPECT_TRUE(store->record_relay_signed(digest_of(2), "0x2", kRaw, 5).is_ok());
}

TEST_P(RelayJournalTest, ListsAndCountsByState) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  // Inserted out of order: lists are oldest first.
  for (int i : {4, 1, 3, 2, 5}) ASSERT_TRUE(store->begin_relay(entry(i)).is_ok());
  ASSERT_TRUE(store->record_relay_signed(digest_of(2), "0x2", kRaw, 0).is_ok());
  ASSERT_TRUE(store->record_relay_signed(digest_of(3), "0x3", kRaw, 1).is_ok());
  ASSERT_TRUE(store->mark_relay_submitted(digest_of(3)).is_ok());
  ASSERT_TRUE(store->record_relay_signed(digest_of(4), "0x4", kRaw, 2).is_ok());
  ASSERT_TRUE(store->mark_relay_mined(digest_of(4), 3, 3).is_ok());
  ASSERT_TRUE(store->fail_relay(digest_of(5), RelayEntryState::kReceived, "x", 0, 0).is_ok());

  const std::vector<RelayEntry> open_entries = must(store->list_open_relays());
  ASSERT_EQ(open_entries.size(), 3U);
  EXPECT_EQ(open_entries[0].digest, digest_of(1));
  EXPECT_EQ(open_entries[1].digest, digest_of(2));
  EXPECT_EQ(open_entries[2].digest, digest_of(3));
  const std::vector<RelayEntry> all = must(store->list_relays(std::nullopt));
  ASSERT_EQ(all.size(), 5U);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].digest, digest_of(static_cast<int>(i) + 1));
  const std::vector<RelayEntry> mined = must(store->list_relays(RelayEntryState::kMined));
  ASSERT_EQ(mined.size(), 1U);
  EXPECT_EQ(mined[0].digest, digest_of(4));
  const RelayCounts counts = must(store->relay_counts());
  EXPECT_EQ(counts, (RelayCounts{1, 1, 1, 1, 1}));
  EXPECT_EQ(counts.open(), 3);
}

TEST_P(RelayJournalTest, EntriesSurviveReopening) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->begin_relay(entry(1)).is_ok());
    ASSERT_TRUE(store->record_relay_signed(digest_of(1), "0xabc", kRaw, 9).is_ok());
  }
  auto reopened = open();
  ASSERT_NE(reopened, nullptr);
  const RelayEntry got = *must(reopened->get_relay(digest_of(1)));
  EXPECT_EQ(got.state, RelayEntryState::kSigned);
  EXPECT_EQ(got.raw_tx, kRaw);
  EXPECT_EQ(got.nonce, 9U);
}

TEST_P(RelayJournalTest, TwoProcessesSigningOneDigestMakeOneTransaction) {
  auto a = open();
  auto b = open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kDigests = 20;
  for (int i = 0; i < kDigests; ++i) ASSERT_TRUE(a->begin_relay(entry(i)).is_ok());
  std::atomic<int> wins{0};
  auto signer = [&](Store* s, int tag) {
    for (int i = 0; i < kDigests; ++i) {
      // Each side signs with nonces of its own range: only the digest's state decides.
      Status st = s->record_relay_signed(digest_of(i), "0x" + std::to_string(tag) + std::to_string(i), kRaw,
                                         static_cast<std::uint64_t>(tag * 100 + i));
      if (st.is_ok()) {
        ++wins;
      } else {
        EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.to_string();
      }
    }
  };
  std::thread ta(signer, a.get(), 1);
  std::thread tb(signer, b.get(), 2);
  ta.join();
  tb.join();
  EXPECT_EQ(wins.load(), kDigests);
  EXPECT_EQ(must(a->relay_counts()).signed_, kDigests);
}

X402Stage stage(int i, int hash = 1) {
  X402Stage st;
  st.digest = digest_of(i);
  st.bundle_hash = digest_of(1000 + hash);
  st.bundle = R"({"kind":"spend_batch","n":)" + std::to_string(i) + "}";
  st.expires_at = 1'700'000'300 + static_cast<std::uint64_t>(i);
  st.created_ms = 1'700'000'000'000 + i;
  return st;
}

TEST_P(RelayJournalTest, X402StagesSurviveAReopenAndAPendingTransactionIsTakenOnce) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(must(store->list_x402_stages()).empty());
    ASSERT_TRUE(store->put_x402_stage(stage(1)).is_ok());
    ASSERT_TRUE(store->put_x402_stage(stage(1, 2)).is_ok());  // the same digest, another bundle
    ASSERT_TRUE(store->put_x402_stage(stage(2)).is_ok());
    X402Stage other = stage(1);
    other.bundle = "{}";
    EXPECT_EQ(store->put_x402_stage(other).code(), StatusCode::kAlreadyExists);
    X402Stage empty;
    EXPECT_EQ(store->put_x402_stage(empty).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store->set_x402_pending(digest_of(9), "0xabc").code(), StatusCode::kNotFound);
    ASSERT_TRUE(store->set_x402_pending(digest_of(2), "0xabc").is_ok());
  }
  // Another handle (a restarted facilitator): everything as it was written.
  auto store = open();
  ASSERT_NE(store, nullptr);
  std::vector<X402Stage> all = must(store->list_x402_stages());
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0], stage(1));
  EXPECT_EQ(all[1].bundle_hash, stage(1, 2).bundle_hash);
  EXPECT_EQ(all[2].digest, digest_of(2));
  EXPECT_EQ(all[2].pending_tx, "0xabc");
  // Taken once, by exactly one of two takers.
  EXPECT_EQ(must(store->take_x402_pending(digest_of(2))), std::optional<std::string>("0xabc"));
  EXPECT_FALSE(must(store->take_x402_pending(digest_of(2))).has_value());
  EXPECT_FALSE(must(store->take_x402_pending(digest_of(1))).has_value());
  // Dropped by pair, by digest, by expiry.
  EXPECT_EQ(must(store->drop_x402_stages(digest_of(1), stage(1, 2).bundle_hash)), 1U);
  EXPECT_EQ(must(store->drop_x402_stages(digest_of(1), stage(1, 2).bundle_hash)), 0U);
  ASSERT_TRUE(store->put_x402_stage(stage(1, 3)).is_ok());
  EXPECT_EQ(must(store->drop_x402_stages(digest_of(1), "")), 2U);
  EXPECT_EQ(must(store->drop_expired_x402_stages(stage(2).expires_at)), 0U);  // expires_at itself is still live
  EXPECT_EQ(must(store->drop_expired_x402_stages(stage(2).expires_at + 1)), 1U);
  EXPECT_TRUE(must(store->list_x402_stages()).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, RelayJournalTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& param) {
                           return param.param == Backend::kSqlite ? std::string("Sqlite") : std::string("Postgres");
                         });

}  // namespace
}  // namespace bucketpay
