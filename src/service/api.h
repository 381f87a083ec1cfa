// The service's operations, free of HTTP: each takes a request struct and the caller's wallet (from
// its token) and returns a response struct or a Status. The HTTP layer (service.cpp) only parses
// into these structs (codec.h) and writes them out as JSON.
//
// Wallet isolation lives here: a note, job or precompute of another wallet is kNotFound, with the
// same message as one that does not exist.
//
// Thread safety: Api's methods may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/prover.h"
#include "bucketpay/service.h"
#include "bucketpay/store.h"
#include "service/job_runner.h"
#include "service/metrics.h"

namespace bucketpay::service {

inline constexpr std::string_view kApiVersion = "v1";
inline constexpr std::string_view kProtocolVersion = "v2";

// POST /v1/jobs
struct CreateJobRequest {
  JobMode mode = JobMode::kInventory;
  std::vector<std::int64_t> note_ids;  // inventory: these notes...
  bool all = false;                    // ...or every on-chain note of the wallet
  std::int64_t note_id = 0;            // seed: the note
  std::vector<Cents> buckets;          // seed: empty means all 17
};
struct CreateJobResponse {
  std::string job;
  std::size_t total = 0;  // proofs asked for
};

// GET /v1/payments/plan
struct PlanRequest {
  std::string amount;  // dollars, parse_amount's rules
};
struct PlannedNote {
  std::int64_t note_id = 0;
  Cents value = 0;
  Precompute precompute;  // its ready spend proof (it binds the note's auth address, no recipient)
};
struct PlanResponse {
  Cents amount = 0;
  std::vector<PlannedNote> notes;  // largest first
};

// GET /v1/dashboard
struct DenominationRow {
  Cents value = 0;
  std::size_t notes = 0;  // on chain
  std::size_t ready = 0;  // of which with at least one spend precompute
};
struct DashboardResponse {
  std::string wallet;
  std::vector<DenominationRow> inventory;  // smallest first
  std::size_t notes_on_chain = 0;
  std::size_t ready_precomputes = 0;  // on-chain notes with a ready spend precompute
  Cents ready_cents = 0;              // value of the on-chain notes that have one
  std::vector<WorkerStats> workers;
  std::size_t workers_busy = 0;
  std::size_t queue_depth = 0;
  std::uint64_t proofs_ok = 0;
  std::uint64_t proofs_failed = 0;
  int throughput_bucket_seconds = 0;
  std::vector<std::uint64_t> throughput;  // proofs per bucket, oldest first
  std::vector<JobRecord> jobs;            // the wallet's recent jobs, newest first
};

struct HealthResponse {
  std::string version;
  std::int64_t uptime_s = 0;
  int workers = 0;
};

class Api {
 public:
  // The notes it reads and plans with, the precomputes that pay (NoteStore, ProofStore).
  Api(NoteStore& notes, ProofStore& proofs, ProverPool& pool, JobRunner& runner, Metrics& metrics,
      const ServiceOptions& options);

  Result<CreateJobResponse> create_job(const std::string& wallet, const CreateJobRequest& request);
  Result<JobRecord> get_job(const std::string& wallet, const std::string& id);
  Result<PlanResponse> plan(const std::string& wallet, const PlanRequest& request);
  [[nodiscard]] std::vector<WorkerStats> workers() const;
  Result<DashboardResponse> dashboard(const std::string& wallet);
  [[nodiscard]] HealthResponse health() const;
  [[nodiscard]] Gauges gauges() const;

 private:
  // The wallet's on-chain note `id`, or kNotFound / kFailedPrecondition.
  Result<StoredNote> on_chain_note(const std::string& wallet, std::int64_t id);

  NoteStore& notes_;
  ProofStore& proofs_;
  ProverPool& pool_;
  JobRunner& runner_;
  Metrics& metrics_;
  ServiceOptions options_;
  std::int64_t started_ms_ = 0;
};

}  // namespace bucketpay::service
