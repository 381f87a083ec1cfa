#include "passphrase.h"

#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

namespace bucketpay::cli {

namespace {

// Restores the terminal's attributes however read_passphrase leaves.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) {
      return;
    }
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    active_ = tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) {
      tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

Result<std::string> read_passphrase(std::string_view prompt) {
  // Nothing in bucketpay calls setenv concurrently.
  if (const char* env = std::getenv("BUCKETPAY_PASSPHRASE"); env != nullptr) {  // NOLINT(concurrency-mt-unsafe)
    std::string passphrase(env);
    if (passphrase.empty()) {
      return Status::invalid_argument("BUCKETPAY_PASSPHRASE is set but empty");
    }
    return passphrase;
  }
  return read_from_terminal(prompt,
                            "no passphrase: BUCKETPAY_PASSPHRASE is not set and there is no terminal to ask on");
}

Result<std::string> read_from_terminal(std::string_view prompt, std::string_view without_terminal) {
  const Fd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (tty.get() < 0 || !isatty(tty.get())) {
    return Status::failed_precondition(std::string(without_terminal));
  }
  std::string passphrase;
  passphrase.reserve(1024);  // no reallocation leaving copies behind for usual lengths
  bool got_newline = false;
  {
    // Echo off before the prompt: an answer typed as soon as it shows is neither echoed nor
    // flushed away by the change of mode.
    const EchoOff echo_off(tty.get());
    write_all(tty.get(), prompt);
    char c = 0;
    while (true) {
      const ssize_t n = ::read(tty.get(), &c, 1);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        sodium_memzero(passphrase.data(), passphrase.size());
        return Status::io_error("reading from the terminal: " + std::generic_category().message(errno));
      }
      if (n == 0) {
        break;
      }
      if (c == '\n') {
        got_newline = true;
        break;
      }
      passphrase.push_back(c);
    }
  }
  write_all(tty.get(), "\n");
  if (!passphrase.empty() && passphrase.back() == '\r') {
    passphrase.pop_back();
  }
  if (!got_newline && passphrase.empty()) {
    return Status::io_error("reading from the terminal: end of input");
  }
  if (passphrase.empty()) {
    return Status::invalid_argument("the answer is empty");
  }
  return passphrase;
}

Result<std::string> read_new_passphrase(std::string_view prompt, std::string_view again_prompt, std::size_t min_length,
                                        bool allow_short) {
  if (std::getenv("BUCKETPAY_PASSPHRASE") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
    return read_passphrase(prompt);
  }
  auto first = read_passphrase(prompt);
  if (!first.ok()) {
    return first.status();
  }
  if (first->size() < min_length && !allow_short) {
    const std::size_t length = first->size();
    sodium_memzero(first->data(), first->size());
    return Status::invalid_argument("the passphrase has " + std::to_string(length) + " characters; a new one needs " +
                                    std::to_string(min_length) + " or more");
  }
  auto second = read_passphrase(again_prompt);
  if (!second.ok()) {
    sodium_memzero(first->data(), first->size());
    return second.status();
  }
  const bool same = first->size() == second->size() && sodium_memcmp(first->data(), second->data(), first->size()) == 0;
  sodium_memzero(second->data(), second->size());
  if (!same) {
    sodium_memzero(first->data(), first->size());
    return Status::invalid_argument("the two passphrases differ");
  }
  return first;
}

}  // namespace bucketpay::cli
