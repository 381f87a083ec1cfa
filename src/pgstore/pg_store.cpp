#include "bucketpay/pg_store.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <exception>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>
#include <type_traits>
#include <utility>

#include "pgstore/pool.h"
#include "store/record_codec.h"

namespace bucketpay {
namespace {

// The record encodings both backends share (store/record_codec.h).
using namespace store_codec;  // NOLINT(google-build-using-namespace)

// Migration i (0-based) takes the schema from version i to i + 1. Append only; never edit one that
// has shipped. The tables mirror the SQLite store's (src/store/sqlite_store.cpp) column for column;
// jobs adds the lease (owner and expiry) of the fleet queue.
constexpr const char* kMigrations[] = {
    R"sql(
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
)sql",
    R"sql(
ALTER TABLE leaves ADD COLUMN block BIGINT NOT NULL DEFAULT 0;
ALTER TABLE leaves ADD COLUMN root BYTEA;
CREATE INDEX leaves_by_block ON leaves(block);
ALTER TABLE notes ADD COLUMN spent_block BIGINT;
CREATE TABLE settings(
  wallet TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (wallet, key));
CREATE TABLE named_secrets(
  wallet TEXT NOT NULL,
  name TEXT NOT NULL,
  value BYTEA NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (wallet, name));
CREATE TABLE chain_blocks(
  number BIGINT PRIMARY KEY,
  hash BYTEA NOT NULL);
CREATE TABLE sync_cursor(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  number BIGINT NOT NULL,
  hash BYTEA NOT NULL);
CREATE TABLE payments(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  wallet TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount BIGINT NOT NULL,
  recipient TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('prepared', 'signed', 'submitted', 'confirmed', 'failed')),
  tx_hash TEXT NOT NULL,
  raw_tx BYTEA,
  nonce BIGINT NOT NULL,
  gas_used BIGINT NOT NULL,
  block BIGINT NOT NULL,
  error TEXT NOT NULL,
  latency_ms DOUBLE PRECISION NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL);
CREATE INDEX payments_by_wallet_state ON payments(wallet, state, id);
CREATE TABLE payment_notes(
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  payment_id BIGINT NOT NULL REFERENCES payments(id),
  note_id BIGINT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('spend', 'new')));
CREATE INDEX payment_notes_by_payment ON payment_notes(payment_id, role);
CREATE INDEX payment_notes_by_note ON payment_notes(note_id);
)sql",
    R"sql(
ALTER TABLE payments ADD COLUMN settled_by TEXT NOT NULL DEFAULT '';
)sql",
};
constexpr auto kSchemaVersion = static_cast<std::int64_t>(std::size(kMigrations));

// Serialises schema migration and vault creation among processes opening one database.
constexpr std::int64_t kOpenLockKey = 0x62756b7470617931;  // "buktpay1"

// Associated data binding each sealed column to its record: the SQLite store's, byte for byte.

// The database server's clock in Unix ms: one clock for every worker of a fleet.
#define BUCKETPAY_PG_NOW_MS "(extract(epoch from now()) * 1000)::bigint"

constexpr const char* kNoteColumns = "id, wallet, pk, value, r, leaf_index, state, commitment, created_ms";
constexpr const char* kPrecomputeColumns =
    "id, key, note_id, circuit, amount, recipient, public_inputs, proof, outputs, created_ms, prove_ms, worker";
constexpr const char* kJobColumns = "id, key, batch, circuit, spec, state, tries, error, updated_ms, worker";
constexpr const char* kPaymentColumns =
    "id, wallet, kind, amount, recipient, state, tx_hash, raw_tx, nonce, gas_used, block, error, latency_ms, "
    "created_ms, updated_ms, settled_by";

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (std::string_view p : parts) {
    s += p;
  }
  return s;
}

// A bytea parameter, sent in binary. An empty span is a zero-length value (never NULL).
pqxx::binarystring bin(std::span<const std::uint8_t> b) {
  static constexpr std::uint8_t kNothing = 0;
  return {b.empty() ? &kNothing : b.data(), b.size()};
}

// A bytea column's bytes (empty when NULL).
Bytes bytes_of(const pqxx::field& f) {
  if (f.is_null()) {
    return {};
  }
  const pqxx::binarystring b(f);
  return {b.data(), b.data() + b.size()};
}

// A double as text that reads back to the same value.
std::string float_text(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

// uint64 values are stored in BIGINT by their bit pattern, as in the SQLite store.

// NOLINTBEGIN(bugprone-macro-parentheses)
#define BUCKETPAY_PG_ASSIGN_OR_RETURN_IMPL(var, tmp, expr) \
  auto tmp = (expr);                                       \
  if (!tmp.ok()) return tmp.status();                      \
  var = std::move(*tmp)
// NOLINTEND(bugprone-macro-parentheses)
#define BUCKETPAY_PG_CONCAT_INNER(a, b) a##b
#define BUCKETPAY_PG_CONCAT(a, b) BUCKETPAY_PG_CONCAT_INNER(a, b)
// `decl = value of expr (a Result)`, or returns its failure.
#define ASSIGN_OR_RETURN(decl, expr) \
  BUCKETPAY_PG_ASSIGN_OR_RETURN_IMPL(decl, BUCKETPAY_PG_CONCAT(result_, __LINE__), expr)

Status status_of(const Status& s) { return s; }
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}

// Runs f(connection) on a pooled connection; exceptions become Status, a transaction that lost a
// serialization or deadlock race is run again (twice at most). R is Status or Result<T>.
template <typename R, typename F>
R run_on(pg::Pool& pool, const char* what, F&& f) {
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    Result<pg::Pool::Handle> conn = pool.acquire();
    if (!conn.ok()) {
      return conn.status().with_context(what);
    }
    try {
      R r = f(**conn);
      const Status s = status_of(r);
      return s.is_ok() ? r : R(s.with_context(what));
    } catch (const std::exception& e) {
      if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
          dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
        conn->discard();
      }
      if (pg::is_retryable(e) && attempt < kAttempts) {
        continue;
      }
      return R(pg::status_from_exception(e, what));
    }
  }
}

// A session holding an advisory lock; destroying it closes the session, which releases the lock.
class SessionLock final : public Store::Lock {
 public:
  explicit SessionLock(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}

 private:
  std::unique_ptr<pqxx::connection> conn_;
};

class PgStoreImpl final : public PgStore {
 public:
  PgStoreImpl(std::unique_ptr<pg::Pool> pool, std::optional<Vault> vault, std::string url)
      : pool_(std::move(pool)), vault_(std::move(vault)), url_(std::move(url)) {}

  [[nodiscard]] bool has_vault() const override { return vault_.has_value(); }

  // ---- Leaves.

  Result<std::uint64_t> append_leaves(std::span<const Fr> leaves) override {
    return run<Result<std::uint64_t>>("append_leaves", [&](pqxx::connection& c) -> Result<std::uint64_t> {
      pqxx::work txn(c);
      // Appenders queue here (readers do not): the next index is read and used under the lock.
      txn.exec("LOCK TABLE leaves IN SHARE ROW EXCLUSIVE MODE");
      const std::uint64_t first = leaf_count_in(txn);
      constexpr std::size_t kChunk = 4096;
      for (std::size_t done = 0; done < leaves.size(); done += kChunk) {
        // One statement per chunk: a bytea[] literal of hex values, numbered by ORDINALITY.
        std::string array = "{";
        const std::size_t end = std::min(leaves.size(), done + kChunk);
        for (std::size_t i = done; i < end; ++i) {
          array += i == done ? "\"\\\\x" : ",\"\\\\x";
          array += leaves[i].to_hex().substr(2);
          array += '"';
        }
        array += '}';
        txn.exec_params(
            "INSERT INTO leaves(idx, value) SELECT $1::bigint + o - 1, v "
            "FROM unnest($2::bytea[]) WITH ORDINALITY AS t(v, o)",
            to_db(first + done), array);
      }
      txn.commit();
      return first;
    });
  }

  Result<std::vector<Fr>> load_leaves() override {
    return run<Result<std::vector<Fr>>>("load_leaves", [&](pqxx::connection& c) -> Result<std::vector<Fr>> {
      pqxx::read_transaction txn(c);
      const pqxx::result rows = txn.exec("SELECT idx, value FROM leaves ORDER BY idx");
      std::vector<Fr> out;
      out.reserve(rows.size());
      for (const pqxx::row& row : rows) {
        if (from_db(row[0].as<std::int64_t>()) != out.size()) {
          return Status::corruption("leaves are not contiguous at index " + std::to_string(out.size()));
        }
        ASSIGN_OR_RETURN(const Fr leaf, decode_fr(bytes_of(row[1]), "leaf"));
        out.push_back(leaf);
      }
      return out;
    });
  }

  Result<std::uint64_t> leaf_count() override {
    return run<Result<std::uint64_t>>("leaf_count", [&](pqxx::connection& c) -> Result<std::uint64_t> {
      pqxx::read_transaction txn(c);
      return leaf_count_in(txn);
    });
  }

  // ---- Notes.

