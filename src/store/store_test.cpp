// The Store contract, run against both backends: the SQLite store and the PostgreSQL store on a
// real throwaway cluster (pg_test_cluster.h): every scenario a Store must pass, over a Backend that
// hides where the data lives and how to reach behind the store's back (tampering, reading raw
// columns). What is one backend's own is in sqlite_store_test.cpp and pg_store_test.cpp.
#include "bucketpay/store.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bucketpay/pg_store.h"
#include "pg_test_cluster.h"
#include "sql.h"
#include "store_testing.h"

namespace bucketpay {
namespace {

using store_testing::make_job;
using store_testing::make_note;
using store_testing::make_payment;
using store_testing::make_precompute;
using store_testing::must;

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

const ::testing::Environment* const kCluster =
    ::testing::AddGlobalTestEnvironment(new pgtest::ClusterEnvironment);  // owned by GoogleTest

constexpr const char* kPassphrase = "test passphrase";

// Where a store's data lives, and raw access to it.
class Backend {
 public:
  virtual ~Backend() = default;
  // Opens the backend's one database (the same data on every call until reset()).
  virtual Result<std::unique_ptr<Store>> open(const StoreOptions& options) = 0;
  // Drops all data: the next open() starts from nothing.
  virtual void reset() = 0;
  // Every value of `column` in `table`, as stored (NULLs skipped).
  virtual std::vector<Bytes> raw_column(const std::string& table, const std::string& column) = 0;
  // Flips a bit in the last byte of every value of a BLOB/BYTEA column.
  virtual void flip_last_byte(const std::string& table, const std::string& column) = 0;
  // Sets `column` of the rows where key_column = to to its value where key_column = from.
  virtual void copy_value(const std::string& table, const std::string& column, const std::string& key_column,
                          const std::string& from, const std::string& to) = 0;
  // Marks the stored schema as version `v`.
  virtual void set_schema_version(int v) = 0;
  // Runs SQL on the database directly, behind the store's back.
  virtual void exec_sql(const std::string& sql) = 0;
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() { reset(); }
  ~SqliteBackend() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<std::unique_ptr<Store>> open(const StoreOptions& options) override {
    return open_sqlite_store(dir_ / "store.db", options);
  }
  void reset() override {
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
    std::string tmpl = (fs::temp_directory_path() / "bucketpay-store-sqlite-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = tmpl;
  }
  std::vector<Bytes> raw_column(const std::string& table, const std::string& column) override {
    std::vector<Bytes> out;
    sqlite3* db = open_raw();
    sqlite3_stmt* s = nullptr;
    const std::string sql = "SELECT " + column + " FROM " + table + " WHERE " + column + " IS NOT NULL";
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (sqlite3_step(s) == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
      out.emplace_back(p, p + sqlite3_column_bytes(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }
  void flip_last_byte(const std::string& table, const std::string& column) override {
    const std::string& c = column;
    exec("UPDATE " + table + " SET " + c + " = substr(" + c + ", 1, length(" + c + ") - 1) || CASE WHEN substr(" + c +
         ", -1) = x'00' THEN x'01' ELSE x'00' END");
  }
  void copy_value(const std::string& table, const std::string& column, const std::string& key_column,
                  const std::string& from, const std::string& to) override {
    exec("UPDATE " + table + " SET " + column + " = (SELECT " + column + " FROM " + table + " WHERE " + key_column +
         " = '" + from + "') WHERE " + key_column + " = '" + to + "'");
  }
  void set_schema_version(int v) override { exec("PRAGMA user_version = " + std::to_string(v)); }
  void exec_sql(const std::string& sql) override { exec(sql); }

 private:
  sqlite3* open_raw() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
    return db;
  }
  void exec(const std::string& sql) {
    sqlite3* db = open_raw();
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  fs::path dir_;
};

class PgBackend final : public Backend {
 public:
  PgBackend() { reset(); }

  Result<std::unique_ptr<Store>> open(const StoreOptions& options) override {
    Result<std::unique_ptr<PgStore>> store = open_pg_store(db_->url(), options);
    if (!store.ok()) {
      return store.status();
    }
    return std::unique_ptr<Store>(std::move(*store));
  }
  void reset() override {
    db_.reset();
    db_ = std::make_unique<pgtest::FreshDatabase>();
  }
  std::vector<Bytes> raw_column(const std::string& table, const std::string& column) override {
    std::vector<Bytes> out;
    for (const pqxx::row& row :
         db_->exec("SELECT " + column + " FROM " + table + " WHERE " + column + " IS NOT NULL")) {
      const pqxx::binarystring b(row[0]);
      out.emplace_back(b.data(), b.data() + b.size());
    }
    return out;
  }
  void flip_last_byte(const std::string& table, const std::string& column) override {
    const std::string& c = column;
    db_->exec("UPDATE " + table + " SET " + c + " = set_byte(" + c + ", length(" + c + ") - 1, get_byte(" + c +
              ", length(" + c + ") - 1) # 1)");
  }
  void copy_value(const std::string& table, const std::string& column, const std::string& key_column,
                  const std::string& from, const std::string& to) override {
    db_->exec("UPDATE " + table + " SET " + column + " = (SELECT " + column + " FROM " + table + " WHERE " +
              key_column + "::text = '" + from + "') WHERE " + key_column + "::text = '" + to + "'");
  }
  void set_schema_version(int v) override {
    db_->exec("INSERT INTO meta(key, value) VALUES ('schema_version', convert_to('" + std::to_string(v) +
              "', 'UTF8')) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
  }
  void exec_sql(const std::string& sql) override { db_->exec(sql); }

 private:
  std::unique_ptr<pgtest::FreshDatabase> db_;
};

enum class Kind { kSqlite, kPostgres };

class StoreContractTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kSqlite) {
      backend_ = std::make_unique<SqliteBackend>();
    } else {
      backend_ = std::make_unique<PgBackend>();
    }
  }

  Result<std::unique_ptr<Store>> try_open(std::optional<std::string> passphrase) {
    StoreOptions options;
    options.passphrase = std::move(passphrase);
    options.vault_params = VaultParams::fast();
    return backend_->open(options);
  }

  std::unique_ptr<Store> open(std::optional<std::string> passphrase = kPassphrase) {
    Result<std::unique_ptr<Store>> store = try_open(std::move(passphrase));
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::unique_ptr<Backend> backend_;
};

bool contains(const Bytes& haystack, std::span<const std::uint8_t> needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}
bool contains(const Bytes& haystack, std::string_view needle) {
  return contains(haystack, std::span(reinterpret_cast<const std::uint8_t*>(needle.data()), needle.size()));
}

// ---- Leaves.

TEST_P(StoreContractTest, LeavesAppendInOrder) {
  auto store = open();
  EXPECT_EQ(must(store->leaf_count()), 0U);
  const std::vector<Fr> a = {Fr::random(), Fr::random(), Fr::zero()};
  const std::vector<Fr> b = {Fr::random(), Fr::from_u64(7)};
  EXPECT_EQ(must(store->append_leaves(a)), 0U);
  EXPECT_EQ(must(store->append_leaves(b)), 3U);
  EXPECT_EQ(must(store->append_leaves({})), 5U);
  EXPECT_EQ(must(store->leaf_count()), 5U);
  std::vector<Fr> all = a;
  all.insert(all.end(), b.begin(), b.end());
  EXPECT_EQ(must(store->load_leaves()), all);

  // A batch larger than one statement's chunk.
  std::vector<Fr> many;
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    many.push_back(Fr::from_u64(i * 7919));
    all.push_back(many.back());
  }
  EXPECT_EQ(must(store->append_leaves(many)), 5U);
  EXPECT_EQ(must(store->load_leaves()), all);
}

TEST_P(StoreContractTest, ConcurrentAppendsNeverCollide) {
  auto store_a = open();
  auto store_b = open();
  std::vector<std::jthread> threads;
  std::atomic<int> errors{0};
  for (Store* s : {store_a.get(), store_b.get()}) {
    threads.emplace_back([s, &errors] {
      for (int i = 0; i < 20; ++i) {
        if (!s->append_leaves(std::vector<Fr>{Fr::random(), Fr::random()}).ok()) {
          ++errors;
        }
      }
    });
  }
  threads.clear();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(must(store_a->leaf_count()), 80U);
  EXPECT_EQ(must(store_b->load_leaves()).size(), 80U);
}

// ---- Notes.

TEST_P(StoreContractTest, NoteRoundTripAndQueries) {
  auto store = open();
  StoredNote n1 = make_note("alice", 64);
  StoredNote n2 = make_note("alice", ~std::uint64_t{0}, 5);  // the largest value survives
  StoredNote n3 = make_note("bob", 1, 6);
  n1.id = must(store->insert_note(n1));
  n2.id = must(store->insert_note(n2));
  n3.id = must(store->insert_note(n3));
  EXPECT_LT(n1.id, n2.id);

  EXPECT_EQ(must(store->get_note(n1.id)), n1);
  EXPECT_EQ(must(store->get_note(n2.id)), n2);
  EXPECT_EQ(store->get_note(999).status().code(), StatusCode::kNotFound);

  EXPECT_EQ(must(store->find_notes_by_commitment(n2.commitment)), std::vector<StoredNote>{n2});
  EXPECT_TRUE(must(store->find_notes_by_commitment(Fr::random())).empty());

  EXPECT_EQ(must(store->list_notes("alice", std::nullopt)), (std::vector<StoredNote>{n1, n2}));
  EXPECT_EQ(must(store->list_notes("alice", NoteState::kOnChain)), std::vector<StoredNote>{n2});
  EXPECT_EQ(must(store->list_notes("alice", NoteState::kPending)), std::vector<StoredNote>{n1});
  EXPECT_TRUE(must(store->list_notes("carol", std::nullopt)).empty());

  // created_ms is filled in when not given.
  StoredNote n4 = make_note("alice", 2);
  n4.created_ms = 0;
  const std::int64_t id4 = must(store->insert_note(n4));
  EXPECT_GT(must(store->get_note(id4)).created_ms, 1'700'000'000'000);
}

TEST_P(StoreContractTest, NoteStateTransitions) {
  auto store = open();
  const std::int64_t id = must(store->insert_note(make_note("alice", 8)));

  // Pending without a leaf: cannot be on chain yet.
  EXPECT_EQ(store->set_note_state(id, NoteState::kOnChain).code(), StatusCode::kFailedPrecondition);
  // The leaf arrives: pending becomes on_chain.
  ASSERT_TRUE(store->set_note_leaf_index(id, 42).is_ok());
  StoredNote n = must(store->get_note(id));
  EXPECT_EQ(n.leaf_index, std::optional<std::uint64_t>(42));
  EXPECT_EQ(n.state, NoteState::kOnChain);
  EXPECT_TRUE(store->set_note_leaf_index(id, 42).is_ok());
  EXPECT_EQ(store->set_note_leaf_index(id, 43).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->set_note_leaf_index(999, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->set_note_state(id, NoteState::kPending).code(), StatusCode::kFailedPrecondition);

  // Two payments race to reserve it: one wins.
  EXPECT_TRUE(store->transition_note_state(id, NoteState::kOnChain, NoteState::kSpending).is_ok());
  EXPECT_EQ(store->transition_note_state(id, NoteState::kOnChain, NoteState::kSpending).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store->set_note_state(id, NoteState::kSpent).is_ok());
  EXPECT_EQ(must(store->get_note(id)).state, NoteState::kSpent);
  EXPECT_EQ(store->set_note_state(999, NoteState::kSpent).code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, NoteInsertValidates) {
  auto store = open();
  EXPECT_EQ(store->insert_note(make_note("", 1)).status().code(), StatusCode::kInvalidArgument);
  StoredNote on_chain_no_leaf = make_note("a", 1);
  on_chain_no_leaf.state = NoteState::kOnChain;
  EXPECT_EQ(store->insert_note(on_chain_no_leaf).status().code(), StatusCode::kInvalidArgument);
  StoredNote pending_with_leaf = make_note("a", 1, 3);
  pending_with_leaf.state = NoteState::kPending;
  EXPECT_EQ(store->insert_note(pending_with_leaf).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreContractTest, NoteDuplicates) {
  auto store = open();
  const StoredNote pending = make_note("alice", 4);
  ASSERT_TRUE(store->insert_note(pending).ok());
  // The same pending note twice.
  EXPECT_EQ(store->insert_note(pending).status().code(), StatusCode::kAlreadyExists);

  // The same commitment at two leaves (deposited twice) is allowed, beside the pending one.
  StoredNote at5 = pending;
  at5.leaf_index = 5;
  at5.state = NoteState::kOnChain;
  StoredNote at6 = at5;
  at6.leaf_index = 6;
  ASSERT_TRUE(store->insert_note(at5).ok());
  ASSERT_TRUE(store->insert_note(at6).ok());
  EXPECT_EQ(store->insert_note(at5).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->find_notes_by_commitment(pending.commitment)).size(), 3U);
  // A leaf holds one note.
  EXPECT_EQ(store->insert_note(make_note("alice", 4, 5)).status().code(), StatusCode::kAlreadyExists);
  const std::int64_t other = must(store->insert_note(make_note("bob", 4)));
  EXPECT_EQ(store->set_note_leaf_index(other, 6).code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(must(store->get_note(other)).leaf_index.has_value());
}

// ---- Spending keys.

TEST_P(StoreContractTest, SpendingKeysNeedAVault) {
  auto store = open(std::nullopt);
  EXPECT_FALSE(store->has_vault());
  EXPECT_EQ(store->put_spending_key("alice", Fr::random()).code(), StatusCode::kFailedPrecondition);
}

TEST_P(StoreContractTest, SpendingKeyRoundTripNeverOverwritten) {
  auto store = open();
  EXPECT_TRUE(store->has_vault());
  const Fr sk = Fr::random();
  ASSERT_TRUE(store->put_spending_key("alice", sk).is_ok());
  EXPECT_EQ(must(store->get_spending_key("alice")), sk);
  EXPECT_EQ(store->put_spending_key("alice", Fr::random()).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->get_spending_key("alice")), sk);
  EXPECT_EQ(store->get_spending_key("bob").status().code(), StatusCode::kNotFound);
}

// ---- Precomputes.

TEST_P(StoreContractTest, PrecomputeRoundTrip) {
  auto store = open();
  const std::int64_t note1 = must(store->insert_note(make_note("alice", 64, 0)));
  const std::int64_t note2 = must(store->insert_note(make_note("alice", 64, 1)));
  Precompute a = make_precompute("k-a", note1);
  Precompute b = make_precompute("k-b", note1, CircuitKind::kSplit);
  Precompute c = make_precompute("k-c", note2);
  c.proof.clear();
  c.outputs_json.clear();
  c.public_inputs.clear();
  a.id = must(store->insert_precompute(a));
  b.id = must(store->insert_precompute(b));
  c.id = must(store->insert_precompute(c));

  EXPECT_EQ(must(store->find_precompute("k-a")), std::optional<Precompute>(a));
  EXPECT_EQ(must(store->find_precompute("k-c")), std::optional<Precompute>(c));
  EXPECT_EQ(must(store->find_precompute("nope")), std::nullopt);
  EXPECT_EQ(must(store->list_precomputes_for_note(note1)), (std::vector<Precompute>{a, b}));
  EXPECT_EQ(must(store->list_precomputes_by_circuit(CircuitKind::kSpend)), (std::vector<Precompute>{a, c}));
  EXPECT_EQ(must(store->list_precomputes_by_circuit(CircuitKind::kSplit)), std::vector<Precompute>{b});
  EXPECT_EQ(must(store->count_precomputes()), 3);

  EXPECT_EQ(store->insert_precompute(a).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->insert_precompute(make_precompute("k-x", 999)).status().code(), StatusCode::kNotFound);
  Precompute bad_json = make_precompute("k-y", note1);
  bad_json.outputs_json = "{not json";
  EXPECT_EQ(store->insert_precompute(bad_json).status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(must(store->delete_precomputes_for_note(note1)), 2);
  EXPECT_EQ(must(store->count_precomputes()), 1);
  EXPECT_EQ(must(store->find_precompute("k-a")), std::nullopt);
  EXPECT_EQ(must(store->delete_precomputes_for_note(note1)), 0);
}

// ---- Jobs.

TEST_P(StoreContractTest, EnqueueIsIdempotentOnKey) {
  auto store = open();
  const std::int64_t note = must(store->insert_note(make_note("alice", 64, 0)));
  const std::vector<Job> first = {make_job("j1"), make_job("j2"), make_job("j3")};
  EXPECT_EQ(must(store->enqueue_jobs(first)), 3);
  // A repeat changes nothing; only the new key is added (a duplicate within one call counts once).
  Job changed = make_job("j1", "other batch");
  changed.spec_json = R"({"changed":true})";
  const std::vector<Job> second = {changed, make_job("j2"), make_job("j4"), make_job("j4")};
  EXPECT_EQ(must(store->enqueue_jobs(second)), 1);
  const std::vector<Job> jobs = must(store->list_jobs(std::nullopt));
  ASSERT_EQ(jobs.size(), 4U);
  EXPECT_EQ(jobs[0].key, "j1");
  EXPECT_EQ(jobs[0].batch, "b1");
  EXPECT_EQ(jobs[0].spec_json, make_job("j1").spec_json);
  EXPECT_EQ(jobs[3].key, "j4");

  // A done job is not re-queued.
  const Job claimed = must(store->claim_next_job(1)).value();
  ASSERT_TRUE(store->complete_job(claimed.id, make_precompute("", note)).ok());
  EXPECT_EQ(must(store->enqueue_jobs(first)), 0);
  EXPECT_EQ(must(store->get_job(claimed.id)).state, JobState::kDone);

  // All or nothing: one bad job rejects the whole call.
  Job bad = make_job("j9");
  bad.spec_json = "{";
  const std::vector<Job> mixed = {make_job("j8"), bad};
  EXPECT_EQ(store->enqueue_jobs(mixed).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(must(store->job_counts(std::nullopt)).total(), 4);

  // An empty spec stays empty.
  Job no_spec = make_job("j10");
  no_spec.spec_json.clear();
  ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{no_spec})), 1);
  EXPECT_EQ(must(store->list_jobs(std::nullopt)).back().spec_json, "");
}

TEST_P(StoreContractTest, ClaimCompleteFailRetryCycle) {
  auto store = open();
  const std::int64_t note = must(store->insert_note(make_note("alice", 64, 0)));
  const std::vector<Job> jobs = {make_job("a", "b1"), make_job("b", "b1"), make_job("c", "b2")};
  ASSERT_EQ(must(store->enqueue_jobs(jobs)), 3);
  EXPECT_EQ(must(store->job_counts("b1")), (JobCounts{2, 0, 0, 0}));

  // Oldest first; claiming marks running and counts the try.
  Job a = must(store->claim_next_job(7)).value();
  EXPECT_EQ(a.key, "a");
  EXPECT_EQ(a.state, JobState::kRunning);
  EXPECT_EQ(a.tries, 1);
  EXPECT_EQ(a.worker, 7);
  EXPECT_EQ(a.spec_json, jobs[0].spec_json);
  EXPECT_EQ(must(store->job_counts("b1")), (JobCounts{1, 1, 0, 0}));

  // A transient failure: back to pending; it keeps its id, so it is the oldest and claimed next.
  ASSERT_TRUE(store->fail_job(a.id, "bb crashed", false).is_ok());
  const Job after_fail = must(store->get_job(a.id));
  EXPECT_EQ(after_fail.state, JobState::kPending);
  EXPECT_EQ(after_fail.error, "bb crashed");
  EXPECT_EQ(store->fail_job(a.id, "again", false).code(), StatusCode::kFailedPrecondition);
  a = must(store->claim_next_job(8)).value();
  EXPECT_EQ(a.key, "a");
  EXPECT_EQ(a.tries, 2);
  EXPECT_EQ(a.worker, 8);

  // Done.
  const std::int64_t pid = must(store->complete_job(a.id, make_precompute("", note)));
  const Job done = must(store->get_job(a.id));
  EXPECT_EQ(done.state, JobState::kDone);
  EXPECT_EQ(done.error, "");
  EXPECT_EQ(must(store->find_precompute("a")).value().id, pid);
  EXPECT_EQ(store->complete_job(a.id, make_precompute("", note)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->fail_job(a.id, "late", true).code(), StatusCode::kFailedPrecondition);

  // A permanent failure.
  Job b = must(store->claim_next_job(1)).value();
  EXPECT_EQ(b.key, "b");
  ASSERT_TRUE(store->fail_job(b.id, "bad witness", true).is_ok());
  EXPECT_EQ(must(store->get_job(b.id)).state, JobState::kFailed);
  EXPECT_EQ(store->complete_job(b.id, make_precompute("", note)).status().code(), StatusCode::kFailedPrecondition);

  EXPECT_EQ(must(store->claim_next_job(1)).value().key, "c");
  EXPECT_EQ(must(store->claim_next_job(1)), std::nullopt);
  EXPECT_EQ(must(store->job_counts("b1")), (JobCounts{0, 0, 1, 1}));
  EXPECT_EQ(must(store->job_counts("b2")), (JobCounts{0, 1, 0, 0}));
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{0, 1, 1, 1}));
  EXPECT_EQ(must(store->list_jobs("b2")).size(), 1U);
  EXPECT_EQ(store->fail_job(999, "x", true).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->get_job(999).status().code(), StatusCode::kNotFound);
}

// A run proving one request's jobs claims among their keys only: another request's (another
// wallet's) pending jobs stay pending for their own run.
TEST_P(StoreContractTest, AClaimAmongKeysTakesOnlyThoseJobsOldestFirst) {
  auto store = open();
  const std::vector<Job> jobs = {make_job("alice-1", "alice-job"), make_job("bob-1", "bob-job"),
                                 make_job("alice-2", "alice-job"), make_job("bob-2", "bob-job")};
  ASSERT_EQ(must(store->enqueue_jobs(jobs)), 4);
  const std::vector<std::string> alice = {"alice-2", "no-such-job", "alice-1", "alice-2"};

  EXPECT_EQ(must(store->claim_next_job_among({}, 1)), std::nullopt);  // no keys: nothing
  const Job first = must(store->claim_next_job_among(alice, 3)).value();
  EXPECT_EQ(first.key, "alice-1");  // the oldest of those keys, whatever their order
  EXPECT_EQ(first.state, JobState::kRunning);
  EXPECT_EQ(first.tries, 1);
  EXPECT_EQ(first.worker, 3);
  EXPECT_EQ(first.spec_json, jobs[0].spec_json);
  EXPECT_EQ(must(store->claim_next_job_among(alice, 3)).value().key, "alice-2");
  // Alice's are all claimed: Bob's are not hers to take.
  EXPECT_EQ(must(store->claim_next_job_among(alice, 3)), std::nullopt);
  EXPECT_EQ(must(store->job_counts("bob-job")), (JobCounts{2, 0, 0, 0}));

  // A retried job (pending again) is claimed among its keys again.
  ASSERT_TRUE(store->fail_job(first.id, "bb crashed", false).is_ok());
  EXPECT_EQ(must(store->claim_next_job_among(alice, 4)).value().key, "alice-1");

  // Many keys (more than one statement binds): the one pending job among them is found.
  std::vector<std::string> many;
  for (int i = 0; i < 1200; ++i) many.push_back("absent-" + std::to_string(i));
  many.emplace_back("bob-2");
  EXPECT_EQ(must(store->claim_next_job_among(many, 5)).value().key, "bob-2");
  EXPECT_EQ(must(store->claim_next_job(6)).value().key, "bob-1");  // the unscoped claim takes any
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{0, 4, 0, 0}));
}

TEST_P(StoreContractTest, CompleteIsAtomic) {
  auto store = open();
  const std::int64_t note = must(store->insert_note(make_note("alice", 64, 0)));
  ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("k")})), 1);
  const Job job = must(store->claim_next_job(1)).value();

  // Unknown job: no precompute row.
  EXPECT_EQ(store->complete_job(999, make_precompute("", note)).status().code(), StatusCode::kNotFound);
  // A key that is not the job's.
  EXPECT_EQ(store->complete_job(job.id, make_precompute("other", note)).status().code(), StatusCode::kInvalidArgument);
  // The precompute cannot be stored (its note does not exist): the job stays running.
  EXPECT_EQ(store->complete_job(job.id, make_precompute("k", 999)).status().code(), StatusCode::kNotFound);
  // The precompute's key is taken: rolled back too.
  ASSERT_TRUE(store->insert_precompute(make_precompute("k", note)).ok());
  EXPECT_EQ(store->complete_job(job.id, make_precompute("k", note)).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->count_precomputes()), 1);
  EXPECT_EQ(must(store->get_job(job.id)).state, JobState::kRunning);

  ASSERT_EQ(must(store->delete_precomputes_for_note(note)), 1);
  EXPECT_EQ(must(store->count_precomputes()), 0);
  ASSERT_TRUE(store->complete_job(job.id, make_precompute("k", note)).ok());
  EXPECT_EQ(must(store->count_precomputes()), 1);
  EXPECT_EQ(must(store->get_job(job.id)).state, JobState::kDone);
}

