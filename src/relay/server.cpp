// The relayer's HTTP boundary: routes, status codes, JSON answers, and the monitor thread.
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <thread>

#include "bucketpay/http_responses.h"
#include "bucketpay/relay.h"
#include "bucketpay/x402.h"

namespace bucketpay::relay {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kQuoteRoute = "/v1/relay/quote";
constexpr std::string_view kRelayRoute = "/v1/relay";

void send_json(httplib::Response& res, int status, const ordered_json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

ordered_json error_json(const std::string& message) { return ordered_json{{"error", message}}; }

int http_code(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
      return 503;
    default:
      return 500;
  }
}

// The entry as eth::RelayStatus, the one codec the wallet's client reads.
void send_status(httplib::Response& res, int status, const RelayEntry& e) {
  Result<eth::RelayStatus> st = public_status(e);
  if (!st.ok()) {
    send_json(res, 500, error_json(st.status().message()));
    return;
  }
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(eth::encode_status(*st), "application/json");
}

std::string_view route_label(const httplib::Request& req, const X402Facilitator* x402) {
  static constexpr std::string_view kRoutes[] = {"/metrics", "/v1/health", kQuoteRoute, kRelayRoute};
  for (std::string_view r : kRoutes) {
    if (req.path == r) return r;
  }
  if (x402 != nullptr && req.path.rfind(x402->options().base_path + "/", 0) == 0) {
    static constexpr std::string_view kX402Routes[] = {"x402/supported", "x402/v1/relay", "x402/v1/relay/quote",
                                                       "x402/verify",    "x402/settle",   "x402/release"};
    const std::string rest = req.path.substr(x402->options().base_path.size() + 1);
    for (std::string_view r : kX402Routes) {
      if (rest == r.substr(5)) return r;
    }
    if (rest.rfind("v1/relay/", 0) == 0) return "x402/v1/relay/{digest}";
  }
  if (req.path.rfind("/v1/relay/", 0) == 0) return "/v1/relay/{digest}";
  return "other";
}

// "notes" of a quote: 1 to 30 as decimal digits.
Result<std::size_t> parse_notes(const std::string& text) {
  if (text.empty() || text.size() > 4 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::invalid_argument("notes must be a number of notes, e.g. notes=3");
  }
  return static_cast<std::size_t>(std::stoul(text));
}

}  // namespace

struct RelayServer::Impl {
  Impl(Relayer& r, const ServerOptions& o) : relayer(r), options(o) {}
  // The listener and the monitor are joined before the server goes (members in reverse).
  ~Impl() {
    server.stop();
    if (listener.joinable()) listener.join();
    monitor.request_stop();
    wake.notify_all();
    if (monitor.joinable()) monitor.join();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Relayer& relayer;
  ServerOptions options;
  httplib::Server server;
  int port = 0;
  std::thread listener;
  std::jthread monitor;
  std::mutex wake_mu;
  std::condition_variable_any wake;

  void run_monitor(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      (void)relayer.poll();  // failures are the relayer's log lines; the next pass tries again
      std::unique_lock lock(wake_mu);
      wake.wait_for(lock, stop, options.poll_interval, [] { return false; });
    }
  }

