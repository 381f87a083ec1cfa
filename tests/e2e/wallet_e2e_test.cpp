// The payments wallet end to end on a real anvil with the real Pool, the generated verifiers, and
// real proofs from bb: deposit, sync, inventory, a reorganisation, a lying node, two processes
// depositing for one account, backup and restore; and, through a real relayer (`bucketpay relay`,
// its HTTP API), pay, refusals, a bundle sent twice, an on-demand split, rebalancing, a payment
// reorganised away and a third party's copy landing first. The relayer tests skip, saying so, while
// this build has no relayer (testing/relay_testing.h). (Crash tests with kill -9 run the CLI as a
// process: tests/e2e/payments_e2e_test.cpp.) The wallet's parts are unit-tested on a scripted chain and
// a scripted relayer in src/wallet (chain_indexer_test, payment_sender_test, payment_relay_test).
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

#include "bucketpay/deployment.h"
#include "bucketpay/note.h"
#include "bucketpay/planner.h"
#include "bucketpay/wallet.h"
#include "devnet/devnet_testing.h"
#include "testing/relay_testing.h"
#include "testing/testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassphrase = "wallet test passphrase";
const eth::U256 kUnit = testing::kCentUnits;

// A JSON-RPC proxy in front of anvil that, when told to, lies in eth_getLogs answers: it changes
// the last hex digit of every log's data (for Inserted, the low bits of the root it carries).
class TamperingProxy {
 public:
  explicit TamperingProxy(const std::string& upstream) : client_(upstream) {
    server_.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      httplib::Result up = client_.Post("/", req.body, "application/json");
      if (!up) {
        res.status = 502;
        return;
      }
      std::string body = up->body;
      if (tamper_ && req.body.find("eth_getLogs") != std::string::npos) body = altered(body);
      res.status = up->status;
      res.set_content(body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TamperingProxy() {
    server_.stop();
    thread_.join();
  }
  TamperingProxy(const TamperingProxy&) = delete;
  TamperingProxy& operator=(const TamperingProxy&) = delete;

  void tamper(bool on) { tamper_ = on; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  static std::string altered(const std::string& body) {
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("result") || !j["result"].is_array()) return body;
    for (auto& log : j["result"]) {
      std::string data = log.value("data", "");
      if (data.size() <= 2) continue;
      data.back() = data.back() == '0' ? '1' : '0';
      log["data"] = data;
    }
    return j.dump();
  }

  httplib::Client client_;
  std::mutex mutex_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> tamper_{false};
};

class WalletChain : public ::testing::Test {
 protected:
  void SetUp() override {
    auto chain = testing::DevChain::start();
    ASSERT_TRUE(chain.ok()) << chain.status().to_string();
    chain_ = std::move(*chain);
    rpc_ = &chain_->rpc();
    deployer_ = &chain_->deployer();
    contracts_ = chain_->contracts();
    dir_ = fs::temp_directory_path() / ("bucketpay-wallet-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  void TearDown() override {
    wallet_.reset();
    store_.reset();
    relay_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Starts a real relayer (`bucketpay relay init`, funded, `bucketpay relay serve`) for the Pool.
  bool start_relayer(const testing::RelayProcess::Options& options = {}) {
    auto relay = testing::RelayProcess::start(chain_->url(), contracts_.pool, dir_ / "relay", options);
    EXPECT_TRUE(relay.ok()) << relay.status().to_string();
    if (!relay.ok()) return false;
    relay_ = std::move(*relay);
    return true;
  }

  std::unique_ptr<Store> open_store(const std::string& name) {
    StoreOptions so;
    so.passphrase = kPassphrase;
    so.vault_params = VaultParams::fast();
    auto s = open_sqlite_store(dir_ / name, so);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(*s) : nullptr;
  }

  WalletConfig config(const std::string& policy) {
    WalletConfig c;
    c.rpc_url = chain_->url();
    c.pool = contracts_.pool;
    c.relayer = relay_ ? relay_->url() : "";
    c.confirmations = 0;  // anvil mines on demand; WalletConfirmations covers the depth
    c.start_block = contracts_.deploy_block;
    auto p = InventoryPolicy::parse(policy);
    EXPECT_TRUE(p.ok());
    c.policy = *p;
    return c;
  }

  WalletOptions options() {
    WalletOptions o;
    o.start_prover = []() -> Result<std::unique_ptr<ProverPool>> {
      ProverConfig pc;
      pc.bb_binary = testing::bb_binary();
      pc.crs_dir = testing::crs_dir();
      pc.circuits_dir = testing::build_dir() / "circuits";
      pc.witness_server = testing::project_root() / "scripts" / "witness_server.mjs";
      pc.workers = 2;
      pc.threads_per_worker = 1;
      pc.warm_up = false;
      return ProverPool::start(pc);
    };
    o.receipt_timeout = std::chrono::seconds(60);
    o.poll_interval = std::chrono::milliseconds(50);
    return o;
  }

  // A wallet with gas and `tokens_cents` of tokens, `confirmations` deep.
  void make_wallet(const std::string& policy, Cents tokens_cents, std::uint64_t confirmations = 0) {
    store_ = open_store("wallet.db");
    ASSERT_TRUE(store_);
    WalletConfig c = config(policy);
    c.confirmations = confirmations;
    ASSERT_TRUE(Wallet::create(*store_, "w", c).is_ok());
    auto w = Wallet::open(*store_, "w", options());
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    wallet_ = std::move(*w);
    fund(wallet_->account(), tokens_cents);
  }

  void fund(const eth::Address& account, Cents tokens_cents) {
    ASSERT_TRUE(chain_->fund(account, tokens_cents).is_ok());
  }

  eth::U256 token_balance(const eth::Address& a) {
    auto b = chain_->token_balance(a);
    EXPECT_TRUE(b.ok());
    return b.ok() ? *b : eth::U256(0);
  }

  std::vector<StoredNote> notes(std::optional<NoteState> state) {
    auto n = store_->list_notes("w", state);
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : std::vector<StoredNote>{};
  }

  Cents sum(const std::vector<StoredNote>& ns) {
    Cents s = 0;
    for (const auto& n : ns) s += n.value;
    return s;
  }

  // Pays through the relayer and waits until the chain settles it.
  Result<PaymentReport> pay(Cents amount, const eth::Address& to, MissingPolicy policy = MissingPolicy::kRefuse) {
    BUCKETPAY_ASSIGN_OR_RETURN(const PaymentReport handed, wallet_->pay(amount, to, policy));
    return wallet_->wait_settled(handed);
  }

  // The chain's root equals the wallet's tree (rebuilt from the store's leaves).
  void expect_root_matches() {
    auto leaves = store_->load_leaves();
    ASSERT_TRUE(leaves.ok());
    MerkleTree t;
    ASSERT_TRUE(t.append_many(*leaves).ok());
    eth::PoolClient pool(*rpc_, *deployer_, contracts_.pool, eth::pool_error_signatures());
    auto root = pool.root();
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(eth::U256::from_word(t.root().to_bytes()), *root);
  }

  std::unique_ptr<testing::DevChain> chain_;
  eth::Rpc* rpc_ = nullptr;
  eth::Wallet* deployer_ = nullptr;
  deployment::Contracts contracts_;
  fs::path dir_;
  eth::Address payee_ = *eth::Address::from_string("0x00000000000000000000000000000000000CA4D5");
  std::unique_ptr<testing::RelayProcess> relay_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Wallet> wallet_;
};

TEST_F(WalletChain, DepositsSyncAndInventoryWithHiddenOwners) {
  // 1+1+2+2+4+8 = 18 cents of targets, the rest of $1.00 as powers of two: 64+16+2 = 82.
  make_wallet("1=2,2=2,4=1,8=1", 10'000);
  auto dep = wallet_->deposit(100);
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  EXPECT_EQ(dep->notes, (std::vector<Cents>{64, 16, 8, 4, 2, 2, 2, 1, 1}));
  EXPECT_EQ(token_balance(wallet_->account()), eth::U256(9'900) * kUnit);
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 100U);
  EXPECT_TRUE(notes(NoteState::kPending).empty());
  expect_root_matches();
  // The deposit published each note's hidden owner H(pk, r), never pk or r.
  auto receipt = rpc_->get_transaction(*eth::hash_from_hex(dep->tx_hash));
  ASSERT_TRUE(receipt.ok() && receipt->has_value());
  const std::string input = eth::to_hex((*receipt)->input);
  for (const StoredNote& n : notes(NoteState::kOnChain)) {
    EXPECT_NE(input.find(Note{n.pk, n.value, n.r}.owner().to_hex().substr(2)), std::string::npos);
    EXPECT_EQ(input.find(n.pk.to_hex().substr(2)), std::string::npos) << "pk on chain";
    EXPECT_EQ(input.find(n.r.to_hex().substr(2)), std::string::npos) << "r on chain";
  }

  // The sync queued a spend proof per landed note; the inventory proves them.
  auto jobs = store_->job_counts(std::nullopt);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->pending, 9);
  auto inv = wallet_->build_inventory();
  ASSERT_TRUE(inv.ok()) << inv.status().to_string();
  EXPECT_EQ(inv->proved, 9U);
  EXPECT_EQ(inv->failed, 0U);
  auto again = wallet_->build_inventory();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->proved, 0U) << "the proof cache";
  // Each proof binds its note's auth address, derived from sk and the note.
  auto sk = store_->get_spending_key("w");
  ASSERT_TRUE(sk.ok());
  auto ready = ready_notes(*store_, *store_, "w");
  ASSERT_TRUE(ready.ok());
  ASSERT_EQ(ready->size(), 9U);
  for (const ReadyNote& r : *ready) {
    EXPECT_EQ(r.statement.auth_address(), auth_address(SpendingKey::from_fr(*sk), r.note.commitment));
  }
  auto bal = wallet_->balance();
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->ready, 100U);
}

TEST_F(WalletChain, PayThroughTheRelayerRefuseSplitAndRebalance) {
  ASSERT_TRUE(start_relayer());
  make_wallet("1=2,2=2,4=1,8=1", 10'000);
  ASSERT_TRUE(wallet_->deposit(100).ok());
  ASSERT_TRUE(wallet_->build_inventory().ok());
  const eth::Address relayer_account = relay_->account();

  // 0.07 and the relayer's fee from precomputed notes: signed, handed over, paid by chain truth.
  auto paid = pay(7, payee_);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_EQ(paid->state, PaymentState::kConfirmed) << paid->error;
  EXPECT_FALSE(paid->proved_on_demand);
  EXPECT_GT(paid->fee, 0U);
  EXPECT_EQ(token_balance(payee_), eth::U256(7) * kUnit) << "the recipient receives exactly the amount";
  Cents spent = 0;
  for (Cents v : paid->notes) spent += v;
  EXPECT_EQ(spent, 7 + paid->fee);
  EXPECT_EQ(sum(notes(NoteState::kSpent)), spent);
  EXPECT_FALSE(paid->settled_by.empty());
  auto hist = wallet_->history();
  ASSERT_TRUE(hist.ok());
  const Payment& p = hist->back();
  EXPECT_EQ(p.state, PaymentState::kConfirmed);
  EXPECT_GT(p.latency_ms, 0);
  EXPECT_TRUE(p.raw_tx.empty()) << "the wallet's account sent nothing";

  // The same bundle sent again, by anyone: refused by the Pool, nobody paid twice.
  {
    auto bundle = eth::decode_bundle(p.bundle_json);
    ASSERT_TRUE(bundle.ok()) << bundle.status().to_string();
    eth::PoolClient pool(*rpc_, *deployer_, contracts_.pool, eth::pool_error_signatures());
    auto twice = pool.spend_batch(bundle->spends, bundle->payment, bundle->signatures);
    EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(twice.status().message().find("NullifierAlreadySpent"), std::string::npos) << twice.status().message();
    EXPECT_EQ(token_balance(payee_), eth::U256(7) * kUnit);
  }

  // More than the balance: refused, nothing reserved.
  auto too_much = wallet_->pay(100, payee_);
  EXPECT_EQ(too_much.status().code(), StatusCode::kNotFound);
  EXPECT_NE(too_much.status().message().find("balance"), std::string::npos) << too_much.status().message();
  EXPECT_TRUE(notes(NoteState::kSpending).empty());

  // An amount the ready notes cannot make: the split policy proves one now.
  const eth::Address other = *eth::Address::from_string("0x00000000000000000000000000000000000B0B00");
  const Cents before = sum(notes(NoteState::kOnChain));
  auto split = pay(5, other, MissingPolicy::kSplit);
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  EXPECT_EQ(split->state, PaymentState::kConfirmed) << split->error;
  EXPECT_EQ(token_balance(other), eth::U256(5) * kUnit);
  ASSERT_TRUE(wallet_->sync().ok());
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), before - 5 - split->fee) << "the change, as denominations";
  expect_root_matches();

  // Rebalance: fan-out splits through the relayer, each withdrawing exactly its fee.
  const eth::U256 relayer_before = token_balance(relayer_account);
  const Cents on_chain = sum(notes(NoteState::kOnChain));
  auto reb = wallet_->rebalance();
  ASSERT_TRUE(reb.ok()) << reb.status().to_string();
  EXPECT_GT(reb->splits, 0U);
  EXPECT_EQ(reb->settled, reb->splits);
  EXPECT_EQ(token_balance(relayer_account), relayer_before + eth::U256(reb->fees) * kUnit);
  ASSERT_TRUE(wallet_->build_inventory().ok());
  auto bal = wallet_->balance();
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->on_chain, on_chain - reb->fees) << "splits move value; only the relayer's fees leave";
  EXPECT_EQ(bal->ready, bal->on_chain);
  expect_root_matches();

  // The seed's way, although every note is ready: one note split for this payment, proved now.
  const eth::U256 other_before = token_balance(other);
  auto seed_way = pay(3, other, MissingPolicy::kAlwaysSplit);
  ASSERT_TRUE(seed_way.ok()) << seed_way.status().to_string();
  EXPECT_EQ(seed_way->state, PaymentState::kConfirmed) << seed_way->error;
  EXPECT_TRUE(seed_way->proved_on_demand);
  EXPECT_EQ(seed_way->notes.size(), 1U);
  EXPECT_EQ(token_balance(other), other_before + eth::U256(3) * kUnit);
}

TEST_F(WalletChain, ConfirmationDepthHidesRecentBlocks) {
  make_wallet("1=1", 100, /*confirmations=*/3);
  auto dep = wallet_->deposit(3, /*wait_confirmed=*/false);
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  ASSERT_TRUE(wallet_->sync().ok());
  EXPECT_EQ(notes(NoteState::kPending).size(), 2U) << "not yet 3 blocks deep";
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 3).is_ok());
  ASSERT_TRUE(wallet_->sync().ok());
  EXPECT_TRUE(notes(NoteState::kPending).empty());
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 3U);
}

