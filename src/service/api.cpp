#include "api.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "bucketpay/chain.h"
#include "bucketpay/circuit_inputs.h"
#include "bucketpay/clock.h"
#include "bucketpay/engine.h"
#include "bucketpay/job_spec.h"
#include "bucketpay/planner.h"
#include "bucketpay/wallet.h"

namespace bucketpay::service {
namespace {

Status note_not_found(std::int64_t id) { return Status::not_found("note " + std::to_string(id) + " not found"); }

}  // namespace

Api::Api(NoteStore& notes, ProofStore& proofs, ProverPool& pool, JobRunner& runner, Metrics& metrics,
         const ServiceOptions& options, Store* whole)
    : notes_(notes),
      proofs_(proofs),
      pool_(pool),
      runner_(runner),
      metrics_(metrics),
      options_(options),
      started_ms_(Clock::system().unix_ms()),
      whole_(whole) {}

void Api::ask_node(const std::string& url, StoredWalletFigures& f) {
  constexpr std::int64_t kAnswerKeptMs = 5000;
  const std::int64_t now = Clock::system().unix_ms();
  NodeAnswer answer;
  {
    std::lock_guard lock(node_mu_);
    auto it = node_answers_.find(url);
    if (it != node_answers_.end() && now - it->second.asked_ms < kAnswerKeptMs) answer = it->second;
  }
  if (answer.asked_ms == 0) {
    answer.asked_ms = now;
    eth::RpcOptions ro;
    ro.url = url;
    ro.timeout = std::chrono::milliseconds(1500);  // the dashboard waits for it
    auto rpc = eth::Rpc::connect(ro);
    auto head = rpc.ok() ? (*rpc)->block_number() : Result<std::uint64_t>(rpc.status());
    if (head.ok()) {
      answer.head = *head;
    } else {
      answer.error = head.status().message();
    }
    std::lock_guard lock(node_mu_);
    node_answers_[url] = answer;
  }
  f.node_ok = answer.head.has_value();
  f.node_head = answer.head;
  // The error names the host, never the URL's path or credentials.
  f.node_error = answer.head ? "" : "the node does not answer";
  if (!answer.head && answer.error.find("timed out") != std::string::npos) f.node_error += " (timed out)";
}

Result<StoredWalletFigures> Api::stored_figures(const std::string& wallet) {
  StoredWalletFigures f;
  Store& store = *whole_;
  auto rpc_url = store.get_setting(wallet, "rpc_url");
  if (!rpc_url.ok()) return rpc_url.status();
  f.on_chain = rpc_url->has_value();
  if (f.on_chain) {
    auto b = Wallet::stored_balance(store, wallet);
    if (!b.ok()) return b.status();
    f.on_chain_cents = b->on_chain;
    f.ready_cents = b->ready;
    f.pending_cents = b->pending;
    f.reserved_cents = b->reserved;
    for (const auto& d : b->denominations) f.denominations.push_back({d.value, d.target, d.notes, d.ready});
    f.synced_block = b->synced_block;
    f.synced_at_ms = b->synced_at_ms;
    ask_node(**rpc_url, f);
    auto payments = store.list_payments(wallet, std::nullopt);
    if (!payments.ok()) return payments.status();
    std::sort(payments->begin(), payments->end(), [](const Payment& x, const Payment& y) { return x.id > y.id; });
    if (payments->size() > 10) payments->resize(10);
    f.payments = std::move(*payments);
  }
  auto keeper = load_keeper_state(store, wallet);
  if (!keeper.ok()) return keeper.status();
  f.keeper = *keeper;
  if (f.keeper) f.keeper_state = f.keeper->state(Clock::system().unix_ms());
  // Every process's jobs (the CLI's, workers', this server's) for the wallet's notes.
  auto notes = store.list_notes(wallet, std::nullopt);
  if (!notes.ok()) return notes.status();
  std::set<std::int64_t> ours;
  for (const auto& n : *notes) ours.insert(n.id);
  auto jobs = store.list_jobs(std::nullopt);
  if (!jobs.ok()) return jobs.status();
  std::map<std::string, StoredWalletFigures::Batch> batches;
  for (const Job& job : *jobs) {
    auto spec = decode_job_spec(job.circuit, job.spec_json);
    if (!spec.ok() || ours.count(spec->note_id) == 0) continue;
    auto& batch = batches[job.batch];
    batch.batch = job.batch;
    batch.updated_ms = std::max(batch.updated_ms, job.updated_ms);
    for (JobCounts* counts : {&f.jobs, &batch.counts}) {
      switch (job.state) {
        case JobState::kPending:
          ++counts->pending;
          break;
        case JobState::kRunning:
          ++counts->running;
          break;
        case JobState::kDone:
          ++counts->done;
          break;
        case JobState::kFailed:
          ++counts->failed;
          break;
      }
    }
  }
  for (auto& [name, batch] : batches) f.batches.push_back(std::move(batch));
  std::sort(f.batches.begin(), f.batches.end(),
            [](const auto& a, const auto& b) { return a.updated_ms > b.updated_ms; });
  if (f.batches.size() > 10) f.batches.resize(10);
  return f;
}

Result<StoredNote> Api::on_chain_note(const std::string& wallet, std::int64_t id) {
  auto note = notes_.get_note(id);
  if (!note.ok()) return note.status().code() == StatusCode::kNotFound ? note_not_found(id) : note.status();
  if (note->wallet != wallet) return note_not_found(id);  // never reveal another wallet's notes
  if (note->state != NoteState::kOnChain) {
    return Status::failed_precondition("note " + std::to_string(id) + " is " +
                                       std::string(note_state_name(note->state)) +
                                       ", not on chain: it cannot be proved");
  }
  return note;
}

Result<CreateJobResponse> Api::create_job(const std::string& wallet, const CreateJobRequest& request) {
  JobSpec spec;
  spec.mode = request.mode;
  spec.wallet = wallet;
  if (request.mode == JobMode::kInventory) {
    if (request.all == !request.note_ids.empty()) {
      return Status::invalid_argument("give either \"note_ids\" (a non-empty list) or \"all\": true");
    }
    if (request.all) {
      auto notes = notes_.list_notes(wallet, NoteState::kOnChain);
      if (!notes.ok()) return notes.status();
      for (const auto& n : *notes) spec.note_ids.push_back(n.id);
      if (spec.note_ids.empty()) return Status::failed_precondition("the wallet has no notes on chain");
    } else {
      if (request.note_ids.size() > options_.max_notes_per_job) {
        return Status::invalid_argument("at most " + std::to_string(options_.max_notes_per_job) + " notes per job");
      }
      std::set<std::int64_t> seen;
      for (std::int64_t id : request.note_ids) {
        if (!seen.insert(id).second) return Status::invalid_argument("note " + std::to_string(id) + " is listed twice");
        auto note = on_chain_note(wallet, id);
        if (!note.ok()) return note.status();
      }
      spec.note_ids = request.note_ids;
    }
    if (spec.note_ids.size() > options_.max_notes_per_job) {
      return Status::invalid_argument("at most " + std::to_string(options_.max_notes_per_job) + " notes per job");
    }
  } else {
    auto note = on_chain_note(wallet, request.note_id);
    if (!note.ok()) return note.status();
    std::vector<Cents> buckets = request.buckets;
    if (buckets.empty()) buckets.assign(kBuckets.begin(), kBuckets.end());
    std::set<Cents> seen;
    for (Cents b : buckets) {
      if (b == 0 || (b & (b - 1)) != 0 || b > kBuckets.back()) {
        return Status::invalid_argument("bucket " + std::to_string(b) + " is not a power of two from 1 to 65536 cents");
      }
      if (!seen.insert(b).second) return Status::invalid_argument("bucket " + std::to_string(b) + " is listed twice");
      if (b <= note->value) spec.buckets.push_back(b);
    }
    if (spec.buckets.empty()) {
      return Status::invalid_argument("every bucket is above the note's value (" + std::to_string(note->value) +
                                      " cents)");
    }
    spec.note_id = request.note_id;
  }
  CreateJobResponse response;
  response.total = spec.mode == JobMode::kInventory ? spec.note_ids.size() : spec.buckets.size();
  auto id = runner_.submit(std::move(spec));
  if (!id.ok()) return id.status();
  response.job = *id;
  return response;
}

Result<JobRecord> Api::get_job(const std::string& wallet, const std::string& id) {
  auto record = runner_.get(id);
  if (!record || record->spec.wallet != wallet) return Status::not_found("job " + id.substr(0, 64) + " not found");
  return *record;
}

Result<PlanResponse> Api::plan(const std::string& wallet, const PlanRequest& request) {
  auto amount = parse_amount(request.amount, AmountUnit::kDollars, kMaxPaymentCents);
  if (!amount.ok()) return amount.status();
  auto ready_or = ready_notes(notes_, proofs_, wallet);
  if (!ready_or.ok()) return ready_or.status();
  std::map<std::int64_t, Precompute> ready;
  std::vector<PlanNote> available;
  for (ReadyNote& r : *ready_or) {
    available.push_back({r.note.id, r.note.value});
    ready.emplace(r.note.id, std::move(r.proof));
  }
  auto plan = plan_payment(available, *amount);
  if (!plan.ok()) {
    // "No combination" is a state of the wallet, not a missing resource.
    if (plan.status().code() == StatusCode::kNotFound) return Status::failed_precondition(plan.status().message());
    return plan.status();
  }
  PlanResponse response;
  response.amount = *amount;
  for (const auto& pn : plan->notes) {
    response.notes.push_back({pn.note_id, pn.value, std::move(ready.at(pn.note_id))});
  }
  return response;
}

std::vector<WorkerStats> Api::workers() const { return pool_.stats(); }

Gauges Api::gauges() const {
  return {runner_.queued(), runner_.workers_busy(), static_cast<std::size_t>(pool_.workers())};
}

Result<DashboardResponse> Api::dashboard(const std::string& wallet) {
  DashboardResponse d;
  d.wallet = wallet;
  auto notes = notes_.list_notes(wallet, NoteState::kOnChain);
  if (!notes.ok()) return notes.status();
  auto ready = ready_notes(notes_, proofs_, wallet);
  if (!ready.ok()) return ready.status();
  std::map<Cents, DenominationRow> rows;
  for (Cents b : kBuckets) rows[b].value = b;
  for (const auto& n : *notes) {
    auto& row = rows[n.value];
    row.value = n.value;
    ++row.notes;
  }
  for (const ReadyNote& r : *ready) {
    ++rows[r.note.value].ready;
    d.ready_cents += r.note.value;
    ++d.ready_precomputes;
  }
  for (auto& [value, row] : rows) d.inventory.push_back(row);
  d.notes_on_chain = notes->size();
  d.workers = pool_.stats();
  d.workers_busy = runner_.workers_busy();
  d.queue_depth = runner_.queued();
  d.proofs_ok = metrics_.proofs_ok();
  d.proofs_failed = metrics_.proofs_failed();
  d.throughput_bucket_seconds = 10;
  d.throughput = metrics_.throughput(d.throughput_bucket_seconds, 30);
  d.jobs = runner_.recent(wallet, 10);
  if (whole_ != nullptr) {
    auto stored = stored_figures(wallet);
    if (!stored.ok()) return stored.status();
    d.stored = std::move(*stored);
  }
  return d;
}

HealthResponse Api::health() const {
  return {BUCKETPAY_VERSION, (Clock::system().unix_ms() - started_ms_) / 1000, pool_.workers()};
}

}  // namespace bucketpay::service
