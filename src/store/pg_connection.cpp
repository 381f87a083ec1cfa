#include "pg_connection.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <new>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

namespace bucketpay::pg {

Status status_from_exception(const std::exception& e, std::string_view context) {
  std::string message(context);
  message += ": ";
  message += e.what();
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return Status::resource_exhausted(std::move(message));
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return Status::unavailable(message + " (the connection broke during COMMIT: the outcome is unknown)");
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return Status::unavailable(std::move(message));
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return Status::unavailable(std::move(message));
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (sql == nullptr) {
    return Status::internal(std::move(message));
  }
  // SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
  const std::string state = sql->sqlstate();
  message += " (sqlstate " + state + ")";
  const std::string cls = state.substr(0, 2);
  if (state == "23505") {
    return Status::already_exists(std::move(message));
  }
  if (state == "23503") {
    return Status::not_found(std::move(message));
  }
  if (cls == "23" || cls == "22") {
    return Status::invalid_argument(std::move(message));
  }
  if (state == "55P03" || cls == "08" || cls == "57" || cls == "40" || cls == "28" || state == "3D000") {
    return state == "57014" ? Status::timeout(std::move(message)) : Status::unavailable(std::move(message));
  }
  if (cls == "53") {
    return Status::resource_exhausted(std::move(message));
  }
  if (cls == "58") {
    return Status::io_error(std::move(message));
  }
  if (cls == "XX") {
    return Status::corruption(std::move(message));
  }
  return Status::internal(std::move(message));
}

std::string dollar_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;  // inside '...' or "..."
  for (const char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?') {
      out += '$';
      continue;
    }
    out += c;
  }
  return out;
}

namespace {

// Parameters as libpq's text form: a string per non-NULL value (bytes as \x and hex).
struct TextParams {
  std::vector<std::string> values;
  std::vector<const char*> pointers;  // null for NULL

  explicit TextParams(sql::Params params) {
    values.reserve(params.size());
    for (const sql::Value& v : params) values.push_back(text_of(v));
    for (std::size_t i = 0; i < params.size(); ++i) {
      pointers.push_back(params[i].type() == sql::Value::Type::kNull ? nullptr : values[i].c_str());
    }
  }

  static std::string text_of(const sql::Value& v) {
    switch (v.type()) {
      case sql::Value::Type::kNull:
        return {};
      case sql::Value::Type::kInt:
        return std::to_string(v.int64());
      case sql::Value::Type::kReal: {
        char buf[64];  // the shortest text that reads back to the same double
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.real());
        return {buf, end};
      }
      case sql::Value::Type::kText:
        return std::string(v.text());
      case sql::Value::Type::kBytes: {
        static constexpr char kDigits[] = "0123456789abcdef";
        std::string s = "\\x";
        s.reserve(2 + 2 * v.bytes().size());
        for (const std::uint8_t b : v.bytes()) {
          s.push_back(kDigits[b >> 4]);
          s.push_back(kDigits[b & 15]);
        }
        return s;
      }
    }
    return {};
  }
};

// PostgreSQL type OIDs (pg_type.h) the store's columns have.
enum : pqxx::oid {
  kBoolOid = 16,
  kByteaOid = 17,
  kInt8Oid = 20,
  kInt2Oid = 21,
  kInt4Oid = 23,
  kFloat4Oid = 700,
  kFloat8Oid = 701,
  kNumericOid = 1700,
};

sql::Cell read_cell(const pqxx::field& f, pqxx::oid type) {
  if (f.is_null()) return std::monostate();
  switch (type) {
    case kBoolOid:
      return std::int64_t{f.as<bool>() ? 1 : 0};
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid:
      return f.as<std::int64_t>();
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return f.as<double>();
    case kByteaOid: {
      const pqxx::binarystring b(f);
      return sql::Bytes(b.data(), b.data() + b.size());
    }
    default:
      return f.as<std::string>();
  }
}

