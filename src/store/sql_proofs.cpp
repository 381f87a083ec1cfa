// SqlStore's ProofStore: precomputes and the job queue (and the job helpers the lease queue shares).
#include <algorithm>
#include <string>
#include <vector>

#include "record_codec.h"
#include "sql_store.h"

namespace bucketpay {

using namespace store_codec;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::string_view kPrecomputeColumns =
    "id, key, note_id, circuit, amount, auth, public_inputs, proof, outputs, created_ms, prove_ms, worker";
constexpr std::string_view kJobColumns = "id, key, batch, circuit, spec, state, tries, error, updated_ms, worker";
// Leaving the running state ends any lease (pg_store.h; the columns are NULL on SQLite).
constexpr std::string_view kNoLease = "lease_owner = NULL, lease_expires_at = NULL";

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (std::string_view p : parts) s += p;
  return s;
}

}  // namespace

// ---- Precomputes.

Result<std::int64_t> SqlStore::insert_precompute_in(Connection& c, const Precompute& p) {
  if (p.key.empty()) return Status::invalid_argument("the precompute's key is empty");
  BUCKETPAY_RETURN_IF_ERROR(check_json(p.outputs_json, "precompute '" + p.key + "' outputs_json"));
  // Checked here for a clear message; the foreign key backs it up.
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows note, c.run("SELECT 1 FROM notes WHERE id = ?1", {p.note_id}));
  if (note.empty()) {
    return Status::not_found("precompute '" + p.key + "' refers to no note " + std::to_string(p.note_id));
  }
  const Fr::Bytes auth = p.auth.to_bytes();
  const sql::Bytes inputs = encode_frs(p.public_inputs);
  sql::Bytes outputs;
  if (!p.outputs_json.empty()) outputs = seal_secret(as_bytes(p.outputs_json), outputs_ad(p.key));
  // The unique key makes a second precompute for one key impossible; ON CONFLICT turns the attempt
  // into "no row" rather than an error (which would end a PostgreSQL transaction).
  Result<sql::Rows> r = c.run(
      "INSERT INTO precomputes(key, note_id, circuit, amount, auth, public_inputs, proof, outputs, "
      "created_ms, prove_ms, worker) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
      "ON CONFLICT (key) DO NOTHING RETURNING id",
      {p.key, p.note_id, circuit_name(p.circuit), to_db(p.amount), auth, inputs, p.proof,
       p.outputs_json.empty() ? sql::Value() : sql::Value(outputs), p.created_ms != 0 ? p.created_ms : now_ms(),
       p.prove_ms, p.worker});
  wipe(outputs);
  if (!r.ok()) return r.status();
  if (r->empty()) return Status::already_exists("a precompute with key '" + p.key + "' exists");
  return (*r)[0].int64(0);
}

Result<Precompute> SqlStore::read_precompute(const sql::Row& row) const {
  Precompute p;
  p.id = row.int64(0);
  p.key = row.text(1);
  p.note_id = row.int64(2);
  BUCKETPAY_ASSIGN_OR_RETURN(p.circuit, parse_circuit(row.text(3), "precompute '" + p.key + "'"));
  p.amount = from_db(row.int64(4));
  BUCKETPAY_ASSIGN_OR_RETURN(p.auth, decode_fr(row.blob(5), "precompute auth"));
  BUCKETPAY_ASSIGN_OR_RETURN(p.public_inputs, decode_frs(row.blob(6), "precompute public inputs"));
  p.proof = row.blob(7);
  if (!row.is_null(8)) {
    Result<sql::Bytes> outputs = open_secret(row.blob(8), outputs_ad(p.key));
    if (!outputs.ok()) return outputs.status().with_context("precompute '" + p.key + "' outputs");
    p.outputs_json.assign(outputs->begin(), outputs->end());
    wipe(*outputs);
  }
  p.created_ms = row.int64(9);
  p.prove_ms = row.real(10);
  p.worker = static_cast<int>(row.int64(11));
  return p;
}

