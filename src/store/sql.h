// The small SQL interface the store is written against, private to the store module.
//
// SqlStore (sql_store.h) holds every rule of the Store contract once, as SQL over a Connection; a
// backend is a Connection (run a statement with parameters, transactions), a Database handing out
// connections, and a Dialect (the few SQL fragments that differ: row locks, table locks, column
// types, the schema's history). SQLite: sqlite.h; PostgreSQL: pg_connection.h.
//
// SQL texts use numbered parameters ?1, ?2, ... (SQLite's form; the PostgreSQL connection rewrites
// them to $1, $2, ...) and the syntax both databases share: INSERT ... ON CONFLICT ... DO NOTHING /
// DO UPDATE, RETURNING, COALESCE, CASE, EXISTS.
//
// Errors: a Connection reports every failure as a Status (store.h's codes: a unique violation is
// kAlreadyExists, a foreign key kNotFound, a lock not granted in time kUnavailable, ...); nothing
// throws but std::bad_alloc.
//
// Thread safety: a Connection is used by one thread at a time (the one holding its
// ConnectionLease); a Database's acquire() may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bucketpay/status.h"

namespace bucketpay::sql {

using Bytes = std::vector<std::uint8_t>;

// A statement parameter: NULL, an integer, a real, text or bytes. Text and bytes are borrowed: they
// must outlive the call that binds them. An unsigned 64-bit value has no constructor (its bit
// pattern goes in a signed column: store_codec::to_db).
class Value {
 public:
  enum class Type : std::uint8_t { kNull, kInt, kReal, kText, kBytes };

  Value() = default;
  Value(std::nullptr_t) {}                                                    // NOLINT(google-explicit-constructor)
  Value(std::int64_t v) : type_(Type::kInt), int_(v) {}                       // NOLINT(google-explicit-constructor)
  Value(int v) : type_(Type::kInt), int_(v) {}                                // NOLINT(google-explicit-constructor)
  Value(double v) : type_(Type::kReal), real_(v) {}                           // NOLINT(google-explicit-constructor)
  Value(std::string_view v) : type_(Type::kText), text_(v) {}                 // NOLINT(google-explicit-constructor)
  Value(const std::string& v) : type_(Type::kText), text_(v) {}               // NOLINT(google-explicit-constructor)
  Value(const char* v) : type_(Type::kText), text_(v) {}                      // NOLINT(google-explicit-constructor)
  Value(std::span<const std::uint8_t> v) : type_(Type::kBytes), bytes_(v) {}  // NOLINT(google-explicit-constructor)
  Value(const Bytes& v) : type_(Type::kBytes), bytes_(v) {}                   // NOLINT(google-explicit-constructor)
  template <std::size_t N>
  Value(const std::array<std::uint8_t, N>& v)
      : type_(Type::kBytes), bytes_(v) {}  // NOLINT(google-explicit-constructor)
  template <typename T>
  Value(const std::optional<T>& v) {  // NOLINT(google-explicit-constructor): NULL when empty
    if (v) *this = Value(*v);
  }

  [[nodiscard]] Type type() const { return type_; }
  [[nodiscard]] std::int64_t int64() const { return int_; }
  [[nodiscard]] double real() const { return real_; }
  [[nodiscard]] std::string_view text() const { return text_; }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return bytes_; }

 private:
  Type type_ = Type::kNull;
  std::int64_t int_ = 0;
  double real_ = 0;
  std::string_view text_;
  std::span<const std::uint8_t> bytes_;
};

using Params = std::span<const Value>;

// One cell of a result, as the database typed it.
using Cell = std::variant<std::monostate, std::int64_t, double, std::string, Bytes>;

// A row of a Rows. The typed accessors convert as SQLite does: NULL reads as 0 or empty, a number
// as text in decimal, text as bytes; text that is not a number reads as 0.
class Row {
 public:
  Row(const Cell* cells, int columns) : cells_(cells), columns_(columns) {}

  [[nodiscard]] bool is_null(int col) const;
  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] double real(int col) const;
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] Bytes blob(int col) const;

 private:
  [[nodiscard]] const Cell& cell(int col) const;

  const Cell* cells_;
  int columns_;
};

// Everything a statement returned: its rows (all of them, read before the call returned) and, for
// INSERT / UPDATE / DELETE, how many rows it changed.
class Rows {
 public:
  Rows() = default;
  Rows(int columns, std::vector<Cell> cells, std::int64_t affected)
      : columns_(columns), cells_(std::move(cells)), affected_(affected) {}

  [[nodiscard]] std::size_t size() const { return columns_ == 0 ? 0 : cells_.size() / columns_; }
  [[nodiscard]] bool empty() const { return size() == 0; }
  [[nodiscard]] Row operator[](std::size_t i) const { return {cells_.data() + i * columns_, columns_}; }
  [[nodiscard]] std::int64_t affected() const { return affected_; }

