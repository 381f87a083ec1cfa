// A fixture for the unit tests of the wallet's parts (chain_indexer_test, payment_sender_test,
// payment_relay_test, payer_test): a real SQLite store in a temporary directory, a ScriptedChain
// whose blocks carry the manual clock's time, a ScriptedRelayer, the wallet's keys, and builders for
// the Pool events a test plays. Test code only.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "account_signer.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/engine.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"
#include "bucketpay/store.h"
#include "chain_indexer.h"
#include "common/manual_clock_testing.h"
#include "fee_quotes.h"
#include "payer.h"
#include "payment_relay.h"
#include "payment_sender.h"
#include "scripted_chain_testing.h"
#include "scripted_relayer_testing.h"
#include "store/store_testing.h"
#include "wallet_util.h"

namespace bucketpay::testing {

using store_testing::must;

class WalletParts : public ::testing::Test {
 protected:
  static constexpr const char* kWallet = "w";
  static constexpr std::uint64_t kStartBlock = 1;
  static constexpr std::uint64_t kDeadline = 300;
  const eth::U256 kUnit = eth::U256(10'000);  // ScriptedChain's Pool.UNIT

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bucketpay-parts-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = must(open_sqlite_store(dir_ / "wallet.db"));
    chain_ = std::make_unique<ScriptedChain>(pool_, account_key_.address(), /*blocks=*/kStartBlock + 1, &clock_);
    signer_ = std::make_unique<AccountSigner>(*chain_, account_key_);
    relayer_ = std::make_unique<ScriptedRelayer>(
        *chain_, clock_, domain_, [this](const eth::RelayBundle& b, const eth::Hash32& d) { return events_of(b, d); });
    make_indexer({});
    SenderOptions so;
    so.wallet = kWallet;
    so.start_block = kStartBlock;
    so.receipt_timeout = std::chrono::seconds(30);
    so.poll_interval = std::chrono::milliseconds(500);
    so.sender_lock_timeout = std::chrono::milliseconds(200);
    sender_ = std::make_unique<PaymentSender>(*store_, *chain_, *signer_, clock_, so);
    RelayerSource relayers = [this](const std::string& url) -> Result<eth::RelayerClient*> {
      ++relayer_lookups_;
      if (url != relayer_->url()) return Status::unavailable("no relayer at " + url);
      return relayer_.get();
    };
    PaymentRelayOptions ro;
    ro.wallet = kWallet;
    ro.start_block = kStartBlock;
    relay_ = std::make_unique<PaymentRelay>(*store_, *chain_, relayers, clock_, sk_, ro);
    quotes_ = std::make_unique<FeeQuotes>(relayers, clock_, domain_, kUnit);
    make_payer();
  }

  // (Re)makes the payer over the current indexer.
  void make_payer() {
    payer_ = std::make_unique<Payer>(
        *store_, *store_, *relay_, *quotes_, *indexer_, clock_,
        []() -> Result<ProverPool*> { return Status::failed_precondition("no prover in unit tests"); },
        PayerOptions{kWallet, sk_, pk_, kDeadline, InventoryPolicy::defaults(), domain_});
  }