TEST_P(StoreContractTest, ResetRunningJobsAfterACrash) {
  {
    auto store = open();
    ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("a"), make_job("b"), make_job("c")})), 3);
    ASSERT_TRUE(must(store->claim_next_job(1)).has_value());
    ASSERT_TRUE(must(store->claim_next_job(2)).has_value());
    // The process "dies" with two jobs running.
  }
  auto store = open();
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{1, 2, 0, 0}));
  EXPECT_EQ(must(store->reset_running_jobs()), 2);
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{3, 0, 0, 0}));
  const Job a = must(store->claim_next_job(3)).value();
  EXPECT_EQ(a.key, "a");
  EXPECT_EQ(a.tries, 2);  // tries kept, plus this claim
  EXPECT_EQ(must(store->reset_running_jobs()), 1);
}

TEST_P(StoreContractTest, RetryFailedJobsRequeuesThemWithFreshTries) {
  auto store = open();
  const std::int64_t note = must(store->insert_note(make_note("alice", 64, 0)));
  ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("a"), make_job("b"), make_job("c")})), 3);
  const Job a = must(store->claim_next_job(1)).value();
  const Job b = must(store->claim_next_job(1)).value();
  ASSERT_TRUE(store->fail_job(a.id, "bb crashed", /*permanent=*/true).is_ok());
  ASSERT_TRUE(store->complete_job(b.id, make_precompute("", note)).ok());
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{1, 0, 1, 1}));
  // Only failed jobs move, and only those named: the done and pending ones stay as they are.
  const std::vector<std::string> other = {"b", "c", "z"};
  EXPECT_EQ(must(store->retry_failed_jobs(other)), 0);
  const std::vector<std::string> named = {"a", "b"};
  EXPECT_EQ(must(store->retry_failed_jobs(named)), 1);
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{2, 0, 1, 0}));
  const Job again = must(store->get_job(a.id));
  EXPECT_EQ(again.state, JobState::kPending);
  EXPECT_EQ(again.tries, 0);
  EXPECT_EQ(again.error, "");
  const Job a2 = must(store->claim_next_job(2)).value();
  EXPECT_EQ(a2.key, "a");  // it keeps its place in the queue
  ASSERT_TRUE(store->fail_job(a2.id, "out of memory", /*permanent=*/true).is_ok());
  EXPECT_EQ(must(store->retry_failed_jobs({})), 1);  // every failed job
  EXPECT_EQ(must(store->get_job(a.id)).state, JobState::kPending);
}