Result<std::vector<Precompute>> SqlStore::query_precomputes(Connection& c, std::string_view where, sql::Params params) {
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows,
                             c.run(cat({"SELECT ", kPrecomputeColumns, " FROM precomputes WHERE ", where}), params));
  std::vector<Precompute> out;
  out.reserve(rows.size());
  for (const sql::Row row : rows) {
    BUCKETPAY_ASSIGN_OR_RETURN(Precompute p, read_precompute(row));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::int64_t> SqlStore::insert_precompute(const Precompute& p) {
  return run<Result<std::int64_t>>("insert_precompute", [&](Connection& c) { return insert_precompute_in(c, p); });
}

Result<std::optional<Precompute>> SqlStore::find_precompute(std::string_view key) {
  using R = Result<std::optional<Precompute>>;
  return run<R>("find_precompute", [&](Connection& c) -> R {
    const sql::Value params[] = {key};
    BUCKETPAY_ASSIGN_OR_RETURN(std::vector<Precompute> found, query_precomputes(c, "key = ?1", params));
    if (found.empty()) return std::optional<Precompute>();
    return std::optional<Precompute>(std::move(found.front()));
  });
}

Result<std::vector<Precompute>> SqlStore::list_precomputes_for_note(std::int64_t note_id) {
  return run<Result<std::vector<Precompute>>>("list_precomputes_for_note", [&](Connection& c) {
    const sql::Value params[] = {note_id};
    return query_precomputes(c, "note_id = ?1 ORDER BY id", params);
  });
}

Result<std::vector<Precompute>> SqlStore::list_precomputes_by_circuit(CircuitKind circuit) {
  return run<Result<std::vector<Precompute>>>("list_precomputes_by_circuit", [&](Connection& c) {
    const sql::Value params[] = {circuit_name(circuit)};
    return query_precomputes(c, "circuit = ?1 ORDER BY id", params);
  });
}

Result<std::int64_t> SqlStore::count_precomputes() {
  return run<Result<std::int64_t>>("count_precomputes", [&](Connection& c) -> Result<std::int64_t> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("SELECT COUNT(*) FROM precomputes"));
    return r.empty() ? 0 : r[0].int64(0);
  });
}

Result<std::int64_t> SqlStore::delete_precomputes_for_note(std::int64_t note_id) {
  return run<Result<std::int64_t>>("delete_precomputes_for_note", [&](Connection& c) -> Result<std::int64_t> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("DELETE FROM precomputes WHERE note_id = ?1", {note_id}));
    return r.affected();
  });
}

Status SqlStore::delete_precompute(std::string_view key) {
  return run<Status>("delete_precompute", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("DELETE FROM precomputes WHERE key = ?1", {key}));
    if (r.affected() == 0) return Status::not_found("no precompute '" + std::string(key) + "'");
    // Its job goes too, so that the same key can be proved again.
    BUCKETPAY_RETURN_IF_ERROR(c.run("DELETE FROM jobs WHERE key = ?1", {key}).status());
    return txn.commit();
  });
}

// ---- Jobs.

Result<std::int64_t> SqlStore::enqueue_jobs(std::span<const Job> jobs) {
  return run<Result<std::int64_t>>("enqueue_jobs", [&](Connection& c) -> Result<std::int64_t> {
    for (const Job& job : jobs) {
      if (job.key.empty()) return Status::invalid_argument("a job has an empty key");
      BUCKETPAY_RETURN_IF_ERROR(check_json(job.spec_json, "job '" + job.key + "' spec_json"));
    }
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    std::int64_t added = 0;
    const std::int64_t now = now_ms();
    for (const Job& job : jobs) {
      sql::Bytes spec;
      if (!job.spec_json.empty()) spec = seal_secret(as_bytes(job.spec_json), job_spec_ad(job.key));
      // An empty spec is stored as NULL (a sealed one is never empty).
      Result<sql::Rows> r = c.run(
          "INSERT INTO jobs(key, batch, circuit, spec, state, tries, error, updated_ms, worker) "
          "VALUES (?1, ?2, ?3, ?4, 'pending', 0, '', ?5, -1) ON CONFLICT (key) DO NOTHING",
          {job.key, job.batch, circuit_name(job.circuit), job.spec_json.empty() ? sql::Value() : sql::Value(spec),
           now});
      wipe(spec);
      if (!r.ok()) return r.status();
      added += r->affected();
    }
    BUCKETPAY_RETURN_IF_ERROR(txn.commit());
    return added;
  });
}

