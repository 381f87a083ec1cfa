#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include "bucketpay/store.h"
#include "store/record_codec.h"
#include "store/sqlite.h"

namespace bucketpay {

std::string_view note_state_name(NoteState state) {
  switch (state) {
    case NoteState::kPending:
      return "pending";
    case NoteState::kOnChain:
      return "on_chain";
    case NoteState::kSpending:
      return "spending";
    case NoteState::kSpent:
      return "spent";
  }
  return "unknown";
}

std::string_view job_state_name(JobState state) {
  switch (state) {
    case JobState::kPending:
      return "pending";
    case JobState::kRunning:
      return "running";
    case JobState::kDone:
      return "done";
    case JobState::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view payment_state_name(PaymentState state) {
  switch (state) {
    case PaymentState::kPrepared:
      return "prepared";
    case PaymentState::kSigned:
      return "signed";
    case PaymentState::kSubmitted:
      return "submitted";
    case PaymentState::kConfirmed:
      return "confirmed";
    case PaymentState::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace {

// The record encodings both backends share (store/record_codec.h).
using namespace store_codec;  // NOLINT(google-build-using-namespace)

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Transaction;

// Migration i (0-based) takes the schema from version i to i + 1. Append only; never edit one that
// has shipped.
constexpr const char* kMigrations[] = {
    R"sql(
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
)sql",
    R"sql(
ALTER TABLE leaves ADD COLUMN block INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leaves ADD COLUMN root BLOB;
CREATE INDEX leaves_by_block ON leaves(block);
ALTER TABLE notes ADD COLUMN spent_block INTEGER;
CREATE TABLE settings(
  wallet TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (wallet, key));
CREATE TABLE named_secrets(
  wallet TEXT NOT NULL,
  name TEXT NOT NULL,
  value BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (wallet, name));
CREATE TABLE chain_blocks(
  number INTEGER PRIMARY KEY,
  hash BLOB NOT NULL);
CREATE TABLE sync_cursor(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  number INTEGER NOT NULL,
  hash BLOB NOT NULL);
CREATE TABLE payments(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  wallet TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount INTEGER NOT NULL,
  recipient TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('prepared', 'signed', 'submitted', 'confirmed', 'failed')),
  tx_hash TEXT NOT NULL,
  raw_tx BLOB,
  nonce INTEGER NOT NULL,
  gas_used INTEGER NOT NULL,
  block INTEGER NOT NULL,
  error TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE INDEX payments_by_wallet_state ON payments(wallet, state, id);
CREATE TABLE payment_notes(
  payment_id INTEGER NOT NULL REFERENCES payments(id),
  note_id INTEGER NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('spend', 'new')));
CREATE INDEX payment_notes_by_payment ON payment_notes(payment_id, role);
CREATE INDEX payment_notes_by_note ON payment_notes(note_id);
)sql",
    R"sql(
ALTER TABLE payments ADD COLUMN settled_by TEXT NOT NULL DEFAULT '';
)sql",
};
constexpr auto kSchemaVersion = static_cast<std::int64_t>(std::size(kMigrations));

// Associated data binding each sealed column to its record.

// uint64 values are stored in SQLite's signed 64-bit INTEGER by their bit pattern.

// `var` is a declaration or an lvalue and `tmp` a fresh name: neither can be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BUCKETPAY_ASSIGN_OR_RETURN_IMPL(var, tmp, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  var = std::move(*tmp)
// NOLINTEND(bugprone-macro-parentheses)
#define BUCKETPAY_CONCAT_INNER(a, b) a##b
#define BUCKETPAY_CONCAT(a, b) BUCKETPAY_CONCAT_INNER(a, b)
// `decl = value of expr (a Result)`, or returns its failure.
#define ASSIGN_OR_RETURN(decl, expr) BUCKETPAY_ASSIGN_OR_RETURN_IMPL(decl, BUCKETPAY_CONCAT(result_, __LINE__), expr)

constexpr const char* kNoteColumns = "id, wallet, pk, value, r, leaf_index, state, commitment, created_ms";
constexpr const char* kPrecomputeColumns =
    "id, key, note_id, circuit, amount, recipient, public_inputs, proof, outputs, created_ms, "
    "prove_ms, worker";
constexpr const char* kJobColumns = "id, key, batch, circuit, spec, state, tries, error, updated_ms, worker";
constexpr const char* kPaymentColumns =
    "id, wallet, kind, amount, recipient, state, tx_hash, raw_tx, nonce, gas_used, block, error, latency_ms, "
    "created_ms, updated_ms, settled_by";

// An flock(2)ed file, unlocked and closed on destruction.
class FileLock final : public Store::Lock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  ~FileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<Db> db, std::optional<Vault> vault, std::filesystem::path file)
      : db_(std::move(db)), vault_(std::move(vault)), file_(std::move(file)) {}

  [[nodiscard]] bool has_vault() const override { return vault_.has_value(); }

  Result<std::uint64_t> append_leaves(std::span<const Fr> leaves) override {
    return guarded<std::uint64_t>("append_leaves", [&]() -> Result<std::uint64_t> {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      ASSIGN_OR_RETURN(const std::uint64_t first, leaf_count_locked());
      {
        ASSIGN_OR_RETURN(Stmt insert, db_->prepare("INSERT INTO leaves(idx, value) VALUES (?1, ?2)"));
        std::uint64_t idx = first;
        for (const Fr& leaf : leaves) {
          const Fr::Bytes b = leaf.to_bytes();
          insert.bind(1, to_db(idx++)).bind(2, std::span<const std::uint8_t>(b));
          BUCKETPAY_RETURN_IF_ERROR(insert.run());
        }
      }
      BUCKETPAY_RETURN_IF_ERROR(txn.commit());
      return first;
    });
  }

  Result<std::vector<Fr>> load_leaves() override {
    return guarded<std::vector<Fr>>("load_leaves", [&]() -> Result<std::vector<Fr>> {
      ASSIGN_OR_RETURN(const std::uint64_t count, leaf_count_locked());
      std::vector<Fr> out;
      out.reserve(count);
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT idx, value FROM leaves ORDER BY idx"));
      while (true) {
        ASSIGN_OR_RETURN(const bool row, q.step());
        if (!row) {
          break;
        }
        if (from_db(q.int64(0)) != out.size()) {
          return Status::corruption("leaves are not contiguous at index " + std::to_string(out.size()));
        }
        ASSIGN_OR_RETURN(const Fr leaf, decode_fr(q.blob(1), "leaf"));
        out.push_back(leaf);
      }
      return out;
    });
  }

  Result<std::uint64_t> leaf_count() override {
    return guarded<std::uint64_t>("leaf_count", [&] { return leaf_count_locked(); });
  }

  // ---- Notes.

