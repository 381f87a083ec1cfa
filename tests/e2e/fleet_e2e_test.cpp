// A fleet of real `bucketpay worker` processes on a real PostgreSQL store: jobs enqueued with
// `precompute inventory --enqueue-only`, three workers proving them, one killed with SIGKILL while it
// holds a lease. Every job is done exactly once, its lease reclaimed by another worker, and every
// stored proof verifies in an independent bb process.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bucketpay/bb.h"
#include "bucketpay/pg_store.h"
#include "bucketpay/subprocess.h"
#include "store/pg_test_cluster.h"
#include "testing/testing.h"
#include "verify_testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPassphrase = "fleet test passphrase";

class FleetTest : public ::testing::Test {
 protected:
  // The cluster is started here rather than as a global environment: cli_test's other tests do not
  // need PostgreSQL.
  static void SetUpTestSuite() {
    cluster_ = new pgtest::ClusterEnvironment;
    cluster_->SetUp();
  }
  static void TearDownTestSuite() {
    cluster_->TearDown();
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_FALSE(pgtest::cluster_url().empty()) << "no PostgreSQL cluster";
    db_ = std::make_unique<pgtest::FreshDatabase>();
    dir_ = fs::temp_directory_path() / ("bucketpay-fleet-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "tmp");
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  Subprocess::Options options(std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), BUCKETPAY_CLI_BINARY);
    Subprocess::Options o;
    o.argv = std::move(args);
    o.env = {{"BUCKETPAY_PASSPHRASE", kPassphrase},
             {"BUCKETPAY_KDF", "fast"},
             {"BUCKETPAY_DB", (dir_ / "local" / "store.db").string()},  // only its directory is used (vk cache)
             {"BUCKETPAY_CRS", testing::crs_dir().string()},
             {"TMPDIR", (dir_ / "tmp").string()}};
    o.stderr_path = dir_ / log;
    return o;
  }

  // Runs to completion; returns (status, stdout).
  std::pair<int, std::string> run(std::vector<std::string> args) {
    testing::ProcessOutput r = testing::run_to_end(options(std::move(args), "stderr.log"));
    return {r.status, std::move(r.out)};
  }

