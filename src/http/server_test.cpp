// The hardened server (server.h) over real sockets on 127.0.0.1: a second server on a port, wrong
// methods, oversized bodies, foreign Host headers and slow clients, each against what plain
// cpp-httplib did.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bucketpay/http_server.h"

namespace bucketpay::http {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A server with two routes, listening on a free port of 127.0.0.1 until destroyed.
class Running {
 public:
  explicit Running(ServerLimits limits = {}) : server_(std::move(limits)) {
    server_.Get("/v1/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"ok\":true}", "application/json");
    });
    server_.Post("/v1/jobs", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "application/json");
    });
    server_.Get(R"(/v1/jobs/([^/]+))",
                [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    server_.methods({{"/v1/health", {"GET"}}, {"/v1/jobs", {"POST"}}, {R"(/v1/jobs/([^/]+))", {"GET"}}});
    auto port = server_.bind("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status().to_string();
    port_ = port.ok() ? *port : 0;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  ~Running() {
    server_.stop();
    thread_.join();
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

  [[nodiscard]] int port() const { return port_; }

 private:
  Server server_;
  int port_ = 0;
  std::thread thread_;
};

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

void send_all(int fd, const std::string& s) {
  EXPECT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), ssize_t(s.size()));
}

// What the server sends until it closes or `timeout` passes.
std::string read_answer(int fd, milliseconds timeout) {
  std::string out;
  const auto until = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Whether the server closes `fd` within `timeout` (what it sends until then is dropped).
bool closed_within(int fd, milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (::recv(fd, buf, sizeof(buf), 0) <= 0) return true;
  }
  return false;
}

// One request on a new connection; the answer's head and body, or "" after 2 s.
std::string request(int port, const std::string& raw, milliseconds timeout = milliseconds(2000)) {
  const int fd = connect_to(port);
  // The server closes after answering, so the answer is everything until then.
  const std::size_t head_end = raw.find("\r\n");
  send_all(fd, raw.substr(0, head_end + 2) + "Connection: close\r\n" + raw.substr(head_end + 2));
  std::string answer = read_answer(fd, timeout);
  ::close(fd);
  return answer;
}

TEST(HttpServer, ASecondServerOnAPortInUseIsRefusedWithAClearError) {
  Running first;
  Server second{ServerLimits{}};
  auto bound = second.bind("127.0.0.1", first.port());
  ASSERT_FALSE(bound.ok()) << "both servers bound port " << first.port();
  EXPECT_EQ(bound.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(bound.status().message().find("in use"), std::string::npos) << bound.status().message();
  // Two plain httplib servers (SO_REUSEPORT) both bind one port: the defect this class removes.
  httplib::Server plain;
  httplib::Server plain_again;
  const int port = plain.bind_to_any_port("127.0.0.1");
  EXPECT_TRUE(plain_again.bind_to_port("127.0.0.1", port)) << "httplib's default changed; update server.h";
}

TEST(HttpServer, AKnownPathWithAnotherMethodIs405WithAllow) {
  Running s;
  const std::string del = request(s.port(), "DELETE /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(del.rfind("HTTP/1.1 405", 0), 0u) << del;
  EXPECT_NE(del.find("Allow: POST"), std::string::npos) << del;
  const std::string post =
      request(s.port(), "POST /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0u) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD"), std::string::npos) << post;
  EXPECT_EQ(request(s.port(), "PUT /v1/jobs/abc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  // The right method and unknown paths are unchanged.
  EXPECT_EQ(request(s.port(), "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(request(s.port(), "HEAD /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(request(s.port(), "DELETE /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
}

TEST(HttpServer, AnOversizedContentLengthIs413AtOnceWithoutReadingTheBody) {
  ServerLimits limits;
  limits.max_body_bytes = 1024;
  Running s(limits);
  const int fd = connect_to(s.port());
  const auto t0 = Clock::now();
  // The head only: the server must not wait for ten megabytes that never come.
  send_all(fd,
           "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
           "10000000\r\n\r\n");
  const std::string answer = read_answer(fd, milliseconds(3000));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_NE(answer.find("the limit is 1024 bytes"), std::string::npos) << answer;
  EXPECT_LT(took.count(), 1000) << "413 came after " << took.count() << " ms";
  // A body within the limit is still taken.
  const std::string ok = request(s.port(), "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  EXPECT_EQ(request(s.port(), "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1x\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
}

TEST(HttpServer, AForeignHostHeaderIs403) {
  ServerLimits limits;
  limits.allowed_hosts = {"pay.example.com"};
  Running s(limits);
  const std::string evil = request(s.port(), "GET /v1/health HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n");
  EXPECT_EQ(evil.rfind("HTTP/1.1 403", 0), 0u) << evil;
  EXPECT_NE(evil.find("DNS rebinding"), std::string::npos) << evil;
  EXPECT_EQ(request(s.port(), "GET /v1/health HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 403", 0), 0u) << "no Host at all";
  for (const char* host : {"127.0.0.1:1", "localhost:8080", "[::1]", "PAY.example.com"}) {
    EXPECT_EQ(request(s.port(), std::string("GET /v1/health HTTP/1.1\r\nHost: ") + host + "\r\n\r\n")
                  .rfind("HTTP/1.1 200", 0),
              0u)
        << host;
  }
}

TEST(HttpServer, EightSlowClientsDoNotStallOthersAndAreCutAtTheDeadline) {
  ServerLimits limits;
  limits.request_deadline = milliseconds(1500);
  Running s(limits);
  // Slowloris: 8 connections that send a header line every 200 ms and never finish their heads
  // (plain httplib: 8 threads, each held as long as a line comes within its 5 s read timeout).
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(connect_to(s.port()));
    send_all(slow.back(), "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  }
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    for (int round = 0; !stop && round < 40; ++round) {
      for (int fd : slow) ::send(fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  std::this_thread::sleep_for(milliseconds(300));
  const auto t0 = Clock::now();
  const std::string health =
      request(s.port(), "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", milliseconds(5000));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
  EXPECT_LT(took.count(), 1000) << "/v1/health took " << took.count() << " ms behind 8 slow clients";
  // Each slow connection is closed once its request's deadline passed, though it kept sending.
  for (int fd : slow) EXPECT_TRUE(closed_within(fd, milliseconds(4000))) << "a slow connection is still open";
  stop = true;
  drip.join();
  for (int fd : slow) ::close(fd);
}

TEST(HttpServer, OneClientHoldsAtMostItsShareOfConnections) {
  ServerLimits limits;
  limits.max_connections_per_client = 3;
  Running s(limits);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connect_to(s.port()));
    send_all(held.back(), "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  }
  std::this_thread::sleep_for(milliseconds(200));
  const std::string fourth = request(s.port(), "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(fourth.rfind("HTTP/1.1 503", 0), 0u) << fourth;
  EXPECT_NE(fourth.find("too many connections"), std::string::npos) << fourth;
  for (int fd : held) ::close(fd);
}

}  // namespace
}  // namespace bucketpay::http