TEST_P(StoreContractTest, ReopenKeepsEverything) {
  StoredNote note = make_note("alice", 128, 0);
  const Fr sk = Fr::random();
  const std::vector<Fr> leaves = {note.commitment, Fr::random()};
  Precompute p = make_precompute("", 0);
  Job job = make_job("k1");
  {
    auto store = open();
    ASSERT_EQ(must(store->append_leaves(leaves)), 0U);
    note.id = must(store->insert_note(note));
    ASSERT_TRUE(store->put_spending_key("alice", sk).is_ok());
    ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{job, make_job("k2")})), 2);
    job = must(store->claim_next_job(4)).value();
    p.note_id = note.id;
    p.id = must(store->complete_job(job.id, p));
    p.key = job.key;
  }
  auto store = open();
  EXPECT_TRUE(store->has_vault());
  EXPECT_EQ(must(store->load_leaves()), leaves);
  EXPECT_EQ(must(store->get_note(note.id)), note);
  EXPECT_EQ(must(store->get_spending_key("alice")), sk);
  EXPECT_EQ(must(store->find_precompute("k1")), std::optional<Precompute>(p));
  const Job done = must(store->get_job(job.id));
  EXPECT_EQ(done.state, JobState::kDone);
  EXPECT_EQ(done.spec_json, job.spec_json);
  EXPECT_EQ(must(store->claim_next_job(1)).value().key, "k2");
}

// ---- Secrets at rest: the raw columns, read behind the store's back.

TEST_P(StoreContractTest, SecretsAreNotStoredInPlaintext) {
  store_testing::OneSecretOfEachKind put;
  {
    auto store = open();
    put = store_testing::store_one_secret_of_each_kind(*store);
  }
  const std::vector<std::pair<std::string, std::string>> secret_columns = {
      {"notes", "r"}, {"secrets", "sk"}, {"precomputes", "outputs"}, {"jobs", "spec"}};
  for (const auto& [table, column] : secret_columns) {
    const std::vector<Bytes> values = backend_->raw_column(table, column);
    ASSERT_EQ(values.size(), 1U) << table << "." << column;
    EXPECT_EQ(values[0][0], Vault::kVersion) << table << "." << column << " is not sealed";
    for (const Fr& secret : put.secrets) {
      const Fr::Bytes raw = secret.to_bytes();
      EXPECT_FALSE(contains(values[0], raw)) << table << "." << column;
      EXPECT_FALSE(contains(values[0], secret.to_hex().substr(2))) << table << "." << column;
    }
  }
  // The public commitment is there as is (the check above looks in the right place).
  const std::vector<Bytes> commitments = backend_->raw_column("notes", "commitment");
  ASSERT_EQ(commitments.size(), 1U);
  EXPECT_TRUE(contains(commitments[0], put.note.commitment.to_bytes()));
}

TEST_P(StoreContractTest, WithoutVaultSecretsArePlain) {
  const StoredNote note = make_note("alice", 64, 0);
  {
    auto store = open(std::nullopt);
    ASSERT_TRUE(store->insert_note(note).ok());
    EXPECT_EQ(must(store->get_note(1)).r, note.r);
  }
  const std::vector<Bytes> rs = backend_->raw_column("notes", "r");
  ASSERT_EQ(rs.size(), 1U);
  EXPECT_TRUE(contains(rs[0], note.r.to_bytes()));
}

TEST_P(StoreContractTest, WrongOrMissingPassphraseRefused) {
  { auto store = open(); }
  Result<std::unique_ptr<Store>> wrong = try_open("not the passphrase");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("wrong passphrase"), std::string::npos);
  Result<std::unique_ptr<Store>> none = try_open(std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("passphrase"), std::string::npos);
  EXPECT_TRUE(try_open(kPassphrase).ok());
}

TEST_P(StoreContractTest, VaultOnlyAddedToAStoreWithoutSecrets) {
  { auto store = open(std::nullopt); }
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->has_vault());
  }
  backend_->reset();
  {
    auto store = open(std::nullopt);
    ASSERT_TRUE(store->insert_note(make_note("alice", 1)).ok());
  }
  EXPECT_EQ(try_open(kPassphrase).status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(StoreContractTest, TamperedCiphertextRefused) {
  std::int64_t id = 0;
  {
    auto store = open();
    id = must(store->insert_note(make_note("alice", 64, 0)));
    ASSERT_TRUE(store->put_spending_key("alice", Fr::random()).is_ok());
  }
  // Flip the last byte (in the tag) of the sealed r and sk.
  backend_->flip_last_byte("notes", "r");
  backend_->flip_last_byte("secrets", "sk");
  auto store = open();
  EXPECT_EQ(store->get_note(id).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store->list_notes("alice", std::nullopt).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store->get_spending_key("alice").status().code(), StatusCode::kCorruption);
}

TEST_P(StoreContractTest, SealedValuesAreBoundToTheirRecord) {
  std::int64_t id1 = 0;
  std::int64_t id2 = 0;
  {
    auto store = open();
    id1 = must(store->insert_note(make_note("alice", 64, 0)));
    id2 = must(store->insert_note(make_note("alice", 64, 1)));
    ASSERT_TRUE(store->put_spending_key("alice", Fr::random()).is_ok());
    ASSERT_TRUE(store->put_spending_key("mallory", Fr::random()).is_ok());
    ASSERT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("j1"), make_job("j2")})), 2);
  }
  // Copy note 1's sealed r onto note 2, alice's key onto mallory, job 1's spec onto job 2.
  backend_->copy_value("notes", "r", "id", std::to_string(id1), std::to_string(id2));
  backend_->copy_value("secrets", "sk", "wallet", "alice", "mallory");
  backend_->copy_value("jobs", "spec", "key", "j1", "j2");
  auto store = open();
  EXPECT_TRUE(store->get_note(id1).ok());
  EXPECT_EQ(store->get_note(id2).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(store->get_spending_key("alice").ok());
  EXPECT_EQ(store->get_spending_key("mallory").status().code(), StatusCode::kCorruption);

  // A job whose spec cannot be opened is failed for good, so the queue moves on.
  EXPECT_EQ(must(store->claim_next_job(1)).value().key, "j1");
  EXPECT_EQ(store->claim_next_job(1).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(must(store->job_counts(std::nullopt)), (JobCounts{0, 1, 0, 1}));
  EXPECT_EQ(must(store->claim_next_job(1)), std::nullopt);
}

TEST_P(StoreContractTest, NewerSchemaRefused) {
  { auto store = open(); }
  { auto again = open(); }  // the same version: opens, migrates nothing
  backend_->set_schema_version(99);
  Result<std::unique_ptr<Store>> newer = try_open(kPassphrase);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos) << newer.status().to_string();
}

// Workers on two stores (as two processes would) drain the queue together: every job is claimed
// and completed exactly once.
// Workers on one Store and on a second one over the same database (as another process would)
// drain the queue together: every job is claimed and completed exactly once.
TEST_P(StoreContractTest, ConcurrentClaimsHandEachJobOnce) {
  constexpr int kJobs = 120;
  constexpr int kThreadsPerStore = 3;
  auto store_a = open();
  auto store_b = open();
  ASSERT_NE(store_a, nullptr);
  ASSERT_NE(store_b, nullptr);
  const std::int64_t note = must(store_a->insert_note(make_note("alice", 64, 0)));
  std::vector<Job> jobs;
  for (int i = 0; i < kJobs; ++i) {
    jobs.push_back(make_job("job-" + std::to_string(i)));
  }
  ASSERT_EQ(must(store_a->enqueue_jobs(jobs)), kJobs);

  std::mutex mu;
  std::map<std::string, int> claims;
  std::atomic<int> errors{0};
  auto work = [&](Store* store, int worker) {
    while (true) {
      Result<std::optional<Job>> job = store->claim_next_job(worker);
      if (!job.ok()) {
        ++errors;
        ADD_FAILURE() << job.status().to_string();
        return;
      }
      if (!job->has_value()) {
        return;
      }
      {
        const std::lock_guard lock(mu);
        ++claims[(*job)->key];
      }
      Precompute p = make_precompute("", note);
      p.worker = worker;
      if (!store->complete_job((*job)->id, p).ok()) {
        ++errors;
      }
    }
  };
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreadsPerStore; ++t) {
      threads.emplace_back(work, store_a.get(), t);
      threads.emplace_back(work, store_b.get(), 100 + t);
    }
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claims.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [key, n] : claims) {
    EXPECT_EQ(n, 1) << key;
  }
  EXPECT_EQ(must(store_a->job_counts(std::nullopt)), (JobCounts{0, 0, kJobs, 0}));
  EXPECT_EQ(must(store_b->count_precomputes()), kJobs);
  for (const Job& j : must(store_b->list_jobs(std::nullopt))) {
    EXPECT_EQ(j.tries, 1) << j.key;
  }
}

// ---- Wallet state: settings, named secrets, chain sync, the payments journal.

TEST_P(StoreContractTest, SettingsUpsert) {
  auto store = open();
  EXPECT_FALSE(must(store->get_setting("w", "pool")).has_value());
  ASSERT_TRUE(store->put_setting("w", "pool", "0xabc").is_ok());
  ASSERT_TRUE(store->put_setting("other", "pool", "0xdef").is_ok());
  EXPECT_EQ(must(store->get_setting("w", "pool")), std::optional<std::string>("0xabc"));
  ASSERT_TRUE(store->put_setting("w", "pool", "0x123").is_ok());
  EXPECT_EQ(must(store->get_setting("w", "pool")), std::optional<std::string>("0x123"));
  EXPECT_EQ(must(store->get_setting("other", "pool")), std::optional<std::string>("0xdef"));
}

