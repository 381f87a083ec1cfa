#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include "bucketpay/http_headers.h"
#include "bucketpay/http_server.h"

namespace bucketpay::http {
namespace {

using Clock = std::chrono::steady_clock;

// Set by before_routing on the thread serving the connection: close it after this answer (its
// body was refused unread).
thread_local bool t_close_after_answer = false;

std::string error_body(std::string_view message) {
  // The messages are ours, fixed ASCII without quotes or backslashes.
  return "{\"error\":\"" + std::string(message) + "\"}";
}

void answer(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(error_body(message), "application/json");
}

int wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int rc = 0;
  do {
    rc = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, timeout.count())));
  } while (rc < 0 && errno == EINTR);
  return rc;
}

std::string address_of(const sockaddr_storage& addr) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, buf.data(), buf.size());
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, buf.data(), buf.size());
  }
  return buf.data();
}

int port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  return 0;
}

// One connection's socket for httplib's request parser, with a deadline for each request: every
// read waits at most until then (httplib's own stream waits its timeout per read).
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(int sock, std::chrono::milliseconds write_timeout) : sock_(sock), write_timeout_(write_timeout) {}

  void start_request(Clock::time_point deadline) { deadline_ = deadline; }
  [[nodiscard]] bool has_buffered() const { return at_ < end_; }

  bool is_readable() const override {
    if (has_buffered()) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    return left.count() > 0 && wait_for(sock_, POLLIN, left) > 0;
  }
  bool is_writable() const override { return wait_for(sock_, POLLOUT, write_timeout_) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (!has_buffered()) {
      if (!is_readable()) return -1;
      const ssize_t n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      if (n <= 0) return n;
      at_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    const std::size_t n = std::min(size, end_ - at_);
    std::memcpy(ptr, buffer_.data() + at_, n);
    at_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ip = address_of(addr);
      port = port_of(addr);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ip = address_of(addr);
      port = port_of(addr);
    }
  }
  socket_t socket() const override { return sock_; }

 private:
  int sock_;
  std::chrono::milliseconds write_timeout_;
  Clock::time_point deadline_{};
  std::array<char, 4096> buffer_{};
  std::size_t at_ = 0;
  std::size_t end_ = 0;
};

// Why binding host:port fails, from a socket of our own bound the way the server binds.
std::string bind_error(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return std::string("the host is not an address: ") + ::gai_strerror(rc);
  }
  std::string why = "unknown error";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      why = errno == EADDRINUSE      ? "the port is in use (is another server running on it?)"
            : errno == EADDRNOTAVAIL ? "the address is not one of this machine's"
                                     : std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return why;
}

}  // namespace

Server::Server(ServerLimits limits) : limits_(std::move(limits)) {
  // SO_REUSEADDR only (a restart may bind while old connections linger in TIME_WAIT); httplib's
  // default adds SO_REUSEPORT, which lets a second server bind the same port.
  set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  set_payload_max_length(limits_.max_body_bytes);
  set_keep_alive_timeout(
      std::max<time_t>(1, std::chrono::duration_cast<std::chrono::seconds>(limits_.keep_alive_timeout).count()));
  const std::size_t threads = std::max<std::size_t>(1, limits_.threads);
  new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return before_routing(req, res); });
}

Server::~Server() = default;

void Server::methods(std::vector<PathMethods> table) {
  methods_.clear();
  for (PathMethods& entry : table) {
    if (std::find(entry.methods.begin(), entry.methods.end(), "GET") != entry.methods.end() &&
        std::find(entry.methods.begin(), entry.methods.end(), "HEAD") == entry.methods.end()) {
      entry.methods.emplace_back("HEAD");
    }
    methods_.emplace_back(std::regex(entry.pattern), std::move(entry.methods));
  }
}

Result<int> Server::bind(const std::string& host, int port) {
  if (port < 0 || port > 65535) return Status::invalid_argument("port must be 0..65535");
  const int bound = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return Status::unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " + bind_error(host, port));
  }
  // httplib listens with a backlog of 5: a burst of connections beyond it was dropped or delayed.
  // listen() again on the listening socket sets the new backlog.
  ::listen(svr_sock_, limits_.listen_backlog);
  return bound;
}

