#include "bucketpay/relay_bundle.h"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>

namespace bucketpay::eth {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Deeper than any bundle or quote: refused before the parser builds anything.
constexpr int kMaxJsonDepth = 8;

Status field_error(std::string_view path, std::string_view what) {
  return Status::invalid_argument(std::string(path) + ": " + std::string(what));
}

std::string at(std::string_view path, std::size_t i) { return std::string(path) + "[" + std::to_string(i) + "]"; }
std::string dot(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

// The nesting depth of JSON text, strings skipped (a bracket inside a string does not count).
Status check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return Status::invalid_argument("the JSON is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::ok();
}

Result<json> parse_json(std::string_view text) {
  BUCKETPAY_RETURN_IF_ERROR(check_depth(text));
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at ...": the bracketed id says nothing to a client.
    if (const auto close = what.find("] "); what.rfind("[json.exception.", 0) == 0 && close != std::string::npos) {
      what = what.substr(close + 2);
    }
    std::replace(what.begin(), what.end(), '\n', ' ');
    return Status::invalid_argument("not JSON: " + what);
  }
}

// An object holding only `allowed` keys, each of `required` present.
Status check_object(const json& j, std::string_view path, std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) return field_error(path.empty() ? "the body" : path, "must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Status::invalid_argument("unknown field \"" + dot(path, key) + "\"");
    }
  }
  for (std::string_view key : allowed) {
    if (!j.contains(key)) return Status::invalid_argument("missing field \"" + dot(path, key) + "\"");
  }
  return Status::ok();
}

const std::string* as_string(const json& j) { return j.is_string() ? j.get_ptr<const std::string*>() : nullptr; }

Result<std::uint64_t> parse_uint(const json& j, std::string_view path) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer()) return field_error(path, "must not be negative");
  if (j.is_number_float()) return field_error(path, "must be an integer below 2^64");
  return field_error(path, "must be a JSON integer");
}

Result<Bytes> parse_hex(const json& j, std::string_view path) {
  const std::string* s = as_string(j);
  if (s == nullptr) return field_error(path, "must be a 0x-hex string");
  Result<Bytes> b = from_hex(*s);
  if (!b.ok()) return field_error(path, b.status().message());
  return b;
}

Result<U256> parse_field_element(const json& j, std::string_view path) {
  const std::string* s = as_string(j);
  if (s == nullptr) return field_error(path, "must be a 0x-hex string of 64 digits");
  Result<Hash32> word = hash_from_hex(*s);
  if (!word.ok()) return field_error(path, "must be 0x + 64 hex digits");
  const U256 v = U256::from_word(*word);
  if (v >= field_modulus()) return field_error(path, "not a field element (>= p)");
  return v;
}

Result<Address> parse_address(const json& j, std::string_view path) {
  const std::string* s = as_string(j);
  if (s == nullptr) return field_error(path, "must be a 0x-hex address string");
  Result<Address> a = Address::from_string(*s);
  if (!a.ok()) return field_error(path, a.status().message());
  return a;
}

// A decimal string without sign, leading zeros or exponent: "0", "5000000000000000".
Result<U256> parse_decimal(const json& j, std::string_view path) {
  const std::string* s = as_string(j);
  if (s == nullptr) return field_error(path, "must be a decimal string (token base units)");
  const bool digits = !s->empty() && std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (s->size() > 1 && s->front() == '0')) {
    return field_error(path, "must be a decimal integer string without leading zeros");
  }
  Result<U256> v = U256::from_string(*s);
  if (!v.ok()) return field_error(path, "does not fit in 256 bits");
  return v;
}

// A non-empty JSON array of at most `max` elements.
Status check_array(const json& j, std::string_view path, std::size_t min, std::size_t max) {
  if (!j.is_array()) return field_error(path, "must be a JSON array");
  if (j.size() < min || j.size() > max) {
    if (min == max) return field_error(path, "must have exactly " + std::to_string(min) + " elements");
    return field_error(path, "must have " + std::to_string(min) + " to " + std::to_string(max) + " elements, not " +
                                 std::to_string(j.size()));
  }
  return Status::ok();
}

Result<Bytes> parse_proof(const json& j, std::string_view path, const BundleLimits& limits) {
  BUCKETPAY_ASSIGN_OR_RETURN(Bytes proof, parse_hex(j, path));
  if (proof.empty() || proof.size() % 32 != 0) {
    return field_error(path, "must be a non-empty multiple of 32 bytes, not " + std::to_string(proof.size()));
  }
  if (proof.size() > limits.max_proof_bytes) {
    return field_error(path, std::to_string(proof.size()) + " bytes is more than the limit of " +
                                 std::to_string(limits.max_proof_bytes));
  }
  return proof;
}

