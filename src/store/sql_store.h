// SqlStore: every rule of the Store contract (bucketpay/store.h), written once as SQL over a
// sql::Database (store/sql.h). The SQLite store (sqlite_store.cpp) and the PostgreSQL store
// (pg_store.cpp) are this class over their own connections and dialect, plus what is their own:
// the lock (flock beside the file; an advisory lock) and, on PostgreSQL, the leased job queue.
//
// Each public method is one transaction on one connection of the Database (retried when the
// database reports a serialization failure or deadlock); its failure is prefixed with the method's
// name. No exception leaves a method.
//
// The *_in helpers run inside a transaction the caller holds on `c`; they are protected so that a
// backend's own methods (the lease queue) reuse them.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/store.h"
#include "bucketpay/vault.h"
#include "sql.h"

namespace bucketpay {

class SqlStore : public virtual Store {
 public:
  SqlStore(std::unique_ptr<sql::Database> db, std::optional<Vault> vault);

  // Creates or migrates the schema to this build's version, then sets up the vault the options
  // ask for (checked against, or recorded in, the meta table). kFailedPrecondition when the stored
  // schema is newer than this build's.
  static Result<std::optional<Vault>> prepare(sql::Database& db, const StoreOptions& options);

  // ---- SecretStore (sql_store.cpp)
  [[nodiscard]] bool has_vault() const override { return vault_.has_value(); }
  Status put_spending_key(std::string_view wallet, const Fr& sk) override;
  Result<Fr> get_spending_key(std::string_view wallet) override;
  Status put_secret(std::string_view wallet, std::string_view name, std::span<const std::uint8_t> value) override;
  Result<std::vector<std::uint8_t>> get_secret(std::string_view wallet, std::string_view name) override;

  // ---- Store (sql_store.cpp)
  Status checkpoint_log(int min_pages) override;

  // ---- SettingsStore (sql_store.cpp)
  Status put_setting(std::string_view wallet, std::string_view key, std::string_view value) override;
  Result<std::optional<std::string>> get_setting(std::string_view wallet, std::string_view key) override;

  // ---- NoteStore (sql_notes.cpp)
  Result<std::uint64_t> append_leaves(std::span<const Fr> leaves) override;
  Result<std::vector<Fr>> load_leaves() override;
  Result<std::uint64_t> leaf_count() override;
  Result<std::int64_t> insert_note(const StoredNote& note) override;
  Result<StoredNote> get_note(std::int64_t id) override;
  Result<std::vector<StoredNote>> find_notes_by_commitment(const Fr& commitment) override;
  Result<std::vector<StoredNote>> list_notes(std::string_view wallet, std::optional<NoteState> state) override;
  Status set_note_state(std::int64_t id, NoteState state) override;
  Status transition_note_state(std::int64_t id, NoteState from, NoteState to) override;
  Status set_note_leaf_index(std::int64_t id, std::uint64_t leaf_index) override;

  // ---- ProofStore (sql_proofs.cpp)
  Result<std::int64_t> insert_precompute(const Precompute& p) override;
  Result<std::optional<Precompute>> find_precompute(std::string_view key) override;
  Result<std::vector<Precompute>> list_precomputes_for_note(std::int64_t note_id) override;
  Result<std::vector<Precompute>> list_precomputes_by_circuit(CircuitKind circuit) override;
  Result<std::int64_t> count_precomputes() override;
  Result<std::int64_t> delete_precomputes_for_note(std::int64_t note_id) override;
  Status delete_precompute(std::string_view key) override;
  Result<std::int64_t> enqueue_jobs(std::span<const Job> jobs) override;
  Result<std::optional<Job>> claim_next_job(int worker) override;
  Result<std::optional<Job>> claim_next_job_among(std::span<const std::string> keys, int worker) override;
  Result<std::int64_t> complete_job(std::int64_t job_id, const Precompute& precompute) override;
  Status fail_job(std::int64_t job_id, std::string_view error, bool permanent) override;
  Result<std::int64_t> reset_running_jobs() override;
  Result<std::int64_t> retry_failed_jobs(std::span<const std::string> keys) override;
  Result<Job> get_job(std::int64_t id) override;
  Result<std::vector<Job>> list_jobs(std::optional<std::string_view> batch) override;
  Result<JobCounts> job_counts(std::optional<std::string_view> batch) override;

  // ---- ChainIndexStore (sql_chain.cpp)
  Status apply_chain_update(const ChainUpdate& update) override;
  Result<std::optional<BlockRef>> sync_cursor() override;
  Result<std::vector<BlockRef>> recent_blocks(std::size_t limit) override;
  Status rollback_chain(const BlockRef& cursor) override;
  Result<std::vector<Fr>> known_roots() override;