  Result<std::int64_t> insert_note(const StoredNote& note) override {
    return guarded<std::int64_t>("insert_note", [&]() -> Result<std::int64_t> {
      if (Status st = validate_note(note); !st.is_ok()) {
        return st;
      }
      Fr::Bytes r = note.r.to_bytes();
      Bytes sealed_r = seal_secret(r, note_r_ad(note.commitment));
      wipe(r);
      const Fr::Bytes pk = note.pk.to_bytes();
      const Fr::Bytes cm = note.commitment.to_bytes();
      ASSIGN_OR_RETURN(
          Stmt q, db_->prepare("INSERT INTO notes(wallet, pk, value, r, leaf_index, state, commitment, created_ms) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
      q.bind(1, std::string_view(note.wallet))
          .bind(2, std::span<const std::uint8_t>(pk))
          .bind(3, to_db(note.value))
          .bind(4, std::span<const std::uint8_t>(sealed_r))
          .bind(6, note_state_name(note.state))
          .bind(7, std::span<const std::uint8_t>(cm))
          .bind(8, note.created_ms != 0 ? note.created_ms : now_ms());
      if (note.leaf_index) {
        q.bind(5, to_db(*note.leaf_index));
      } else {
        q.bind_null(5);
      }
      wipe(sealed_r);  // plaintext r when there is no vault
      BUCKETPAY_RETURN_IF_ERROR(q.run());
      return db_->last_insert_rowid();
    });
  }

  Result<StoredNote> get_note(std::int64_t id) override {
    return guarded<StoredNote>("get_note", [&] { return get_note_locked(id); });
  }

  Result<std::vector<StoredNote>> find_notes_by_commitment(const Fr& commitment) override {
    return guarded<std::vector<StoredNote>>("find_notes_by_commitment", [&] {
      static const std::string sql =
          std::string("SELECT ") + kNoteColumns + " FROM notes WHERE commitment = ?1 ORDER BY id";
      const Fr::Bytes cm = commitment.to_bytes();
      return query_notes(sql.c_str(), [&](Stmt& q) { q.bind(1, std::span<const std::uint8_t>(cm)); });
    });
  }

  Result<std::vector<StoredNote>> list_notes(std::string_view wallet, std::optional<NoteState> state) override {
    return guarded<std::vector<StoredNote>>("list_notes", [&]() -> Result<std::vector<StoredNote>> {
      static const std::string all =
          std::string("SELECT ") + kNoteColumns + " FROM notes WHERE wallet = ?1 ORDER BY id";
      static const std::string by_state =
          std::string("SELECT ") + kNoteColumns + " FROM notes WHERE wallet = ?1 AND state = ?2 ORDER BY id";
      if (!state) {
        return query_notes(all.c_str(), [&](Stmt& q) { q.bind(1, wallet); });
      }
      return query_notes(by_state.c_str(), [&](Stmt& q) { q.bind(1, wallet).bind(2, note_state_name(*state)); });
    });
  }

  Status set_note_state(std::int64_t id, NoteState state) override {
    return guarded_status("set_note_state", [&] { return set_note_state_locked(id, std::nullopt, state); });
  }

  Status transition_note_state(std::int64_t id, NoteState from, NoteState to) override {
    return guarded_status("transition_note_state", [&] { return set_note_state_locked(id, from, to); });
  }

  Status set_note_leaf_index(std::int64_t id, std::uint64_t leaf_index) override {
    return guarded_status("set_note_leaf_index", [&]() -> Status {
      if (leaf_index > std::numeric_limits<std::int64_t>::max()) {
        return Status::invalid_argument("leaf index out of range");
      }
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE notes SET leaf_index = ?2, "
                                            "state = CASE state WHEN 'pending' THEN 'on_chain' ELSE state END "
                                            "WHERE id = ?1 AND (leaf_index IS NULL OR leaf_index = ?2)"));
      q.bind(1, id).bind(2, to_db(leaf_index));
      BUCKETPAY_RETURN_IF_ERROR(q.run());
      if (db_->changes() == 1) {
        return Status::ok();
      }
      ASSIGN_OR_RETURN(const StoredNote note, get_note_locked(id));
      return Status::failed_precondition("note " + std::to_string(id) + " is already at leaf " +
                                         std::to_string(note.leaf_index.value_or(0)));
    });
  }

  // ---- Spending keys.

