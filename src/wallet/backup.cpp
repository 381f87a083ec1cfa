// Wallet settings (WalletConfig in the store) and sealed backups.
#include <sodium.h>

#include <nlohmann/json.hpp>
#include <string>

#include "backup_parse.h"
#include "bucketpay/note.h"
#include "bucketpay/vault.h"
#include "bucketpay/wallet.h"

namespace bucketpay {

using json = nlohmann::json;

namespace {

constexpr std::string_view kBackupFormat = "bucketpay-backup-1";
constexpr std::string_view kEthKeySecret = "eth_key";

Result<std::uint64_t> parse_u64(std::string_view key, const std::string& text) {
  std::size_t used = 0;
  try {
    const auto v = std::stoull(text, &used);
    if (used == text.size() && !text.empty() && text[0] != '-' && text[0] != '+') return static_cast<std::uint64_t>(v);
  } catch (const std::exception&) {
  }
  return Status::corruption("wallet setting " + std::string(key) + " is not a number: " + text);
}

json config_json(const WalletConfig& c) {
  return json{{"rpc_url", c.rpc_url},
              {"pool", c.pool.to_hex()},
              {"relayer", c.relayer},
              {"payment_deadline", std::to_string(c.payment_deadline)},
              {"confirmations", std::to_string(c.confirmations)},
              {"start_block", std::to_string(c.start_block)},
              {"log_range", std::to_string(c.log_range)},
              {"policy", c.policy.to_string()},
              {"spend_limits", c.limits.to_string()}};
}

// Reads a config from string settings (the store's, or a backup's); `get` returns none when unset.
template <typename Get>
Result<WalletConfig> config_from(Get get) {
  WalletConfig c;
  auto need = [&](std::string_view key) -> Result<std::string> {
    BUCKETPAY_ASSIGN_OR_RETURN(std::optional<std::string> v, get(key));
    if (!v) return Status::not_found("wallet setting " + std::string(key) + " is missing");
    return std::move(*v);
  };
  BUCKETPAY_ASSIGN_OR_RETURN(c.rpc_url, need("rpc_url"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::string pool, need("pool"));
  auto a = eth::Address::from_string(pool);
  if (!a.ok()) return Status::corruption("wallet setting pool: " + a.status().message());
  c.pool = *a;
  // A wallet of protocol v1 named a payee and no relayer: it has none until one is set.
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<std::string> relayer, get("relayer"));
  c.relayer = relayer.value_or("");
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<std::string> deadline, get("payment_deadline"));
  if (deadline) {
    BUCKETPAY_ASSIGN_OR_RETURN(c.payment_deadline, parse_u64("payment_deadline", *deadline));
  }
  for (auto [key, num] : {std::pair{"confirmations", &c.confirmations}, std::pair{"start_block", &c.start_block},
                          std::pair{"log_range", &c.log_range}}) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string v, need(key));
    BUCKETPAY_ASSIGN_OR_RETURN(*num, parse_u64(key, v));
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::string policy, need("policy"));
  // Empty: stored by a version that left out a ladder with no targets.
  auto p = InventoryPolicy::parse(policy.empty() ? "1=0" : policy);
  if (!p.ok()) return Status::corruption("wallet setting policy: " + p.status().message());
  c.policy = *p;
  // Absent: stored by a version without spending limits.
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<std::string> limits, get("spend_limits"));
  if (limits) {
    auto l = SpendLimits::parse(*limits);
    if (!l.ok()) return Status::corruption("wallet setting spend_limits: " + l.status().message());
    c.limits = *l;
  }
  return c;
}

}  // namespace

Status save_config(Store& store, std::string_view wallet, const WalletConfig& config) {
  if (config.log_range == 0) return Status::invalid_argument("log_range must be positive");
  if (config.payment_deadline == 0) return Status::invalid_argument("payment_deadline must be positive");
  const json settings = config_json(config);
  for (const auto& [key, value] : settings.items()) {
    if (Status st = store.put_setting(wallet, key, value.get<std::string>()); !st.is_ok()) return st;
  }
  return Status::ok();
}

Result<WalletConfig> load_config(Store& store, std::string_view wallet) {
  return config_from([&](std::string_view key) { return store.get_setting(wallet, key); });
}

