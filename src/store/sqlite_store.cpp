// The SQLite store: SqlStore over one SQLite connection, the file it lives in (created whole, 0600),
// and what is SQLite's own: flock(2) locks beside the file and the import of an older version's
// tokens file.
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <system_error>
#include <thread>

#include "bucketpay/store.h"
#include "sql_store.h"
#include "sqlite.h"

namespace bucketpay {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::strerror(err); }

// An flock(2)ed file, unlocked and closed on destruction.
class FileLock final : public StoreLocks::Lock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  ~FileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

class SqliteStore final : public SqlStore {
 public:
  SqliteStore(std::unique_ptr<sql::Database> db, std::optional<Vault> vault, fs::path file)
      : SqlStore(std::move(db), std::move(vault)), file_(std::move(file)) {}

  Result<std::unique_ptr<Lock>> lock(std::string_view name, std::chrono::milliseconds timeout) override {
    // One file per lock name beside the database, locked with flock(2): the kernel drops the lock
    // when its holder exits, however it exits.
    std::string suffix;
    for (const char c : name) suffix += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
    const fs::path path = file_.string() + ".lock-" + suffix;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::io_error("opening " + path.string() + ": " + errno_text(errno));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return std::unique_ptr<Lock>(new FileLock(fd));
      const int err = errno;
      if (err != EWOULDBLOCK && err != EINTR) {
        ::close(fd);
        return Status::io_error("locking " + path.string() + ": " + errno_text(err));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::close(fd);
        return Status::unavailable("lock \"" + std::string(name) + "\" is held by another process (waited " +
                                   std::to_string(timeout.count()) + " ms)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  fs::path file_;  // the database, for lock files beside it
};

// Creates the missing directories of `dir`, each 0700 (those that exist are left alone).
Status make_private_directories(const fs::path& dir) {
  if (dir.empty()) return Status::ok();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::ok();
  BUCKETPAY_RETURN_IF_ERROR(make_private_directories(dir.parent_path()));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::io_error("creating " + dir.string() + ": " + errno_text(errno));
  }
  return Status::ok();
}

// Moves `from` to `to` unless `to` exists (then false).
Result<bool> move_unless_exists(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno == EINVAL && ::link(from.c_str(), to.c_str()) == 0) return true;  // no RENAME_NOREPLACE here
  if (errno == EEXIST) return false;
  return Status::io_error("moving " + from.string() + " to " + to.string() + ": " + errno_text(errno));
}

// A new store at `file`: made whole in a temporary file beside it (0600, schema written), then moved
// into place unless another process got there first (then theirs is used).
Status create_store_file(const fs::path& file, const StoreOptions& options) {
  const fs::path tmp =
      file.string() + ".new-" + std::to_string(::getpid()) + "-" + std::to_string(randombytes_random());
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io_error("creating " + tmp.string() + ": " + errno_text(errno));
  ::close(fd);
  Status made = [&]() -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(std::unique_ptr<sql::Database> db, sqlite::open_database(tmp, options.busy_timeout_ms));
    return SqlStore::prepare(*db, StoreOptions{}).status();  // the schema; the vault comes at open
  }();  // closed here: SQLite checkpoints the WAL into the file and removes it
  if (made.is_ok()) made = move_unless_exists(tmp, file).status();
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(tmp.string() + suffix, ec);
  return made;
}

// Tokens an earlier version kept in "<file>.tokens": copied into the store (those it has already
// are kept as they are) with scope spend (they could do everything), then the file renamed, so it
// is read once.
Status import_legacy_tokens(sql::Connection& c, const fs::path& file) {
  const fs::path legacy = file.string() + ".tokens";
  std::error_code ec;
  if (!fs::exists(legacy, ec)) return Status::ok();
  const std::string path = legacy.string();
  Status copied = c.run("ATTACH DATABASE ?1 AS legacy", {path}).status();
  if (copied.is_ok()) {
    copied = [&]() -> Status {
      BUCKETPAY_ASSIGN_OR_RETURN(sql::Transaction txn, sql::Transaction::begin(c, sql::Access::kWrite));
      BUCKETPAY_RETURN_IF_ERROR(
          c.run_script("INSERT INTO main.api_tokens(id, wallet, secret_sha256, created_ms, revoked, scope) "
                       "SELECT id, wallet, secret_sha256, created_ms, revoked, 'spend' FROM legacy.tokens WHERE true "
                       "ON CONFLICT (id) DO NOTHING"));
      return txn.commit();
    }();
    const Status detached = c.run_script("DETACH DATABASE legacy");
    if (copied.is_ok()) copied = detached;
  }
  if (!copied.is_ok()) {
    return copied.with_context("importing the API tokens of an earlier version from " + path +
                               " (move that file away to open the store without them)");
  }
  fs::rename(legacy, path + ".imported", ec);
  if (ec) return Status::io_error("renaming " + path + " after importing its tokens: " + ec.message());
  return Status::ok();
}

Result<std::unique_ptr<Store>> open_impl(const fs::path& file, const StoreOptions& options) {
  BUCKETPAY_RETURN_IF_ERROR(make_private_directories(file.parent_path()));
  std::error_code ec;
  if (!fs::exists(file, ec)) BUCKETPAY_RETURN_IF_ERROR(create_store_file(file, options));
  // Only create_store_file makes stores: an empty file is someone else's (or a truncated store).
  if (fs::is_regular_file(file, ec) && fs::file_size(file, ec) == 0) {
    return Status::failed_precondition(file.string() +
                                       " is an empty file, not a store (remove it to create a new store there)");
  }
  BUCKETPAY_ASSIGN_OR_RETURN(std::unique_ptr<sql::Database> db, sqlite::open_database(file, options.busy_timeout_ms));
  BUCKETPAY_ASSIGN_OR_RETURN(std::optional<Vault> vault, SqlStore::prepare(*db, options));
  {
    BUCKETPAY_ASSIGN_OR_RETURN(sql::ConnectionLease lease, db->acquire());
    BUCKETPAY_RETURN_IF_ERROR(import_legacy_tokens(*lease, file));
  }
  return std::unique_ptr<Store>(new SqliteStore(std::move(db), std::move(vault), file));
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file, const StoreOptions& options) {
  try {
    Result<std::unique_ptr<Store>> store = open_impl(file, options);
    if (!store.ok()) return store.status().with_context("opening store " + file.string());
    return store;
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("opening store " + file.string() + ": out of memory");
  } catch (const std::exception& e) {
    return Status::internal("opening store " + file.string() + ": " + e.what());
  }
}

}  // namespace bucketpay
