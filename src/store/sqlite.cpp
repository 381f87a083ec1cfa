#include "sqlite.h"

#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace bucketpay::sqlite {

Status to_status(int rc, sqlite3* db, std::string_view context) {
  std::string message(context);
  message += ": ";
  // sqlite3_errmsg describes the connection's last error, which is rc's unless rc came from
  // elsewhere (e.g. a binding); prefer the generic text when they disagree.
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    message += sqlite3_errmsg(db);
  } else {
    message += sqlite3_errstr(rc);
  }
  message += " (sqlite " + std::to_string(rc) + ")";
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Status::already_exists(std::move(message));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Status::not_found(std::move(message));
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return Status::invalid_argument(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::unavailable(std::move(message));
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return Status::resource_exhausted(std::move(message));
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return Status::io_error(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return Status::corruption(std::move(message));
    default:
      return Status::internal(std::move(message));
  }
}

namespace {

sql::Cell read_cell(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      return sqlite3_column_int64(stmt, col);
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, col);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, col));
      return sql::Bytes(p, p + sqlite3_column_bytes(stmt, col));
    }
    default:
      return std::monostate();
  }
}

int bind_value(sqlite3_stmt* stmt, int n, const sql::Value& v) {
  switch (v.type()) {
    case sql::Value::Type::kNull:
      return sqlite3_bind_null(stmt, n);
    case sql::Value::Type::kInt:
      return sqlite3_bind_int64(stmt, n, v.int64());
    case sql::Value::Type::kReal:
      return sqlite3_bind_double(stmt, n, v.real());
    case sql::Value::Type::kText:
      return sqlite3_bind_text64(stmt, n, v.text().empty() ? "" : v.text().data(), v.text().size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
    case sql::Value::Type::kBytes:
      // A null pointer would bind NULL, not an empty blob.
      return v.bytes().empty() ? sqlite3_bind_zeroblob(stmt, n, 0)
                               : sqlite3_bind_blob64(stmt, n, v.bytes().data(), v.bytes().size(), SQLITE_TRANSIENT);
  }
  return SQLITE_MISUSE;
}

// Resets a statement (and clears its bindings) however the call using it ends.
struct Reset {
  sqlite3_stmt* stmt;
  ~Reset() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

// One connection; prepared statements are cached by SQL text (the store's texts are few and reused).
class SqliteConnection final : public sql::Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    cache_.clear();  // statements must be finalized before the connection closes
    sqlite3_close(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Result<sql::Rows> run(std::string_view sql, sql::Params params) override {
    BUCKETPAY_ASSIGN_OR_RETURN(sqlite3_stmt* const stmt, prepare(sql));
    const Reset reset{stmt};
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      const int rc = bind_value(stmt, n, params[i]);
      if (rc != SQLITE_OK) return to_status(rc, nullptr, "binding parameter " + std::to_string(n));
    }
    const int columns = sqlite3_column_count(stmt);
    std::vector<sql::Cell> cells;
    for (int rc = sqlite3_step(stmt); rc != SQLITE_DONE; rc = sqlite3_step(stmt)) {
      if (rc != SQLITE_ROW) return to_status(rc, db_, "executing statement");
      for (int col = 0; col < columns; ++col) cells.push_back(read_cell(stmt, col));
    }
    const std::int64_t affected = sqlite3_stmt_readonly(stmt) != 0 ? 0 : sqlite3_changes64(db_);
    return sql::Rows(columns, std::move(cells), affected);
  }
  using sql::Connection::run;

  Status run_script(std::string_view sql) override {
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::ok() : to_status(rc, db_, "executing: " + text);
  }

  // BEGIN IMMEDIATE takes the write lock now (waiting up to the busy timeout), so a transaction
  // never fails half-way for want of it.
  Status begin(sql::Access access) override {
    return run_script(access == sql::Access::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  }

  Status commit() override {
    Status s = run_script("COMMIT");
    // A failed COMMIT (e.g. SQLITE_BUSY) may leave the transaction open: end it.
    if (!s.is_ok() && sqlite3_get_autocommit(db_) == 0) (void)run_script("ROLLBACK");
    return s;
  }

  void rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) (void)run_script("ROLLBACK");
  }

  // WAL journal, synchronous=FULL, foreign keys on, and the busy timeout.
  Status configure(int busy_timeout_ms) {
    if (sqlite3_busy_timeout(db_, busy_timeout_ms) != SQLITE_OK) return Status::internal("cannot set the busy timeout");
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows mode, run("PRAGMA journal_mode = WAL"));
    if (mode.empty() || mode[0].text(0) != "wal") {
      return Status::io_error("cannot switch the database to WAL mode (journal mode: " +
                              (mode.empty() ? std::string("?") : mode[0].text(0)) + ")");
    }
    // Replaces SQLite's automatic checkpoint (which is a WAL hook too) by one that also counts.
    sqlite3_wal_hook(db_, &SqliteConnection::after_commit, this);
    return run_script("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  }

  Status checkpoint_log(int min_pages) override {
    if (log_pages_ < min_pages) return Status::ok();
    return checkpoint();
  }

 private:
  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it == cache_.end()) {
      sqlite3_stmt* raw = nullptr;
      const int rc =
          sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      if (rc != SQLITE_OK) return to_status(rc, db_, "preparing: " + std::string(sql));
      it = cache_.emplace(std::string(sql), std::unique_ptr<sqlite3_stmt, Finalize>(raw)).first;
    }
    return it->second.get();
  }

  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };

  // A passive checkpoint: copies what it can of the WAL into the database file without waiting for
  // readers; busy (another connection is checkpointing) is not an error.
  Status checkpoint() {
    int log = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_BUSY) return Status::ok();
    if (rc != SQLITE_OK) return to_status(rc, db_, "checkpointing the WAL");
    log_pages_ = log - copied;
    return Status::ok();
  }

  // SQLite's WAL hook, after each commit: `pages` is the size of the WAL. Checkpoints where the
  // automatic checkpoint it replaces did (SQLite's default, 1,000 pages).
  static int after_commit(void* self, sqlite3* /*db*/, const char* /*schema*/, int pages) {
    auto* conn = static_cast<SqliteConnection*>(self);
    conn->log_pages_ = pages;
    if (pages >= kAutoCheckpointPages) (void)conn->checkpoint();
    return SQLITE_OK;
  }
  static constexpr int kAutoCheckpointPages = 1000;

  sqlite3* db_;
  int log_pages_ = 0;  // the WAL's pages after this connection's last commit or checkpoint
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>> cache_;
};