TEST_F(WalletChain, ReorganisationIsRolledBackAndTheDepositReplayed) {
  make_wallet("1=2,2=1", 1'000);
  ASSERT_TRUE(wallet_->deposit(1).ok());  // also approves the Pool once
  auto snapshot = testing::anvil_snapshot(*rpc_);
  ASSERT_TRUE(snapshot.ok());
  auto dep = wallet_->deposit(4);
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  auto inv = wallet_->build_inventory();
  ASSERT_TRUE(inv.ok()) << inv.status().to_string();
  const std::size_t proofs = inv->proved;
  EXPECT_EQ(proofs, 1 + dep->notes.size());

  // The chain forgets the second deposit's block and grows different ones at the same heights.
  ASSERT_TRUE(testing::anvil_revert(*rpc_, *snapshot).is_ok());
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 3).is_ok());

  auto synced = wallet_->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  EXPECT_GT(synced->reorg_depth, 0U);
  EXPECT_EQ(synced->precomputes_dropped, proofs) << "all were made under the vanished root";
  // The journal saw its confirmed deposit vanish and sent the same signed transaction again.
  EXPECT_EQ(synced->payments_settled, 1U);
  ASSERT_TRUE(wallet_->sync().ok());
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 5U);
  EXPECT_TRUE(notes(NoteState::kPending).empty());
  expect_root_matches();
  auto inv2 = wallet_->build_inventory();
  ASSERT_TRUE(inv2.ok()) << inv2.status().to_string();
  EXPECT_EQ(inv2->proved, proofs) << "proofs under the vanished root are made again";
  EXPECT_EQ(token_balance(wallet_->account()), eth::U256(995) * kUnit) << "each deposit paid once";
}