Result<std::uint64_t> parse_value(const json& j, std::string_view path, bool allow_zero) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t v, parse_uint(j, path));
  if (v == 0 && !allow_zero) return field_error(path, "must be at least 1 (cents)");
  return v;
}

Result<Payment> parse_payment(const json& j, const BundleLimits& limits) {
  BUCKETPAY_RETURN_IF_ERROR(
      check_object(j, "payment", {"nullifiers", "recipient", "fee", "fee_recipient", "deadline"}));
  Payment p;
  const json& nfs = j["nullifiers"];
  BUCKETPAY_RETURN_IF_ERROR(check_array(nfs, "payment.nullifiers", 1, limits.max_notes));
  for (std::size_t i = 0; i < nfs.size(); ++i) {
    BUCKETPAY_ASSIGN_OR_RETURN(U256 nf, parse_field_element(nfs[i], at("payment.nullifiers", i)));
    p.nullifiers.push_back(nf);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(p.recipient, parse_address(j["recipient"], "payment.recipient"));
  if (p.recipient.is_zero()) return field_error("payment.recipient", "must not be the zero address");
  BUCKETPAY_ASSIGN_OR_RETURN(p.fee, parse_decimal(j["fee"], "payment.fee"));
  BUCKETPAY_ASSIGN_OR_RETURN(p.fee_recipient, parse_address(j["fee_recipient"], "payment.fee_recipient"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t deadline, parse_uint(j["deadline"], "payment.deadline"));
  p.deadline = U256(deadline);
  return p;
}

Result<SpendCall> parse_spend(const json& j, const std::string& path, const BundleLimits& limits) {
  BUCKETPAY_RETURN_IF_ERROR(check_object(j, path, {"proof", "root", "nullifier", "value", "auth"}));
  SpendCall s;
  BUCKETPAY_ASSIGN_OR_RETURN(s.proof, parse_proof(j["proof"], dot(path, "proof"), limits));
  BUCKETPAY_ASSIGN_OR_RETURN(s.root, parse_field_element(j["root"], dot(path, "root")));
  BUCKETPAY_ASSIGN_OR_RETURN(s.nullifier, parse_field_element(j["nullifier"], dot(path, "nullifier")));
  BUCKETPAY_ASSIGN_OR_RETURN(s.value, parse_value(j["value"], dot(path, "value"), false));
  BUCKETPAY_ASSIGN_OR_RETURN(s.auth, parse_address(j["auth"], dot(path, "auth")));
  if (s.auth.is_zero()) return field_error(dot(path, "auth"), "must not be the zero address");
  return s;
}

Result<SplitCall> parse_split(const json& j, const BundleLimits& limits) {
  BUCKETPAY_RETURN_IF_ERROR(check_object(j, "split", {"proof", "root", "nullifier", "amount", "auth", "out_cms"}));
  SplitCall s;
  BUCKETPAY_ASSIGN_OR_RETURN(s.proof, parse_proof(j["proof"], "split.proof", limits));
  BUCKETPAY_ASSIGN_OR_RETURN(s.root, parse_field_element(j["root"], "split.root"));
  BUCKETPAY_ASSIGN_OR_RETURN(s.nullifier, parse_field_element(j["nullifier"], "split.nullifier"));
  BUCKETPAY_ASSIGN_OR_RETURN(s.amount, parse_value(j["amount"], "split.amount", true));
  BUCKETPAY_ASSIGN_OR_RETURN(s.auth, parse_address(j["auth"], "split.auth"));
  if (s.auth.is_zero()) return field_error("split.auth", "must not be the zero address");
  const json& outs = j["out_cms"];
  BUCKETPAY_RETURN_IF_ERROR(check_array(outs, "split.out_cms", kSplitOutputs, kSplitOutputs));
  for (std::size_t i = 0; i < kSplitOutputs; ++i) {
    BUCKETPAY_ASSIGN_OR_RETURN(s.out_cms[i], parse_field_element(outs[i], at("split.out_cms", i)));
  }
  return s;
}

std::string word_hex(const U256& v) { return to_hex(v.to_word()); }

Result<RelayBundle> parse_bundle_json(const json& j, const BundleLimits& limits) {
  if (!j.is_object()) return Status::invalid_argument("the bundle must be a JSON object");
  const std::string* kind_name = j.contains("kind") ? as_string(j["kind"]) : nullptr;
  if (kind_name == nullptr) return Status::invalid_argument("missing field \"kind\" (\"spend_batch\" or \"split\")");
  RelayBundle b;
  BUCKETPAY_ASSIGN_OR_RETURN(b.kind, parse_bundle_kind(*kind_name));
  if (b.kind == BundleKind::kSpendBatch) {
    BUCKETPAY_RETURN_IF_ERROR(check_object(j, "", {"kind", "chain_id", "pool", "payment", "spends", "signatures"}));
  } else {
    BUCKETPAY_RETURN_IF_ERROR(check_object(j, "", {"kind", "chain_id", "pool", "payment", "split", "signatures"}));
  }
  BUCKETPAY_ASSIGN_OR_RETURN(b.chain_id, parse_uint(j["chain_id"], "chain_id"));
  BUCKETPAY_ASSIGN_OR_RETURN(b.pool, parse_address(j["pool"], "pool"));
  BUCKETPAY_ASSIGN_OR_RETURN(b.payment, parse_payment(j["payment"], limits));
  if (b.kind == BundleKind::kSpendBatch) {
    const json& spends = j["spends"];
    BUCKETPAY_RETURN_IF_ERROR(check_array(spends, "spends", 1, limits.max_notes));
    for (std::size_t i = 0; i < spends.size(); ++i) {
      BUCKETPAY_ASSIGN_OR_RETURN(SpendCall s, parse_spend(spends[i], at("spends", i), limits));
      b.spends.push_back(std::move(s));
    }
  } else {
    BUCKETPAY_ASSIGN_OR_RETURN(b.split, parse_split(j["split"], limits));
  }
  const json& sigs = j["signatures"];
  BUCKETPAY_RETURN_IF_ERROR(check_array(sigs, "signatures", b.notes(), b.notes()));
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    BUCKETPAY_ASSIGN_OR_RETURN(const Bytes sig, parse_hex(sigs[i], at("signatures", i)));
    if (sig.size() != 65) {
      return field_error(at("signatures", i), "must be 65 bytes (r || s || v), not " + std::to_string(sig.size()));
    }
    RsvSignature rsv{};
    std::copy(sig.begin(), sig.end(), rsv.begin());
    b.signatures.push_back(rsv);
  }
  return b;
}

}  // namespace

