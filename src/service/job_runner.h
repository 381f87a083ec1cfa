// The service's precompute jobs: a FIFO queue proved one job at a time by the Engine on a thread the
// runner owns (a std::jthread; its stop token cancels the running job's unstarted proofs).
//
// Jobs are checked before they are queued (api.cpp): the runner proves what it is given. Their
// records live in memory (the last kMaxRecords); the proofs they make are in the store.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/engine.h"
#include "bucketpay/field.h"
#include "bucketpay/prover.h"
#include "bucketpay/status.h"
#include "bucketpay/store.h"
#include "metrics.h"

namespace bucketpay::service {

enum class JobMode : std::uint8_t { kInventory, kSeed };

// A checked job: the notes are the wallet's and on chain.
struct JobSpec {
  JobMode mode = JobMode::kInventory;
  std::string wallet;
  std::vector<std::int64_t> note_ids;  // inventory mode
  std::int64_t note_id = 0;            // seed mode
  std::vector<Cents> buckets;          // seed mode: each <= the note's value
};

struct JobRecord {
  std::string id;
  JobSpec spec;
  std::string state = "queued";  // queued, running, done, failed, cancelled
  std::size_t total = 0;         // proofs asked for
  std::size_t done = 0;          // finished: proved, cached or failed
  std::size_t proved = 0;        // live while running; cached and failed are known when it ends
  std::size_t cached = 0;
  std::size_t failed = 0;
  std::vector<std::string> errors;  // one per failed proof (at most kMaxErrors)
  std::string error;                // why the whole job failed, if it did
  std::int64_t created_ms = 0;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;
};

class JobRunner {
 public:
  static constexpr std::size_t kMaxRecords = 1000;
  static constexpr std::size_t kMaxErrors = 100;

  // The stores and `pool` outlive the runner.
  JobRunner(EngineStores stores, ProverPool& pool, Metrics& metrics, std::size_t max_queued);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Queues a job; returns its id (also its batch name in the store). kResourceExhausted when
  // max_queued jobs are already waiting.
  Result<std::string> submit(JobSpec spec);
  [[nodiscard]] std::optional<JobRecord> get(std::string_view id) const;
  // The wallet's most recent jobs, newest first.
  [[nodiscard]] std::vector<JobRecord> recent(std::string_view wallet, std::size_t limit) const;
  [[nodiscard]] std::size_t queued() const;
  // An estimate: while a job runs, min(workers, its unfinished proofs); else 0.
  [[nodiscard]] std::size_t workers_busy() const;

 private:
  void run(const std::stop_token& stop);
  void execute(const std::string& id, const JobSpec& spec, const std::stop_token& stop);
  // Feeds the proving-time histogram from the pool's statistics since the last call; returns the
  // pool's proofs so far.
  std::uint64_t sample_pool_stats();

  EngineStores stores_;
  ProverPool& pool_;
  Metrics& metrics_;
  const std::size_t max_queued_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::string> queue_;             // ids waiting, oldest first
  std::map<std::string, JobRecord> records_;  // by id
  std::deque<std::string> record_order_;      // ids, oldest first, for eviction
  std::string running_;                       // the running job's id, or empty

  std::mutex stats_mu_;
  std::vector<WorkerStats> last_stats_;

  std::jthread thread_;  // last: starts after everything above exists, stops first
};

}  // namespace bucketpay::service