  Result<std::int64_t> insert_note(const StoredNote& note) override {
    return run<Result<std::int64_t>>("insert_note", [&](pqxx::connection& c) -> Result<std::int64_t> {
      if (Status st = validate_note(note); !st.is_ok()) {
        return st;
      }
      Fr::Bytes r = note.r.to_bytes();
      Bytes sealed_r = seal_secret(r, note_r_ad(note.commitment));
      wipe(r);
      const Fr::Bytes pk = note.pk.to_bytes();
      const Fr::Bytes cm = note.commitment.to_bytes();
      pqxx::work txn(c);
      // A taken leaf index or a second pending note with this commitment: no row, no exception.
      const pqxx::result rows = txn.exec_params(
          "INSERT INTO notes(wallet, pk, value, r, leaf_index, state, commitment, created_ms) "
          "VALUES ($1, $2, $3, $4, NULLIF($5::bigint, -1), $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
          note.wallet, bin(pk), to_db(note.value), bin(sealed_r),
          note.leaf_index ? to_db(*note.leaf_index) : std::int64_t{-1}, std::string(note_state_name(note.state)),
          bin(cm), note.created_ms != 0 ? note.created_ms : now_ms());
      wipe(sealed_r);  // plaintext r when there is no vault
      if (rows.empty()) {
        return Status::already_exists(note.leaf_index
                                          ? "leaf index " + std::to_string(*note.leaf_index) + " holds a note"
                                          : "a pending note with commitment " + note.commitment.to_hex() + " exists");
      }
      txn.commit();
      return rows[0][0].as<std::int64_t>();
    });
  }

  Result<StoredNote> get_note(std::int64_t id) override {
    return run<Result<StoredNote>>("get_note", [&](pqxx::connection& c) -> Result<StoredNote> {
      pqxx::read_transaction txn(c);
      return get_note_in(txn, id);
    });
  }

  Result<std::vector<StoredNote>> find_notes_by_commitment(const Fr& commitment) override {
    return run<Result<std::vector<StoredNote>>>("find_notes_by_commitment", [&](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      const Fr::Bytes cm = commitment.to_bytes();
      return read_notes(
          txn.exec_params(cat({"SELECT ", kNoteColumns, " FROM notes WHERE commitment = $1 ORDER BY id"}), bin(cm)));
    });
  }

  Result<std::vector<StoredNote>> list_notes(std::string_view wallet, std::optional<NoteState> state) override {
    return run<Result<std::vector<StoredNote>>>("list_notes", [&](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      if (!state) {
        return read_notes(txn.exec_params(cat({"SELECT ", kNoteColumns, " FROM notes WHERE wallet = $1 ORDER BY id"}),
                                          std::string(wallet)));
      }
      return read_notes(
          txn.exec_params(cat({"SELECT ", kNoteColumns, " FROM notes WHERE wallet = $1 AND state = $2 ORDER BY id"}),
                          std::string(wallet), std::string(note_state_name(*state))));
    });
  }

  Status set_note_state(std::int64_t id, NoteState state) override {
    return run<Status>("set_note_state",
                       [&](pqxx::connection& c) { return set_note_state_in(c, id, std::nullopt, state); });
  }

  Status transition_note_state(std::int64_t id, NoteState from, NoteState to) override {
    return run<Status>("transition_note_state",
                       [&](pqxx::connection& c) { return set_note_state_in(c, id, from, to); });
  }

  Status set_note_leaf_index(std::int64_t id, std::uint64_t leaf_index) override {
    return run<Status>("set_note_leaf_index", [&](pqxx::connection& c) -> Status {
      if (leaf_index > std::numeric_limits<std::int64_t>::max()) {
        return Status::invalid_argument("leaf index out of range");
      }
      pqxx::work txn(c);
      // A leaf index held by another note is a unique violation: kAlreadyExists.
      const pqxx::result r = txn.exec_params(
          "UPDATE notes SET leaf_index = $2, state = CASE state WHEN 'pending' THEN 'on_chain' ELSE state END "
          "WHERE id = $1 AND (leaf_index IS NULL OR leaf_index = $2)",
          id, to_db(leaf_index));
      if (r.affected_rows() == 1) {
        txn.commit();
        return Status::ok();
      }
      ASSIGN_OR_RETURN(const StoredNote note, get_note_in(txn, id));
      return Status::failed_precondition("note " + std::to_string(id) + " is already at leaf " +
                                         std::to_string(note.leaf_index.value_or(0)));
    });
  }

  // ---- Spending keys.

  Status put_spending_key(std::string_view wallet, const Fr& sk) override {
    return run<Status>("put_spending_key", [&](pqxx::connection& c) -> Status {
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
      pqxx::work txn(c);
      const pqxx::result r = txn.exec_params(
          "INSERT INTO secrets(wallet, sk, created_ms) VALUES ($1, $2, $3) ON CONFLICT (wallet) DO NOTHING",
          std::string(wallet), bin(sealed), now_ms());
      if (r.affected_rows() != 1) {
        return Status::already_exists("wallet '" + std::string(wallet) +
                                      "' already has a spending key (never overwritten)");
      }
      txn.commit();
      return Status::ok();
    });
  }

  Result<Fr> get_spending_key(std::string_view wallet) override {
    return run<Result<Fr>>("get_spending_key", [&](pqxx::connection& c) -> Result<Fr> {
      pqxx::read_transaction txn(c);
      const pqxx::result r = txn.exec_params("SELECT sk FROM secrets WHERE wallet = $1", std::string(wallet));
      if (r.empty()) {
        return Status::not_found("no spending key for wallet '" + std::string(wallet) + "'");
      }
      if (!vault_) {
        return Status::failed_precondition("the spending key is sealed and this store has no vault");
      }
      ASSIGN_OR_RETURN(Bytes plain, vault_->unseal(bytes_of(r[0][0]), spending_key_ad(wallet)));
      Result<Fr> sk = decode_fr(plain, "spending key");
      wipe(plain);
      return sk;
    });
  }

  // ---- Precomputes.

  Result<std::int64_t> insert_precompute(const Precompute& p) override {
    return run<Result<std::int64_t>>("insert_precompute", [&](pqxx::connection& c) -> Result<std::int64_t> {
      pqxx::work txn(c);
      ASSIGN_OR_RETURN(const std::int64_t id, insert_precompute_in(txn, p));
      txn.commit();
      return id;
    });
  }

  Result<std::optional<Precompute>> find_precompute(std::string_view key) override {
    return run<Result<std::optional<Precompute>>>(
        "find_precompute", [&](pqxx::connection& c) -> Result<std::optional<Precompute>> {
          pqxx::read_transaction txn(c);
          ASSIGN_OR_RETURN(
              std::vector<Precompute> found,
              read_precomputes(txn.exec_params(cat({"SELECT ", kPrecomputeColumns, " FROM precomputes WHERE key = $1"}),
                                               std::string(key))));
          if (found.empty()) {
            return std::optional<Precompute>();
          }
          return std::optional<Precompute>(std::move(found.front()));
        });
  }

  Result<std::vector<Precompute>> list_precomputes_for_note(std::int64_t note_id) override {
    return run<Result<std::vector<Precompute>>>("list_precomputes_for_note", [&](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      return read_precomputes(txn.exec_params(
          cat({"SELECT ", kPrecomputeColumns, " FROM precomputes WHERE note_id = $1 ORDER BY id"}), note_id));
    });
  }

  Result<std::vector<Precompute>> list_precomputes_by_circuit(std::string_view circuit) override {
    return run<Result<std::vector<Precompute>>>("list_precomputes_by_circuit", [&](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      return read_precomputes(
          txn.exec_params(cat({"SELECT ", kPrecomputeColumns, " FROM precomputes WHERE circuit = $1 ORDER BY id"}),
                          std::string(circuit)));
    });
  }

  Result<std::int64_t> count_precomputes() override {
    return run<Result<std::int64_t>>("count_precomputes", [&](pqxx::connection& c) -> Result<std::int64_t> {
      pqxx::read_transaction txn(c);
      return txn.exec("SELECT COUNT(*) FROM precomputes")[0][0].as<std::int64_t>();
    });
  }

  Result<std::int64_t> delete_precomputes_for_note(std::int64_t note_id) override {
    return run<Result<std::int64_t>>("delete_precomputes_for_note", [&](pqxx::connection& c) -> Result<std::int64_t> {
      pqxx::work txn(c);
      const pqxx::result r = txn.exec_params("DELETE FROM precomputes WHERE note_id = $1", note_id);
      txn.commit();
      return static_cast<std::int64_t>(r.affected_rows());
    });
  }

  // ---- Jobs.