// The one connection, handed to one thread at a time.
class SqliteDatabase final : public sql::Database {
 public:
  explicit SqliteDatabase(std::unique_ptr<SqliteConnection> conn) : conn_(std::move(conn)) {}

  Result<sql::ConnectionLease> acquire() override {
    mutex_.lock();  // held until release()
    return sql::ConnectionLease(this, conn_.get());
  }
  [[nodiscard]] const sql::Dialect& dialect() const override { return sql::sqlite_dialect(); }
  Result<std::int64_t> schema_version(sql::Connection& c) override {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("PRAGMA user_version"));
    return r.empty() ? 0 : r[0].int64(0);
  }
  Status set_schema_version(sql::Connection& c, std::int64_t version) override {
    return c.run_script("PRAGMA user_version = " + std::to_string(version));
  }

 private:
  void release(sql::Connection* /*c*/) override { mutex_.unlock(); }

  std::mutex mutex_;
  std::unique_ptr<SqliteConnection> conn_;
};

}  // namespace

Result<std::unique_ptr<sql::Database>> open_database(const std::filesystem::path& file, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = to_status(rc, raw, "opening " + file.string());
    sqlite3_close(raw);  // a handle is returned even on failure
    return s;
  }
  sqlite3_extended_result_codes(raw, 1);
  auto conn = std::make_unique<SqliteConnection>(raw);
  BUCKETPAY_RETURN_IF_ERROR(conn->configure(busy_timeout_ms));
  return std::unique_ptr<sql::Database>(std::make_unique<SqliteDatabase>(std::move(conn)));
}

}  // namespace bucketpay::sqlite
