#include "timing_store.h"

#include <chrono>

namespace bucketpay::bench {

template <typename F>
auto TimingStore::timed(F&& f, std::atomic<std::int64_t>* also) {
  const auto t0 = std::chrono::steady_clock::now();
  auto result = f();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  ns_ += ns;
  ++calls_;
  if (also != nullptr) *also += ns;
  return result;
}

Result<std::uint64_t> TimingStore::append_leaves(std::span<const Fr> leaves) {
  return timed([&] { return inner_->append_leaves(leaves); });
}
Result<std::vector<Fr>> TimingStore::load_leaves() {
  return timed([&] { return inner_->load_leaves(); });
}
Result<std::uint64_t> TimingStore::leaf_count() {
  return timed([&] { return inner_->leaf_count(); });
}
Result<std::int64_t> TimingStore::insert_note(const StoredNote& note) {
  return timed([&] { return inner_->insert_note(note); });
}
Result<StoredNote> TimingStore::get_note(std::int64_t id) {
  return timed([&] { return inner_->get_note(id); });
}
Result<std::vector<StoredNote>> TimingStore::find_notes_by_commitment(const Fr& commitment) {
  return timed([&] { return inner_->find_notes_by_commitment(commitment); });
}
Result<std::vector<StoredNote>> TimingStore::list_notes(std::string_view wallet, std::optional<NoteState> state) {
  return timed([&] { return inner_->list_notes(wallet, state); });
}
Status TimingStore::set_note_state(std::int64_t id, NoteState state) {
  return timed([&] { return inner_->set_note_state(id, state); });
}
Status TimingStore::transition_note_state(std::int64_t id, NoteState from, NoteState to) {
  return timed([&] { return inner_->transition_note_state(id, from, to); });
}
Status TimingStore::set_note_leaf_index(std::int64_t id, std::uint64_t leaf_index) {
  return timed([&] { return inner_->set_note_leaf_index(id, leaf_index); });
}
Status TimingStore::put_spending_key(std::string_view wallet, const Fr& sk) {
  return timed([&] { return inner_->put_spending_key(wallet, sk); });
}
Result<Fr> TimingStore::get_spending_key(std::string_view wallet) {
  return timed([&] { return inner_->get_spending_key(wallet); });
}
Result<std::int64_t> TimingStore::insert_precompute(const Precompute& p) {
  return timed([&] { return inner_->insert_precompute(p); });
}
Result<std::optional<Precompute>> TimingStore::find_precompute(std::string_view key) {
  return timed([&] { return inner_->find_precompute(key); });
}
Result<std::vector<Precompute>> TimingStore::list_precomputes_for_note(std::int64_t note_id) {
  return timed([&] { return inner_->list_precomputes_for_note(note_id); });
}
Result<std::vector<Precompute>> TimingStore::list_precomputes_by_circuit(CircuitKind circuit) {
  return timed([&] { return inner_->list_precomputes_by_circuit(circuit); });
}
Result<std::int64_t> TimingStore::count_precomputes() {
  return timed([&] { return inner_->count_precomputes(); });
}
Result<std::int64_t> TimingStore::delete_precomputes_for_note(std::int64_t note_id) {
  return timed([&] { return inner_->delete_precomputes_for_note(note_id); });
}
Result<std::int64_t> TimingStore::enqueue_jobs(std::span<const Job> jobs) {
  return timed([&] { return inner_->enqueue_jobs(jobs); });
}
Result<std::optional<Job>> TimingStore::claim_next_job(int worker) {
  return timed([&] { return inner_->claim_next_job(worker); });
}

Result<std::optional<Job>> TimingStore::claim_next_job_among(std::span<const std::string> keys, int worker) {
  return timed([&] { return inner_->claim_next_job_among(keys, worker); });
}
Result<std::int64_t> TimingStore::complete_job(std::int64_t job_id, const Precompute& precompute) {
  return timed([&] { return inner_->complete_job(job_id, precompute); }, &complete_ns_);
}
Status TimingStore::fail_job(std::int64_t job_id, std::string_view error, bool permanent) {
  return timed([&] { return inner_->fail_job(job_id, error, permanent); });
}
Result<std::int64_t> TimingStore::reset_running_jobs() {
  return timed([&] { return inner_->reset_running_jobs(); });
}
Result<std::int64_t> TimingStore::retry_failed_jobs(std::span<const std::string> keys) {
  return timed([&] { return inner_->retry_failed_jobs(keys); });
}
Result<Job> TimingStore::get_job(std::int64_t id) {
  return timed([&] { return inner_->get_job(id); });
}
Result<std::vector<Job>> TimingStore::list_jobs(std::optional<std::string_view> batch) {
  return timed([&] { return inner_->list_jobs(batch); });
}
Result<JobCounts> TimingStore::job_counts(std::optional<std::string_view> batch) {
  return timed([&] { return inner_->job_counts(batch); });
}

Status TimingStore::put_secret(std::string_view wallet, std::string_view name, std::span<const std::uint8_t> value) {
  return timed([&] { return inner_->put_secret(wallet, name, value); });
}
Result<std::vector<std::uint8_t>> TimingStore::get_secret(std::string_view wallet, std::string_view name) {
  return timed([&] { return inner_->get_secret(wallet, name); });
}
Status TimingStore::delete_precompute(std::string_view key) {
  return timed([&] { return inner_->delete_precompute(key); });
}

}  // namespace bucketpay::bench