std::string_view bundle_kind_name(BundleKind kind) { return kind == BundleKind::kSplit ? "split" : "spend_batch"; }

Result<BundleKind> parse_bundle_kind(std::string_view name) {
  if (name == "spend_batch") return BundleKind::kSpendBatch;
  if (name == "split") return BundleKind::kSplit;
  return Status::invalid_argument("kind must be \"spend_batch\" or \"split\", not \"" +
                                  std::string(name.substr(0, 32)) + "\"");
}

const U256& field_modulus() {
  static const U256 p = *U256::from_string("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001");
  return p;
}

std::size_t RelayBundle::notes() const { return kind == BundleKind::kSplit ? 1 : spends.size(); }

std::vector<U256> RelayBundle::proof_nullifiers() const {
  if (kind == BundleKind::kSplit) return {split.nullifier};
  std::vector<U256> out;
  out.reserve(spends.size());
  for (const SpendCall& s : spends) out.push_back(s.nullifier);
  return out;
}

std::vector<Address> RelayBundle::proof_auths() const {
  if (kind == BundleKind::kSplit) return {split.auth};
  std::vector<Address> out;
  out.reserve(spends.size());
  for (const SpendCall& s : spends) out.push_back(s.auth);
  return out;
}

U256 RelayBundle::value_units() const {
  if (kind == BundleKind::kSplit) return U256(split.amount);
  U256 total;
  for (const SpendCall& s : spends) total += U256(s.value);  // at most 30 * 2^64: no wrap
  return total;
}

std::string_view RelayBundle::function() const { return kind == BundleKind::kSplit ? "split" : "spendBatch"; }

Result<Bytes> RelayBundle::calldata() const {
  if (kind == BundleKind::kSplit) {
    if (signatures.size() != 1) return Status::invalid_argument("a split bundle has exactly one signature");
    return PoolClient::encode_split(split, payment, signatures[0]);
  }
  return PoolClient::encode_spend_batch(spends, payment, signatures);
}

