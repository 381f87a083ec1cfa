// Progress of long work: a redrawn bar on a terminal, plain lines otherwise (logs, CI); and the
// small formatting rules every summary follows (rounded durations, singular and plural).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>

namespace bucketpay::cli {

// "0.4 s", "12.3 s", "59 s", "2 min 05 s", "1 h 02 min": rounded to what a person reads.
std::string format_duration(double seconds);
// "1 proof", "3 proofs", "0 proofs"; `plural` defaults to `singular` + "s".
std::string count_of(std::size_t n, const std::string& singular, const std::string& plural = "");

// A wait's status (what it waits for, how far, elapsed): one redrawn line on a terminal, plain
// lines otherwise, at most one every `every` plus the last.
class StatusLine {
 public:
  StatusLine(std::ostream& out, bool tty, std::chrono::milliseconds every = std::chrono::milliseconds(5000));
  // `done`: the wait's last line (ends the line on a terminal; always printed otherwise).
  void update(const std::string& text, bool done);

 private:
  std::ostream& out_;
  bool tty_;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point last_{};
  bool open_ = false;  // a line is drawn on the terminal and not ended
  bool printed_ = false;
};

class Progress {
 public:
  // `tty`: draw a bar (use is_terminal(stderr)); otherwise print a line at most every `every`.
  Progress(std::ostream& out, std::string label, bool tty,
           std::chrono::milliseconds every = std::chrono::milliseconds(1000));
  // Thread-safe. `done` counts finished items, failed ones included; the bar and the percentage
  // count only those that succeeded, so a run with a failure never shows 100%. Draws when the bar
  // changes; the last call (done == total) always prints.
  void update(std::size_t done, std::size_t total);
  // One of the items failed (call before the update that counts it).
  void fail();
  // Ends the bar's line (on a terminal); otherwise prints the last state if it was not printed.
  void finish();

  static bool is_terminal(int fd);

 private:
  void draw(bool force);  // with mu_ held

  std::mutex mu_;
  std::ostream& out_;
  std::string label_;
  bool tty_;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  bool drawn_ = false;
  bool printed_last_ = true;  // the current state was printed (plain lines)
  std::size_t done_ = 0;
  std::size_t total_ = 0;
  std::size_t failed_ = 0;
  std::size_t last_done_ = static_cast<std::size_t>(-1);
};

}  // namespace bucketpay::cli