Result<Job> SqlStore::read_job(const sql::Row& row) const {
  Job j;
  j.id = row.int64(0);
  j.key = row.text(1);
  j.batch = row.text(2);
  BUCKETPAY_ASSIGN_OR_RETURN(j.circuit, parse_circuit(row.text(3), "job '" + j.key + "'"));
  if (!row.is_null(4)) {
    Result<sql::Bytes> spec = open_secret(row.blob(4), job_spec_ad(j.key));
    if (!spec.ok()) return spec.status().with_context("job '" + j.key + "' spec");
    j.spec_json.assign(spec->begin(), spec->end());
    wipe(*spec);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(j.state, parse_job_state(row.text(5)));
  j.tries = static_cast<int>(row.int64(6));
  j.error = row.text(7);
  j.updated_ms = row.int64(8);
  j.worker = static_cast<int>(row.int64(9));
  return j;
}

Result<Job> SqlStore::get_job_in(Connection& c, std::int64_t id) {
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run(cat({"SELECT ", kJobColumns, " FROM jobs WHERE id = ?1"}), {id}));
  if (r.empty()) return Status::not_found("no job " + std::to_string(id));
  return read_job(r[0]);
}

Result<std::optional<SqlStore::ClaimedJob>> SqlStore::claim_in(
    Connection& c, int worker, std::optional<std::span<const std::string>> keys,
    const std::function<Status(Connection&, ClaimedJob&)>& on_claimed) {
  std::vector<sql::Value> params = {worker, now_ms()};
  std::string among;
  if (keys) {
    among = " AND key IN (";
    for (std::size_t i = 0; i < keys->size(); ++i) {
      among += (i == 0 ? "?" : ", ?") + std::to_string(params.size() + 1);
      params.emplace_back((*keys)[i]);
    }
    among += ")";
  }
  BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
  const std::string sql = cat({"UPDATE jobs SET state = 'running', tries = tries + 1, worker = ?1, updated_ms = ?2, ",
                               kNoLease, " WHERE id = (SELECT id FROM jobs WHERE state = 'pending'", among,
                               " ORDER BY id LIMIT 1", dialect().for_update_skip_locked, ") RETURNING ", kJobColumns});
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run(sql, params));
  if (r.empty()) return std::optional<ClaimedJob>();
  Result<Job> job = read_job(r[0]);
  if (!job.ok()) {
    const std::int64_t id = r[0].int64(0);
    BUCKETPAY_RETURN_IF_ERROR(c.run("UPDATE jobs SET state = 'failed', error = ?2, updated_ms = ?3 WHERE id = ?1",
                                    {id, job.status().message(), now_ms()})
                                  .status());
    BUCKETPAY_RETURN_IF_ERROR(txn.commit());
    return job.status().with_context("job '" + r[0].text(1) + "' failed permanently");
  }
  ClaimedJob claimed{std::move(*job), 0};
  if (on_claimed) BUCKETPAY_RETURN_IF_ERROR(on_claimed(c, claimed));
  BUCKETPAY_RETURN_IF_ERROR(txn.commit());
  return std::optional<ClaimedJob>(std::move(claimed));
}

Result<std::optional<Job>> SqlStore::claim_next_job(int worker) {
  return run<Result<std::optional<Job>>>("claim_next_job", [&](Connection& c) -> Result<std::optional<Job>> {
    BUCKETPAY_ASSIGN_OR_RETURN(std::optional<ClaimedJob> claimed, claim_in(c, worker, std::nullopt, nullptr));
    if (!claimed) return std::optional<Job>();
    return std::optional<Job>(std::move(claimed->job));
  });
}