  Result<std::int64_t> enqueue_jobs(std::span<const Job> jobs) override {
    return run<Result<std::int64_t>>("enqueue_jobs", [&](pqxx::connection& c) -> Result<std::int64_t> {
      for (const Job& job : jobs) {
        if (job.key.empty()) {
          return Status::invalid_argument("a job has an empty key");
        }
        BUCKETPAY_RETURN_IF_ERROR(check_json(job.spec_json, "job '" + job.key + "' spec_json"));
      }
      pqxx::work txn(c);
      std::int64_t added = 0;
      for (const Job& job : jobs) {
        Bytes spec;
        if (!job.spec_json.empty()) {
          spec = seal_secret(as_bytes(job.spec_json), job_spec_ad(job.key));
        }
        // An empty spec is stored as NULL (a sealed one is never empty).
        const pqxx::result r = txn.exec_params(
            "INSERT INTO jobs(key, batch, circuit, spec, state, tries, error, updated_ms, worker) "
            "VALUES ($1, $2, $3, NULLIF($4::bytea, '\\x'::bytea), 'pending', 0, '', " BUCKETPAY_PG_NOW_MS
            ", -1) ON CONFLICT (key) DO NOTHING",
            job.key, job.batch, job.circuit, bin(spec));
        wipe(spec);
        added += static_cast<std::int64_t>(r.affected_rows());
      }
      txn.commit();
      return added;
    });
  }

  Result<std::optional<Job>> claim_next_job(int worker) override {
    return run<Result<std::optional<Job>>>("claim_next_job", [&](pqxx::connection& c) -> Result<std::optional<Job>> {
      ASSIGN_OR_RETURN(std::optional<ClaimedJob> claimed, claim_in(c, worker, std::nullopt));
      if (!claimed) {
        return std::optional<Job>();
      }
      return std::optional<Job>(std::move(claimed->job));
    });
  }

  Result<std::int64_t> complete_job(std::int64_t job_id, const Precompute& precompute) override {
    return run<Result<std::int64_t>>(
        "complete_job", [&](pqxx::connection& c) { return complete_in(c, job_id, std::nullopt, precompute); });
  }

  Status fail_job(std::int64_t job_id, std::string_view error, bool permanent) override {
    return run<Status>("fail_job",
                       [&](pqxx::connection& c) { return fail_in(c, job_id, std::nullopt, error, permanent); });
  }

  Result<std::int64_t> reset_running_jobs() override {
    return run<Result<std::int64_t>>("reset_running_jobs", [&](pqxx::connection& c) -> Result<std::int64_t> {
      pqxx::work txn(c);
      const pqxx::result r = txn.exec(
          "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, "
          "updated_ms = " BUCKETPAY_PG_NOW_MS " WHERE state = 'running'");
      txn.commit();
      return static_cast<std::int64_t>(r.affected_rows());
    });
  }

  Result<Job> get_job(std::int64_t id) override {
    return run<Result<Job>>("get_job", [&](pqxx::connection& c) -> Result<Job> {
      pqxx::read_transaction txn(c);
      return get_job_in(txn, id);
    });
  }

  Result<std::vector<Job>> list_jobs(std::optional<std::string_view> batch) override {
    return run<Result<std::vector<Job>>>("list_jobs", [&](pqxx::connection& c) -> Result<std::vector<Job>> {
      pqxx::read_transaction txn(c);
      const pqxx::result rows =
          batch ? txn.exec_params(cat({"SELECT ", kJobColumns, " FROM jobs WHERE batch = $1 ORDER BY id"}),
                                  std::string(*batch))
                : txn.exec(cat({"SELECT ", kJobColumns, " FROM jobs ORDER BY id"}));
      std::vector<Job> out;
      out.reserve(rows.size());
      for (const pqxx::row& row : rows) {
        ASSIGN_OR_RETURN(Job job, read_job(row));
        out.push_back(std::move(job));
      }
      return out;
    });
  }