TEST_P(StoreContractTest, NamedSecretsSealedNeverOverwrittenAndBound) {
  const Bytes key = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  {
    auto plain = open(std::nullopt);
    EXPECT_EQ(plain->put_secret("w", "eth_key", key).code(), StatusCode::kFailedPrecondition);
  }
  backend_->reset();
  auto store = open();
  ASSERT_TRUE(store->put_secret("w", "eth_key", key).is_ok());
  EXPECT_EQ(store->put_secret("w", "eth_key", Bytes{1}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(must(store->get_secret("w", "eth_key")), key);
  EXPECT_EQ(store->get_secret("w", "other").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->get_secret("x", "eth_key").status().code(), StatusCode::kNotFound);
  const std::vector<Bytes> raw = backend_->raw_column("named_secrets", "value");
  ASSERT_EQ(raw.size(), 1U);
  EXPECT_EQ(raw[0][0], Vault::kVersion);
  EXPECT_FALSE(contains(raw[0], key));
  // A sealed value copied to another wallet's row does not open there.
  ASSERT_TRUE(store->put_secret("v", "eth_key", Bytes{9, 9}).is_ok());
  backend_->copy_value("named_secrets", "value", "wallet", "w", "v");
  EXPECT_EQ(store->get_secret("v", "eth_key").status().code(), StatusCode::kCorruption);
}

BlockRef block_ref(std::uint64_t number, std::uint8_t tag) {
  BlockRef b;
  b.number = number;
  b.hash.fill(tag);
  return b;
}

TEST_P(StoreContractTest, ChainUpdatesApplyOnceAndCheckTheirLeaves) {
  auto store = open();
  const std::int64_t mine = must(store->insert_note(make_note("w", 4)));
  const std::int64_t spent_later = must(store->insert_note(make_note("w", 8, 0)));
  ASSERT_TRUE(store->insert_precompute(make_precompute("pc8", spent_later)).ok());
  const StoredNote n = must(store->get_note(mine));
  EXPECT_FALSE(must(store->sync_cursor()).has_value());

  ChainUpdate u;
  const Fr other = Fr::random();
  const Fr root1 = Fr::random();
  u.leaves = {ChainLeaf{1, other, 10, root1}, ChainLeaf{2, n.commitment, 10, root1}};
  u.note_leaves = {{mine, 2}};
  u.spent = {{spent_later, 11}};
  u.blocks = {block_ref(10, 0xa), block_ref(11, 0xb)};
  u.cursor = block_ref(12, 0xc);
  // The tree already has leaf 0; the update brings 1 and 2.
  ASSERT_EQ(must(store->append_leaves(std::vector<Fr>{Fr::from_u64(7)})), 0U);
  ASSERT_TRUE(store->apply_chain_update(u).is_ok());
  EXPECT_EQ(must(store->leaf_count()), 3U);
  EXPECT_EQ(must(store->get_note(mine)).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->get_note(mine)).leaf_index, std::optional<std::uint64_t>(2));
  EXPECT_EQ(must(store->get_note(spent_later)).state, NoteState::kSpent);
  EXPECT_TRUE(must(store->list_precomputes_for_note(spent_later)).empty());
  EXPECT_EQ(must(store->sync_cursor()), std::optional<BlockRef>(block_ref(12, 0xc)));
  EXPECT_EQ(must(store->recent_blocks(10)), (std::vector<BlockRef>{block_ref(11, 0xb), block_ref(10, 0xa)}));
  EXPECT_EQ(must(store->recent_blocks(1)).size(), 1U);
  EXPECT_EQ(must(store->known_roots()), std::vector<Fr>{root1});

  // Re-applied (a crash before the caller saw the result): nothing changes, nothing fails.
  ASSERT_TRUE(store->apply_chain_update(u).is_ok());
  EXPECT_EQ(must(store->leaf_count()), 3U);
  // A different leaf at a stored index, or a gap: refused, and nothing of that update is kept.
  ChainUpdate bad;
  bad.leaves = {ChainLeaf{3, Fr::random(), 13, Fr::random()}, ChainLeaf{2, Fr::random(), 13, Fr::random()}};
  bad.cursor = block_ref(13, 0xd);
  EXPECT_EQ(store->apply_chain_update(bad).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(must(store->leaf_count()), 3U);
  EXPECT_EQ(must(store->sync_cursor()), std::optional<BlockRef>(block_ref(12, 0xc)));
  ChainUpdate gap;
  gap.leaves = {ChainLeaf{5, Fr::random(), 13, Fr::random()}};
  gap.cursor = block_ref(13, 0xd);
  EXPECT_EQ(store->apply_chain_update(gap).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(must(store->leaf_count()), 3U);
}

TEST_P(StoreContractTest, LockIsExclusiveAcrossStoresUntilReleased) {
  auto first = open();
  auto second = open();
  ASSERT_TRUE(first && second);
  using std::chrono::milliseconds;
  auto held = first->lock("sender:0xabc", milliseconds(1000));
  ASSERT_TRUE(held.ok()) << held.status().to_string();
  // Another handle on the same store waits, then gives up with kUnavailable naming the lock.
  const auto t0 = std::chrono::steady_clock::now();
  auto refused = second->lock("sender:0xabc", milliseconds(150));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().to_string().find("sender:0xabc"), std::string::npos) << refused.status().to_string();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(150));
  // Not reentrant, even through the same handle.
  EXPECT_EQ(first->lock("sender:0xabc", milliseconds(20)).status().code(), StatusCode::kUnavailable);
  // Another name is another lock.
  auto other = second->lock("sender:0xdef", milliseconds(100));
  EXPECT_TRUE(other.ok()) << other.status().to_string();
  // Released: a waiter gets it as soon as it is free.
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(100));
    held->reset();
  });
  auto waited = second->lock("sender:0xabc", milliseconds(5000));
  release.join();
  EXPECT_TRUE(waited.ok()) << waited.status().to_string();
}

TEST_P(StoreContractTest, ReopenedPaymentIsInFlightAgain) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 1, 0)));
  const std::int64_t b = must(store->insert_note(make_note("w", 2, 1)));
  const std::int64_t other = must(store->insert_note(make_note("w", 4, 2)));
  Payment p = make_payment({a, b});
  const std::int64_t id = must(store->begin_payment(p));
  EXPECT_EQ(store->reopen_payment(id).code(), StatusCode::kFailedPrecondition) << "prepared, not confirmed";
  const Bytes raw = {2, 0xf8, 0x01};
  ASSERT_TRUE(store->record_payment_signed(id, "0xabcd", raw, 7, 1.25).is_ok());
  ASSERT_TRUE(store->mark_payment_submitted(id).is_ok());
  ASSERT_TRUE(store->confirm_payment(id, 750000, 42).is_ok());
  ASSERT_EQ(must(store->get_note(a)).state, NoteState::kSpent);

  ASSERT_TRUE(store->reopen_payment(id).is_ok());
  ASSERT_TRUE(store->reopen_payment(id).is_ok()) << "idempotent";
  const Payment again = must(store->get_payment(id));
  EXPECT_EQ(again.state, PaymentState::kSubmitted);
  EXPECT_EQ(again.block, 0U);
  EXPECT_EQ(again.gas_used, 0U);
  EXPECT_EQ(again.raw_tx, raw) << "the signed transaction is kept, to be sent again";
  for (std::int64_t n : {a, b}) EXPECT_EQ(must(store->get_note(n)).state, NoteState::kSpending) << n;
  EXPECT_EQ(must(store->get_note(other)).state, NoteState::kOnChain);
  // Its notes stay reserved: no other payment can take them.
  Payment q = p;
  q.note_ids = {a};
  EXPECT_EQ(store->begin_payment(q).status().code(), StatusCode::kFailedPrecondition);
  // Settled again: confirmed at its new block, or failed with its notes released.
  ASSERT_TRUE(store->confirm_payment(id, 750001, 45).is_ok());
  EXPECT_EQ(must(store->get_payment(id)).block, 45U);
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kSpent);
  ASSERT_TRUE(store->reopen_payment(id).is_ok());
  ASSERT_TRUE(store->fail_payment(id, "never mined", {}, 0).is_ok());
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kOnChain);
  EXPECT_EQ(store->reopen_payment(id).code(), StatusCode::kFailedPrecondition) << "failed";
  EXPECT_EQ(store->reopen_payment(424242).code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, PaymentJournalLifecycle) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 1, 0)));
  const std::int64_t b = must(store->insert_note(make_note("w", 2, 1)));
  const std::int64_t c = must(store->insert_note(make_note("w", 4, 2)));
  ASSERT_TRUE(store->insert_precompute(make_precompute("pa", a)).ok());
  ASSERT_TRUE(store->enqueue_jobs(std::vector<Job>{make_job("pa")}).ok());

  Payment p = make_payment({a, b});
  const std::int64_t id = must(store->begin_payment(p));
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kSpending);
  // The same note in a second payment: refused, and nothing of it reserved.
  Payment q = p;
  q.note_ids = {c, b};
  EXPECT_EQ(store->begin_payment(q).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(must(store->get_note(c)).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->list_payments("w", std::nullopt)).size(), 1U);

  EXPECT_EQ(store->mark_payment_submitted(id).code(), StatusCode::kFailedPrecondition) << "not signed yet";
  EXPECT_EQ(store->confirm_payment(id, 1, 1).code(), StatusCode::kFailedPrecondition);
  const Bytes raw = {2, 0xf8, 0x01};
  ASSERT_TRUE(store->record_payment_signed(id, "0xabcd", raw, 7, 1.25).is_ok());
  EXPECT_EQ(store->record_payment_signed(id, "0xabcd", raw, 7, 1.25).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->mark_payment_submitted(id).is_ok());
  ASSERT_TRUE(store->mark_payment_submitted(id).is_ok()) << "idempotent";
  EXPECT_EQ(must(store->list_payments("w", PaymentState::kSubmitted)).size(), 1U);
  ASSERT_TRUE(store->confirm_payment(id, 750000, 42).is_ok());
  ASSERT_TRUE(store->confirm_payment(id, 750000, 42).is_ok()) << "idempotent";
  const Payment done = must(store->get_payment(id));
  EXPECT_EQ(done.state, PaymentState::kConfirmed);
  EXPECT_EQ(done.note_ids, (std::vector<std::int64_t>{a, b}));
  EXPECT_EQ(done.raw_tx, raw);
  EXPECT_EQ(done.tx_hash, "0xabcd");
  EXPECT_EQ(done.nonce, 7U);
  EXPECT_EQ(done.gas_used, 750000U);
  EXPECT_EQ(done.block, 42U);
  EXPECT_DOUBLE_EQ(done.latency_ms, 1.25);
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kSpent);
  EXPECT_EQ(must(store->get_note(b)).state, NoteState::kSpent);
  EXPECT_TRUE(must(store->list_precomputes_for_note(a)).empty());
  EXPECT_EQ(store->fail_payment(id, "late", {}, 0).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->get_payment(999).status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, FailedPaymentReleasesNotesAndDropsItsPendingOutputs) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 8, 0)));
  const std::int64_t b = must(store->insert_note(make_note("w", 2, 1)));
  const std::int64_t change = must(store->insert_note(make_note("w", 5)));
  Payment p;
  p.wallet = "w";
  p.kind = PaymentKind::kSplit;
  p.amount = 3;
  p.note_ids = {a, b};
  p.new_note_ids = {change};
  const std::int64_t id = must(store->begin_payment(p));
  ASSERT_TRUE(store->record_payment_signed(id, "0x01", Bytes{1}, 0, 0).is_ok());
  // b's nullifier turned out to be on chain already (spent by someone holding its proof).
  const std::vector<std::int64_t> spent = {b};
  ASSERT_TRUE(store->fail_payment(id, "reverted: NullifierAlreadySpent", spent, 9).is_ok());
  ASSERT_TRUE(store->fail_payment(id, "again", {}, 0).is_ok()) << "idempotent";
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->get_note(b)).state, NoteState::kSpent);
  EXPECT_EQ(store->get_note(change).status().code(), StatusCode::kNotFound);
  const Payment f = must(store->get_payment(id));
  EXPECT_EQ(f.state, PaymentState::kFailed);
  EXPECT_EQ(f.error, "reverted: NullifierAlreadySpent");
  // A payment stopped before signing is released the same way.
  Payment q;
  q.wallet = "w";
  q.kind = PaymentKind::kPay;
  q.note_ids = {a};
  const std::int64_t id2 = must(store->begin_payment(q));
  ASSERT_TRUE(store->fail_payment(id2, "stopped before it was signed", {}, 0).is_ok());
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kOnChain);
}

TEST_P(StoreContractTest, RollbackUndoesWhatVanishedBlocksTaught) {
  auto store = open();
  const std::int64_t early = must(store->insert_note(make_note("w", 1)));
  const std::int64_t late = must(store->insert_note(make_note("w", 2)));
  const std::int64_t paid = must(store->insert_note(make_note("w", 4)));
  const Fr r1 = Fr::random();
  const Fr r2 = Fr::random();
  ChainUpdate u1;
  u1.leaves = {ChainLeaf{0, must(store->get_note(early)).commitment, 10, r1},
               ChainLeaf{1, must(store->get_note(paid)).commitment, 10, r1}};
  u1.note_leaves = {{early, 0}, {paid, 1}};
  u1.blocks = {block_ref(10, 1)};
  u1.cursor = block_ref(10, 1);
  ASSERT_TRUE(store->apply_chain_update(u1).is_ok());
  ChainUpdate u2;
  u2.leaves = {ChainLeaf{2, must(store->get_note(late)).commitment, 12, r2}};
  u2.note_leaves = {{late, 2}};
  u2.blocks = {block_ref(12, 2)};
  u2.cursor = block_ref(13, 3);
  ASSERT_TRUE(store->apply_chain_update(u2).is_ok());
  ASSERT_TRUE(store->insert_precompute(make_precompute("late-proof", late)).ok());
  // `paid` is spent by a payment mined in block 12; `early` is seen spent by someone else in 13.
  Payment p;
  p.wallet = "w";
  p.kind = PaymentKind::kPay;
  p.note_ids = {paid};
  const std::int64_t id = must(store->begin_payment(p));
  ASSERT_TRUE(store->record_payment_signed(id, "0x02", Bytes{2}, 1, 0).is_ok());
  ASSERT_TRUE(store->confirm_payment(id, 800000, 12).is_ok());
  ChainUpdate u3;
  u3.spent = {{early, 13}};
  u3.cursor = block_ref(14, 4);
  u3.blocks = {block_ref(13, 3), block_ref(14, 4)};
  ASSERT_TRUE(store->apply_chain_update(u3).is_ok());
  EXPECT_EQ(must(store->known_roots()), (std::vector<Fr>{r1, r2}));

  // Blocks after 10 vanish.
  ASSERT_TRUE(store->rollback_chain(block_ref(10, 1)).is_ok());
  EXPECT_EQ(must(store->leaf_count()), 2U);
  EXPECT_EQ(must(store->known_roots()), std::vector<Fr>{r1});
  EXPECT_EQ(must(store->sync_cursor()), std::optional<BlockRef>(block_ref(10, 1)));
  EXPECT_EQ(must(store->recent_blocks(10)), std::vector<BlockRef>{block_ref(10, 1)});
  const StoredNote l = must(store->get_note(late));
  EXPECT_EQ(l.state, NoteState::kPending);
  EXPECT_FALSE(l.leaf_index.has_value());
  EXPECT_TRUE(must(store->list_precomputes_for_note(late)).empty());
  EXPECT_EQ(must(store->get_note(early)).state, NoteState::kOnChain) << "its spend vanished";
  EXPECT_EQ(must(store->get_note(paid)).state, NoteState::kSpending) << "its payment is in flight again";
  const Payment again = must(store->get_payment(id));
  EXPECT_EQ(again.state, PaymentState::kSubmitted);
  EXPECT_EQ(again.block, 0U);
  // The job of a dropped proof is gone too: the same key can be proved again.
  EXPECT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("late-proof")})), 1);
  // delete_precompute drops one proof and its job.
  ASSERT_TRUE(store->insert_precompute(make_precompute("early-proof", early)).ok());
  ASSERT_TRUE(store->enqueue_jobs(std::vector<Job>{make_job("early-proof")}).ok());
  ASSERT_TRUE(store->delete_precompute("early-proof").is_ok());
  EXPECT_EQ(store->delete_precompute("early-proof").code(), StatusCode::kNotFound);
  EXPECT_EQ(must(store->enqueue_jobs(std::vector<Job>{make_job("early-proof")})), 1);
}