  // ---- PaymentJournal (sql_payments.cpp)
  Result<std::int64_t> begin_payment(const Payment& payment) override;
  Status record_payment_signed(std::int64_t id, std::string_view tx_hash, std::span<const std::uint8_t> raw_tx,
                               std::uint64_t nonce, double latency_ms) override;
  Status mark_payment_submitted(std::int64_t id) override;
  Status confirm_payment(std::int64_t id, std::uint64_t gas_used, std::uint64_t block) override;
  Status reopen_payment(std::int64_t id) override;
  Status fail_payment(std::int64_t id, std::string_view error, std::span<const std::int64_t> spent_note_ids,
                      std::uint64_t block) override;
  Status fail_payment_if(std::int64_t id, PaymentState expected, std::string_view error,
                         std::span<const std::int64_t> spent_note_ids, std::uint64_t block) override;
  Status settle_payment_by(std::int64_t id, PaymentState expected, std::string_view settled_by,
                           std::uint64_t block) override;
  Status record_payment_bundle(std::int64_t id, std::string_view digest, std::uint64_t deadline,
                               std::string_view bundle_json) override;
  Result<std::int64_t> begin_signed_payment(const Payment& payment, std::string_view digest, std::uint64_t deadline,
                                            std::string_view bundle_json) override;
  Status record_payment_relayed(std::int64_t id, std::string_view relayer_tx, double latency_ms) override;
  Status expire_payment(std::int64_t id, PaymentState expected, std::string_view error,
                        std::span<const std::int64_t> spent_note_ids, std::uint64_t block) override;
  Result<std::optional<Payment>> find_payment_by_digest(std::string_view digest) override;
  Result<Payment> get_payment(std::int64_t id) override;
  Result<std::vector<Payment>> list_payments(std::string_view wallet, std::optional<PaymentState> state) override;

  // ---- TokenStore (sql_tokens.cpp)
  Result<CreatedToken> create_token(std::string_view wallet, TokenScope scope) override;
  Result<TokenGrant> authenticate_token(std::string_view token) override;
  Status revoke_token(std::string_view id) override;
  Result<std::vector<TokenInfo>> list_tokens() override;

  // ---- RelayJournal (sql_relay.cpp)
  Status begin_relay(const RelayEntry& entry) override;
  Status record_relay_signed(std::string_view digest, std::string_view tx_hash, std::span<const std::uint8_t> raw_tx,
                             std::uint64_t nonce) override;
  Status mark_relay_submitted(std::string_view digest) override;
  Status mark_relay_mined(std::string_view digest, std::uint64_t block, std::uint64_t gas_used) override;
  Status fail_relay(std::string_view digest, RelayEntryState expected, std::string_view reason, std::uint64_t block,
                    std::uint64_t gas_used) override;
  Result<std::optional<RelayEntry>> get_relay(std::string_view digest) override;
  Result<std::vector<RelayEntry>> list_relays(std::optional<RelayEntryState> state) override;
  Result<std::vector<RelayEntry>> list_open_relays() override;
  Result<RelayCounts> relay_counts() override;
  Status put_x402_stage(const X402Stage& stage) override;
  Result<std::vector<X402Stage>> list_x402_stages() override;
  Result<std::size_t> drop_x402_stages(std::string_view digest, std::string_view bundle_hash) override;
  Result<std::size_t> drop_expired_x402_stages(std::uint64_t now_s) override;
  Status set_x402_pending(std::string_view digest, std::string_view tx_hash) override;
  Result<std::optional<std::string>> take_x402_pending(std::string_view digest) override;

 protected:
  using Access = sql::Access;
  using Connection = sql::Connection;
  using Transaction = sql::Transaction;

  // Runs f(connection) -> R (Status or Result<T>) on a connection of the database: failures get
  // `what` as context, exceptions become Status, a transaction that lost a serialization or
  // deadlock race is run again (twice at most).
  template <typename R, typename F>
  R run(const char* what, F&& f);

  [[nodiscard]] const sql::Dialect& dialect() const { return db_->dialect(); }

  // ---- Jobs, shared with the lease queue. `worker_id`, when given, fences the call on the job's
  // lease owner (pg_store.h, "Exactly-once completion").
  struct ClaimedJob {
    Job job;
    std::int64_t lease_expires_ms = 0;  // set by on_claimed, for leased claims
  };
  // Claims the oldest pending job for `worker` (-1: none), clearing its lease; only among `keys`
  // when given; on_claimed, when given, runs in the same transaction (e.g. to take a lease). A job
  // whose spec does not open is failed for good (else it would be handed out forever) and reported.
  Result<std::optional<ClaimedJob>> claim_in(sql::Connection& c, int worker,
                                             std::optional<std::span<const std::string>> keys,
                                             const std::function<Status(sql::Connection&, ClaimedJob&)>& on_claimed);
  Result<std::int64_t> complete_in(sql::Connection& c, std::int64_t job_id, std::optional<std::string_view> worker_id,
                                   const Precompute& precompute);
  Status fail_in(sql::Connection& c, std::int64_t job_id, std::optional<std::string_view> worker_id,
                 std::string_view error, bool permanent);
  // Why `worker_id` cannot act on job `job_id`.
  static Status lease_lost(sql::Connection& c, std::int64_t job_id, std::string_view worker_id);

