// The relayer's settings and account key in the store, and what the chain tells a new relayer.
#include <sodium.h>

#include <array>
#include <charconv>

#include "bucketpay/relay.h"

namespace bucketpay::relay {
namespace {

constexpr std::string_view kEthKeySecret = "eth_key";

Result<std::uint64_t> parse_u64(std::string_view key, const std::string& text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::corruption("relay setting " + std::string(key) + " is not an unsigned integer: " + text);
  }
  return v;
}

class Settings {
 public:
  explicit Settings(SettingsStore& store) : store_(store) {}

  Result<std::string> text(std::string_view key) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<std::string> v, store_.get_setting(kRelayOwner, key));
    if (!v) {
      return Status::not_found("the store has no relayer (setting " + std::string(key) +
                               " missing): run `bucketpay relay init` first");
    }
    return *v;
  }
  Result<std::uint64_t> u64(std::string_view key) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string t, text(key));
    return parse_u64(key, t);
  }
  Result<eth::U256> u256(std::string_view key) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string t, text(key));
    Result<eth::U256> v = eth::U256::from_string(t);
    if (!v.ok()) return Status::corruption("relay setting " + std::string(key) + " is not a number: " + t);
    return v;
  }

 private:
  SettingsStore& store_;
};

}  // namespace

Status save_config(SettingsStore& settings, const RelayConfig& c) {
  BUCKETPAY_RETURN_IF_ERROR(validate_fee_policy(c.fees));
  const std::pair<std::string_view, std::string> values[] = {
      {"rpc_url", c.rpc_url},
      {"pool", c.pool.to_checksum()},
      {"chain_id", std::to_string(c.chain_id)},
      {"unit", c.unit.to_decimal()},
      {"token_decimals", std::to_string(c.token_decimals)},
      {"start_block", std::to_string(c.start_block)},
      {"eth_price", c.fees.eth_price},
      {"margin_bps", std::to_string(c.fees.margin_bps)},
      {"min_fee", c.fees.min_fee.to_decimal()},
      {"quote_validity_s", std::to_string(c.fees.quote_validity.count())},
      {"gas_spend_base", std::to_string(c.fees.gas.spend_base)},
      {"gas_spend_per_note", std::to_string(c.fees.gas.spend_per_note)},
      {"gas_split", std::to_string(c.fees.gas.split)},
  };
  for (const auto& [key, value] : values) {
    BUCKETPAY_RETURN_IF_ERROR(settings.put_setting(kRelayOwner, key, value));
  }
  return Status::ok();
}

Result<RelayConfig> load_config(SettingsStore& store) {
  Settings s(store);
  RelayConfig c;
  BUCKETPAY_ASSIGN_OR_RETURN(c.rpc_url, s.text("rpc_url"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::string pool, s.text("pool"));
  Result<eth::Address> pool_address = eth::Address::from_string(pool);
  if (!pool_address.ok()) return Status::corruption("relay setting pool is not an address: " + pool);
  c.pool = *pool_address;
  BUCKETPAY_ASSIGN_OR_RETURN(c.chain_id, s.u64("chain_id"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.unit, s.u256("unit"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t decimals, s.u64("token_decimals"));
  c.token_decimals = static_cast<unsigned>(decimals);
  BUCKETPAY_ASSIGN_OR_RETURN(c.start_block, s.u64("start_block"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.fees.eth_price, s.text("eth_price"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t margin, s.u64("margin_bps"));
  c.fees.margin_bps = static_cast<std::uint32_t>(margin);
  BUCKETPAY_ASSIGN_OR_RETURN(c.fees.min_fee, s.u256("min_fee"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t validity, s.u64("quote_validity_s"));
  c.fees.quote_validity = std::chrono::seconds(static_cast<std::int64_t>(validity));
  BUCKETPAY_ASSIGN_OR_RETURN(c.fees.gas.spend_base, s.u64("gas_spend_base"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.fees.gas.spend_per_note, s.u64("gas_spend_per_note"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.fees.gas.split, s.u64("gas_split"));
  if (Status st = validate_fee_policy(c.fees); !st.is_ok())
    return Status::corruption("relay settings: " + st.message());
  return c;
}

Result<RelayConfig> read_chain_config(const std::string& rpc_url, const eth::Address& pool) {
  eth::RpcOptions ro;
  ro.url = rpc_url;
  ro.error_signatures = eth::pool_error_signatures();
  BUCKETPAY_ASSIGN_OR_RETURN(std::unique_ptr<eth::RpcPoolChain> chain, eth::RpcPoolChain::connect(ro, pool));
  RelayConfig c;
  c.rpc_url = rpc_url;
  c.pool = pool;
  BUCKETPAY_ASSIGN_OR_RETURN(c.chain_id, chain->chain_id());
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Bytes code, chain->rpc().get_code(pool));
  if (code.empty()) {
    return Status::failed_precondition("there is no contract at " + pool.to_checksum() + " on chain " +
                                       std::to_string(c.chain_id) + " (" + rpc_url + ")");
  }
  BUCKETPAY_ASSIGN_OR_RETURN(c.unit, chain->unit());
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Address token, chain->token());
  eth::CallRequest call;
  call.to = token;
  BUCKETPAY_ASSIGN_OR_RETURN(call.data, abi::encode_call("decimals()", {}));
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Bytes out, chain->rpc().call(call));
  Result<std::vector<abi::Value>> decimals = abi::decode("(uint8)", out);
  if (!decimals.ok() || decimals->size() != 1 || (*decimals)[0].as_uint() == nullptr) {
    return Status::failed_precondition("the Pool's token " + token.to_checksum() + " has no decimals()");
  }
  c.token_decimals = static_cast<unsigned>((*decimals)[0].as_uint()->low_u64());
  BUCKETPAY_ASSIGN_OR_RETURN(c.start_block, chain->head());
  return c;
}

Result<eth::Address> create_account(SecretStore& secrets) {
  if (auto existing = load_account(secrets); existing.ok()) return existing->address();
  if (!secrets.has_vault()) return Status::failed_precondition("the relayer's key needs a store with a passphrase");
  // 32 random bytes that make a valid secp256k1 key (almost always the first).
  std::array<std::uint8_t, 32> key{};
  eth::Address address;
  for (;;) {
    randombytes_buf(key.data(), key.size());
    auto k = eth::PrivateKey::from_bytes(key);
    if (k.ok()) {
      address = k->address();
      break;
    }
  }
  Status st = secrets.put_secret(kRelayOwner, kEthKeySecret, key);
  sodium_memzero(key.data(), key.size());
  if (st.code() == StatusCode::kAlreadyExists) {  // another process made it first: that one stands
    BUCKETPAY_ASSIGN_OR_RETURN(const eth::PrivateKey k, load_account(secrets));
    return k.address();
  }
  if (!st.is_ok()) return st;
  return address;
}

Result<eth::PrivateKey> load_account(SecretStore& secrets) {
  auto bytes = secrets.get_secret(kRelayOwner, kEthKeySecret);
  if (!bytes.ok()) return bytes.status().with_context("the relayer's account key");
  if (bytes->size() != 32) {
    sodium_memzero(bytes->data(), bytes->size());
    return Status::corruption("the relayer's account key is malformed");
  }
  auto key = eth::PrivateKey::from_bytes(std::span<const std::uint8_t, 32>(bytes->data(), 32));
  sodium_memzero(bytes->data(), bytes->size());
  return key;
}

}  // namespace bucketpay::relay
