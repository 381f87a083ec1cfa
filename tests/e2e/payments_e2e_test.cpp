// `bucketpay` payments as real processes on a real anvil (protocol v2): init (no payee; a relayer),
// deposit by hidden owners, inventory, bad input refused before anything is signed; and, through a
// real relayer (`bucketpay relay`, its HTTP API): pay, the keeper's fan-out splits, and kill -9 of
// `bucketpay pay` after its bundle was handed over, then a restart: the journal settles the payment
// by chain truth (mined, or sent again by the relayer when the node lost it), balances and note
// states are right, and nothing is paid twice. The relayer tests skip, saying so, while this build
// has no relayer (testing/relay_testing.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bucketpay/deployment.h"
#include "bucketpay/devnet.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/store.h"
#include "bucketpay/subprocess.h"
#include "devnet/devnet_testing.h"
#include "testing/relay_testing.h"
#include "testing/testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPassphrase = "payments test passphrase";
constexpr const char* kPayee = "0x00000000000000000000000000000000000CA4D5";
const eth::U256 kUnit = testing::kCentUnits;

class PaymentsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bucketpay-payments-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "tmp");
    auto chain = testing::DevChain::start();
    ASSERT_TRUE(chain.ok()) << chain.status().to_string();
    chain_ = std::move(*chain);
    rpc_ = &chain_->rpc();
    deployer_ = &chain_->deployer();
    contracts_ = chain_->contracts();
    std::ofstream(dir_ / "contracts.json") << deployment::to_json(contracts_);
  }
  void TearDown() override {
    relay_.reset();
    chain_.reset();
    fs::remove_all(dir_);
  }

  // Starts a real relayer (`bucketpay relay init`, funded, `bucketpay relay serve`) for the Pool.
  bool start_relayer() {
    auto relay = testing::RelayProcess::start(chain_->url(), contracts_.pool, dir_ / "relay");
    EXPECT_TRUE(relay.ok()) << relay.status().to_string();
    if (!relay.ok()) return false;
    relay_ = std::move(*relay);
    return true;
  }

  Subprocess::Options options(std::vector<std::string> args) {
    args.insert(args.begin(), BUCKETPAY_CLI_BINARY);
    Subprocess::Options o;
    o.argv = std::move(args);
    o.env = {{"BUCKETPAY_PASSPHRASE", kPassphrase},
             {"BUCKETPAY_KDF", "fast"},
             {"BUCKETPAY_DB", (dir_ / "wallet.db").string()},
             {"BUCKETPAY_CRS", testing::crs_dir().string()},
             {"TMPDIR", (dir_ / "tmp").string()}};
    o.stderr_path = dir_ / "stderr.log";
    return o;
  }

  struct Run {
    int code;
    std::string out;
  };
  Run run(std::vector<std::string> args) {
    testing::ProcessOutput r = testing::run_to_end(options(std::move(args)));
    return {r.status, std::move(r.out)};
  }
  std::string last_error() {
    std::ifstream in(dir_ / "stderr.log");
    std::string line, last;
    while (std::getline(in, line)) last = line;
    return last;
  }

  // A wallet with gas, $10 of tokens, and `deposit` dollars in the Pool with their spend proofs; its
  // relayer the one started (if any).
  void wallet_with_inventory(const std::string& policy, const std::string& deposit) {
    std::vector<std::string> init_args = {
        "init", "--rpc",    chain_->url(), "--contracts", (dir_ / "contracts.json").string(), "--confirmations",
        "0",    "--policy", policy};
    if (relay_) {
      init_args.push_back("--relayer");
      init_args.push_back(relay_->url());
    }
    auto init = run(init_args);
    ASSERT_EQ(init.code, 0) << init.out << last_error();
    auto show = run({"key", "show", "--json"});
    ASSERT_EQ(show.code, 0);
    json j = json::parse(show.out);
    EXPECT_FALSE(j.contains("spending_key")) << "secrets only with --reveal";
    account_ = *eth::Address::from_string(j["account"].get<std::string>());
    ASSERT_TRUE(chain_->fund(account_, 2'000).is_ok());
    auto dep = run({"deposit", deposit});
    ASSERT_EQ(dep.code, 0) << dep.out << last_error();
    auto inv = run({"inventory", "--workers", "2"});
    ASSERT_EQ(inv.code, 0) << inv.out << last_error();
  }

  eth::U256 payee_tokens() {
    auto b = chain_->token_balance(*eth::Address::from_string(kPayee));
    EXPECT_TRUE(b.ok());
    return b.ok() ? *b : eth::U256(0);
  }

  json balance() {
    auto b = run({"balance", "--json"});
    EXPECT_EQ(b.code, 0) << last_error();
    return json::parse(b.out, nullptr, false);
  }

  std::unique_ptr<Store> store() {
    StoreOptions so;
    so.passphrase = kPassphrase;
    auto s = open_sqlite_store(dir_ / "wallet.db", so);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Starts `bucketpay pay AMOUNT` with mining off, waits until the relayer has its bundle (the
  // journal's entry is submitted) while it waits for the payment to land, then kill -9. Returns the
  // journal entry as it was left.
  Payment pay_and_kill(const std::string& amount) {
    EXPECT_TRUE(testing::anvil_set_automine(*rpc_, false).is_ok());
    auto child = Subprocess::spawn(options({"pay", amount, "--to", kPayee}));
    EXPECT_TRUE(child.ok());
    auto s = store();
    Payment found;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto submitted = s->list_payments("default", PaymentState::kSubmitted);
      if (submitted.ok() && !submitted->empty()) {
        found = submitted->back();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_NE(found.id, 0) << "the payment was never handed over: " << last_error();
    EXPECT_TRUE(child->running()) << "still waiting for the payment to land";
    child->kill();
    child->wait();
    return found;
  }

  fs::path dir_;
  std::unique_ptr<testing::DevChain> chain_;
  eth::Rpc* rpc_ = nullptr;
  eth::Wallet* deployer_ = nullptr;
  deployment::Contracts contracts_;
  eth::Address account_;
  std::unique_ptr<testing::RelayProcess> relay_;
};

// anvil mines a block per transaction and none otherwise: `init` sees it and needs no
// confirmations, so a deposit returns once it landed. With confirmations the chain never gives,
// the wait says what it waits for, and its timeout says the deposit landed and how to go on.
TEST_F(PaymentsCli, ADepositOnAnAutoMiningAnvilDoesNotWaitForBlocksThatNeverCome) {
  const std::string contracts = (dir_ / "contracts.json").string();
  auto init = run({"init", "--rpc", chain_->url(), "--contracts", contracts, "--policy", "1=1", "--json"});
  ASSERT_EQ(init.code, 0) << last_error();
  json j = json::parse(init.out);
  EXPECT_EQ(j["confirmations"], 0);
  ASSERT_TRUE(chain_->fund(*eth::Address::from_string(j["account"].get<std::string>()), 1'000).is_ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto dep = run({"deposit", "0.03"});
  ASSERT_EQ(dep.code, 0) << dep.out << last_error();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  EXPECT_EQ(balance()["on_chain_cents"], 3);

  const std::string patient_db = (dir_ / "patient.db").string();
  init = run(
      {"init", "--db", patient_db, "--rpc", chain_->url(), "--contracts", contracts, "--confirmations", "2", "--json"});
  ASSERT_EQ(init.code, 0) << last_error();
  j = json::parse(init.out);
  EXPECT_EQ(j["confirmations"], 2);
  ASSERT_TRUE(chain_->fund(*eth::Address::from_string(j["account"].get<std::string>()), 1'000).is_ok());
  dep = run({"deposit", "0.05", "--db", patient_db, "--wait-timeout", "3"});
  EXPECT_EQ(dep.code, 1);
  std::ifstream in(dir_ / "stderr.log");
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("waiting for 2 confirmations of block "), std::string::npos) << err;
  EXPECT_NE(err.find("bucketpay: error: the deposit landed (tx 0x"), std::string::npos) << err;
  EXPECT_NE(err.find("has 0 of 2 confirmations after 3 s"), std::string::npos) << err;
  EXPECT_NE(err.find("do not deposit again: `bucketpay sync`"), std::string::npos) << err;
  // It did land: two more blocks and a sync confirm it.
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 2).is_ok());
  ASSERT_EQ(run({"sync", "--db", patient_db}).code, 0) << last_error();
  auto b = run({"balance", "--db", patient_db, "--json"});
  ASSERT_EQ(b.code, 0) << last_error();
  EXPECT_EQ(json::parse(b.out)["on_chain_cents"], 5);
}

// balance and history answer from the store when the node does not (saying so, and how old the
// data is); `--rpc-url` names another node for one command, `config set rpc-url` for good.
TEST_F(PaymentsCli, ReportsWorkOfflineAndTheNodeCanBeChanged) {
  auto init = run({"init", "--rpc-url", chain_->url(), "--contracts", (dir_ / "contracts.json").string(), "--policy",
                   "1=1", "--json"});
  ASSERT_EQ(init.code, 0) << last_error();
  ASSERT_TRUE(
      chain_->fund(*eth::Address::from_string(json::parse(init.out)["account"].get<std::string>()), 100).is_ok());
  ASSERT_EQ(run({"deposit", "0.03"}).code, 0) << last_error();
  json b = balance();
  EXPECT_EQ(b["offline"], false);
  ASSERT_TRUE(b["synced_at_ms"].is_number()) << b.dump();

  const std::string dead = "http://127.0.0.1:1";
  auto offline = run({"balance", "--json", "--rpc-url", dead});
  ASSERT_EQ(offline.code, 0) << last_error();
  b = json::parse(offline.out);
  EXPECT_EQ(b["offline"], true);
  EXPECT_EQ(b["on_chain_cents"], 3);
  EXPECT_EQ(last_error().rfind("bucketpay: offline (", 0), 0U) << last_error();
  EXPECT_NE(last_error().find("cannot reach"), std::string::npos) << last_error();
  offline = run({"balance", "--rpc-url", dead});
  ASSERT_EQ(offline.code, 0) << last_error();
  EXPECT_NE(offline.out.find(" ago)\n"), std::string::npos) << offline.out;
  auto history = run({"history", "--json", "--rpc-url", dead});
  ASSERT_EQ(history.code, 0) << last_error();
  ASSERT_EQ(json::parse(history.out).size(), 1U) << history.out;

  // The inventory's state needs no node at all.
  auto status = run({"inventory", "status", "--json"});
  ASSERT_EQ(status.code, 0) << last_error();
  json inv = json::parse(status.out);
  EXPECT_EQ(inv["on_chain_cents"], 3);
  EXPECT_EQ(inv["ready_cents"], 0);
  EXPECT_EQ(inv["jobs"]["pending"], 2);  // the landed notes' spend proofs, queued by the sync
  status = run({"inventory", "status"});
  ASSERT_EQ(status.code, 0) << last_error();
  EXPECT_NE(status.out.find("proof jobs: 2 pending, 0 running, 0 failed"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find('\x1b'), std::string::npos) << status.out;  // not a terminal
  // Asked for colour: the shortfall is red, and the columns stay aligned (padded, then painted).
  auto coloured = run({"inventory", "status", "--color", "always"});
  ASSERT_EQ(coloured.code, 0) << last_error();
  EXPECT_NE(coloured.out.find("\x1b[31m"), std::string::npos) << coloured.out;
  std::string stripped;
  for (std::size_t i = 0; i < coloured.out.size(); ++i) {
    if (coloured.out[i] == '\x1b') {
      i = coloured.out.find('m', i);
      continue;
    }
    stripped += coloured.out[i];
  }
  // (The first line says how long ago the sync was, which may differ by now.)
  EXPECT_EQ(stripped.substr(stripped.find("  denomination")), status.out.substr(status.out.find("  denomination")));

  // A node that does not answer is not kept; one that has the Pool is.
  EXPECT_EQ(run({"config", "set", "rpc-url", dead}).code, 1);
  EXPECT_EQ(run({"config", "set", "colour", "red"}).code, 2);
  std::string localhost = chain_->url();
  localhost.replace(localhost.find("127.0.0.1"), 9, "localhost");
  auto set = run({"config", "set", "rpc-url", localhost});
  ASSERT_EQ(set.code, 0) << last_error();
  EXPECT_EQ(set.out, "rpc-url " + localhost + " (was " + chain_->url() + ")\n");
  auto s = store();
  auto stored = s->get_setting("default", "rpc_url");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(**stored, localhost);
  EXPECT_EQ(balance()["offline"], false);
}

// `bucketpay deploy` on anvil: a TestToken, the verifiers and the Pool from a key in a file, the
// contracts file written and taken by `init`; a Pool for an existing token, its unit from the
// token's decimals; refusals before anything is sent.
TEST_F(PaymentsCli, DeployWritesTheContractsFileInitReads) {
  // anvil's account 2 (a public test key), so that the fixture's deployer keeps its own nonces.
  const fs::path key_file = dir_ / "deployer.key";
  std::ofstream(key_file) << "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a\n";
  const std::string out = (dir_ / "deployed.json").string();
  EXPECT_EQ(run({"deploy", "--rpc-url", chain_->url(), "--key-file", key_file.string(), "--out", out}).code, 2);
  EXPECT_NE(last_error().find("--token ADDRESS"), std::string::npos) << last_error();
  EXPECT_EQ(run({"deploy", "--key", "0x01"}).code, 2);  // no key on the command line

  auto deployed = run(
      {"deploy", "--rpc-url", chain_->url(), "--test-token", "--key-file", key_file.string(), "--out", out, "--json"});
  ASSERT_EQ(deployed.code, 0) << last_error();
  std::ifstream in(out);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto contracts = deployment::contracts_from_json(text);
  ASSERT_TRUE(contracts.ok()) << contracts.status().to_string() << text;
  EXPECT_EQ(json::parse(deployed.out)["pool"], contracts->pool.to_checksum());
  EXPECT_EQ(contracts->unit, eth::U256(10'000));
  // Independently of the CLI: the Pool's code is there and it holds the token it says.
  eth::PoolClient pool(*rpc_, contracts->pool, {});
  auto token = pool.token();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, contracts->token);
  EXPECT_EQ(
      run({"deploy", "--rpc-url", chain_->url(), "--test-token", "--key-file", key_file.string(), "--out", out}).code,
      1);  // never over an earlier record
  auto init = run({"init", "--rpc-url", chain_->url(), "--contracts", out});
  ASSERT_EQ(init.code, 0) << last_error();
  EXPECT_NE(init.out.find(contracts->pool.to_checksum()), std::string::npos) << init.out;

  const std::string second = (dir_ / "second.json").string();
  deployed = run({"deploy", "--rpc-url", chain_->url(), "--token", contracts_.token.to_checksum(), "--key-file",
                  key_file.string(), "--out", second, "--json"});
  ASSERT_EQ(deployed.code, 0) << last_error();
  json j = json::parse(deployed.out);
  EXPECT_EQ(j["token"], contracts_.token.to_checksum());
  EXPECT_EQ(j["unit"], "10000");  // TestToken's 6 decimals: 10^4 base units per cent
}

// What a deposit lacks is said in dollars and in words, not in token base units or a node's error.
TEST_F(PaymentsCli, ADepositSaysWhatTheAccountLacksInDollarsAndWords) {
  auto init = run({"init", "--rpc", chain_->url(), "--contracts", (dir_ / "contracts.json").string(), "--json"});
  ASSERT_EQ(init.code, 0) << last_error();
  const auto account = *eth::Address::from_string(json::parse(init.out)["account"].get<std::string>());
  ASSERT_TRUE(chain_->fund(account, 150).is_ok());  // $1.50
  EXPECT_EQ(run({"deposit", "2.00"}).code, 1);
  EXPECT_EQ(last_error(), "bucketpay: error: the account " + account.to_checksum() +
                              " holds $1.50 of the Pool's token; the deposit needs $2.00: send it tokens first")
      << last_error();
  ASSERT_TRUE(devnet::set_balance(*rpc_, account, eth::U256(0)).is_ok());
  EXPECT_EQ(run({"deposit", "1.00"}).code, 1);
  EXPECT_EQ(last_error().rfind("bucketpay: error: the account " + account.to_checksum() +
                                   " has too little ETH to pay for the gas of its transaction: send it some ETH",
                               0),
            0U)
      << last_error();
}

TEST_F(PaymentsCli, InitDepositInventoryAndBadInputWithoutARelayer) {
  // Protocol v1's payee is refused with a clear line; so is a malformed relayer URL.
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"init", "--rpc", chain_->url(), "--contracts", (dir_ / "contracts.json").string(),
                                 "--payee", kPayee},
        {"init", "--rpc", chain_->url(), "--contracts", (dir_ / "contracts.json").string(), "--relayer", "127.0.0.1"},
        {"init", "--rpc", "http://127.0.0.1:1", "--pool", "0x12"}}) {
    auto r = run(bad);
    EXPECT_EQ(r.code, 2) << bad[1];
    EXPECT_NE(last_error().find("bucketpay: error:"), std::string::npos);
  }
  EXPECT_NE(
      run({"init", "--rpc", chain_->url(), "--contracts", (dir_ / "contracts.json").string(), "--payee", kPayee}).code,
      0);
  EXPECT_NE(last_error().find("--payee is gone"), std::string::npos) << last_error();

  wallet_with_inventory("1=2,2=2,4=1", "0.20");
  json b = balance();
  EXPECT_EQ(b["on_chain_cents"], 20);
  EXPECT_EQ(b["ready_cents"], 20);

  // Bad input: exit 2 with one line; nothing reserved or signed.
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"pay", "-1", "--to", kPayee},
                                              {"pay", "12.345", "--to", kPayee},
                                              {"pay", "1e3", "--to", kPayee},
                                              {"pay", "99999999999999999999", "--to", kPayee},
                                              {"pay", "0", "--to", kPayee},
                                              {"pay", "0.01", "--to", "0x1234"},
                                              {"pay", "0.01", "--to", "0x0000000000000000000000000000000000000000"},
                                              {"pay", "0.01", "--to", kPayee, "--on-missing", "maybe"},
                                              {"pay", "0.01", "--to", kPayee, "--relayer", "ftp://x"},
                                              {"precompute", "inventory", "--all", "--recipient", kPayee},
                                              {"deposit", "-5"},
                                              {"deposit", "abc"}}) {
    auto r = run(bad);
    EXPECT_EQ(r.code, 2) << bad[0] << " " << bad[1];
    EXPECT_NE(last_error().find("bucketpay: error:"), std::string::npos);
  }
  // No relayer named anywhere: a refusal that says how to name one.
  auto none = run({"pay", "0.01", "--to", kPayee});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(last_error().find("--relayer URL"), std::string::npos) << last_error();
  EXPECT_EQ(balance()["reserved_cents"], 0);
  auto hist = run({"history", "--json"});
  ASSERT_EQ(hist.code, 0);
  json h = json::parse(hist.out);
  ASSERT_EQ(h.size(), 1U);
  EXPECT_EQ(h[0]["kind"], "deposit");
  EXPECT_EQ(h[0]["state"], "confirmed");
  // The key never shows up in what the commands print or log.
  auto reveal = run({"key", "show", "--reveal", "--json"});
  ASSERT_EQ(reveal.code, 0);
  const std::string sk = json::parse(reveal.out)["spending_key"].get<std::string>().substr(2);
  std::ifstream log(dir_ / "stderr.log");
  std::stringstream all;
  all << log.rdbuf();
  EXPECT_EQ(all.str().find(sk), std::string::npos);
}

TEST_F(PaymentsCli, PaysThroughTheRelayer) {
  ASSERT_TRUE(start_relayer());
  wallet_with_inventory("1=2,2=2,4=1,8=1", "0.50");
  auto paid = run({"pay", "0.07", "--to", kPayee, "--json"});
  ASSERT_EQ(paid.code, 0) << last_error();
  json p = json::parse(paid.out);
  EXPECT_EQ(p["amount_cents"], 7);
  EXPECT_EQ(p["state"], "confirmed");
  EXPECT_EQ(p["proved_on_demand"], false);
  EXPECT_GT(p["fee_cents"].get<std::uint64_t>(), 0U);
  EXPECT_EQ(payee_tokens(), eth::U256(7) * kUnit);
  EXPECT_EQ(balance()["on_chain_cents"].get<std::uint64_t>(), 50 - 7 - p["fee_cents"].get<std::uint64_t>());
  // More than the balance: a refusal (exit 1) that says why.
  auto over = run({"pay", "0.50", "--to", kPayee});
  EXPECT_EQ(over.code, 1);
  EXPECT_NE(last_error().find("balance"), std::string::npos) << last_error();
  EXPECT_EQ(payee_tokens(), eth::U256(7) * kUnit);
}

TEST_F(PaymentsCli, KeeperRefillsTheInventoryThroughTheRelayer) {
  ASSERT_TRUE(start_relayer());
  wallet_with_inventory("1=2,2=2", "10.24");  // 1 + 1 + 2 + 2 and the rest as larger notes
  // 0.05 and the relayer's fee take the small notes below their targets.
  ASSERT_EQ(run({"pay", "0.05", "--to", kPayee}).code, 0) << last_error();
  json before = balance();
  ASSERT_LT(before["denominations"][0]["ready"].get<int>() + before["denominations"][1]["ready"].get<int>(), 4)
      << before.dump();
  auto keeper = run({"keeper", "--once", "--workers", "2"});
  ASSERT_EQ(keeper.code, 0) << keeper.out << last_error();
  EXPECT_NE(keeper.out.find("split $"), std::string::npos) << keeper.out << last_error();
  // The history says when each entry was made, to whom (checksummed) and what a rebalance moved.
  auto hist = run({"history", "--json"});
  ASSERT_EQ(hist.code, 0) << last_error();
  bool rebalance_seen = false;
  for (const auto& p : json::parse(hist.out)) {
    EXPECT_GT(p["created_ms"].get<std::int64_t>(), 1'700'000'000'000) << p.dump();
    if (p["kind"] == "pay") {
      EXPECT_EQ(p["recipient"], eth::Address::from_string(kPayee)->to_checksum());
    }
    if (p["kind"] != "rebalance") continue;
    rebalance_seen = true;
    std::uint64_t spent = 0;
    std::uint64_t made = 0;
    for (const auto& v : p["spent_cents"]) spent += v.get<std::uint64_t>();
    for (const auto& v : p["made_cents"]) made += v.get<std::uint64_t>();
    ASSERT_EQ(p["spent_cents"].size(), 1U) << p.dump();
    EXPECT_GT(p["made_cents"].size(), 1U) << p.dump();
    EXPECT_EQ(spent, made + p["amount_cents"].get<std::uint64_t>())
        << "the note split = the notes made + the fee: " << p.dump();
  }
  EXPECT_TRUE(rebalance_seen) << hist.out;
  auto text = run({"history"});
  ASSERT_EQ(text.code, 0) << last_error();
  EXPECT_NE(text.out.find("rebalance"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" into $"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Z  #"), std::string::npos) << "a time on each row: " << text.out;
  json b = balance();
  EXPECT_EQ(b["ready_cents"], b["on_chain_cents"]) << "every note has its proof";
  EXPECT_GE(b["denominations"][0]["ready"].get<int>(), 2);
  EXPECT_GE(b["denominations"][1]["ready"].get<int>(), 2);
}

TEST_F(PaymentsCli, KillAfterTheHandoverThenRestart) {
  ASSERT_TRUE(start_relayer());
  wallet_with_inventory("1=2,2=2,4=2,8=2", "0.40");

  // 1. Killed while the relayer's transaction waits in the node's pool; the block comes afterwards.
  Payment p = pay_and_kill("0.03");
  ASSERT_NE(p.id, 0);
  {
    auto s = store();
    for (std::int64_t id : p.note_ids) EXPECT_EQ(s->get_note(id)->state, NoteState::kSpending);
  }
  EXPECT_EQ(payee_tokens(), eth::U256(0));
  ASSERT_TRUE(testing::anvil_mine(*rpc_, 1).is_ok());
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, true).is_ok());
  auto synced = run({"sync"});
  ASSERT_EQ(synced.code, 0) << last_error();
  {
    auto s = store();
    auto after = s->get_payment(p.id);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->state, PaymentState::kConfirmed);
    for (std::int64_t id : p.note_ids) EXPECT_EQ(s->get_note(id)->state, NoteState::kSpent);
  }
  EXPECT_EQ(payee_tokens(), eth::U256(3) * kUnit);

  // 2. Killed, and the node loses the relayer's transaction: it is sent again (one transaction per
  // digest), and the restart settles the payment once.
  Payment q = pay_and_kill("0.04");
  ASSERT_NE(q.id, 0);
  for (std::int64_t id : q.note_ids) EXPECT_EQ(std::count(p.note_ids.begin(), p.note_ids.end(), id), 0);
  if (!q.relayer_tx.empty()) {
    ASSERT_TRUE(testing::anvil_drop_transaction(*rpc_, *eth::hash_from_hex(q.relayer_tx)).is_ok());
  }
  ASSERT_TRUE(testing::anvil_set_automine(*rpc_, true).is_ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  Payment after;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(run({"sync"}).code, 0) << last_error();
    after = *store()->get_payment(q.id);
    if (after.state == PaymentState::kConfirmed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(after.state, PaymentState::kConfirmed);
  EXPECT_EQ(after.digest, q.digest) << "the same signed payment";
  EXPECT_EQ(payee_tokens(), eth::U256(7) * kUnit);
  // Running again changes nothing: nothing is paid twice.
  ASSERT_EQ(run({"sync"}).code, 0);
  EXPECT_EQ(payee_tokens(), eth::U256(7) * kUnit);
  EXPECT_EQ(balance()["reserved_cents"], 0);
}

}  // namespace
}  // namespace bucketpay
