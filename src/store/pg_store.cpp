// The PostgreSQL store: SqlStore over a pool of PostgreSQL connections, plus what is PostgreSQL's
// own: the leased job queue of a proving fleet (FOR UPDATE SKIP LOCKED, leases by the server's
// clock, heartbeats, reclaiming expired leases) and session advisory locks.
#include "bucketpay/pg_store.h"

#include <exception>
#include <thread>
#include <utility>

#include "pg_connection.h"
#include "sql_store.h"

namespace bucketpay {
namespace {

using sql::Connection;

// The database server's clock in Unix ms: one clock for every worker of a fleet.
#define BUCKETPAY_PG_NOW_MS "(extract(epoch from now()) * 1000)::bigint"

// A session holding an advisory lock; destroying it closes the session, which releases the lock.
class SessionLock final : public StoreLocks::Lock {
 public:
  explicit SessionLock(std::unique_ptr<sql::Connection> conn) : conn_(std::move(conn)) {}

 private:
  std::unique_ptr<sql::Connection> conn_;
};

class PgStoreImpl final : public SqlStore, public PgStore {
 public:
  PgStoreImpl(pg::PoolSettings settings, std::unique_ptr<sql::Database> db, std::optional<Vault> vault)
      : SqlStore(std::move(db), std::move(vault)), settings_(std::move(settings)) {}

  Result<std::unique_ptr<Lock>> lock(std::string_view name, std::chrono::milliseconds timeout) override;

  Result<std::optional<LeasedJob>> claim_job_with_lease(std::string_view worker_id,
                                                        std::chrono::milliseconds lease) override;
  Result<std::int64_t> heartbeat(std::int64_t job_id, std::string_view worker_id,
                                 std::chrono::milliseconds lease) override;
  Result<ReclaimCounts> reclaim_expired() override;
  Result<std::int64_t> complete_leased_job(std::int64_t job_id, std::string_view worker_id,
                                           const Precompute& precompute) override {
    return run<Result<std::int64_t>>("complete_job",
                                     [&](Connection& c) { return complete_in(c, job_id, worker_id, precompute); });
  }
  Status fail_leased_job(std::int64_t job_id, std::string_view worker_id, std::string_view error,
                         bool permanent) override {
    return run<Status>("fail_job", [&](Connection& c) { return fail_in(c, job_id, worker_id, error, permanent); });
  }
  Result<std::optional<std::string>> lease_owner(std::int64_t job_id) override;