TEST_F(WalletChain, RelayedPaymentReorganisedAwayAboveTheCursorLandsAgain) {
  // The relayer waits for more blocks than the reorganisation takes away (a deeper one is its
  // documented limit, docs/relay.md): its entry is still open when the transaction vanishes.
  testing::RelayProcess::Options deep;
  deep.confirmations = 8;
  ASSERT_TRUE(start_relayer(deep));
  make_wallet("1=2,2=2", 1'000, /*confirmations=*/2);
  ASSERT_TRUE(wallet_->deposit(6, /*wait_confirmed=*/false).ok());
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 2).is_ok());
  ASSERT_TRUE(wallet_->sync().ok());
  ASSERT_TRUE(wallet_->build_inventory().ok());

  auto snapshot = testing::anvil_snapshot(*rpc_);
  ASSERT_TRUE(snapshot.ok());
  auto paid = pay(1, payee_);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  ASSERT_EQ(paid->state, PaymentState::kConfirmed) << paid->error;
  const std::uint64_t first_block = paid->block;
  ASSERT_EQ(token_balance(payee_), eth::U256(1) * kUnit);

  // The payment's block vanishes and the chain grows past its height; the block under the sync
  // cursor (two confirmations back) stays, so the sync sees no reorganisation of its own.
  ASSERT_TRUE(testing::anvil_revert(*rpc_, *snapshot).is_ok());
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 4).is_ok());
  ASSERT_EQ(token_balance(payee_), eth::U256(0)) << "the chain forgot the payment";
  auto synced = wallet_->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  EXPECT_EQ(synced->reorg_depth, 0U);
  EXPECT_EQ(synced->payments_reopened, 1U);
  // The relayer sends the same payment again (one transaction per digest); it lands once.
  auto again = wallet_->wait_settled(*paid);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->state, PaymentState::kConfirmed);
  EXPECT_GT(again->block, first_block);
  EXPECT_EQ(token_balance(payee_), eth::U256(1) * kUnit) << "paid once";
}

