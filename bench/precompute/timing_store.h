// A Store that forwards every call to another Store and adds up the time spent in it, so the
// benchmark can tell the store's share (SQLite, fsync, sealing) of the engine's time.
#pragma once

#include <atomic>
#include <memory>

#include "bucketpay/store.h"

namespace bucketpay::bench {

class TimingStore final : public Store {
 public:
  explicit TimingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  // Seconds spent in calls so far, all calls and complete_job alone (a proof's commit).
  [[nodiscard]] double seconds() const { return static_cast<double>(ns_.load()) * 1e-9; }
  [[nodiscard]] double complete_job_seconds() const { return static_cast<double>(complete_ns_.load()) * 1e-9; }
  [[nodiscard]] std::uint64_t calls() const { return calls_.load(); }
  void reset_counters() {
    ns_ = 0;
    complete_ns_ = 0;
    calls_ = 0;
  }

  [[nodiscard]] bool has_vault() const override { return inner_->has_vault(); }
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
  Status put_spending_key(std::string_view wallet, const Fr& sk) override;
  Result<Fr> get_spending_key(std::string_view wallet) override;
  Result<std::int64_t> insert_precompute(const Precompute& p) override;
  Result<std::optional<Precompute>> find_precompute(std::string_view key) override;
  Result<std::vector<Precompute>> list_precomputes_for_note(std::int64_t note_id) override;
  Result<std::vector<Precompute>> list_precomputes_by_circuit(std::string_view circuit) override;
  Result<std::int64_t> count_precomputes() override;
  Result<std::int64_t> delete_precomputes_for_note(std::int64_t note_id) override;
  Result<std::int64_t> enqueue_jobs(std::span<const Job> jobs) override;
  Result<std::optional<Job>> claim_next_job(int worker) override;
  Result<std::int64_t> complete_job(std::int64_t job_id, const Precompute& precompute) override;
  Status fail_job(std::int64_t job_id, std::string_view error, bool permanent) override;
  Result<std::int64_t> reset_running_jobs() override;
  Result<Job> get_job(std::int64_t id) override;
  Result<std::vector<Job>> list_jobs(std::optional<std::string_view> batch) override;
  Result<JobCounts> job_counts(std::optional<std::string_view> batch) override;

  // The wallet's part of the interface: not used by the engine, forwarded untimed.
  Status delete_precompute(std::string_view key) override { return inner_->delete_precompute(key); }
  Status put_setting(std::string_view wallet, std::string_view key, std::string_view value) override {
    return inner_->put_setting(wallet, key, value);
  }
  Result<std::optional<std::string>> get_setting(std::string_view wallet, std::string_view key) override {
    return inner_->get_setting(wallet, key);
  }
  Status put_secret(std::string_view wallet, std::string_view name, std::span<const std::uint8_t> value) override {
    return inner_->put_secret(wallet, name, value);
  }
  Result<std::vector<std::uint8_t>> get_secret(std::string_view wallet, std::string_view name) override {
    return inner_->get_secret(wallet, name);
  }
  Status apply_chain_update(const ChainUpdate& update) override { return inner_->apply_chain_update(update); }
  Result<std::optional<BlockRef>> sync_cursor() override { return inner_->sync_cursor(); }
  Result<std::vector<BlockRef>> recent_blocks(std::size_t limit) override { return inner_->recent_blocks(limit); }
  Status rollback_chain(const BlockRef& cursor) override { return inner_->rollback_chain(cursor); }
  Result<std::vector<Fr>> known_roots() override { return inner_->known_roots(); }
  Result<std::int64_t> begin_payment(const Payment& payment) override { return inner_->begin_payment(payment); }
  Status record_payment_signed(std::int64_t id, std::string_view tx_hash, std::span<const std::uint8_t> raw_tx,
                               std::uint64_t nonce, double latency_ms) override {
    return inner_->record_payment_signed(id, tx_hash, raw_tx, nonce, latency_ms);
  }
  Status mark_payment_submitted(std::int64_t id) override { return inner_->mark_payment_submitted(id); }
  Status confirm_payment(std::int64_t id, std::uint64_t gas_used, std::uint64_t block) override {
    return inner_->confirm_payment(id, gas_used, block);
  }
  Status reopen_payment(std::int64_t id) override { return inner_->reopen_payment(id); }
  Result<std::unique_ptr<Lock>> lock(std::string_view name, std::chrono::milliseconds timeout) override {
    return inner_->lock(name, timeout);
  }
  Status fail_payment(std::int64_t id, std::string_view error, std::span<const std::int64_t> spent_note_ids,
                      std::uint64_t block) override {
    return inner_->fail_payment(id, error, spent_note_ids, block);
  }
  Status fail_payment_if(std::int64_t id, PaymentState expected, std::string_view error,
                         std::span<const std::int64_t> spent_note_ids, std::uint64_t block) override {
    return inner_->fail_payment_if(id, expected, error, spent_note_ids, block);
  }
  Status settle_payment_by(std::int64_t id, PaymentState expected, std::string_view settled_by,
                           std::uint64_t block) override {
    return inner_->settle_payment_by(id, expected, settled_by, block);
  }
  Result<Payment> get_payment(std::int64_t id) override { return inner_->get_payment(id); }
  Result<std::vector<Payment>> list_payments(std::string_view wallet, std::optional<PaymentState> state) override {
    return inner_->list_payments(wallet, state);
  }

 private:
  template <typename F>
  auto timed(F&& f, std::atomic<std::int64_t>* also = nullptr);

  std::unique_ptr<Store> inner_;
  std::atomic<std::int64_t> ns_{0};
  std::atomic<std::int64_t> complete_ns_{0};
  std::atomic<std::uint64_t> calls_{0};
};

}  // namespace bucketpay::bench