 private:
  // ---- Secrets at rest: the bytes to store for a secret column (sealed with the vault, else the
  // plaintext), and back.
  [[nodiscard]] sql::Bytes seal_secret(std::span<const std::uint8_t> plain, std::string_view ad) const;
  [[nodiscard]] Result<sql::Bytes> open_secret(std::span<const std::uint8_t> stored, std::string_view ad) const;

  // ---- Helpers inside a transaction.
  static Result<std::uint64_t> leaf_count_in(sql::Connection& c);
  [[nodiscard]] Result<StoredNote> read_note(const sql::Row& row) const;
  Result<std::vector<StoredNote>> query_notes(sql::Connection& c, std::string_view where, sql::Params params);
  Result<StoredNote> get_note_in(sql::Connection& c, std::int64_t id);
  Status set_note_state_in(sql::Connection& c, std::int64_t id, std::optional<NoteState> from, NoteState to);
  static Status set_note_leaf_in(sql::Connection& c, std::int64_t id, std::uint64_t leaf_index);
  Result<std::int64_t> insert_precompute_in(sql::Connection& c, const Precompute& p);
  [[nodiscard]] Result<Precompute> read_precompute(const sql::Row& row) const;
  Result<std::vector<Precompute>> query_precomputes(sql::Connection& c, std::string_view where, sql::Params params);
  [[nodiscard]] Result<Job> read_job(const sql::Row& row) const;
  Result<Job> get_job_in(sql::Connection& c, std::int64_t id);
  static Status mark_spent_in(sql::Connection& c, std::int64_t note, std::uint64_t block);
  static Status append_chain_leaves_in(sql::Connection& c, std::span<const ChainLeaf> leaves);
  static Status remember_blocks_in(sql::Connection& c, std::span<const BlockRef> blocks);
  static Status set_cursor_in(sql::Connection& c, const BlockRef& b);
  static Status link_notes_in(sql::Connection& c, std::int64_t payment, std::span<const std::int64_t> notes,
                              std::string_view role);
  Result<std::vector<std::int64_t>> linked_notes_in(sql::Connection& c, std::int64_t payment, std::string_view role);
  Result<std::string> payment_state_in(sql::Connection& c, std::int64_t id, bool lock);
  // begin_payment's and record_payment_bundle's writes, inside the caller's transaction.
  Result<std::int64_t> begin_payment_in(sql::Connection& c, const Payment& payment);
  static Status record_bundle_in(sql::Connection& c, std::int64_t id, const std::string& canonical_digest,
                                 std::uint64_t deadline, std::string_view bundle_json);
  // The writes of fail_payment and fail_payment_if; the pending new notes go when delete_new_notes.
  Status fail_payment_in(sql::Connection& c, std::int64_t id, std::string_view error,
                         std::span<const std::int64_t> spent_note_ids, std::uint64_t block, bool delete_new_notes);
  // The writes of confirm_payment and settle_payment_by: -> confirmed, its notes spent.
  Status confirm_payment_in(sql::Connection& c, std::int64_t id, std::uint64_t gas_used, std::uint64_t block,
                            std::string_view settled_by);
  Result<std::vector<Payment>> query_payments(sql::Connection& c, std::string_view where, sql::Params params);

  std::unique_ptr<sql::Database> db_;  // thread-safe
  std::optional<Vault> vault_;         // immutable after construction
};

// ---- Implementation of the template.

namespace sql_store_detail {
inline Status status_of(const Status& s) { return s; }
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}
}  // namespace sql_store_detail

template <typename R, typename F>
R SqlStore::run(const char* what, F&& f) {
  constexpr int kAttempts = 3;
  try {
    for (int attempt = 1;; ++attempt) {
      Result<sql::ConnectionLease> conn = db_->acquire();
      if (!conn.ok()) return R(conn.status().with_context(what));
      R r = f(**conn);
      const Status s = sql_store_detail::status_of(r);
      if (s.is_ok()) return r;
      if (!(*conn)->last_failure_retryable() || attempt == kAttempts) return R(s.with_context(what));
    }
  } catch (const std::bad_alloc&) {
    return R(Status::resource_exhausted(std::string(what) + ": out of memory"));
  } catch (const std::exception& e) {
    return R(Status::internal(std::string(what) + ": " + e.what()));
  }
}

}  // namespace bucketpay