TEST_F(WalletChain, ANodeThatLiesAboutTheRootIsRefused) {
  TamperingProxy node(chain_->url());
  store_ = open_store("wallet.db");
  ASSERT_TRUE(store_);
  WalletConfig c = config("1=1");
  c.rpc_url = node.url();
  ASSERT_TRUE(Wallet::create(*store_, "w", c).is_ok());
  auto w = Wallet::open(*store_, "w", options());
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  wallet_ = std::move(*w);
  fund(wallet_->account(), 100);
  ASSERT_TRUE(wallet_->deposit(3).ok());
  const auto cursor = store_->sync_cursor();
  ASSERT_TRUE(cursor.ok());
  const auto leaves = store_->leaf_count();
  ASSERT_TRUE(leaves.ok());

  node.tamper(true);
  auto dep = wallet_->deposit(4, /*wait_confirmed=*/false);
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  auto synced = wallet_->sync();
  ASSERT_FALSE(synced.ok()) << "a wrong root was believed";
  EXPECT_EQ(synced.status().code(), StatusCode::kCorruption) << synced.status().to_string();
  EXPECT_NE(synced.status().to_string().find("differs from the wallet's tree"), std::string::npos)
      << synced.status().to_string();
  // Nothing of it was kept: same cursor, same leaves, the new notes still pending.
  EXPECT_EQ(store_->sync_cursor().value(), cursor.value());
  EXPECT_EQ(store_->leaf_count().value(), leaves.value());
  EXPECT_EQ(sum(notes(NoteState::kPending)), 4U);

  node.tamper(false);
  synced = wallet_->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  EXPECT_TRUE(notes(NoteState::kPending).empty());
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 7U);
  expect_root_matches();
}

