// Wallet settings (WalletConfig in the store) and sealed backups.
#include <sodium.h>

#include <nlohmann/json.hpp>
#include <string>

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
              {"policy", c.policy.to_string()}};
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

Result<std::size_t> import_backup(Store& store, std::string_view backup_json, std::string_view passphrase) {
  const json file = json::parse(backup_json, nullptr, false);
  auto bad = [](std::string_view why) {
    return Status::invalid_argument("not a bucketpay backup: " + std::string(why));
  };
  if (file.is_discarded() || !file.is_object()) return bad("not JSON");
  if (file.value("format", "") != kBackupFormat) return bad("unknown format");
  if (!file.contains("wallet") || !file["wallet"].is_string() || !file.contains("kdf") || !file["kdf"].is_object() ||
      !file.contains("sealed") || !file["sealed"].is_string()) {
    return bad("missing fields");
  }
  const std::string wallet = file["wallet"];
  const json& kdf = file["kdf"];
  if (!kdf.contains("salt") || !kdf["salt"].is_string() || !kdf.contains("opslimit") ||
      !kdf["opslimit"].is_number_unsigned() || !kdf.contains("memlimit") || !kdf["memlimit"].is_number_unsigned()) {
    return bad("malformed kdf");
  }
  auto salt = eth::from_hex(kdf["salt"].get<std::string>());
  auto sealed = eth::from_hex(file["sealed"].get<std::string>());
  if (!salt.ok() || !sealed.ok() || salt->size() != Vault::kSaltBytes) return bad("malformed hex");
  const VaultParams params{kdf["opslimit"].get<std::uint64_t>(), kdf["memlimit"].get<std::size_t>()};
  auto vault = Vault::open(passphrase, *salt, params);
  if (!vault.ok()) return bad(vault.status().message());
  auto plain = vault->unseal(*sealed, std::string(kBackupFormat) + ":" + wallet);
  if (!plain.ok()) return Status::invalid_argument("wrong passphrase, or the backup was modified");
  json payload = json::parse(plain->begin(), plain->end(), nullptr, false);
  sodium_memzero(plain->data(), plain->size());
  if (payload.is_discarded() || !payload.is_object() || !payload.contains("sk") || !payload["sk"].is_string() ||
      !payload.contains("eth_key") || !payload["eth_key"].is_string() || !payload.contains("settings") ||
      !payload.contains("notes") || !payload["notes"].is_array() || !payload["settings"].is_object()) {
    return bad("malformed contents");
  }
  if (store.get_spending_key(wallet).ok()) {
    return Status::already_exists("wallet \"" + wallet + "\" already exists in this store");
  }
  auto sk = Fr::from_string(payload["sk"].get<std::string>());
  auto eth_key = eth::from_hex(payload["eth_key"].get<std::string>());
  if (!sk.ok() || !eth_key.ok() || eth_key->size() != 32) return bad("malformed keys");
  const json settings = payload["settings"];
  auto config = config_from([&](std::string_view key) -> Result<std::optional<std::string>> {
    if (!settings.contains(key) || !settings[std::string(key)].is_string()) return std::optional<std::string>();
    return std::optional<std::string>(settings[std::string(key)].get<std::string>());
  });
  if (!config.ok()) return bad(config.status().message());
  // Notes first: a failure leaves no key behind, so the restore can simply be run again.
  const Fr pk = bucketpay::owner_key(SpendingKey::from_fr(*sk));
  std::size_t restored = 0;
  for (const auto& n : payload["notes"]) {
    if (!n.is_object() || !n.contains("pk") || !n["pk"].is_string() || !n.contains("value") || !n.contains("r") ||
        !n["r"].is_string() || !n["value"].is_number_unsigned()) {
      return bad("malformed note");
    }
    auto npk = Fr::from_string(n["pk"].get<std::string>());
    auto r = Fr::from_string(n["r"].get<std::string>());
    if (!npk.ok() || !r.ok()) return bad("malformed note");
    if (*npk != pk) return bad("a note that is not the wallet's");
    StoredNote sn;
    sn.wallet = wallet;
    sn.pk = *npk;
    sn.value = n["value"].get<std::uint64_t>();
    sn.r = *r;
    sn.state = NoteState::kPending;
    sn.commitment = Note{sn.pk, sn.value, sn.r}.commitment();
    auto id = store.insert_note(sn);
    if (!id.ok() && id.status().code() != StatusCode::kAlreadyExists) return id.status();
    ++restored;
  }
  if (Status st = save_config(store, wallet, *config); !st.is_ok()) return st;
  if (Status st = store.put_secret(wallet, kEthKeySecret, *eth_key); !st.is_ok()) {
    // A restore that stopped after this point left the same key: go on.
    auto existing = store.get_secret(wallet, kEthKeySecret);
    if (st.code() != StatusCode::kAlreadyExists || !existing.ok() || *existing != *eth_key) return st;
  }
  sodium_memzero(eth_key->data(), eth_key->size());
  if (Status st = store.put_spending_key(wallet, *sk); !st.is_ok()) return st;
  return restored;
}

}  // namespace bucketpay