  void TearDown() override {
    payer_.reset();
    relay_.reset();
    sender_.reset();
    indexer_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // (Re)makes the indexer with `options` (wallet and start block filled in).
  void make_indexer(IndexerOptions options, std::uint64_t confirmations = 0) {
    options.wallet = kWallet;
    options.start_block = kStartBlock;
    options.confirmations = confirmations;
    payer_.reset();  // it holds the indexer
    indexer_ = std::make_unique<ChainIndexer>(*store_, *chain_, tree_, sk_, options);
    if (relay_) make_payer();
  }

  // ---- the wallet's notes

  // A note of the wallet's, kept pending (as a deposit or a split output is before it lands).
  Note pending_note(Cents value) {
    const Note n = Note::create(pk_, value);
    ids_[wallet_util::fr_key(n.commitment())] = must(wallet_util::insert_pending_note(*store_, kWallet, n));
    return n;
  }
  std::int64_t id_of(const Note& n) { return ids_.at(wallet_util::fr_key(n.commitment())); }
  StoredNote stored(const Note& n) { return must(store_->get_note(id_of(n))); }
  NoteState state_of(const Note& n) { return stored(n).state; }
  Fr nullifier_of(const Note& n) { return nullifier(SpendingKey::from_fr(sk_), n.commitment()); }
  bool exists(const Note& n) { return store_->get_note(id_of(n)).ok(); }

  // Notes deposited and synced: on chain, in the wallet's tree and store.
  std::vector<Note> deposited(const std::vector<Cents>& values) {
    std::vector<Note> notes;
    for (Cents v : values) notes.push_back(pending_note(v));
    chain_->mine({deposit_tx(notes)});
    EXPECT_TRUE(indexer_->sync().ok());
    for (const Note& n : notes) EXPECT_EQ(state_of(n), NoteState::kOnChain);
    return notes;
  }
  // A ready spend proof for each note (as the engine stores it: its statement under the wallet's
  // root; the proof's bytes are not checked by anything here).
  void make_ready(const std::vector<Note>& notes) {
    for (const Note& n : notes) {
      const StoredNote s = stored(n);
      const OwnedNote owned{n, SpendingKey::from_fr(sk_), *s.leaf_index};
      const SpendStatement st = spend_statement(owned, tree_.root());
      Precompute p;
      p.key = Engine::spend_key(st.nullifier, st.auth);
      p.note_id = s.id;
      p.circuit = CircuitKind::kSpend;
      p.amount = n.value;
      p.auth = st.auth;
      p.public_inputs = st.public_inputs();
      p.proof = std::vector<std::uint8_t>(64, 0x5a);
      must(store_->insert_precompute(p));
    }
  }
  std::vector<Note> ready(const std::vector<Cents>& values) {
    std::vector<Note> notes = deposited(values);
    make_ready(notes);
    return notes;
  }

  // ---- the Pool's events, as the Pool would emit them on the chain as the test plays it

  // Inserted events for `leaves`, appended to `pool_tree_` (the Pool's tree on this fork); each
  // carries the root after all of them (the root after its transaction).
  std::vector<eth::PoolEvent> inserted(const std::vector<Fr>& leaves) {
    std::vector<eth::PoolEvent> out;
    const std::uint64_t first = pool_tree_.size();
    EXPECT_TRUE(pool_tree_.append_many(leaves).ok());
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      eth::PoolEvent ev;
      ev.kind = eth::PoolEvent::Kind::kInserted;
      ev.inserted.commitment = wallet_util::to_u256(leaves[i]);
      ev.inserted.leaf_index = first + i;
      ev.inserted.root = wallet_util::to_u256(pool_tree_.root());
      out.push_back(ev);
    }
    return out;
  }
  // Pool.Spent(nullifier, payment digest).
  static eth::PoolEvent spent(const Fr& nullifier, const eth::Hash32& digest) {
    eth::PoolEvent ev;
    ev.kind = eth::PoolEvent::Kind::kSpent;
    ev.spent = eth::SpentEvent{wallet_util::to_u256(nullifier), digest};
    return ev;
  }
  // What the Pool emits for a bundle: a split's outputs Inserted (non-zero commitments, in order),
  // Spent per nullifier with the digest, then Paid.
  std::vector<eth::PoolEvent> events_of(const eth::RelayBundle& b, const eth::Hash32& digest) {
    std::vector<eth::PoolEvent> out;
    eth::U256 total;
    if (b.split) {
      std::vector<Fr> outs;
      for (const eth::U256& cm : b.split->out_cms) {
        if (!cm.is_zero()) outs.push_back(*wallet_util::to_fr(cm));
      }
      if (!outs.empty()) out = inserted(outs);
      total = eth::U256(b.split->amount) * kUnit;
    } else {
      for (const eth::SpendCall& s : b.spends) total += eth::U256(s.value) * kUnit;
    }
    for (const eth::U256& nf : b.payment.nullifiers) {
      eth::PoolEvent ev;
      ev.kind = eth::PoolEvent::Kind::kSpent;
      ev.spent = eth::SpentEvent{nf, digest};
      out.push_back(ev);
    }
    eth::PoolEvent paid;
    paid.kind = eth::PoolEvent::Kind::kPaid;
    paid.paid =
        eth::PaidEvent{digest, b.payment.recipient, total - b.payment.fee, b.payment.fee_recipient, b.payment.fee};
    out.push_back(paid);
    return out;
  }
  // The wallet's deposit of `notes` (from its account).
  ScriptedTx deposit_tx(const std::vector<Note>& notes) {
    std::vector<Fr> cms;
    for (const Note& n : notes) cms.push_back(n.commitment());
    return ScriptedTx{fresh_hash(), account_key_.address(), next_nonce_++, true, 100'000, inserted(cms), {}};
  }
  // A transaction of someone else's with `events`.
  ScriptedTx third_party_tx(std::vector<eth::PoolEvent> events) {
    return ScriptedTx{fresh_hash(), third_party_, third_party_nonce_++, true, 90'000, std::move(events), {}};
  }
  eth::Hash32 fresh_hash() { return eth::keccak256("scripted tx " + std::to_string(++txs_)); }

  // ---- the journal

  // A deposit of `notes` (pending), recorded (prepared).
  std::int64_t record_deposit(const std::vector<Note>& notes, Cents amount) {
    Payment p;
    p.kind = PaymentKind::kDeposit;
    p.amount = amount;
    for (const Note& n : notes) p.new_note_ids.push_back(id_of(n));
    return must(sender_->record(p));
  }
  SendRequest send_request(std::int64_t id, std::string_view function = "depositMany") {
    return SendRequest{id, calldata_, function, 1'000'000, must(chain_->fees()), clock_.steady_now(), &latency_ms_};
  }
  Payment payment(std::int64_t id) { return must(store_->get_payment(id)); }
  // The unit's time, in Unix seconds.
  std::uint64_t now_s() { return static_cast<std::uint64_t>(clock_.unix_ms() / 1000); }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  ManualClock clock_;
  const Fr sk_ = Fr::random();
  const Fr pk_ = owner_key(SpendingKey::from_fr(sk_));
  const eth::PrivateKey account_key_ = eth::PrivateKey::random();
  const eth::Address pool_ = *eth::Address::from_string("0x00000000000000000000000000000000000b0017");
  const eth::PaymentDomain domain_{eth::U256(31337), pool_};
  const eth::Address payee_ = *eth::Address::from_string("0x00000000000000000000000000000000000ca4d5");
  const eth::Address third_party_ = *eth::Address::from_string("0x0000000000000000000000000000000000bad000");
  const std::vector<std::uint8_t> calldata_ = {0xde, 0xad, 0xbe, 0xef};
  std::unique_ptr<ScriptedChain> chain_;
  std::unique_ptr<AccountSigner> signer_;
  std::unique_ptr<ScriptedRelayer> relayer_;
  MerkleTree tree_;       // the wallet's
  MerkleTree pool_tree_;  // the Pool's, on the fork the test plays
  std::unique_ptr<ChainIndexer> indexer_;
  std::unique_ptr<PaymentSender> sender_;
  std::unique_ptr<PaymentRelay> relay_;
  std::unique_ptr<FeeQuotes> quotes_;
  std::unique_ptr<Payer> payer_;
  std::map<std::string, std::int64_t> ids_;
  std::uint64_t next_nonce_ = 0;
  std::uint64_t third_party_nonce_ = 0;
  std::uint64_t txs_ = 0;
  double latency_ms_ = 0;
  int relayer_lookups_ = 0;
};

}  // namespace bucketpay::testing
