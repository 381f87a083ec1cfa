#include "progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace bucketpay::cli {

std::string format_duration(double seconds) {
  char text[48];
  if (!(seconds >= 0)) seconds = 0;
  if (seconds < 10) {
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  } else if (seconds < 59.5) {
    std::snprintf(text, sizeof text, "%.0f s", seconds);
  } else if (seconds < 3599.5) {
    const long total = std::lround(seconds);
    std::snprintf(text, sizeof text, "%ld min %02ld s", total / 60, total % 60);
  } else {
    const long minutes = std::lround(seconds / 60);
    std::snprintf(text, sizeof text, "%ld h %02ld min", minutes / 60, minutes % 60);
  }
  return text;
}

std::string count_of(std::size_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural.empty() ? singular + "s" : plural);
}

StatusLine::StatusLine(std::ostream& out, bool tty, std::chrono::milliseconds every)
    : out_(out), tty_(tty), every_(every) {}

void StatusLine::update(const std::string& text, bool done) {
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    out_ << "\r" << text << "\x1b[K";
    open_ = !done;
    out_ << (done ? "\n" : "") << std::flush;
    return;
  }
  if (!done && printed_ && now - last_ < every_) return;
  out_ << text << "\n" << std::flush;
  last_ = now;
  printed_ = !done;
}

Progress::Progress(std::ostream& out, std::string label, bool tty, std::chrono::milliseconds every)
    : out_(out),
      label_(std::move(label)),
      tty_(tty),
      every_(every),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

bool Progress::is_terminal(int fd) { return ::isatty(fd) == 1; }

void Progress::fail() {
  std::lock_guard lock(mu_);
  ++failed_;
}

void Progress::update(std::size_t done, std::size_t total) {
  std::lock_guard lock(mu_);
  const bool last = done >= total;
  if (done == last_done_ && !last) return;
  done_ = done;
  total_ = total;
  last_done_ = done;
  printed_last_ = false;
  draw(last);
}

void Progress::draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  const std::size_t ok = done_ - std::min(failed_, done_);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done_, total_)) / rate : 0;
  // Floored, so that 99.96% is not shown as 100.0%.
  const double percent =
      total_ == 0 ? 100.0 : std::floor(1000.0 * static_cast<double>(ok) / static_cast<double>(total_)) / 10.0;
  std::string tail = std::to_string(done_) + "/" + std::to_string(total_);
  if (failed_ > 0) tail += " (" + std::to_string(failed_) + " failed)";
  char numbers[96];
  std::snprintf(numbers, sizeof numbers, "  %5.1f%%  %.2f/s  %s elapsed", percent, rate,
                format_duration(elapsed).c_str());
  tail += numbers;
  if (done_ < total_ && rate > 0) tail += "  ETA " + format_duration(eta);
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = total_ == 0 ? kWidth : static_cast<int>(kWidth * ok / total_);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kWidth - filled), '.');
    out_ << "\r" << label_ << " [" << bar << "] " << tail << "\x1b[K" << std::flush;
    drawn_ = true;
    printed_last_ = true;
  } else if (force || now - last_ >= every_) {
    out_ << label_ << ": " << tail << "\n" << std::flush;
    last_ = now;
    printed_last_ = true;
  }
}

void Progress::finish() {
  std::lock_guard lock(mu_);
  if (!printed_last_ && last_done_ != static_cast<std::size_t>(-1)) draw(true);
  if (tty_ && drawn_) out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace bucketpay::cli