TEST_P(StoreContractTest, ChainUpdateIsAllOrNothing) {
  auto store = open();
  const std::int64_t other = must(store->insert_note(make_note("w", 8)));
  const std::int64_t mine = must(store->insert_note(make_note("w", 4)));
  const Fr r0 = Fr::random();
  ChainUpdate u0;
  u0.leaves = {ChainLeaf{0, must(store->get_note(other)).commitment, 5, r0}};
  u0.note_leaves = {{other, 0}};
  u0.blocks = {block_ref(5, 5)};
  u0.cursor = block_ref(5, 5);
  ASSERT_TRUE(store->apply_chain_update(u0).is_ok());
  ASSERT_TRUE(store->insert_precompute(make_precompute("p-other", other)).ok());

  // Leaf 1 appended and `mine` placed on it, then a note that is missing: none of it stays.
  ChainUpdate bad;
  bad.leaves = {ChainLeaf{0, must(store->get_note(other)).commitment, 5, r0},
                ChainLeaf{1, must(store->get_note(mine)).commitment, 6, Fr::random()}};
  bad.note_leaves = {{mine, 1}, {999999, 2}};
  bad.blocks = {block_ref(6, 6)};
  bad.cursor = block_ref(7, 7);
  EXPECT_FALSE(store->apply_chain_update(bad).is_ok());
  // A note already at another leaf: refused the same way.
  bad.note_leaves = {{mine, 1}, {other, 1}};
  EXPECT_FALSE(store->apply_chain_update(bad).is_ok());
  // A note spent before a leaf that differs from the stored one.
  ChainUpdate bad2;
  bad2.spent = {{other, 6}};
  bad2.leaves = {ChainLeaf{1, Fr::random(), 6, Fr::random()}, ChainLeaf{0, Fr::random(), 6, Fr::random()}};
  bad2.cursor = block_ref(7, 7);
  EXPECT_EQ(store->apply_chain_update(bad2).code(), StatusCode::kFailedPrecondition);

  EXPECT_EQ(must(store->leaf_count()), 1U);
  EXPECT_EQ(must(store->known_roots()), std::vector<Fr>{r0});
  const StoredNote m = must(store->get_note(mine));
  EXPECT_EQ(m.state, NoteState::kPending);
  EXPECT_FALSE(m.leaf_index.has_value());
  EXPECT_EQ(must(store->get_note(other)).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->list_precomputes_for_note(other)).size(), 1U);
  EXPECT_EQ(must(store->sync_cursor()), std::optional<BlockRef>(block_ref(5, 5)));
  EXPECT_EQ(must(store->recent_blocks(10)), std::vector<BlockRef>{block_ref(5, 5)});

  // The good part of it applies; applied again (spent included), nothing changes.
  ChainUpdate good;
  good.leaves = bad.leaves;
  good.note_leaves = {{mine, 1}};
  good.spent = {{other, 6}};
  good.blocks = {block_ref(6, 6)};
  good.cursor = block_ref(7, 7);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(store->apply_chain_update(good).is_ok()) << i;
    EXPECT_EQ(must(store->leaf_count()), 2U);
    EXPECT_EQ(must(store->get_note(mine)).state, NoteState::kOnChain);
    EXPECT_EQ(must(store->get_note(other)).state, NoteState::kSpent);
    EXPECT_TRUE(must(store->list_precomputes_for_note(other)).empty());
    EXPECT_EQ(must(store->recent_blocks(10)), (std::vector<BlockRef>{block_ref(6, 6), block_ref(5, 5)}));
    EXPECT_EQ(must(store->known_roots()).size(), 2U);
  }
}

TEST_P(StoreContractTest, RollbackCutsTheTreeAndRestoresSpentMarks) {
  auto store = open();
  std::vector<std::int64_t> n;
  ChainUpdate u1;
  const Fr r10 = Fr::random();
  for (std::uint64_t i = 0; i < 4; ++i) {
    n.push_back(must(store->insert_note(make_note("w", 1 + i))));
    u1.leaves.push_back(ChainLeaf{i, must(store->get_note(n.back())).commitment, 10, r10});
    u1.note_leaves.push_back({n.back(), i});
  }
  u1.blocks = {block_ref(10, 10)};
  u1.cursor = block_ref(10, 10);
  ASSERT_TRUE(store->apply_chain_update(u1).is_ok());
  const std::int64_t later = must(store->insert_note(make_note("w", 9)));
  ChainUpdate u2;
  u2.leaves = {ChainLeaf{4, must(store->get_note(later)).commitment, 12, Fr::random()}};
  u2.note_leaves = {{later, 4}};
  u2.blocks = {block_ref(12, 12)};
  u2.cursor = block_ref(12, 12);
  ASSERT_TRUE(store->apply_chain_update(u2).is_ok());
  // An unstamped leaf after the stamped ones, and a note placed past the stored leaves.
  ASSERT_EQ(must(store->append_leaves(std::vector<Fr>{Fr::random()})), 5U);
  const std::int64_t beyond = must(store->insert_note(make_note("w", 11)));
  ASSERT_TRUE(store->set_note_leaf_index(beyond, 7).is_ok());

  // n[0]: paid by a payment confirmed in block 10 (stays). n[1]: by one confirmed in 11 (in flight
  // again). n[2]: its payment is signed and sync saw the nullifier in 11 (spending again). n[3]: a
  // failed payment found it spent in 11 (released: no payment holds it).
  auto pay = [&](std::int64_t note) {
    Payment p;
    p.wallet = "w";
    p.kind = PaymentKind::kPay;
    p.note_ids = {note};
    const std::int64_t id = must(store->begin_payment(p));
    EXPECT_TRUE(store->record_payment_signed(id, "0x" + std::to_string(id), Bytes{1}, 0, 0).is_ok());
    return id;
  };
  const std::int64_t p0 = pay(n[0]);
  const std::int64_t p1 = pay(n[1]);
  const std::int64_t p2 = pay(n[2]);
  const std::int64_t p3 = pay(n[3]);
  ASSERT_TRUE(store->confirm_payment(p0, 1, 10).is_ok());
  ASSERT_TRUE(store->confirm_payment(p1, 1, 11).is_ok());
  ChainUpdate u3;
  u3.spent = {{n[2], 11}};
  u3.cursor = block_ref(13, 13);
  ASSERT_TRUE(store->apply_chain_update(u3).is_ok());
  const std::vector<std::int64_t> spent3 = {n[3]};
  ASSERT_TRUE(store->fail_payment(p3, "nullifier already spent", spent3, 11).is_ok());
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(must(store->get_note(n[i])).state, NoteState::kSpent) << i;

  ASSERT_TRUE(store->rollback_chain(block_ref(10, 0xee)).is_ok());
  // The tree ends before its first leaf from block 12, contiguous.
  EXPECT_EQ(must(store->leaf_count()), 4U);
  EXPECT_EQ(must(store->load_leaves()).size(), 4U);
  EXPECT_EQ(must(store->known_roots()), std::vector<Fr>{r10});
  for (std::int64_t id : {later, beyond}) {
    const StoredNote note = must(store->get_note(id));
    EXPECT_EQ(note.state, NoteState::kPending) << id;
    EXPECT_FALSE(note.leaf_index.has_value()) << id;
  }
  EXPECT_EQ(must(store->get_note(n[0])).state, NoteState::kSpent);
  EXPECT_EQ(must(store->get_note(n[1])).state, NoteState::kSpending);
  EXPECT_EQ(must(store->get_note(n[2])).state, NoteState::kSpending);
  EXPECT_EQ(must(store->get_note(n[3])).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->get_payment(p0)).state, PaymentState::kConfirmed);
  EXPECT_EQ(must(store->get_payment(p0)).block, 10U);
  const Payment again = must(store->get_payment(p1));
  EXPECT_EQ(again.state, PaymentState::kSubmitted);
  EXPECT_EQ(again.block, 0U);
  EXPECT_EQ(again.gas_used, 0U);
  EXPECT_EQ(must(store->get_payment(p2)).state, PaymentState::kSigned);
  EXPECT_EQ(must(store->get_payment(p3)).state, PaymentState::kFailed);
  EXPECT_EQ(must(store->sync_cursor()), std::optional<BlockRef>(block_ref(10, 0xee)));
  EXPECT_EQ(must(store->recent_blocks(10)), std::vector<BlockRef>{block_ref(10, 0xee)});
  // Mined again in block 11 of the new branch.
  ASSERT_TRUE(store->confirm_payment(p1, 2, 11).is_ok());
  EXPECT_EQ(must(store->get_note(n[1])).state, NoteState::kSpent);
  EXPECT_EQ(must(store->get_payment(p1)).block, 11U);
  // The leaves come back from the new branch.
  ChainUpdate u4;
  u4.leaves = {ChainLeaf{4, must(store->get_note(later)).commitment, 11, Fr::random()}};
  u4.note_leaves = {{later, 4}};
  u4.cursor = block_ref(11, 11);
  ASSERT_TRUE(store->apply_chain_update(u4).is_ok());
  EXPECT_EQ(must(store->get_note(later)).state, NoteState::kOnChain);
}