httplib::Server::HandlerResponse Server::before_routing(const httplib::Request& req, httplib::Response& res) const {
  if (!host_allowed(req.get_header_value("Host"), limits_.allowed_hosts)) {
    answer(res, 403,
           "forbidden Host header: this server answers only IP addresses, localhost and its allowed host names "
           "(DNS rebinding protection)");
    return HandlerResponse::Handled;
  }
  for (const auto& [pattern, allowed] : methods_) {
    if (!std::regex_match(req.path, pattern)) continue;
    if (std::find(allowed.begin(), allowed.end(), req.method) == allowed.end()) {
      std::string list;
      for (const std::string& m : allowed) list += (list.empty() ? "" : ", ") + m;
      res.set_header("Allow", list);
      answer(res, 405, "method not allowed: this path takes " + list);
      return HandlerResponse::Handled;
    }
    break;
  }
  if (req.has_header("Content-Length")) {
    const std::string value = req.get_header_value("Content-Length");
    const bool digits = !value.empty() && value.size() <= 19 &&
                        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoull(value) > limits_.max_body_bytes) {
      // The body is never read: the connection cannot carry another request.
      t_close_after_answer = true;
      res.set_header("Connection", "close");
      if (!digits) {
        answer(res, 400, "bad request: Content-Length is not a number");
      } else {
        answer(res, 413, "request body too large (the limit is " + std::to_string(limits_.max_body_bytes) + " bytes)");
      }
      return HandlerResponse::Handled;
    }
  }
  return HandlerResponse::Unhandled;
}

bool Server::process_and_close_socket(socket_t sock) {
  const int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  DeadlineStream stream(sock, std::chrono::seconds(5));
  std::string client;
  int client_port = 0;
  stream.get_remote_ip_and_port(client, client_port);

  bool admitted = false;
  {
    std::lock_guard lock(clients_mutex_);
    std::size_t& count = connections_per_client_[client];
    if (count < limits_.max_connections_per_client) {
      ++count;
      admitted = true;
    }
  }
  bool ok = false;
  if (!admitted) {
    const std::string body = error_body("too many connections from this client");
    const std::string head =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
        "Retry-After: 1\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n";
    stream.write((head + body).data(), head.size() + body.size());
  } else {
    t_close_after_answer = false;
    for (std::size_t served = 0; served < keep_alive_max_count_; ++served) {
      // Wait for the next request (the first is already on its way), or the server's stop.
      if (served > 0 && !stream.has_buffered()) {
        const auto idle_until = Clock::now() + limits_.keep_alive_timeout;
        bool readable = false;
        while (!readable && svr_sock_ != INVALID_SOCKET && Clock::now() < idle_until) {
          readable = wait_for(sock, POLLIN, std::chrono::milliseconds(100)) > 0;
        }
        if (!readable) break;
      }
      stream.start_request(Clock::now() + limits_.request_deadline);
      bool closed = false;
      const bool last = served + 1 == keep_alive_max_count_ || svr_sock_ == INVALID_SOCKET;
      ok = process_request(stream, last, closed, nullptr);
      if (!ok || closed || t_close_after_answer) break;
    }
    if (t_close_after_answer) {
      // Let the client read the answer before the close: stop sending, then drop what it still
      // sends for a moment (closing with unread data resets the connection, which can destroy the
      // answer in flight).
      ::shutdown(sock, SHUT_WR);
      std::array<char, 4096> sink{};
      const auto until = Clock::now() + std::chrono::milliseconds(500);
      while (Clock::now() < until && wait_for(sock, POLLIN, std::chrono::milliseconds(100)) > 0 &&
             ::recv(sock, sink.data(), sink.size(), 0) > 0) {
      }
      t_close_after_answer = false;
    }
    std::lock_guard lock(clients_mutex_);
    if (--connections_per_client_[client] == 0) connections_per_client_.erase(client);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace bucketpay::http
