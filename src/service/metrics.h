// The service's counters, rendered in the Prometheus text format (version 0.0.4) by GET /metrics,
// and the recent proof throughput the dashboard draws.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bucketpay::service {

// Gauges read at render time from their owners.
struct Gauges {
  std::size_t queue_depth = 0;   // jobs waiting to start (the running one not counted)
  std::size_t workers_busy = 0;  // see JobRunner::workers_busy()
  std::size_t workers = 0;
};

class Metrics {
 public:
  // Upper bounds (seconds) of the proving-time histogram's buckets; +Inf is implicit.
  static constexpr std::array<double, 10> kProofSecondsBuckets = {0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120};

  // One successful proof that took `seconds` (witness + prove + verify).
  void observe_proof(double seconds);
  void add_failed_proofs(std::uint64_t n);
  void add_cache_hits(std::uint64_t n);
  // One HTTP answer. `path` is the route's pattern (e.g. "/v1/jobs/{id}"), never the raw path, so
  // the label set stays bounded.
  void count_request(std::string_view path, int code);

  [[nodiscard]] std::string render(const Gauges& gauges) const;

  // Successful proofs per `bucket_seconds` over the last `buckets` intervals, oldest first (the last
  // one is the interval now running).
  [[nodiscard]] std::vector<std::uint64_t> throughput(int bucket_seconds, int buckets) const;
  [[nodiscard]] std::uint64_t proofs_ok() const;
  [[nodiscard]] std::uint64_t proofs_failed() const;

 private:
  using Clock = std::chrono::steady_clock;
  // Completion times are kept this long, for throughput().
  static constexpr std::chrono::minutes kHistory{30};

  mutable std::mutex mu_;
  std::uint64_t proofs_ok_ = 0;
  std::uint64_t proofs_failed_ = 0;
  std::uint64_t cache_hits_ = 0;
  std::array<std::uint64_t, kProofSecondsBuckets.size()> bucket_counts_{};  // not cumulative
  double proof_seconds_sum_ = 0;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::deque<Clock::time_point> completions_;
};

}  // namespace bucketpay::service
