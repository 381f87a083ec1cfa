#include <sodium.h>
#include <sqlite3.h>

#include <array>
#include <chrono>
#include <memory>
#include <mutex>

#include "bucketpay/clock.h"
#include "bucketpay/service.h"

namespace bucketpay {
namespace {

constexpr std::string_view kPrefix = "bpt_";
constexpr std::size_t kIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;
// "bpt_" + 16 hex + "_" + 64 hex.
constexpr std::size_t kTokenLength = kPrefix.size() + 2 * kIdBytes + 1 + 2 * kSecretBytes;

std::string to_hex(const std::uint8_t* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[bytes[i] >> 4]);
    s.push_back(kDigits[bytes[i] & 15]);
  }
  return s;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, Finalize>;

}  // namespace

struct TokenStore::Impl {
  sqlite3* db = nullptr;
  std::mutex mu;

  ~Impl() { sqlite3_close(db); }

  Status error(std::string_view what) const {
    const int code = sqlite3_errcode(db);
    std::string m = std::string(what) + ": " + sqlite3_errmsg(db);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status::unavailable(m);
    if (code == SQLITE_FULL) return Status::resource_exhausted(m);
    return Status::io_error(m);
  }

  Status exec(const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return error("token store");
    return Status::ok();
  }

  Result<Stmt> prepare(const char* sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) return error("token store");
    return Stmt(raw);
  }
};

std::filesystem::path TokenStore::path_for_store(const std::filesystem::path& store_file) {
  return std::filesystem::path(store_file.string() + ".tokens");
}

TokenStore::TokenStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TokenStore::~TokenStore() = default;

Result<std::unique_ptr<TokenStore>> TokenStore::open(const std::filesystem::path& file) {
  if (sodium_init() < 0) return Status::internal("libsodium failed to initialise");
  auto impl = std::make_unique<Impl>();
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
  }
  if (sqlite3_open_v2(file.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    Status s = impl->db != nullptr ? impl->error("opening " + file.string())
                                   : Status::resource_exhausted("opening " + file.string());
    return s;
  }
  sqlite3_busy_timeout(impl->db, 5000);
  BUCKETPAY_RETURN_IF_ERROR(impl->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  BUCKETPAY_RETURN_IF_ERROR(
      impl->exec("CREATE TABLE IF NOT EXISTS tokens ("
                 " id TEXT PRIMARY KEY, wallet TEXT NOT NULL, secret_sha256 BLOB NOT NULL,"
                 " created_ms INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"));
  return std::unique_ptr<TokenStore>(new TokenStore(std::move(impl)));
}

Result<TokenStore::Created> TokenStore::create(std::string_view wallet) {
  if (wallet.empty()) return Status::invalid_argument("a token needs a wallet name");
  std::array<std::uint8_t, kIdBytes> id{};
  std::array<std::uint8_t, kSecretBytes> secret{};
  randombytes_buf(id.data(), id.size());
  randombytes_buf(secret.data(), secret.size());
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> hash{};
  crypto_hash_sha256(hash.data(), secret.data(), secret.size());
  Created c;
  c.id = to_hex(id.data(), id.size());
  c.token = std::string(kPrefix) + c.id + "_" + to_hex(secret.data(), secret.size());
  sodium_memzero(secret.data(), secret.size());

  std::lock_guard lock(impl_->mu);
  auto st = impl_->prepare("INSERT INTO tokens (id, wallet, secret_sha256, created_ms) VALUES (?, ?, ?, ?)");
  if (!st.ok()) return st.status();
  sqlite3_bind_text(st->get(), 1, c.id.data(), static_cast<int>(c.id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st->get(), 2, wallet.data(), static_cast<int>(wallet.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(st->get(), 3, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st->get(), 4, Clock::system().unix_ms());
  if (sqlite3_step(st->get()) != SQLITE_DONE) return impl_->error("storing a token");
  return c;
}

Result<std::string> TokenStore::authenticate(std::string_view token) {
  const Status unknown = Status::not_found("unknown or revoked token");
  if (token.size() != kTokenLength || token.substr(0, kPrefix.size()) != kPrefix ||
      token[kPrefix.size() + 2 * kIdBytes] != '_') {
    return unknown;
  }
  const std::string_view id = token.substr(kPrefix.size(), 2 * kIdBytes);
  const std::string_view secret_hex = token.substr(kPrefix.size() + 2 * kIdBytes + 1);
  if (!is_lower_hex(id) || !is_lower_hex(secret_hex)) return unknown;
  std::array<std::uint8_t, kSecretBytes> secret{};
  std::size_t len = 0;
  if (sodium_hex2bin(secret.data(), secret.size(), secret_hex.data(), secret_hex.size(), nullptr, &len, nullptr) != 0 ||
      len != secret.size()) {
    return unknown;
  }
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> hash{};
  crypto_hash_sha256(hash.data(), secret.data(), secret.size());
  sodium_memzero(secret.data(), secret.size());

  std::lock_guard lock(impl_->mu);
  auto st = impl_->prepare("SELECT wallet, secret_sha256, revoked FROM tokens WHERE id = ?");
  if (!st.ok()) return st.status();
  sqlite3_bind_text(st->get(), 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st->get());
  if (rc == SQLITE_DONE) return unknown;
  if (rc != SQLITE_ROW) return impl_->error("looking up a token");
  const auto* stored = static_cast<const std::uint8_t*>(sqlite3_column_blob(st->get(), 1));
  if (stored == nullptr || sqlite3_column_bytes(st->get(), 1) != static_cast<int>(hash.size())) {
    return Status::corruption("token " + std::string(id) + " has a malformed hash");
  }
  const bool same = sodium_memcmp(stored, hash.data(), hash.size()) == 0;
  if (!same || sqlite3_column_int(st->get(), 2) != 0) return unknown;
  const auto* wallet = reinterpret_cast<const char*>(sqlite3_column_text(st->get(), 0));
  return std::string(wallet != nullptr ? wallet : "");
}

Status TokenStore::revoke(std::string_view id) {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->prepare("UPDATE tokens SET revoked = 1 WHERE id = ?");
  if (!st.ok()) return st.status();
  sqlite3_bind_text(st->get(), 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st->get()) != SQLITE_DONE) return impl_->error("revoking a token");
  if (sqlite3_changes(impl_->db) == 0) return Status::not_found("no token " + std::string(id));
  return Status::ok();
}

Result<std::vector<TokenStore::Info>> TokenStore::list() {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->prepare("SELECT id, wallet, created_ms, revoked FROM tokens ORDER BY created_ms, id");
  if (!st.ok()) return st.status();
  std::vector<Info> out;
  int rc = 0;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    Info i;
    i.id = reinterpret_cast<const char*>(sqlite3_column_text(st->get(), 0));
    i.wallet = reinterpret_cast<const char*>(sqlite3_column_text(st->get(), 1));
    i.created_ms = sqlite3_column_int64(st->get(), 2);
    i.revoked = sqlite3_column_int(st->get(), 3) != 0;
    out.push_back(std::move(i));
  }
  if (rc != SQLITE_DONE) return impl_->error("listing tokens");
  return out;
}

}  // namespace bucketpay
