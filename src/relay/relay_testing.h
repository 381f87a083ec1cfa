// What the relayer's unit tests share: a relayer on a real SQLite store (a vault, the account key
// sealed in it) over a TestChain and a manual clock, and bundles signed by fresh auth keys (proofs
// are bytes: the TestChain verifies nothing). Test code only.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bucketpay/relay.h"
#include "bucketpay/relay_api.h"
#include "bucketpay/store.h"
#include "common/manual_clock_testing.h"
#include "relay_chain_testing.h"

namespace bucketpay::testing {

inline constexpr std::int64_t kStartMs = 1'700'000'000'000;  // the manual clock's start
inline constexpr std::uint64_t kChainId = 31337;
inline const eth::U256 kUnit(10'000'000'000'000'000ULL);  // 10^16 base units per cent (18 decimals)

inline eth::U256 random_field() {
  return eth::U256::from_word(eth::keccak256(eth::PrivateKey::random().address().to_word())) % eth::field_modulus();
}

// A bundle and the auth keys that sign it.
struct TestBundle {
  eth::RelayBundle bundle;
  std::vector<eth::PrivateKey> keys;

  // Signs the bundle's digest with each note's key (after any change to the payment).
  void sign() {
    bundle.signatures.clear();
    const eth::Hash32 digest = bundle.digest();
    for (const eth::PrivateKey& k : keys) bundle.signatures.push_back(eth::sign_digest(k, digest));
  }
  [[nodiscard]] std::string json() const { return eth::encode_bundle(bundle); }
  [[nodiscard]] std::string digest() const { return eth::to_hex(bundle.digest()); }
};

// A relayer on a fresh store: the key made by create_account, the config saved and loaded back.
class RelayFixture {
 public:
  RelayFixture() : pool_(eth::PrivateKey::random().address()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bucketpay-relay-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    store_ = open_store();
    Result<eth::Address> address = relay::create_account(*store_);
    EXPECT_TRUE(address.ok()) << address.status().to_string();
    account_ = *address;
    chain_ = std::make_unique<TestChain>(pool_, account_);
    relay::RelayConfig config;
    config.rpc_url = "http://test";
    config.pool = pool_;
    config.chain_id = kChainId;
    config.unit = kUnit;
    config.token_decimals = 18;
    config.start_block = 0;
    EXPECT_TRUE(relay::save_config(*store_, config).is_ok());
    relay::RelayOptions options;
    options.log = &log_;
    relayer_ = open_relayer(*store_, options);
  }
  ~RelayFixture() {
    relayer_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Another handle on the store (another process, or the same one after a restart).
  std::unique_ptr<Store> open_store() {
    StoreOptions so;
    so.passphrase = "relay test";
    so.vault_params = VaultParams::fast();
    Result<std::unique_ptr<Store>> s = open_sqlite_store(dir_ / "relay.db", so);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return std::move(s).value();
  }
  std::unique_ptr<relay::Relayer> open_relayer(Store& store, relay::RelayOptions options = {}) {
    options.clock = &clock_;
    Result<std::unique_ptr<relay::Relayer>> r = relay::Relayer::open(store, *chain_, options);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return std::move(r).value();
  }

  // A spend_batch of `values` (cents) paying the relayer `fee` (default: its current quote),
  // deadline 300 s from the clock's now.
  TestBundle spend(std::vector<std::uint64_t> values, std::optional<eth::U256> fee = std::nullopt) {
    TestBundle t;
    eth::RelayBundle& b = t.bundle;
    b.kind = eth::BundleKind::kSpendBatch;
    b.chain_id = kChainId;
    b.pool = pool_;
    b.payment.recipient = eth::PrivateKey::random().address();
    b.payment.fee_recipient = account_;
    b.payment.deadline = eth::U256(static_cast<std::uint64_t>(clock_.unix_ms() / 1000 + 300));
    for (std::size_t i = 0; i < values.size(); ++i) {
      t.keys.push_back(eth::PrivateKey::random());
      eth::SpendCall s;
      s.proof = eth::Bytes(6848, static_cast<std::uint8_t>(i + 1));
      s.root = random_field();
      s.nullifier = random_field();
      s.value = values[i];
      s.auth = t.keys.back().address();
      b.payment.nullifiers.push_back(s.nullifier);
      b.spends.push_back(std::move(s));
    }
    b.payment.fee = fee ? *fee : quote_fee(eth::BundleKind::kSpendBatch, values.size());
    t.sign();
    return t;
  }
  // A split withdrawing `amount` cents into 8 outputs, paying the relayer its quote.
  TestBundle split(std::uint64_t amount) {
    TestBundle t;
    eth::RelayBundle& b = t.bundle;
    b.kind = eth::BundleKind::kSplit;
    b.chain_id = kChainId;
    b.pool = pool_;
    t.keys.push_back(eth::PrivateKey::random());
    b.split = eth::SplitCall{};
    b.split->proof = eth::Bytes(7232, 7);
    b.split->root = random_field();
    b.split->nullifier = random_field();
    b.split->amount = amount;
    b.split->auth = t.keys.back().address();
    for (eth::U256& cm : b.split->out_cms) cm = random_field();
    b.payment.nullifiers = {b.split->nullifier};
    b.payment.recipient = eth::PrivateKey::random().address();
    b.payment.fee_recipient = account_;
    b.payment.fee = quote_fee(eth::BundleKind::kSplit, 1);
    b.payment.deadline = eth::U256(static_cast<std::uint64_t>(clock_.unix_ms() / 1000 + 300));
    t.sign();
    return t;
  }
  eth::U256 quote_fee(eth::BundleKind kind, std::size_t notes) {
    Result<eth::RelayQuote> q = relayer_->quote(kind, notes);
    EXPECT_TRUE(q.ok()) << q.status().to_string();
    return q.ok() ? q->fee : eth::U256();
  }

  // The Spent events (and the Paid event) a spendBatch of `t` leaves, for a third party's copy.
  static std::vector<eth::PoolEvent> paid_events(const TestBundle& t) {
    std::vector<eth::PoolEvent> out;
    const eth::Hash32 digest = t.bundle.digest();
    for (const eth::U256& nf : t.bundle.payment.nullifiers) {
      eth::PoolEvent ev;
      ev.kind = eth::PoolEvent::Kind::kSpent;
      ev.spent.nullifier = nf;
      ev.spent.payment = digest;
      out.push_back(ev);
    }
    eth::PoolEvent paid;
    paid.kind = eth::PoolEvent::Kind::kPaid;
    paid.paid.payment = digest;
    paid.paid.recipient = t.bundle.payment.recipient;
    paid.paid.fee_recipient = t.bundle.payment.fee_recipient;
    paid.paid.fee = t.bundle.payment.fee;
    out.push_back(paid);
    return out;
  }

  std::optional<RelayEntry> entry(const std::string& digest) {
    Result<std::optional<RelayEntry>> e = store_->get_relay(digest);
    EXPECT_TRUE(e.ok()) << e.status().to_string();
    return e.ok() ? *e : std::nullopt;
  }

  std::filesystem::path dir_;
  eth::Address pool_;
  eth::Address account_;
  ManualClock clock_{kStartMs};
  std::ostringstream log_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TestChain> chain_;
  std::unique_ptr<relay::Relayer> relayer_;
};

}  // namespace bucketpay::testing
