// Runs the real `bucketpay` binary and checks its output and exit status.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bucketpay/field.h"
#include "bucketpay/store.h"
#include "bucketpay/subprocess.h"
#include "bucketpay/wallet.h"
#include "testing/testing.h"

namespace bucketpay {
namespace {

using CliRun = testing::ProcessOutput;

CliRun run_cli(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {},
               const char* binary = BUCKETPAY_CLI_BINARY) {
  const auto err_path =
      std::filesystem::temp_directory_path() / ("bucketpay-cli-test-" + std::to_string(::getpid()) + ".err");
  std::filesystem::remove(err_path);
  args.insert(args.begin(), binary);
  CliRun r = testing::run_to_end({.argv = args, .env = std::move(env), .cwd = {}, .stderr_path = err_path});
  std::filesystem::remove(err_path);
  return r;
}

// Independent vector: bb's Poseidon2Permutation([0,0,0,0])[0] (docs/toolchain.md).
constexpr const char* kPermutationOfZeros0 = "0x18dfb8dc9b82229cff974efefc8df78b1ce96d9d844236b496785c698bc6732e";

TEST(Cli, PermutePrintsFourHexLines) {
  const CliRun r = run_cli({"permute", "0", "0", "0", "0x0"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.out.size(), 4U * 67U);
  EXPECT_EQ(r.out.substr(0, 66), kPermutationOfZeros0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.out[static_cast<std::size_t>(i * 67 + 66)], '\n');
}

TEST(Cli, HashMatchesPermutationDefinition) {
  // H(x) = P([x, 0, 0, 1 * 2^64])[0]: the CLI's two commands must agree with each other.
  const CliRun h = run_cli({"hash", "7"});
  const CliRun p = run_cli({"permute", "7", "0", "0", "18446744073709551616"});
  ASSERT_EQ(h.status, 0) << h.err;
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(h.out, p.out.substr(0, 67));
  const CliRun h3 = run_cli({"hash", "1", "0x2", "3"});
  const CliRun p3 = run_cli({"permute", "1", "2", "3", "55340232221128654848"});
  ASSERT_EQ(h3.status, 0);
  EXPECT_EQ(h3.out, p3.out.substr(0, 67));
}

TEST(Cli, DecomposePrintsBuckets) {
  CliRun r = run_cli({"decompose", "12.34"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "2 16 64 128 1024\n");
  r = run_cli({"decompose", "--cents", "5"});
  EXPECT_EQ(r.out, "1 4\n");
  r = run_cli({"decompose", "1310.71", "--json"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\"amount_cents\":131071"), std::string::npos);
  EXPECT_NE(r.out.find("65536]"), std::string::npos);
}

TEST(Cli, NoteNeverPrintsSecrets) {
  const CliRun r = run_cli({"new-note", "--value", "12.34", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"commitment\""), std::string::npos);
  EXPECT_EQ(r.out.find("sk"), std::string::npos);
  EXPECT_EQ(r.out.find("\"r\""), std::string::npos);
}

TEST(Cli, BadInputIsOneLineAndExitTwo) {
  const std::string p =
      "21888242871839275222246405745257275088548364400416034343698204186575808495617";  // the modulus itself
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"nonsense"},
      {"permute", "1", "2", "3"},
      {"permute", "1", "2", "3", "4", "5"},
      {"permute", "1", "2", "3", p},
      {"hash"},
      {"hash", "1", "2", "3", "4"},
      {"hash", "0xg"},
      {"hash", "-1"},
      {"hash", "1.5"},
      {"decompose", "-1"},
      {"decompose", "12.345"},
      {"decompose", "1e3"},
      {"decompose", "0"},
      {"decompose", "99999999999999999999999"},
      {"decompose", "1310.72"},
      {"decompose", ""},
      {"decompose", " 1"},
      {"decompose", "--cents", "1.5"},
      {"note", "--value", "-5"},
  };
  for (const auto& args : bad) {
    const CliRun r = run_cli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.status, 2) << joined << " -> " << r.err;
    EXPECT_TRUE(r.out.empty()) << joined;
    ASSERT_FALSE(r.err.empty()) << joined;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_EQ(r.err.rfind("bucketpay: error: ", 0), 0U) << r.err;
  }
}

// A one-line usage error on stderr, exit status 2, nothing on stdout.
void expect_usage_error(const CliRun& r, const std::string& says) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err.rfind("bucketpay: error: ", 0), 0U) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
}

TEST(Cli, AnUnknownCommandIsNamed) {
  expect_usage_error(run_cli({"foo"}), "unknown command 'foo'");
  expect_usage_error(run_cli({"key", "shw"}), "unknown command 'key shw'");
  expect_usage_error(run_cli({"precompute", "stauts", "--db", "/nonexistent"}), "unknown command 'precompute stauts'");
  expect_usage_error(run_cli({"help", "bar"}), "unknown command 'bar'");
}

