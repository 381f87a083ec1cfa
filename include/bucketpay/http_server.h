// An httplib::Server hardened for bucketpay's HTTP servers (the service now; the relayer can adopt
// it the same way). What it adds to cpp-httplib 0.11 (Debian):
//  - bind() refuses a port another socket already has (httplib sets SO_REUSEPORT, so a second
//    server bound the same port and requests landed on either), with a one-line error, and listens
//    with a real backlog (httplib's is 5);
//  - each request's head and body must arrive within ServerLimits::request_deadline (httplib's
//    timeout is per read: a client sending a header line a second held a thread forever), a client
//    (IP address) holds at most max_connections_per_client connections, and `threads` threads
//    serve (httplib's pool is 8 here): slow clients no longer stall the others;
//  - before routing (ahead of reading any body): a Host header outside the allow-list is 403 (DNS
//    rebinding), a known path with a method it does not take is 405 with Allow, a Content-Length
//    above max_body_bytes is 413 at once (httplib read or waited out the whole body first) and the
//    connection is closed.
// Error answers are {"error": "<message>"} (application/json), the service's format.
//
// Use: construct, add routes (Get, Post, ...) and declare them with `methods`, then bind(), then
// listen_after_bind() on a thread of its own; stop() as for httplib. Do not call
// set_pre_routing_handler, set_socket_options or set_payload_max_length, or set new_task_queue:
// this class uses them (set_error_handler, set_exception_handler and set_logger are free).
//
// Thread safety: as httplib::Server (configure before listening; stop() from any thread).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bucketpay/status.h"

namespace bucketpay::http {

struct ServerLimits {
  // Host header names answered besides IP addresses and localhost (headers.h's host_allowed).
  std::vector<std::string> allowed_hosts;
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  // From the first byte of a request to its last (head and body); then the connection is closed.
  std::chrono::milliseconds request_deadline{10'000};
  // How long an idle keep-alive connection is kept for its next request.
  std::chrono::milliseconds keep_alive_timeout{5'000};
  std::size_t threads = 32;
  std::size_t max_connections_per_client = 16;
  int listen_backlog = 512;
};

// A path the server answers (an httplib pattern, the same string given to Get/Post) and the
// methods it takes there (HEAD is implied by GET).
struct PathMethods {
  std::string pattern;
  std::vector<std::string> methods;
};

class Server : public httplib::Server {
 public:
  explicit Server(ServerLimits limits);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The method table for 405 (a path matching none of these is left to routing: 404).
  void methods(std::vector<PathMethods> table);

  // Binds host:port (0: any free port) and returns the port; kUnavailable ("cannot listen on
  // 127.0.0.1:8080: the port is in use (is another server running?)") when it is taken or the
  // address is not of this machine.
  Result<int> bind(const std::string& host, int port);

  [[nodiscard]] const ServerLimits& limits() const { return limits_; }

 private:
  bool process_and_close_socket(socket_t sock) override;
  HandlerResponse before_routing(const httplib::Request& req, httplib::Response& res) const;

  ServerLimits limits_;
  std::vector<std::pair<std::regex, std::vector<std::string>>> methods_;
  std::mutex clients_mutex_;
  std::map<std::string, std::size_t> connections_per_client_;
};

}  // namespace bucketpay::http
