// `bucketpay worker`: one machine's share of a proving fleet on a PostgreSQL store.
//
// Each loop (WorkerOptions::loops of them, sharing one ProverPool) repeats: reclaim expired leases,
// claim the oldest pending job with a lease, prove it with the engine's own request building
// (Engine::prove_job), heartbeat the lease from a second thread while proving, then complete the
// job exactly once (a job done by someone else, or a lease lost, is logged and dropped) or fail it.
// SIGTERM / SIGINT: the loops finish the job in hand and stop. Progress lines go to `err` (job ids
// and states only, never specs or keys).
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include "bucketpay/engine.h"
#include "bucketpay/pg_store.h"
#include "bucketpay/prover.h"

namespace bucketpay::cli {

struct WorkerOptions {
  std::string worker_id;  // this process's lease owner prefix; empty: hostname:pid
  int loops = 1;          // jobs in hand at once
  std::chrono::milliseconds lease{30000};
  std::chrono::milliseconds heartbeat{5000};
  // Exit after this long with no pending or running job in the store; nullopt: run until a signal.
  std::optional<std::chrono::milliseconds> idle_exit;
  std::chrono::milliseconds poll{500};  // wait between claims when there is nothing to claim
};

// The default worker id: hostname:pid.
std::string default_worker_id();

// Runs the loops until a signal or idle exit; returns the exit code (0, or 1 after a fatal error).
// Jobs are claimed, heartbeaten and completed through `queue`, proved by an engine over `stores`.
int run_worker(LeasedJobQueue& queue, EngineStores stores, ProverPool& pool, const WorkerOptions& options,
               std::ostream& err);

}  // namespace bucketpay::cli
