// The HTTP/JSON service (`bucketpay serve`): precompute jobs, payment plans, worker statistics,
// Prometheus metrics and a dashboard page, over one store and one proving pool.
//
// The API is documented with real requests and responses in docs/api.md. In short (scope: what a
// token needs, see below):
//   GET  /v1/health                       no auth: ok and versions
//   GET  /metrics                         Prometheus text; no auth unless ServiceOptions::metrics_token
//   GET  /                                the dashboard page (static; it authenticates its own calls)
//   POST /v1/jobs                         spend: create a precompute job (inventory or seed mode) -> 202
//   GET  /v1/jobs/{id}                    read: a job's state and progress
//   GET  /v1/payments/plan?amount=        read: the notes (with ready spend proofs) that make an amount
//   GET  /v1/workers                      read: the proving pool's worker statistics
//   GET  /v1/dashboard                    read: the dashboard's figures
//   POST /v1/x402/pay                     spend: x402 bucketpay-exact: pay requirements
//                                         (src/service/x402_pay.h; only with ServiceOptions::wallet_store)
// Every /v1 endpoint but health needs `Authorization: Bearer <token>`. A token (the store's
// TokenStore role, `bucketpay token create`) is bound to one wallet: it sees and proves only that wallet's notes,
// precomputes and jobs; anything else answers as if it did not exist (404). It has a scope: read
// (the GETs: what a dashboard needs) or spend (read, and what proves, reserves, signs or pays). A
// read token on a spend endpoint: 403 {"error": "this needs a token of scope spend; ..."}, checked
// before the request's body is looked at. /metrics takes no wallet token: it has its own secret.
//
// Errors: every answer is JSON. A failure is a 4xx (bad input, unknown thing, unauthenticated, a
// body above ServiceOptions::max_body_bytes: 413 before it is read, a known path with another
// method: 405, a Host header not ours: 403) or a 5xx (store or prover failure), always with
// {"error": "<message>"}. No exception crosses a handler: the HTTP boundary converts them to 500.
// Slow clients are cut at a per-request deadline (bucketpay/http_server.h, which also limits each
// client's connections).
//
// Threads: the HTTP server runs a small thread pool; precompute jobs run one at a time, in order, on
// one background thread owned by the Service (a std::jthread, stopped through its stop token, which
// cancels the proofs of the running job that have not started). Jobs live in memory: a restart
// forgets them (their proofs, once done, are in the store).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/engine.h"
#include "bucketpay/prover.h"
#include "bucketpay/status.h"
#include "bucketpay/store.h"

namespace bucketpay {

// The roles of the store the service uses: the engine's (its jobs prove and read notes and
// precomputes) and the API tokens that authenticate requests. A whole Store converts to them, and
// then (`whole`) the dashboard also shows what other processes keep there: the wallet's balance and
// policy, payments, sync height, node, keeper, and every process's proof jobs.
struct ServiceStores {
  EngineStores engine;
  TokenStore& tokens;
  Store* whole = nullptr;

  ServiceStores(EngineStores e, TokenStore& t) : engine(e), tokens(t) {}
  ServiceStores(Store& store)  // NOLINT(google-explicit-constructor)
      : engine(store), tokens(store), whole(&store) {}
};

struct ServiceOptions {
  std::string host = "127.0.0.1";                       // loopback by default: put a TLS proxy in front to expose it
  int port = 8080;                                      // 0: any free port (see Service::port())
  std::size_t max_body_bytes = std::size_t{64} * 1024;  // larger request bodies: 413, before the body is read
  // Host header names answered besides IP addresses and localhost (any other Host: 403, against
  // DNS rebinding); add the name a proxy forwards as Host. Details: bucketpay/http_server.h.
  std::vector<std::string> allowed_hosts;
  // When set, GET /metrics needs `Authorization: Bearer <metrics_token>` (a separate secret, so a
  // scraper cannot reach the wallet API). Unset: /metrics is open (it shows only counts).
  std::optional<std::string> metrics_token;
  std::size_t max_queued_jobs = 64;  // more waiting jobs: 429
  std::size_t max_notes_per_job = 100'000;
  // The store whose wallets pay x402 requirements (POST /v1/x402/pay, docs/x402.md); null: the
  // endpoint answers 404. It outlives the Service.
  Store* wallet_store = nullptr;
};

class Service {
 public:
  // Binds, then serves on a thread of its own; returns once requests are accepted.
  // The stores and `pool` must outlive the Service. kUnavailable when the port cannot be bound
  // (another server on it included: "cannot listen on H:P: the port is in use ...").
  static Result<std::unique_ptr<Service>> start(ServiceStores stores, ProverPool& pool, const ServiceOptions& options);
  // Stops accepting requests, cancels the running job's unstarted proofs, joins every thread.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  [[nodiscard]] int port() const;
  [[nodiscard]] const std::string& host() const;

  struct Impl;

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `bucketpay serve`: starts the service, writes "listening on http://HOST:PORT" to `out`, and
// serves until SIGINT or SIGTERM, then stops cleanly.
Status serve_until_signal(ServiceStores stores, ProverPool& pool, const ServiceOptions& options, std::ostream& out);

// The workers' statistics as GET /v1/workers answers them (an array of objects with worker,
// urgent, threads, proofs, errors, restarts, total_ms, mean_ms), for a CLI's --json output.
nlohmann::json worker_stats_json(const std::vector<WorkerStats>& stats);

}  // namespace bucketpay
