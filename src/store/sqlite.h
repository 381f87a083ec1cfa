// The SQLite side of the SQL store (store/sql.h), private to the store module: a Database of one
// SQLite connection, handed to one thread at a time (calls do not run in parallel). Other
// processes are kept out by SQLite's own locks: a write transaction is BEGIN IMMEDIATE, which takes
// the write lock at once, waiting up to the busy timeout.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string_view>

#include "sql.h"

namespace bucketpay::sqlite {

// A Status for SQLite result code `rc` (extended codes understood), naming `context`.
Status to_status(int rc, sqlite3* db, std::string_view context);

// The database in `file`, which must exist (an empty file becomes a SQLite database), in WAL mode
// with synchronous=FULL, foreign keys on and the busy timeout. kCorruption when it is not a
// database.
Result<std::unique_ptr<sql::Database>> open_database(const std::filesystem::path& file, int busy_timeout_ms);

}  // namespace bucketpay::sqlite
