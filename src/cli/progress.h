// Progress of long work: a redrawn bar on a terminal, plain lines otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>

namespace bucketpay::cli {

class Progress {
 public:
  // `tty`: draw a bar (use is_terminal(stderr)); otherwise print a line at most every `every`.
  Progress(std::ostream& out, std::string label, bool tty,
           std::chrono::milliseconds every = std::chrono::milliseconds(1000));
  // Thread-safe. Draws when the bar changes; the last call (done == total) always prints.
  void update(std::size_t done, std::size_t total);
  // Ends the bar's line (on a terminal).
  void finish();

  static bool is_terminal(int fd);

 private:
  std::mutex mu_;
  std::ostream& out_;
  std::string label_;
  bool tty_;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  bool drawn_ = false;
  std::size_t last_done_ = static_cast<std::size_t>(-1);
};

}  // namespace bucketpay::cli