  Status put_spending_key(std::string_view wallet, const Fr& sk) override {
    return guarded_status("put_spending_key", [&]() -> Status {
      if (!vault_) {
        return Status::failed_precondition(
            "refusing to store a spending key: this store has no vault (open it with a passphrase)");
      }
      if (wallet.empty()) {
        return Status::invalid_argument("the wallet name is empty");
      }
      Fr::Bytes plain = sk.to_bytes();
      const Bytes sealed = vault_->seal(plain, spending_key_ad(wallet));
      wipe(plain);
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("INSERT INTO secrets(wallet, sk, created_ms) VALUES (?1, ?2, ?3)"));
      q.bind(1, wallet).bind(2, std::span<const std::uint8_t>(sealed)).bind(3, now_ms());
      Status s = q.run();
      if (s.code() == StatusCode::kAlreadyExists) {
        return Status::already_exists("wallet '" + std::string(wallet) +
                                      "' already has a spending key (never overwritten)");
      }
      return s;
    });
  }

  Result<Fr> get_spending_key(std::string_view wallet) override {
    return guarded<Fr>("get_spending_key", [&]() -> Result<Fr> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT sk FROM secrets WHERE wallet = ?1"));
      q.bind(1, wallet);
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) {
        return Status::not_found("no spending key for wallet '" + std::string(wallet) + "'");
      }
      if (!vault_) {
        return Status::failed_precondition("the spending key is sealed and this store has no vault");
      }
      ASSIGN_OR_RETURN(Bytes plain, vault_->unseal(q.blob(0), spending_key_ad(wallet)));
      Result<Fr> sk = decode_fr(plain, "spending key");
      wipe(plain);
      return sk;
    });
  }

  // ---- Precomputes.

  Result<std::int64_t> insert_precompute(const Precompute& p) override {
    return guarded<std::int64_t>("insert_precompute", [&] { return insert_precompute_locked(p); });
  }

  Result<std::optional<Precompute>> find_precompute(std::string_view key) override {
    return guarded<std::optional<Precompute>>("find_precompute", [&]() -> Result<std::optional<Precompute>> {
      static const std::string sql = std::string("SELECT ") + kPrecomputeColumns + " FROM precomputes WHERE key = ?1";
      ASSIGN_OR_RETURN(std::vector<Precompute> found, query_precomputes(sql.c_str(), [&](Stmt& q) { q.bind(1, key); }));
      if (found.empty()) {
        return std::optional<Precompute>();
      }
      return std::optional<Precompute>(std::move(found.front()));
    });
  }

  Result<std::vector<Precompute>> list_precomputes_for_note(std::int64_t note_id) override {
    return guarded<std::vector<Precompute>>("list_precomputes_for_note", [&] {
      static const std::string sql =
          std::string("SELECT ") + kPrecomputeColumns + " FROM precomputes WHERE note_id = ?1 ORDER BY id";
      return query_precomputes(sql.c_str(), [&](Stmt& q) { q.bind(1, note_id); });
    });
  }

  Result<std::vector<Precompute>> list_precomputes_by_circuit(std::string_view circuit) override {
    return guarded<std::vector<Precompute>>("list_precomputes_by_circuit", [&] {
      static const std::string sql =
          std::string("SELECT ") + kPrecomputeColumns + " FROM precomputes WHERE circuit = ?1 ORDER BY id";
      return query_precomputes(sql.c_str(), [&](Stmt& q) { q.bind(1, circuit); });
    });
  }

  Result<std::int64_t> count_precomputes() override {
    return guarded<std::int64_t>("count_precomputes", [&]() -> Result<std::int64_t> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT COUNT(*) FROM precomputes"));
      ASSIGN_OR_RETURN(const bool row, q.step());
      return row ? q.int64(0) : 0;
    });
  }

  Result<std::int64_t> delete_precomputes_for_note(std::int64_t note_id) override {
    return guarded<std::int64_t>("delete_precomputes_for_note", [&]() -> Result<std::int64_t> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("DELETE FROM precomputes WHERE note_id = ?1"));
      q.bind(1, note_id);
      BUCKETPAY_RETURN_IF_ERROR(q.run());
      return db_->changes();
    });
  }

  // ---- Jobs.

  Result<std::int64_t> enqueue_jobs(std::span<const Job> jobs) override {
    return guarded<std::int64_t>("enqueue_jobs", [&]() -> Result<std::int64_t> {
      for (const Job& job : jobs) {
        if (job.key.empty()) {
          return Status::invalid_argument("a job has an empty key");
        }
        BUCKETPAY_RETURN_IF_ERROR(check_json(job.spec_json, "job '" + job.key + "' spec_json"));
      }
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      std::int64_t added = 0;
      const std::int64_t now = now_ms();
      {
        ASSIGN_OR_RETURN(
            Stmt q, db_->prepare("INSERT INTO jobs(key, batch, circuit, spec, state, tries, error, updated_ms, worker) "
                                 "VALUES (?1, ?2, ?3, ?4, 'pending', 0, '', ?5, -1) ON CONFLICT(key) DO NOTHING"));
        for (const Job& job : jobs) {
          Bytes spec;
          if (!job.spec_json.empty()) {
            spec = seal_secret(as_bytes(job.spec_json), job_spec_ad(job.key));
          }
          q.bind(1, std::string_view(job.key))
              .bind(2, std::string_view(job.batch))
              .bind(3, std::string_view(job.circuit))
              .bind(5, now);
          if (job.spec_json.empty()) {
            q.bind_null(4);
          } else {
            q.bind(4, std::span<const std::uint8_t>(spec));
          }
          wipe(spec);
          BUCKETPAY_RETURN_IF_ERROR(q.run());
          added += db_->changes();
        }
      }
      BUCKETPAY_RETURN_IF_ERROR(txn.commit());
      return added;
    });
  }

  Result<std::optional<Job>> claim_next_job(int worker) override {
    return guarded<std::optional<Job>>("claim_next_job", [&]() -> Result<std::optional<Job>> {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      std::optional<std::pair<std::int64_t, std::string>> claimed;  // id, key
      Result<Job> job = Status::internal("unset");
      {
        static const std::string sql =
            std::string(
                "UPDATE jobs SET state = 'running', tries = tries + 1, worker = ?1, updated_ms = ?2 "
                "WHERE id = (SELECT id FROM jobs WHERE state = 'pending' ORDER BY id LIMIT 1) "
                "RETURNING ") +
            kJobColumns;
        ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql.c_str()));
        q.bind(1, worker).bind(2, now_ms());
        ASSIGN_OR_RETURN(const bool row, q.step());
        if (!row) {
          return std::optional<Job>();
        }
        claimed.emplace(q.int64(0), q.text(1));
        job = read_job(q);
        BUCKETPAY_RETURN_IF_ERROR(q.run());  // RETURNING: the update completes at SQLITE_DONE
      }
      if (!job.ok()) {
        // A job whose stored spec cannot be read would be handed out forever: fail it for good,
        // and report why.
        ASSIGN_OR_RETURN(Stmt fail,
                         db_->prepare("UPDATE jobs SET state = 'failed', error = ?2, updated_ms = ?3 WHERE id = ?1"));
        fail.bind(1, claimed->first).bind(2, job.status().message()).bind(3, now_ms());
        BUCKETPAY_RETURN_IF_ERROR(fail.run());
        BUCKETPAY_RETURN_IF_ERROR(txn.commit());
        return job.status().with_context("job '" + claimed->second + "' failed permanently");
      }
      BUCKETPAY_RETURN_IF_ERROR(txn.commit());
      return std::optional<Job>(std::move(*job));
    });
  }

  Result<std::int64_t> complete_job(std::int64_t job_id, const Precompute& precompute) override {
    return guarded<std::int64_t>("complete_job", [&]() -> Result<std::int64_t> {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      std::string key;
      {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT key, state FROM jobs WHERE id = ?1"));
        q.bind(1, job_id);
        ASSIGN_OR_RETURN(const bool row, q.step());
        if (!row) {
          return Status::not_found("no job " + std::to_string(job_id));
        }
        key = q.text(0);
        const std::string state = q.text(1);
        if (state != job_state_name(JobState::kRunning)) {
          return Status::failed_precondition("job '" + key + "' is " + state + ", not running");
        }
      }
      if (!precompute.key.empty() && precompute.key != key) {
        return Status::invalid_argument("precompute key '" + precompute.key + "' differs from its job's key '" + key +
                                        "'");
      }
      Precompute p = precompute;
      p.key = key;
      ASSIGN_OR_RETURN(const std::int64_t id, insert_precompute_locked(p));
      wipe(p.outputs_json);
      {
        ASSIGN_OR_RETURN(Stmt q,
                         db_->prepare("UPDATE jobs SET state = 'done', error = '', updated_ms = ?2 WHERE id = ?1"));
        q.bind(1, job_id).bind(2, now_ms());
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      BUCKETPAY_RETURN_IF_ERROR(txn.commit());
      return id;
    });
  }

  Status fail_job(std::int64_t job_id, std::string_view error, bool permanent) override {
    return guarded_status("fail_job", [&]() -> Status {
      ASSIGN_OR_RETURN(
          Stmt q,
          db_->prepare("UPDATE jobs SET state = ?2, error = ?3, updated_ms = ?4 WHERE id = ?1 AND state = 'running'"));
      q.bind(1, job_id)
          .bind(2, job_state_name(permanent ? JobState::kFailed : JobState::kPending))
          .bind(3, error)
          .bind(4, now_ms());
      BUCKETPAY_RETURN_IF_ERROR(q.run());
      if (db_->changes() == 1) {
        return Status::ok();
      }
      ASSIGN_OR_RETURN(const Job job, get_job_locked(job_id));
      return Status::failed_precondition("job '" + job.key + "' is " + std::string(job_state_name(job.state)) +
                                         ", not running");
    });
  }

  Result<std::int64_t> reset_running_jobs() override {
    return guarded<std::int64_t>("reset_running_jobs", [&]() -> Result<std::int64_t> {
      ASSIGN_OR_RETURN(Stmt q,
                       db_->prepare("UPDATE jobs SET state = 'pending', updated_ms = ?1 WHERE state = 'running'"));
      q.bind(1, now_ms());
      BUCKETPAY_RETURN_IF_ERROR(q.run());
      return db_->changes();
    });
  }

  Result<Job> get_job(std::int64_t id) override {
    return guarded<Job>("get_job", [&] { return get_job_locked(id); });
  }

  Result<std::vector<Job>> list_jobs(std::optional<std::string_view> batch) override {
    return guarded<std::vector<Job>>("list_jobs", [&]() -> Result<std::vector<Job>> {
      static const std::string all = std::string("SELECT ") + kJobColumns + " FROM jobs ORDER BY id";
      static const std::string by_batch =
          std::string("SELECT ") + kJobColumns + " FROM jobs WHERE batch = ?1 ORDER BY id";
      ASSIGN_OR_RETURN(Stmt q, db_->prepare(batch ? by_batch.c_str() : all.c_str()));
      if (batch) {
        q.bind(1, *batch);
      }
      std::vector<Job> out;
      while (true) {
        ASSIGN_OR_RETURN(const bool row, q.step());
        if (!row) {
          break;
        }
        ASSIGN_OR_RETURN(Job job, read_job(q));
        out.push_back(std::move(job));
      }
      return out;
    });
  }

  Result<JobCounts> job_counts(std::optional<std::string_view> batch) override {
    return guarded<JobCounts>("job_counts", [&]() -> Result<JobCounts> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare(batch ? "SELECT state, COUNT(*) FROM jobs WHERE batch = ?1 GROUP BY state"
                                                  : "SELECT state, COUNT(*) FROM jobs GROUP BY state"));
      if (batch) {
        q.bind(1, *batch);
      }
      JobCounts counts;
      while (true) {
        ASSIGN_OR_RETURN(const bool row, q.step());
        if (!row) {
          break;
        }
        ASSIGN_OR_RETURN(const JobState state, parse_job_state(q.text(0)));
        const std::int64_t n = q.int64(1);
        switch (state) {
          case JobState::kPending:
            counts.pending = n;
            break;
          case JobState::kRunning:
            counts.running = n;
            break;
          case JobState::kDone:
            counts.done = n;
            break;
          case JobState::kFailed:
            counts.failed = n;
            break;
        }
      }
      return counts;
    });
  }

  // ---- Wallet state: precompute removal, settings, named secrets.

  Status delete_precompute(std::string_view key) override {
    return guarded_status("delete_precompute", [&]() -> Status {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("DELETE FROM precomputes WHERE key = ?1"));
        q.bind(1, key);
        BUCKETPAY_RETURN_IF_ERROR(q.run());
        if (db_->changes() == 0) return Status::not_found("no precompute '" + std::string(key) + "'");
      }
      {
        // Its job goes too, so that the same key can be proved again.
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("DELETE FROM jobs WHERE key = ?1"));
        q.bind(1, key);
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      return txn.commit();
    });
  }

  Status put_setting(std::string_view wallet, std::string_view key, std::string_view value) override {
    return guarded_status("put_setting", [&]() -> Status {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("INSERT INTO settings(wallet, key, value) VALUES (?1, ?2, ?3) "
                                            "ON CONFLICT(wallet, key) DO UPDATE SET value = excluded.value"));
      q.bind(1, wallet).bind(2, key).bind(3, value);
      return q.run();
    });
  }

  Result<std::optional<std::string>> get_setting(std::string_view wallet, std::string_view key) override {
    return guarded<std::optional<std::string>>("get_setting", [&]() -> Result<std::optional<std::string>> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT value FROM settings WHERE wallet = ?1 AND key = ?2"));
      q.bind(1, wallet).bind(2, key);
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) return std::optional<std::string>();
      return std::optional<std::string>(q.text(0));
    });
  }

  Status put_secret(std::string_view wallet, std::string_view name, std::span<const std::uint8_t> value) override {
    return guarded_status("put_secret", [&]() -> Status {
      if (!vault_) {
        return Status::failed_precondition(
            "refusing to store a secret: this store has no vault (open it with a passphrase)");
      }
      if (wallet.empty() || name.empty()) return Status::invalid_argument("the wallet or secret name is empty");
      const Bytes sealed = vault_->seal(value, secret_ad(wallet, name));
      ASSIGN_OR_RETURN(
          Stmt q, db_->prepare("INSERT INTO named_secrets(wallet, name, value, created_ms) VALUES (?1, ?2, ?3, ?4)"));
      q.bind(1, wallet).bind(2, name).bind(3, std::span<const std::uint8_t>(sealed)).bind(4, now_ms());
      Status s = q.run();
      if (s.code() == StatusCode::kAlreadyExists) {
        return Status::already_exists("wallet '" + std::string(wallet) + "' already has a secret '" +
                                      std::string(name) + "' (never overwritten)");
      }
      return s;
    });
  }

  Result<Bytes> get_secret(std::string_view wallet, std::string_view name) override {
    return guarded<Bytes>("get_secret", [&]() -> Result<Bytes> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT value FROM named_secrets WHERE wallet = ?1 AND name = ?2"));
      q.bind(1, wallet).bind(2, name);
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row)
        return Status::not_found("wallet '" + std::string(wallet) + "' has no secret '" + std::string(name) + "'");
      if (!vault_) return Status::failed_precondition("the secret is sealed and this store has no vault");
      return vault_->unseal(q.blob(0), secret_ad(wallet, name));
    });
  }

  // ---- Chain sync.

  Status apply_chain_update(const ChainUpdate& u) override {
    return guarded_status("apply_chain_update", [&]() -> Status {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      ASSIGN_OR_RETURN(std::uint64_t count, leaf_count_locked());
      {
        ASSIGN_OR_RETURN(Stmt get, db_->prepare("SELECT value FROM leaves WHERE idx = ?1"));
        ASSIGN_OR_RETURN(Stmt insert,
                         db_->prepare("INSERT INTO leaves(idx, value, block, root) VALUES (?1, ?2, ?3, ?4)"));
        for (const ChainLeaf& leaf : u.leaves) {
          const Fr::Bytes v = leaf.value.to_bytes();
          if (leaf.index < count) {
            get.bind(1, to_db(leaf.index));
            ASSIGN_OR_RETURN(const bool row, get.step());
            if (!row || get.blob(0) != Bytes(v.begin(), v.end())) {
              return Status::failed_precondition("leaf " + std::to_string(leaf.index) + " differs from the stored one");
            }
            BUCKETPAY_RETURN_IF_ERROR(get.run());  // reset
            continue;
          }
          if (leaf.index != count) {
            return Status::failed_precondition("leaf " + std::to_string(leaf.index) + " would leave a gap after " +
                                               std::to_string(count) + " leaves");
          }
          const Fr::Bytes root = leaf.root.to_bytes();
          insert.bind(1, to_db(leaf.index))
              .bind(2, std::span<const std::uint8_t>(v))
              .bind(3, to_db(leaf.block))
              .bind(4, std::span<const std::uint8_t>(root));
          BUCKETPAY_RETURN_IF_ERROR(insert.run());
          ++count;
        }
      }
      {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE notes SET leaf_index = ?2, "
                                              "state = CASE state WHEN 'pending' THEN 'on_chain' ELSE state END "
                                              "WHERE id = ?1 AND (leaf_index IS NULL OR leaf_index = ?2)"));
        for (const auto& nl : u.note_leaves) {
          q.bind(1, nl.note_id).bind(2, to_db(nl.leaf_index));
          BUCKETPAY_RETURN_IF_ERROR(q.run());
          if (db_->changes() != 1) {
            return Status::failed_precondition("note " + std::to_string(nl.note_id) + " is missing or at another leaf");
          }
        }
      }
      for (const auto& s : u.spent) BUCKETPAY_RETURN_IF_ERROR(mark_spent_locked(s.note_id, s.block));
      BUCKETPAY_RETURN_IF_ERROR(remember_blocks_locked(u.blocks));
      BUCKETPAY_RETURN_IF_ERROR(set_cursor_locked(u.cursor));
      return txn.commit();
    });
  }

  Result<std::optional<BlockRef>> sync_cursor() override {
    return guarded<std::optional<BlockRef>>("sync_cursor", [&]() -> Result<std::optional<BlockRef>> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT number, hash FROM sync_cursor WHERE id = 1"));
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) return std::optional<BlockRef>();
      ASSIGN_OR_RETURN(BlockRef b, read_block(q));
      return std::optional<BlockRef>(b);
    });
  }

  Result<std::vector<BlockRef>> recent_blocks(std::size_t limit) override {
    return guarded<std::vector<BlockRef>>("recent_blocks", [&]() -> Result<std::vector<BlockRef>> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT number, hash FROM chain_blocks ORDER BY number DESC LIMIT ?1"));
      q.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
      std::vector<BlockRef> out;
      while (true) {
        ASSIGN_OR_RETURN(const bool row, q.step());
        if (!row) break;
        ASSIGN_OR_RETURN(BlockRef b, read_block(q));
        out.push_back(b);
      }
      return out;
    });
  }

  Status rollback_chain(const BlockRef& cursor) override {
    return guarded_status("rollback_chain", [&]() -> Status {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      const std::int64_t b = to_db(cursor.number);
      // The tree is cut at its first leaf from a vanished block (leaves stay contiguous even if an
      // unstamped leaf, block 0, was appended after it).
      std::int64_t keep = 0;
      {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT COALESCE((SELECT MIN(idx) FROM leaves WHERE block > ?1), "
                                              "(SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves))"));
        q.bind(1, b);
        ASSIGN_OR_RETURN(const bool row, q.step());
        keep = row ? q.int64(0) : 0;
      }
      for (const char* sql : {
               // Payments mined after the fork point are in flight again, to be looked up.
               "UPDATE payments SET state = 'submitted', block = 0, gas_used = 0 WHERE state = 'confirmed' AND block > "
               "?1",
           }) {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql));
        q.bind(1, b);
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      for (const char* sql : {
               // Notes on vanished leaves: pending again, without their proofs (and jobs, to prove again).
               "DELETE FROM jobs WHERE key IN (SELECT key FROM precomputes WHERE note_id IN "
               "(SELECT id FROM notes WHERE leaf_index >= ?1))",
               "DELETE FROM precomputes WHERE note_id IN (SELECT id FROM notes WHERE leaf_index >= ?1)",
               "UPDATE notes SET leaf_index = NULL, state = 'pending', spent_block = NULL WHERE leaf_index >= ?1",
               "DELETE FROM leaves WHERE idx >= ?1",
           }) {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql));
        q.bind(1, keep);
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      for (const char* sql : {
               // Spent marks from vanished blocks (after the payments above went back in flight):
               // reserved again when a payment in flight holds the note.
               "UPDATE notes SET spent_block = NULL, state = CASE WHEN EXISTS (SELECT 1 FROM payment_notes pn "
               "JOIN payments p ON p.id = pn.payment_id WHERE pn.note_id = notes.id AND pn.role = 'spend' "
               "AND p.state IN ('signed', 'submitted')) THEN 'spending' ELSE 'on_chain' END "
               "WHERE spent_block > ?1 AND leaf_index IS NOT NULL",
               "DELETE FROM chain_blocks WHERE number > ?1",
           }) {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql));
        q.bind(1, b);
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      BUCKETPAY_RETURN_IF_ERROR(remember_blocks_locked(std::span(&cursor, 1)));
      BUCKETPAY_RETURN_IF_ERROR(set_cursor_locked(cursor));
      return txn.commit();
    });
  }

  Result<std::vector<Fr>> known_roots() override {
    return guarded<std::vector<Fr>>("known_roots", [&]() -> Result<std::vector<Fr>> {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT root FROM leaves WHERE root IS NOT NULL ORDER BY idx"));
      std::vector<Fr> out;
      std::set<Fr::Bytes> seen;
      while (true) {
        ASSIGN_OR_RETURN(const bool row, q.step());
        if (!row) break;
        ASSIGN_OR_RETURN(const Fr r, decode_fr(q.blob(0), "leaf root"));
        if (seen.insert(r.to_bytes()).second) out.push_back(r);
      }
      return out;
    });
  }

  // ---- Payments journal.

  Result<std::int64_t> begin_payment(const Payment& p) override {
    return guarded<std::int64_t>("begin_payment", [&]() -> Result<std::int64_t> {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      const std::int64_t now = p.created_ms != 0 ? p.created_ms : now_ms();
      {
        ASSIGN_OR_RETURN(Stmt q,
                         db_->prepare("INSERT INTO payments(wallet, kind, amount, recipient, state, tx_hash, nonce, "
                                      "gas_used, block, error, latency_ms, created_ms, updated_ms) "
                                      "VALUES (?1, ?2, ?3, ?4, 'prepared', '', 0, 0, 0, '', 0, ?5, ?5)"));
        q.bind(1, std::string_view(p.wallet))
            .bind(2, std::string_view(p.kind))
            .bind(3, to_db(p.amount))
            .bind(4, std::string_view(p.recipient))
            .bind(5, now);
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      const std::int64_t id = db_->last_insert_rowid();
      {
        ASSIGN_OR_RETURN(Stmt reserve,
                         db_->prepare("UPDATE notes SET state = 'spending' WHERE id = ?1 AND state = 'on_chain'"));
        for (std::int64_t note : p.note_ids) {
          reserve.bind(1, note);
          BUCKETPAY_RETURN_IF_ERROR(reserve.run());
          if (db_->changes() != 1) {
            return Status::failed_precondition("note " + std::to_string(note) +
                                               " is not on chain and unreserved: it cannot be spent now");
          }
        }
      }
      BUCKETPAY_RETURN_IF_ERROR(link_notes_locked(id, p.note_ids, "spend"));
      BUCKETPAY_RETURN_IF_ERROR(link_notes_locked(id, p.new_note_ids, "new"));
      BUCKETPAY_RETURN_IF_ERROR(txn.commit());
      return id;
    });
  }

  Status record_payment_signed(std::int64_t id, std::string_view tx_hash, std::span<const std::uint8_t> raw_tx,
                               std::uint64_t nonce, double latency_ms) override {
    return guarded_status("record_payment_signed", [&]() -> Status {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE payments SET state = 'signed', tx_hash = ?2, raw_tx = ?3, "
                                            "nonce = ?4, latency_ms = ?5, updated_ms = ?6 "
                                            "WHERE id = ?1 AND state = 'prepared'"));
      q.bind(1, id).bind(2, tx_hash).bind(3, raw_tx).bind(4, to_db(nonce)).bind(5, latency_ms).bind(6, now_ms());
      BUCKETPAY_RETURN_IF_ERROR(q.run());
      if (db_->changes() == 1) return Status::ok();
      return wrong_payment_state_locked(id, "signed");
    });
  }

  Status mark_payment_submitted(std::int64_t id) override {
    return guarded_status("mark_payment_submitted", [&]() -> Status {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE payments SET state = 'submitted', updated_ms = ?2 "
                                            "WHERE id = ?1 AND state IN ('signed', 'submitted')"));
      q.bind(1, id).bind(2, now_ms());
      BUCKETPAY_RETURN_IF_ERROR(q.run());
      if (db_->changes() == 1) return Status::ok();
      return wrong_payment_state_locked(id, "submitted");
    });
  }

  Status confirm_payment(std::int64_t id, std::uint64_t gas_used, std::uint64_t block) override {
    return guarded_status("confirm_payment", [&]() -> Status {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      ASSIGN_OR_RETURN(const std::string state, payment_state_locked(id));
      if (state == "confirmed") return Status::ok();
      if (state != "signed" && state != "submitted") {
        return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ", not in flight");
      }
      {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE payments SET state = 'confirmed', gas_used = ?2, block = ?3, "
                                              "settled_by = '', updated_ms = ?4 WHERE id = ?1"));
        q.bind(1, id).bind(2, to_db(gas_used)).bind(3, to_db(block)).bind(4, now_ms());
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      ASSIGN_OR_RETURN(const std::vector<std::int64_t> notes, linked_notes_locked(id, "spend"));
      for (std::int64_t note : notes) BUCKETPAY_RETURN_IF_ERROR(mark_spent_locked(note, block));
      return txn.commit();
    });
  }

  Result<std::unique_ptr<Lock>> lock(std::string_view name, std::chrono::milliseconds timeout) override {
    // One file per lock name beside the database, locked with flock(2): the kernel drops the lock
    // when its holder exits, however it exits.
    std::string suffix;
    for (const char c : name) suffix += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
    const std::filesystem::path path = file_.string() + ".lock-" + suffix;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::io_error("opening " + path.string() + ": " + std::strerror(errno));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return std::unique_ptr<Lock>(new FileLock(fd));
      const int err = errno;
      if (err != EWOULDBLOCK && err != EINTR) {
        ::close(fd);
        return Status::io_error("locking " + path.string() + ": " + std::strerror(err));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::close(fd);
        return Status::unavailable("lock \"" + std::string(name) + "\" is held by another process (waited " +
                                   std::to_string(timeout.count()) + " ms)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  Status reopen_payment(std::int64_t id) override {
    return guarded_status("reopen_payment", [&]() -> Status {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      ASSIGN_OR_RETURN(const std::string state, payment_state_locked(id));
      if (state == "submitted") return Status::ok();
      if (state != "confirmed") {
        return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ", not confirmed");
      }
      {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE payments SET state = 'submitted', block = 0, gas_used = 0, "
                                              "updated_ms = ?2 WHERE id = ?1"));
        q.bind(1, id).bind(2, now_ms());
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE notes SET state = 'spending', spent_block = NULL WHERE state = "
                                              "'spent' AND id IN (SELECT note_id FROM payment_notes WHERE "
                                              "payment_id = ?1 AND role = 'spend')"));
        q.bind(1, id);
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      return txn.commit();
    });
  }

  Status fail_payment(std::int64_t id, std::string_view error, std::span<const std::int64_t> spent_note_ids,
                      std::uint64_t block) override {
    return guarded_status("fail_payment", [&]() -> Status {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      ASSIGN_OR_RETURN(const std::string state, payment_state_locked(id));
      if (state == "failed") return Status::ok();
      if (state == "confirmed") return Status::failed_precondition("payment " + std::to_string(id) + " is confirmed");
      BUCKETPAY_RETURN_IF_ERROR(fail_payment_locked(id, error, spent_note_ids, block, /*delete_new_notes=*/true));
      return txn.commit();
    });
  }

  Status fail_payment_if(std::int64_t id, PaymentState expected, std::string_view error,
                         std::span<const std::int64_t> spent_note_ids, std::uint64_t block) override {
    return guarded_status("fail_payment_if", [&]() -> Status {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      ASSIGN_OR_RETURN(const std::string state, payment_state_locked(id));
      if (state != payment_state_name(expected) || state == "confirmed" || state == "failed") {
        return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ", not " +
                                           std::string(payment_state_name(expected)) + ": it cannot become failed");
      }
      const bool never_signed = expected == PaymentState::kPrepared;
      BUCKETPAY_RETURN_IF_ERROR(fail_payment_locked(id, error, spent_note_ids, block, never_signed));
      return txn.commit();
    });
  }

  Status settle_payment_by(std::int64_t id, PaymentState expected, std::string_view settled_by,
                           std::uint64_t block) override {
    return guarded_status("settle_payment_by", [&]() -> Status {
      ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
      ASSIGN_OR_RETURN(const std::string state, payment_state_locked(id));
      if (state != payment_state_name(expected) || (state != "signed" && state != "submitted")) {
        return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ", not " +
                                           std::string(payment_state_name(expected)) + " in flight");
      }
      {
        ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE payments SET state = 'confirmed', gas_used = 0, block = ?2, "
                                              "settled_by = ?3, updated_ms = ?4 WHERE id = ?1"));
        q.bind(1, id).bind(2, to_db(block)).bind(3, settled_by).bind(4, now_ms());
        BUCKETPAY_RETURN_IF_ERROR(q.run());
      }
      ASSIGN_OR_RETURN(const std::vector<std::int64_t> notes, linked_notes_locked(id, "spend"));
      for (std::int64_t note : notes) BUCKETPAY_RETURN_IF_ERROR(mark_spent_locked(note, block));
      return txn.commit();
    });
  }

  Result<Payment> get_payment(std::int64_t id) override {
    return guarded<Payment>("get_payment", [&]() -> Result<Payment> {
      static const std::string sql = std::string("SELECT ") + kPaymentColumns + " FROM payments WHERE id = ?1";
      ASSIGN_OR_RETURN(std::vector<Payment> found, query_payments(sql.c_str(), [&](Stmt& q) { q.bind(1, id); }));
      if (found.empty()) return Status::not_found("no payment " + std::to_string(id));
      return std::move(found.front());
    });
  }

  Result<std::vector<Payment>> list_payments(std::string_view wallet, std::optional<PaymentState> state) override {
    return guarded<std::vector<Payment>>("list_payments", [&]() -> Result<std::vector<Payment>> {
      static const std::string all =
          std::string("SELECT ") + kPaymentColumns + " FROM payments WHERE wallet = ?1 ORDER BY id";
      static const std::string by_state =
          std::string("SELECT ") + kPaymentColumns + " FROM payments WHERE wallet = ?1 AND state = ?2 ORDER BY id";
      if (!state) return query_payments(all.c_str(), [&](Stmt& q) { q.bind(1, wallet); });
      return query_payments(by_state.c_str(), [&](Stmt& q) { q.bind(1, wallet).bind(2, payment_state_name(*state)); });
    });
  }

 private:
  // Runs f under the mutex; no exception escapes.
  template <typename T, typename F>
  Result<T> guarded(const char* what, F&& f) {
    try {
      const std::lock_guard lock(mutex_);
      Result<T> r = f();
      if (!r.ok()) {
        return r.status().with_context(what);
      }
      return r;
    } catch (const std::bad_alloc&) {
      return Status::resource_exhausted(std::string(what) + ": out of memory");
    } catch (const std::exception& e) {
      return Status::internal(std::string(what) + ": " + e.what());
    }
  }

  template <typename F>
  Status guarded_status(const char* what, F&& f) {
    try {
      const std::lock_guard lock(mutex_);
      const Status s = f();
      return s.is_ok() ? s : s.with_context(what);
    } catch (const std::bad_alloc&) {
      return Status::resource_exhausted(std::string(what) + ": out of memory");
    } catch (const std::exception& e) {
      return Status::internal(std::string(what) + ": " + e.what());
    }
  }

  // The bytes to store for a secret column: sealed with the vault, else the plaintext.
  Bytes seal_secret(std::span<const std::uint8_t> plain, std::string_view ad) const {
    if (vault_) {
      return vault_->seal(plain, ad);
    }
    return {plain.begin(), plain.end()};
  }

  Result<Bytes> open_secret(std::span<const std::uint8_t> stored, std::string_view ad) const {
    if (vault_) {
      return vault_->unseal(stored, ad);
    }
    return Bytes(stored.begin(), stored.end());
  }

  // ---- Chain and journal helpers (called inside a transaction).

  // -> spent (from any state; the first spent block is kept), its proofs and their jobs dropped.
  Status mark_spent_locked(std::int64_t note, std::uint64_t block) {
    {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE notes SET state = 'spent', "
                                            "spent_block = COALESCE(spent_block, ?2) WHERE id = ?1"));
      q.bind(1, note).bind(2, to_db(block));
      BUCKETPAY_RETURN_IF_ERROR(q.run());
    }
    for (const char* sql : {"DELETE FROM jobs WHERE key IN (SELECT key FROM precomputes WHERE note_id = ?1)",
                            "DELETE FROM precomputes WHERE note_id = ?1"}) {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql));
      q.bind(1, note);
      BUCKETPAY_RETURN_IF_ERROR(q.run());
    }
    return Status::ok();
  }

  Status remember_blocks_locked(std::span<const BlockRef> blocks) {
    ASSIGN_OR_RETURN(Stmt q, db_->prepare("INSERT INTO chain_blocks(number, hash) VALUES (?1, ?2) "
                                          "ON CONFLICT(number) DO UPDATE SET hash = excluded.hash"));
    for (const BlockRef& b : blocks) {
      q.bind(1, to_db(b.number)).bind(2, std::span<const std::uint8_t>(b.hash));
      BUCKETPAY_RETURN_IF_ERROR(q.run());
    }
    return Status::ok();
  }

  Status set_cursor_locked(const BlockRef& b) {
    ASSIGN_OR_RETURN(Stmt q,
                     db_->prepare("INSERT INTO sync_cursor(id, number, hash) VALUES (1, ?1, ?2) "
                                  "ON CONFLICT(id) DO UPDATE SET number = excluded.number, hash = excluded.hash"));
    q.bind(1, to_db(b.number)).bind(2, std::span<const std::uint8_t>(b.hash));
    return q.run();
  }

  static Result<BlockRef> read_block(const Stmt& q) {
    BlockRef b;
    b.number = from_db(q.int64(0));
    const Bytes h = q.blob(1);
    if (h.size() != b.hash.size()) return Status::corruption("a stored block hash is not 32 bytes");
    std::copy(h.begin(), h.end(), b.hash.begin());
    return b;
  }

  Status link_notes_locked(std::int64_t payment, std::span<const std::int64_t> notes, std::string_view role) {
    ASSIGN_OR_RETURN(Stmt q, db_->prepare("INSERT INTO payment_notes(payment_id, note_id, role) VALUES (?1, ?2, ?3)"));
    for (std::int64_t note : notes) {
      q.bind(1, payment).bind(2, note).bind(3, role);
      BUCKETPAY_RETURN_IF_ERROR(q.run());
    }
    return Status::ok();
  }

  Result<std::vector<std::int64_t>> linked_notes_locked(std::int64_t payment, std::string_view role) {
    ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT note_id FROM payment_notes WHERE payment_id = ?1 AND role = ?2 "
                                          "ORDER BY rowid"));
    q.bind(1, payment).bind(2, role);
    std::vector<std::int64_t> out;
    while (true) {
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) break;
      out.push_back(q.int64(0));
    }
    return out;
  }

  // The writes of fail_payment / fail_payment_if, inside their transaction.
  Status fail_payment_locked(std::int64_t id, std::string_view error, std::span<const std::int64_t> spent_note_ids,
                             std::uint64_t block, bool delete_new_notes) {
    {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE payments SET state = 'failed', error = ?2, block = ?3, "
                                            "updated_ms = ?4 WHERE id = ?1"));
      q.bind(1, id).bind(2, error).bind(3, to_db(block)).bind(4, now_ms());
      BUCKETPAY_RETURN_IF_ERROR(q.run());
    }
    ASSIGN_OR_RETURN(const std::vector<std::int64_t> notes, linked_notes_locked(id, "spend"));
    {
      ASSIGN_OR_RETURN(Stmt release,
                       db_->prepare("UPDATE notes SET state = 'on_chain' WHERE id = ?1 AND state = 'spending'"));
      for (std::int64_t note : notes) {
        if (std::find(spent_note_ids.begin(), spent_note_ids.end(), note) != spent_note_ids.end()) {
          BUCKETPAY_RETURN_IF_ERROR(mark_spent_locked(note, block));
          continue;
        }
        release.bind(1, note);
        BUCKETPAY_RETURN_IF_ERROR(release.run());
      }
    }
    if (!delete_new_notes) return Status::ok();
    ASSIGN_OR_RETURN(const std::vector<std::int64_t> created, linked_notes_locked(id, "new"));
    ASSIGN_OR_RETURN(Stmt drop,
                     db_->prepare("DELETE FROM notes WHERE id = ?1 AND state = 'pending' AND leaf_index IS NULL"));
    for (std::int64_t note : created) {
      drop.bind(1, note);
      BUCKETPAY_RETURN_IF_ERROR(drop.run());
    }
    return Status::ok();
  }

  Result<std::string> payment_state_locked(std::int64_t id) {
    ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT state FROM payments WHERE id = ?1"));
    q.bind(1, id);
    ASSIGN_OR_RETURN(const bool row, q.step());
    if (!row) return Status::not_found("no payment " + std::to_string(id));
    return q.text(0);
  }

  Status wrong_payment_state_locked(std::int64_t id, std::string_view to) {
    ASSIGN_OR_RETURN(const std::string state, payment_state_locked(id));
    return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ": it cannot become " +
                                       std::string(to));
  }

  template <typename Bind>
  Result<std::vector<Payment>> query_payments(const char* sql, Bind&& bind) {
    std::vector<Payment> out;
    {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql));
      bind(q);
      while (true) {
        ASSIGN_OR_RETURN(const bool row, q.step());
        if (!row) break;
        Payment p;
        p.id = q.int64(0);
        p.wallet = q.text(1);
        p.kind = q.text(2);
        p.amount = from_db(q.int64(3));
        p.recipient = q.text(4);
        ASSIGN_OR_RETURN(p.state, parse_payment_state(q.text(5)));
        p.tx_hash = q.text(6);
        if (!q.is_null(7)) p.raw_tx = q.blob(7);
        p.nonce = from_db(q.int64(8));
        p.gas_used = from_db(q.int64(9));
        p.block = from_db(q.int64(10));
        p.error = q.text(11);
        p.latency_ms = q.real(12);
        p.created_ms = q.int64(13);
        p.updated_ms = q.int64(14);
        p.settled_by = q.text(15);
        out.push_back(std::move(p));
      }
    }
    for (Payment& p : out) {
      ASSIGN_OR_RETURN(p.note_ids, linked_notes_locked(p.id, "spend"));
      ASSIGN_OR_RETURN(p.new_note_ids, linked_notes_locked(p.id, "new"));
    }
    return out;
  }

  Result<std::uint64_t> leaf_count_locked() {
    // MAX on the rowid is a lookup, COUNT(*) a scan; leaves are contiguous from 0.
    ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves"));
    ASSIGN_OR_RETURN(const bool row, q.step());
    return row ? from_db(q.int64(0)) : 0;
  }

  Result<StoredNote> read_note(const Stmt& q) const {
    StoredNote n;
    n.id = q.int64(0);
    n.wallet = q.text(1);
    ASSIGN_OR_RETURN(n.pk, decode_fr(q.blob(2), "note pk"));
    n.value = from_db(q.int64(3));
    if (!q.is_null(5)) {
      n.leaf_index = from_db(q.int64(5));
    }
    ASSIGN_OR_RETURN(n.state, parse_note_state(q.text(6)));
    ASSIGN_OR_RETURN(n.commitment, decode_fr(q.blob(7), "note commitment"));
    n.created_ms = q.int64(8);
    Result<Bytes> r = open_secret(q.blob(4), note_r_ad(n.commitment));
    if (!r.ok()) {
      return r.status().with_context("note " + std::to_string(n.id) + " r");
    }
    Result<Fr> fr = decode_fr(*r, "note r");
    wipe(*r);
    if (!fr.ok()) {
      return fr.status();
    }
    n.r = *fr;
    return n;
  }

  template <typename Bind>
  Result<std::vector<StoredNote>> query_notes(const char* sql, Bind&& bind) {
    ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql));
    bind(q);
    std::vector<StoredNote> out;
    while (true) {
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) {
        break;
      }
      ASSIGN_OR_RETURN(StoredNote n, read_note(q));
      out.push_back(std::move(n));
    }
    return out;
  }

  Result<StoredNote> get_note_locked(std::int64_t id) {
    static const std::string sql = std::string("SELECT ") + kNoteColumns + " FROM notes WHERE id = ?1";
    ASSIGN_OR_RETURN(std::vector<StoredNote> found, query_notes(sql.c_str(), [&](Stmt& q) { q.bind(1, id); }));
    if (found.empty()) {
      return Status::not_found("no note " + std::to_string(id));
    }
    return std::move(found.front());
  }

  Status set_note_state_locked(std::int64_t id, std::optional<NoteState> from, NoteState to) {
    ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
    {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT state, leaf_index IS NOT NULL FROM notes WHERE id = ?1"));
      q.bind(1, id);
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) {
        return Status::not_found("no note " + std::to_string(id));
      }
      const std::string current = q.text(0);
      const bool has_leaf = q.int64(1) != 0;
      if (from && current != note_state_name(*from)) {
        return Status::failed_precondition("note " + std::to_string(id) + " is " + current + ", not " +
                                           std::string(note_state_name(*from)));
      }
      if (to == NoteState::kOnChain && !has_leaf) {
        return Status::failed_precondition("note " + std::to_string(id) + " has no leaf index: it cannot be on_chain");
      }
      if (to == NoteState::kPending && has_leaf) {
        return Status::failed_precondition("note " + std::to_string(id) + " has a leaf index: it cannot be pending");
      }
    }
    {
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("UPDATE notes SET state = ?2 WHERE id = ?1"));
      q.bind(1, id).bind(2, note_state_name(to));
      BUCKETPAY_RETURN_IF_ERROR(q.run());
    }
    return txn.commit();
  }

  Result<std::int64_t> insert_precompute_locked(const Precompute& p) {
    if (p.key.empty()) {
      return Status::invalid_argument("the precompute's key is empty");
    }
    BUCKETPAY_RETURN_IF_ERROR(check_json(p.outputs_json, "precompute '" + p.key + "' outputs_json"));
    {
      // Checked here for a clear message; the foreign key backs it up.
      ASSIGN_OR_RETURN(Stmt q, db_->prepare("SELECT 1 FROM notes WHERE id = ?1"));
      q.bind(1, p.note_id);
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) {
        return Status::not_found("precompute '" + p.key + "' refers to no note " + std::to_string(p.note_id));
      }
    }
    const Fr::Bytes recipient = p.recipient.to_bytes();
    const Bytes inputs = encode_frs(p.public_inputs);
    ASSIGN_OR_RETURN(
        Stmt q, db_->prepare("INSERT INTO precomputes(key, note_id, circuit, amount, recipient, public_inputs, proof, "
                             "outputs, created_ms, prove_ms, worker) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    q.bind(1, std::string_view(p.key))
        .bind(2, p.note_id)
        .bind(3, std::string_view(p.circuit))
        .bind(4, to_db(p.amount))
        .bind(5, std::span<const std::uint8_t>(recipient))
        .bind(6, std::span<const std::uint8_t>(inputs))
        .bind(7, std::span<const std::uint8_t>(p.proof))
        .bind(9, p.created_ms != 0 ? p.created_ms : now_ms())
        .bind(10, p.prove_ms)
        .bind(11, p.worker);
    Bytes outputs;
    if (p.outputs_json.empty()) {
      q.bind_null(8);
    } else {
      outputs = seal_secret(as_bytes(p.outputs_json), outputs_ad(p.key));
      q.bind(8, std::span<const std::uint8_t>(outputs));
    }
    wipe(outputs);
    const Status s = q.run();
    if (s.code() == StatusCode::kAlreadyExists) {
      return Status::already_exists("a precompute with key '" + p.key + "' exists");
    }
    BUCKETPAY_RETURN_IF_ERROR(s);
    return db_->last_insert_rowid();
  }

  Result<Precompute> read_precompute(const Stmt& q) const {
    Precompute p;
    p.id = q.int64(0);
    p.key = q.text(1);
    p.note_id = q.int64(2);
    p.circuit = q.text(3);
    p.amount = from_db(q.int64(4));
    ASSIGN_OR_RETURN(p.recipient, decode_fr(q.blob(5), "precompute recipient"));
    ASSIGN_OR_RETURN(p.public_inputs, decode_frs(q.blob(6), "precompute public inputs"));
    p.proof = q.blob(7);
    if (!q.is_null(8)) {
      Result<Bytes> outputs = open_secret(q.blob(8), outputs_ad(p.key));
      if (!outputs.ok()) {
        return outputs.status().with_context("precompute '" + p.key + "' outputs");
      }
      p.outputs_json.assign(outputs->begin(), outputs->end());
      wipe(*outputs);
    }
    p.created_ms = q.int64(9);
    p.prove_ms = q.real(10);
    p.worker = static_cast<int>(q.int64(11));
    return p;
  }

  template <typename Bind>
  Result<std::vector<Precompute>> query_precomputes(const char* sql, Bind&& bind) {
    ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql));
    bind(q);
    std::vector<Precompute> out;
    while (true) {
      ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) {
        break;
      }
      ASSIGN_OR_RETURN(Precompute p, read_precompute(q));
      out.push_back(std::move(p));
    }
    return out;
  }

  Result<Job> read_job(const Stmt& q) const {
    Job j;
    j.id = q.int64(0);
    j.key = q.text(1);
    j.batch = q.text(2);
    j.circuit = q.text(3);
    if (!q.is_null(4)) {
      Result<Bytes> spec = open_secret(q.blob(4), job_spec_ad(j.key));
      if (!spec.ok()) {
        return spec.status().with_context("job '" + j.key + "' spec");
      }
      j.spec_json.assign(spec->begin(), spec->end());
      wipe(*spec);
    }
    ASSIGN_OR_RETURN(j.state, parse_job_state(q.text(5)));
    j.tries = static_cast<int>(q.int64(6));
    j.error = q.text(7);
    j.updated_ms = q.int64(8);
    j.worker = static_cast<int>(q.int64(9));
    return j;
  }

  Result<Job> get_job_locked(std::int64_t id) {
    static const std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?1";
    ASSIGN_OR_RETURN(Stmt q, db_->prepare(sql.c_str()));
    q.bind(1, id);
    ASSIGN_OR_RETURN(const bool row, q.step());
    if (!row) {
      return Status::not_found("no job " + std::to_string(id));
    }
    return read_job(q);
  }

  std::mutex mutex_;
  std::unique_ptr<Db> db_;      // guarded by mutex_
  std::optional<Vault> vault_;  // immutable after construction
  std::filesystem::path file_;  // the database, for lock files beside it
};

