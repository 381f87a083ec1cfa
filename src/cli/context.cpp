#include "context.h"

#include <cstdlib>

#include "bucketpay/bb.h"
#include "bucketpay/vault.h"
#include "key_derivation.h"
#include "passphrase.h"
#include "runtime_files.h"

namespace bucketpay::cli {

namespace fs = std::filesystem;

namespace {

fs::path home_directory() {
  const char* home = std::getenv("HOME");
  return home != nullptr ? fs::path(home) : fs::path(".");
}

fs::path home_store() { return home_directory() / ".bucketpay" / "bucketpay.db"; }

std::optional<fs::path> path_from_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return fs::path(value);
}

}  // namespace

fs::path default_db() {
  if (const char* env = std::getenv("BUCKETPAY_DB"); env != nullptr && *env != '\0') return env;
  return home_store();
}

bool is_postgres_url(const std::string& db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

CommonOptions::CommonOptions() : circuits(runtime_files().circuits().string()) {}

Result<StoreOptions> store_options_from_env(bool new_store, bool allow_short_passphrase) {
  constexpr std::size_t kMinPassphrase = 12;
  auto pass = new_store
                  ? read_new_passphrase("new bucketpay passphrase: ", "the same passphrase again: ", kMinPassphrase,
                                        allow_short_passphrase)
                  : read_passphrase("bucketpay passphrase: ");
  if (!pass.ok() && new_store && pass.status().message().find("characters; a new one needs") != std::string::npos) {
    return Status::invalid_argument(pass.status().message() + " (--allow-weak-passphrase takes it)");
  }
  if (!pass.ok()) return pass.status();
  StoreOptions so;
  so.passphrase = *pass;
  so.vault_params = key_derivation_params();
  return so;
}

Result<std::unique_ptr<Store>> open_store(const CommonOptions& o, bool create) {
  if (is_postgres_url(o.db)) {
    auto pg = open_pg(o);
    if (!pg.ok()) return pg.status();
    return std::unique_ptr<Store>(std::move(*pg));
  }
  const fs::path db(o.db);
  std::error_code ec;
  if (!create && !fs::exists(db, ec)) {
    return Status::failed_precondition("no store at " + db.string() + "; run `bucketpay init --db " + db.string() +
                                       "` first");
  }
  const bool new_store = create && !fs::exists(db, ec);
  auto so = store_options_from_env(new_store, o.allow_short_passphrase);
  if (!so.ok()) return so.status();
  return open_sqlite_store(db, *so);
}

NewStoreGuard::NewStoreGuard(const CommonOptions& o) {
  if (is_postgres_url(o.db)) return;
  std::error_code ec;
  if (!fs::exists(o.db, ec) && !ec) new_file_ = fs::path(o.db);
}

NewStoreGuard::~NewStoreGuard() {
  if (keep_ || !new_file_) return;
  std::error_code ec;  // best effort: a destructor reports nothing
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(new_file_->string() + suffix, ec);
}

Result<std::unique_ptr<Store>> open_wallet_store(const CommonOptions& o) {
  auto store = open_store(o, false);
  if (!store.ok()) return store.status();
  auto key = (*store)->get_spending_key(o.wallet);
  if (key.ok()) return store;
  if (key.status().code() != StatusCode::kNotFound) return key.status().with_context("wallet " + o.wallet);
  const std::string where = is_postgres_url(o.db) ? "the PostgreSQL store" : o.db;
  return Status::not_found("no wallet '" + o.wallet + "' in " + where + " (create it with `bucketpay init --wallet " +
                           o.wallet + "`)");
}

Result<std::unique_ptr<PgStore>> open_pg(const CommonOptions& o) {
  if (!is_postgres_url(o.db)) {
    return Status::invalid_argument("--db must be a PostgreSQL URL (postgresql://...), not " + o.db);
  }
  auto so = store_options_from_env();
  if (!so.ok()) return so.status();
  return open_pg_store(o.db, *so);
}

fs::path local_dir(const CommonOptions& o) {
  if (!is_postgres_url(o.db)) return fs::path(o.db).parent_path();
  const fs::path fallback = default_db();  // never a URL: it would become a path, password and all
  return (is_postgres_url(fallback.string()) ? home_store() : fallback).parent_path();
}

std::optional<std::string> legacy_tokens_note(const CommonOptions& o) {
  if (!is_postgres_url(o.db)) return std::nullopt;  // a SQLite store imports its tokens file itself
  const std::string old_db = default_db().string();
  std::error_code ec;
  if (!fs::exists(old_db + ".tokens", ec)) return std::nullopt;
  if (is_postgres_url(old_db)) {
    return "an earlier version kept API tokens for this PostgreSQL store in a file named after $BUCKETPAY_DB "
           "(password included, under the directory it ran in); they are not read any more: make new ones with "
           "`bucketpay token create` and delete that file";
  }
  return old_db +
         ".tokens holds API tokens of an earlier version; a PostgreSQL store keeps its tokens in the "
         "database and does not read that file: make new ones with `bucketpay token create`";
}

Result<std::unique_ptr<ProverPool>> start_pool(const CommonOptions& o) {
  const RuntimeFiles files = runtime_files();
  std::vector<fs::path> bb_candidates;
  if (o.bb) {
    bb_candidates.emplace_back(*o.bb);
  } else {
    if (auto from_env = path_from_environment("BUCKETPAY_BB")) bb_candidates.push_back(*from_env);
    bb_candidates.push_back(files.bb());
  }
  auto bb_path = bb::locate_binary(bb_candidates);
  if (!bb_path.ok()) return bb_path.status();
  ProverConfig c;
  c.bb_binary = *bb_path;
  c.crs_dir = bb::crs_directory(o.crs ? std::optional<fs::path>(*o.crs) : std::nullopt,
                                path_from_environment("BUCKETPAY_CRS"), home_directory());
  c.circuits_dir = o.circuits;
  c.witness_server = files.witness_server();
  // Verification keys are cached beside the store.
  c.vk_cache_dir = local_dir(o) / "vk-cache";
  c.workers = o.sequential ? 1 : o.workers;
  c.threads_per_worker = o.threads;
  c.proof_timeout = std::chrono::seconds(o.timeout_s);
  // A one-shot command would pay the warm-up proofs on top of its own: only a long-running
  // process (the service) gains from warming up.
  c.warm_up = false;
  return ProverPool::start(c);
}

void add_store_options(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("-d,--db", o.db,
                  "the store: a SQLite file or a PostgreSQL URL (postgresql://...); default $BUCKETPAY_DB or "
                  "~/.bucketpay/bucketpay.db");
  cmd->add_option("-w,--wallet", o.wallet, "the wallet's name")->capture_default_str();
  cmd->add_flag("-j,--json", o.json_out, "print JSON");
}

void add_engine_options(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--crs", o.crs, "the CRS directory (default $BUCKETPAY_CRS, else ~/.bb-crs)");
  cmd->add_option("--bb", o.bb, "the bb binary (default: $BUCKETPAY_BB, else the pinned one of the runtime files)");
  cmd->add_option("--circuits", o.circuits, "the compiled circuits' directory")->capture_default_str();
  cmd->add_option("--workers", o.workers, "prover workers (0: one per core)")->check(CLI::Range(0, 256));
  cmd->add_option("--threads", o.threads, "bb threads per worker (0: cores / workers)")->check(CLI::Range(0, 256));
  cmd->add_option("--batch-size", o.batch_size, "proofs per batch (0: from available memory)");
  cmd->add_option("--timeout", o.timeout_s, "seconds per proof before it is retried")->check(CLI::Range(1, 86400));
  cmd->add_flag("--sequential", o.sequential, "one proof at a time on one worker");
  cmd->add_flag("--stats", o.stats, "print worker statistics");
}

}  // namespace bucketpay::cli