Result<std::string> export_backup(Store& store, std::string_view wallet, std::string_view passphrase,
                                  VaultParams params) {
  if (params.opslimit > kMaxBackupKdf.opslimit || params.memlimit > kMaxBackupKdf.memlimit) {
    return Status::invalid_argument("backup key derivation above what a restore accepts (opslimit " +
                                    std::to_string(kMaxBackupKdf.opslimit) + ", memlimit " +
                                    std::to_string(kMaxBackupKdf.memlimit) + " bytes)");
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const WalletConfig config, load_config(store, wallet));
  auto sk = store.get_spending_key(wallet);
  if (!sk.ok()) return sk.status().with_context("wallet " + std::string(wallet));
  auto eth_key = store.get_secret(wallet, kEthKeySecret);
  if (!eth_key.ok()) return eth_key.status().with_context("the wallet's account key");
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes, store.list_notes(wallet, std::nullopt));
  json payload{{"wallet", wallet},
               {"sk", sk->to_hex()},
               {"eth_key", eth::to_hex(*eth_key)},
               {"settings", config_json(config)},
               {"notes", json::array()}};
  sodium_memzero(eth_key->data(), eth_key->size());
  for (const auto& n : notes) {
    if (n.state == NoteState::kSpent) continue;
    payload["notes"].push_back(json{{"pk", n.pk.to_hex()}, {"value", n.value}, {"r", n.r.to_hex()}});
  }
  std::string text = payload.dump();
  payload = json();
  BUCKETPAY_ASSIGN_OR_RETURN(const Vault vault, Vault::create(passphrase, params));
  const auto sealed = vault.seal(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                                 std::string(kBackupFormat) + ":" + std::string(wallet));
  sodium_memzero(text.data(), text.size());
  json file{{"format", kBackupFormat},
            {"wallet", wallet},
            {"kdf",
             {{"algorithm", "argon2id13"},
              {"salt", eth::to_hex(vault.salt())},
              {"opslimit", params.opslimit},
              {"memlimit", params.memlimit}}},
            {"cipher", "xchacha20poly1305-ietf"},
            {"sealed", eth::to_hex(sealed)}};
  return file.dump(2) + "\n";
}

namespace {

Status not_a_backup(std::string_view why) {
  return Status::invalid_argument("not a bucketpay backup: " + std::string(why));
}

// obj[key] when obj is an object that has it, else null.
const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const std::string* string_member(const json& obj, const char* key) {
  const json* m = member(obj, key);
  return m != nullptr && m->is_string() ? &m->get_ref<const std::string&>() : nullptr;
}

}  // namespace

Result<BackupFile> parse_backup_file(std::string_view text) {
  const json file = json::parse(text, nullptr, false);
  if (file.is_discarded() || !file.is_object()) return not_a_backup("not JSON");
  const std::string* format = string_member(file, "format");
  if (format == nullptr || *format != kBackupFormat) return not_a_backup("unknown format");
  const std::string* wallet = string_member(file, "wallet");
  const json* kdf = member(file, "kdf");
  const std::string* sealed_hex = string_member(file, "sealed");
  if (wallet == nullptr || kdf == nullptr || !kdf->is_object() || sealed_hex == nullptr) {
    return not_a_backup("missing fields");
  }
  const std::string* salt_hex = string_member(*kdf, "salt");
  const json* ops = member(*kdf, "opslimit");
  const json* mem = member(*kdf, "memlimit");
  if (salt_hex == nullptr || ops == nullptr || !ops->is_number_unsigned() || mem == nullptr ||
      !mem->is_number_unsigned()) {
    return not_a_backup("malformed kdf");
  }
  BackupFile out;
  out.wallet = *wallet;
  out.kdf = VaultParams{ops->get<std::uint64_t>(), mem->get<std::size_t>()};
  if (out.kdf.opslimit > kMaxBackupKdf.opslimit || out.kdf.memlimit > kMaxBackupKdf.memlimit) {
    return not_a_backup("its key derivation asks for " + std::to_string(out.kdf.opslimit) + " passes over " +
                        std::to_string(out.kdf.memlimit) + " bytes; at most " + std::to_string(kMaxBackupKdf.opslimit) +
                        " passes over " + std::to_string(kMaxBackupKdf.memlimit) + " bytes are accepted");
  }
  auto salt = eth::from_hex(*salt_hex);
  auto sealed = eth::from_hex(*sealed_hex);
  if (!salt.ok() || !sealed.ok() || salt->size() != Vault::kSaltBytes) return not_a_backup("malformed hex");
  out.salt = std::move(*salt);
  out.sealed = std::move(*sealed);
  return out;
}