Status configure(Db& db, int busy_timeout_ms) {
  if (sqlite3_busy_timeout(db.handle(), busy_timeout_ms) != SQLITE_OK) {
    return Status::internal("cannot set the busy timeout");
  }
  {
    ASSIGN_OR_RETURN(Stmt q, db.prepare("PRAGMA journal_mode = WAL"));
    ASSIGN_OR_RETURN(const bool row, q.step());
    if (!row || q.text(0) != "wal") {
      return Status::io_error(
          "cannot switch the database to WAL mode (journal mode: " + (row ? q.text(0) : std::string("?")) + ")");
    }
  }
  BUCKETPAY_RETURN_IF_ERROR(db.exec("PRAGMA synchronous = FULL"));
  BUCKETPAY_RETURN_IF_ERROR(db.exec("PRAGMA foreign_keys = ON"));
  return Status::ok();
}

Result<std::int64_t> user_version(Db& db) {
  ASSIGN_OR_RETURN(Stmt q, db.prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(const bool row, q.step());
  return row ? q.int64(0) : 0;
}

Status migrate(Db& db, const std::filesystem::path& file) {
  ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(db));
  ASSIGN_OR_RETURN(const std::int64_t version, user_version(db));
  if (version > kSchemaVersion) {
    return Status::failed_precondition(file.string() + " has schema version " + std::to_string(version) +
                                       ", newer than this build's " + std::to_string(kSchemaVersion));
  }
  if (version == kSchemaVersion) {
    return Status::ok();
  }
  for (std::int64_t v = version; v < kSchemaVersion; ++v) {
    BUCKETPAY_RETURN_IF_ERROR(db.exec(kMigrations[v]));
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  BUCKETPAY_RETURN_IF_ERROR(db.exec(set_version.c_str()));
  return txn.commit();
}

// The meta row `key`, or nullopt.
template <typename T>
Result<std::optional<T>> meta_get(Db& db, const char* key) {
  ASSIGN_OR_RETURN(Stmt q, db.prepare("SELECT value FROM meta WHERE key = ?1"));
  q.bind(1, std::string_view(key));
  ASSIGN_OR_RETURN(const bool row, q.step());
  if (!row) {
    return std::optional<T>();
  }
  if constexpr (std::is_same_v<T, Bytes>) {
    return std::optional<T>(q.blob(0));
  } else {
    return std::optional<T>(q.int64(0));
  }
}

Result<bool> holds_secrets(Db& db) {
  ASSIGN_OR_RETURN(Stmt q, db.prepare("SELECT EXISTS(SELECT 1 FROM notes) OR EXISTS(SELECT 1 FROM secrets) "
                                      "OR EXISTS(SELECT 1 FROM named_secrets) "
                                      "OR EXISTS(SELECT 1 FROM precomputes WHERE outputs IS NOT NULL) "
                                      "OR EXISTS(SELECT 1 FROM jobs WHERE spec IS NOT NULL)"));
  ASSIGN_OR_RETURN(const bool row, q.step());
  return row && q.int64(0) != 0;
}

// The vault the options ask for, checked against (or recorded in) the store's meta table.
Result<std::optional<Vault>> setup_vault(Db& db, const std::filesystem::path& file, const StoreOptions& options) {
  ASSIGN_OR_RETURN(const std::optional<Bytes> salt, meta_get<Bytes>(db, "vault_salt"));
  if (salt) {
    if (!options.passphrase) {
      return Status::failed_precondition(file.string() + " is encrypted: a passphrase is needed to open it");
    }
    ASSIGN_OR_RETURN(const std::optional<std::int64_t> ops, meta_get<std::int64_t>(db, "vault_opslimit"));
    ASSIGN_OR_RETURN(const std::optional<std::int64_t> mem, meta_get<std::int64_t>(db, "vault_memlimit"));
    ASSIGN_OR_RETURN(const std::optional<Bytes> check, meta_get<Bytes>(db, "vault_check"));
    if (!ops || !mem || !check || *ops <= 0 || *mem <= 0) {
      return Status::corruption(file.string() + ": the vault's parameters are missing or invalid");
    }
    const VaultParams params{static_cast<std::uint64_t>(*ops), static_cast<std::size_t>(*mem)};
    ASSIGN_OR_RETURN(Vault vault, Vault::open(*options.passphrase, *salt, params));
    Result<Bytes> plain = vault.unseal(*check, kVaultCheckAd);
    if (!plain.ok() ||
        std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()) != kVaultCheckPlaintext) {
      return Status::invalid_argument("wrong passphrase for " + file.string());
    }
    return std::optional<Vault>(std::move(vault));
  }
  if (!options.passphrase) {
    return std::optional<Vault>();
  }

  // A new vault. Derive first (slow), then record it under the write lock.
  ASSIGN_OR_RETURN(Vault vault, Vault::create(*options.passphrase, options.vault_params));
  ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(db));
  ASSIGN_OR_RETURN(const std::optional<Bytes> raced, meta_get<Bytes>(db, "vault_salt"));
  if (raced) {
    return Status::unavailable(file.string() + ": another process created a vault meanwhile; reopen");
  }
  ASSIGN_OR_RETURN(const bool secrets, holds_secrets(db));
  if (secrets) {
    return Status::failed_precondition(file.string() +
                                       " already holds unsealed secrets; a vault cannot be added to it");
  }
  const Bytes check = vault.seal(as_bytes(kVaultCheckPlaintext), kVaultCheckAd);
  ASSIGN_OR_RETURN(Stmt q, db.prepare("INSERT INTO meta(key, value) VALUES (?1, ?2)"));
  q.bind(1, std::string_view("vault_salt")).bind(2, std::span<const std::uint8_t>(vault.salt()));
  BUCKETPAY_RETURN_IF_ERROR(q.run());
  q.bind(1, std::string_view("vault_opslimit")).bind(2, static_cast<std::int64_t>(vault.params().opslimit));
  BUCKETPAY_RETURN_IF_ERROR(q.run());
  q.bind(1, std::string_view("vault_memlimit")).bind(2, static_cast<std::int64_t>(vault.params().memlimit));
  BUCKETPAY_RETURN_IF_ERROR(q.run());
  q.bind(1, std::string_view("vault_check")).bind(2, std::span<const std::uint8_t>(check));
  BUCKETPAY_RETURN_IF_ERROR(q.run());
  BUCKETPAY_RETURN_IF_ERROR(txn.commit());
  return std::optional<Vault>(std::move(vault));
}

Result<std::unique_ptr<Store>> open_impl(const std::filesystem::path& file, const StoreOptions& options) {
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return Status::io_error("creating " + file.parent_path().string() + ": " + ec.message());
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::open(file));
  BUCKETPAY_RETURN_IF_ERROR(configure(*db, options.busy_timeout_ms));
  BUCKETPAY_RETURN_IF_ERROR(migrate(*db, file));
  ASSIGN_OR_RETURN(std::optional<Vault> vault, setup_vault(*db, file, options));
  return std::unique_ptr<Store>(new SqliteStore(std::move(db), std::move(vault), file));
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file, const StoreOptions& options) {
  try {
    Result<std::unique_ptr<Store>> store = open_impl(file, options);
    if (!store.ok()) {
      return store.status().with_context("opening store " + file.string());
    }
    return store;
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("opening store " + file.string() + ": out of memory");
  } catch (const std::exception& e) {
    return Status::internal("opening store " + file.string() + ": " + e.what());
  }
}

}  // namespace bucketpay
