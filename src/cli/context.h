// What the store- and prover-using commands share: the common options (--db, --wallet, prover
// flags), opening the store they name, and starting a prover.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "bucketpay/pg_store.h"
#include "bucketpay/prover.h"
#include "bucketpay/store.h"

namespace bucketpay::cli {

// $BUCKETPAY_DB, else ~/.bucketpay/bucketpay.db.
std::filesystem::path default_db();
// A --db value naming a PostgreSQL database rather than a SQLite file.
bool is_postgres_url(const std::string& db);

struct CommonOptions {
  std::string db = default_db().string();
  std::string wallet = "default";
  bool json_out = false;
  // prover
  std::optional<std::string> crs;
  std::optional<std::string> bb;
  std::string circuits;  // default: runtime_files().circuits()
  int workers = 0;
  int threads = 0;
  std::size_t batch_size = 0;
  int timeout_s = 120;
  bool sequential = false;
  bool stats = false;
  bool allow_short_passphrase = false;  // init

  CommonOptions();
};

// The passphrase ($BUCKETPAY_PASSPHRASE or a prompt) and the key derivation for a new store
// (key_derivation_params()).
// For a new store (`new_store`), a passphrase asked on a terminal is asked twice and one under 12
// characters refused unless `allow_short_passphrase` (read_new_passphrase).
Result<StoreOptions> store_options_from_env(bool new_store = false, bool allow_short_passphrase = false);
// The store named by --db: a PostgreSQL URL (postgresql://, postgres://) or a SQLite file, which
// must exist unless `create`.
Result<std::unique_ptr<Store>> open_store(const CommonOptions& o, bool create);
// A SQLite store a command may create (`init`, `key restore`): unless keep() is called, its
// destructor removes the store file (and SQLite's -wal/-shm files beside it) when there was none
// at construction, so a command that fails after making the store (an unreachable node, a wrong
// backup passphrase, a malformed backup) leaves no store behind whose passphrase would refuse the
// next attempt. An existing file (an empty one included) and a PostgreSQL store are never touched.
// Destroy it after the Store it guards (declare it first).
class NewStoreGuard {
 public:
  explicit NewStoreGuard(const CommonOptions& o);
  ~NewStoreGuard();
  NewStoreGuard(const NewStoreGuard&) = delete;
  NewStoreGuard& operator=(const NewStoreGuard&) = delete;
  void keep() { keep_ = true; }

 private:
  std::optional<std::filesystem::path> new_file_;  // set when there was no file at construction
  bool keep_ = false;
};
// open_store(o, false), then kNotFound naming --wallet unless the store has that wallet.
Result<std::unique_ptr<Store>> open_wallet_store(const CommonOptions& o);
Result<std::unique_ptr<PgStore>> open_pg(const CommonOptions& o);
// The directory for local files (the verification-key cache): the SQLite store's; for a PostgreSQL
// store, that of $BUCKETPAY_DB when it names a file, else ~/.bucketpay (never a path made of a URL).
std::filesystem::path local_dir(const CommonOptions& o);
// For a PostgreSQL store: a note when a tokens file an earlier version wrote for it exists (tokens
// are in the database now; that file is not read).
std::optional<std::string> legacy_tokens_note(const CommonOptions& o);
// A prover pool for a one-shot command (no warm-up proofs).
Result<std::unique_ptr<ProverPool>> start_pool(const CommonOptions& o);

void add_store_options(CLI::App* cmd, CommonOptions& o);
void add_engine_options(CLI::App* cmd, CommonOptions& o);

}  // namespace bucketpay::cli
