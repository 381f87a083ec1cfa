#include "job_runner.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>

#include "bucketpay/clock.h"
#include "bucketpay/engine.h"

namespace bucketpay::service {
namespace {

std::string new_job_id() {
  std::array<std::uint8_t, 8> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, 2 * bytes.size() + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  return "job_" + std::string(hex.data());
}

}  // namespace

JobRunner::JobRunner(EngineStores stores, ProverPool& pool, Metrics& metrics, std::size_t max_queued)
    : stores_(stores), pool_(pool), metrics_(metrics), max_queued_(max_queued), last_stats_(pool.stats()) {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

JobRunner::~JobRunner() {
  thread_.request_stop();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::string> JobRunner::submit(JobSpec spec) {
  JobRecord r;
  r.id = new_job_id();
  r.total = spec.mode == JobMode::kInventory ? spec.note_ids.size() : spec.buckets.size();
  r.created_ms = Clock::system().unix_ms();
  r.spec = std::move(spec);
  std::lock_guard lock(mu_);
  if (queue_.size() >= max_queued_) {
    return Status::resource_exhausted(std::to_string(queue_.size()) + " jobs are already waiting; try again later");
  }
  // Forget the oldest finished jobs beyond the limit.
  while (records_.size() >= kMaxRecords && !record_order_.empty()) {
    const std::string oldest = record_order_.front();
    auto it = records_.find(oldest);
    if (it != records_.end() && (it->second.state == "queued" || it->second.state == "running")) break;
    record_order_.pop_front();
    records_.erase(oldest);
  }
  const std::string id = r.id;
  records_.emplace(id, std::move(r));
  record_order_.push_back(id);
  queue_.push_back(id);
  cv_.notify_all();
  return id;
}

std::optional<JobRecord> JobRunner::get(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(std::string(id));
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

std::vector<JobRecord> JobRunner::recent(std::string_view wallet, std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  for (auto it = record_order_.rbegin(); it != record_order_.rend() && out.size() < limit; ++it) {
    auto r = records_.find(*it);
    if (r != records_.end() && r->second.spec.wallet == wallet) out.push_back(r->second);
  }
  return out;
}

std::size_t JobRunner::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t JobRunner::workers_busy() const {
  std::lock_guard lock(mu_);
  if (running_.empty()) return 0;
  auto it = records_.find(running_);
  if (it == records_.end()) return 0;
  const std::size_t left = it->second.total - std::min(it->second.total, it->second.done);
  return std::min(left, static_cast<std::size_t>(pool_.workers()));
}

std::uint64_t JobRunner::sample_pool_stats() {
  const auto now = pool_.stats();
  std::uint64_t total = 0;
  for (const auto& w : now) total += w.proofs;
  std::lock_guard lock(stats_mu_);
  for (std::size_t i = 0; i < now.size() && i < last_stats_.size(); ++i) {
    const std::uint64_t proofs = now[i].proofs - last_stats_[i].proofs;
    if (proofs == 0) continue;
    // Workers report totals; a delta of several proofs is split evenly (rare: we sample after each).
    const double each_s = (now[i].total_ms - last_stats_[i].total_ms) / static_cast<double>(proofs) / 1000.0;
    for (std::uint64_t k = 0; k < proofs; ++k) metrics_.observe_proof(each_s);
  }
  last_stats_ = now;
  return total;
}

void JobRunner::run(const std::stop_token& stop) {
  for (;;) {
    std::string id;
    JobSpec spec;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait(lock, stop, [&] { return !queue_.empty(); })) return;
      id = queue_.front();
      queue_.pop_front();
      auto& r = records_.at(id);
      r.state = "running";
      r.started_ms = Clock::system().unix_ms();
      running_ = id;
      spec = r.spec;
    }
    // A thread boundary: nothing may escape it.
    try {
      execute(id, spec, stop);
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      auto& r = records_.at(id);
      r.state = "failed";
      r.error = std::string("internal error: ") + e.what();
    }
    std::lock_guard lock(mu_);
    records_.at(id).finished_ms = Clock::system().unix_ms();
    running_.clear();
  }
}

void JobRunner::execute(const std::string& id, const JobSpec& spec, const std::stop_token& stop) {
  CancelToken cancel;
  std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
  auto fail = [&](const Status& s) {
    std::lock_guard lock(mu_);
    auto& r = records_.at(id);
    r.state = "failed";
    r.error = s.to_string();
  };
  auto engine = Engine::open(stores_, pool_, spec.wallet);
  if (!engine.ok()) return fail(engine.status());

  // One job runs at a time, so the pool's new proofs are this job's: its live "proved" count.
  const std::uint64_t proofs_before = sample_pool_stats();
  PrecomputeOptions po;
  po.batch = id;
  po.cancel = &cancel;
  po.on_progress = [&](std::size_t done, std::size_t total) {
    const std::uint64_t proofs = sample_pool_stats();
    std::lock_guard lock(mu_);
    auto& r = records_.at(id);
    r.done = done;
    r.total = total;
    r.proved = static_cast<std::size_t>(proofs - proofs_before);
  };
  Result<PrecomputeReport> report = Status::internal("no mode");
  if (spec.mode == JobMode::kInventory) {
    report = (*engine)->generate_spend_precomputes(spec.note_ids, po);
  } else {
    report = (*engine)->generate_all_precomputes(spec.note_id, spec.buckets, po);
  }
  sample_pool_stats();
  if (!report.ok()) return fail(report.status());
  metrics_.add_failed_proofs(report->failed);
  metrics_.add_cache_hits(report->cached);

  std::lock_guard lock(mu_);
  auto& r = records_.at(id);
  r.proved = report->proved;
  r.cached = report->cached;
  r.failed = report->failed;
  r.errors.assign(report->errors.begin(),
                  report->errors.begin() + static_cast<std::ptrdiff_t>(std::min(report->errors.size(), kMaxErrors)));
  r.done = r.proved + r.cached + r.failed;
  if (cancel.cancelled()) {
    r.state = "cancelled";
  } else {
    r.state = r.failed == 0 ? "done" : "failed";
  }
}

}  // namespace bucketpay::service
