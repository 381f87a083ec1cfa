#include "bucketpay/engine.h"

#include <sodium.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/clock.h"
#include "bucketpay/job_spec.h"

namespace bucketpay {
namespace {

using nlohmann::json;

std::string new_batch_name() {
  unsigned char b[6];
  randombytes_buf(b, sizeof b);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "batch-";
  for (unsigned char c : b) {
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

}  // namespace

std::string Engine::spend_key(const Fr& nullifier, const Fr& auth) {
  return "spend:" + nullifier.to_hex() + ":" + auth.to_hex();
}

std::string Engine::split_key(const Fr& nullifier, Cents amount, const Fr& auth) {
  return "split:" + nullifier.to_hex() + ":" + std::to_string(amount) + ":" + auth.to_hex();
}

Result<std::unique_ptr<Engine>> Engine::open(EngineStores stores, ProverPool& pool, std::string wallet) {
  return open_with(stores, &pool, std::move(wallet), nullptr);
}

Result<std::unique_ptr<Engine>> Engine::open(EngineStores stores, ProverPool& pool, std::string wallet,
                                             MerkleTree& tree) {
  return open_with(stores, &pool, std::move(wallet), &tree);
}

Result<std::unique_ptr<Engine>> Engine::open_without_prover(EngineStores stores, std::string wallet) {
  return open_with(stores, nullptr, std::move(wallet), nullptr);
}

Result<std::unique_ptr<Engine>> Engine::open_with(EngineStores stores, ProverPool* pool, std::string wallet,
                                                  MerkleTree* shared_tree) {
  if (sodium_init() < 0) return Status::internal("libsodium failed to initialise");
  auto engine = std::unique_ptr<Engine>(new Engine(stores, pool, std::move(wallet)));
  if (shared_tree != nullptr) {
    engine->tree_ = shared_tree;
    return engine;
  }
  auto leaves = stores.notes.load_leaves();
  if (!leaves.ok()) return leaves.status().with_context("loading the tree");
  auto appended = engine->own_tree_.append_many(*leaves);
  if (!appended.ok()) return appended.status().with_context("rebuilding the tree");
  return engine;
}

Result<std::uint64_t> Engine::append_leaf(const Fr& leaf) {
  if (tree_->size() >= MerkleTree::kCapacity) return Status::resource_exhausted("the tree is full");
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t first, notes_.append_leaves(std::span(&leaf, 1)));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t index, tree_->append(leaf));
  if (index != first) return Status::corruption("the store's tree and the engine's tree disagree");
  return index;
}

Result<std::vector<Job>> Engine::seed_jobs(std::int64_t note_id, std::span<const Cents> buckets) {
  BUCKETPAY_ASSIGN_OR_RETURN(const StoredNote note, notes_.get_note(note_id));
  if (note.wallet != wallet_) return Status::not_found("note " + std::to_string(note_id) + " is not this wallet's");
  auto sk = secrets_.get_spending_key(wallet_);
  if (!sk.ok()) return sk.status().with_context("wallet key");
  const SpendingKey key = SpendingKey::from_fr(*sk);
  const Fr nf = nullifier(key, note.commitment);
  const Fr auth = address_to_field(auth_address(key, note.commitment));
  std::vector<Job> jobs;
  for (Cents b : buckets) {
    if (b == 0 || b > note.value) continue;
    Job job;
    job.key = split_key(nf, b, auth);
    job.circuit = CircuitKind::kSplit;
    // The change note's blinding is fixed when the job is made, so a resumed job makes the same
    // change note. The spec is sealed at rest by the store (it holds a secret).
    job.spec_json = encode_job_spec(JobSpec{CircuitKind::kSplit, note_id, auth, b, Fr::random()});
    jobs.push_back(std::move(job));
  }
  return jobs;
}

Result<std::vector<Job>> Engine::spend_jobs(std::span<const std::int64_t> note_ids) {
  auto sk = secrets_.get_spending_key(wallet_);
  if (!sk.ok()) return sk.status().with_context("wallet key");
  const SpendingKey key = SpendingKey::from_fr(*sk);
  std::vector<Job> jobs;
  for (std::int64_t id : note_ids) {
    BUCKETPAY_ASSIGN_OR_RETURN(const StoredNote note, notes_.get_note(id));
    if (note.wallet != wallet_) return Status::not_found("note " + std::to_string(id) + " is not this wallet's");
    const Fr auth = address_to_field(auth_address(key, note.commitment));
    Job job;
    job.key = spend_key(nullifier(key, note.commitment), auth);
    job.circuit = CircuitKind::kSpend;
    job.spec_json = encode_job_spec(JobSpec{CircuitKind::kSpend, id, auth, 0, Fr::zero()});
    jobs.push_back(std::move(job));
  }
  return jobs;
}

Result<PrecomputeReport> Engine::generate_all_precomputes(std::int64_t note_id, std::span<const Cents> buckets,
                                                          const PrecomputeOptions& options) {
  BUCKETPAY_ASSIGN_OR_RETURN(std::vector<Job> jobs, seed_jobs(note_id, buckets));
  return run(jobs, options);
}

Result<PrecomputeReport> Engine::generate_spend_precomputes(std::span<const std::int64_t> note_ids,
                                                            const PrecomputeOptions& options) {
  BUCKETPAY_ASSIGN_OR_RETURN(std::vector<Job> jobs, spend_jobs(note_ids));
  return run(jobs, options);
}

Result<PrecomputeReport> Engine::enqueue_all_precomputes(std::int64_t note_id, std::span<const Cents> buckets,
                                                         const PrecomputeOptions& options) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Job> jobs, seed_jobs(note_id, buckets));
  PrecomputeReport report;
  BUCKETPAY_RETURN_IF_ERROR(enqueue(jobs, options, report));
  return report;
}

