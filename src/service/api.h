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
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/keeper_state.h"
#include "bucketpay/prover.h"
#include "bucketpay/service.h"
#include "bucketpay/store.h"
#include "job_runner.h"
#include "metrics.h"

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
// The wallet's figures that other processes keep in the store (a whole Store only).
struct WalletDenomination {
  Cents value = 0;
  std::uint32_t target = 0;  // the policy's
  std::uint32_t notes = 0;
  std::uint32_t ready = 0;
};
struct StoredWalletFigures {
  bool on_chain = false;  // a wallet on a chain (init --rpc-url); else only notes of a local tree
  Cents on_chain_cents = 0;
  Cents ready_cents = 0;
  Cents pending_cents = 0;
  Cents reserved_cents = 0;
  std::vector<WalletDenomination> denominations;  // the policy's, smallest first
  std::uint64_t synced_block = 0;
  std::optional<std::int64_t> synced_at_ms;
  // The wallet's node, asked for its head (at most every 5 s): none without a chain.
  bool node_ok = false;
  std::optional<std::uint64_t> node_head;
  std::string node_error;
  std::optional<KeeperState> keeper;
  std::string keeper_state;       // running, stopped, stale; empty when no keeper ever ran
  std::vector<Payment> payments;  // newest first, at most 10
  JobCounts jobs;                 // the wallet's proof jobs, every process's
  struct Batch {
    std::string batch;
    JobCounts counts;
    std::int64_t updated_ms = 0;  // its latest job change
  };
  std::vector<Batch> batches;  // the wallet's job batches, latest first, at most 10
};

struct DashboardResponse {
  std::optional<StoredWalletFigures> stored;  // with a whole Store
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
  // `whole`: the whole store, for the dashboard's StoredWalletFigures (may be null).
  Api(NoteStore& notes, ProofStore& proofs, ProverPool& pool, JobRunner& runner, Metrics& metrics,
      const ServiceOptions& options, Store* whole = nullptr);

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
  Result<StoredWalletFigures> stored_figures(const std::string& wallet);
  // The wallet's node: its head, or why not (cached for 5 s per URL).
  void ask_node(const std::string& url, StoredWalletFigures& f);

  NoteStore& notes_;
  ProofStore& proofs_;
  ProverPool& pool_;
  JobRunner& runner_;
  Metrics& metrics_;
  ServiceOptions options_;
  std::int64_t started_ms_ = 0;
  Store* whole_ = nullptr;
  struct NodeAnswer {
    std::int64_t asked_ms = 0;
    std::optional<std::uint64_t> head;
    std::string error;
  };
  std::mutex node_mu_;
  std::map<std::string, NodeAnswer> node_answers_;  // by URL
};

}  // namespace bucketpay::service
