// A small pool of libpqxx connections, and the mapping of libpqxx's exceptions to Status. Private
// to the pgstore module.
//
// Thread safety: acquire() may be called from any thread; a Handle (one connection) belongs to the
// thread that acquired it until it is destroyed, which returns the connection to the pool (or
// closes it, after discard() or when it broke).
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bucketpay/status.h"

namespace bucketpay::pg {

// The Status for an exception thrown by libpqxx (or anything else), prefixed with `context`:
// unique violation -> kAlreadyExists, foreign key -> kNotFound, other constraint or bad data ->
// kInvalidArgument, lock timeout, broken connection, serialization failure -> kUnavailable,
// statement timeout -> kTimeout, disk full or out of memory -> kResourceExhausted, else kInternal.
Status status_from_exception(const std::exception& e, std::string_view context);

// True when `e` says the transaction may simply be run again (serialization failure, deadlock).
bool is_retryable(const std::exception& e);

struct PoolSettings {
  std::string url;
  int max_connections = 4;
  std::chrono::milliseconds acquire_timeout{5000};  // waiting for a free connection
  std::chrono::milliseconds lock_timeout{5000};     // each session's lock_timeout
};

class Pool {
 public:
  explicit Pool(PoolSettings settings) : settings_(std::move(settings)) {}
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  class Handle {
   public:
    Handle(Pool* pool, std::unique_ptr<pqxx::connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Handle(Handle&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Handle& operator=(Handle&&) = delete;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle();

    pqxx::connection& operator*() const { return *conn_; }
    pqxx::connection* operator->() const { return conn_.get(); }
    // Closes the connection instead of returning it (it broke, or its state is unknown).
    void discard() { conn_.reset(); }

   private:
    Pool* pool_;  // null once moved from
    std::unique_ptr<pqxx::connection> conn_;
  };

  // An idle connection, a new one while fewer than max_connections are open, or the first one
  // returned within acquire_timeout (else kUnavailable). A new connection that cannot be made:
  // kUnavailable. Never throws.
  Result<Handle> acquire();

 private:
  Result<std::unique_ptr<pqxx::connection>> connect();
  void release(std::unique_ptr<pqxx::connection> conn);

  const PoolSettings settings_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mutex_
  int open_ = 0;                                         // guarded by mutex_: idle + handed out
};

}  // namespace bucketpay::pg
