#include "service/api.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/clock.h"
#include "bucketpay/engine.h"
#include "bucketpay/planner.h"

namespace bucketpay::service {
namespace {

Status note_not_found(std::int64_t id) { return Status::not_found("note " + std::to_string(id) + " not found"); }

}  // namespace

Api::Api(NoteStore& notes, ProofStore& proofs, ProverPool& pool, JobRunner& runner, Metrics& metrics,
         const ServiceOptions& options)
    : notes_(notes),
      proofs_(proofs),
      pool_(pool),
      runner_(runner),
      metrics_(metrics),
      options_(options),
      started_ms_(Clock::system().unix_ms()) {}

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
  return d;
}

HealthResponse Api::health() const {
  return {BUCKETPAY_VERSION, (Clock::system().unix_ms() - started_ms_) / 1000, pool_.workers()};
}

}  // namespace bucketpay::service
