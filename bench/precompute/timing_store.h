// The store roles the engine uses (EngineStores: notes, secrets, proofs), forwarding every call to a
// real Store and adding up the time spent in it, so the benchmark can tell the store's share
// (SQLite, fsync, sealing) of the engine's time.
#pragma once

#include <atomic>
#include <memory>

#include "bucketpay/store.h"

namespace bucketpay::bench {

class TimingStore final : public NoteStore, public SecretStore, public ProofStore {
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
  Result<std::vector<Precompute>> list_precomputes_by_circuit(CircuitKind circuit) override;
  Result<std::int64_t> count_precomputes() override;
  Result<std::int64_t> delete_precomputes_for_note(std::int64_t note_id) override;
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

  Status put_secret(std::string_view wallet, std::string_view name, std::span<const std::uint8_t> value) override;
  Result<std::vector<std::uint8_t>> get_secret(std::string_view wallet, std::string_view name) override;
  Status delete_precompute(std::string_view key) override;

 private:
  template <typename F>
  auto timed(F&& f, std::atomic<std::int64_t>* also = nullptr);

  std::unique_ptr<Store> inner_;
  std::atomic<std::int64_t> ns_{0};
  std::atomic<std::int64_t> complete_ns_{0};
  std::atomic<std::uint64_t> calls_{0};
};

}  // namespace bucketpay::bench
