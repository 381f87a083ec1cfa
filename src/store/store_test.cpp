#include "bucketpay/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store/store_testing.h"

// What is the SQLite store's own: the bytes of its file, its pragmas, a file that is no database,
// migration. The Store contract (leaves, notes, keys, precomputes, jobs, secrets, chain sync,
// payments, concurrency) runs over both backends, SQLite among them, in src/pgstore/pgstore_test.cpp.

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
  const StoredNote note = make_note("alice", 64, 0);
  const Fr sk = Fr::random();
  const Fr out_r = Fr::random();
  const Fr spec_secret = Fr::random();
  {
    auto store = open();
    const std::int64_t id = must(store->insert_note(note));
    ASSERT_TRUE(store->put_spending_key("alice", sk).is_ok());
    Precompute p = make_precompute("pc", id, "split");
    p.outputs_json = R"([{"pk":"0x01","v":3,"r":")" + out_r.to_hex() + R"("}])";
    ASSERT_TRUE(store->insert_precompute(p).ok());
    Job j = make_job("job");
    j.spec_json = R"({"r":")" + spec_secret.to_hex() + R"("})";
    ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{j})), 1);

    // While open (the WAL holds the data) and after close (checkpointed into the file).
    const std::string bytes = raw_file_bytes();
    ASSERT_NE(bytes.find(raw(note.commitment)), std::string::npos);  // public data is there
    for (const Fr& secret : {note.r, sk, out_r, spec_secret}) {
      EXPECT_EQ(bytes.find(raw(secret)), std::string::npos);
      EXPECT_EQ(bytes.find(hex_no_prefix(secret)), std::string::npos);
    }
  }
  const std::string bytes = raw_file_bytes();
  ASSERT_NE(bytes.find(raw(note.commitment)), std::string::npos);
  for (const Fr& secret : {note.r, sk, out_r, spec_secret}) {
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
  EXPECT_EQ(scalar("PRAGMA user_version"), "3");
  sqlite3_close(db);

  // A newer schema than this build knows is refused, not touched.
  raw_sql("PRAGMA user_version = 99");
  Result<std::unique_ptr<Store>> newer = try_open(kPassphrase);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos);
}

TEST_F(StoreTest, NotADatabase) {
  fs::create_directories(file_.parent_path());
  std::ofstream(file_) << std::string(8192, 'x');
  EXPECT_EQ(try_open(kPassphrase).status().code(), StatusCode::kCorruption);
}

// ---- Migration from the first schema.

// Schema version 1 exactly as the first release created it (kMigrations[0] in sqlite_store.cpp).
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
    EXPECT_EQ(sqlite3_column_int(s, 0), 3);
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
  p.kind = "pay";
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

}  // namespace
}  // namespace bucketpay
