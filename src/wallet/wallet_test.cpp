// The payments wallet end to end on a real anvil with the real Pool, the generated verifiers, and
// real proofs from bb: deposit, sync, inventory, pay, refusals, double submission, on-demand split,
// rebalance, a reorganisation, backup and restore. (Crash tests with kill -9 run the CLI as a
// process: src/cli/payments_test.cpp.)
#include "bucketpay/wallet.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "bucketpay/devnet.h"
#include "bucketpay/note.h"
#include "bucketpay/planner.h"
#include "devnet/devnet_testing.h"
#include "testing/testing.h"
#include "wallet/pool_errors.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------ policy (pure)

TEST(InventoryPolicy, DefaultsSuitAThousandDollars) {
  const InventoryPolicy p = InventoryPolicy::defaults();
  EXPECT_EQ(p.target_value(), 3 * 16383 + 2 * 16384);
  EXPECT_LE(p.target_value(), Cents{100'000});
  auto parsed = InventoryPolicy::parse(p.to_string());
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->targets, p.targets);
}

TEST(InventoryPolicy, ParseRejectsBadItems) {
  for (const char* bad : {"", "3=1", "1=", "=2", "1=2,", "1=-1", "1=2x", "131072=1", "1=1001", "abc", "1=1,,2=1"}) {
    EXPECT_EQ(InventoryPolicy::parse(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  auto ok = InventoryPolicy::parse("1=4,1024=2");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->targets[0], 4U);
  EXPECT_EQ(ok->targets[10], 2U);
  EXPECT_EQ(ok->target_value(), 4U + 2048U);
}

TEST(InventoryPolicy, DepositValuesArePowersOfTwoSummingToTheAmount) {
  const InventoryPolicy p = InventoryPolicy::defaults();
  std::array<std::uint32_t, kBucketCount> none{};
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
  std::array<std::uint32_t, kBucketCount> got{};
  for (Cents v : values) ++got[static_cast<std::size_t>(std::countr_zero(v))];
  for (std::size_t i = 0; i < kBucketCount; ++i) EXPECT_GE(got[i], p.targets[i]) << kBuckets[i];
  // Targets already met: only the binary decomposition.
  const auto topped = p.deposit_values(5, p.targets);
  EXPECT_EQ(topped, (std::vector<Cents>{4, 1}));
}

TEST(PoolErrors, MatchTheCompiledPoolAbi) {
  std::optional<testing::Artifact> pool = testing::load_artifact("Pool.sol", "Pool");
  ASSERT_TRUE(pool.has_value()) << "contracts/out/Pool.sol/Pool.json (build the contracts target)";
  auto from_abi = eth::PoolClient::error_signatures_from_abi_json(pool->abi_json);
  ASSERT_TRUE(from_abi.ok());
  std::set<std::string> a(from_abi->begin(), from_abi->end());
  const auto list = pool_error_signatures();
  std::set<std::string> b(list.begin(), list.end());
  EXPECT_EQ(a, b);
}

// ------------------------------------------------------------------------------ on a real chain

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
    std::error_code ec;
    fs::remove_all(dir_, ec);
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
    c.payee = payee_;
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

  // The chain's root equals the wallet's tree (rebuilt from the store's leaves).
  void expect_root_matches() {
    auto leaves = store_->load_leaves();
    ASSERT_TRUE(leaves.ok());
    MerkleTree t;
    ASSERT_TRUE(t.append_many(*leaves).ok());
    eth::PoolClient pool(*rpc_, *deployer_, contracts_.pool, pool_error_signatures());
    auto root = pool.root();
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(eth::U256::from_word(t.root().to_bytes()), *root);
  }

  std::unique_ptr<testing::DevChain> chain_;
  eth::Rpc* rpc_ = nullptr;
  eth::Wallet* deployer_ = nullptr;
  devnet::Contracts contracts_;
  fs::path dir_;
  eth::Address payee_ = *eth::Address::from_string("0x00000000000000000000000000000000000CA4D5");
  std::unique_ptr<Store> store_;
  std::unique_ptr<Wallet> wallet_;
};

TEST_F(WalletChain, DepositInventoryPayRefuseRebalance) {
  // 1+1+2+2+4+8 = 18 cents of targets, the rest of $1.00 as powers of two: 64+16+2 = 82.
  make_wallet("1=2,2=2,4=1,8=1", 10'000);
  auto dep = wallet_->deposit(100);
  ASSERT_TRUE(dep.ok()) << dep.status().to_string();
  EXPECT_EQ(dep->notes, (std::vector<Cents>{64, 16, 8, 4, 2, 2, 2, 1, 1}));
  EXPECT_EQ(token_balance(wallet_->account()), eth::U256(9'900) * kUnit);
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 100U);
  EXPECT_TRUE(notes(NoteState::kPending).empty());
  expect_root_matches();

  auto inv = wallet_->build_inventory();
  ASSERT_TRUE(inv.ok()) << inv.status().to_string();
  EXPECT_EQ(inv->proved, 9U);
  EXPECT_EQ(inv->failed, 0U);
  auto again = wallet_->build_inventory();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->proved, 0U) << "the proof cache";

  std::map<std::int64_t, Precompute> proofs;  // kept to try a double submission below
  {
    auto all = store_->list_precomputes_by_circuit("spend");
    ASSERT_TRUE(all.ok());
    for (const auto& p : *all) proofs.emplace(p.note_id, p);
  }
  // 0.07 = 4 + 2 + 1: three precomputed notes, no proving.
  auto paid = wallet_->pay(7, payee_);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_EQ(paid->notes, (std::vector<Cents>{4, 2, 1}));
  EXPECT_FALSE(paid->proved_on_demand);
  EXPECT_GT(paid->gas_used, 0U);
  EXPECT_EQ(token_balance(payee_), eth::U256(7) * kUnit);
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 93U);
  EXPECT_EQ(notes(NoteState::kSpent).size(), 3U);
  auto hist = wallet_->history();
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 2U);
  EXPECT_EQ(hist->back().state, PaymentState::kConfirmed);
  EXPECT_EQ(hist->back().note_ids.size(), 3U);
  EXPECT_GT(hist->back().latency_ms, 0);

  // A double submission: the same three proofs, sent again, are refused by the Pool.
  {
    std::vector<eth::SpendCall> calls;
    for (std::int64_t id : hist->back().note_ids) {
      auto spent = store_->get_note(id);
      ASSERT_TRUE(spent.ok());
      EXPECT_EQ(spent->state, NoteState::kSpent);
      auto pre = store_->list_precomputes_for_note(id);
      ASSERT_TRUE(pre.ok());
      EXPECT_TRUE(pre->empty()) << "a spent note's proofs are dropped";
      const Precompute& p = proofs.at(id);
      calls.push_back(eth::SpendCall{eth::Bytes(p.proof.begin(), p.proof.end()),
                                     eth::U256::from_word(p.public_inputs[0].to_bytes()),
                                     eth::U256::from_word(p.public_inputs[1].to_bytes()), spent->value, payee_});
    }
    eth::PoolClient pool(*rpc_, *deployer_, contracts_.pool, pool_error_signatures());
    auto twice = pool.spend_batch(calls);
    EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(twice.status().message().find("NullifierAlreadySpent"), std::string::npos) << twice.status().message();
    EXPECT_EQ(token_balance(payee_), eth::U256(7) * kUnit);
  }

  // More than the balance: refused, nothing reserved.
  auto too_much = wallet_->pay(94, payee_);
  EXPECT_EQ(too_much.status().code(), StatusCode::kNotFound);
  EXPECT_NE(too_much.status().message().find("balance"), std::string::npos) << too_much.status().message();
  EXPECT_TRUE(notes(NoteState::kSpending).empty());

  // 0.03 from {64,16,8,2,2,1}: 2+1. Then 0.03 again: 2 + ? (no 1-cent note left): refused with
  // the reason, under the refuse policy.
  ASSERT_TRUE(wallet_->pay(3, payee_).ok());
  auto missing = wallet_->pay(3, payee_);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("rebalance"), std::string::npos) << missing.status().message();

  // Another recipient has no ready proofs: the split policy proves one now (0.05 from the 8).
  const eth::Address other = *eth::Address::from_string("0x00000000000000000000000000000000000B0B00");
  auto split = wallet_->pay(5, other, MissingPolicy::kSplit);
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  EXPECT_TRUE(split->proved_on_demand);
  EXPECT_EQ(split->notes, (std::vector<Cents>{8}));
  EXPECT_EQ(token_balance(other), eth::U256(5) * kUnit);
  auto synced = wallet_->sync();
  ASSERT_TRUE(synced.ok());
  EXPECT_EQ(synced->notes_landed, 1U) << "the change note";
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 100U - 7 - 3 - 5);
  expect_root_matches();

  // Rebalance: the 1-cent, 2-cent and 4-cent denominations are short; splits of larger notes refill them.
  auto bal = wallet_->balance();
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->denominations[0].notes, 0U);
  auto reb = wallet_->rebalance();
  ASSERT_TRUE(reb.ok()) << reb.status().to_string();
  EXPECT_GT(reb->splits, 0U);
  auto inv2 = wallet_->build_inventory();
  ASSERT_TRUE(inv2.ok()) << inv2.status().to_string();
  bal = wallet_->balance();
  ASSERT_TRUE(bal.ok());
  EXPECT_GE(bal->denominations[0].ready, 1U);
  EXPECT_EQ(bal->on_chain, 85U) << "splits move value, they do not make or lose any";
  EXPECT_EQ(bal->ready, bal->on_chain);
  expect_root_matches();
  // Now 0.03 works again, from precomputes.
  auto after = wallet_->pay(3, payee_);
  ASSERT_TRUE(after.ok()) << after.status().to_string();
  EXPECT_FALSE(after->proved_on_demand);
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
  auto paid = wallet_->pay(5, payee_);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_EQ(token_balance(payee_), eth::U256(5) * kUnit);
  EXPECT_EQ(token_balance(wallet_->account()), eth::U256(995) * kUnit) << "each deposit paid once";
}