Result<PrecomputeReport> Engine::enqueue_spend_precomputes(std::span<const std::int64_t> note_ids,
                                                           const PrecomputeOptions& options) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Job> jobs, spend_jobs(note_ids));
  PrecomputeReport report;
  BUCKETPAY_RETURN_IF_ERROR(enqueue(jobs, options, report));
  return report;
}

Status Engine::enqueue(const std::vector<Job>& jobs, const PrecomputeOptions& options, PrecomputeReport& report) {
  report.batch = options.batch.empty() ? new_batch_name() : options.batch;
  std::vector<Job> fresh;
  for (const auto& job : jobs) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<Precompute> cached, proofs_.find_precompute(job.key));
    if (cached.has_value()) {
      ++report.cached;
      continue;
    }
    Job j = job;
    j.batch = report.batch;
    fresh.push_back(std::move(j));
  }
  if (!fresh.empty()) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t enqueued, proofs_.enqueue_jobs(fresh));
    report.enqueued = static_cast<std::size_t>(enqueued);
  }
  return Status::ok();
}

Result<PrecomputeReport> Engine::resume(const PrecomputeOptions& options) {
  BUCKETPAY_RETURN_IF_ERROR(proofs_.reset_running_jobs().status());
  return run({}, options, /*resuming=*/true);
}

struct Engine::PreparedJob {
  ProofRequest request;
  JobSpec spec;
  StoredNote note;
};

