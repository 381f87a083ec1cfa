// kill -9 of a real `bucketpay precompute` in the middle of proving: the store stays consistent,
// no finished proof is lost, no partial row exists, and a restart resumes and finishes the work.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bucketpay/bb.h"
#include "bucketpay/store.h"
#include "bucketpay/subprocess.h"
#include "testing/testing.h"
#include "verify_testing.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bucketpay-crash-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "tmp");
  }
  void TearDown() override { fs::remove_all(dir_); }

  Subprocess::Options options(std::vector<std::string> args) {
    args.insert(args.begin(), BUCKETPAY_CLI_BINARY);
    Subprocess::Options o;
    o.argv = std::move(args);
    o.env = {{"BUCKETPAY_PASSPHRASE", "crash test passphrase"},
             {"BUCKETPAY_KDF", "fast"},
             {"BUCKETPAY_DB", (dir_ / "store.db").string()},
             {"BUCKETPAY_CRS", testing::crs_dir().string()},
             {"TMPDIR", (dir_ / "tmp").string()}};
    o.stderr_path = dir_ / "stderr.log";
    return o;
  }

  // Runs to completion; returns (status, stdout).
  std::pair<int, std::string> run(std::vector<std::string> args) {
    testing::ProcessOutput r = testing::run_to_end(options(std::move(args)));
    return {r.status, std::move(r.out)};
  }

  json status() {
    auto [code, out] = run({"precompute", "status", "--json"});
    EXPECT_EQ(code, 0) << out;
    return json::parse(out, nullptr, false);
  }

  // Processes (bb, node) whose working directory is under our scratch root.
  int scratch_processes() {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
      std::error_code ec;
      const auto cwd = fs::read_symlink(e.path() / "cwd", ec);
      if (!ec && cwd.string().rfind((dir_ / "tmp").string(), 0) == 0) ++n;
    }
    return n;
  }

  // Interrupts `precompute inventory` with `signal` after some proofs are stored, then resumes.
  void interrupt_then_resume(int signal);

  fs::path dir_;
};

TEST_F(CrashTest, KillNineMidProvingLosesNothingAndResumes) { interrupt_then_resume(SIGKILL); }

// Ctrl-C on a terminal: the same, and resume's summary says how many are ready in the store.
TEST_F(CrashTest, InterruptMidProvingThenResumeSaysTheReadyCount) { interrupt_then_resume(SIGINT); }

void CrashTest::interrupt_then_resume(int signal) {
  constexpr int kNotes = 10;
  ASSERT_EQ(run({"init"}).first, 0);
  ASSERT_EQ(run({"note", "add", "--value", "0.07", "--count", std::to_string(kNotes)}).first, 0);

  auto prover = Subprocess::spawn(options({"precompute", "inventory", "--all", "--workers", "2", "--threads", "1"}));
  ASSERT_TRUE(prover.ok());
  // Wait until some, but not all, proofs are stored, then kill -9.
  json s;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = status();
    if (s.is_object() && s["precomputes"].get<int>() >= 2) break;
  }
  ::kill(prover->pid(), signal);
  EXPECT_EQ(prover->wait(), 128 + signal);
  s = status();
  const int stored = s["precomputes"].get<int>();
  ASSERT_GE(stored, 2);
  ASSERT_LT(stored, kNotes) << "the kill came too late to test anything";
  // Every stored proof has its job marked done, and the reverse (one transaction each).
  EXPECT_EQ(s["jobs"]["done"].get<int>(), stored);
  EXPECT_EQ(s["jobs"]["failed"].get<int>(), 0);

  // The provers died with their parent (no orphans).
  for (int i = 0; i < 50 && scratch_processes() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(scratch_processes(), 0);

  // The database file is intact.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ / "store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(db);

  // A restart resumes the unfinished jobs and cleans the dead workers' scratch directories.
  auto [code, out] = run({"precompute", "resume", "--workers", "2", "--threads", "1"});
  ASSERT_EQ(code, 0) << out;
  s = status();
  EXPECT_EQ(s["precomputes"].get<int>(), kNotes);
  // Its summary counts what is ready (the store's), not only what this run proved.
  EXPECT_EQ(out.rfind("precomputes ready: " + std::to_string(kNotes) + " in the store (this run proved " +
                          std::to_string(kNotes - stored) + ", failed 0)",
                      0),
            0U)
      << out;
  EXPECT_EQ(s["jobs"]["done"].get<int>(), kNotes);
  EXPECT_EQ(s["jobs"]["pending"].get<int>(), 0);
  EXPECT_EQ(s["jobs"]["running"].get<int>(), 0);
  for (const auto& e : fs::directory_iterator(dir_ / "tmp")) {
    EXPECT_EQ(e.path().filename().string().rfind("bucketpay-worker-", 0), std::string::npos) << e.path();
  }

  // Asking again proves nothing: every proof comes from the store.
  auto [code2, out2] = run({"precompute", "inventory", "--all", "--json"});
  ASSERT_EQ(code2, 0) << out2;
  const json again = json::parse(out2);
  EXPECT_EQ(again["proved"].get<int>(), 0);
  EXPECT_EQ(again["cached"].get<int>(), kNotes);

  // Every stored proof verifies in an independent bb process, one per note, none twice.
  StoreOptions so;
  so.passphrase = "crash test passphrase";
  so.vault_params = VaultParams::fast();
  auto store = open_sqlite_store(dir_ / "store.db", so);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  testing::expect_spend_precomputes_verify(**store, kNotes);
}

}  // namespace
}  // namespace bucketpay