  Result<JobCounts> job_counts(std::optional<std::string_view> batch) override {
    return run<Result<JobCounts>>("job_counts", [&](pqxx::connection& c) -> Result<JobCounts> {
      pqxx::read_transaction txn(c);
      const pqxx::result rows =
          batch
              ? txn.exec_params("SELECT state, COUNT(*) FROM jobs WHERE batch = $1 GROUP BY state", std::string(*batch))
              : txn.exec("SELECT state, COUNT(*) FROM jobs GROUP BY state");
      JobCounts counts;
      for (const pqxx::row& row : rows) {
        ASSIGN_OR_RETURN(const JobState state, parse_job_state(row[0].as<std::string>()));
        const auto n = row[1].as<std::int64_t>();
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

  // ---- The fleet queue.

  Result<std::optional<LeasedJob>> claim_job_with_lease(std::string_view worker_id,
                                                        std::chrono::milliseconds lease) override {
    return run<Result<std::optional<LeasedJob>>>(
        "claim_job_with_lease", [&](pqxx::connection& c) -> Result<std::optional<LeasedJob>> {
          if (worker_id.empty()) {
            return Status::invalid_argument("the worker id is empty");
          }
          if (lease.count() <= 0) {
            return Status::invalid_argument("the lease must be positive");
          }
          ASSIGN_OR_RETURN(std::optional<ClaimedJob> claimed, claim_in(c, -1, Lease{std::string(worker_id), lease}));
          if (!claimed) {
            return std::optional<LeasedJob>();
          }
          return std::optional<LeasedJob>(
              LeasedJob{std::move(claimed->job), std::string(worker_id), claimed->lease_expires_ms});
        });
  }

  Result<std::int64_t> heartbeat(std::int64_t job_id, std::string_view worker_id,
                                 std::chrono::milliseconds lease) override {
    return run<Result<std::int64_t>>("heartbeat", [&](pqxx::connection& c) -> Result<std::int64_t> {
      if (lease.count() <= 0) {
        return Status::invalid_argument("the lease must be positive");
      }
      pqxx::work txn(c);
      const pqxx::result r = txn.exec_params(
          "UPDATE jobs SET lease_expires_at = now() + $3::bigint * interval '1 millisecond' "
          "WHERE id = $1 AND state = 'running' AND lease_owner = $2 "
          "RETURNING (extract(epoch from lease_expires_at) * 1000)::bigint",
          job_id, std::string(worker_id), static_cast<std::int64_t>(lease.count()));
      if (r.empty()) {
        return lease_lost(txn, job_id, worker_id);
      }
      txn.commit();
      return r[0][0].as<std::int64_t>();
    });
  }

  Result<ReclaimCounts> reclaim_expired() override {
    return run<Result<ReclaimCounts>>("reclaim_expired", [&](pqxx::connection& c) -> Result<ReclaimCounts> {
      pqxx::work txn(c);
      // SKIP LOCKED: a job whose owner is heartbeating or completing it right now is left to them;
      // two reclaimers never both take one job.
      const pqxx::result rows = txn.exec_params(
          "WITH expired AS (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < now() "
          "  FOR UPDATE SKIP LOCKED) "
          "UPDATE jobs SET "
          "  state = CASE WHEN jobs.tries >= $1 THEN 'failed' ELSE 'pending' END, "
          "  error = 'the lease of worker ' || jobs.lease_owner || ' expired' || "
          "    CASE WHEN jobs.tries >= $1 THEN ' (' || jobs.tries || ' tries in all)' ELSE '' END, "
          "  lease_owner = NULL, lease_expires_at = NULL, updated_ms = " BUCKETPAY_PG_NOW_MS
          " FROM expired WHERE jobs.id = expired.id RETURNING jobs.state",
          kMaxLeaseTries);
      ReclaimCounts counts;
      for (const pqxx::row& row : rows) {
        if (row[0].as<std::string>() == job_state_name(JobState::kFailed)) {
          ++counts.failed;
        } else {
          ++counts.requeued;
        }
      }
      txn.commit();
      return counts;
    });
  }

  Result<std::int64_t> complete_job(std::int64_t job_id, std::string_view worker_id,
                                    const Precompute& precompute) override {
    return run<Result<std::int64_t>>(
        "complete_job", [&](pqxx::connection& c) { return complete_in(c, job_id, worker_id, precompute); });
  }

  Status fail_job(std::int64_t job_id, std::string_view worker_id, std::string_view error, bool permanent) override {
    return run<Status>("fail_job",
                       [&](pqxx::connection& c) { return fail_in(c, job_id, worker_id, error, permanent); });
  }

  Result<std::optional<std::string>> lease_owner(std::int64_t job_id) override {
    return run<Result<std::optional<std::string>>>(
        "lease_owner", [&](pqxx::connection& c) -> Result<std::optional<std::string>> {
          pqxx::read_transaction txn(c);
          const pqxx::result r = txn.exec_params("SELECT lease_owner FROM jobs WHERE id = $1", job_id);
          if (r.empty()) {
            return Status::not_found("no job " + std::to_string(job_id));
          }
          if (r[0][0].is_null()) {
            return std::optional<std::string>();
          }
          return std::optional<std::string>(r[0][0].as<std::string>());
        });
  }

  // ---- Wallet state: precompute removal, settings, named secrets.

  Status delete_precompute(std::string_view key) override {
    return run<Status>("delete_precompute", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      if (txn.exec_params("DELETE FROM precomputes WHERE key = $1", std::string(key)).affected_rows() == 0) {
        return Status::not_found("no precompute '" + std::string(key) + "'");
      }
      // Its job goes too, so that the same key can be proved again.
      txn.exec_params("DELETE FROM jobs WHERE key = $1", std::string(key));
      txn.commit();
      return Status::ok();
    });
  }

  Status put_setting(std::string_view wallet, std::string_view key, std::string_view value) override {
    return run<Status>("put_setting", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      txn.exec_params(
          "INSERT INTO settings(wallet, key, value) VALUES ($1, $2, $3) "
          "ON CONFLICT (wallet, key) DO UPDATE SET value = excluded.value",
          std::string(wallet), std::string(key), std::string(value));
      txn.commit();
      return Status::ok();
    });
  }

  Result<std::optional<std::string>> get_setting(std::string_view wallet, std::string_view key) override {
    return run<Result<std::optional<std::string>>>(
        "get_setting", [&](pqxx::connection& c) -> Result<std::optional<std::string>> {
          pqxx::read_transaction txn(c);
          const pqxx::result r = txn.exec_params("SELECT value FROM settings WHERE wallet = $1 AND key = $2",
                                                 std::string(wallet), std::string(key));
          if (r.empty()) return std::optional<std::string>();
          return std::optional<std::string>(r[0][0].as<std::string>());
        });
  }

  Status put_secret(std::string_view wallet, std::string_view name, std::span<const std::uint8_t> value) override {
    return run<Status>("put_secret", [&](pqxx::connection& c) -> Status {
      if (!vault_) {
        return Status::failed_precondition(
            "refusing to store a secret: this store has no vault (open it with a passphrase)");
      }
      if (wallet.empty() || name.empty()) return Status::invalid_argument("the wallet or secret name is empty");
      const Bytes sealed = vault_->seal(value, secret_ad(wallet, name));
      pqxx::work txn(c);
      const pqxx::result r = txn.exec_params(
          "INSERT INTO named_secrets(wallet, name, value, created_ms) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (wallet, name) DO NOTHING",
          std::string(wallet), std::string(name), bin(sealed), now_ms());
      if (r.affected_rows() != 1) {
        return Status::already_exists("wallet '" + std::string(wallet) + "' already has a secret '" +
                                      std::string(name) + "' (never overwritten)");
      }
      txn.commit();
      return Status::ok();
    });
  }

  Result<Bytes> get_secret(std::string_view wallet, std::string_view name) override {
    return run<Result<Bytes>>("get_secret", [&](pqxx::connection& c) -> Result<Bytes> {
      pqxx::read_transaction txn(c);
      const pqxx::result r = txn.exec_params("SELECT value FROM named_secrets WHERE wallet = $1 AND name = $2",
                                             std::string(wallet), std::string(name));
      if (r.empty())
        return Status::not_found("wallet '" + std::string(wallet) + "' has no secret '" + std::string(name) + "'");
      if (!vault_) return Status::failed_precondition("the secret is sealed and this store has no vault");
      return vault_->unseal(bytes_of(r[0][0]), secret_ad(wallet, name));
    });
  }

  // ---- Chain sync.

  Status apply_chain_update(const ChainUpdate& u) override {
    return run<Status>("apply_chain_update", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      txn.exec("LOCK TABLE leaves IN SHARE ROW EXCLUSIVE MODE");
      std::uint64_t count = leaf_count_in(txn);
      for (const ChainLeaf& leaf : u.leaves) {
        const Fr::Bytes v = leaf.value.to_bytes();
        if (leaf.index < count) {
          const pqxx::result r = txn.exec_params("SELECT value FROM leaves WHERE idx = $1", to_db(leaf.index));
          if (r.empty() || bytes_of(r[0][0]) != Bytes(v.begin(), v.end())) {
            return Status::failed_precondition("leaf " + std::to_string(leaf.index) + " differs from the stored one");
          }
          continue;
        }
        if (leaf.index != count) {
          return Status::failed_precondition("leaf " + std::to_string(leaf.index) + " would leave a gap after " +
                                             std::to_string(count) + " leaves");
        }
        const Fr::Bytes root = leaf.root.to_bytes();
        txn.exec_params("INSERT INTO leaves(idx, value, block, root) VALUES ($1, $2, $3, $4)", to_db(leaf.index),
                        bin(v), to_db(leaf.block), bin(root));
        ++count;
      }
      for (const auto& nl : u.note_leaves) {
        const pqxx::result r = txn.exec_params(
            "UPDATE notes SET leaf_index = $2, state = CASE state WHEN 'pending' THEN 'on_chain' ELSE state END "
            "WHERE id = $1 AND (leaf_index IS NULL OR leaf_index = $2)",
            nl.note_id, to_db(nl.leaf_index));
        if (r.affected_rows() != 1) {
          return Status::failed_precondition("note " + std::to_string(nl.note_id) + " is missing or at another leaf");
        }
      }
      for (const auto& s : u.spent) mark_spent_in(txn, s.note_id, s.block);
      remember_blocks_in(txn, u.blocks);
      set_cursor_in(txn, u.cursor);
      txn.commit();
      return Status::ok();
    });
  }

  Result<std::optional<BlockRef>> sync_cursor() override {
    return run<Result<std::optional<BlockRef>>>(
        "sync_cursor", [&](pqxx::connection& c) -> Result<std::optional<BlockRef>> {
          pqxx::read_transaction txn(c);
          const pqxx::result r = txn.exec("SELECT number, hash FROM sync_cursor WHERE id = 1");
          if (r.empty()) return std::optional<BlockRef>();
          ASSIGN_OR_RETURN(BlockRef b, read_block(r[0]));
          return std::optional<BlockRef>(b);
        });
  }

  Result<std::vector<BlockRef>> recent_blocks(std::size_t limit) override {
    return run<Result<std::vector<BlockRef>>>(
        "recent_blocks", [&](pqxx::connection& c) -> Result<std::vector<BlockRef>> {
          pqxx::read_transaction txn(c);
          const pqxx::result rows = txn.exec_params(
              "SELECT number, hash FROM chain_blocks ORDER BY number DESC LIMIT $1",
              static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
          std::vector<BlockRef> out;
          for (const pqxx::row& row : rows) {
            ASSIGN_OR_RETURN(BlockRef b, read_block(row));
            out.push_back(b);
          }
          return out;
        });
  }

  Status rollback_chain(const BlockRef& cursor) override {
    return run<Status>("rollback_chain", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      txn.exec("LOCK TABLE leaves IN SHARE ROW EXCLUSIVE MODE");
      const std::int64_t b = to_db(cursor.number);
      // The tree is cut at its first leaf from a vanished block (leaves stay contiguous even if an
      // unstamped leaf, block 0, was appended after it).
      const std::int64_t keep = txn.exec_params(
                                       "SELECT COALESCE((SELECT MIN(idx) FROM leaves WHERE block > $1), "
                                       "(SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves))",
                                       b)[0][0]
                                    .as<std::int64_t>();
      // Payments mined after the fork point are in flight again, to be looked up.
      txn.exec_params(
          "UPDATE payments SET state = 'submitted', block = 0, gas_used = 0 WHERE state = 'confirmed' AND block > $1",
          b);
      for (const char* sql : {
               // Notes on vanished leaves: pending again, without their proofs (and jobs, to prove again).
               "DELETE FROM jobs WHERE key IN (SELECT key FROM precomputes WHERE note_id IN "
               "(SELECT id FROM notes WHERE leaf_index >= $1))",
               "DELETE FROM precomputes WHERE note_id IN (SELECT id FROM notes WHERE leaf_index >= $1)",
               "UPDATE notes SET leaf_index = NULL, state = 'pending', spent_block = NULL WHERE leaf_index >= $1",
               "DELETE FROM leaves WHERE idx >= $1",
           }) {
        txn.exec_params(sql, keep);
      }
      for (const char* sql : {
               // Spent marks from vanished blocks (after the payments above went back in flight):
               // reserved again when a payment in flight holds the note.
               "UPDATE notes SET spent_block = NULL, state = CASE WHEN EXISTS (SELECT 1 FROM payment_notes pn "
               "JOIN payments p ON p.id = pn.payment_id WHERE pn.note_id = notes.id AND pn.role = 'spend' "
               "AND p.state IN ('signed', 'submitted')) THEN 'spending' ELSE 'on_chain' END "
               "WHERE spent_block > $1 AND leaf_index IS NOT NULL",
               "DELETE FROM chain_blocks WHERE number > $1",
           }) {
        txn.exec_params(sql, b);
      }
      remember_blocks_in(txn, std::span(&cursor, 1));
      set_cursor_in(txn, cursor);
      txn.commit();
      return Status::ok();
    });
  }

  Result<std::vector<Fr>> known_roots() override {
    return run<Result<std::vector<Fr>>>("known_roots", [&](pqxx::connection& c) -> Result<std::vector<Fr>> {
      pqxx::read_transaction txn(c);
      const pqxx::result rows = txn.exec("SELECT root FROM leaves WHERE root IS NOT NULL ORDER BY idx");
      std::vector<Fr> out;
      std::set<Fr::Bytes> seen;
      for (const pqxx::row& row : rows) {
        ASSIGN_OR_RETURN(const Fr r, decode_fr(bytes_of(row[0]), "leaf root"));
        if (seen.insert(r.to_bytes()).second) out.push_back(r);
      }
      return out;
    });
  }

  // ---- Payments journal.

  Result<std::int64_t> begin_payment(const Payment& p) override {
    return run<Result<std::int64_t>>("begin_payment", [&](pqxx::connection& c) -> Result<std::int64_t> {
      pqxx::work txn(c);
      const std::int64_t now = p.created_ms != 0 ? p.created_ms : now_ms();
      const pqxx::result r = txn.exec_params(
          "INSERT INTO payments(wallet, kind, amount, recipient, state, tx_hash, nonce, gas_used, block, error, "
          "latency_ms, created_ms, updated_ms) VALUES ($1, $2, $3, $4, 'prepared', '', 0, 0, 0, '', 0, $5, $5) "
          "RETURNING id",
          p.wallet, p.kind, to_db(p.amount), p.recipient, now);
      const std::int64_t id = r[0][0].as<std::int64_t>();
      // Row locks in id order first: two payments reserving overlapping notes in different orders
      // wait for each other instead of deadlocking.
      std::vector<std::int64_t> ordered(p.note_ids.begin(), p.note_ids.end());
      std::sort(ordered.begin(), ordered.end());
      for (std::int64_t note : ordered) txn.exec_params("SELECT 1 FROM notes WHERE id = $1 FOR UPDATE", note);
      for (std::int64_t note : p.note_ids) {
        if (txn.exec_params("UPDATE notes SET state = 'spending' WHERE id = $1 AND state = 'on_chain'", note)
                .affected_rows() != 1) {
          return Status::failed_precondition("note " + std::to_string(note) +
                                             " is not on chain and unreserved: it cannot be spent now");
        }
      }
      link_notes_in(txn, id, p.note_ids, "spend");
      link_notes_in(txn, id, p.new_note_ids, "new");
      txn.commit();
      return id;
    });
  }

  Status record_payment_signed(std::int64_t id, std::string_view tx_hash, std::span<const std::uint8_t> raw_tx,
                               std::uint64_t nonce, double latency_ms) override {
    return run<Status>("record_payment_signed", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      const pqxx::result r = txn.exec_params(
          "UPDATE payments SET state = 'signed', tx_hash = $2, raw_tx = $3, nonce = $4, "
          "latency_ms = $5::double precision, updated_ms = $6 WHERE id = $1 AND state = 'prepared'",
          id, std::string(tx_hash), bin(raw_tx), to_db(nonce), float_text(latency_ms), now_ms());
      if (r.affected_rows() != 1) return wrong_payment_state_in(txn, id, "signed");
      txn.commit();
      return Status::ok();
    });
  }