TEST_F(WalletChain, PaymentReorganisedAwayAboveTheCursorIsSentAgain) {
  make_wallet("1=2,2=1", 1'000, /*confirmations=*/2);
  ASSERT_TRUE(wallet_->deposit(4, /*wait_confirmed=*/false).ok());
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 2).is_ok());
  ASSERT_TRUE(wallet_->sync().ok());
  ASSERT_EQ(sum(notes(NoteState::kOnChain)), 4U);
  auto inv = wallet_->build_inventory();
  ASSERT_TRUE(inv.ok()) << inv.status().to_string();

  auto snapshot = testing::anvil_snapshot(*rpc_);
  ASSERT_TRUE(snapshot.ok());
  auto paid = wallet_->pay(2, payee_);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  auto first = store_->get_payment(paid->payment_id);
  ASSERT_TRUE(first.ok());
  const std::uint64_t first_block = first->block;
  ASSERT_GT(first_block, 0U);
  ASSERT_EQ(token_balance(payee_), eth::U256(2) * kUnit);

  // The payment's block vanishes and the chain grows past its height; the block under the sync
  // cursor (two confirmations back) stays, so the sync sees no reorganisation of its own.
  ASSERT_TRUE(testing::anvil_revert(*rpc_, *snapshot).is_ok());
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 4).is_ok());
  ASSERT_EQ(token_balance(payee_), eth::U256(0)) << "the chain forgot the payment";

  auto synced = wallet_->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  EXPECT_EQ(synced->reorg_depth, 0U);
  EXPECT_EQ(synced->payments_reopened, 1U);
  EXPECT_EQ(synced->payments_settled, 1U) << "the same signed transaction, sent again";
  auto again = store_->get_payment(paid->payment_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, PaymentState::kConfirmed);
  EXPECT_GT(again->block, first_block);
  EXPECT_EQ(token_balance(payee_), eth::U256(2) * kUnit);

  // When the sync reaches the new block it finds the payment's events there: nothing to reopen.
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 3).is_ok());
  synced = wallet_->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  EXPECT_EQ(synced->payments_reopened, 0U);
  EXPECT_EQ(token_balance(payee_), eth::U256(2) * kUnit) << "paid once";
  EXPECT_EQ(sum(notes(NoteState::kSpent)), 2U);
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 2U);
  expect_root_matches();
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