sql::Rows to_rows(const pqxx::result& r) {
  const int columns = static_cast<int>(r.columns());
  std::vector<pqxx::oid> types;
  types.reserve(static_cast<std::size_t>(columns));
  for (int col = 0; col < columns; ++col) types.push_back(r.column_type(static_cast<pqxx::row::size_type>(col)));
  std::vector<sql::Cell> cells;
  cells.reserve(r.size() * static_cast<std::size_t>(columns));
  for (const pqxx::row& row : r) {
    for (int col = 0; col < columns; ++col) cells.push_back(read_cell(row[col], types[static_cast<std::size_t>(col)]));
  }
  return {columns, std::move(cells), static_cast<std::int64_t>(r.affected_rows())};
}

// The Status of a failed connection attempt: an exception libpqxx does not classify is still the
// server being out of reach.
Status connect_failure(const std::exception& e) {
  Status s = status_from_exception(e, "connecting to PostgreSQL");
  return s.code() == StatusCode::kInternal ? Status::unavailable(s.message()) : s;
}

class PgConnection final : public sql::Connection {
 public:
  explicit PgConnection(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}

  Result<sql::Rows> run(std::string_view sql, sql::Params params) override {
    retryable_ = false;
    try {
      const TextParams text(params);
      pqxx::nontransaction q(*conn_);
      return to_rows(q.exec_params(dollar_placeholders(sql), pqxx::prepare::make_dynamic_params(text.pointers)));
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      return failure(e, "executing statement");
    }
  }
  using sql::Connection::run;

  Status run_script(std::string_view sql) override {
    retryable_ = false;
    try {
      pqxx::nontransaction q(*conn_);
      q.exec(std::string(sql));
      return Status::ok();
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      return failure(e, "executing statements");
    }
  }

  Status begin(sql::Access access) override {
    BUCKETPAY_RETURN_IF_ERROR(run_script(access == sql::Access::kWrite ? "BEGIN" : "BEGIN READ ONLY"));
    in_transaction_ = true;
    return Status::ok();
  }

  Status commit() override {
    in_transaction_ = false;
    Status s = run_script("COMMIT");
    if (!s.is_ok() && broken_) {
      return Status::unavailable(s.message() + " (the connection broke during COMMIT: the outcome is unknown)");
    }
    return s;
  }

  void rollback() override {
    if (!in_transaction_) return;
    in_transaction_ = false;
    const bool retryable = retryable_;  // the failure that led here decides
    if (!run_script("ROLLBACK").is_ok()) broken_ = true;
    retryable_ = retryable;
  }

  [[nodiscard]] bool last_failure_retryable() const override { return retryable_; }
  // The connection broke, or its state is unknown: close it rather than reuse it.
  [[nodiscard]] bool broken() const { return broken_ || !conn_->is_open(); }

 private:
  // The Status of a failure, noting whether it is retryable or broke the connection.
  Status failure(const std::exception& e, std::string_view context) {
    retryable_ = dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr ||
                 dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr;
    broken_ = broken_ || dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
              dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
    return status_from_exception(e, context);
  }

  std::unique_ptr<pqxx::connection> conn_;
  bool in_transaction_ = false;
  bool retryable_ = false;
  bool broken_ = false;
};

Result<std::unique_ptr<PgConnection>> connect_session(const std::string& conninfo,
                                                      std::chrono::milliseconds lock_timeout) {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo);
    pqxx::nontransaction setup(*conn);
    // Commits wait for the WAL flush whatever the server's default: the Store's durability promise.
    setup.exec("SET synchronous_commit = on");
    setup.exec("SET lock_timeout = " + std::to_string(lock_timeout.count()));
    setup.commit();
    return std::make_unique<PgConnection>(std::move(conn));
  } catch (const std::exception& e) {
    return connect_failure(e);
  }
}