Result<BackupContents> parse_backup_contents(std::string_view plain) {
  const json payload = json::parse(plain, nullptr, false);
  const std::string* sk_text = string_member(payload, "sk");
  const std::string* eth_key_hex = string_member(payload, "eth_key");
  const json* settings = member(payload, "settings");
  const json* notes = member(payload, "notes");
  if (payload.is_discarded() || sk_text == nullptr || eth_key_hex == nullptr || settings == nullptr ||
      !settings->is_object() || notes == nullptr || !notes->is_array()) {
    return not_a_backup("malformed contents");
  }
  BackupContents out;
  auto sk = Fr::from_string(*sk_text);
  auto eth_key = eth::from_hex(*eth_key_hex);
  if (!sk.ok() || !eth_key.ok() || eth_key->size() != 32) return not_a_backup("malformed keys");
  out.sk = *sk;
  out.eth_key = std::move(*eth_key);
  auto config = config_from([&](std::string_view key) -> Result<std::optional<std::string>> {
    const std::string* v = string_member(*settings, std::string(key).c_str());
    return v == nullptr ? std::optional<std::string>() : std::optional<std::string>(*v);
  });
  if (!config.ok()) return not_a_backup(config.status().message());
  out.config = *config;
  const Fr pk = bucketpay::owner_key(SpendingKey::from_fr(out.sk));
  for (const json& n : *notes) {
    const std::string* npk = string_member(n, "pk");
    const std::string* r = string_member(n, "r");
    const json* value = member(n, "value");
    if (npk == nullptr || r == nullptr || value == nullptr || !value->is_number_unsigned()) {
      return not_a_backup("malformed note");
    }
    auto note_pk = Fr::from_string(*npk);
    auto note_r = Fr::from_string(*r);
    if (!note_pk.ok() || !note_r.ok()) return not_a_backup("malformed note");
    if (*note_pk != pk) return not_a_backup("a note that is not the wallet's");
    out.notes.push_back(BackupNote{*note_pk, value->get<std::uint64_t>(), *note_r});
  }
  return out;
}

Result<std::size_t> import_backup(Store& store, std::string_view backup_json, std::string_view passphrase) {
  BUCKETPAY_ASSIGN_OR_RETURN(const BackupFile file, parse_backup_file(backup_json));
  auto vault = Vault::open(passphrase, file.salt, file.kdf);
  if (!vault.ok()) return not_a_backup(vault.status().message());
  auto plain = vault->unseal(file.sealed, std::string(kBackupFormat) + ":" + file.wallet);
  if (!plain.ok()) return Status::invalid_argument("wrong passphrase, or the backup was modified");
  auto contents = parse_backup_contents(std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
  sodium_memzero(plain->data(), plain->size());
  if (!contents.ok()) return contents.status();
  const std::string& wallet = file.wallet;
  if (store.get_spending_key(wallet).ok()) {
    return Status::already_exists("wallet \"" + wallet + "\" already exists in this store");
  }
  // Notes first: a failure leaves no key behind, so the restore can simply be run again.
  std::size_t restored = 0;
  for (const BackupNote& n : contents->notes) {
    StoredNote sn;
    sn.wallet = wallet;
    sn.pk = n.pk;
    sn.value = n.value;
    sn.r = n.r;
    sn.state = NoteState::kPending;
    sn.commitment = Note{sn.pk, sn.value, sn.r}.commitment();
    auto id = store.insert_note(sn);
    if (!id.ok() && id.status().code() != StatusCode::kAlreadyExists) return id.status();
    ++restored;
  }
  std::vector<std::uint8_t>& eth_key = contents->eth_key;
  if (Status st = save_config(store, wallet, contents->config); !st.is_ok()) return st;
  if (Status st = store.put_secret(wallet, kEthKeySecret, eth_key); !st.is_ok()) {
    // A restore that stopped after this point left the same key: go on.
    auto existing = store.get_secret(wallet, kEthKeySecret);
    if (st.code() != StatusCode::kAlreadyExists || !existing.ok() || *existing != eth_key) return st;
  }
  sodium_memzero(eth_key.data(), eth_key.size());
  if (Status st = store.put_spending_key(wallet, contents->sk); !st.is_ok()) return st;
  return restored;
}

}  // namespace bucketpay