  Status mark_payment_submitted(std::int64_t id) override {
    return run<Status>("mark_payment_submitted", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      const pqxx::result r = txn.exec_params(
          "UPDATE payments SET state = 'submitted', updated_ms = $2 WHERE id = $1 AND state IN ('signed', 'submitted')",
          id, now_ms());
      if (r.affected_rows() != 1) return wrong_payment_state_in(txn, id, "submitted");
      txn.commit();
      return Status::ok();
    });
  }

  Status confirm_payment(std::int64_t id, std::uint64_t gas_used, std::uint64_t block) override {
    return run<Status>("confirm_payment", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      ASSIGN_OR_RETURN(const std::string state, payment_state_in(txn, id, true));
      if (state == "confirmed") return Status::ok();
      if (state != "signed" && state != "submitted") {
        return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ", not in flight");
      }
      txn.exec_params(
          "UPDATE payments SET state = 'confirmed', gas_used = $2, block = $3, settled_by = '', updated_ms = $4 "
          "WHERE id = $1",
          id, to_db(gas_used), to_db(block), now_ms());
      for (std::int64_t note : linked_notes_in(txn, id, "spend")) mark_spent_in(txn, note, block);
      txn.commit();
      return Status::ok();
    });
  }

  Result<std::unique_ptr<Lock>> lock(std::string_view name, std::chrono::milliseconds timeout) override {
    // A connection of its own (not the pool's: holding one of those could starve the store), with
    // a session advisory lock that PostgreSQL drops when the session ends, however it ends.
    std::uint64_t key = 0xcbf29ce484222325ULL;  // FNV-1a of the name
    for (const char c : "bucketpay lock:" + std::string(name)) {
      key = (key ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    try {
      auto conn = std::make_unique<pqxx::connection>(url_);
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      for (;;) {
        {
          pqxx::nontransaction q(*conn);
          if (q.exec_params("SELECT pg_try_advisory_lock($1)", static_cast<std::int64_t>(key))[0][0].as<bool>()) {
            break;
          }
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          return Status::unavailable("lock \"" + std::string(name) + "\" is held by another process (waited " +
                                     std::to_string(timeout.count()) + " ms)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      return std::unique_ptr<Lock>(new SessionLock(std::move(conn)));
    } catch (const std::exception& e) {
      return pg::status_from_exception(e, "taking lock \"" + std::string(name) + "\"");
    }
  }

  Status reopen_payment(std::int64_t id) override {
    return run<Status>("reopen_payment", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      ASSIGN_OR_RETURN(const std::string state, payment_state_in(txn, id, true));
      if (state == "submitted") return Status::ok();
      if (state != "confirmed") {
        return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ", not confirmed");
      }
      txn.exec_params("UPDATE payments SET state = 'submitted', block = 0, gas_used = 0, updated_ms = $2 WHERE id = $1",
                      id, now_ms());
      txn.exec_params(
          "UPDATE notes SET state = 'spending', spent_block = NULL WHERE state = 'spent' AND id IN "
          "(SELECT note_id FROM payment_notes WHERE payment_id = $1 AND role = 'spend')",
          id);
      txn.commit();
      return Status::ok();
    });
  }

  Status fail_payment(std::int64_t id, std::string_view error, std::span<const std::int64_t> spent_note_ids,
                      std::uint64_t block) override {
    return run<Status>("fail_payment", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      ASSIGN_OR_RETURN(const std::string state, payment_state_in(txn, id, true));
      if (state == "failed") return Status::ok();
      if (state == "confirmed") return Status::failed_precondition("payment " + std::to_string(id) + " is confirmed");
      fail_payment_in(txn, id, error, spent_note_ids, block, /*delete_new_notes=*/true);
      txn.commit();
      return Status::ok();
    });
  }

  Status fail_payment_if(std::int64_t id, PaymentState expected, std::string_view error,
                         std::span<const std::int64_t> spent_note_ids, std::uint64_t block) override {
    return run<Status>("fail_payment_if", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      ASSIGN_OR_RETURN(const std::string state, payment_state_in(txn, id, true));
      if (state != payment_state_name(expected) || state == "confirmed" || state == "failed") {
        return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ", not " +
                                           std::string(payment_state_name(expected)) + ": it cannot become failed");
      }
      fail_payment_in(txn, id, error, spent_note_ids, block, /*delete_new_notes=*/expected == PaymentState::kPrepared);
      txn.commit();
      return Status::ok();
    });
  }

  Status settle_payment_by(std::int64_t id, PaymentState expected, std::string_view settled_by,
                           std::uint64_t block) override {
    return run<Status>("settle_payment_by", [&](pqxx::connection& c) -> Status {
      pqxx::work txn(c);
      ASSIGN_OR_RETURN(const std::string state, payment_state_in(txn, id, true));
      if (state != payment_state_name(expected) || (state != "signed" && state != "submitted")) {
        return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ", not " +
                                           std::string(payment_state_name(expected)) + " in flight");
      }
      txn.exec_params(
          "UPDATE payments SET state = 'confirmed', gas_used = 0, block = $2, settled_by = $3, updated_ms = $4 "
          "WHERE id = $1",
          id, to_db(block), std::string(settled_by), now_ms());
      for (std::int64_t note : linked_notes_in(txn, id, "spend")) mark_spent_in(txn, note, block);
      txn.commit();
      return Status::ok();
    });
  }

  Result<Payment> get_payment(std::int64_t id) override {
    return run<Result<Payment>>("get_payment", [&](pqxx::connection& c) -> Result<Payment> {
      pqxx::read_transaction txn(c);
      ASSIGN_OR_RETURN(
          std::vector<Payment> found,
          read_payments(txn, txn.exec_params(cat({"SELECT ", kPaymentColumns, " FROM payments WHERE id = $1"}), id)));
      if (found.empty()) return Status::not_found("no payment " + std::to_string(id));
      return std::move(found.front());
    });
  }

  Result<std::vector<Payment>> list_payments(std::string_view wallet, std::optional<PaymentState> state) override {
    return run<Result<std::vector<Payment>>>("list_payments", [&](pqxx::connection& c) -> Result<std::vector<Payment>> {
      pqxx::read_transaction txn(c);
      if (!state) {
        return read_payments(
            txn, txn.exec_params(cat({"SELECT ", kPaymentColumns, " FROM payments WHERE wallet = $1 ORDER BY id"}),
                                 std::string(wallet)));
      }
      return read_payments(txn, txn.exec_params(cat({"SELECT ", kPaymentColumns,
                                                     " FROM payments WHERE wallet = $1 AND state = $2 ORDER BY id"}),
                                                std::string(wallet), std::string(payment_state_name(*state))));
    });
  }

 private:
  struct ClaimedJob {
    Job job;
    std::int64_t lease_expires_ms = 0;
  };

  template <typename R, typename F>
  R run(const char* what, F&& f) {
    return run_on<R>(*pool_, what, std::forward<F>(f));
  }

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

  // ---- Chain and journal helpers (inside a transaction).

  // The writes of fail_payment / fail_payment_if, inside their transaction.
  static void fail_payment_in(pqxx::transaction_base& txn, std::int64_t id, std::string_view error,
                              std::span<const std::int64_t> spent_note_ids, std::uint64_t block,
                              bool delete_new_notes) {
    txn.exec_params("UPDATE payments SET state = 'failed', error = $2, block = $3, updated_ms = $4 WHERE id = $1", id,
                    std::string(error), to_db(block), now_ms());
    for (std::int64_t note : linked_notes_in(txn, id, "spend")) {
      if (std::find(spent_note_ids.begin(), spent_note_ids.end(), note) != spent_note_ids.end()) {
        mark_spent_in(txn, note, block);
      } else {
        txn.exec_params("UPDATE notes SET state = 'on_chain' WHERE id = $1 AND state = 'spending'", note);
      }
    }
    if (!delete_new_notes) return;
    for (std::int64_t note : linked_notes_in(txn, id, "new")) {
      txn.exec_params("DELETE FROM notes WHERE id = $1 AND state = 'pending' AND leaf_index IS NULL", note);
    }
  }

  // -> spent (from any state; the first spent block is kept), its proofs and their jobs dropped.
  static void mark_spent_in(pqxx::transaction_base& txn, std::int64_t note, std::uint64_t block) {
    txn.exec_params("UPDATE notes SET state = 'spent', spent_block = COALESCE(spent_block, $2) WHERE id = $1", note,
                    to_db(block));
    txn.exec_params("DELETE FROM jobs WHERE key IN (SELECT key FROM precomputes WHERE note_id = $1)", note);
    txn.exec_params("DELETE FROM precomputes WHERE note_id = $1", note);
  }

  static void remember_blocks_in(pqxx::transaction_base& txn, std::span<const BlockRef> blocks) {
    for (const BlockRef& b : blocks) {
      txn.exec_params(
          "INSERT INTO chain_blocks(number, hash) VALUES ($1, $2) "
          "ON CONFLICT (number) DO UPDATE SET hash = excluded.hash",
          to_db(b.number), bin(b.hash));
    }
  }

  static void set_cursor_in(pqxx::transaction_base& txn, const BlockRef& b) {
    txn.exec_params(
        "INSERT INTO sync_cursor(id, number, hash) VALUES (1, $1, $2) "
        "ON CONFLICT (id) DO UPDATE SET number = excluded.number, hash = excluded.hash",
        to_db(b.number), bin(b.hash));
  }

  static Result<BlockRef> read_block(const pqxx::row& row) {
    BlockRef b;
    b.number = from_db(row[0].as<std::int64_t>());
    const Bytes h = bytes_of(row[1]);
    if (h.size() != b.hash.size()) return Status::corruption("a stored block hash is not 32 bytes");
    std::copy(h.begin(), h.end(), b.hash.begin());
    return b;
  }

  static void link_notes_in(pqxx::transaction_base& txn, std::int64_t payment, std::span<const std::int64_t> notes,
                            const char* role) {
    for (std::int64_t note : notes) {
      txn.exec_params("INSERT INTO payment_notes(payment_id, note_id, role) VALUES ($1, $2, $3)", payment, note,
                      std::string(role));
    }
  }

  static std::vector<std::int64_t> linked_notes_in(pqxx::transaction_base& txn, std::int64_t payment,
                                                   const char* role) {
    std::vector<std::int64_t> out;
    for (const pqxx::row& row :
         txn.exec_params("SELECT note_id FROM payment_notes WHERE payment_id = $1 AND role = $2 ORDER BY seq", payment,
                         std::string(role))) {
      out.push_back(row[0].as<std::int64_t>());
    }
    return out;
  }

  // The payment's state; `lock` holds its row until the transaction ends.
  static Result<std::string> payment_state_in(pqxx::transaction_base& txn, std::int64_t id, bool lock) {
    const pqxx::result r = txn.exec_params(
        lock ? "SELECT state FROM payments WHERE id = $1 FOR UPDATE" : "SELECT state FROM payments WHERE id = $1", id);
    if (r.empty()) return Status::not_found("no payment " + std::to_string(id));
    return r[0][0].as<std::string>();
  }

  static Status wrong_payment_state_in(pqxx::transaction_base& txn, std::int64_t id, std::string_view to) {
    ASSIGN_OR_RETURN(const std::string state, payment_state_in(txn, id, false));
    return Status::failed_precondition("payment " + std::to_string(id) + " is " + state + ": it cannot become " +
                                       std::string(to));
  }

  static Result<std::vector<Payment>> read_payments(pqxx::transaction_base& txn, const pqxx::result& rows) {
    std::vector<Payment> out;
    for (const pqxx::row& row : rows) {
      Payment p;
      p.id = row[0].as<std::int64_t>();
      p.wallet = row[1].as<std::string>();
      p.kind = row[2].as<std::string>();
      p.amount = from_db(row[3].as<std::int64_t>());
      p.recipient = row[4].as<std::string>();
      ASSIGN_OR_RETURN(p.state, parse_payment_state(row[5].as<std::string>()));
      p.tx_hash = row[6].as<std::string>();
      p.raw_tx = bytes_of(row[7]);
      p.nonce = from_db(row[8].as<std::int64_t>());
      p.gas_used = from_db(row[9].as<std::int64_t>());
      p.block = from_db(row[10].as<std::int64_t>());
      p.error = row[11].as<std::string>();
      p.latency_ms = row[12].as<double>();
      p.created_ms = row[13].as<std::int64_t>();
      p.updated_ms = row[14].as<std::int64_t>();
      p.settled_by = row[15].as<std::string>();
      p.note_ids = linked_notes_in(txn, p.id, "spend");
      p.new_note_ids = linked_notes_in(txn, p.id, "new");
      out.push_back(std::move(p));
    }
    return out;
  }

  static std::uint64_t leaf_count_in(pqxx::transaction_base& txn) {
    return from_db(txn.exec("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves")[0][0].as<std::int64_t>());
  }

  Result<StoredNote> read_note(const pqxx::row& row) const {
    StoredNote n;
    n.id = row[0].as<std::int64_t>();
    n.wallet = row[1].as<std::string>();
    ASSIGN_OR_RETURN(n.pk, decode_fr(bytes_of(row[2]), "note pk"));
    n.value = from_db(row[3].as<std::int64_t>());
    if (!row[5].is_null()) {
      n.leaf_index = from_db(row[5].as<std::int64_t>());
    }
    ASSIGN_OR_RETURN(n.state, parse_note_state(row[6].as<std::string>()));
    ASSIGN_OR_RETURN(n.commitment, decode_fr(bytes_of(row[7]), "note commitment"));
    n.created_ms = row[8].as<std::int64_t>();
    Result<Bytes> r = open_secret(bytes_of(row[4]), note_r_ad(n.commitment));
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

  Result<std::vector<StoredNote>> read_notes(const pqxx::result& rows) const {
    std::vector<StoredNote> out;
    out.reserve(rows.size());
    for (const pqxx::row& row : rows) {
      ASSIGN_OR_RETURN(StoredNote n, read_note(row));
      out.push_back(std::move(n));
    }
    return out;
  }

  Result<StoredNote> get_note_in(pqxx::transaction_base& txn, std::int64_t id) const {
    ASSIGN_OR_RETURN(std::vector<StoredNote> found,
                     read_notes(txn.exec_params(cat({"SELECT ", kNoteColumns, " FROM notes WHERE id = $1"}), id)));
    if (found.empty()) {
      return Status::not_found("no note " + std::to_string(id));
    }
    return std::move(found.front());
  }

  static Status set_note_state_in(pqxx::connection& c, std::int64_t id, std::optional<NoteState> from, NoteState to) {
    pqxx::work txn(c);
    const pqxx::result r =
        txn.exec_params("SELECT state, leaf_index IS NOT NULL FROM notes WHERE id = $1 FOR UPDATE", id);
    if (r.empty()) {
      return Status::not_found("no note " + std::to_string(id));
    }
    const auto current = r[0][0].as<std::string>();
    const bool has_leaf = r[0][1].as<bool>();
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
    txn.exec_params("UPDATE notes SET state = $2 WHERE id = $1", id, std::string(note_state_name(to)));
    txn.commit();
    return Status::ok();
  }

  Result<std::int64_t> insert_precompute_in(pqxx::transaction_base& txn, const Precompute& p) const {
    if (p.key.empty()) {
      return Status::invalid_argument("the precompute's key is empty");
    }
    BUCKETPAY_RETURN_IF_ERROR(check_json(p.outputs_json, "precompute '" + p.key + "' outputs_json"));
    // Checked here for a clear message; the foreign key backs it up.
    if (txn.exec_params("SELECT 1 FROM notes WHERE id = $1", p.note_id).empty()) {
      return Status::not_found("precompute '" + p.key + "' refers to no note " + std::to_string(p.note_id));
    }
    const Fr::Bytes recipient = p.recipient.to_bytes();
    const Bytes inputs = encode_frs(p.public_inputs);
    Bytes outputs;
    if (!p.outputs_json.empty()) {
      outputs = seal_secret(as_bytes(p.outputs_json), outputs_ad(p.key));
    }
    // The unique key makes a second precompute for one key impossible; ON CONFLICT turns the
    // attempt into "no row" rather than an aborted transaction.
    const pqxx::result r = txn.exec_params(
        "INSERT INTO precomputes(key, note_id, circuit, amount, recipient, public_inputs, proof, outputs, "
        "created_ms, prove_ms, worker) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8::bytea, '\\x'::bytea), $9, $10::double precision, $11) "
        "ON CONFLICT (key) DO NOTHING RETURNING id",
        p.key, p.note_id, p.circuit, to_db(p.amount), bin(recipient), bin(inputs), bin(p.proof), bin(outputs),
        p.created_ms != 0 ? p.created_ms : now_ms(), float_text(p.prove_ms), p.worker);
    wipe(outputs);
    if (r.empty()) {
      return Status::already_exists("a precompute with key '" + p.key + "' exists");
    }
    return r[0][0].as<std::int64_t>();
  }

  Result<Precompute> read_precompute(const pqxx::row& row) const {
    Precompute p;
    p.id = row[0].as<std::int64_t>();
    p.key = row[1].as<std::string>();
    p.note_id = row[2].as<std::int64_t>();
    p.circuit = row[3].as<std::string>();
    p.amount = from_db(row[4].as<std::int64_t>());
    ASSIGN_OR_RETURN(p.recipient, decode_fr(bytes_of(row[5]), "precompute recipient"));
    ASSIGN_OR_RETURN(p.public_inputs, decode_frs(bytes_of(row[6]), "precompute public inputs"));
    p.proof = bytes_of(row[7]);
    if (!row[8].is_null()) {
      Result<Bytes> outputs = open_secret(bytes_of(row[8]), outputs_ad(p.key));
      if (!outputs.ok()) {
        return outputs.status().with_context("precompute '" + p.key + "' outputs");
      }
      p.outputs_json.assign(outputs->begin(), outputs->end());
      wipe(*outputs);
    }
    p.created_ms = row[9].as<std::int64_t>();
    p.prove_ms = row[10].as<double>();
    p.worker = row[11].as<int>();
    return p;
  }

  Result<std::vector<Precompute>> read_precomputes(const pqxx::result& rows) const {
    std::vector<Precompute> out;
    out.reserve(rows.size());
    for (const pqxx::row& row : rows) {
      ASSIGN_OR_RETURN(Precompute p, read_precompute(row));
      out.push_back(std::move(p));
    }
    return out;
  }

  Result<Job> read_job(const pqxx::row& row) const {
    Job j;
    j.id = row[0].as<std::int64_t>();
    j.key = row[1].as<std::string>();
    j.batch = row[2].as<std::string>();
    j.circuit = row[3].as<std::string>();
    if (!row[4].is_null()) {
      Result<Bytes> spec = open_secret(bytes_of(row[4]), job_spec_ad(j.key));
      if (!spec.ok()) {
        return spec.status().with_context("job '" + j.key + "' spec");
      }
      j.spec_json.assign(spec->begin(), spec->end());
      wipe(*spec);
    }
    ASSIGN_OR_RETURN(j.state, parse_job_state(row[5].as<std::string>()));
    j.tries = row[6].as<int>();
    j.error = row[7].as<std::string>();
    j.updated_ms = row[8].as<std::int64_t>();
    j.worker = row[9].as<int>();
    return j;
  }

  Result<Job> get_job_in(pqxx::transaction_base& txn, std::int64_t id) const {
    const pqxx::result r = txn.exec_params(cat({"SELECT ", kJobColumns, " FROM jobs WHERE id = $1"}), id);
    if (r.empty()) {
      return Status::not_found("no job " + std::to_string(id));
    }
    return read_job(r[0]);
  }

  struct Lease {
    std::string owner;
    std::chrono::milliseconds duration;
  };

  // Claims the oldest pending job no one else holds locked (SKIP LOCKED: claimers never wait for
  // each other) for `worker`, with `lease` when given. A job whose spec does not open is failed for
  // good (else it would be handed out forever) and reported.
  Result<std::optional<ClaimedJob>> claim_in(pqxx::connection& c, int worker, const std::optional<Lease>& lease) const {
    pqxx::work txn(c);
    const std::string sql = cat(
        {"UPDATE jobs SET state = 'running', tries = tries + 1, updated_ms = ", BUCKETPAY_PG_NOW_MS, ", worker = $1, ",
         lease ? "lease_owner = $2, lease_expires_at = now() + $3::bigint * interval '1 millisecond'"
               : "lease_owner = NULL, lease_expires_at = NULL",
         // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one SQL text over two lines
         " WHERE id = (SELECT id FROM jobs WHERE state = 'pending' ORDER BY id LIMIT 1 "
         "FOR UPDATE SKIP LOCKED) RETURNING ",
         kJobColumns, ", COALESCE((extract(epoch from lease_expires_at) * 1000)::bigint, 0)"});
    const pqxx::result r =
        lease ? txn.exec_params(sql, worker, lease->owner, static_cast<std::int64_t>(lease->duration.count()))
              : txn.exec_params(sql, worker);
    if (r.empty()) {
      return std::optional<ClaimedJob>();
    }
    Result<Job> job = read_job(r[0]);
    if (!job.ok()) {
      const auto id = r[0][0].as<std::int64_t>();
      const auto key = r[0][1].as<std::string>();
      txn.exec_params(
          "UPDATE jobs SET state = 'failed', error = $2, lease_owner = NULL, lease_expires_at = NULL, "
          "updated_ms = " BUCKETPAY_PG_NOW_MS " WHERE id = $1",
          id, job.status().message());
      txn.commit();
      return job.status().with_context("job '" + key + "' failed permanently");
    }
    txn.commit();
    return std::optional<ClaimedJob>(ClaimedJob{std::move(*job), r[0][10].as<std::int64_t>()});
  }

  // Why `worker_id` cannot act on job `job_id` (which the caller's UPDATE did not match).
  Status lease_lost(pqxx::transaction_base& txn, std::int64_t job_id, std::string_view worker_id) const {
    const pqxx::result r = txn.exec_params("SELECT key, state, lease_owner FROM jobs WHERE id = $1", job_id);
    if (r.empty()) {
      return Status::not_found("no job " + std::to_string(job_id));
    }
    const auto key = r[0][0].as<std::string>();
    const auto state = r[0][1].as<std::string>();
    if (state != job_state_name(JobState::kRunning)) {
      return Status::failed_precondition("worker " + std::string(worker_id) + " lost the lease of job '" + key +
                                         "': it is " + state);
    }
    return Status::failed_precondition(
        "worker " + std::string(worker_id) + " lost the lease of job '" + key + "' to " +
        (r[0][2].is_null() ? std::string("an unleased claim") : r[0][2].as<std::string>()));
  }

  // complete_job; with `worker_id`, the lease-fenced, exactly-once version.
  Result<std::int64_t> complete_in(pqxx::connection& c, std::int64_t job_id, std::optional<std::string_view> worker_id,
                                   const Precompute& precompute) const {
    pqxx::work txn(c);
    // The row lock orders this against a concurrent reclaim, claim or completion of the job.
    const pqxx::result r = txn.exec_params("SELECT key, state, lease_owner FROM jobs WHERE id = $1 FOR UPDATE", job_id);
    if (r.empty()) {
      return Status::not_found("no job " + std::to_string(job_id));
    }
    const auto key = r[0][0].as<std::string>();
    const auto state = r[0][1].as<std::string>();
    if (worker_id && state == job_state_name(JobState::kDone)) {
      return Status::already_exists("job '" + key + "' is done already (its precompute is stored)");
    }
    if (state != job_state_name(JobState::kRunning)) {
      if (worker_id) {
        return lease_lost(txn, job_id, *worker_id);
      }
      return Status::failed_precondition("job '" + key + "' is " + state + ", not running");
    }
    if (worker_id && (r[0][2].is_null() || r[0][2].as<std::string>() != *worker_id)) {
      return lease_lost(txn, job_id, *worker_id);
    }
    if (!precompute.key.empty() && precompute.key != key) {
      return Status::invalid_argument("precompute key '" + precompute.key + "' differs from its job's key '" + key +
                                      "'");
    }
    Precompute p = precompute;
    p.key = key;
    Result<std::int64_t> id = insert_precompute_in(txn, p);
    wipe(p.outputs_json);
    if (!id.ok()) {
      return id.status();
    }
    txn.exec_params(
        "UPDATE jobs SET state = 'done', error = '', lease_owner = NULL, lease_expires_at = NULL, "
        "updated_ms = " BUCKETPAY_PG_NOW_MS " WHERE id = $1",
        job_id);
    txn.commit();
    return id;
  }

  Status fail_in(pqxx::connection& c, std::int64_t job_id, std::optional<std::string_view> worker_id,
                 std::string_view error, bool permanent) const {
    pqxx::work txn(c);
    const std::string state(job_state_name(permanent ? JobState::kFailed : JobState::kPending));
    const std::string sql =
        cat({"UPDATE jobs SET state = $2, error = $3, lease_owner = NULL, lease_expires_at = NULL, "
             "updated_ms = " BUCKETPAY_PG_NOW_MS " WHERE id = $1 AND state = 'running'",
             worker_id ? " AND lease_owner = $4" : ""});
    const pqxx::result r = worker_id ? txn.exec_params(sql, job_id, state, std::string(error), std::string(*worker_id))
                                     : txn.exec_params(sql, job_id, state, std::string(error));
    if (r.affected_rows() == 1) {
      txn.commit();
      return Status::ok();
    }
    if (worker_id) {
      return lease_lost(txn, job_id, *worker_id);
    }
    ASSIGN_OR_RETURN(const Job job, get_job_in(txn, job_id));
    return Status::failed_precondition("job '" + job.key + "' is " + std::string(job_state_name(job.state)) +
                                       ", not running");
  }

  std::unique_ptr<pg::Pool> pool_;  // thread-safe; each call holds one of its connections
  std::optional<Vault> vault_;      // immutable after construction
  std::string url_;                 // for the connections that hold locks
};