  void quote(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("kind")) return send_json(res, 400, error_json("kind is required: spend_batch or split"));
    Result<eth::BundleKind> kind = eth::parse_bundle_kind(req.get_param_value("kind"));
    if (!kind.ok()) return send_json(res, 400, error_json(kind.status().message()));
    std::size_t notes = 1;
    if (req.has_param("notes")) {
      Result<std::size_t> n = parse_notes(req.get_param_value("notes"));
      if (!n.ok()) return send_json(res, 400, error_json(n.status().message()));
      notes = *n;
    } else if (*kind == eth::BundleKind::kSpendBatch) {
      return send_json(res, 400, error_json("notes is required for a spend_batch: notes=1..30"));
    }
    Result<eth::RelayQuote> q = relayer.quote(*kind, notes);
    if (!q.ok()) return send_json(res, http_code(q.status()), error_json(q.status().message()));
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_content(eth::encode_quote(*q), "application/json");
  }

  void post(const httplib::Request& req, httplib::Response& res) {
    const std::string type = req.get_header_value("Content-Type");
    if (!type.empty() && type.rfind("application/json", 0) != 0) {
      return send_json(res, 415, error_json("unsupported content type: send application/json"));
    }
    const Submission s = relayer.submit(req.body);
    switch (s.outcome) {
      case Submission::Outcome::kSubmitted:
        res.set_header("Location", "/v1/relay/" + s.entry->digest);
        return send_status(res, 202, *s.entry);
      case Submission::Outcome::kKnown:
        res.set_header("Location", "/v1/relay/" + s.entry->digest);
        return send_status(res, 200, *s.entry);
      case Submission::Outcome::kRefused:
        return send_json(res, refusal_http_status(s.refusal),
                         ordered_json{{"error", s.status.message()}, {"reason", refusal_name(s.refusal)}});
      case Submission::Outcome::kError: {
        ordered_json body = error_json(s.status.message());
        if (s.entry) {
          body["digest"] = s.entry->digest;
          Result<eth::RelayStatus> st = public_status(*s.entry);
          if (st.ok()) body["state"] = eth::relay_state_name(st->state);
        }
        const int code = s.status.code() == StatusCode::kInvalidArgument ? 500 : http_code(s.status);
        return send_json(res, code, body);
      }
    }
  }

  void status(const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<RelayEntry>> e = relayer.status(req.matches[1].str());
    if (!e.ok()) return send_json(res, http_code(e.status()), error_json(e.status().message()));
    if (!*e) return send_json(res, 404, error_json("no bundle with this digest"));
    send_status(res, 200, **e);
  }

  void x402_routes(X402Facilitator& f) {
    const std::string base = f.options().base_path;
    auto reply = [](httplib::Response& res, const X402Answer& a) {
      res.status = a.status;
      res.set_header("Cache-Control", "no-store");
      res.set_content(a.body, "application/json");
    };
    server.Get(base + "/supported",
               [&f, reply](const httplib::Request&, httplib::Response& res) { reply(res, f.supported()); });
    server.Get(base + std::string(kQuoteRoute),
               [this](const httplib::Request& req, httplib::Response& res) { quote(req, res); });
    server.Get(base + R"(/v1/relay/([^/]+))", [&f, reply](const httplib::Request& req, httplib::Response& res) {
      reply(res, f.stage_status(req.matches[1].str()));
    });
    const std::pair<const char*, X402Answer (X402Facilitator::*)(std::string_view)> posts[] = {
        {"/v1/relay", &X402Facilitator::stage},
        {"/verify", &X402Facilitator::verify},
        {"/settle", &X402Facilitator::settle},
        {"/release", &X402Facilitator::release}};
    for (const auto& [path, method] : posts) {
      server.Post(base + path, [&f, reply, m = method](const httplib::Request& req, httplib::Response& res) {
        const std::string type = req.get_header_value("Content-Type");
        if (!type.empty() && type.rfind("application/json", 0) != 0) {
          return send_json(res, 415, error_json("unsupported content type: send application/json"));
        }
        reply(res, (f.*m)(req.body));
      });
    }
  }

  void routes() {
    server.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
      const Status st = relayer.health();
      ordered_json body{{"ok", st.is_ok()},
                        {"relayer", relayer.address().to_checksum()},
                        {"chain_id", relayer.config().chain_id},
                        {"pool", relayer.config().pool.to_checksum()}};
      if (!st.is_ok()) body["error"] = st.message();
      send_json(res, st.is_ok() ? 200 : 503, body);
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(relayer.metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
    });
    // Registered before /v1/relay/{digest}, which would match it too.
    server.Get(std::string(kQuoteRoute),
               [this](const httplib::Request& req, httplib::Response& res) { quote(req, res); });
    server.Post(std::string(kRelayRoute),
                [this](const httplib::Request& req, httplib::Response& res) { post(req, res); });
    server.Get(R"(/v1/relay/([^/]+))",
               [this](const httplib::Request& req, httplib::Response& res) { status(req, res); });

    if (options.x402 != nullptr) x402_routes(*options.x402);

    server.set_tcp_nodelay(true);
    server.set_error_handler(
        httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
          if (res.status == 413) relayer.count_too_large();
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          ordered_json body = error_json(http::status_message(res.status, options.max_body_bytes));
          if (res.status == 413) body["reason"] = refusal_name(Refusal::kTooLarge);
          res.set_content(body.dump(), "application/json");
          return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, const std::exception_ptr& ep) {
      send_json(res, 500, error_json("internal error: " + http::exception_message(ep)));
    });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      relayer.count_request(route_label(req, options.x402), res.status);
    });
    server.set_payload_max_length(options.max_body_bytes);
  }
};

RelayServer::RelayServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RelayServer::~RelayServer() = default;

int RelayServer::port() const { return impl_->port; }

Result<std::unique_ptr<RelayServer>> RelayServer::start(Relayer& relayer, const ServerOptions& options) {
  if (options.port < 0 || options.port > 65535) return Status::invalid_argument("port must be 0..65535");
  auto impl = std::make_unique<Impl>(relayer, options);
  impl->routes();
  if (options.port == 0) {
    impl->port = impl->server.bind_to_any_port(options.host);
    if (impl->port < 0) return Status::unavailable("cannot bind " + options.host + " on any port");
  } else {
    if (!impl->server.bind_to_port(options.host, options.port)) {
      return Status::unavailable("cannot bind " + options.host + ":" + std::to_string(options.port) +
                                 " (in use, or not an address of this machine)");
    }
    impl->port = options.port;
  }
  if (options.x402 != nullptr && options.x402->options().public_url.empty()) {
    options.x402->set_public_url("http://" + options.host + ":" + std::to_string(impl->port));
  }
  Impl* raw = impl.get();
  impl->listener = std::thread([raw] { raw->server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !impl->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!impl->server.is_running()) return Status::unavailable("the HTTP server did not start");
  impl->monitor = std::jthread([raw](const std::stop_token& stop) { raw->run_monitor(stop); });
  return std::unique_ptr<RelayServer>(new RelayServer(std::move(impl)));
}

namespace {
std::atomic<bool> g_stop_requested{false};
extern "C" void on_relay_stop_signal(int) { g_stop_requested.store(true); }
}  // namespace

Status serve_until_signal(Relayer& relayer, const ServerOptions& options, std::ostream& out) {
  static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");
  g_stop_requested.store(false);
  struct sigaction action {};
  action.sa_handler = on_relay_stop_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {};
  struct sigaction old_term {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  Status result = Status::ok();
  {
    auto server = RelayServer::start(relayer, options);
    if (!server.ok()) {
      result = server.status();
    } else {
      out << "relaying for " << relayer.address().to_checksum() << " on http://" << options.host << ":"
          << (*server)->port() << std::endl;
      if (options.x402 != nullptr) {
        out << "x402 facilitator on http://" << options.host << ":" << (*server)->port()
            << options.x402->options().base_path << std::endl;
      }
      while (!g_stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      out << "stopping" << std::endl;
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return result;
}

}  // namespace bucketpay::relay