TEST_F(WalletChain, TwoSendersForOneAccountNeverShareANonce) {
  // A keeper and a payment at once: two wallets on one store and one account, each with its own
  // node connection and nonce cache, paying at the same moment, round after round.
  make_wallet("1=4,2=4", 1'000);
  ASSERT_TRUE(wallet_->deposit(12).ok());
  auto inv = wallet_->build_inventory();
  ASSERT_TRUE(inv.ok()) << inv.status().to_string();
  auto other_store = open_store("wallet.db");
  ASSERT_TRUE(other_store);
  auto other = Wallet::open(*other_store, "w", options());
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  for (int round = 0; round < 4; ++round) {
    std::atomic<int> ready{0};
    Result<PaymentReport> one = Status::internal("not run");
    Result<PaymentReport> two = Status::internal("not run");
    auto at_once = [&ready] {
      ready.fetch_add(1);
      while (ready.load() < 2) std::this_thread::yield();
    };
    std::thread a([&] {
      at_once();
      one = wallet_->pay(1, payee_);
    });
    std::thread b([&] {
      at_once();
      two = (*other)->pay(2, payee_);
    });
    a.join();
    b.join();
    ASSERT_TRUE(one.ok()) << "round " << round << ": " << one.status().to_string();
    ASSERT_TRUE(two.ok()) << "round " << round << ": " << two.status().to_string();
  }
  EXPECT_EQ(token_balance(payee_), eth::U256(12) * kUnit);
  EXPECT_EQ(sum(notes(NoteState::kSpent)), 12U);
}

TEST_F(WalletChain, AThirdPartysCopyThatLandsFirstPaysThePayment) {
  // The wallet's spendBatch waits in the node's pool; someone copies its calldata and sends it from
  // their own account with a higher tip, so the copy is mined first and the wallet's own transaction
  // reverts (NullifierAlreadySpent). The payee is paid once, by the copy: the payment is confirmed,
  // not failed, and records the transaction that paid it.
  make_wallet("1=2,2=1", 1'000);
  ASSERT_TRUE(wallet_->deposit(4).ok());  // 2 + 1 + 1
  auto inv = wallet_->build_inventory();
  ASSERT_TRUE(inv.ok()) << inv.status().to_string();
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, false).is_ok());
  Result<PaymentReport> paid = Status::internal("not run");
  std::thread payer([&] { paid = wallet_->pay(3, payee_); });
  Payment sent;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (sent.id == 0 && std::chrono::steady_clock::now() < deadline) {
    auto submitted = store_->list_payments("w", PaymentState::kSubmitted);
    if (submitted.ok() && !submitted->empty()) sent = submitted->front();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Result<eth::Hash32> copy = Status::internal("no transaction to copy");
  if (sent.id != 0) {
    auto tx = rpc_->get_transaction(*eth::hash_from_hex(sent.tx_hash));
    if (tx.ok() && tx->has_value()) {
      eth::TxOverrides o;
      o.gas_limit = 3'000'000;
      o.max_priority_fee_per_gas = eth::U256(50'000'000'000);
      o.max_fee_per_gas = eth::U256(200'000'000'000);
      copy = deployer_->send_transaction(contracts_.pool, (*tx)->input, eth::U256(0), o);
    }
  }
  EXPECT_TRUE(testing::anvil_mine(*rpc_, 1).is_ok());
  EXPECT_TRUE(testing::anvil_set_automine(*rpc_, true).is_ok());
  payer.join();
  ASSERT_NE(sent.id, 0) << "the payment was never submitted";
  ASSERT_TRUE(copy.ok()) << copy.status().to_string();
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  auto own = rpc_->get_transaction_receipt(*eth::hash_from_hex(sent.tx_hash));
  ASSERT_TRUE(own.ok() && own->has_value());
  EXPECT_FALSE((*own)->success) << "the wallet's own transaction reverted";
  const Payment p = *store_->get_payment(sent.id);
  EXPECT_EQ(p.state, PaymentState::kConfirmed);
  EXPECT_EQ(p.settled_by, eth::to_hex(*copy));
  EXPECT_EQ(p.tx_hash, sent.tx_hash);
  EXPECT_EQ(token_balance(payee_), eth::U256(3) * kUnit) << "paid once";
  EXPECT_EQ(sum(notes(NoteState::kSpent)), 3U);
  EXPECT_EQ(sum(notes(NoteState::kOnChain)), 1U);
  EXPECT_TRUE(notes(NoteState::kSpending).empty());
}

TEST_F(WalletChain, BackupRestoresKeysAndNotes) {
  make_wallet("1=1,2=1", 1'000);
  ASSERT_TRUE(wallet_->deposit(7).ok());
  ASSERT_TRUE(wallet_->build_inventory().ok());
  ASSERT_TRUE(wallet_->pay(1, payee_).ok());
  auto backup = export_backup(*store_, "w", "backup pass", VaultParams::fast());
  ASSERT_TRUE(backup.ok()) << backup.status().to_string();
  auto sk = store_->get_spending_key("w");
  ASSERT_TRUE(sk.ok());
  EXPECT_EQ(backup->find(sk->to_hex().substr(2)), std::string::npos) << "the key is sealed";

  auto restored_store = open_store("restored.db");
  EXPECT_EQ(import_backup(*restored_store, *backup, "wrong pass").status().code(), StatusCode::kInvalidArgument);
  std::string tampered = *backup;
  tampered[tampered.find("\"sealed\": \"0x") + 20] ^= 1;
  EXPECT_EQ(import_backup(*restored_store, tampered, "backup pass").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(import_backup(*restored_store, "{}", "backup pass").status().code(), StatusCode::kInvalidArgument);
  auto n = import_backup(*restored_store, *backup, "backup pass");
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 2U) << "the 4 and the 2 (the 1 is spent)";
  auto w2 = Wallet::open(*restored_store, "w", options());
  ASSERT_TRUE(w2.ok()) << w2.status().to_string();
  EXPECT_EQ((*w2)->account(), wallet_->account());
  auto synced = (*w2)->sync();
  ASSERT_TRUE(synced.ok()) << synced.status().to_string();
  auto bal = (*w2)->balance();
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->on_chain, 6U);
  ASSERT_TRUE((*w2)->build_inventory().ok());
  auto paid = (*w2)->pay(6, payee_);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  EXPECT_EQ(token_balance(payee_), eth::U256(7) * kUnit);
}

}  // namespace
}  // namespace bucketpay