Result<Engine::PreparedJob> Engine::prepare(const Job& job) {
  auto spec = decode_job_spec(job.circuit, job.spec_json);
  if (!spec.ok()) return spec.status().with_context("job " + job.key);
  BUCKETPAY_ASSIGN_OR_RETURN(StoredNote note, notes_.get_note(spec->note_id));
  if (!note.leaf_index)
    return Status::failed_precondition("note " + std::to_string(note.id) + " is not in the tree yet");
  if (note.state == NoteState::kSpent)
    return Status::failed_precondition("note " + std::to_string(note.id) + " is spent");
  if (*note.leaf_index >= tree_->size()) {
    // The note landed after the tree was loaded (another process appended leaves).
    BUCKETPAY_RETURN_IF_ERROR(sync_tree());
  }
  auto sk = secrets_.get_spending_key(note.wallet);
  if (!sk.ok()) return sk.status().with_context("wallet key");
  const OwnedNote owned{Note{note.pk, note.value, note.r}, SpendingKey::from_fr(*sk), *note.leaf_index};
  BUCKETPAY_ASSIGN_OR_RETURN(const MerklePath path, tree_->path(*note.leaf_index));
  auto leaf = tree_->leaf(*note.leaf_index);
  if (!leaf.ok() || *leaf != note.commitment || owned.commitment() != note.commitment) {
    return Status::corruption("note " + std::to_string(note.id) + " is not the leaf at its index");
  }
  // The job names the note's auth address; it must be the one its key and commitment give.
  if (spec->auth != address_to_field(owned.auth_address())) {
    return Status::corruption("job " + job.key + " names an auth address that is not its note's");
  }
  PreparedJob prepared;
  prepared.request.key = job.key;
  prepared.request.circuit = std::string(circuit_name(job.circuit));
  const Fr& root = tree_->root();
  switch (job.circuit) {
    case CircuitKind::kSpend:
      prepared.request.inputs_json = spend_inputs_json(owned, path, root);
      prepared.request.expected_public_inputs = spend_statement(owned, root).public_inputs();
      break;
    case CircuitKind::kSplit: {
      if (spec->amount > note.value) return Status::corruption("job " + job.key + " withdraws more than its note");
      // Seed mode: the change back to the owner as the first output (absent when there is none).
      const Note change{note.pk, note.value - spec->amount, spec->change_r};
      BUCKETPAY_ASSIGN_OR_RETURN(const SplitOutputs outputs, make_split_outputs(std::span(&change, 1)));
      prepared.request.inputs_json = split_inputs_json(owned, path, root, spec->amount, outputs);
      prepared.request.expected_public_inputs = split_statement(owned, root, spec->amount, outputs).public_inputs();
      break;
    }
  }
  prepared.spec = *spec;
  prepared.note = std::move(note);
  return prepared;
}

Result<Precompute> Engine::precompute_for(const PreparedJob& job, const ProofResult& r) {
  BUCKETPAY_RETURN_IF_ERROR(r.proof.status());
  Precompute p;
  p.key = job.request.key;
  p.circuit = job.spec.circuit;
  p.note_id = job.spec.note_id;
  p.auth = job.spec.auth;
  p.public_inputs = r.proof->public_inputs;
  p.proof = r.proof->proof;
  p.prove_ms = r.witness_ms + r.prove_ms + r.verify_ms;
  p.worker = r.worker;
  p.created_ms = Clock::system().unix_ms();
  switch (job.spec.circuit) {
    case CircuitKind::kSpend:
      p.amount = job.note.value;
      break;
    case CircuitKind::kSplit:
      p.amount = job.spec.amount;
      p.outputs_json = json::array({json{{"pk", job.note.pk.to_hex()},
                                         {"value", job.note.value - job.spec.amount},
                                         {"r", job.spec.change_r.to_hex()}}})
                           .dump();
      break;
  }
  return p;
}

