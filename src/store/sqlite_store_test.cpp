#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "bucketpay/store.h"
#include "store_testing.h"

// What is the SQLite store's own: the bytes of its file, its pragmas, how the file is created (0600
// in 0700 directories, whole or not at all), a file that is no database or is empty, migration, the
// tokens file of an earlier version. The Store contract (leaves, notes, keys, precomputes, jobs,
// secrets, tokens, chain sync, payments, concurrency) runs over both backends, SQLite among them, in
// store_test.cpp.

namespace bucketpay {
namespace {

using store_testing::make_job;
using store_testing::make_note;
using store_testing::make_precompute;
using store_testing::must;

namespace fs = std::filesystem;

constexpr const char* kPassphrase = "test passphrase";

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bucketpay-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    file_ = dir_ / "sub" / "store.db";  // the parent directory is created by open
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<std::unique_ptr<Store>> try_open(std::optional<std::string> passphrase) {
    StoreOptions options;
    options.passphrase = std::move(passphrase);
    options.vault_params = VaultParams::fast();
    return open_sqlite_store(file_, options);
  }

  std::unique_ptr<Store> open(std::optional<std::string> passphrase = kPassphrase) {
    Result<std::unique_ptr<Store>> store = try_open(std::move(passphrase));
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs SQL on the file directly, behind the store's back (tampering, corrupting).
  void raw_sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  // The bytes of the database file and its WAL, as SQLite left them on disk.
  std::string raw_file_bytes() const {
    std::string all;
    for (const fs::path& p : {file_, fs::path(file_.string() + "-wal")}) {
      std::ifstream in(p, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  fs::path dir_;
  fs::path file_;
};

// ---- Secrets at rest: nothing of them in the database file or its WAL.

std::string hex_no_prefix(const Fr& f) { return f.to_hex().substr(2); }
std::string raw(const Fr& f) {
  const Fr::Bytes b = f.to_bytes();
  return {b.begin(), b.end()};
}

TEST_F(StoreTest, SecretsAreNotInTheFileInPlaintext) {
  store_testing::OneSecretOfEachKind put;
  {
    auto store = open();
    put = store_testing::store_one_secret_of_each_kind(*store);
    // While open (the WAL holds the data) and after close (checkpointed into the file).
    const std::string bytes = raw_file_bytes();
    ASSERT_NE(bytes.find(raw(put.note.commitment)), std::string::npos);  // public data is there
    for (const Fr& secret : put.secrets) {
      EXPECT_EQ(bytes.find(raw(secret)), std::string::npos);
      EXPECT_EQ(bytes.find(hex_no_prefix(secret)), std::string::npos);
    }
  }
  const std::string bytes = raw_file_bytes();
  ASSERT_NE(bytes.find(raw(put.note.commitment)), std::string::npos);
  for (const Fr& secret : put.secrets) {
    EXPECT_EQ(bytes.find(raw(secret)), std::string::npos);
    EXPECT_EQ(bytes.find(hex_no_prefix(secret)), std::string::npos);
  }
}

TEST_F(StoreTest, WithoutVaultSecretsArePlain) {
  // The control for the test above: the search does find an unsealed r.
  const StoredNote note = make_note("alice", 64, 0);
  {
    auto store = open(std::nullopt);
    ASSERT_TRUE(store->insert_note(note).ok());
    EXPECT_EQ(must(store->get_note(1)).r, note.r);
  }
  EXPECT_NE(raw_file_bytes().find(raw(note.r)), std::string::npos);
}

// ---- Schema and durability settings.

TEST_F(StoreTest, SchemaVersionAndPragmas) {
  { auto store = open(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
  auto scalar = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    std::string v(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    return v;
  };
  EXPECT_EQ(scalar("PRAGMA journal_mode"), "wal");  // persistent in the file
  EXPECT_EQ(scalar("PRAGMA user_version"), "7");
  sqlite3_close(db);

  // A newer schema than this build knows is refused, not touched.
  raw_sql("PRAGMA user_version = 99");
  Result<std::unique_ptr<Store>> newer = try_open(kPassphrase);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos);
}

// The write-ahead log: written pages stay in it (the database file does not grow) until a
// checkpoint copies them; checkpoint_log does below its threshold nothing, above it the copy; and
// without it the log is still checkpointed at 1,000 pages (the automatic checkpoint it replaces).
TEST_F(StoreTest, TheLogIsCheckpointedWhenAskedAboveItsThresholdAndAt1000Pages) {
  auto store = open(std::nullopt);
  const std::string value(64 * 1024, 'v');  // 16 pages of 4 kB
  auto put = [&](int from, int count) {
    for (int i = from; i < from + count; ++i)
      ASSERT_TRUE(store->put_setting("w", "k" + std::to_string(i), value).is_ok());
  };
  auto db_size = [&] { return fs::file_size(file_); };
  put(0, 1);
  ASSERT_TRUE(store->checkpoint_log(1).is_ok());
  const auto start = db_size();

  put(1, 20);  // about 320 pages, in the log only
  EXPECT_EQ(db_size(), start);
  ASSERT_TRUE(store->checkpoint_log(1000).is_ok());  // below the threshold: nothing
  EXPECT_EQ(db_size(), start);
  ASSERT_TRUE(store->checkpoint_log(256).is_ok());
  EXPECT_GE(db_size(), start + 20 * value.size()) << "the log's pages are in the database file";

  const auto after = db_size();
  put(21, 40);  // about 640 pages: under 1,000, no checkpoint yet
  EXPECT_EQ(db_size(), after);
  put(61, 30);  // past 1,000 pages: the commit that crosses it checkpoints what the log holds
  EXPECT_GT(db_size(), after + 50 * value.size());
}

TEST_F(StoreTest, NotADatabase) {
  fs::create_directories(file_.parent_path());
  std::ofstream(file_) << std::string(8192, 'x');
  EXPECT_EQ(try_open(kPassphrase).status().code(), StatusCode::kCorruption);
}

// ---- Migration from the first schema.

// Schema version 1 exactly as the first release created it (kMigrations[0] in sqlite.cpp).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value NOT NULL);
CREATE TABLE IF NOT EXISTS leaves(
  idx INTEGER PRIMARY KEY,
  value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS notes(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  wallet TEXT NOT NULL,
  pk BLOB NOT NULL,
  value INTEGER NOT NULL,
  r BLOB NOT NULL,
  leaf_index INTEGER,
  state TEXT NOT NULL CHECK (state IN ('pending', 'on_chain', 'spending', 'spent')),
  commitment BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  CHECK (state <> 'on_chain' OR leaf_index IS NOT NULL),
  CHECK (state <> 'pending' OR leaf_index IS NULL));
CREATE UNIQUE INDEX IF NOT EXISTS notes_by_leaf ON notes(leaf_index) WHERE leaf_index IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS notes_pending_by_commitment ON notes(commitment)
  WHERE leaf_index IS NULL;
CREATE INDEX IF NOT EXISTS notes_by_commitment ON notes(commitment);
CREATE INDEX IF NOT EXISTS notes_by_wallet_state ON notes(wallet, state);
CREATE TABLE IF NOT EXISTS secrets(
  wallet TEXT PRIMARY KEY,
  sk BLOB NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS precomputes(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  note_id INTEGER NOT NULL REFERENCES notes(id),
  circuit TEXT NOT NULL,
  amount INTEGER NOT NULL,
  recipient BLOB NOT NULL,
  public_inputs BLOB NOT NULL,
  proof BLOB NOT NULL,
  outputs BLOB,
  created_ms INTEGER NOT NULL,
  prove_ms REAL NOT NULL,
  worker INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS precomputes_by_note ON precomputes(note_id);
CREATE INDEX IF NOT EXISTS precomputes_by_circuit ON precomputes(circuit);
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  batch TEXT NOT NULL,
  circuit TEXT NOT NULL,
  spec BLOB,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
  tries INTEGER NOT NULL,
  error TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  worker INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, id);
CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs(batch, state);
)sql";

std::string blob_literal(const Fr& f) { return "X'" + hex_no_prefix(f) + "'"; }

BlockRef block_ref(std::uint64_t number, std::uint8_t tag) {
  BlockRef b;
  b.number = number;
  b.hash.fill(tag);
  return b;
}

TEST_F(StoreTest, MigratesAStoreOfTheFirstSchema) {
  fs::create_directories(file_.parent_path());
  const Fr leaf0 = Fr::random();
  const Fr leaf1 = Fr::random();
  const Fr pk = Fr::random();
  const Fr r = Fr::random();
  // A store made by the first release: two leaves, a note on leaf 1, a pending note (no vault).
  raw_sql(std::string(kSchemaV1) + "PRAGMA user_version = 1;" + "INSERT INTO leaves(idx, value) VALUES (0, " +
          blob_literal(leaf0) + "), (1, " + blob_literal(leaf1) + ");" +
          "INSERT INTO notes(wallet, pk, value, r, leaf_index, state, commitment, created_ms) VALUES ('w', " +
          blob_literal(pk) + ", 5, " + blob_literal(r) + ", 1, 'on_chain', " + blob_literal(leaf1) + ", 7), ('w', " +
          blob_literal(pk) + ", 6, " + blob_literal(r) + ", NULL, 'pending', " + blob_literal(leaf0) + ", 8);");

  auto store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(s, 0), 7);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  // The old data is all there, the old leaves unstamped (block 0, no root).
  EXPECT_EQ(must(store->load_leaves()), (std::vector<Fr>{leaf0, leaf1}));
  const std::vector<StoredNote> notes = must(store->list_notes("w", std::nullopt));
  ASSERT_EQ(notes.size(), 2U);
  EXPECT_EQ(notes[0].state, NoteState::kOnChain);
  EXPECT_EQ(notes[0].leaf_index, std::optional<std::uint64_t>(1));
  EXPECT_EQ(notes[0].r, r);
  EXPECT_EQ(notes[0].created_ms, 7);
  EXPECT_EQ(notes[1].state, NoteState::kPending);
  EXPECT_TRUE(must(store->known_roots()).empty());
  EXPECT_FALSE(must(store->sync_cursor()).has_value());
  EXPECT_TRUE(must(store->list_payments("w", std::nullopt)).empty());

  // And the new tables and columns work on it.
  ASSERT_TRUE(store->put_setting("w", "chain", "31337").is_ok());
  ChainUpdate u;
  const Fr root = Fr::random();
  u.leaves = {ChainLeaf{1, leaf1, 3, root}, ChainLeaf{2, leaf0, 4, root}};  // 1 is already there
  u.note_leaves = {{notes[1].id, 2}};
  u.blocks = {block_ref(4, 4)};
  u.cursor = block_ref(5, 5);
  ASSERT_TRUE(store->apply_chain_update(u).is_ok());
  EXPECT_EQ(must(store->known_roots()), std::vector<Fr>{root});
  Payment p;
  p.wallet = "w";
  p.kind = PaymentKind::kPay;
  p.note_ids = {notes[0].id};
  const std::int64_t id = must(store->begin_payment(p));
  EXPECT_EQ(must(store->get_payment(id)).note_ids, p.note_ids);
  // A rollback to before block 4 keeps the unstamped leaves.
  ASSERT_TRUE(store->rollback_chain(block_ref(3, 3)).is_ok());
  EXPECT_EQ(must(store->load_leaves()), (std::vector<Fr>{leaf0, leaf1}));
  EXPECT_EQ(must(store->get_note(notes[1].id)).state, NoteState::kPending);
  EXPECT_EQ(must(store->get_note(notes[0].id)).state, NoteState::kSpending);
  store.reset();
  // Reopened: nothing migrates twice.
  store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->get_setting("w", "chain")), std::optional<std::string>("31337"));
}

TEST_F(StoreTest, NamedSecretsAreNotInTheFileInPlaintext) {
  std::vector<std::uint8_t> secret(32);
  const Fr::Bytes random = Fr::random().to_bytes();
  std::copy(random.begin(), random.end(), secret.begin());
  const std::string as_text(secret.begin(), secret.end());
  {
    auto store = open();
    ASSERT_TRUE(store->put_secret("alice", "eth_key", secret).is_ok());
    EXPECT_EQ(must(store->get_secret("alice", "eth_key")), secret);
    EXPECT_EQ(raw_file_bytes().find(as_text), std::string::npos);
  }
  EXPECT_EQ(raw_file_bytes().find(as_text), std::string::npos);
  // The control: the same search finds a value stored as is (a setting is public).
  {
    auto store = open();
    ASSERT_TRUE(store->put_setting("alice", "public", as_text).is_ok());
  }
  EXPECT_NE(raw_file_bytes().find(as_text), std::string::npos);
  // Reopened with the passphrase, the secret opens; the name binds it.
  auto store = open();
  EXPECT_EQ(must(store->get_secret("alice", "eth_key")), secret);
  raw_sql(
      "INSERT INTO named_secrets(wallet, name, value, created_ms) "
      "SELECT wallet, 'other_key', value, created_ms FROM named_secrets");
  EXPECT_EQ(store->get_secret("alice", "other_key").status().code(), StatusCode::kCorruption);
}

// ---- Creating the file.

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST_F(StoreTest, ANewStoreIs0600InDirectoriesMade0700) {
  const mode_t old_umask = ::umask(022);  // the usual umask: without care, 0644 files and 0755 directories
  const fs::path existing = dir_ / "existing";
  fs::create_directories(existing);
  fs::permissions(existing, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
  file_ = existing / "made" / "deeper" / "store.db";
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->put_setting("w", "k", "v").is_ok());
    EXPECT_EQ(mode_of(file_), 0600U);
    EXPECT_EQ(mode_of(file_.string() + "-wal"), 0600U);  // SQLite gives its files the database's mode
    auto lock = store->lock("sender", std::chrono::milliseconds(100));
    ASSERT_TRUE(lock.ok()) << lock.status().to_string();
    EXPECT_EQ(mode_of(file_.string() + ".lock-sender"), 0600U);
  }
  ::umask(old_umask);
  EXPECT_EQ(mode_of(existing / "made"), 0700U);
  EXPECT_EQ(mode_of(existing / "made" / "deeper"), 0700U);
  EXPECT_EQ(mode_of(existing), 0755U);  // a directory that was there is left as it was
  // Nothing but the store (and its lock file) is left beside it: no temporary file of its making.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(file_.parent_path())) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"store.db", "store.db.lock-sender"}));
}

TEST_F(StoreTest, AnEmptyFileIsNotTurnedIntoAStore) {
  fs::create_directories(file_.parent_path());
  std::ofstream(file_).close();
  const Result<std::unique_ptr<Store>> store = try_open(kPassphrase);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().to_string();
  EXPECT_NE(store.status().message().find("is an empty file, not a store"), std::string::npos)
      << store.status().to_string();
  EXPECT_EQ(fs::file_size(file_), 0U);  // untouched
}

TEST_F(StoreTest, StoresOpenedAtOnceOnANewPathAreOneStore) {
  constexpr int kThreads = 6;
  std::vector<std::unique_ptr<Store>> stores(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        StoreOptions options;  // no vault: only the file's creation races
        Result<std::unique_ptr<Store>> store = open_sqlite_store(file_, options);
        EXPECT_TRUE(store.ok()) << store.status().to_string();
        if (store.ok()) stores[static_cast<std::size_t>(i)] = std::move(*store);
      });
    }
  }
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_NE(stores[static_cast<std::size_t>(i)], nullptr);
    ASSERT_TRUE(stores[static_cast<std::size_t>(i)]->put_setting("w", std::to_string(i), "x").is_ok());
  }
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(must(stores[0]->get_setting("w", std::to_string(i))), std::optional<std::string>("x"));
  }
}