  static std::string log_of(const fs::path& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  static pgtest::ClusterEnvironment* cluster_;
  std::unique_ptr<pgtest::FreshDatabase> db_;
  fs::path dir_;
};

pgtest::ClusterEnvironment* FleetTest::cluster_ = nullptr;

TEST_F(FleetTest, ThreeWorkersOneKilledEveryJobDoneExactlyOnce) {
  constexpr int kNotes = 12;
  const std::string url = db_->url();
  {
    auto [code, out] = run({"init", "--db", url});
    ASSERT_EQ(code, 0) << out << log_of(dir_ / "stderr.log");
  }
  {
    auto [code, out] = run({"note", "add", "--db", url, "--value", "0.07", "--count", std::to_string(kNotes)});
    ASSERT_EQ(code, 0) << out << log_of(dir_ / "stderr.log");
  }
  {
    auto [code, out] = run({"precompute", "inventory", "--db", url, "--all", "--enqueue-only", "--json"});
    ASSERT_EQ(code, 0) << out << log_of(dir_ / "stderr.log");
    const json j = json::parse(out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << out;
    EXPECT_EQ(j["jobs"].get<int>(), kNotes);
    EXPECT_EQ(j["batch"].get<std::string>().rfind("batch-", 0), 0u) << out;
  }
  // Nothing was proved: the jobs wait in the store.
  EXPECT_EQ(db_->exec("SELECT count(*) FROM jobs WHERE state = 'pending'")[0][0].as<int>(), kNotes);
  EXPECT_EQ(db_->exec("SELECT count(*) FROM precomputes")[0][0].as<int>(), 0);

  std::vector<Subprocess> workers;
  for (int i = 0; i < 3; ++i) {
    auto w = Subprocess::spawn(options({"worker", "--db", url, "--workers", "1", "--threads", "1", "--lease", "5",
                                        "--heartbeat", "1", "--idle-exit", "8"},
                                       "worker" + std::to_string(i) + ".log"));
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    w->close_stdin();
    workers.push_back(std::move(*w));
  }

  // Kill worker 0 while it holds a job.
  const std::string victim = ":" + std::to_string(workers[0].pid()) + "/";
  std::int64_t killed_job = 0;
  for (int i = 0; i < 1800 && killed_job == 0; ++i) {
    const pqxx::result r =
        db_->exec("SELECT id, lease_owner FROM jobs WHERE state = 'running' AND lease_owner IS NOT NULL");
    for (const auto& row : r) {
      if (row[1].as<std::string>().find(victim) != std::string::npos) killed_job = row[0].as<std::int64_t>();
    }
    if (killed_job == 0) std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(killed_job, 0) << "worker 0 never claimed a job\n" << log_of(dir_ / "worker0.log");
  ::kill(workers[0].pid(), SIGKILL);
  EXPECT_EQ(workers[0].wait(), 128 + SIGKILL);

  // The others finish everything, then go idle and exit.
  const auto deadline = std::chrono::steady_clock::now() + 600s;
  for (int i = 1; i < 3; ++i) {
    while (workers[i].running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(200ms);
    if (workers[i].running()) workers[i].kill();
    EXPECT_EQ(workers[i].wait(), 0) << log_of(dir_ / ("worker" + std::to_string(i) + ".log"));
  }

  // Every job done exactly once, the killed worker's job reclaimed and done by another.
  EXPECT_EQ(db_->exec("SELECT count(*) FROM jobs")[0][0].as<int>(), kNotes);
  EXPECT_EQ(db_->exec("SELECT count(*) FROM jobs WHERE state = 'done'")[0][0].as<int>(), kNotes);
  const pqxx::result killed = db_->exec("SELECT state, tries FROM jobs WHERE id = " + std::to_string(killed_job));
  ASSERT_EQ(killed.size(), 1u);
  EXPECT_EQ(killed[0][0].as<std::string>(), "done");
  EXPECT_GE(killed[0][1].as<int>(), 2) << "the killed worker's job was not reclaimed";
  EXPECT_EQ(db_->exec("SELECT count(*) FROM precomputes")[0][0].as<int>(), kNotes);
  EXPECT_EQ(db_->exec("SELECT count(DISTINCT key) FROM precomputes")[0][0].as<int>(), kNotes);
  EXPECT_EQ(db_->exec("SELECT count(DISTINCT note_id) FROM precomputes")[0][0].as<int>(), kNotes);
  EXPECT_EQ(db_->exec("SELECT count(*) FROM jobs j JOIN precomputes p ON p.key = j.key")[0][0].as<int>(), kNotes);
  const std::string logs = log_of(dir_ / "worker1.log") + log_of(dir_ / "worker2.log");
  EXPECT_NE(logs.find("reclaimed expired leases"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kPassphrase), std::string::npos);

  // Every stored proof verifies in an independent bb process, one per note.
  StoreOptions so;
  so.passphrase = kPassphrase;
  so.vault_params = VaultParams::fast();
  auto store = open_pg_store(url, so);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  testing::expect_spend_precomputes_verify(**store, kNotes);
}

// `token create` on a PostgreSQL store puts the token (its hash) in the database, never in a file: an
// earlier version wrote "<$BUCKETPAY_DB>.tokens", which for a URL is a path made of the URL, password
// and all, under the directory it ran in.
TEST_F(FleetTest, TokensOfAPostgresStoreAreInTheDatabaseNotInFiles) {
  std::string url = db_->url();  // postgresql://USER@127.0.0.1:PORT/...; the cluster trusts local users
  url.insert(url.find('@'), ":s3cret-pw");
  const fs::path cwd = dir_ / "cwd";
  const fs::path home = dir_ / "home";
  fs::create_directories(cwd);
  fs::create_directories(home);
  const auto run_here = [&](std::vector<std::string> args) {
    Subprocess::Options o = options(std::move(args), "stderr.log");
    for (auto& [name, value] : o.env) {
      if (name == "BUCKETPAY_DB") value = url;  // the URL is the default store
    }
    o.env.emplace_back("HOME", home.string());
    o.cwd = cwd;
    testing::ProcessOutput r = testing::run_to_end(o);
    return std::pair<int, std::string>(r.status, std::move(r.out));
  };
  {
    auto [code, out] = run_here({"init"});
    ASSERT_EQ(code, 0) << out << log_of(dir_ / "stderr.log");
  }
  auto [code, out] = run_here({"token", "create", "--json"});
  ASSERT_EQ(code, 0) << out << log_of(dir_ / "stderr.log");
  const json j = json::parse(out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << out;
  const std::string token = j["token"].get<std::string>();

  for (const fs::path& dir : {cwd, home}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) ADD_FAILURE() << "wrote " << entry.path();
  }
  EXPECT_EQ(log_of(dir_ / "stderr.log").find("s3cret-pw"), std::string::npos);
  StoreOptions so;
  so.passphrase = kPassphrase;
  so.vault_params = VaultParams::fast();
  auto store = open_pg_store(url, so);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  const Result<TokenStore::TokenGrant> grant = (*store)->authenticate_token(token);
  ASSERT_TRUE(grant.ok()) << grant.status().to_string();
  EXPECT_EQ(grant->wallet, "default");
  EXPECT_EQ(grant->scope, TokenScope::kRead);  // the default of `token create`
  EXPECT_EQ(db_->exec("SELECT count(*) FROM api_tokens")[0][0].as<int>(), 1);
}

// A worker needs a PostgreSQL store: a SQLite file is refused with a clear error, before any proving.
TEST(FleetWorker, RefusesASqliteStore) {
  const fs::path dir = fs::temp_directory_path() / ("bucketpay-fleet-sqlite-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Subprocess::Options o;
  o.argv = {BUCKETPAY_CLI_BINARY, "worker", "--db", (dir / "store.db").string()};
  o.env = {{"BUCKETPAY_PASSPHRASE", kPassphrase}, {"BUCKETPAY_KDF", "fast"}};
  o.stderr_path = dir / "stderr.log";
  auto child = Subprocess::spawn(o);
  ASSERT_TRUE(child.ok());
  child->close_stdin();
  EXPECT_EQ(child->wait(), 2);
  const std::string err = [&] {
    std::ifstream in(dir / "stderr.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }();
  EXPECT_NE(err.find("PostgreSQL URL"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir / "store.db"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bucketpay