TEST(Cli, HelpPrintsTheHelpOfACommand) {
  CliRun r = run_cli({"help"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Usage: bucketpay"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deposit"), std::string::npos) << r.out;
  r = run_cli({"help", "key", "backup"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("--out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Usage: bucketpay key backup [OPTIONS]"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("--policy"), std::string::npos) << r.out;
}

// Wallet commands against a store with one wallet ("alice", a key only).
class CliStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bucketpay-cli-store-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "w.db").string();
    const CliRun r = run({"init", "--wallet", "alice"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CliRun run(std::vector<std::string> args) {
    args.push_back("--db");
    args.push_back(db_);
    return run_cli(std::move(args), {{"BUCKETPAY_PASSPHRASE", "cli test passphrase"}, {"BUCKETPAY_KDF", "fast"}});
  }

  std::filesystem::path dir_;
  std::string db_;
};

TEST_F(CliStore, AnUnknownWalletIsAnErrorNamingIt) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"balance"},
                                               {"history"},
                                               {"deposit", "1.00"},
                                               {"precompute", "status"},
                                               {"key", "show"},
                                               {"note", "list"},
                                               {"token", "create"}}) {
    std::vector<std::string> with_wallet = args;
    with_wallet.insert(with_wallet.end(), {"--wallet", "bob"});
    const CliRun r = run(with_wallet);
    EXPECT_EQ(r.status, 1) << args[0] << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args[0] << ": " << r.out;
    EXPECT_NE(r.err.find("no wallet 'bob'"), std::string::npos) << args[0] << ": " << r.err;
  }
  const CliRun known = run({"precompute", "status", "--wallet", "alice"});
  EXPECT_EQ(known.status, 0) << known.err;
  // What is the store's and what is the wallet's is said.
  EXPECT_NE(known.out.find("jobs (all wallets): pending 0"), std::string::npos) << known.out;
  EXPECT_NE(known.out.find("notes of wallet alice: 0"), std::string::npos) << known.out;
}

