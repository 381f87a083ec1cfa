#include "store/sqlite.h"

#include <string>

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

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, i, v);
  if (bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  const int rc = sqlite3_bind_double(stmt_, i, v);
  if (bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view text) {
  const int rc =
      sqlite3_bind_text64(stmt_, i, text.empty() ? "" : text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
  return *this;
}

Stmt& Stmt::bind(int i, std::span<const std::uint8_t> blob) {
  // A null pointer would bind NULL, not an empty blob.
  const int rc = blob.empty() ? sqlite3_bind_zeroblob(stmt_, i, 0)
                              : sqlite3_bind_blob64(stmt_, i, blob.data(), blob.size(), SQLITE_TRANSIENT);
  if (bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  const int rc = sqlite3_bind_null(stmt_, i);
  if (bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
  return *this;
}

Result<bool> Stmt::step() {
  if (bind_rc_ != SQLITE_OK) {
    return to_status(bind_rc_, nullptr, "binding a parameter");
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return to_status(rc, db_, "executing statement");
}

Status Stmt::run() {
  while (true) {
    Result<bool> row = step();
    if (!row.ok()) {
      return row.status();
    }
    if (!*row) {
      break;
    }
  }
  sqlite3_reset(stmt_);  // ready to be bound and run again
  return Status::ok();
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::int64_t Stmt::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

double Stmt::real(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
}

std::vector<std::uint8_t> Stmt::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) {
    return {};
  }
  return {p, p + n};
}

Result<std::unique_ptr<Db>> Db::open(const std::filesystem::path& file) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = to_status(rc, raw, "opening " + file.string());
    sqlite3_close(raw);  // a handle is returned even on failure
    return s;
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

Status Db::exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return to_status(rc, db_, std::string("executing: ") + sql);
  }
  return Status::ok();
}

Result<Stmt> Db::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) {
      return to_status(rc, db_, std::string("preparing: ") + sql);
    }
    it = cache_.emplace(sql, std::unique_ptr<sqlite3_stmt, Finalize>(raw)).first;
  }
  return Stmt(it->second.get(), db_);
}

std::int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

std::int64_t Db::changes() const { return sqlite3_changes64(db_); }

Result<Transaction> Transaction::begin(Db& db) {
  BUCKETPAY_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) {
    (void)db_->exec("ROLLBACK");
  }
}

Status Transaction::commit() {
  Db* db = std::exchange(db_, nullptr);
  Status s = db->exec("COMMIT");
  // A failed COMMIT (e.g. SQLITE_BUSY) may leave the transaction open: end it.
  if (!s.is_ok() && sqlite3_get_autocommit(db->handle()) == 0) {
    (void)db->exec("ROLLBACK");
  }
  return s;
}

}  // namespace bucketpay::sqlite