 private:
  pg::PoolSettings settings_;  // for the connections that hold locks
};

}  // namespace

// ---- Locks.

Result<std::unique_ptr<StoreLocks::Lock>> PgStoreImpl::lock(std::string_view name, std::chrono::milliseconds timeout) {
  // A connection of its own (not the pool's: holding one of those could starve the store), with a
  // session advisory lock that PostgreSQL drops when the session ends, however it ends.
  std::uint64_t key = 0xcbf29ce484222325ULL;  // FNV-1a of the name
  for (const char c : "bucketpay lock:" + std::string(name))
    key = (key ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  const std::string what = "taking lock \"" + std::string(name) + "\"";
  Result<std::unique_ptr<sql::Connection>> conn = pg::connect(settings_.conninfo, settings_.lock_timeout);
  if (!conn.ok()) return conn.status().with_context(what);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Result<sql::Rows> taken = (*conn)->run("SELECT pg_try_advisory_lock(?1)", {static_cast<std::int64_t>(key)});
    if (!taken.ok()) return taken.status().with_context(what);
    if (!taken->empty() && (*taken)[0].int64(0) != 0) return std::unique_ptr<Lock>(new SessionLock(std::move(*conn)));
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::unavailable("lock \"" + std::string(name) + "\" is held by another process (waited " +
                                 std::to_string(timeout.count()) + " ms)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// ---- The fleet queue.

Result<std::optional<LeasedJob>> PgStoreImpl::claim_job_with_lease(std::string_view worker_id,
                                                                   std::chrono::milliseconds lease) {
  using R = Result<std::optional<LeasedJob>>;
  return run<R>("claim_job_with_lease", [&](Connection& c) -> R {
    if (worker_id.empty()) return Status::invalid_argument("the worker id is empty");
    if (lease.count() <= 0) return Status::invalid_argument("the lease must be positive");
    const auto take_lease = [&](Connection& tc, ClaimedJob& claimed) -> Status {
      BUCKETPAY_ASSIGN_OR_RETURN(
          const sql::Rows r, tc.run("UPDATE jobs SET lease_owner = ?2, "
                                    "lease_expires_at = now() + ?3::bigint * interval '1 millisecond' WHERE id = ?1 "
                                    "RETURNING (extract(epoch from lease_expires_at) * 1000)::bigint",
                                    {claimed.job.id, worker_id, static_cast<std::int64_t>(lease.count())}));
      claimed.lease_expires_ms = r.empty() ? 0 : r[0].int64(0);
      return Status::ok();
    };
    BUCKETPAY_ASSIGN_OR_RETURN(std::optional<ClaimedJob> claimed, claim_in(c, -1, std::nullopt, take_lease));
    if (!claimed) return std::optional<LeasedJob>();
    return std::optional<LeasedJob>(
        LeasedJob{std::move(claimed->job), std::string(worker_id), claimed->lease_expires_ms});
  });
}

Result<std::int64_t> PgStoreImpl::heartbeat(std::int64_t job_id, std::string_view worker_id,
                                            std::chrono::milliseconds lease) {
  return run<Result<std::int64_t>>("heartbeat", [&](Connection& c) -> Result<std::int64_t> {
    if (lease.count() <= 0) return Status::invalid_argument("the lease must be positive");
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                               c.run("UPDATE jobs SET lease_expires_at = now() + ?3::bigint * interval '1 millisecond' "
                                     "WHERE id = ?1 AND state = 'running' AND lease_owner = ?2 "
                                     "RETURNING (extract(epoch from lease_expires_at) * 1000)::bigint",
                                     {job_id, worker_id, static_cast<std::int64_t>(lease.count())}));
    if (r.empty()) return lease_lost(c, job_id, worker_id);
    return r[0].int64(0);
  });
}

Result<ReclaimCounts> PgStoreImpl::reclaim_expired() {
  return run<Result<ReclaimCounts>>("reclaim_expired", [&](Connection& c) -> Result<ReclaimCounts> {
    // SKIP LOCKED: a job whose owner is heartbeating or completing it right now is left to them;
    // two reclaimers never both take one job.
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows rows,
        c.run("WITH expired AS (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < now() "
              "  FOR UPDATE SKIP LOCKED) "
              "UPDATE jobs SET "
              "  state = CASE WHEN jobs.tries >= ?1 THEN 'failed' ELSE 'pending' END, "
              "  error = 'the lease of worker ' || jobs.lease_owner || ' expired' || "
              "    CASE WHEN jobs.tries >= ?1 THEN ' (' || jobs.tries || ' tries in all)' ELSE '' END, "
              "  lease_owner = NULL, lease_expires_at = NULL, updated_ms = " BUCKETPAY_PG_NOW_MS
              " FROM expired WHERE jobs.id = expired.id RETURNING jobs.state",
              {kMaxLeaseTries}));
    ReclaimCounts counts;
    for (const sql::Row row : rows) {
      if (row.text(0) == job_state_name(JobState::kFailed)) {
        ++counts.failed;
      } else {
        ++counts.requeued;
      }
    }
    return counts;
  });
}

Result<std::optional<std::string>> PgStoreImpl::lease_owner(std::int64_t job_id) {
  using R = Result<std::optional<std::string>>;
  return run<R>("lease_owner", [&](Connection& c) -> R {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("SELECT lease_owner FROM jobs WHERE id = ?1", {job_id}));
    if (r.empty()) return Status::not_found("no job " + std::to_string(job_id));
    if (r[0].is_null(0)) return std::optional<std::string>();
    return std::optional<std::string>(r[0].text(0));
  });
}

// ---- Opening.

namespace {

// The URL without its password, for messages.
std::string redact(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) {
    return url.find("password") == std::string::npos ? url : std::string("(connection string)");
  }
  const std::size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

// `url` with libpq's connect_timeout set, unless it sets one itself: a host that never answers is
// given up on instead of waited for.
std::string with_connect_timeout(const std::string& url, int seconds) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  const std::string setting = "connect_timeout=" + std::to_string(seconds);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + setting;
  }
  return url + " " + setting;  // a key=value connection string
}

Result<std::unique_ptr<PgStore>> open_impl(const std::string& url, const StoreOptions& options, const PgOptions& pg) {
  if (pg.max_connections < 1) return Status::invalid_argument("max_connections must be at least 1");
  if (pg.connect_timeout_s < 2) return Status::invalid_argument("connect_timeout_s must be at least 2");
  if (options.busy_timeout_ms < 0) return Status::invalid_argument("busy_timeout_ms must not be negative");
  const std::chrono::milliseconds busy(options.busy_timeout_ms);
  const pg::PoolSettings settings{with_connect_timeout(url, pg.connect_timeout_s), pg.max_connections, busy, busy};
  std::unique_ptr<sql::Database> db = pg::make_pool(settings);
  BUCKETPAY_ASSIGN_OR_RETURN(std::optional<Vault> vault, SqlStore::prepare(*db, options));
  return std::unique_ptr<PgStore>(new PgStoreImpl(settings, std::move(db), std::move(vault)));
}

}  // namespace

Result<std::unique_ptr<PgStore>> open_pg_store(const std::string& url, const StoreOptions& options,
                                               const PgOptions& pg) {
  const std::string context = "opening store " + redact(url);
  try {
    Result<std::unique_ptr<PgStore>> store = open_impl(url, options, pg);
    if (!store.ok()) return store.status().with_context(context);
    return store;
  } catch (const std::exception& e) {
    return pg::status_from_exception(e, context);
  }
}

}  // namespace bucketpay
