#include "metrics.h"

#include <sstream>

namespace bucketpay::service {

void Metrics::observe_proof(double seconds) {
  std::lock_guard lock(mu_);
  ++proofs_ok_;
  proof_seconds_sum_ += seconds;
  for (std::size_t i = 0; i < kProofSecondsBuckets.size(); ++i) {
    if (seconds <= kProofSecondsBuckets[i]) {
      ++bucket_counts_[i];
      break;
    }
  }
  const auto now = Clock::now();
  completions_.push_back(now);
  while (!completions_.empty() && now - completions_.front() > kHistory) completions_.pop_front();
}

void Metrics::add_failed_proofs(std::uint64_t n) {
  std::lock_guard lock(mu_);
  proofs_failed_ += n;
}

void Metrics::add_cache_hits(std::uint64_t n) {
  std::lock_guard lock(mu_);
  cache_hits_ += n;
}

void Metrics::count_request(std::string_view path, int code) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(path), code}];
}

std::uint64_t Metrics::proofs_ok() const {
  std::lock_guard lock(mu_);
  return proofs_ok_;
}

std::uint64_t Metrics::proofs_failed() const {
  std::lock_guard lock(mu_);
  return proofs_failed_;
}

std::vector<std::uint64_t> Metrics::throughput(int bucket_seconds, int buckets) const {
  std::vector<std::uint64_t> out(static_cast<std::size_t>(buckets), 0);
  if (bucket_seconds <= 0 || buckets <= 0) return out;
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  for (auto it = completions_.rbegin(); it != completions_.rend(); ++it) {
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - *it).count();
    const auto back = age / bucket_seconds;
    if (back >= buckets) break;
    ++out[static_cast<std::size_t>(buckets - 1 - back)];
  }
  return out;
}

std::string Metrics::render(const Gauges& gauges) const {
  std::lock_guard lock(mu_);
  std::ostringstream o;
  o << "# HELP bucketpay_proofs_total Proofs finished by the proving pool for this service's jobs.\n"
       "# TYPE bucketpay_proofs_total counter\n"
    << "bucketpay_proofs_total{result=\"ok\"} " << proofs_ok_ << "\n"
    << "bucketpay_proofs_total{result=\"failed\"} " << proofs_failed_ << "\n";
  o << "# HELP bucketpay_proof_seconds Time to make one proof: witness, prove and verify.\n"
       "# TYPE bucketpay_proof_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kProofSecondsBuckets.size(); ++i) {
    cumulative += bucket_counts_[i];
    o << "bucketpay_proof_seconds_bucket{le=\"" << kProofSecondsBuckets[i] << "\"} " << cumulative << "\n";
  }
  o << "bucketpay_proof_seconds_bucket{le=\"+Inf\"} " << proofs_ok_ << "\n"
    << "bucketpay_proof_seconds_sum " << proof_seconds_sum_ << "\n"
    << "bucketpay_proof_seconds_count " << proofs_ok_ << "\n";
  o << "# HELP bucketpay_queue_depth Precompute jobs waiting to start.\n"
       "# TYPE bucketpay_queue_depth gauge\n"
    << "bucketpay_queue_depth " << gauges.queue_depth << "\n";
  o << "# HELP bucketpay_workers_busy Proving workers busy with the running job.\n"
       "# TYPE bucketpay_workers_busy gauge\n"
    << "bucketpay_workers_busy " << gauges.workers_busy << "\n";
  o << "# HELP bucketpay_workers Proving workers in the pool.\n"
       "# TYPE bucketpay_workers gauge\n"
    << "bucketpay_workers " << gauges.workers << "\n";
  o << "# HELP bucketpay_cache_hits_total Precomputes asked for that were already in the store.\n"
       "# TYPE bucketpay_cache_hits_total counter\n"
    << "bucketpay_cache_hits_total " << cache_hits_ << "\n";
  o << "# HELP bucketpay_http_requests_total HTTP answers by route and status code.\n"
       "# TYPE bucketpay_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    o << "bucketpay_http_requests_total{path=\"" << key.first << "\",code=\"" << key.second << "\"} " << count << "\n";
  }
  return o.str();
}

}  // namespace bucketpay::service