TEST_F(WalletChain, TwoDepositorsForOneAccountNeverShareANonce) {
  // A keeper and a deposit at once: two wallets on one store and one account, each with its own
  // node connection and nonce cache, depositing at the same moment, round after round.
  make_wallet("1=1", 1'000);
  ASSERT_TRUE(wallet_->deposit(1).ok());  // approves the Pool once
  auto other_store = open_store("wallet.db");
  ASSERT_TRUE(other_store);
  auto other = Wallet::open(*other_store, "w", options());
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  for (int round = 0; round < 4; ++round) {
    std::atomic<int> ready{0};
    Result<DepositReport> one = Status::internal("not run");
    Result<DepositReport> two = Status::internal("not run");
    auto at_once = [&ready] {
      ready.fetch_add(1);
      while (ready.load() < 2) std::this_thread::yield();
    };
    std::thread a([&] {
      at_once();
      one = wallet_->deposit(1, /*wait_confirmed=*/false);
    });
    std::thread b([&] {
      at_once();
      two = (*other)->deposit(2, /*wait_confirmed=*/false);
    });
    a.join();
    b.join();
    ASSERT_TRUE(one.ok()) << "round " << round << ": " << one.status().to_string();
    ASSERT_TRUE(two.ok()) << "round " << round << ": " << two.status().to_string();
  }
  ASSERT_TRUE(wallet_->sync().ok());
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 1U + 4 * 3);
  EXPECT_EQ(token_balance(wallet_->account()), eth::U256(1'000 - 13) * kUnit);
}

TEST_F(WalletChain, AThirdPartysCopyOfTheBundleThatLandsFirstPaysThePayment) {
  // The relayer's spendBatch waits in the node's pool; someone who saw the bundle sends it from
  // their own account with a higher tip, so the copy is mined first and the relayer's transaction
  // reverts (or is never sent). The payee is paid once, by the copy: the payment is confirmed and
  // records the transaction that paid it.
  ASSERT_TRUE(start_relayer());
  make_wallet("1=2,2=1", 1'000);
  ASSERT_TRUE(wallet_->deposit(8).ok());
  ASSERT_TRUE(wallet_->build_inventory().ok());
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, false).is_ok());
  auto handed = wallet_->pay(1, payee_);
  ASSERT_TRUE(handed.ok()) << handed.status().to_string();
  auto journaled = store_->get_payment(handed->payment_id);
  ASSERT_TRUE(journaled.ok());
  auto bundle = eth::decode_bundle(journaled->bundle_json);
  ASSERT_TRUE(bundle.ok()) << bundle.status().to_string();
  eth::PoolClient pool(*rpc_, *deployer_, contracts_.pool, eth::pool_error_signatures());
  auto calldata = eth::PoolClient::encode_spend_batch(bundle->spends, bundle->payment, bundle->signatures);
  ASSERT_TRUE(calldata.ok());
  eth::TxOverrides o;
  o.gas_limit = 3'000'000;
  o.max_priority_fee_per_gas = eth::U256(50'000'000'000);
  o.max_fee_per_gas = eth::U256(200'000'000'000);
  auto copy = deployer_->send_transaction(contracts_.pool, *calldata, eth::U256(0), o);
  ASSERT_TRUE(copy.ok()) << copy.status().to_string();
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 1).is_ok());
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, true).is_ok());
  auto settled = wallet_->wait_settled(*handed);
  ASSERT_TRUE(settled.ok()) << settled.status().to_string();
  EXPECT_EQ(settled->state, PaymentState::kConfirmed);
  EXPECT_EQ(settled->settled_by, eth::to_hex(*copy));
  EXPECT_EQ(token_balance(payee_), eth::U256(1) * kUnit) << "paid once";
  EXPECT_TRUE(notes(NoteState::kSpending).empty());
}