Result<std::vector<Note>> split_precompute_outputs(const Precompute& precompute) {
  const std::string what = "precompute '" + precompute.key + "' outputs";
  if (precompute.circuit != CircuitKind::kSplit || precompute.outputs_json.empty()) return std::vector<Note>();
  const json outputs = json::parse(precompute.outputs_json, nullptr, /*allow_exceptions=*/false);
  if (!outputs.is_array()) return Status::corruption(what + " are not a JSON array");
  std::vector<Note> notes;
  for (const json& o : outputs) {
    if (!o.is_object() || !o.contains("pk") || !o.contains("value") || !o.contains("r") || !o["pk"].is_string() ||
        !o["r"].is_string() || !o["value"].is_number_unsigned()) {
      return Status::corruption(what + ": an output is not {pk, value, r}");
    }
    auto pk = Fr::from_string(o["pk"].get<std::string>());
    auto r = Fr::from_string(o["r"].get<std::string>());
    if (!pk.ok() || !r.ok()) return Status::corruption(what + ": an output's pk or r is not a field element");
    const std::uint64_t value = o["value"].get<std::uint64_t>();
    if (value == 0) continue;  // no change: no note
    notes.push_back(Note{*pk, value, *r});
  }
  return notes;
}

Result<Precompute> Engine::prove_job(const Job& job, const CancelToken* cancel) {
  if (pool_ == nullptr) return Status::failed_precondition("this engine has no prover");
  BUCKETPAY_ASSIGN_OR_RETURN(const PreparedJob prepared, prepare(job));
  BatchOptions bo;
  bo.cancel = cancel;
  bo.batch_size = 1;
  const std::vector<ProofRequest> requests = {prepared.request};
  auto results = pool_->prove_all(requests, bo);
  if (results.size() != 1) return Status::internal("the prover returned no result");
  return precompute_for(prepared, results[0]);
}

Status Engine::sync_tree() {
  auto leaves = notes_.load_leaves();
  if (!leaves.ok()) return leaves.status().with_context("reloading the tree");
  if (leaves->size() < tree_->size()) return Status::corruption("the store's tree is shorter than the engine's");
  for (std::size_t i = 0; i < tree_->size(); ++i) {
    auto leaf = tree_->leaf(i);
    if (!leaf.ok() || *leaf != (*leaves)[i])
      return Status::corruption("the store's tree and the engine's tree disagree");
  }
  if (leaves->size() == tree_->size()) return Status::ok();
  auto appended = tree_->append_many(std::span<const Fr>(*leaves).subspan(tree_->size()));
  return appended.ok() ? Status::ok() : appended.status().with_context("reloading the tree");
}

// What one run() shares with the prover's callback threads.
struct Engine::RunState {
  RunState(const PrecomputeOptions& o, PrecomputeReport& r, std::size_t t) : options(o), report(r), total(t) {}
  const PrecomputeOptions& options;
  PrecomputeReport& report;
  std::size_t total = 0;
  std::vector<std::string> claimed;  // resume(): the keys claimed, for the report
  std::atomic<std::size_t> done{0};
  std::mutex mu;                      // guards report and store_error
  Status store_error = Status::ok();  // the first store failure while recording results
};

Result<PrecomputeReport> Engine::run(const std::vector<Job>& jobs, const PrecomputeOptions& options, bool resuming) {
  if (pool_ == nullptr) return Status::failed_precondition("this engine has no prover");
  PrecomputeReport report;
  BUCKETPAY_RETURN_IF_ERROR(enqueue(jobs, options, report));
  // A proof asked for again whose job failed is tried again.
  std::vector<std::string> keys;
  keys.reserve(jobs.size());
  for (const auto& job : jobs) keys.push_back(job.key);
  if (!keys.empty()) BUCKETPAY_RETURN_IF_ERROR(proofs_.retry_failed_jobs(keys).status());
  RunState state(options, report, jobs.size());
  if (resuming) {
    BUCKETPAY_ASSIGN_OR_RETURN(const JobCounts queued, proofs_.job_counts(std::nullopt));
    state.total = static_cast<std::size_t>(queued.pending);
  }
  state.done = report.cached;
  if (options.on_progress && report.cached > 0) options.on_progress(state.done, state.total);
  const std::size_t chunk = !options.parallel        ? 1
                            : options.batch_size > 0 ? options.batch_size
                                                     : ProverPool::default_batch_size();
  for (;;) {
    if (options.cancel != nullptr && options.cancel->cancelled()) break;
    std::vector<Job> claimed;
    while (claimed.size() < chunk) {
      // A request claims its own jobs only (by key: a retried job keeps the batch it was made in),
      // never another request's or another wallet's in a shared store; resume() claims every one.
      BUCKETPAY_ASSIGN_OR_RETURN(std::optional<Job> next,
                                 resuming ? proofs_.claim_next_job(0) : proofs_.claim_next_job_among(keys, 0));
      if (!next.has_value()) break;
      if (resuming) state.claimed.push_back(next->key);
      claimed.push_back(std::move(*next));
    }
    if (claimed.empty()) break;
    BUCKETPAY_RETURN_IF_ERROR(prove_claimed(claimed, state));
  }
  for (const auto& job : jobs) {
    BUCKETPAY_ASSIGN_OR_RETURN(std::optional<Precompute> p, proofs_.find_precompute(job.key));
    if (p.has_value()) report.precomputes.push_back(std::move(*p));
  }
  for (const std::string& key : state.claimed) {
    BUCKETPAY_ASSIGN_OR_RETURN(std::optional<Precompute> p, proofs_.find_precompute(key));
    if (p.has_value()) report.precomputes.push_back(std::move(*p));
  }
  return report;
}

