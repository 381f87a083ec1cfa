#include "pgstore/pool.h"

#include <new>
#include <utility>

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

bool is_retryable(const std::exception& e) {
  return dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr ||
         dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr;
}

Pool::Handle::~Handle() {
  if (pool_ != nullptr) {
    pool_->release(std::move(conn_));
  }
}

Result<std::unique_ptr<pqxx::connection>> Pool::connect() {
  try {
    auto conn = std::make_unique<pqxx::connection>(settings_.url);
    pqxx::nontransaction setup(*conn);
    // Commits wait for the WAL flush whatever the server's default: the Store's durability promise.
    setup.exec("SET synchronous_commit = on");
    setup.exec("SET lock_timeout = " + std::to_string(settings_.lock_timeout.count()));
    setup.commit();
    return conn;
  } catch (const std::exception& e) {
    Status s = status_from_exception(e, "connecting to PostgreSQL");
    if (s.code() == StatusCode::kInternal) {
      s = Status::unavailable(s.message());
    }
    return s;
  }
}

Result<Pool::Handle> Pool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + settings_.acquire_timeout;
  while (true) {
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->is_open()) {
        return Handle(this, std::move(conn));
      }
      --open_;  // closed behind our back: make a new one below
      continue;
    }
    if (open_ < settings_.max_connections) {
      ++open_;
      lock.unlock();
      Result<std::unique_ptr<pqxx::connection>> conn = connect();
      if (!conn.ok()) {
        lock.lock();
        --open_;
        returned_.notify_one();
        return conn.status();
      }
      return Handle(this, std::move(*conn));
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= settings_.max_connections) {
      return Status::unavailable("no free database connection within " +
                                 std::to_string(settings_.acquire_timeout.count()) + " ms (" +
                                 std::to_string(settings_.max_connections) + " in use)");
    }
  }
}

void Pool::release(std::unique_ptr<pqxx::connection> conn) {
  const std::lock_guard lock(mutex_);
  if (conn && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  returned_.notify_one();
}

}  // namespace bucketpay::pg