// The pool: an idle connection, a new one while fewer than max_connections are open, or the first
// one returned within acquire_timeout (else kUnavailable). A broken connection is closed on
// return, not reused; a transaction a failure left open is rolled back.
class PgDatabase final : public sql::Database {
 public:
  explicit PgDatabase(PoolSettings settings) : settings_(std::move(settings)) {}
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  Result<sql::ConnectionLease> acquire() override {
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + settings_.acquire_timeout;
    while (true) {
      if (auto idle = take_idle()) return sql::ConnectionLease(this, idle);
      if (static_cast<int>(taken_.size()) < settings_.max_connections) {
        taken_.push_back(nullptr);  // the slot, held while connecting
        lock.unlock();
        Result<std::unique_ptr<PgConnection>> conn = connect_session(settings_.conninfo, settings_.lock_timeout);
        lock.lock();
        auto slot = std::find(taken_.begin(), taken_.end(), nullptr);
        if (!conn.ok()) {
          taken_.erase(slot);
          returned_.notify_one();
          return conn.status();
        }
        *slot = std::move(*conn);
        return sql::ConnectionLease(this, slot->get());
      }
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          static_cast<int>(taken_.size()) >= settings_.max_connections) {
        return Status::unavailable("no free database connection within " +
                                   std::to_string(settings_.acquire_timeout.count()) + " ms (" +
                                   std::to_string(settings_.max_connections) + " in use)");
      }
    }
  }

  [[nodiscard]] const sql::Dialect& dialect() const override { return sql::postgres_dialect(); }

  // The version is a row of the meta table, which this makes if needed.
  Result<std::int64_t> schema_version(sql::Connection& c) override {
    BUCKETPAY_RETURN_IF_ERROR(
        c.run_script("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BYTEA NOT NULL)"));
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("SELECT value FROM meta WHERE key = 'schema_version'"));
    return r.empty() ? 0 : r[0].int64(0);  // decimal text
  }

  Status set_schema_version(sql::Connection& c, std::int64_t version) override {
    const std::string text = std::to_string(version);
    const sql::Bytes bytes(text.begin(), text.end());
    return c
        .run(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?1) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {bytes})
        .status();
  }

  // A transaction-level advisory lock: processes opening one database migrate it one at a time.
  Status lock_for_setup(sql::Connection& c) override {
    constexpr std::int64_t kSetupLockKey = 0x62756b7470617931;  // "buktpay1"
    return c.run("SELECT pg_advisory_xact_lock(?1)", {kSetupLockKey}).status();
  }

 private:
  // An idle connection that still works, now taken, or null. Called under mutex_.
  PgConnection* take_idle() {
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->broken()) continue;  // closed behind our back: dropped
      taken_.push_back(std::move(conn));
      return taken_.back().get();
    }
    return nullptr;
  }

  void release(sql::Connection* c) override {
    const std::lock_guard lock(mutex_);
    const auto it = std::find_if(taken_.begin(), taken_.end(), [&](const auto& p) { return p.get() == c; });
    if (it == taken_.end()) return;
    std::unique_ptr<PgConnection> conn = std::move(*it);
    taken_.erase(it);
    conn->rollback();
    if (!conn->broken()) idle_.push_back(std::move(conn));
    returned_.notify_one();
  }

  const PoolSettings settings_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;   // guarded by mutex_
  std::vector<std::unique_ptr<PgConnection>> taken_;  // guarded by mutex_: handed out
};

}  // namespace

Result<std::unique_ptr<sql::Connection>> connect(const std::string& conninfo, std::chrono::milliseconds lock_timeout) {
  BUCKETPAY_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, connect_session(conninfo, lock_timeout));
  return std::unique_ptr<sql::Connection>(std::move(conn));
}

std::unique_ptr<sql::Database> make_pool(PoolSettings settings) {
  return std::make_unique<PgDatabase>(std::move(settings));
}

}  // namespace bucketpay::pg
