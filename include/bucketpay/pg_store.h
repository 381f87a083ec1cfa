// PgStore: the Store on PostgreSQL, with a job queue for a fleet of provers on many machines.
//
// Every Store method is the SQLite store's own code (src/store/sql_store.h) over a PostgreSQL
// connection: the same tables, the same errors, the same vault (salt, params and sealed check value
// in the meta table) and the same associated data for sealed columns, so a value sealed by one
// backend opens in the other. API tokens (TokenStore) are rows of the database like everything
// else: nothing is written to local files. The schema is versioned in the meta table (key
// 'schema_version'); open migrates it under an advisory lock (several processes may open the same
// database at once) and refuses a newer one.
//
// Durability: a method that returns OK has committed (PostgreSQL's default synchronous_commit: the
// commit record is flushed to the server's WAL). Each method is one transaction.
//
// Thread safety: a PgStore may be used from any number of threads at once. It keeps a pool of up to
// PgOptions::max_connections connections: calls run in parallel, each on a connection of its own,
// and a call waits for a free connection (up to StoreOptions::busy_timeout_ms, then kUnavailable).
// Any number of processes may open the same database: all coordination is in the database (row
// locks, SELECT ... FOR UPDATE SKIP LOCKED), never in this process.
//
// Errors: as in store.h. In addition, kUnavailable when the server cannot be reached (within
// PgOptions::connect_timeout: a host that never answers is given up on, not waited for) or a
// connection breaks (the call did not commit, unless the break came during COMMIT itself, in
// which case kUnavailable says so: the outcome is unknown), or when a row lock was not granted
// within busy_timeout_ms (lock_timeout).
//
// ---- The fleet queue (LeasedJobQueue, PostgreSQL's own role; Store's claim_next_job keeps working).
//
// A fleet worker claims a job with a lease: claim_job_with_lease() takes the oldest pending job not
// locked by another claimer (SKIP LOCKED: claimers never wait for each other), marks it running for
// `worker_id` and sets its lease to expire `lease` from now. Lease times are the database server's
// clock (now()), never a worker's, so workers' clocks may disagree. While it proves, the worker
// calls heartbeat() well within the lease (e.g. every lease/3). Someone (any worker before it
// claims, or a supervisor) calls reclaim_expired() periodically: a running job whose lease ran out
// goes back to pending (tries kept), or to failed once it has been claimed kMaxLeaseTries times.
//
// Exactly-once completion: complete_leased_job(job_id, worker_id, precompute) stores the precompute only
// while the job is running with `worker_id` as its lease owner (an expired lease that nobody has
// taken over still counts: the work is not wasted). A job already done reports kAlreadyExists and
// changes nothing, whoever completed it (a second completion is a no-op, never a second row); a job
// whose lease another worker now holds, or that went back to pending, reports kFailedPrecondition
// (the lease was lost: drop the result). The precompute's key is unique in the table as well, so no
// interleaving can store two.
//
// Jobs claimed by Store::claim_next_job have no lease (nor owner): reclaim_expired() ignores them,
// and they are completed by ProofStore::complete_job as in the SQLite store. reset_running_jobs() resets
// every running job, leased or not: never call it while workers of any process run.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bucketpay/status.h"
#include "bucketpay/store.h"

namespace bucketpay {

// A job handed to a fleet worker by claim_job_with_lease().
struct LeasedJob {
  Job job;                            // running, tries incremented (job.worker is not used: -1)
  std::string worker_id;              // the lease owner
  std::int64_t lease_expires_ms = 0;  // Unix time in ms, by the database server's clock

  friend bool operator==(const LeasedJob&, const LeasedJob&) = default;
};

// What reclaim_expired() did.
struct ReclaimCounts {
  std::int64_t requeued = 0;  // back to pending for another worker
  std::int64_t failed = 0;    // out of tries: failed for good

  friend bool operator==(const ReclaimCounts&, const ReclaimCounts&) = default;
};

// The fleet's side of the job queue: leased claims, heartbeats, reclaiming expired leases and
// lease-fenced completion. Jobs are enqueued and read through ProofStore.
class LeasedJobQueue {
 public:
  virtual ~LeasedJobQueue() = default;

  // A job whose lease runs out after this many claims in all is failed, not requeued.
  static constexpr int kMaxLeaseTries = 3;

  // The oldest pending job that no other claimer holds locked, now running for `worker_id` (not
  // empty) with tries incremented and lease_expires = now() + lease (lease > 0); nullopt when none
  // is pending. A job whose spec cannot be opened (kCorruption) is failed for good, as in
  // ProofStore::claim_next_job.
  virtual Result<std::optional<LeasedJob>> claim_job_with_lease(std::string_view worker_id,
                                                                std::chrono::milliseconds lease) = 0;
  // Extends the lease to now() + lease, only while the job is running with `worker_id` as owner.
  // Returns the new expiry (Unix ms). kNotFound: no such job; kFailedPrecondition: the lease was
  // lost (reclaimed, taken over, or the job is no longer running): stop working on it.
  virtual Result<std::int64_t> heartbeat(std::int64_t job_id, std::string_view worker_id,
                                         std::chrono::milliseconds lease) = 0;
  // Running jobs whose lease expired: back to pending (owner cleared, tries kept), or failed with
  // an error naming the lease when tries >= kMaxLeaseTries. One transaction; safe to call from many
  // workers at once (each expired job is reclaimed once).
  virtual Result<ReclaimCounts> reclaim_expired() = 0;
  // Exactly-once completion by the lease owner (see the header comment): the precompute and the
  // job's done state in one transaction. kAlreadyExists: the job is done already (nothing
  // changed); kFailedPrecondition: `worker_id` does not hold the lease; kNotFound: no such job;
  // kInvalidArgument: precompute.key is neither empty nor the job's key.
  virtual Result<std::int64_t> complete_leased_job(std::int64_t job_id, std::string_view worker_id,
                                                   const Precompute& precompute) = 0;
  // Records the lease owner's failure: back to pending (lease cleared) or failed when `permanent`.
  // kFailedPrecondition when `worker_id` does not hold the lease.
  virtual Status fail_leased_job(std::int64_t job_id, std::string_view worker_id, std::string_view error,
                                 bool permanent) = 0;
  // The lease owner of a running leased job, or nullopt (not running, or claimed without a lease).
  virtual Result<std::optional<std::string>> lease_owner(std::int64_t job_id) = 0;
};

// The Store on PostgreSQL, with the fleet's queue. (Store is a virtual base: the implementation
// shares it with the SQL store it is made of.)
class PgStore : public virtual Store, public LeasedJobQueue {};

struct PgOptions {
  // The most connections the store opens (at least 1). One is opened by open_pg_store; the rest
  // as concurrent calls need them.
  int max_connections = 4;
  // Seconds to wait for the server when connecting (libpq's connect_timeout) before kUnavailable.
  // A connect_timeout in the URL itself takes precedence. At least 2 (libpq's minimum).
  int connect_timeout_s = 10;
};

// Connects to `url` (a libpq URI or key=value string, e.g. postgresql://user@127.0.0.1:5432/db),
// creates or migrates the schema, and sets up the vault as open_sqlite_store does (a wrong
// passphrase: kInvalidArgument; a store with a vault opened without one: kFailedPrecondition).
// kUnavailable when the server cannot be reached; kFailedPrecondition when the database's schema
// is newer than this build knows.
Result<std::unique_ptr<PgStore>> open_pg_store(const std::string& url, const StoreOptions& options = {},
                                               const PgOptions& pg = {});

}  // namespace bucketpay