TEST_P(StoreContractTest, PaymentReservationRefusedNamesTheNote) {
  auto store = open();
  const std::int64_t ok = must(store->insert_note(make_note("w", 1, 0)));
  const std::int64_t pending = must(store->insert_note(make_note("w", 2)));
  const std::int64_t spent = must(store->insert_note(make_note("w", 3, 1)));
  ASSERT_TRUE(store->set_note_state(spent, NoteState::kSpent).is_ok());
  for (std::int64_t bad : {pending, spent, std::int64_t{424242}}) {
    Payment p;
    p.wallet = "w";
    p.kind = PaymentKind::kPay;
    p.note_ids = {ok, bad};
    const Result<std::int64_t> r = store->begin_payment(p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(r.status().message().find("note " + std::to_string(bad)), std::string::npos) << r.status().to_string();
    EXPECT_EQ(must(store->get_note(ok)).state, NoteState::kOnChain);
  }
  EXPECT_TRUE(must(store->list_payments("w", std::nullopt)).empty());
  EXPECT_EQ(store->record_payment_signed(424242, "0x", Bytes{}, 0, 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->confirm_payment(424242, 0, 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->fail_payment(424242, "x", {}, 0).code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, PaymentsListedByWalletAndState) {
  auto store = open();
  auto begin = [&](const std::string& wallet, std::uint64_t leaf, PaymentKind kind) {
    Payment p;
    p.wallet = wallet;
    p.kind = kind;
    p.amount = 100 + leaf;
    p.recipient = "0x" + std::to_string(leaf);
    p.note_ids = {must(store->insert_note(make_note(wallet, 1, leaf)))};
    p.created_ms = 1'700'000'000'000 + static_cast<std::int64_t>(leaf);
    return must(store->begin_payment(p));
  };
  const std::int64_t a = begin("w", 0, PaymentKind::kPay);
  const std::int64_t b = begin("w", 1, PaymentKind::kRebalance);
  const std::int64_t c = begin("v", 2, PaymentKind::kPay);
  const std::int64_t d = begin("w", 3, PaymentKind::kSplit);
  ASSERT_TRUE(store->record_payment_signed(b, "0xb", Bytes{0xb}, 4, 2.5).is_ok());
  ASSERT_TRUE(store->fail_payment(d, "stopped", {}, 0).is_ok());
  auto ids = [](const std::vector<Payment>& ps) {
    std::vector<std::int64_t> out;
    for (const Payment& p : ps) out.push_back(p.id);
    return out;
  };
  EXPECT_EQ(ids(must(store->list_payments("w", std::nullopt))), (std::vector<std::int64_t>{a, b, d}));
  EXPECT_EQ(ids(must(store->list_payments("v", std::nullopt))), std::vector<std::int64_t>{c});
  EXPECT_EQ(ids(must(store->list_payments("w", PaymentState::kPrepared))), std::vector<std::int64_t>{a});
  EXPECT_EQ(ids(must(store->list_payments("w", PaymentState::kSigned))), std::vector<std::int64_t>{b});
  EXPECT_EQ(ids(must(store->list_payments("w", PaymentState::kFailed))), std::vector<std::int64_t>{d});
  EXPECT_TRUE(must(store->list_payments("w", PaymentState::kConfirmed)).empty());
  EXPECT_TRUE(must(store->list_payments("nobody", std::nullopt)).empty());
  const Payment pa = must(store->get_payment(a));
  EXPECT_EQ(pa.wallet, "w");
  EXPECT_EQ(pa.kind, PaymentKind::kPay);
  EXPECT_EQ(pa.amount, 100U);
  EXPECT_EQ(pa.recipient, "0x0");
  EXPECT_EQ(pa.state, PaymentState::kPrepared);
  EXPECT_EQ(pa.created_ms, 1'700'000'000'000);
  EXPECT_TRUE(pa.tx_hash.empty());
  EXPECT_TRUE(pa.raw_tx.empty());
  const Payment pb = must(store->get_payment(b));
  EXPECT_EQ(pb.tx_hash, "0xb");
  EXPECT_EQ(pb.raw_tx, Bytes{0xb});
  EXPECT_EQ(pb.nonce, 4U);
  EXPECT_DOUBLE_EQ(pb.latency_ms, 2.5);
  EXPECT_GE(pb.updated_ms, pb.created_ms);
}

TEST_P(StoreContractTest, FailedPaymentKeepsNewNotesThatLanded) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 8, 0)));
  const std::int64_t landed = must(store->insert_note(make_note("w", 3)));
  const std::int64_t lost = must(store->insert_note(make_note("w", 5)));
  Payment p;
  p.wallet = "w";
  p.kind = PaymentKind::kSplit;
  p.note_ids = {a};
  p.new_note_ids = {landed, lost};
  const std::int64_t id = must(store->begin_payment(p));
  ASSERT_TRUE(store->record_payment_signed(id, "0x01", Bytes{1}, 0, 0).is_ok());
  ASSERT_TRUE(store->mark_payment_submitted(id).is_ok());
  ASSERT_TRUE(store->set_note_leaf_index(landed, 5).is_ok());
  ASSERT_TRUE(store->fail_payment(id, "dropped", {}, 0).is_ok());
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->get_note(landed)).state, NoteState::kOnChain);
  EXPECT_EQ(store->get_note(lost).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(must(store->get_payment(id)).new_note_ids, (std::vector<std::int64_t>{landed, lost}));
  // Failed is final.
  EXPECT_EQ(store->confirm_payment(id, 1, 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->mark_payment_submitted(id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->record_payment_signed(id, "0x02", Bytes{2}, 0, 0).code(), StatusCode::kFailedPrecondition);
  // Its note can be reserved again; a second fail of the first payment does not release it.
  Payment q;
  q.wallet = "w";
  q.kind = PaymentKind::kPay;
  q.note_ids = {a};
  ASSERT_TRUE(store->begin_payment(q).ok());
  ASSERT_TRUE(store->fail_payment(id, "again", {}, 0).is_ok());
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kSpending);
}

TEST_P(StoreContractTest, FailPaymentIfIsACompareAndSetThatKeepsOutputsWhichCouldStillLand) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 8, 0)));
  const std::int64_t out1 = must(store->insert_note(make_note("w", 3)));
  const std::int64_t out2 = must(store->insert_note(make_note("w", 5)));
  Payment p = make_payment({a}, 0);
  p.kind = PaymentKind::kRebalance;
  p.new_note_ids = {out1, out2};
  const std::int64_t id = must(store->begin_payment(p));
  ASSERT_TRUE(store->record_payment_signed(id, "0x01", Bytes{1}, 0, 0).is_ok());
  // Not in the expected state: nothing changes, and the error names the state it is in.
  const Status wrong = store->fail_payment_if(id, PaymentState::kSubmitted, "dropped", {}, 0);
  EXPECT_EQ(wrong.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.message().find("is signed"), std::string::npos) << wrong.to_string();
  EXPECT_EQ(must(store->get_payment(id)).state, PaymentState::kSigned);
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kSpending);
  // From the expected state: failed, its note released, its outputs still pending (signed bytes
  // that anyone may hold could still put them on chain).
  ASSERT_TRUE(store->fail_payment_if(id, PaymentState::kSigned, "never mined", {}, 0).is_ok());
  EXPECT_EQ(must(store->get_payment(id)).state, PaymentState::kFailed);
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->get_note(out1)).state, NoteState::kPending);
  EXPECT_EQ(must(store->get_note(out2)).state, NoteState::kPending);
  EXPECT_EQ(store->fail_payment_if(id, PaymentState::kSigned, "again", {}, 0).code(), StatusCode::kFailedPrecondition)
      << "failed is not signed: a second settler loses the race";
  EXPECT_EQ(store->fail_payment_if(id, PaymentState::kFailed, "again", {}, 0).code(), StatusCode::kFailedPrecondition)
      << "failed is final, even when expected";
  // A kept output that lands becomes a note like any other.
  ASSERT_TRUE(store->set_note_leaf_index(out1, 1).is_ok());
  EXPECT_EQ(must(store->get_note(out1)).state, NoteState::kOnChain);
  // A payment that never got signed cannot land: its outputs go, its spent marks apply.
  const std::int64_t b = must(store->insert_note(make_note("w", 2, 2)));
  const std::int64_t change = must(store->insert_note(make_note("w", 6)));
  Payment q = make_payment({a, b});
  q.kind = PaymentKind::kSplit;
  q.new_note_ids = {change};
  const std::int64_t id2 = must(store->begin_payment(q));
  const std::vector<std::int64_t> spent = {b};
  ASSERT_TRUE(store->fail_payment_if(id2, PaymentState::kPrepared, "stopped before it was signed", spent, 7).is_ok());
  EXPECT_EQ(store->get_note(change).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->get_note(b)).state, NoteState::kSpent);
  EXPECT_EQ(store->fail_payment_if(424242, PaymentState::kPrepared, "x", {}, 0).code(), StatusCode::kNotFound);
}

// ---- Relayed payments (protocol v2): a signed bundle handed to a relayer, settled by chain truth.

// A digest that differs by its last byte.
std::string digest_hex(std::uint8_t tag) {
  static constexpr char kHex[] = "0123456789abcdef";
  return "0x" + std::string(62, '0') + kHex[tag >> 4] + kHex[tag & 15];
}

TEST_P(StoreContractTest, RelayedPaymentRecordsItsBundleDeadlineFeeAndRelayer) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 8, 0)));
  Payment p = make_payment({a}, 7);
  p.deadline = 1'800'000'300;
  p.fee = "10000";
  p.relayer = "http://127.0.0.1:8646";
  const std::int64_t id = must(store->begin_payment(p));
  Payment got = must(store->get_payment(id));
  EXPECT_EQ(got.state, PaymentState::kPrepared);
  EXPECT_EQ(got.deadline, p.deadline);
  EXPECT_EQ(got.fee, "10000");
  EXPECT_EQ(got.relayer, p.relayer);
  EXPECT_TRUE(got.digest.empty());
  EXPECT_TRUE(got.bundle_json.empty());
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kSpending);

  // Handed over only once signed; the digest is stored canonical (lower case).
  EXPECT_EQ(store->record_payment_relayed(id, "", 1.0).code(), StatusCode::kFailedPrecondition);
  const std::string digest = "0x" + std::string(63, 'A') + "b";
  ASSERT_TRUE(store->record_payment_bundle(id, digest, 1'800'000'400, R"({"kind":"spend_batch"})").is_ok());
  got = must(store->get_payment(id));
  EXPECT_EQ(got.state, PaymentState::kSigned);
  EXPECT_EQ(got.digest, "0x" + std::string(63, 'a') + "b");
  EXPECT_EQ(got.deadline, 1'800'000'400U) << "the deadline signed is the one kept";
  EXPECT_EQ(got.bundle_json, R"({"kind":"spend_batch"})");
  EXPECT_EQ(store->record_payment_bundle(id, digest, 1, "{}").code(), StatusCode::kFailedPrecondition) << "signed once";
  EXPECT_EQ(must(store->find_payment_by_digest(digest))->id, id);
  EXPECT_FALSE(must(store->find_payment_by_digest(digest_hex(9))).has_value());

  // The first handover records the latency and the relayer's transaction; a re-post keeps the
  // latency and an unknown transaction does not erase a known one.
  ASSERT_TRUE(store->record_payment_relayed(id, "0x7e1a", 2.5).is_ok());
  ASSERT_TRUE(store->record_payment_relayed(id, "", 99.0).is_ok());
  got = must(store->get_payment(id));
  EXPECT_EQ(got.state, PaymentState::kSubmitted);
  EXPECT_EQ(got.relayer_tx, "0x7e1a");
  EXPECT_DOUBLE_EQ(got.latency_ms, 2.5);

  // Settled by chain truth: the transaction that carried its Spent events, whoever sent it.
  ASSERT_TRUE(store->settle_payment_by(id, PaymentState::kSubmitted, "0xbeef", 12).is_ok());
  got = must(store->get_payment(id));
  EXPECT_EQ(got.state, PaymentState::kConfirmed);
  EXPECT_EQ(got.settled_by, "0xbeef");
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kSpent);
  EXPECT_EQ(store->record_payment_relayed(id, "", 1.0).code(), StatusCode::kFailedPrecondition);
}

TEST_P(StoreContractTest, OnePaymentPerDigestAndMalformedInputIsRefused) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 1, 0)));
  const std::int64_t b = must(store->insert_note(make_note("w", 2, 1)));
  const std::int64_t first = must(store->begin_payment(make_payment({a})));
  const std::int64_t second = must(store->begin_payment(make_payment({b})));
  ASSERT_TRUE(store->record_payment_bundle(first, digest_hex(1), 10, "{}").is_ok());
  const Status taken = store->record_payment_bundle(second, digest_hex(1), 10, "{}");
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists) << taken.to_string();
  EXPECT_EQ(must(store->get_payment(second)).state, PaymentState::kPrepared);
  for (const std::string& bad : {std::string("0x12"), std::string(66, '0'), "0x" + std::string(63, '0') + "g"}) {
    EXPECT_EQ(store->record_payment_bundle(second, bad, 10, "{}").code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store->record_payment_bundle(second, digest_hex(2), 10, "not json").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->record_payment_bundle(second, digest_hex(2), 10, "").code(), StatusCode::kInvalidArgument);
  for (const char* fee : {"-1", "1.5", "0x10", "01", " 1"}) {
    Payment p = make_payment({});
    p.fee = fee;
    EXPECT_EQ(store->begin_payment(p).status().code(), StatusCode::kInvalidArgument) << fee;
  }
  Payment no_fee = make_payment({});
  EXPECT_EQ(must(store->get_payment(must(store->begin_payment(no_fee)))).fee, "0");
}

