// The HTTP boundary: routes, authentication, status codes, and the conversion of every failure
// (a Status, an exception, a body too large, an unknown path) into a JSON error.
#include "bucketpay/service.h"

#include <httplib.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <exception>
#include <thread>

#include "api.h"
#include "bucketpay/http_headers.h"
#include "bucketpay/http_responses.h"
#include "bucketpay/http_server.h"
#include "codec.h"
#include "dashboard_page.h"
#include "job_runner.h"
#include "metrics.h"
#include "x402_pay.h"

namespace bucketpay {
namespace {

using nlohmann::json;
using service::dump;
using service::error_json;

int http_code(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
    case StatusCode::kCancelled:
      return 503;
    default:
      return 500;
  }
}

// The route a request matched, as a bounded label for the metrics.
std::string_view route_label(const httplib::Request& req) {
  static constexpr std::string_view kRoutes[] = {
      "/", "/metrics", "/v1/health", "/v1/jobs", "/v1/payments/plan", "/v1/workers", "/v1/dashboard", "/v1/x402/pay"};
  for (std::string_view r : kRoutes) {
    if (req.path == r) return r;
  }
  if (req.path.rfind("/v1/jobs/", 0) == 0) return "/v1/jobs/{id}";
  return "other";
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const Status& s) {
  send_json(res, http_code(s.code()), error_json(s.message()));
}

http::ServerLimits server_limits(const ServiceOptions& o) {
  http::ServerLimits limits;
  limits.allowed_hosts = o.allowed_hosts;
  limits.max_body_bytes = o.max_body_bytes;
  return limits;
}

}  // namespace