Result<std::optional<Job>> SqlStore::claim_next_job_among(std::span<const std::string> keys, int worker) {
  // Keys go in as bound parameters, a bounded number per statement (SQLite allows 32766, older
  // builds 999): the slices are tried in order, the oldest pending job of the first that has one.
  constexpr std::size_t kKeysPerClaim = 500;
  return run<Result<std::optional<Job>>>("claim_next_job_among", [&](Connection& c) -> Result<std::optional<Job>> {
    for (std::size_t at = 0; at < keys.size(); at += kKeysPerClaim) {
      const auto slice = keys.subspan(at, std::min(kKeysPerClaim, keys.size() - at));
      BUCKETPAY_ASSIGN_OR_RETURN(std::optional<ClaimedJob> claimed, claim_in(c, worker, slice, nullptr));
      if (claimed) return std::optional<Job>(std::move(claimed->job));
    }
    return std::optional<Job>();
  });
}

Status SqlStore::lease_lost(Connection& c, std::int64_t job_id, std::string_view worker_id) {
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                             c.run("SELECT key, state, lease_owner FROM jobs WHERE id = ?1", {job_id}));
  if (r.empty()) return Status::not_found("no job " + std::to_string(job_id));
  const std::string key = r[0].text(0);
  const std::string state = r[0].text(1);
  const std::string lost = "worker " + std::string(worker_id) + " lost the lease of job '" + key + "'";
  if (state != job_state_name(JobState::kRunning)) return Status::failed_precondition(lost + ": it is " + state);
  return Status::failed_precondition(lost + " to " +
                                     (r[0].is_null(2) ? std::string("an unleased claim") : r[0].text(2)));
}

Result<std::int64_t> SqlStore::complete_in(Connection& c, std::int64_t job_id,
                                           std::optional<std::string_view> worker_id, const Precompute& precompute) {
  BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
  // The row lock orders this against a concurrent reclaim, claim or completion of the job.
  BUCKETPAY_ASSIGN_OR_RETURN(
      const sql::Rows r,
      c.run(cat({"SELECT key, state, lease_owner FROM jobs WHERE id = ?1", dialect().for_update}), {job_id}));
  if (r.empty()) return Status::not_found("no job " + std::to_string(job_id));
  const std::string key = r[0].text(0);
  const std::string state = r[0].text(1);
  if (worker_id && state == job_state_name(JobState::kDone)) {
    return Status::already_exists("job '" + key + "' is done already (its precompute is stored)");
  }
  if (worker_id && (state != job_state_name(JobState::kRunning) || r[0].is_null(2) || r[0].text(2) != *worker_id)) {
    return lease_lost(c, job_id, *worker_id);
  }
  if (state != job_state_name(JobState::kRunning)) {
    return Status::failed_precondition("job '" + key + "' is " + state + ", not running");
  }
  if (!precompute.key.empty() && precompute.key != key) {
    return Status::invalid_argument("precompute key '" + precompute.key + "' differs from its job's key '" + key + "'");
  }
  Precompute p = precompute;
  p.key = key;
  Result<std::int64_t> id = insert_precompute_in(c, p);
  wipe(p.outputs_json);
  if (!id.ok()) return id.status();
  BUCKETPAY_RETURN_IF_ERROR(
      c.run(cat({"UPDATE jobs SET state = 'done', error = '', ", kNoLease, ", updated_ms = ?2 WHERE id = ?1"}),
            {job_id, now_ms()})
          .status());
  BUCKETPAY_RETURN_IF_ERROR(txn.commit());
  return id;
}

Result<std::int64_t> SqlStore::complete_job(std::int64_t job_id, const Precompute& precompute) {
  return run<Result<std::int64_t>>("complete_job",
                                   [&](Connection& c) { return complete_in(c, job_id, std::nullopt, precompute); });
}