// ---- Opening: schema and vault.

Result<std::optional<Bytes>> meta_get(pqxx::transaction_base& txn, const std::string& key) {
  const pqxx::result r = txn.exec_params("SELECT value FROM meta WHERE key = $1", key);
  if (r.empty()) {
    return std::optional<Bytes>();
  }
  return std::optional<Bytes>(bytes_of(r[0][0]));
}

void meta_put(pqxx::transaction_base& txn, const std::string& key, std::span<const std::uint8_t> value) {
  txn.exec_params("INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2", key,
                  bin(value));
}

// Integers in meta are decimal text.
Result<std::optional<std::int64_t>> meta_get_int(pqxx::transaction_base& txn, const std::string& key) {
  ASSIGN_OR_RETURN(const std::optional<Bytes> bytes, meta_get(txn, key));
  if (!bytes) {
    return std::optional<std::int64_t>();
  }
  std::int64_t v = 0;
  const char* begin = reinterpret_cast<const char*>(bytes->data());
  const char* end = begin + bytes->size();
  const auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end) {
    return Status::corruption("meta '" + key + "' is not an integer");
  }
  return std::optional<std::int64_t>(v);
}

void meta_put_int(pqxx::transaction_base& txn, const std::string& key, std::int64_t v) {
  meta_put(txn, key, as_bytes(std::to_string(v)));
}

