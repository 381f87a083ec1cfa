// SqlStore's TokenStore: API tokens, stored as SHA-256 of their secret (store.h, TokenStore).
#include <sodium.h>

#include <array>
#include <string>

#include "record_codec.h"
#include "sql_store.h"

namespace bucketpay {

using namespace store_codec;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::string_view kPrefix = "bpt_";
constexpr std::size_t kIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;
// "bpt_" + 16 hex + "_" + 64 hex.
constexpr std::size_t kTokenLength = kPrefix.size() + 2 * kIdBytes + 1 + 2 * kSecretBytes;

using Hash = std::array<std::uint8_t, crypto_hash_sha256_BYTES>;

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * bytes.size());
  for (const std::uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

bool is_lower_hex(std::string_view s) {
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The id and the hash of the secret of a well-formed token, or nullopt.
std::optional<std::pair<std::string, Hash>> parse_token(std::string_view token) {
  if (token.size() != kTokenLength || token.substr(0, kPrefix.size()) != kPrefix ||
      token[kPrefix.size() + 2 * kIdBytes] != '_') {
    return std::nullopt;
  }
  const std::string_view id = token.substr(kPrefix.size(), 2 * kIdBytes);
  const std::string_view secret_hex = token.substr(kPrefix.size() + 2 * kIdBytes + 1);
  if (!is_lower_hex(id) || !is_lower_hex(secret_hex)) return std::nullopt;
  std::array<std::uint8_t, kSecretBytes> secret{};
  std::size_t len = 0;
  if (sodium_hex2bin(secret.data(), secret.size(), secret_hex.data(), secret_hex.size(), nullptr, &len, nullptr) != 0 ||
      len != secret.size()) {
    return std::nullopt;
  }
  Hash hash{};
  crypto_hash_sha256(hash.data(), secret.data(), secret.size());
  wipe(secret);
  return std::make_pair(std::string(id), hash);
}

}  // namespace

std::string_view token_scope_name(TokenScope scope) { return scope == TokenScope::kSpend ? "spend" : "read"; }

std::optional<TokenScope> parse_token_scope(std::string_view name) {
  if (name == "read") return TokenScope::kRead;
  if (name == "spend") return TokenScope::kSpend;
  return std::nullopt;
}

namespace {

Result<TokenScope> stored_scope(std::string_view id, std::string_view name) {
  const std::optional<TokenScope> scope = parse_token_scope(name);
  if (!scope) return Status::corruption("token " + std::string(id) + " has an unknown scope");
  return *scope;
}

}  // namespace

Result<TokenStore::CreatedToken> SqlStore::create_token(std::string_view wallet, TokenScope scope) {
  return run<Result<CreatedToken>>("create_token", [&](Connection& c) -> Result<CreatedToken> {
    if (wallet.empty()) return Status::invalid_argument("a token needs a wallet name");
    if (sodium_init() < 0) return Status::internal("libsodium failed to initialise");
    std::array<std::uint8_t, kIdBytes> id{};
    std::array<std::uint8_t, kSecretBytes> secret{};
    randombytes_buf(id.data(), id.size());
    randombytes_buf(secret.data(), secret.size());
    Hash hash{};
    crypto_hash_sha256(hash.data(), secret.data(), secret.size());
    CreatedToken created;
    created.id = to_hex(id);
    created.token = std::string(kPrefix) + created.id + "_" + to_hex(secret);
    wipe(secret);
    BUCKETPAY_RETURN_IF_ERROR(c.run("INSERT INTO api_tokens(id, wallet, secret_sha256, created_ms, revoked, scope) "
                                    "VALUES (?1, ?2, ?3, ?4, 0, ?5)",
                                    {created.id, wallet, hash, now_ms(), token_scope_name(scope)})
                                  .status());
    return created;
  });
}

Result<TokenStore::TokenGrant> SqlStore::authenticate_token(std::string_view token) {
  // Every refusal is this one kNotFound, with no context: the caller cannot tell which it was.
  const Status unknown = Status::not_found("unknown or revoked token");
  const auto parsed = parse_token(token);
  if (!parsed) return unknown;
  using R = Result<std::optional<TokenGrant>>;
  R grant = run<R>("authenticate_token", [&](Connection& c) -> R {
    const auto& [id, hash] = *parsed;
    BUCKETPAY_ASSIGN_OR_RETURN(
        const sql::Rows r, c.run("SELECT wallet, secret_sha256, revoked, scope FROM api_tokens WHERE id = ?1", {id}));
    if (r.empty()) return std::optional<TokenGrant>();
    const sql::Bytes stored = r[0].blob(1);
    if (stored.size() != hash.size()) return Status::corruption("token " + id + " has a malformed hash");
    if (sodium_memcmp(stored.data(), hash.data(), hash.size()) != 0 || r[0].int64(2) != 0) {
      return std::optional<TokenGrant>();
    }
    BUCKETPAY_ASSIGN_OR_RETURN(const TokenScope scope, stored_scope(id, r[0].text(3)));
    return std::optional<TokenGrant>(TokenGrant{r[0].text(0), scope});
  });
  if (!grant.ok()) return grant.status();
  if (!*grant) return unknown;
  return std::move(**grant);
}

Status SqlStore::revoke_token(std::string_view id) {
  return run<Status>("revoke_token", [&](Connection& c) -> Status {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows r, c.run("UPDATE api_tokens SET revoked = 1 WHERE id = ?1", {id}));
    if (r.affected() == 0) return Status::not_found("no token " + std::string(id));
    return Status::ok();
  });
}

Result<std::vector<TokenStore::TokenInfo>> SqlStore::list_tokens() {
  return run<Result<std::vector<TokenInfo>>>("list_tokens", [&](Connection& c) -> Result<std::vector<TokenInfo>> {
    BUCKETPAY_ASSIGN_OR_RETURN(const sql::Rows rows,
                               c.run("SELECT id, wallet, created_ms, revoked, scope FROM api_tokens "
                                     "ORDER BY created_ms, id"));
    std::vector<TokenInfo> out;
    out.reserve(rows.size());
    for (const sql::Row row : rows) {
      BUCKETPAY_ASSIGN_OR_RETURN(const TokenScope scope, stored_scope(row.text(0), row.text(4)));
      out.push_back({row.text(0), row.text(1), row.int64(2), row.int64(3) != 0, scope});
    }
    return out;
  });
}

}  // namespace bucketpay