  class Iterator {
   public:
    Iterator(const Rows* rows, std::size_t i) : rows_(rows), i_(i) {}
    Row operator*() const { return (*rows_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return i_ != other.i_; }

   private:
    const Rows* rows_;
    std::size_t i_;
  };
  [[nodiscard]] Iterator begin() const { return {this, 0}; }
  [[nodiscard]] Iterator end() const { return {this, size()}; }

 private:
  int columns_ = 0;
  std::vector<Cell> cells_;  // row-major
  std::int64_t affected_ = 0;
};

enum class Access : std::uint8_t {
  kRead,   // a consistent snapshot for several reads
  kWrite,  // takes what the database needs to write (SQLite: the write lock, at once)
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Runs one statement with its parameters (?1 binds params[0], ...).
  virtual Result<Rows> run(std::string_view sql, Params params) = 0;
  Result<Rows> run(std::string_view sql, std::initializer_list<Value> params = {}) {
    return run(sql, Params(params.begin(), params.size()));
  }
  // Runs several statements without parameters or results (migrations).
  virtual Status run_script(std::string_view sql) = 0;

  virtual Status begin(Access access) = 0;
  // Commits; a failed commit leaves no transaction open.
  virtual Status commit() = 0;
  // Rolls back the open transaction, if any; never fails (a broken connection is closed instead).
  virtual void rollback() = 0;
  // True when the last failure was a serialization failure or deadlock: the whole transaction may
  // simply be run again.
  [[nodiscard]] virtual bool last_failure_retryable() const { return false; }
  // Store::checkpoint_log: nothing to do where the database has no log of its own to move.
  virtual Status checkpoint_log(int /*min_pages*/) { return Status::ok(); }
};

// A transaction on a connection, rolled back unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& c, Access access);
  Transaction(Transaction&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (c_ != nullptr) c_->rollback();
  }

  Status commit() { return std::exchange(c_, nullptr)->commit(); }

 private:
  explicit Transaction(Connection* c) : c_(c) {}
  Connection* c_;  // null once committed
};

class Database;

// A connection handed out by a Database; returned to it on destruction.
class ConnectionLease {
 public:
  ConnectionLease(Database* db, Connection* c) : db_(db), c_(c) {}
  ConnectionLease(ConnectionLease&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)), c_(std::exchange(other.c_, nullptr)) {}
  ConnectionLease& operator=(ConnectionLease&&) = delete;
  ConnectionLease(const ConnectionLease&) = delete;
  ConnectionLease& operator=(const ConnectionLease&) = delete;
  ~ConnectionLease();

  Connection& operator*() const { return *c_; }
  Connection* operator->() const { return c_; }

 private:
  Database* db_;  // null once moved from
  Connection* c_;
};

// The SQL that differs between databases, beyond what a Connection hides.
struct Dialect {
  std::string_view name;  // "sqlite", "postgresql"
  // Appended to a SELECT whose rows the transaction will update: they are locked until it ends.
  // SQLite needs none (a write transaction holds the whole database).
  std::string_view for_update;
  // Appended to the SELECT that picks a job to claim: rows another claimer holds are passed over
  // instead of waited for.
  std::string_view for_update_skip_locked;
  // Run first in a write transaction that appends to or cuts the leaves (the next index is read
  // and used under it), or empty.
  std::string_view lock_leaves;
  // What orders payment_notes as its rows were inserted (SQLite's rowid; a sequence column).
  std::string_view payment_notes_order;
  // Column types in the schema (written once for both databases, dialects.cpp), and its
  // auto-assigned integer key.
  std::string_view bytes_type;
  std::string_view int64_type;
  std::string_view real_type;
  std::string_view id_type;
  // What the database adds to each step of the schema of its own (possibly nothing).
  std::span<const std::string_view> own_migrations;
};

// Where connections come from: one connection behind a mutex (SQLite), a pool (PostgreSQL).
class Database {
 public:
  virtual ~Database() = default;
  // A connection for this thread; waits for one (kUnavailable past the database's wait limit).
  virtual Result<ConnectionLease> acquire() = 0;
  [[nodiscard]] virtual const Dialect& dialect() const = 0;
  // The schema version stored in the database (0 for an empty one), and setting it; both inside
  // the migration's transaction.
  virtual Result<std::int64_t> schema_version(Connection& c) = 0;
  virtual Status set_schema_version(Connection& c, std::int64_t version) = 0;
  // Runs first in the transaction that migrates the schema or creates the vault: serialises them
  // among processes opening the database at once (SQLite's write transaction does already).
  virtual Status lock_for_setup(Connection& /*c*/) { return Status::ok(); }

 private:
  friend class ConnectionLease;
  virtual void release(Connection* c) = 0;
};

// The dialects (dialects.cpp).
const Dialect& sqlite_dialect();
const Dialect& postgres_dialect();

// The schema version this build writes: the number of steps in the schema's history.
std::int64_t schema_version_of_this_build();
// The statements that take the schema from `from_version` to the next, as `dialect` runs them
// (0 <= from_version < schema_version_of_this_build()).
std::string migration(std::int64_t from_version, const Dialect& dialect);

}  // namespace bucketpay::sql
