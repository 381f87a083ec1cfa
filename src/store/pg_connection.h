// The PostgreSQL side of the SQL store (store/sql.h), private to the store module: connections
// over libpqxx, and a pool of them as the Database.
//
// Parameters go to the server as text (bytes as bytea's hex form \x...), their types inferred from
// the statement; ?N placeholders are rewritten to $N. Results are typed by their column's type:
// integers and booleans as integers, floating point as reals, bytea as bytes, the rest as text.
// Each connection runs with synchronous_commit = on and lock_timeout = the store's busy timeout.
//
// Thread safety: the pool's acquire() may be called from any thread; a connection belongs to the
// thread holding its lease.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "sql.h"

namespace bucketpay::pg {

// The Status for an exception thrown by libpqxx (or anything else), prefixed with `context`:
// unique violation -> kAlreadyExists, foreign key -> kNotFound, other constraint or bad data ->
// kInvalidArgument, lock timeout, broken connection, serialization failure -> kUnavailable,
// statement timeout -> kTimeout, disk full or out of memory -> kResourceExhausted, else kInternal.
Status status_from_exception(const std::exception& e, std::string_view context);

// `sql` with ?N parameters written as $N (outside quoted strings and identifiers).
std::string dollar_placeholders(std::string_view sql);

// A session of its own (e.g. to hold a session-level advisory lock). kUnavailable when the server
// cannot be reached within the conninfo's connect_timeout.
Result<std::unique_ptr<sql::Connection>> connect(const std::string& conninfo, std::chrono::milliseconds lock_timeout);

struct PoolSettings {
  std::string conninfo;
  int max_connections = 4;
  std::chrono::milliseconds acquire_timeout{5000};  // waiting for a free connection
  std::chrono::milliseconds lock_timeout{5000};     // each session's lock_timeout
};

// A pool of at most max_connections connections: an idle one, a new one, or the first one
// returned within acquire_timeout (else kUnavailable). Connections are made as calls need them.
std::unique_ptr<sql::Database> make_pool(PoolSettings settings);

}  // namespace bucketpay::pg
