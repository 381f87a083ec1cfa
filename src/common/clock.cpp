#include "bucketpay/clock.h"

#include <thread>

namespace bucketpay {
namespace {

class SystemClock final : public Clock {
 public:
  Steady::time_point steady_now() override { return Steady::now(); }
  std::int64_t unix_ms() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  void sleep_for(std::chrono::milliseconds duration) override { std::this_thread::sleep_for(duration); }
};

}  // namespace

Clock& Clock::system() {
  static auto* clock = new SystemClock();  // never destroyed: usable from static destructors too
  return *clock;
}

}  // namespace bucketpay