TEST_P(StoreContractTest, ASignedPaymentIsReservedAndJournaledInOneTransactionOrNotAtAll) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 8, 0)));
  const std::int64_t b = must(store->insert_note(make_note("w", 4, 1)));
  const std::int64_t c = must(store->insert_note(make_note("w", 2, 2)));
  Payment p = make_payment({a, b}, 11);
  p.fee = "10000";
  p.relayer = "http://127.0.0.1:8646";
  const std::string digest = "0x" + std::string(63, 'C') + "d";
  const std::int64_t id = must(store->begin_signed_payment(p, digest, 1'800'000'400, R"({"kind":"spend_batch"})"));
  Payment got = must(store->get_payment(id));
  EXPECT_EQ(got.state, PaymentState::kSigned) << "never prepared";
  EXPECT_EQ(got.digest, "0x" + std::string(63, 'c') + "d");
  EXPECT_EQ(got.deadline, 1'800'000'400U);
  EXPECT_EQ(got.bundle_json, R"({"kind":"spend_batch"})");
  EXPECT_EQ(got.note_ids, (std::vector<std::int64_t>{a, b}));
  EXPECT_EQ(must(store->get_note(a)).state, NoteState::kSpending);
  EXPECT_EQ(must(store->get_note(b)).state, NoteState::kSpending);
  ASSERT_TRUE(store->record_payment_relayed(id, "0x7e1a", 2.5).is_ok());
  EXPECT_EQ(must(store->get_payment(id)).state, PaymentState::kSubmitted);

  // All or nothing: a note already reserved, a digest taken, a malformed digest or bundle, a bad
  // fee leave no payment and every note as it was.
  const std::size_t before = must(store->list_payments("w", std::nullopt)).size();
  EXPECT_EQ(store->begin_signed_payment(make_payment({c, b}), digest_hex(5), 10, "{}").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->begin_signed_payment(make_payment({c}), digest, 10, "{}").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store->begin_signed_payment(make_payment({c}), "0x12", 10, "{}").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->begin_signed_payment(make_payment({c}), digest_hex(5), 10, "not json").status().code(),
            StatusCode::kInvalidArgument);
  Payment bad_fee = make_payment({c});
  bad_fee.fee = "1.5";
  EXPECT_EQ(store->begin_signed_payment(bad_fee, digest_hex(5), 10, "{}").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(must(store->list_payments("w", std::nullopt)).size(), before);
  EXPECT_EQ(must(store->get_note(c)).state, NoteState::kOnChain);
  EXPECT_FALSE(must(store->find_payment_by_digest(digest_hex(5))).has_value());
}

TEST_P(StoreContractTest, AnExpiredPaymentReleasesItsNotesAndDropsOutputsThatCanNeverLand) {
  auto store = open();
  const std::int64_t donor = must(store->insert_note(make_note("w", 64, 0)));
  const std::int64_t other = must(store->insert_note(make_note("w", 4, 1)));
  const std::int64_t out1 = must(store->insert_note(make_note("w", 32)));
  const std::int64_t out2 = must(store->insert_note(make_note("w", 16)));
  Payment p = make_payment({donor, other}, 8);
  p.kind = PaymentKind::kSplit;
  p.new_note_ids = {out1, out2};
  const std::int64_t id = must(store->begin_payment(p));
  EXPECT_EQ(store->expire_payment(id, PaymentState::kPrepared, "expired", {}, 0).code(),
            StatusCode::kFailedPrecondition)
      << "a prepared payment has no deadline to pass: nothing of it was signed";
  ASSERT_TRUE(store->record_payment_bundle(id, digest_hex(3), 100, "{}").is_ok());
  EXPECT_EQ(store->expire_payment(id, PaymentState::kSubmitted, "expired", {}, 0).code(),
            StatusCode::kFailedPrecondition)
      << "a compare-and-set on the state it was read in";
  // One output already landed (a sync found it): it stays; the other can never land and goes.
  ASSERT_TRUE(store->set_note_leaf_index(out1, 2).is_ok());
  const std::vector<std::int64_t> spent = {other};  // spent by another payment meanwhile
  ASSERT_TRUE(store->expire_payment(id, PaymentState::kSigned, "deadline passed unpaid", spent, 9).is_ok());
  const Payment got = must(store->get_payment(id));
  EXPECT_EQ(got.state, PaymentState::kFailed);
  EXPECT_EQ(got.error, "deadline passed unpaid");
  EXPECT_EQ(got.block, 9U);
  EXPECT_EQ(must(store->get_note(donor)).state, NoteState::kOnChain);
  EXPECT_EQ(must(store->get_note(other)).state, NoteState::kSpent);
  EXPECT_EQ(must(store->get_note(out1)).state, NoteState::kOnChain);
  EXPECT_EQ(store->get_note(out2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->expire_payment(id, PaymentState::kSigned, "again", {}, 9).code(), StatusCode::kFailedPrecondition);
}

TEST_P(StoreContractTest, SettlePaymentByRecordsTheTransactionThatPaidIt) {
  auto store = open();
  const std::int64_t a = must(store->insert_note(make_note("w", 1, 0)));
  const std::int64_t b = must(store->insert_note(make_note("w", 2, 1)));
  ASSERT_TRUE(store->insert_precompute(make_precompute("a-proof", a)).ok());
  const std::int64_t id = must(store->begin_payment(make_payment({a, b})));
  EXPECT_EQ(store->settle_payment_by(id, PaymentState::kPrepared, "0xfeed", 9).code(), StatusCode::kFailedPrecondition)
      << "nothing signed: nothing of it can be on chain";
  ASSERT_TRUE(store->record_payment_signed(id, "0xabcd", Bytes{2, 1}, 3, 1).is_ok());
  ASSERT_TRUE(store->mark_payment_submitted(id).is_ok());
  EXPECT_EQ(store->settle_payment_by(id, PaymentState::kSigned, "0xfeed", 9).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(must(store->get_payment(id)).state, PaymentState::kSubmitted);
  ASSERT_TRUE(store->settle_payment_by(id, PaymentState::kSubmitted, "0xfeed", 9).is_ok());
  Payment done = must(store->get_payment(id));
  EXPECT_EQ(done.state, PaymentState::kConfirmed);
  EXPECT_EQ(done.settled_by, "0xfeed");
  EXPECT_EQ(done.tx_hash, "0xabcd") << "its own transaction stays recorded";
  EXPECT_EQ(done.block, 9U);
  EXPECT_EQ(done.gas_used, 0U);
  for (std::int64_t n : {a, b}) EXPECT_EQ(must(store->get_note(n)).state, NoteState::kSpent) << n;
  EXPECT_TRUE(must(store->list_precomputes_for_note(a)).empty()) << "a spent note's proofs are dead";
  EXPECT_EQ(store->fail_payment_if(id, PaymentState::kSubmitted, "late", {}, 0).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->settle_payment_by(id, PaymentState::kConfirmed, "0xbeef", 9).code(), StatusCode::kFailedPrecondition)
      << "a second settler loses the race";
  EXPECT_EQ(must(store->get_payment(id)).settled_by, "0xfeed");
  // Reopened by a reorganisation: no longer confirmed, so settled by nothing yet.
  ASSERT_TRUE(store->reopen_payment(id).is_ok());
  EXPECT_TRUE(must(store->get_payment(id)).settled_by.empty());
  // Settled by chain truth again, then reopened by a rollback and confirmed by its own receipt.
  ASSERT_TRUE(store->settle_payment_by(id, PaymentState::kSubmitted, "0xfeed", 9).is_ok());
  ASSERT_TRUE(store->rollback_chain(block_ref(8, 8)).is_ok());
  done = must(store->get_payment(id));
  EXPECT_EQ(done.state, PaymentState::kSubmitted);
  EXPECT_TRUE(done.settled_by.empty());
  ASSERT_TRUE(store->settle_payment_by(id, PaymentState::kSubmitted, "0xfeed", 9).is_ok());
  ASSERT_TRUE(store->reopen_payment(id).is_ok());
  ASSERT_TRUE(store->confirm_payment(id, 700000, 12).is_ok());
  done = must(store->get_payment(id));
  EXPECT_TRUE(done.settled_by.empty());
  EXPECT_EQ(done.block, 12U);
  EXPECT_EQ(done.gas_used, 700000U);
}

// Schema version 1 of the PostgreSQL store exactly as the first release created it (kMigrations[0]
// in pg_store.cpp).
constexpr const char* kPgSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value BYTEA NOT NULL);
CREATE TABLE leaves(
  idx BIGINT PRIMARY KEY CHECK (idx >= 0),
  value BYTEA NOT NULL);
CREATE TABLE notes(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  wallet TEXT NOT NULL,
  pk BYTEA NOT NULL,
  value BIGINT NOT NULL,
  r BYTEA NOT NULL,
  leaf_index BIGINT,
  state TEXT NOT NULL CHECK (state IN ('pending', 'on_chain', 'spending', 'spent')),
  commitment BYTEA NOT NULL,
  created_ms BIGINT NOT NULL,
  CHECK (state <> 'on_chain' OR leaf_index IS NOT NULL),
  CHECK (state <> 'pending' OR leaf_index IS NULL));
CREATE UNIQUE INDEX notes_by_leaf ON notes(leaf_index) WHERE leaf_index IS NOT NULL;
CREATE UNIQUE INDEX notes_pending_by_commitment ON notes(commitment) WHERE leaf_index IS NULL;
CREATE INDEX notes_by_commitment ON notes(commitment);
CREATE INDEX notes_by_wallet_state ON notes(wallet, state, id);
CREATE TABLE secrets(
  wallet TEXT PRIMARY KEY,
  sk BYTEA NOT NULL,
  created_ms BIGINT NOT NULL);
CREATE TABLE precomputes(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  note_id BIGINT NOT NULL REFERENCES notes(id),
  circuit TEXT NOT NULL,
  amount BIGINT NOT NULL,
  recipient BYTEA NOT NULL,
  public_inputs BYTEA NOT NULL,
  proof BYTEA NOT NULL,
  outputs BYTEA,
  created_ms BIGINT NOT NULL,
  prove_ms DOUBLE PRECISION NOT NULL,
  worker INTEGER NOT NULL);
CREATE INDEX precomputes_by_note ON precomputes(note_id);
CREATE INDEX precomputes_by_circuit ON precomputes(circuit, id);
CREATE TABLE jobs(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  batch TEXT NOT NULL,
  circuit TEXT NOT NULL,
  spec BYTEA,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
  tries INTEGER NOT NULL,
  error TEXT NOT NULL,
  updated_ms BIGINT NOT NULL,
  worker INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at TIMESTAMPTZ,
  CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
  CHECK (state = 'running' OR lease_owner IS NULL));
CREATE INDEX jobs_pending ON jobs(id) WHERE state = 'pending';
CREATE INDEX jobs_by_batch ON jobs(batch, state);
CREATE INDEX jobs_by_lease ON jobs(lease_expires_at) WHERE lease_expires_at IS NOT NULL;
)sql";

std::string bytea_literal(const Fr& f) { return "'\\x" + f.to_hex().substr(2) + "'::bytea"; }

TEST_P(StoreContractTest, MigratesAStoreOfTheFirstSchema) {
  if (GetParam() == Kind::kSqlite) {
    GTEST_SKIP() << "sqlite_store_test.cpp (MigratesAStoreOfTheFirstSchema) covers SQLite";
  }
  const Fr leaf0 = Fr::random();
  const Fr r = Fr::random();
  const Fr pk = Fr::random();
  backend_->exec_sql(
      std::string(kPgSchemaV1) +
      "INSERT INTO meta(key, value) VALUES ('schema_version', convert_to('1', 'UTF8'));"
      "INSERT INTO leaves(idx, value) VALUES (0, " +
      bytea_literal(leaf0) +
      ");"
      "INSERT INTO notes(wallet, pk, value, r, leaf_index, state, commitment, created_ms) VALUES ('w', " +
      bytea_literal(pk) + ", 5, " + bytea_literal(r) + ", 0, 'on_chain', " + bytea_literal(leaf0) + ", 7);");
  auto store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->load_leaves()), std::vector<Fr>{leaf0});
  const std::vector<StoredNote> notes = must(store->list_notes("w", std::nullopt));
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_EQ(notes[0].r, r);
  EXPECT_TRUE(must(store->known_roots()).empty());
  EXPECT_FALSE(must(store->sync_cursor()).has_value());
  ChainUpdate u;
  const Fr root = Fr::random();
  u.leaves = {ChainLeaf{1, Fr::random(), 4, root}};
  u.cursor = block_ref(4, 4);
  ASSERT_TRUE(store->apply_chain_update(u).is_ok());
  EXPECT_EQ(must(store->known_roots()), std::vector<Fr>{root});
  ASSERT_TRUE(store->put_setting("w", "k", "v").is_ok());
  Payment p;
  p.wallet = "w";
  p.kind = PaymentKind::kPay;
  p.note_ids = {notes[0].id};
  const std::int64_t id = must(store->begin_payment(p));
  EXPECT_EQ(must(store->get_payment(id)).note_ids, p.note_ids);
  ASSERT_TRUE(store->rollback_chain(block_ref(3, 3)).is_ok());
  EXPECT_EQ(must(store->load_leaves()), std::vector<Fr>{leaf0});
  store.reset();
  store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->get_setting("w", "k")), std::optional<std::string>("v"));
}

// A store of schema version 2 (before API tokens and settled_by) with a payment in flight: the step
// to 3 keeps it, with no settled_by, and it can then be settled by another transaction.
TEST_P(StoreContractTest, MigratesAStoreOfTheSecondSchemaWithAPaymentInFlight) {
  const bool sqlite = GetParam() == Kind::kSqlite;
  const auto literal = [&](const Fr& f) { return sqlite ? "X'" + f.to_hex().substr(2) + "'" : bytea_literal(f); };
  // Steps 1 and 2 have shipped and never change (dialects.cpp): together they are the second schema.
  const sql::Dialect& dialect = sqlite ? sql::sqlite_dialect() : sql::postgres_dialect();
  backend_->exec_sql(sql::migration(0, dialect) + sql::migration(1, dialect));
  backend_->set_schema_version(2);
  const Fr leaf = Fr::random();
  backend_->exec_sql(
      "INSERT INTO leaves(idx, value, block) VALUES (0, " + literal(leaf) +
      ", 3);"
      "INSERT INTO notes(wallet, pk, value, r, leaf_index, state, commitment, created_ms) VALUES ('w', " +
      literal(Fr::random()) + ", 5, " + literal(Fr::random()) + ", 0, 'spending', " + literal(leaf) +
      ", 7);"
      "INSERT INTO payments(wallet, kind, amount, recipient, state, tx_hash, nonce, gas_used, block, error, "
      "latency_ms, created_ms, updated_ms) VALUES ('w', 'pay', 5, '0xc0ffee', 'submitted', '0xabcd', 3, 0, 0, '', "
      "1.5, 7, 8);"
      "INSERT INTO payment_notes(payment_id, note_id, role) "
      "SELECT p.id, n.id, 'spend' FROM payments p, notes n;");

  auto store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  const std::vector<Payment> payments = must(store->list_payments("w", std::nullopt));
  ASSERT_EQ(payments.size(), 1U);
  const Payment& p = payments[0];
  EXPECT_EQ(p.state, PaymentState::kSubmitted);
  EXPECT_EQ(p.tx_hash, "0xabcd");
  EXPECT_EQ(p.updated_ms, 8);
  EXPECT_TRUE(p.settled_by.empty());
  ASSERT_EQ(p.note_ids.size(), 1U);
  ASSERT_TRUE(store->settle_payment_by(p.id, PaymentState::kSubmitted, "0xfeed", 4).is_ok());
  EXPECT_EQ(must(store->get_note(p.note_ids[0])).state, NoteState::kSpent);
  const TokenStore::CreatedToken token = must(store->create_token("w", TokenScope::kRead));
  store.reset();
  // Reopened: nothing migrates twice, and what the new columns and tables hold stays.
  store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->get_payment(p.id)).settled_by, "0xfeed");
  EXPECT_EQ(must(store->authenticate_token(token.token)).wallet, "w");
}

