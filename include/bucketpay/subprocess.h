// A child process with pipes to its stdin and stdout: how bucketpay runs bb and Node.
//
// The child gets SIGKILL when this process dies (PR_SET_PDEATHSIG), so a crashed engine leaves no
// orphaned provers behind. All pipes are close-on-exec, so one child never holds another's pipe
// open (which would hide EOF). SIGPIPE is ignored process-wide on first use: a write to a dead
// child returns an error instead of killing us.
//
// Thread safety: a Subprocess is used by one thread at a time; kill() may be called from another
// thread to interrupt a blocked read (the read then fails with kUnavailable).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bucketpay/status.h"

namespace bucketpay {

class Subprocess {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::vector<std::string> argv;  // argv[0] is the program (a path; PATH is searched if no '/')
    std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) our environment
    std::filesystem::path cwd;                             // empty: inherit
    std::filesystem::path stderr_path;                     // empty: /dev/null; else the child's stderr is appended here
                                                           // (opened with O_NOFOLLOW: a symlink there gets nothing)
  };

  // Starts the child. Fails when the program cannot be executed.
  static Result<Subprocess> spawn(const Options& options);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  // Kills the child if still running and reaps it.
  ~Subprocess();

  // Writes all bytes to the child's stdin.
  Status write_all(std::span<const std::uint8_t> data);
  // Reads exactly out.size() bytes from the child's stdout, failing with kTimeout at the deadline
  // (if given) and with kUnavailable at EOF (the child exited).
  Status read_exact(std::span<std::uint8_t> out, std::optional<Clock::time_point> deadline);
  // Reads the child's stdout until the child closes it (usually by exiting): everything it wrote.
  // kResourceExhausted past `max_size` bytes; kTimeout at the deadline (if given).
  Result<std::string> read_to_end(std::optional<Clock::time_point> deadline = std::nullopt,
                                  std::size_t max_size = std::size_t{64} << 20);

  // Frames: a 4-byte little-endian length, then the body. max_size bounds what is accepted.
  Status write_frame(std::span<const std::uint8_t> body);
  Result<std::vector<std::uint8_t>> read_frame(std::optional<Clock::time_point> deadline,
                                               std::size_t max_size = std::size_t{1} << 30);

  // Closes the child's stdin (it sees EOF).
  void close_stdin();
  // Sends SIGKILL. Safe to call from another thread and more than once.
  void kill();
  // Waits for the child to exit and returns its exit status (128 + signal when killed).
  int wait();
  // True while the child has not been reaped and has not exited.
  bool running();

  [[nodiscard]] pid_t pid() const { return pid_; }
  // The last bytes the child wrote to its stderr file, for error messages (empty if none).
  [[nodiscard]] std::string stderr_tail(std::size_t max_bytes = 2000) const;

 private:
  Subprocess() = default;
  void reset();
  // One read() of the child's stdout once it is readable: the bytes read, 0 at EOF; kTimeout at
  // the deadline (if given).
  Result<std::size_t> read_some(std::span<std::uint8_t> out, std::optional<Clock::time_point> deadline);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::optional<int> exit_status_;
  std::filesystem::path stderr_path_;
};

}  // namespace bucketpay
