// Clock: the time that bucketpay's own logic reads (deadlines, polling, grace periods, the Unix
// times it records), behind one interface so that tests can run it on a clock they move by hand.
//
// Clock::system() is the real one: steady_now() is std::chrono::steady_clock, unix_ms() the system
// clock, sleep_for() sleeps the calling thread. A test clock (src/common/manual_clock_testing.h)
// moves only when told to, and its sleep_for() moves it instead of blocking, so that a timeout is
// reached at once and deterministically.
//
// Thread safety: Clock::system() may be used from any thread; an implementation says its own.
#pragma once

#include <chrono>
#include <cstdint>

namespace bucketpay {

class Clock {
 public:
  using Steady = std::chrono::steady_clock;

  virtual ~Clock() = default;

  // Monotonic time, for deadlines and latencies.
  [[nodiscard]] virtual Steady::time_point steady_now() = 0;
  // Wall time in milliseconds since the Unix epoch, for records (created_ms, ...).
  [[nodiscard]] virtual std::int64_t unix_ms() = 0;
  // Waits `duration` (the time between two polls).
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;

  // Milliseconds elapsed on this clock since `start`.
  [[nodiscard]] double ms_since(Steady::time_point start) {
    return std::chrono::duration<double, std::milli>(steady_now() - start).count();
  }

  // The process's real clock (a static instance; never destroyed).
  static Clock& system();
};

}  // namespace bucketpay