TEST_F(WalletChain, BackupRestoresKeysNotesAndEveryAuthKey) {
  make_wallet("1=1,2=1", 1'000);
  ASSERT_TRUE(wallet_->deposit(7).ok());
  ASSERT_TRUE(wallet_->build_inventory().ok());
  auto backup = export_backup(*store_, "w", "backup pass", VaultParams::fast());
  ASSERT_TRUE(backup.ok()) << backup.status().to_string();
  auto sk = store_->get_spending_key("w");
  ASSERT_TRUE(sk.ok());
  EXPECT_EQ(backup->find(sk->to_hex().substr(2)), std::string::npos) << "the key is sealed";
  auto original = ready_notes(*store_, *store_, "w");
  ASSERT_TRUE(original.ok());

  auto restored_store = open_store("restored.db");
  EXPECT_EQ(import_backup(*restored_store, *backup, "wrong pass").status().code(), StatusCode::kInvalidArgument);
  std::string tampered = *backup;
  tampered[tampered.find("\"sealed\": \"0x") + 20] ^= 1;
  EXPECT_EQ(import_backup(*restored_store, tampered, "backup pass").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(import_backup(*restored_store, "{}", "backup pass").status().code(), StatusCode::kInvalidArgument);
  auto n = import_backup(*restored_store, *backup, "backup pass");
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 3U) << "the 4, the 2 and the 1";
  auto w2 = Wallet::open(*restored_store, "w", options());
  ASSERT_TRUE(w2.ok()) << w2.status().to_string();
  EXPECT_EQ((*w2)->account(), wallet_->account());
  EXPECT_EQ((*w2)->config().relayer, wallet_->config().relayer);
  auto synced = (*w2)->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  auto bal = (*w2)->balance();
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->on_chain, 7U);
  // The restored wallet proves its notes again: every proof binds the same auth address as the
  // original's (derived from sk and the note), so its signatures are the ones the Pool takes.
  ASSERT_TRUE((*w2)->build_inventory().ok());
  auto restored = ready_notes(*restored_store, *restored_store, "w");
  ASSERT_TRUE(restored.ok());
  ASSERT_EQ(restored->size(), original->size());
  std::set<std::string> before;
  std::set<std::string> after;
  for (const ReadyNote& r : *original) before.insert(r.statement.auth_address().to_hex());
  for (const ReadyNote& r : *restored) after.insert(r.statement.auth_address().to_hex());
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace bucketpay