Result<RelayBundle> parse_relay_bundle(std::string_view text, const BundleLimits& limits) {
  BUCKETPAY_ASSIGN_OR_RETURN(const json j, parse_json(text));
  try {
    return parse_bundle_json(j, limits);
  } catch (const std::exception& e) {  // a bug in the checks above; never a crash
    return Status::internal(std::string("parsing the bundle: ") + e.what());
  }
}

std::string relay_bundle_json(const RelayBundle& b) {
  ordered_json j;
  j["kind"] = bundle_kind_name(b.kind);
  j["chain_id"] = b.chain_id;
  j["pool"] = b.pool.to_checksum();
  ordered_json payment;
  payment["nullifiers"] = ordered_json::array();
  for (const U256& nf : b.payment.nullifiers) payment["nullifiers"].push_back(word_hex(nf));
  payment["recipient"] = b.payment.recipient.to_checksum();
  payment["fee"] = b.payment.fee.to_decimal();
  payment["fee_recipient"] = b.payment.fee_recipient.to_checksum();
  payment["deadline"] = b.payment.deadline.low_u64();
  j["payment"] = std::move(payment);
  if (b.kind == BundleKind::kSpendBatch) {
    j["spends"] = ordered_json::array();
    for (const SpendCall& s : b.spends) {
      j["spends"].push_back(ordered_json{{"proof", to_hex(s.proof)},
                                         {"root", word_hex(s.root)},
                                         {"nullifier", word_hex(s.nullifier)},
                                         {"value", s.value},
                                         {"auth", s.auth.to_checksum()}});
    }
  } else {
    ordered_json outs = ordered_json::array();
    for (const U256& cm : b.split.out_cms) outs.push_back(word_hex(cm));
    j["split"] = ordered_json{{"proof", to_hex(b.split.proof)},           {"root", word_hex(b.split.root)},
                              {"nullifier", word_hex(b.split.nullifier)}, {"amount", b.split.amount},
                              {"auth", b.split.auth.to_checksum()},       {"out_cms", std::move(outs)}};
  }
  j["signatures"] = ordered_json::array();
  for (const RsvSignature& sig : b.signatures) j["signatures"].push_back(to_hex(sig));
  return j.dump();
}

std::string relay_quote_json(const RelayQuote& q) {
  const ordered_json j{{"kind", bundle_kind_name(q.kind)},
                       {"notes", q.notes},
                       {"fee", q.fee.to_decimal()},
                       {"fee_recipient", q.fee_recipient.to_checksum()},
                       {"chain_id", q.chain_id},
                       {"pool", q.pool.to_checksum()},
                       {"gas", q.gas},
                       {"gas_price", q.gas_price.to_decimal()},
                       {"valid_until", q.valid_until}};
  return j.dump();
}

Result<RelayQuote> parse_relay_quote(std::string_view text) {
  BUCKETPAY_ASSIGN_OR_RETURN(const json j, parse_json(text));
  try {
    BUCKETPAY_RETURN_IF_ERROR(check_object(
        j, "", {"kind", "notes", "fee", "fee_recipient", "chain_id", "pool", "gas", "gas_price", "valid_until"}));
    RelayQuote q;
    const std::string* kind = as_string(j["kind"]);
    if (kind == nullptr) return field_error("kind", "must be a string");
    BUCKETPAY_ASSIGN_OR_RETURN(q.kind, parse_bundle_kind(*kind));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t notes, parse_uint(j["notes"], "notes"));
    q.notes = static_cast<std::size_t>(notes);
    BUCKETPAY_ASSIGN_OR_RETURN(q.fee, parse_decimal(j["fee"], "fee"));
    BUCKETPAY_ASSIGN_OR_RETURN(q.fee_recipient, parse_address(j["fee_recipient"], "fee_recipient"));
    BUCKETPAY_ASSIGN_OR_RETURN(q.chain_id, parse_uint(j["chain_id"], "chain_id"));
    BUCKETPAY_ASSIGN_OR_RETURN(q.pool, parse_address(j["pool"], "pool"));
    BUCKETPAY_ASSIGN_OR_RETURN(q.gas, parse_uint(j["gas"], "gas"));
    BUCKETPAY_ASSIGN_OR_RETURN(q.gas_price, parse_decimal(j["gas_price"], "gas_price"));
    BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t until, parse_uint(j["valid_until"], "valid_until"));
    q.valid_until = static_cast<std::int64_t>(until);
    return q;
  } catch (const std::exception& e) {
    return Status::internal(std::string("parsing the quote: ") + e.what());
  }
}

}  // namespace bucketpay::eth
