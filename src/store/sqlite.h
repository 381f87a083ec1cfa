// Small RAII wrappers over SQLite's C API, private to the store module.
//
// Db owns one connection and a cache of prepared statements. Stmt borrows a cached statement and
// resets it (clearing bindings) when it goes out of scope, so one SQL text must not be in use twice
// at the same time. Transaction is BEGIN IMMEDIATE ... COMMIT, rolled back if not committed.
//
// Thread safety: none; the owner serialises access (SqliteStore holds a mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bucketpay/status.h"

namespace bucketpay::sqlite {

// A Status for SQLite result code `rc` (extended codes understood), naming `context`.
Status to_status(int rc, sqlite3* db, std::string_view context);

class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Stmt(Stmt&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_), bind_rc_(other.bind_rc_) {}
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based. A binding error is reported by the next step().
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view text);
  Stmt& bind(int i, std::span<const std::uint8_t> blob);  // an empty span binds a zero-length blob
  Stmt& bind_null(int i);

  // true: a row is available; false: done.
  Result<bool> step();
  // Steps to completion (ignoring rows), then resets so the statement can be bound and run again.
  Status run();

  [[nodiscard]] bool is_null(int col) const;
  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] double real(int col) const;
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] std::vector<std::uint8_t> blob(int col) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = SQLITE_OK;
};

class Db {
 public:
  // Opens (creating) the file.
  static Result<std::unique_ptr<Db>> open(const std::filesystem::path& file);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results.
  Status exec(const char* sql);
  // A cached prepared statement for `sql` (the text must outlive the Db: use literals).
  Result<Stmt> prepare(const char* sql);

  [[nodiscard]] std::int64_t last_insert_rowid() const;
  [[nodiscard]] std::int64_t changes() const;
  [[nodiscard]] sqlite3* handle() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<sqlite3_stmt, Finalize>> cache_;
};

class Transaction {
 public:
  static Result<Transaction> begin(Db& db);  // BEGIN IMMEDIATE: takes the write lock now
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;  // null once committed or rolled back
};

}  // namespace bucketpay::sqlite
