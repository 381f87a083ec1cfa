// SqlStore: opening (schema, vault), secrets and settings; the other roles are in sql_*.cpp.
#include "sql_store.h"

#include <string>
#include <utility>

#include "record_codec.h"

namespace bucketpay {

std::string_view note_state_name(NoteState state) {
  switch (state) {
    case NoteState::kPending:
      return "pending";
    case NoteState::kOnChain:
      return "on_chain";
    case NoteState::kSpending:
      return "spending";
    case NoteState::kSpent:
      return "spent";
  }
  return "unknown";
}

std::string_view job_state_name(JobState state) {
  switch (state) {
    case JobState::kPending:
      return "pending";
    case JobState::kRunning:
      return "running";
    case JobState::kDone:
      return "done";
    case JobState::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view payment_state_name(PaymentState state) {
  switch (state) {
    case PaymentState::kPrepared:
      return "prepared";
    case PaymentState::kSigned:
      return "signed";
    case PaymentState::kSubmitted:
      return "submitted";
    case PaymentState::kConfirmed:
      return "confirmed";
    case PaymentState::kFailed:
      return "failed";
  }
  return "unknown";
}

using namespace store_codec;  // NOLINT(google-build-using-namespace)

SqlStore::SqlStore(std::unique_ptr<sql::Database> db, std::optional<Vault> vault)
    : db_(std::move(db)), vault_(std::move(vault)) {}

// ---- Opening: schema and vault.

namespace {

Status migrate(sql::Database& db, sql::Connection& c) {
  BUCKETPAY_ASSIGN_OR_RETURN(sql::Transaction txn, sql::Transaction::begin(c, sql::Access::kWrite));
  BUCKETPAY_RETURN_IF_ERROR(db.lock_for_setup(c));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t version, db.schema_version(c));
  const std::int64_t latest = sql::schema_version_of_this_build();
  if (version > latest) {
    return Status::failed_precondition("the store has schema version " + std::to_string(version) +
                                       ", newer than this build's " + std::to_string(latest));
  }
  if (version == latest) return Status::ok();
  for (std::int64_t v = version; v < latest; ++v) {
    BUCKETPAY_RETURN_IF_ERROR(c.run_script(sql::migration(v, db.dialect())));
  }
  BUCKETPAY_RETURN_IF_ERROR(db.set_schema_version(c, latest));
  return txn.commit();
}

// The meta row `key`, or nullopt. Integers are decimal text (an older SQLite store has INTEGERs:
// Row::int64 reads both).
Result<std::optional<sql::Bytes>> meta_get(sql::Connection& c, std::string_view key) {
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run("SELECT value FROM meta WHERE key = ?1", {key}));
  if (rows.empty()) return std::optional<sql::Bytes>();
  return std::optional<sql::Bytes>(rows[0].blob(0));
}

Result<std::int64_t> meta_get_int(sql::Connection& c, std::string_view key) {
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows, c.run("SELECT value FROM meta WHERE key = ?1", {key}));
  return rows.empty() ? 0 : rows[0].int64(0);
}

Status meta_put(sql::Connection& c, std::string_view key, std::span<const std::uint8_t> value) {
  return c.run("INSERT INTO meta(key, value) VALUES (?1, ?2)", {key, value}).status();
}

// An existing vault, opened with the passphrase; kInvalidArgument when it is the wrong one.
Result<Vault> open_vault(sql::Connection& c, const sql::Bytes& salt, std::string_view passphrase) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t ops, meta_get_int(c, "vault_opslimit"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t mem, meta_get_int(c, "vault_memlimit"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<sql::Bytes> check, meta_get(c, "vault_check"));
  if (!check || ops <= 0 || mem <= 0) {
    return Status::corruption("the vault's parameters are missing or invalid");
  }
  const VaultParams params{static_cast<std::uint64_t>(ops), static_cast<std::size_t>(mem)};
  BUCKETPAY_ASSIGN_OR_RETURN(Vault vault, Vault::open(passphrase, salt, params));
  Result<sql::Bytes> plain = vault.unseal(*check, kVaultCheckAd);
  if (!plain.ok() ||
      std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()) != kVaultCheckPlaintext) {
    return Status::invalid_argument("wrong passphrase for the store");
  }
  return vault;
}