Status migrate(pqxx::connection& c) {
  pqxx::work txn(c);
  txn.exec_params("SELECT pg_advisory_xact_lock($1)", kOpenLockKey);
  txn.exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BYTEA NOT NULL)");
  ASSIGN_OR_RETURN(const std::optional<std::int64_t> stored, meta_get_int(txn, "schema_version"));
  const std::int64_t version = stored.value_or(0);
  if (version > kSchemaVersion) {
    return Status::failed_precondition("the database has schema version " + std::to_string(version) +
                                       ", newer than this build's " + std::to_string(kSchemaVersion));
  }
  if (version == kSchemaVersion) {
    return Status::ok();
  }
  for (std::int64_t v = version; v < kSchemaVersion; ++v) {
    txn.exec(kMigrations[v]);
  }
  meta_put_int(txn, "schema_version", kSchemaVersion);
  txn.commit();
  return Status::ok();
}

Result<std::optional<Vault>> setup_vault(pqxx::connection& c, const StoreOptions& options) {
  {
    pqxx::read_transaction txn(c);
    ASSIGN_OR_RETURN(const std::optional<Bytes> salt, meta_get(txn, "vault_salt"));
    if (salt) {
      if (!options.passphrase) {
        return Status::failed_precondition("the store is encrypted: a passphrase is needed to open it");
      }
      ASSIGN_OR_RETURN(const std::optional<std::int64_t> ops, meta_get_int(txn, "vault_opslimit"));
      ASSIGN_OR_RETURN(const std::optional<std::int64_t> mem, meta_get_int(txn, "vault_memlimit"));
      ASSIGN_OR_RETURN(const std::optional<Bytes> check, meta_get(txn, "vault_check"));
      if (!ops || !mem || !check || *ops <= 0 || *mem <= 0) {
        return Status::corruption("the vault's parameters are missing or invalid");
      }
      const VaultParams params{static_cast<std::uint64_t>(*ops), static_cast<std::size_t>(*mem)};
      ASSIGN_OR_RETURN(Vault vault, Vault::open(*options.passphrase, *salt, params));
      Result<Bytes> plain = vault.unseal(*check, kVaultCheckAd);
      if (!plain.ok() ||
          std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()) != kVaultCheckPlaintext) {
        return Status::invalid_argument("wrong passphrase for the store");
      }
      return std::optional<Vault>(std::move(vault));
    }
  }
  if (!options.passphrase) {
    return std::optional<Vault>();
  }

  // A new vault. Derive first (slow), then record it under the open lock.
  ASSIGN_OR_RETURN(Vault vault, Vault::create(*options.passphrase, options.vault_params));
  pqxx::work txn(c);
  txn.exec_params("SELECT pg_advisory_xact_lock($1)", kOpenLockKey);
  ASSIGN_OR_RETURN(const std::optional<Bytes> raced, meta_get(txn, "vault_salt"));
  if (raced) {
    return Status::unavailable("another process created a vault meanwhile; reopen");
  }
  const bool secrets = txn.exec(
                              "SELECT EXISTS(SELECT 1 FROM notes) OR EXISTS(SELECT 1 FROM secrets) "
                              "OR EXISTS(SELECT 1 FROM named_secrets) "
                              "OR EXISTS(SELECT 1 FROM precomputes WHERE outputs IS NOT NULL) "
                              "OR EXISTS(SELECT 1 FROM jobs WHERE spec IS NOT NULL)")[0][0]
                           .as<bool>();
  if (secrets) {
    return Status::failed_precondition("the store already holds unsealed secrets; a vault cannot be added to it");
  }
  const Bytes check = vault.seal(as_bytes(kVaultCheckPlaintext), kVaultCheckAd);
  meta_put(txn, "vault_salt", vault.salt());
  meta_put_int(txn, "vault_opslimit", static_cast<std::int64_t>(vault.params().opslimit));
  meta_put_int(txn, "vault_memlimit", static_cast<std::int64_t>(vault.params().memlimit));
  meta_put(txn, "vault_check", check);
  txn.commit();
  return std::optional<Vault>(std::move(vault));
}

