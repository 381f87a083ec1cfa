#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace bucketpay::cli {

Progress::Progress(std::ostream& out, std::string label, bool tty, std::chrono::milliseconds every)
    : out_(out), label_(std::move(label)), tty_(tty), every_(every), start_(std::chrono::steady_clock::now()),
      last_(start_) {}

bool Progress::is_terminal(int fd) { return ::isatty(fd) == 1; }

void Progress::update(std::size_t done, std::size_t total) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  const bool last = done >= total;
  if (done == last_done_ && !last) return;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : 0;
  char tail[96];
  std::snprintf(tail, sizeof tail, "%zu/%zu  %5.1f%%  %.2f/s  %5.1fs elapsed  ETA %.0fs", done, total,
                total == 0 ? 100.0 : 100.0 * static_cast<double>(done) / static_cast<double>(total), rate, elapsed,
                eta);
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = total == 0 ? kWidth : static_cast<int>(kWidth * done / total);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kWidth - filled), '.');
    out_ << "\r" << label_ << " [" << bar << "] " << tail << "\x1b[K" << std::flush;
    drawn_ = true;
  } else if (last || now - last_ >= every_) {
    out_ << label_ << ": " << tail << "\n" << std::flush;
    last_ = now;
  }
  last_done_ = done;
}

void Progress::finish() {
  std::lock_guard lock(mu_);
  if (tty_ && drawn_) out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace bucketpay::cli