// Records a new vault, unless the store already holds secrets in plaintext.
Status record_vault(sql::Database& db, sql::Connection& c, const Vault& vault) {
  BUCKETPAY_ASSIGN_OR_RETURN(sql::Transaction txn, sql::Transaction::begin(c, sql::Access::kWrite));
  BUCKETPAY_RETURN_IF_ERROR(db.lock_for_setup(c));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<sql::Bytes> raced, meta_get(c, "vault_salt"));
  if (raced) return Status::unavailable("another process created a vault meanwhile; reopen");
  BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows secrets,
                             c.run("SELECT EXISTS(SELECT 1 FROM notes) OR EXISTS(SELECT 1 FROM secrets) "
                                   "OR EXISTS(SELECT 1 FROM named_secrets) "
                                   "OR EXISTS(SELECT 1 FROM precomputes WHERE outputs IS NOT NULL) "
                                   "OR EXISTS(SELECT 1 FROM jobs WHERE spec IS NOT NULL)"));
  if (!secrets.empty() && secrets[0].int64(0) != 0) {
    return Status::failed_precondition("the store already holds unsealed secrets; a vault cannot be added to it");
  }
  const sql::Bytes check = vault.seal(as_bytes(kVaultCheckPlaintext), kVaultCheckAd);
  BUCKETPAY_RETURN_IF_ERROR(meta_put(c, "vault_salt", vault.salt()));
  BUCKETPAY_RETURN_IF_ERROR(meta_put(c, "vault_opslimit", as_bytes(std::to_string(vault.params().opslimit))));
  BUCKETPAY_RETURN_IF_ERROR(meta_put(c, "vault_memlimit", as_bytes(std::to_string(vault.params().memlimit))));
  BUCKETPAY_RETURN_IF_ERROR(meta_put(c, "vault_check", check));
  return txn.commit();
}

Result<std::optional<Vault>> setup_vault(sql::Database& db, sql::Connection& c, const StoreOptions& options) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<sql::Bytes> salt, meta_get(c, "vault_salt"));
  if (salt) {
    if (!options.passphrase) {
      return Status::failed_precondition("the store is encrypted: a passphrase is needed to open it");
    }
    BUCKETPAY_ASSIGN_OR_RETURN(Vault vault, open_vault(c, *salt, *options.passphrase));
    return std::optional<Vault>(std::move(vault));
  }
  if (!options.passphrase) return std::optional<Vault>();
  // A new vault. Derive first (slow), then record it under the setup lock.
  BUCKETPAY_ASSIGN_OR_RETURN(Vault vault, Vault::create(*options.passphrase, options.vault_params));
  BUCKETPAY_RETURN_IF_ERROR(record_vault(db, c, vault));
  return std::optional<Vault>(std::move(vault));
}

}  // namespace

Result<std::optional<Vault>> SqlStore::prepare(sql::Database& db, const StoreOptions& options) {
  BUCKETPAY_ASSIGN_OR_RETURN(sql::ConnectionLease conn, db.acquire());
  BUCKETPAY_RETURN_IF_ERROR(migrate(db, *conn));
  return setup_vault(db, *conn, options);
}

// ---- Secrets at rest.

sql::Bytes SqlStore::seal_secret(std::span<const std::uint8_t> plain, std::string_view ad) const {
  if (vault_) return vault_->seal(plain, ad);
  return {plain.begin(), plain.end()};
}

Result<sql::Bytes> SqlStore::open_secret(std::span<const std::uint8_t> stored, std::string_view ad) const {
  if (vault_) return vault_->unseal(stored, ad);
  return sql::Bytes(stored.begin(), stored.end());
}

// ---- Spending keys and named secrets: only ever stored sealed, never overwritten.