// A store of schema version 3 (protocol v1): its precomputes bound a recipient (v1 proofs, which
// the v2 Pool never accepts) and go with their jobs; notes and payments stay, the payments with no
// digest, deadline 0, fee "0"; the v2 columns work on them.
TEST_P(StoreContractTest, MigratesAStoreOfTheThirdSchemaToProtocolV2) {
  const bool sqlite = GetParam() == Kind::kSqlite;
  const auto literal = [&](const Fr& f) { return sqlite ? "X'" + f.to_hex().substr(2) + "'" : bytea_literal(f); };
  const sql::Dialect& dialect = sqlite ? sql::sqlite_dialect() : sql::postgres_dialect();
  backend_->exec_sql(sql::migration(0, dialect) + sql::migration(1, dialect) + sql::migration(2, dialect));
  backend_->set_schema_version(3);
  const Fr leaf = Fr::random();
  backend_->exec_sql(
      "INSERT INTO leaves(idx, value, block) VALUES (0, " + literal(leaf) +
      ", 3);"
      "INSERT INTO notes(wallet, pk, value, r, leaf_index, state, commitment, created_ms) VALUES ('w', " +
      literal(Fr::random()) + ", 5, " + literal(Fr::random()) + ", 0, 'spending', " + literal(leaf) +
      ", 7);"
      "INSERT INTO precomputes(key, note_id, circuit, amount, recipient, public_inputs, proof, created_ms, prove_ms, "
      "worker) SELECT 'spend:v1', id, 'spend', 5, " +
      literal(Fr::from_u64(0xC0FFEE)) + ", " + literal(Fr::one()) + ", " + literal(Fr::one()) +
      ", 7, 1.0, 0 FROM notes;"
      "INSERT INTO jobs(key, batch, circuit, spec, state, tries, error, updated_ms, worker) VALUES ('spend:v1', 'b', "
      "'spend', NULL, 'done', 1, '', 7, 0), ('spend:v1b', 'b', 'spend', NULL, 'pending', 0, '', 7, -1);"
      "INSERT INTO payments(wallet, kind, amount, recipient, state, tx_hash, nonce, gas_used, block, error, "
      "latency_ms, created_ms, updated_ms, settled_by) VALUES ('w', 'pay', 5, '0xc0ffee', 'submitted', '0xabcd', 3, "
      "0, 0, '', 1.5, 7, 8, '');"
      "INSERT INTO payment_notes(payment_id, note_id, role) SELECT p.id, n.id, 'spend' FROM payments p, notes n;");

  auto store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->count_precomputes()), 0);
  EXPECT_TRUE(must(store->list_jobs(std::nullopt)).empty());
  const std::vector<Payment> payments = must(store->list_payments("w", std::nullopt));
  ASSERT_EQ(payments.size(), 1U);
  const Payment& p = payments[0];
  EXPECT_EQ(p.kind, PaymentKind::kPay);
  EXPECT_EQ(p.state, PaymentState::kSubmitted);
  EXPECT_EQ(p.tx_hash, "0xabcd");
  EXPECT_TRUE(p.digest.empty());
  EXPECT_EQ(p.deadline, 0U);
  EXPECT_EQ(p.fee, "0");
  EXPECT_TRUE(p.relayer.empty());
  EXPECT_TRUE(p.bundle_json.empty());
  ASSERT_EQ(p.note_ids.size(), 1U);
  // The note and its leaf stay; a v2 precompute (with its auth) goes in beside it.
  Precompute pc = make_precompute("spend:v2", p.note_ids[0]);
  pc.auth = Fr::from_u64(0xA0);
  ASSERT_TRUE(store->insert_precompute(pc).ok());
  EXPECT_EQ(must(store->find_precompute("spend:v2"))->auth, Fr::from_u64(0xA0));
  const std::int64_t other = must(store->insert_note(make_note("w", 2, 1)));
  Payment q = make_payment({other});
  q.deadline = 100;
  q.fee = "25";
  const std::int64_t id = must(store->begin_payment(q));
  ASSERT_TRUE(store->record_payment_bundle(id, digest_hex(7), 100, "{}").is_ok());
  store.reset();
  store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->find_payment_by_digest(digest_hex(7)))->fee, "25");
  EXPECT_TRUE(must(store->find_precompute("spend:v2")).has_value()) << "nothing migrates twice";
}

TEST_P(StoreContractTest, ConcurrentReservationsTakeEachNoteOnce) {
  auto store = open();
  std::vector<std::int64_t> notes;
  for (std::uint64_t i = 0; i < 8; ++i) notes.push_back(must(store->insert_note(make_note("w", 1, i))));
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto mine = open();
      for (std::int64_t note : notes) {
        Payment p;
        p.wallet = "w";
        p.kind = PaymentKind::kPay;
        p.note_ids = {note, notes[(static_cast<std::size_t>(note) + static_cast<std::size_t>(t)) % notes.size()]};
        if (p.note_ids[0] == p.note_ids[1]) p.note_ids.pop_back();
        if (mine->begin_payment(p).ok()) ++won;
      }
    });
  }
  for (auto& th : threads) th.join();
  // Every note is reserved by exactly one payment.
  std::map<std::int64_t, int> holders;
  for (const Payment& p : must(store->list_payments("w", std::nullopt))) {
    for (std::int64_t n : p.note_ids) ++holders[n];
  }
  for (const auto& [note, count] : holders) EXPECT_EQ(count, 1) << "note " << note;
  EXPECT_GT(won.load(), 0);
}

// ---- API tokens (TokenStore).

TEST_P(StoreContractTest, CreatedTokensAuthenticateToTheirWalletOnly) {
  auto store = open();
  const TokenStore::CreatedToken alice = must(store->create_token("alice", TokenScope::kSpend));
  const TokenStore::CreatedToken bob = must(store->create_token("bob", TokenScope::kRead));
  EXPECT_NE(alice.token, bob.token);
  EXPECT_EQ(alice.token.size(), 85U);
  EXPECT_EQ(alice.token.rfind("bpt_" + alice.id + "_", 0), 0U);
  EXPECT_EQ(must(store->authenticate_token(alice.token)), (TokenStore::TokenGrant{"alice", TokenScope::kSpend}));
  EXPECT_EQ(must(store->authenticate_token(bob.token)), (TokenStore::TokenGrant{"bob", TokenScope::kRead}));

  // Any change to the secret, the id, or the shape is refused, with one message for all.
  std::string tampered = alice.token;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  const std::string swapped = "bpt_" + bob.id + alice.token.substr(4 + 16);  // bob's id, alice's secret
  for (const std::string& bad : {tampered, swapped, std::string(), std::string("bpt_"), alice.token + "0",
                                 alice.token.substr(0, 84), std::string(85, 'x')}) {
    const Result<TokenStore::TokenGrant> r = store->authenticate_token(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(r.status().message(), "unknown or revoked token");
  }
  EXPECT_EQ(store->create_token("", TokenScope::kRead).status().code(), StatusCode::kInvalidArgument);
}

// Each token keeps the scope it was made with, through reopening; listing shows it; the column
// holds nothing but "read" and "spend".
TEST_P(StoreContractTest, ATokensScopeRoundTrips) {
  TokenStore::CreatedToken reader;
  TokenStore::CreatedToken spender;
  {
    auto store = open();
    reader = must(store->create_token("alice", TokenScope::kRead));
    spender = must(store->create_token("alice", TokenScope::kSpend));
  }
  auto store = open();
  EXPECT_EQ(must(store->authenticate_token(reader.token)), (TokenStore::TokenGrant{"alice", TokenScope::kRead}));
  EXPECT_EQ(must(store->authenticate_token(spender.token)), (TokenStore::TokenGrant{"alice", TokenScope::kSpend}));
  std::map<std::string, TokenScope> listed;
  for (const TokenStore::TokenInfo& t : must(store->list_tokens())) listed[t.id] = t.scope;
  EXPECT_EQ(listed,
            (std::map<std::string, TokenScope>{{reader.id, TokenScope::kRead}, {spender.id, TokenScope::kSpend}}));
  std::set<Bytes> stored;
  for (const Bytes& v : backend_->raw_column("api_tokens", "scope")) stored.insert(v);
  EXPECT_EQ(stored, (std::set<Bytes>{Bytes{'r', 'e', 'a', 'd'}, Bytes{'s', 'p', 'e', 'n', 'd'}}));
  EXPECT_EQ(token_scope_name(TokenScope::kRead), "read");
  EXPECT_EQ(token_scope_name(TokenScope::kSpend), "spend");
  EXPECT_EQ(parse_token_scope("read"), TokenScope::kRead);
  EXPECT_EQ(parse_token_scope("spend"), TokenScope::kSpend);
  for (const char* bad : {"", "admin", "Read", "SPEND", "read ", "rea"})
    EXPECT_EQ(parse_token_scope(bad), std::nullopt);
}

// A store of schema version 5 (before scopes) with a live and a revoked token: the step to 6 gives
// them scope spend (they could do everything, and keep that), and new tokens beside them get theirs.
TEST_P(StoreContractTest, TokensOfTheFifthSchemaKeepSpendingAfterTheMigration) {
  const bool sqlite = GetParam() == Kind::kSqlite;
  const sql::Dialect& dialect = sqlite ? sql::sqlite_dialect() : sql::postgres_dialect();
  std::string schema;
  for (int v = 0; v < 5; ++v) schema += sql::migration(v, dialect);
  backend_->exec_sql(schema);
  backend_->set_schema_version(5);
  // A token as version 5 made it: SHA-256 of its secret, no scope column.
  Bytes secret(32);
  randombytes_buf(secret.data(), secret.size());
  Bytes hash(crypto_hash_sha256_BYTES);
  crypto_hash_sha256(hash.data(), secret.data(), secret.size());
  std::string hash_hex(2 * hash.size() + 1, '\0');
  sodium_bin2hex(hash_hex.data(), hash_hex.size(), hash.data(), hash.size());
  hash_hex.pop_back();
  std::string secret_hex(2 * secret.size() + 1, '\0');
  sodium_bin2hex(secret_hex.data(), secret_hex.size(), secret.data(), secret.size());
  secret_hex.pop_back();
  const std::string literal = sqlite ? "X'" + hash_hex + "'" : "'\\x" + hash_hex + "'::bytea";
  backend_->exec_sql(
      "INSERT INTO api_tokens(id, wallet, secret_sha256, created_ms, revoked) VALUES "
      "('0123456789abcdef', 'alice', " +
      literal +
      ", 1700000000000, 0), "
      "('fedcba9876543210', 'bob', " +
      literal + ", 1700000000001, 1);");
  const std::string old_token = "bpt_0123456789abcdef_" + secret_hex;

  auto store = open(std::nullopt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->authenticate_token(old_token)), (TokenStore::TokenGrant{"alice", TokenScope::kSpend}));
  const std::vector<TokenStore::TokenInfo> tokens = must(store->list_tokens());
  ASSERT_EQ(tokens.size(), 2U);
  EXPECT_EQ(tokens[0],
            (TokenStore::TokenInfo{"0123456789abcdef", "alice", 1'700'000'000'000, false, TokenScope::kSpend}));
  EXPECT_EQ(tokens[1], (TokenStore::TokenInfo{"fedcba9876543210", "bob", 1'700'000'000'001, true, TokenScope::kSpend}));
  const TokenStore::CreatedToken reader = must(store->create_token("alice", TokenScope::kRead));
  store.reset();
  store = open(std::nullopt);  // nothing migrates twice
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(must(store->authenticate_token(old_token)).scope, TokenScope::kSpend);
  EXPECT_EQ(must(store->authenticate_token(reader.token)).scope, TokenScope::kRead);
}

TEST_P(StoreContractTest, OnlyATokensHashIsStoredAndTokensSurviveReopeningAndRevoking) {
  TokenStore::CreatedToken created;
  {
    auto store = open();
    created = must(store->create_token("alice", TokenScope::kSpend));
  }
  // The store keeps SHA-256 of the secret, never the secret (as bytes or as its hex).
  const std::string secret_hex = created.token.substr(4 + 16 + 1);
  Bytes secret(32);
  ASSERT_EQ(
      sodium_hex2bin(secret.data(), secret.size(), secret_hex.data(), secret_hex.size(), nullptr, nullptr, nullptr), 0);
  Bytes hash(crypto_hash_sha256_BYTES);
  crypto_hash_sha256(hash.data(), secret.data(), secret.size());
  EXPECT_EQ(backend_->raw_column("api_tokens", "secret_sha256"), std::vector<Bytes>{hash});
  for (const char* column : {"id", "wallet", "secret_sha256"}) {
    for (const Bytes& value : backend_->raw_column("api_tokens", column)) {
      EXPECT_FALSE(contains(value, secret)) << column;
      EXPECT_FALSE(contains(value, Bytes(secret_hex.begin(), secret_hex.end()))) << column;
    }
  }

  auto store = open();
  EXPECT_EQ(must(store->authenticate_token(created.token)).wallet, "alice");
  const std::vector<TokenStore::TokenInfo> list = must(store->list_tokens());
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0].id, created.id);
  EXPECT_EQ(list[0].wallet, "alice");
  EXPECT_FALSE(list[0].revoked);

  ASSERT_TRUE(store->revoke_token(created.id).is_ok());
  EXPECT_EQ(store->authenticate_token(created.token).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(must(store->list_tokens())[0].revoked);
  EXPECT_EQ(store->revoke_token("0000000000000000").code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::Values(Kind::kSqlite, Kind::kPostgres),
                         [](const ::testing::TestParamInfo<Kind>& param_info) {
                           return param_info.param == Kind::kSqlite ? std::string("Sqlite") : std::string("Postgres");
                         });

}  // namespace
}  // namespace bucketpay
