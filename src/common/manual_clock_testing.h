// A Clock for tests that moves only when told to (advance()) or when code waits on it (sleep_for()
// advances it by the wait instead of blocking): deadlines and grace periods are reached at once and
// the same way on every run. Test code only.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "bucketpay/clock.h"

namespace bucketpay::testing {

class ManualClock final : public Clock {
 public:
  // Starts at `unix_ms` (wall time) and at an arbitrary steady time point.
  explicit ManualClock(std::int64_t unix_ms = 1'700'000'000'000) : unix_ms_(unix_ms) {}

  Steady::time_point steady_now() override { return Steady::time_point(std::chrono::milliseconds(elapsed_ms_.load())); }
  std::int64_t unix_ms() override { return unix_ms_.load() + elapsed_ms_.load(); }
  void sleep_for(std::chrono::milliseconds duration) override {
    sleeps_.fetch_add(1);
    advance(duration);
  }

  void advance(std::chrono::milliseconds duration) { elapsed_ms_.fetch_add(duration.count()); }
  // How many times code waited on this clock.
  [[nodiscard]] std::int64_t sleeps() const { return sleeps_.load(); }

 private:
  std::atomic<std::int64_t> unix_ms_;
  std::atomic<std::int64_t> elapsed_ms_{0};
  std::atomic<std::int64_t> sleeps_{0};
};

}  // namespace bucketpay::testing