Status SqlStore::put_spending_key(std::string_view wallet, const Fr& sk) {
  return run<Status>("put_spending_key", [&](Connection& c) -> Status {
    if (!vault_) {
      return Status::failed_precondition(
          "refusing to store a spending key: this store has no vault (open it with a passphrase)");
    }
    if (wallet.empty()) return Status::invalid_argument("the wallet name is empty");
    Fr::Bytes plain = sk.to_bytes();
    const sql::Bytes sealed = vault_->seal(plain, spending_key_ad(wallet));
    wipe(plain);
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                               c.run("INSERT INTO secrets(wallet, sk, created_ms) VALUES (?1, ?2, ?3) "
                                     "ON CONFLICT (wallet) DO NOTHING",
                                     {wallet, sealed, now_ms()}));
    if (r.affected() != 1) {
      return Status::already_exists("wallet '" + std::string(wallet) +
                                    "' already has a spending key (never overwritten)");
    }
    return Status::ok();
  });
}

Result<Fr> SqlStore::get_spending_key(std::string_view wallet) {
  return run<Result<Fr>>("get_spending_key", [&](Connection& c) -> Result<Fr> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("SELECT sk FROM secrets WHERE wallet = ?1", {wallet}));
    if (r.empty()) return Status::not_found("no spending key for wallet '" + std::string(wallet) + "'");
    if (!vault_) return Status::failed_precondition("the spending key is sealed and this store has no vault");
    BUCKETPAY_ASSIGN_OR_RETURN(sql::Bytes plain, vault_->unseal(r[0].blob(0), spending_key_ad(wallet)));
    Result<Fr> sk = decode_fr(plain, "spending key");
    wipe(plain);
    return sk;
  });
}

Status SqlStore::put_secret(std::string_view wallet, std::string_view name, std::span<const std::uint8_t> value) {
  return run<Status>("put_secret", [&](Connection& c) -> Status {
    if (!vault_) {
      return Status::failed_precondition(
          "refusing to store a secret: this store has no vault (open it with a passphrase)");
    }
    if (wallet.empty() || name.empty()) return Status::invalid_argument("the wallet or secret name is empty");
    const sql::Bytes sealed = vault_->seal(value, secret_ad(wallet, name));
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("INSERT INTO named_secrets(wallet, name, value, created_ms) "
                                                        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (wallet, name) DO NOTHING",
                                                        {wallet, name, sealed, now_ms()}));
    if (r.affected() != 1) {
      return Status::already_exists("wallet '" + std::string(wallet) + "' already has a secret '" + std::string(name) +
                                    "' (never overwritten)");
    }
    return Status::ok();
  });
}

Result<std::vector<std::uint8_t>> SqlStore::get_secret(std::string_view wallet, std::string_view name) {
  return run<Result<sql::Bytes>>("get_secret", [&](Connection& c) -> Result<sql::Bytes> {
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows r, c.run("SELECT value FROM named_secrets WHERE wallet = ?1 AND name = ?2", {wallet, name}));
    if (r.empty()) {
      return Status::not_found("wallet '" + std::string(wallet) + "' has no secret '" + std::string(name) + "'");
    }
    if (!vault_) return Status::failed_precondition("the secret is sealed and this store has no vault");
    return vault_->unseal(r[0].blob(0), secret_ad(wallet, name));
  });
}

// ---- Settings.

Status SqlStore::checkpoint_log(int min_pages) {
  return run<Status>("checkpoint_log", [&](Connection& c) { return c.checkpoint_log(min_pages); });
}

Status SqlStore::put_setting(std::string_view wallet, std::string_view key, std::string_view value) {
  return run<Status>("put_setting", [&](Connection& c) {
    return c
        .run(
            "INSERT INTO settings(wallet, key, value) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (wallet, key) DO UPDATE SET value = excluded.value",
            {wallet, key, value})
        .status();
  });
}

Result<std::optional<std::string>> SqlStore::get_setting(std::string_view wallet, std::string_view key) {
  using R = Result<std::optional<std::string>>;
  return run<R>("get_setting", [&](Connection& c) -> R {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r,
                               c.run("SELECT value FROM settings WHERE wallet = ?1 AND key = ?2", {wallet, key}));
    if (r.empty()) return std::optional<std::string>();
    return std::optional<std::string>(r[0].text(0));
  });
}

}  // namespace bucketpay