struct Service::Impl {
  Impl(ServiceStores s, ProverPool& p, const ServiceOptions& o)
      : pool(p),
        tokens(s.tokens),
        options(o),
        runner(s.engine, p, metrics, o.max_queued_jobs),
        api(s.engine.notes, s.engine.proofs, p, runner, metrics, o, s.whole),
        server(server_limits(o)),
        x402(o.wallet_store != nullptr ? std::make_unique<service::X402Payer>(*o.wallet_store) : nullptr) {}
  // Members go in reverse: the listener thread (joined once the server stopped), the server, the
  // Api, then the JobRunner (cancels and joins the running job).
  ~Impl() { server.stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ProverPool& pool;
  TokenStore& tokens;
  ServiceOptions options;
  service::Metrics metrics;
  service::JobRunner runner;
  service::Api api;
  http::Server server;
  std::unique_ptr<service::X402Payer> x402;
  int port = 0;
  std::jthread listener;

  // What the request's bearer token grants, or an answer (401) already written.
  std::optional<TokenStore::TokenGrant> authenticate(const httplib::Request& req, httplib::Response& res) {
    const std::string header = req.get_header_value("Authorization");
    const std::optional<std::string_view> token = http::bearer_token(header);
    if (!token) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"bucketpay\"");
      send_json(res, 401, error_json("authentication required: send Authorization: Bearer <token>"));
      return std::nullopt;
    }
    auto grant = tokens.authenticate_token(*token);
    if (!grant.ok()) {
      if (grant.status().code() != StatusCode::kNotFound) {
        send_error(res, grant.status());
      } else {
        res.set_header("WWW-Authenticate", "Bearer realm=\"bucketpay\", error=\"invalid_token\"");
        send_json(res, 401, error_json("invalid token"));
      }
      return std::nullopt;
    }
    return *std::move(grant);
  }

  // Runs `handler` with the wallet of a request whose token has scope `needs` (spend includes
  // read); 401 without a valid token, 403 naming the scope for a read token on a spend endpoint.
  template <typename Handler>
  void authed(const httplib::Request& req, httplib::Response& res, TokenScope needs, Handler&& handler) {
    auto grant = authenticate(req, res);
    if (!grant) return;
    if (needs == TokenScope::kSpend && grant->scope != TokenScope::kSpend) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"bucketpay\", error=\"insufficient_scope\", scope=\"spend\"");
      send_json(res, 403,
                error_json("this needs a token of scope spend; this token has scope " +
                           std::string(token_scope_name(grant->scope)) +
                           " (make one with `bucketpay token create --scope spend`)"));
      return;
    }
    handler(grant->wallet);
  }

  void routes() {
    // For 405: every path's methods (a path not listed here is 404).
    server.methods({{"/", {"GET"}},
                    {"/v1/health", {"GET"}},
                    {"/metrics", {"GET"}},
                    {"/v1/jobs", {"POST"}},
                    {R"(/v1/jobs/([^/]+))", {"GET"}},
                    {"/v1/payments/plan", {"GET"}},
                    {"/v1/workers", {"GET"}},
                    {"/v1/dashboard", {"GET"}},
                    {"/v1/x402/pay", {"POST"}}});
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      // The page is self-contained: it may load nothing from anywhere, and talk only to us.
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                     "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_content(std::string(service::dashboard_page()), "text/html; charset=utf-8");
    });
    server.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, service::to_json(api.health()));
    });
    server.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (options.metrics_token) {
        const std::string expected = "Bearer " + *options.metrics_token;
        const std::string got = req.get_header_value("Authorization");
        // Constant time in the content (the length is not secret).
        if (got.size() != expected.size() || sodium_memcmp(got.data(), expected.data(), got.size()) != 0) {
          res.set_header("WWW-Authenticate", "Bearer realm=\"bucketpay-metrics\"");
          send_json(res, 401, error_json("metrics need Authorization: Bearer <metrics token>"));
          return;
        }
      }
      res.set_content(metrics.render(api.gauges()), "text/plain; version=0.0.4; charset=utf-8");
    });
    server.Post("/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
      authed(req, res, TokenScope::kSpend, [&](const std::string& wallet) {
        const std::string type = req.get_header_value("Content-Type");
        if (!type.empty() && !http::is_json_content_type(type)) {
          send_json(res, 415, error_json(http::status_message(415, 0)));
          return;
        }
        auto request = service::parse_create_job(req.body);
        if (!request.ok()) return send_error(res, request.status());
        auto created = api.create_job(wallet, *request);
        if (!created.ok()) return send_error(res, created.status());
        res.set_header("Location", "/v1/jobs/" + created->job);
        send_json(res, 202, service::to_json(*created));
      });
    });
    server.Get(R"(/v1/jobs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      authed(req, res, TokenScope::kRead, [&](const std::string& wallet) {
        auto job = api.get_job(wallet, req.matches[1].str());
        if (!job.ok()) return send_error(res, job.status());
        send_json(res, 200, service::to_json(*job));
      });
    });
    server.Get("/v1/payments/plan", [this](const httplib::Request& req, httplib::Response& res) {
      authed(req, res, TokenScope::kRead, [&](const std::string& wallet) {
        auto request = service::parse_plan(req.params);
        if (!request.ok()) return send_error(res, request.status());
        auto plan = api.plan(wallet, *request);
        if (!plan.ok()) return send_error(res, plan.status());
        send_json(res, 200, service::to_json(*plan));
      });
    });
    server.Get("/v1/workers", [this](const httplib::Request& req, httplib::Response& res) {
      authed(req, res, TokenScope::kRead, [&](const std::string&) {
        send_json(res, 200,
                  json{{"workers", service::to_json(api.workers())},
                       {"threads_per_worker", pool.threads_per_worker()},
                       {"workers_busy", runner.workers_busy()},
                       {"queue_depth", runner.queued()}});
      });
    });
    server.Get("/v1/dashboard", [this](const httplib::Request& req, httplib::Response& res) {
      authed(req, res, TokenScope::kRead, [&](const std::string& wallet) {
        auto d = api.dashboard(wallet);
        if (!d.ok()) return send_error(res, d.status());
        send_json(res, 200, service::to_json(*d));
      });
    });

    server.Post("/v1/x402/pay", [this](const httplib::Request& req, httplib::Response& res) {
      authed(req, res, TokenScope::kSpend, [&](const std::string& wallet) {
        if (!x402) return send_json(res, 404, error_json("x402 payments are not enabled on this service"));
        const std::string type = req.get_header_value("Content-Type");
        if (!type.empty() && !http::is_json_content_type(type)) {
          send_json(res, 415, error_json(http::status_message(415, 0)));
          return;
        }
        const service::X402PayAnswer a = x402->pay(wallet, req.body);
        res.status = a.status;
        res.set_header("Cache-Control", "no-store");
        res.set_content(a.body, "application/json");
      });
    });

    // Small JSON answers on keep-alive connections: without TCP_NODELAY, Nagle's algorithm meeting
    // the client's delayed ACK stalled some answers by ~40 ms (p99 of the plan lookup).
    server.set_tcp_nodelay(true);

    // Answers without a body of their own (unknown path, body too large, unparsable request).
    server.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request&,
                                                                         httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      res.set_content(dump(error_json(http::status_message(res.status, options.max_body_bytes))), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }));
    // An exception is a bug; it must not take the process down or leave the client hanging.
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, const std::exception_ptr& ep) {
      send_json(res, 500, error_json("internal error: " + http::exception_message(ep)));
    });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      metrics.count_request(route_label(req), res.status);
    });
  }
};

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() = default;

int Service::port() const { return impl_->port; }
const std::string& Service::host() const { return impl_->options.host; }

Result<std::unique_ptr<Service>> Service::start(ServiceStores stores, ProverPool& pool, const ServiceOptions& options) {
  if (options.port < 0 || options.port > 65535) return Status::invalid_argument("port must be 0..65535");
  auto impl = std::make_unique<Impl>(stores, pool, options);
  impl->routes();
  auto port = impl->server.bind(options.host, options.port);
  if (!port.ok()) return port.status();
  impl->port = *port;
  Impl* raw = impl.get();
  impl->listener = std::jthread([raw] { raw->server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !impl->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!impl->server.is_running()) return Status::unavailable("the HTTP server did not start");
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

namespace {
std::atomic<bool> g_stop_requested{false};
extern "C" void on_stop_signal(int) { g_stop_requested.store(true); }
}  // namespace

Status serve_until_signal(ServiceStores stores, ProverPool& pool, const ServiceOptions& options, std::ostream& out) {
  static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");
  g_stop_requested.store(false);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {};
  struct sigaction old_term {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  Status result = Status::ok();
  {
    auto service = Service::start(stores, pool, options);
    if (!service.ok()) {
      result = service.status();
    } else {
      out << "listening on http://" << options.host << ":" << (*service)->port() << std::endl;
      while (!g_stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      out << "stopping" << std::endl;
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return result;
}

}  // namespace bucketpay
