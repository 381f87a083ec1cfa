#include "bucketpay/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

extern char** environ;

namespace bucketpay {
namespace {

void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<Subprocess> Subprocess::spawn(const Options& options) {
  ignore_sigpipe_once();
  if (options.argv.empty()) return Status::invalid_argument("subprocess: empty argv");

  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool replaced = false;
    for (const auto& [key, value] : options.env) {
      if (entry.size() > key.size() && entry.substr(0, key.size()) == key && entry[key.size()] == '=') {
        replaced = true;
        break;
      }
    }
    if (!replaced) env_strings.emplace_back(entry);
  }
  for (const auto& [key, value] : options.env) env_strings.push_back(std::string(key).append("=").append(value));
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string cwd = options.cwd.string();
  const std::string err_path = options.stderr_path.empty() ? "/dev/null" : options.stderr_path.string();
  const bool search_path = options.argv[0].find('/') == std::string::npos;

  int in_pipe[2];
  int out_pipe[2];
  int exec_err_pipe[2];  // reports an exec failure from the child
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return Status::io_error(errno_text("pipe"));
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return Status::io_error(errno_text("pipe"));
  }
  if (::pipe2(exec_err_pipe, O_CLOEXEC) != 0) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    return Status::io_error(errno_text("pipe"));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], exec_err_pipe[0], exec_err_pipe[1]}) {
      ::close(fd);
    }
    return Status::io_error(errno_text("fork"));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    ::signal(SIGPIPE, SIG_DFL);
    int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (err_fd < 0) err_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (::dup2(in_pipe[0], 0) < 0 || ::dup2(out_pipe[1], 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(127);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      int e = errno;
      (void)!::write(exec_err_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    if (search_path) {
      ::execvpe(argv[0], argv.data(), envp.data());
    } else {
      ::execve(argv[0], argv.data(), envp.data());
    }
    int e = errno;
    (void)!::write(exec_err_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(exec_err_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_err_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_err_pipe[0]);

  Subprocess p;
  p.pid_ = pid;
  p.stdin_fd_ = in_pipe[1];
  p.stdout_fd_ = out_pipe[0];
  p.stderr_path_ = options.stderr_path;
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    p.wait();
    return Status::unavailable("cannot start " + options.argv[0] + ": " + std::strerror(child_errno));
  }
  return p;
}

Subprocess::Subprocess(Subprocess&& other) noexcept { *this = std::move(other); }

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    reset();
    pid_ = std::exchange(other.pid_, -1);
    stdin_fd_ = std::exchange(other.stdin_fd_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    exit_status_ = std::exchange(other.exit_status_, std::nullopt);
    stderr_path_ = std::move(other.stderr_path_);
  }
  return *this;
}

Subprocess::~Subprocess() { reset(); }

void Subprocess::reset() {
  if (pid_ > 0 && !exit_status_) {
    kill();
    wait();
  }
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdin_fd_ = stdout_fd_ = -1;
  pid_ = -1;
}

Status Subprocess::write_all(std::span<const std::uint8_t> data) {
  if (stdin_fd_ < 0) return Status::unavailable("subprocess stdin is closed");
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::unavailable(errno_text("write to child"));
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Result<std::size_t> Subprocess::read_some(std::span<std::uint8_t> out, std::optional<Clock::time_point> deadline) {
  if (stdout_fd_ < 0) return Status::unavailable("subprocess stdout is closed");
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return Status::timeout("child did not answer in time");
      timeout_ms = static_cast<int>(std::min<long long>(left, 1 << 30));
    }
    pollfd pfd{stdout_fd_, POLLIN, 0};
    int r = ::poll(&pfd, 1, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(errno_text("poll"));
    }
    if (r == 0) continue;  // the deadline check above decides
    ssize_t n = ::read(stdout_fd_, out.data(), out.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Status::unavailable(errno_text("read from child"));
    }
    return static_cast<std::size_t>(n);
  }
}

Status Subprocess::read_exact(std::span<std::uint8_t> out, std::optional<Clock::time_point> deadline) {
  std::size_t done = 0;
  while (done < out.size()) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::size_t n, read_some(out.subspan(done), deadline));
    if (n == 0) return Status::unavailable("child closed its output (exited or crashed)");
    done += n;
  }
  return Status::ok();
}

Result<std::string> Subprocess::read_to_end(std::optional<Clock::time_point> deadline, std::size_t max_size) {
  std::string out;
  std::uint8_t chunk[65536];
  for (;;) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::size_t n, read_some(chunk, deadline));
    if (n == 0) return out;
    if (out.size() + n > max_size) {
      return Status::resource_exhausted("child wrote more than " + std::to_string(max_size) + " bytes");
    }
    out.append(reinterpret_cast<const char*>(chunk), n);
  }
}

Status Subprocess::write_frame(std::span<const std::uint8_t> body) {
  if (body.size() > 0xffffffffULL) return Status::invalid_argument("frame too large");
  const auto len = static_cast<std::uint32_t>(body.size());
  const std::uint8_t header[4] = {static_cast<std::uint8_t>(len), static_cast<std::uint8_t>(len >> 8),
                                  static_cast<std::uint8_t>(len >> 16), static_cast<std::uint8_t>(len >> 24)};
  BUCKETPAY_RETURN_IF_ERROR(write_all(header));
  return write_all(body);
}

Result<std::vector<std::uint8_t>> Subprocess::read_frame(std::optional<Clock::time_point> deadline,
                                                         std::size_t max_size) {
  std::uint8_t header[4];
  BUCKETPAY_RETURN_IF_ERROR(read_exact(header, deadline));
  const std::size_t len = std::size_t{header[0]} | (std::size_t{header[1]} << 8) | (std::size_t{header[2]} << 16) |
                          (std::size_t{header[3]} << 24);
  if (len > max_size) {
    return Status::corruption("child sent a frame of " + std::to_string(len) + " bytes (limit " +
                              std::to_string(max_size) + ")");
  }
  std::vector<std::uint8_t> body(len);
  BUCKETPAY_RETURN_IF_ERROR(read_exact(body, deadline));
  return body;
}

void Subprocess::close_stdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

void Subprocess::kill() {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, SIGKILL);
}

int Subprocess::wait() {
  if (exit_status_) return *exit_status_;
  if (pid_ <= 0) return -1;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r >= 0 && WIFEXITED(status)) {
    exit_status_ = WEXITSTATUS(status);
  } else if (r >= 0 && WIFSIGNALED(status)) {
    exit_status_ = 128 + WTERMSIG(status);
  } else {
    exit_status_ = -1;  // waitpid failed, or a status that is neither an exit nor a signal
  }
  return *exit_status_;
}

bool Subprocess::running() {
  if (pid_ <= 0 || exit_status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    exit_status_ = -1;
  }
  return false;
}

std::string Subprocess::stderr_tail(std::size_t max_bytes) const {
  if (stderr_path_.empty()) return {};
  std::ifstream in(stderr_path_, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const auto size = static_cast<std::size_t>(in.tellg());
  const std::size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string out(size - start, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace bucketpay