// `token create` makes a read token unless --scope spend; a scope that is neither is a one-line
// usage error before the store is opened; `token list` shows each token's scope (never a secret),
// `token revoke` revokes by id.
TEST_F(CliStore, TokensHaveAScopeReadByDefault) {
  CliRun r = run({"token", "create", "--wallet", "alice", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto by_default = nlohmann::json::parse(r.out);
  EXPECT_EQ(by_default["scope"], "read");
  r = run({"token", "create", "--wallet", "alice", "--scope", "spend", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto spender = nlohmann::json::parse(r.out);
  EXPECT_EQ(spender["scope"], "spend");
  r = run({"token", "create", "--wallet", "alice", "--scope", "read"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("bpt_", 0), 0U) << r.out;

  for (const char* bad : {"admin", "", "READ", "read,spend"}) {
    const CliRun refused = run({"token", "create", "--wallet", "alice", "--scope", bad});
    expect_usage_error(refused, "--scope must be read (the dashboard, job status, plans) or spend");
    EXPECT_NE(refused.err.find(std::string("not '") + bad + "'"), std::string::npos) << refused.err;
  }

  r = run({"token", "list", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 3U) << r.out;  // the refused ones made nothing
  std::map<std::string, std::string> scopes;
  for (const auto& t : list) {
    scopes[t["id"]] = t["scope"];
    EXPECT_EQ(t["wallet"], "alice");
    EXPECT_EQ(t["revoked"], false);
    EXPECT_FALSE(t.contains("token"));
  }
  EXPECT_EQ(scopes[by_default["id"]], "read");
  EXPECT_EQ(scopes[spender["id"]], "spend");
  r = run({"token", "list"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string spender_id = spender["id"];
  const std::size_t line = r.out.find(spender_id);
  ASSERT_NE(line, std::string::npos) << r.out;
  const std::string spender_line = r.out.substr(line, r.out.find('\n', line) - line);
  EXPECT_NE(spender_line.find(" spend "), std::string::npos) << spender_line;
  EXPECT_NE(spender_line.find("active"), std::string::npos) << spender_line;
  EXPECT_NE(r.out.find(by_default["id"].get<std::string>() + "  "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("bpt_"), std::string::npos) << "a secret in the list: " << r.out;

  r = run({"token", "revoke", spender_id});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const auto& t : nlohmann::json::parse(run({"token", "list", "--json"}).out))
    EXPECT_EQ(t["revoked"], t["id"] == spender_id) << t.dump();
  r = run({"token", "revoke", "0000000000000000"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("no token 0000000000000000"), std::string::npos) << r.err;
}

TEST_F(CliStore, ConflictingOptionsAreRefused) {
  expect_usage_error(run({"init", "--wallet", "carol", "--policy", "1=3,1=4"}), "1 is given twice");
  expect_usage_error(run({"init", "--wallet", "carol", "--rpc", "http://127.0.0.1:1", "--policy", "1=3,2=1,1=4"}),
                     "given twice");
  const std::string contracts = (dir_ / "contracts.json").string();
  expect_usage_error(run({"init", "--wallet", "carol", "--rpc", "http://127.0.0.1:1", "--contracts", contracts,
                          "--pool", "0x00000000000000000000000000000000000000aa"}),
                     "excludes");
}

// The key derivation a SQLite store recorded when it was made: {opslimit, memlimit} as text.
std::pair<std::string, std::string> recorded_key_derivation(const std::filesystem::path& db_path) {
  std::pair<std::string, std::string> kdf;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  for (auto [key, value] : {std::pair{"vault_opslimit", &kdf.first}, std::pair{"vault_memlimit", &kdf.second}}) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &stmt, nullptr), SQLITE_OK);
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      value->assign(static_cast<const char*>(sqlite3_column_blob(stmt, 0)),
                    static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return kdf;
}

using Kdf = std::pair<std::string, std::string>;

// BUCKETPAY_KDF=fast (libsodium's minimum Argon2id cost) exists for the tests' binary only: the
// shipped `bucketpay` makes a new store with the wallet's own cost whatever the environment says.
TEST(CliKeyDerivation, TheShippedBinaryIgnoresTheTestsCheapKeyDerivation) {
  const auto dir = std::filesystem::temp_directory_path() / ("bucketpay-kdf-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::vector<std::pair<std::string, std::string>> env = {{"BUCKETPAY_PASSPHRASE", "cli test passphrase"},
                                                                {"BUCKETPAY_KDF", "fast"}};
  const CliRun shipped = run_cli({"init", "--db", (dir / "shipped.db").string()}, env, BUCKETPAY_SHIPPED_CLI_BINARY);
  ASSERT_EQ(shipped.status, 0) << shipped.err;
  EXPECT_EQ(recorded_key_derivation(dir / "shipped.db"), (Kdf{"3", "268435456"}));
  const CliRun for_tests = run_cli({"init", "--db", (dir / "tests.db").string()}, env);
  ASSERT_EQ(for_tests.status, 0) << for_tests.err;
  EXPECT_EQ(recorded_key_derivation(dir / "tests.db"), (Kdf{"1", "8192"}));
  std::filesystem::remove_all(dir);
}

// Starts `bucketpay ARGS` on a pseudo-terminal of its own, each of `env` set (a value) or unset
// (nullopt) in the child; returns its pid and sets `master` to the terminal's other side.
pid_t start_on_terminal(const std::vector<std::string>& args,
                        const std::vector<std::pair<const char*, std::optional<std::string>>>& env, int& master) {
  std::vector<std::string> argv_text = {BUCKETPAY_CLI_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    for (const auto& [key, value] : env) {
      if (value) {
        ::setenv(key, value->c_str(), 1);
      } else {
        ::unsetenv(key);
      }
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// `bucketpay ARGS` on a pseudo-terminal of its own, without BUCKETPAY_PASSPHRASE: answers each
// prompt (text ending in ": ") with the next of `answers`. Returns the exit status and all it wrote.
CliRun run_on_terminal(const std::vector<std::string>& args, const std::vector<std::string>& answers) {
  int master = -1;
  const pid_t pid =
      start_on_terminal(args, {{"BUCKETPAY_PASSPHRASE", std::nullopt}, {"BUCKETPAY_KDF", "fast"}}, master);
  EXPECT_GT(pid, 0);
  std::string seen;
  std::size_t answered = 0;
  std::size_t scanned = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[256];
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;  // the child is gone (EIO)
      seen.append(buf, static_cast<std::size_t>(n));
    }
    const std::size_t prompt = seen.find(": ", scanned);
    if (prompt != std::string::npos && seen.find("passphrase", scanned) < prompt && answered < answers.size()) {
      const std::string line = answers[answered++] + "\n";
      EXPECT_EQ(::write(master, line.data(), line.size()), static_cast<ssize_t>(line.size()));
      scanned = prompt + 2;
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, seen, ""};
}

// What a SQLite store leaves in its directory: the file and SQLite's files beside it.
bool any_store_file(const std::filesystem::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (std::filesystem::exists(db.string() + suffix)) return true;
  }
  return false;
}

// A failed `init` or `key restore` into a new store leaves no store: the next attempt, with another
// passphrase, is not refused as a wrong one. An existing file, even an empty one, is left as it is.
TEST_F(CliStore, AFailedInitOrRestoreLeavesNoStoreBehind) {
  const auto with_passphrase = [&](const std::string& passphrase, std::vector<std::string> args) {
    return run_cli(std::move(args), {{"BUCKETPAY_PASSPHRASE", passphrase}, {"BUCKETPAY_KDF", "fast"}});
  };
  const std::filesystem::path db = dir_ / "new.db";
  // A node that does not answer.
  CliRun r = with_passphrase("first passphrase", {"init", "--db", db.string(), "--rpc", "http://127.0.0.1:1", "--pool",
                                                  "0x00000000000000000000000000000000000000aa"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_FALSE(any_store_file(db));
  r = with_passphrase("second passphrase", {"init", "--db", db.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  std::filesystem::remove(db);

  // A backup of a wallet with a chain (what `key backup` saves), sealed with the store's passphrase.
  const std::filesystem::path chain_db = dir_ / "chain.db";
  {
    StoreOptions so;
    so.passphrase = "cli test passphrase";
    so.vault_params = VaultParams::fast();
    auto store = open_sqlite_store(chain_db, so);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    WalletConfig config;
    config.rpc_url = "http://127.0.0.1:1";
    config.pool = *eth::Address::from_string("0x00000000000000000000000000000000000000aa");
    ASSERT_TRUE(Wallet::create(**store, "alice", config).is_ok());
  }
  const std::string backup = (dir_ / "alice.backup").string();
  r = with_passphrase("cli test passphrase",
                      {"key", "backup", "--wallet", "alice", "--db", chain_db.string(), "--out", backup});
  ASSERT_EQ(r.status, 0) << r.err;
  // Restored with the wrong passphrase, then from a file that is no backup: refused, nothing kept.
  r = with_passphrase("not the backup's", {"key", "restore", "--wallet", "alice", "--db", db.string(), backup});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("wrong passphrase"), std::string::npos) << r.err;
  EXPECT_FALSE(any_store_file(db));
  const std::string junk = (dir_ / "junk.backup").string();
  std::ofstream(junk) << "{\"not\": \"a backup\"}";
  r = with_passphrase("cli test passphrase", {"key", "restore", "--wallet", "alice", "--db", db.string(), junk});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("not a bucketpay backup"), std::string::npos) << r.err;
  EXPECT_FALSE(any_store_file(db));
  // The right passphrase then restores into a new store.
  r = with_passphrase("cli test passphrase", {"key", "restore", "--wallet", "alice", "--db", db.string(), backup});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(db));

  // A restore that fails into an existing store leaves it there.
  r = with_passphrase("cli test passphrase", {"key", "restore", "--wallet", "alice", "--db", db.string(), junk});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("not a bucketpay backup"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(db));

  // An empty file is not turned into a store, nor removed.
  const std::filesystem::path empty = dir_ / "empty.db";
  std::ofstream(empty).close();
  r = with_passphrase("cli test passphrase", {"init", "--db", empty.string()});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
  ASSERT_TRUE(std::filesystem::exists(empty));
  EXPECT_EQ(std::filesystem::file_size(empty), 0U);
}

TEST_F(CliStore, InitOnATerminalAsksTwiceAndRefusesAWeakPassphrase) {
  const std::string db = (dir_ / "new.db").string();
  CliRun r = run_on_terminal({"init", "--db", db}, {"short"});
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("the passphrase has 5 characters; a new one needs 12 or more"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("again"), std::string::npos) << "refused before asking again: " << r.out;
  EXPECT_FALSE(std::filesystem::exists(db));

  r = run_on_terminal({"init", "--db", db}, {"a long passphrase", "a long passphrasE"});
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("the two passphrases differ"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(db));

  r = run_on_terminal({"init", "--db", db}, {"a long passphrase", "a long passphrase"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("the same passphrase again: "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("a long passphrase"), std::string::npos) << "echoed: " << r.out;
  // The store opens with it (and a script gives it in the environment).
  r = run_cli({"key", "show", "--db", db}, {{"BUCKETPAY_PASSPHRASE", "a long passphrase"}});
  EXPECT_EQ(r.status, 0) << r.err;

  const std::string weak_db = (dir_ / "weak.db").string();
  r = run_on_terminal({"init", "--db", weak_db, "--allow-weak-passphrase"}, {"short", "short"});
  EXPECT_EQ(r.status, 0) << r.out;
  // Scripts: a passphrase in the environment is taken as it is, asked nothing.
  r = run_cli({"init", "--db", (dir_ / "script.db").string()},
              {{"BUCKETPAY_PASSPHRASE", "short"}, {"BUCKETPAY_KDF", "fast"}});
  EXPECT_EQ(r.status, 0) << r.err;
}

// A file in the temporary directory, removed when the test ends.
struct TempFile {
  std::filesystem::path path;
  TempFile(const std::string& name, const std::string& text)
      : path(std::filesystem::temp_directory_path() /
             ("bucketpay-cli-test-" + std::to_string(::getpid()) + "-" + name)) {
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

TEST(Cli, InventoryPlanSimulatesAPolicyOverAmounts) {
  // Default: 100 random amounts, the default policy.
  CliRun r = run_cli({"inventory", "plan"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* line : {"100 random amounts", "notes ", "splits ", "proofs ", "payment gas", "rebalancing gas",
                           "deposit gas", "all-in gas"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in " << r.out;
  }
  // Five-cent payments from a five-cent policy: one note each, no odd change.
  std::string fives;
  for (int i = 0; i < 200; ++i) fives += "0.05\n";
  const TempFile amounts("amounts", fives);
  r = run_cli({"inventory", "plan", "--amounts", amounts.path.string(), "--policy",
               "5=20,10=4,20=2,40=1,80=0,160=0,320=0,640=0", "--deposit", "20.00", "--split-fee", "3", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["paid"].get<int>(), 200);
  EXPECT_DOUBLE_EQ(j["notes_per_payment"].get<double>(), 1.0);
  EXPECT_EQ(j["odd_notes_made"].get<int>(), 0);
  EXPECT_GT(j["rebalancing_gas_per_payment"].get<double>(), 0.0);
}

TEST(Cli, InventoryPlanBadInputIsOneLineAndExitTwo) {
  const TempFile negative("negative", "1.00\n-1\n");
  const TempFile three_decimals("three", "12.345\n");
  const TempFile exponent("exponent", "1e3\n");
  const TempFile empty("empty", "");
  const TempFile blank("blank", "1.00\n\n2.00\n");
  const std::vector<std::vector<std::string>> bad = {
      {"inventory", "plan", "--amounts", negative.path.string()},
      {"inventory", "plan", "--amounts", three_decimals.path.string()},
      {"inventory", "plan", "--amounts", exponent.path.string()},
      {"inventory", "plan", "--amounts", empty.path.string()},
      {"inventory", "plan", "--amounts", blank.path.string()},
      {"inventory", "plan", "--amounts", "/nonexistent/amounts.txt"},
      {"inventory", "plan", "--amounts", std::filesystem::temp_directory_path().string()},  // a directory
      {"inventory", "plan", "--policy", "5=1,5=2"},
      {"inventory", "plan", "--policy", "0=1"},
      {"inventory", "plan", "--deposit", "-5"},
      {"inventory", "plan", "--rebalance", "sometimes"},
      {"inventory", "plan", "--fee", "-1"},
  };
  for (const auto& args : bad) {
    const CliRun r = run_cli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.status, 2) << joined << " -> " << r.err;
    EXPECT_TRUE(r.out.empty()) << joined << " printed " << r.out;
    ASSERT_FALSE(r.err.empty()) << joined;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_EQ(r.err.rfind("bucketpay: error: ", 0), 0U) << r.err;
  }
}

TEST_F(CliStore, AWalletWithoutAChainIsSaidSo) {
  // (Not "wallet setting rpc_url is missing".)
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"inventory", "status"}, {"balance"}, {"history"}}) {
    std::vector<std::string> with_wallet = args;
    with_wallet.insert(with_wallet.end(), {"--wallet", "alice"});
    const CliRun r = run(with_wallet);
    EXPECT_EQ(r.status, 1) << args[0];
    EXPECT_NE(r.err.find("wallet alice has no chain"), std::string::npos) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
}

TEST_F(CliStore, SummariesCountInTheRightNumber) {
  ASSERT_EQ(run({"note", "add", "--wallet", "alice", "--value", "0.05", "--count", "1"}).status, 0);
  CliRun r = run({"precompute", "inventory", "--all", "--wallet", "alice", "--enqueue-only"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(": 1 job enqueued (0 precomputes already stored)"), std::string::npos) << r.out;
  ASSERT_EQ(run({"note", "add", "--wallet", "alice", "--value", "0.05", "--count", "2"}).status, 0);
  r = run({"precompute", "inventory", "--all", "--wallet", "alice", "--enqueue-only"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(": 2 jobs enqueued (0 precomputes already stored)"), std::string::npos) << r.out;
}

// ---- conventions: --json everywhere, short flags, colour, completions (src/cli/conventions.h)

// The command table the parser is built from, as `bucketpay help --json` prints it.
nlohmann::json command_table() {
  const CliRun r = run_cli({"help", "--json"});
  EXPECT_EQ(r.status, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

std::vector<std::string> words_of(const std::string& command) {
  std::vector<std::string> words;
  std::string word;
  for (char c : command + " ") {
    if (c == ' ') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  words.erase(words.begin());  // "bucketpay"
  return words;
}

bool has_option(const nlohmann::json& command, const std::string& name) {
  for (const auto& o : command["options"]) {
    for (const auto& n : o["names"]) {
      if (n == name) return true;
    }
  }
  return false;
}

TEST(CliConventions, EveryCommandTakesJsonAndAnErrorIsOneJsonObject) {
  const auto table = command_table();
  ASSERT_GT(table.size(), 30U);
  const auto home = std::filesystem::temp_directory_path() / ("bucketpay-cli-json-" + std::to_string(::getpid()));
  std::filesystem::create_directories(home);
  std::size_t errors = 0;
  for (const auto& command : table) {
    const std::string name = command["command"];
    for (const char* option : {"-j", "--json", "--color"})
      EXPECT_TRUE(has_option(command, option)) << name << " " << option;
    if (name == "bucketpay help") continue;  // answers with the table itself (above)
    // With no store behind $BUCKETPAY_DB, no node, no key and no passphrase: every command either
    // answers (a simulation, a fresh note) or fails, and either way stdout is one JSON value.
    std::vector<std::string> args = words_of(name);
    args.push_back(errors % 2 == 0 ? "--json" : "-j");
    const CliRun r = run_cli(args, {{"BUCKETPAY_DB", (home / "missing" / "w.db").string()},
                                    {"HOME", home.string()},
                                    {"ETH_RPC_URL", ""},
                                    {"BUCKETPAY_PASSPHRASE", ""}});
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << name << " printed: " << r.out << " / " << r.err;
    if (r.status != 0) {
      ++errors;
      ASSERT_TRUE(j.is_object()) << name << ": " << r.out;
      EXPECT_TRUE(j["error"].is_string() && !j["error"].get<std::string>().empty()) << name << ": " << r.out;
      EXPECT_EQ(j["exit_code"], r.status) << name;
      EXPECT_EQ(r.err.find("bucketpay: error"), std::string::npos) << name << ": " << r.err;
    }
  }
  EXPECT_GT(errors, 30U);
  std::filesystem::remove_all(home);
  // A usage error and an unknown command too, before any command runs.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"decompose", "12.345", "--json"}, {"--json", "frobnicate"}, {"-j"}}) {
    const CliRun r = run_cli(args);
    EXPECT_EQ(r.status, 2) << args[0];
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["exit_code"], 2);
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
  EXPECT_NE(nlohmann::json::parse(run_cli({"--json", "frobnicate"}).out)["error"].get<std::string>().find(
                "unknown command 'frobnicate'"),
            std::string::npos);
}

TEST(CliConventions, CommandsThatPrintedTextPrintJson) {
  const auto permute = nlohmann::json::parse(run_cli({"permute", "0", "0", "0", "0", "-j"}).out);
  EXPECT_EQ(permute["state"][0], kPermutationOfZeros0);
  const auto hash = nlohmann::json::parse(run_cli({"hash", "7", "--json"}).out);
  EXPECT_EQ(hash["hash"].get<std::string>() + "\n",
            run_cli({"permute", "7", "0", "0", "18446744073709551616"}).out.substr(0, 67));
  const auto version = nlohmann::json::parse(run_cli({"--version", "--json"}).out);
  EXPECT_EQ(version["version"], "0.1.0");
  const auto completions = nlohmann::json::parse(run_cli({"completions", "fish", "--json"}).out);
  EXPECT_EQ(completions["shell"], "fish");
  EXPECT_NE(completions["script"].get<std::string>().find("complete -c bucketpay"), std::string::npos);
}

TEST(CliConventions, ShortFlagsForTheCommonOptions) {
  const auto table = command_table();
  std::size_t with_store = 0;
  for (const auto& command : table) {
    if (has_option(command, "--db")) {
      ++with_store;
      EXPECT_TRUE(has_option(command, "-d")) << command["command"];
    }
    if (has_option(command, "--wallet")) {
      EXPECT_TRUE(has_option(command, "-w")) << command["command"];
    }
    if (has_option(command, "--rpc-url")) {
      EXPECT_TRUE(has_option(command, "-r")) << command["command"];
    }
  }
  EXPECT_GT(with_store, 20U);
}

TEST_F(CliStore, ShortFlagsWork) {
  CliRun r = run_cli({"precompute", "status", "-d", db_, "-w", "alice", "-j"},
                     {{"BUCKETPAY_PASSPHRASE", "cli test passphrase"}});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["notes"], 0);
  r = run_cli({"balance", "-d", db_, "-w", "bob", "-j"}, {{"BUCKETPAY_PASSPHRASE", "cli test passphrase"}});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(nlohmann::json::parse(r.out)["error"].get<std::string>().find("no wallet 'bob'"), std::string::npos);
  // -r is the node for this command: alice has no chain, which is what is said (not "-r not expected").
  r = run_cli({"balance", "-d", db_, "-w", "alice", "-r", "http://127.0.0.1:1"},
              {{"BUCKETPAY_PASSPHRASE", "cli test passphrase"}});
  EXPECT_NE(r.err.find("has no chain"), std::string::npos) << r.err;
}

TEST(CliConventions, ColourWhenAskedOrOnATerminalUnlessNoColor) {
  CliRun r = run_cli({"decompose", "12.345", "--color", "always"});
  EXPECT_EQ(r.err.rfind("bucketpay: \x1b[31merror:\x1b[0m ", 0), 0U) << r.err;
  r = run_cli({"decompose", "12.345", "--color=always"}, {{"NO_COLOR", "1"}});
  EXPECT_NE(r.err.find("\x1b[31m"), std::string::npos) << r.err;
  r = run_cli({"decompose", "12.345"});  // not a terminal
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  expect_usage_error(run_cli({"decompose", "1", "--color", "sometimes"}), "--color");
}

// `bucketpay ARGS` with stdout and stderr on a pseudo-terminal; returns all it wrote there.
std::string output_on_terminal(const std::vector<std::string>& args, bool no_color) {
  int master = -1;
  const pid_t pid =
      start_on_terminal(args, {{"NO_COLOR", no_color ? std::optional<std::string>("1") : std::nullopt}}, master);
  EXPECT_GT(pid, 0);
  std::string seen;
  char buf[256];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  return seen;
}

TEST(CliConventions, TerminalGetsColourAndNoColorTurnsItOff) {
  EXPECT_NE(output_on_terminal({"decompose", "-1"}, false).find("\x1b[31merror:"), std::string::npos);
  EXPECT_EQ(output_on_terminal({"decompose", "-1"}, true).find('\x1b'), std::string::npos);
  EXPECT_EQ(output_on_terminal({"decompose", "-1", "--color", "never"}, false).find('\x1b'), std::string::npos);
}

TEST(CliConventions, UsageLinesSayTheProgramNotItsPath) {
  // The test runs the binaries by their absolute paths.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"balance", "--help"}, {"inventory", "status", "--help"}, {"help", "balance"}}) {
    const CliRun r = run_cli(args);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.find(BUCKETPAY_CLI_BINARY), std::string::npos) << r.out;
    const std::string want = "Usage: bucketpay " + args[args[0] == "help" ? 1 : 0];
    EXPECT_NE(r.out.find(want), std::string::npos) << r.out;
  }
  const testing::ProcessOutput relay =
      testing::run_to_end({.argv = {BUCKETPAY_RELAY_BINARY, "--help"}, .env = {}, .cwd = {}, .stderr_path = {}});
  EXPECT_EQ(relay.status, 0) << relay.out;
  EXPECT_EQ(relay.out.find(BUCKETPAY_RELAY_BINARY), std::string::npos) << relay.out;
  EXPECT_NE(relay.out.find("Usage: bucketpay-relay"), std::string::npos) << relay.out;
}

// ---- completions: each script is run by its own shell (bash, zsh, fish from Debian) and offers
// what the command table holds, for every command.

std::string shell_output(const std::vector<std::string>& argv) {
  testing::ProcessOutput run = testing::run_to_end({.argv = argv, .env = {}, .cwd = {}, .stderr_path = {}});
  EXPECT_EQ(run.status, 0) << argv[0] << " " << argv.back() << ": " << run.out;
  return run.status == -1 ? "" : std::move(run.out);
}

bool shell_installed(const std::string& shell) { return std::filesystem::exists("/usr/bin/" + shell); }

// What the table says `bucketpay COMMAND <TAB>` offers: subcommands, option names, known values.
std::set<std::string> expected_offers(const nlohmann::json& command) {
  std::set<std::string> want;
  for (const auto& s : command["subcommands"]) want.insert(s.get<std::string>());
  for (const auto& o : command["options"]) {
    for (const auto& n : o["names"]) want.insert(n.get<std::string>());
  }
  if (command["command"] == "bucketpay completions") want.insert({"bash", "zsh", "fish"});
  return want;
}

std::map<std::string, std::set<std::string>> parse_offers(const std::string& out) {
  // Lines "@ COMMAND" then one offer per line.
  std::map<std::string, std::set<std::string>> offers;
  std::string current;
  std::size_t at = 0;
  while (at < out.size()) {
    const std::size_t nl = out.find('\n', at);
    std::string line = out.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? out.size() : nl + 1;
    if (line.rfind("@ ", 0) == 0) {
      current = line.substr(2);
      offers[current];
    } else if (!line.empty()) {
      offers[current].insert(line.substr(0, line.find('\t')));  // fish: "offer\tdescription"
    }
  }
  return offers;
}

TEST(CliCompletions, EachShellAcceptsItsScriptAndOffersTheWholeTable) {
  const auto table = command_table();
  const auto dir = std::filesystem::temp_directory_path() / ("bucketpay-completions-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const std::string shell : {"bash", "zsh", "fish"}) {
    if (!shell_installed(shell)) {
      ASSERT_NE(shell, "bash") << "bash is needed";
      GTEST_LOG_(WARNING) << shell << " is not installed (apt-get install " << shell << "): its script is not run";
      continue;
    }
    const CliRun r = run_cli({"completions", shell});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto script = dir / ("bucketpay." + shell);
    std::ofstream(script) << r.out;
    // The shell's own parser accepts it.
    shell_output({"/usr/bin/" + shell, "-n", script.string()});
    // Then, for every command, what <TAB> after it offers.
    std::string driver;
    for (const auto& command : table) {
      const std::string name = command["command"];
      std::string words = name + " ''";
      if (shell == "bash") {
        driver += "echo '@ " + name + "'; COMP_WORDS=(" + words +
                  "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                  "COMPREPLY=(); _bucketpay; printf '%s\\n' \"${COMPREPLY[@]}\"\n";
      } else if (shell == "zsh") {
        driver += "echo '@ " + name + "'; words=(" + words + "); CURRENT=${#words}; _bucketpay\n";
      } else {
        // fish offers options once the word starts with "-".
        driver += "echo '@ " + name + "'; complete -C '" + name + " '; complete -C '" + name + " -'\n";
      }
    }
    std::string program;
    if (shell == "bash") {
      program = "source " + script.string() + "\n" + driver;
    } else if (shell == "zsh") {
      // compdef and compadd are compsys's; stand-ins that record what would be offered.
      program = "compdef() { :; }\ncompadd() { [[ $1 == -- ]] && shift; print -rl -- \"$@\"; }\nsource " +
                script.string() + "\n" + driver;
    } else {
      program = "source " + script.string() + "\n" + driver;
    }
    const auto offers = parse_offers(shell_output({"/usr/bin/" + shell, "-c", program}));
    for (const auto& command : table) {
      const std::string name = command["command"];
      const std::set<std::string> want = expected_offers(command);
      std::set<std::string> got = offers.count(name) ? offers.at(name) : std::set<std::string>{};
      for (const auto& w : want) EXPECT_TRUE(got.count(w)) << shell << ": `" << name << " <TAB>` lacks " << w;
    }
    // An option's value is not a command: `inventory -w status <TAB>` is still at `inventory`
    // (a wallet named "status"), so `plan` is offered.
    const std::string words = "bucketpay inventory -w status ''";
    std::string probe = shell == "bash" ? "source " + script.string() + "; COMP_WORDS=(" + words +
                                              "); COMP_CWORD=4; _bucketpay; printf '%s\\n' \"${COMPREPLY[@]}\""
                        : shell == "zsh"
                            ? "compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -rl -- \"$@\"; }; "
                              "source " +
                                  script.string() + "; words=(" + words + "); CURRENT=5; _bucketpay"
                            : "source " + script.string() + "; complete -C 'bucketpay inventory -w status '";
    const auto after_value = parse_offers("@ x\n" + shell_output({"/usr/bin/" + shell, "-c", probe}))["x"];
    EXPECT_TRUE(after_value.count("plan")) << shell;
    // Known values: --color's.
    probe =
        shell == "bash" ? "source " + script.string() +
                              "; COMP_WORDS=(bucketpay balance --color ''); COMP_CWORD=3; _bucketpay; printf '%s\\n' "
                              "\"${COMPREPLY[@]}\""
        : shell == "zsh" ? "compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -rl -- \"$@\"; }; source " +
                               script.string() + "; words=(bucketpay balance --color ''); CURRENT=4; _bucketpay"
                         : "source " + script.string() + "; complete -C 'bucketpay balance --color '";
    const auto values = parse_offers("@ x\n" + shell_output({"/usr/bin/" + shell, "-c", probe}))["x"];
    EXPECT_EQ(values, (std::set<std::string>{"always", "auto", "never"})) << shell;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bucketpay