// ---- The tokens file of an earlier version.

TEST_F(StoreTest, TheTokensFileOfAnEarlierVersionIsImportedOnce) {
  { auto store = open(); }  // a store from before, with its tokens beside it
  // The file as the earlier TokenStore wrote it: its schema, SHA-256 of each secret.
  const fs::path legacy = file_.string() + ".tokens";
  std::uint8_t secret[32];
  randombytes_buf(secret, sizeof secret);
  std::uint8_t hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, secret, sizeof secret);
  char secret_hex[65];
  char hash_hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(secret_hex, sizeof secret_hex, secret, sizeof secret);
  sodium_bin2hex(hash_hex, sizeof hash_hex, hash, sizeof hash);
  const std::string token = std::string("bpt_0123456789abcdef_") + secret_hex;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(legacy.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "PRAGMA journal_mode=WAL; CREATE TABLE tokens (id TEXT PRIMARY KEY, wallet TEXT NOT NULL, "
        "secret_sha256 BLOB NOT NULL, created_ms INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO tokens VALUES ('0123456789abcdef', 'alice', X'" +
        std::string(hash_hex) + "', 1700000000000, 0), ('fedcba9876543210', 'bob', X'" + hash_hex +
        "', 1700000000001, 1);";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    // They could do everything: they keep scope spend.
    EXPECT_EQ(must(store->authenticate_token(token)), (TokenStore::TokenGrant{"alice", TokenScope::kSpend}));
    const std::vector<TokenStore::TokenInfo> tokens = must(store->list_tokens());
    ASSERT_EQ(tokens.size(), 2U);
    EXPECT_EQ(tokens[0],
              (TokenStore::TokenInfo{"0123456789abcdef", "alice", 1'700'000'000'000, false, TokenScope::kSpend}));
    EXPECT_EQ(tokens[1],
              (TokenStore::TokenInfo{"fedcba9876543210", "bob", 1'700'000'000'001, true, TokenScope::kSpend}));
    ASSERT_TRUE(store->revoke_token("0123456789abcdef").is_ok());
  }
  // Read once: the file is renamed, and a revocation since then stands.
  EXPECT_FALSE(fs::exists(legacy));
  EXPECT_TRUE(fs::exists(legacy.string() + ".imported"));
  auto store = open();
  EXPECT_EQ(store->authenticate_token(token).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(must(store->list_tokens()).size(), 2U);
}

TEST_F(StoreTest, AnUnreadableTokensFileIsNamedInTheError) {
  { auto store = open(); }
  std::ofstream(file_.string() + ".tokens") << std::string(8192, 'x');
  const Result<std::unique_ptr<Store>> store = try_open(kPassphrase);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(file_.string() + ".tokens"), std::string::npos) << store.status().to_string();
}

}  // namespace
}  // namespace bucketpay