Result<std::unique_ptr<PgStore>> open_impl(const std::string& url, const StoreOptions& options, const PgOptions& pg) {
  if (pg.max_connections < 1) {
    return Status::invalid_argument("max_connections must be at least 1");
  }
  if (options.busy_timeout_ms < 0) {
    return Status::invalid_argument("busy_timeout_ms must not be negative");
  }
  auto pool = std::make_unique<pg::Pool>(pg::PoolSettings{url, pg.max_connections,
                                                          std::chrono::milliseconds(options.busy_timeout_ms),
                                                          std::chrono::milliseconds(options.busy_timeout_ms)});
  Result<std::optional<Vault>> vault = Status::internal("unset");
  {
    ASSIGN_OR_RETURN(pg::Pool::Handle conn, pool->acquire());
    try {
      BUCKETPAY_RETURN_IF_ERROR(migrate(*conn));
      vault = setup_vault(*conn, options);
    } catch (const std::exception& e) {
      if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
        conn.discard();
      }
      return pg::status_from_exception(e, "setting up the schema");
    }
  }
  if (!vault.ok()) {
    return vault.status();
  }
  return std::unique_ptr<PgStore>(new PgStoreImpl(std::move(pool), std::move(*vault), url));
}

// The URL without its password, for messages.
std::string redact(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) {
    return url.find("password") == std::string::npos ? url : std::string("(connection string)");
  }
  const std::size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) {
    return url;
  }
  return url.substr(0, colon) + ":***" + url.substr(at);
}

}  // namespace

Result<std::unique_ptr<PgStore>> open_pg_store(const std::string& url, const StoreOptions& options,
                                               const PgOptions& pg) {
  const std::string context = "opening store " + redact(url);
  try {
    Result<std::unique_ptr<PgStore>> store = open_impl(url, options, pg);
    if (!store.ok()) {
      return store.status().with_context(context);
    }
    return store;
  } catch (const std::exception& e) {
    return pg::status_from_exception(e, context);
  }
}

}  // namespace bucketpay