Status Engine::prove_claimed(const std::vector<Job>& claimed, RunState& state) {
  std::vector<ProofRequest> requests;
  std::map<std::string, std::pair<const Job*, PreparedJob>> by_key;
  for (const auto& job : claimed) {
    auto req = prepare(job);
    if (!req.ok()) {
      // The job cannot be proved as specified (a spent note, a corrupt spec): that is final.
      BUCKETPAY_RETURN_IF_ERROR(proofs_.fail_job(job.id, req.status().message(), /*permanent=*/true));
      std::lock_guard lock(state.mu);
      ++state.report.failed;
      state.report.errors.push_back(job.key + ": " + req.status().message());
      if (state.options.on_failed) state.options.on_failed();
      if (state.options.on_progress) state.options.on_progress(++state.done, state.total);
      continue;
    }
    requests.push_back(req->request);
    by_key.emplace(job.key, std::make_pair(&job, std::move(*req)));
  }
  BatchOptions bo;
  bo.cancel = state.options.cancel;
  bo.batch_size = requests.size();
  bo.on_result = [&](const ProofResult& r, std::size_t, std::size_t) {
    const auto& [job, prepared] = by_key.at(r.key);
    record_result(*job, prepared, r, state);
  };
  pool_->prove_all(requests, bo);
  return state.store_error;
}

void Engine::record_result(const Job& job, const PreparedJob& prepared, const ProofResult& r, RunState& state) {
  Status st;
  std::string failure;
  bool stored = false;
  if (r.proof.ok()) {
    auto p = precompute_for(prepared, r);
    if (!p.ok()) {
      // A proof whose job spec does not decode cannot be stored: that is final.
      failure = p.status().message();
      st = proofs_.fail_job(job.id, failure, /*permanent=*/true);
    } else {
      st = proofs_.complete_job(job.id, *p).status();
      stored = st.is_ok();
      if (!st.is_ok()) failure = st.message();
    }
  } else {
    failure = r.proof.status().message();
    const bool permanent = r.proof.status().code() != StatusCode::kCancelled;
    st = proofs_.fail_job(job.id, failure, permanent);
  }
  std::lock_guard lock(state.mu);
  if (!st.is_ok() && state.store_error.is_ok()) state.store_error = st;
  if (stored) {
    ++state.report.proved;
  } else if (r.proof.status().code() != StatusCode::kCancelled) {
    ++state.report.failed;
    state.report.errors.push_back(job.key + ": " + failure);
    if (state.options.on_failed) state.options.on_failed();
  }
  if (state.options.on_progress) state.options.on_progress(++state.done, state.total);
}

}  // namespace bucketpay