Status SqlStore::fail_in(Connection& c, std::int64_t job_id, std::optional<std::string_view> worker_id,
                         std::string_view error, bool permanent) {
  const std::string_view state = job_state_name(permanent ? JobState::kFailed : JobState::kPending);
  const std::string sql =
      cat({"UPDATE jobs SET state = ?2, error = ?3, ", kNoLease,
           ", updated_ms = ?4 WHERE id = ?1 AND state = 'running'", worker_id ? " AND lease_owner = ?5" : ""});
  const sql::Value params[] = {job_id, state, error, now_ms(), worker_id.value_or("")};
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run(sql, sql::Params(params, worker_id ? 5 : 4)));
  if (r.affected() == 1) return Status::ok();
  if (worker_id) return lease_lost(c, job_id, *worker_id);
  BUCKETPAY_ASSIGN_OR_RETURN(const Job job, get_job_in(c, job_id));
  return Status::failed_precondition("job '" + job.key + "' is " + std::string(job_state_name(job.state)) +
                                     ", not running");
}

Status SqlStore::fail_job(std::int64_t job_id, std::string_view error, bool permanent) {
  return run<Status>("fail_job", [&](Connection& c) { return fail_in(c, job_id, std::nullopt, error, permanent); });
}

Result<std::int64_t> SqlStore::reset_running_jobs() {
  return run<Result<std::int64_t>>("reset_running_jobs", [&](Connection& c) -> Result<std::int64_t> {
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows r,
        c.run(cat({"UPDATE jobs SET state = 'pending', ", kNoLease, ", updated_ms = ?1 WHERE state = 'running'"}),
              {now_ms()}));
    return r.affected();
  });
}

Result<std::int64_t> SqlStore::retry_failed_jobs(std::span<const std::string> keys) {
  return run<Result<std::int64_t>>("retry_failed_jobs", [&](Connection& c) -> Result<std::int64_t> {
    const std::string sql = cat({"UPDATE jobs SET state = 'pending', tries = 0, error = '', ", kNoLease,
                                 ", updated_ms = ?1 WHERE state = 'failed'", keys.empty() ? "" : " AND key = ?2"});
    if (keys.empty()) {
      BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run(sql, {now_ms()}));
      return r.affected();
    }
    BUCKETPAY_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(c, Access::kWrite));
    std::int64_t retried = 0;
    for (const std::string& key : keys) {
      BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run(sql, {now_ms(), key}));
      retried += r.affected();
    }
    BUCKETPAY_RETURN_IF_ERROR(txn.commit());
    return retried;
  });
}

Result<Job> SqlStore::get_job(std::int64_t id) {
  return run<Result<Job>>("get_job", [&](Connection& c) { return get_job_in(c, id); });
}

Result<std::vector<Job>> SqlStore::list_jobs(std::optional<std::string_view> batch) {
  return run<Result<std::vector<Job>>>("list_jobs", [&](Connection& c) -> Result<std::vector<Job>> {
    const std::string sql =
        cat({"SELECT ", kJobColumns, " FROM jobs", batch ? " WHERE batch = ?1" : "", " ORDER BY id"});
    const sql::Value params[] = {batch.value_or("")};
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run(sql, sql::Params(params, batch ? 1 : 0)));
    std::vector<Job> out;
    out.reserve(rows.size());
    for (const sql::Row row : rows) {
      BUCKETPAY_ASSIGN_OR_RETURN(Job job, read_job(row));
      out.push_back(std::move(job));
    }
    return out;
  });
}

Result<JobCounts> SqlStore::job_counts(std::optional<std::string_view> batch) {
  return run<Result<JobCounts>>("job_counts", [&](Connection& c) -> Result<JobCounts> {
    const std::string sql =
        cat({"SELECT state, COUNT(*) FROM jobs", batch ? " WHERE batch = ?1" : "", " GROUP BY state"});
    const sql::Value params[] = {batch.value_or("")};
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run(sql, sql::Params(params, batch ? 1 : 0)));
    JobCounts counts;
    for (const sql::Row row : rows) {
      BUCKETPAY_ASSIGN_OR_RETURN(const JobState state, parse_job_state(row.text(0)));
      std::int64_t* slot[] = {&counts.pending, &counts.running, &counts.done, &counts.failed};
      *slot[static_cast<int>(state)] = row.int64(1);
    }
    return counts;
  });
}

}  // namespace bucketpay
