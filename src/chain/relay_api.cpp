#include "bucketpay/relay_api.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace bucketpay::eth {

const U256& field_modulus() {
  static const U256 p = *U256::from_string("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001");
  return p;
}

namespace {

using nlohmann::json;

Status bad(std::string_view where, std::string_view why) {
  return Status::invalid_argument(std::string(where) + " " + std::string(why));
}

// Reads members of one JSON object, naming them in errors ("payment.fee").
class Reader {
 public:
  Reader(const json& j, std::string prefix) : j_(j), prefix_(std::move(prefix)) {}

  [[nodiscard]] std::string name(std::string_view member) const { return prefix_ + std::string(member); }

  Result<const json*> get(std::string_view member) const {
    auto it = j_.find(member);
    if (it == j_.end()) return bad(name(member), "is missing");
    return &*it;
  }
  // Absent or null: none.
  [[nodiscard]] const json* optional(std::string_view member) const {
    auto it = j_.find(member);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  Result<std::string> string(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const json* v, get(member));
    if (!v->is_string()) return bad(name(member), "is not a string");
    return v->get<std::string>();
  }
  Result<std::uint64_t> uint(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const json* v, get(member));
    return uint_of(*v, name(member));
  }
  static Result<std::uint64_t> uint_of(const json& v, const std::string& where) {
    if (!v.is_number_unsigned()) return bad(where, "is not a non-negative integer");
    return v.get<std::uint64_t>();
  }
  Result<U256> decimal(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string s, string(member));
    if (s.empty() || s.size() > 78 || s.find_first_not_of("0123456789") != std::string::npos ||
        (s.size() > 1 && s[0] == '0')) {
      return bad(name(member), "is not a decimal number of base units");
    }
    Result<U256> u = U256::from_string(s);
    if (!u.ok()) return bad(name(member), "does not fit 256 bits");
    return u;
  }
  Result<Address> address(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string s, string(member));
    return address_of(s, name(member));
  }
  static Result<Address> address_of(const std::string& s, const std::string& where) {
    Result<Address> a = Address::from_string(s);
    if (!a.ok()) return bad(where, "is not an address: " + a.status().message());
    return a;
  }
  Result<Hash32> hash(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const json* v, get(member));
    return hash_of(*v, name(member));
  }
  static Result<Hash32> hash_of(const json& v, const std::string& where) {
    if (!v.is_string()) return bad(where, "is not a string");
    Result<Hash32> h = hash_from_hex(v.get_ref<const std::string&>());
    if (!h.ok()) return bad(where, "is not 0x and 64 hex digits");
    return h;
  }
  static Result<U256> field_of(const json& v, const std::string& where) {
    BUCKETPAY_ASSIGN_OR_RETURN(const Hash32 h, hash_of(v, where));
    const U256 u = U256::from_word(h);
    if (u >= field_modulus()) return bad(where, "is not a field element (not below p)");
    return u;
  }
  Result<U256> field(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const json* v, get(member));
    return field_of(*v, name(member));
  }
  Result<Bytes> proof(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::string s, string(member));
    Result<Bytes> b = from_hex(s);
    if (!b.ok() || b->empty()) return bad(name(member), "is not 0x and an even number of hex digits");
    if (b->size() % 32 != 0) return bad(name(member), "is not a whole number of 32-byte words");
    if (b->size() > kMaxBundleProofBytes) {
      return bad(name(member), "is longer than " + std::to_string(kMaxBundleProofBytes) + " bytes");
    }
    return b;
  }
  Result<const json*> array(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const json* v, get(member));
    if (!v->is_array()) return bad(name(member), "is not an array");
    return v;
  }
  Result<const json*> object(std::string_view member) const {
    BUCKETPAY_ASSIGN_OR_RETURN(const json* v, get(member));
    if (!v->is_object()) return bad(name(member), "is not an object");
    return v;
  }
  // No members but `allowed`.
  Status only(std::initializer_list<std::string_view> allowed) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      bool known = false;
      for (std::string_view a : allowed) known = known || it.key() == a;
      if (!known) return bad(name(it.key()), "is not a member of this message");
    }
    return Status::ok();
  }

 private:
  const json& j_;
  std::string prefix_;
};

// No message nests deeper than this; deeper text is refused before it is parsed.
constexpr int kMaxJsonDepth = 8;

// The nesting depth of JSON text is at most kMaxJsonDepth (a bracket inside a string does not count).
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

Result<json> parse_object(std::string_view text, std::string_view what) {
  BUCKETPAY_RETURN_IF_ERROR(check_depth(text));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument(std::string(what) + " is not JSON");
  if (!j.is_object()) return Status::invalid_argument(std::string(what) + " is not a JSON object");
  return j;
}

std::string word_hex(const U256& u) { return to_hex(u.to_word()); }

Result<std::uint64_t> cents_of(const Reader& r, std::string_view member) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t v, r.uint(member));
  if (v == 0) return bad(r.name(member), "is 0");
  return v;
}

json payment_json(const Payment& p) {
  json nfs = json::array();
  for (const U256& nf : p.nullifiers) nfs.push_back(word_hex(nf));
  return {{"nullifiers", nfs},
          {"recipient", p.recipient.to_checksum()},
          {"fee", p.fee.to_decimal()},
          {"fee_recipient", p.fee_recipient.to_checksum()},
          {"deadline", p.deadline.low_u64()}};
}

Result<Payment> decode_payment(const json& j) {
  Reader r(j, "payment.");
  BUCKETPAY_RETURN_IF_ERROR(r.only({"nullifiers", "recipient", "fee", "fee_recipient", "deadline"}));
  Payment p;
  BUCKETPAY_ASSIGN_OR_RETURN(const json* nfs, r.array("nullifiers"));
  for (std::size_t i = 0; i < nfs->size(); ++i) {
    BUCKETPAY_ASSIGN_OR_RETURN(const U256 nf,
                               Reader::field_of((*nfs)[i], "payment.nullifiers[" + std::to_string(i) + "]"));
    p.nullifiers.push_back(nf);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(p.recipient, r.address("recipient"));
  // The Pool refuses both (ZeroRecipient, ZeroFeeRecipient): no relayer would send it.
  if (p.recipient.is_zero()) return bad(r.name("recipient"), "is the zero address");
  BUCKETPAY_ASSIGN_OR_RETURN(p.fee, r.decimal("fee"));
  BUCKETPAY_ASSIGN_OR_RETURN(p.fee_recipient, r.address("fee_recipient"));
  if (p.fee_recipient.is_zero()) return bad(r.name("fee_recipient"), "is the zero address");
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t deadline, r.uint("deadline"));
  if (deadline > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return bad("payment.deadline", "is out of range");
  }
  p.deadline = U256(deadline);
  return p;
}

Result<SpendCall> decode_spend(const json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "is not an object");
  Reader r(j, where + ".");
  BUCKETPAY_RETURN_IF_ERROR(r.only({"proof", "root", "nullifier", "value", "auth"}));
  SpendCall c;
  BUCKETPAY_ASSIGN_OR_RETURN(c.proof, r.proof("proof"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.root, r.field("root"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.nullifier, r.field("nullifier"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.value, cents_of(r, "value"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.auth, r.address("auth"));
  if (c.auth.is_zero()) return bad(r.name("auth"), "is the zero address");
  return c;
}

Result<SplitCall> decode_split(const json& j) {
  Reader r(j, "split.");
  BUCKETPAY_RETURN_IF_ERROR(r.only({"proof", "root", "nullifier", "amount", "auth", "out_cms"}));
  SplitCall c;
  BUCKETPAY_ASSIGN_OR_RETURN(c.proof, r.proof("proof"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.root, r.field("root"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.nullifier, r.field("nullifier"));
  BUCKETPAY_ASSIGN_OR_RETURN(c.amount, r.uint("amount"));  // 0: a split that withdraws nothing
  BUCKETPAY_ASSIGN_OR_RETURN(c.auth, r.address("auth"));
  if (c.auth.is_zero()) return bad(r.name("auth"), "is the zero address");
  BUCKETPAY_ASSIGN_OR_RETURN(const json* outs, r.array("out_cms"));
  if (outs->size() != kSplitOutputs) return bad("split.out_cms", "does not have 8 commitments");
  for (std::size_t i = 0; i < kSplitOutputs; ++i) {
    BUCKETPAY_ASSIGN_OR_RETURN(c.out_cms[i], Reader::field_of((*outs)[i], "split.out_cms[" + std::to_string(i) + "]"));
  }
  return c;
}

}  // namespace

std::string_view bundle_kind_name(BundleKind kind) { return kind == BundleKind::kSpendBatch ? "spend_batch" : "split"; }

Result<BundleKind> parse_bundle_kind(std::string_view name) {
  if (name == "spend_batch") return BundleKind::kSpendBatch;
  if (name == "split") return BundleKind::kSplit;
  return Status::invalid_argument("\"" + std::string(name.substr(0, 40)) +
                                  "\" is not a bundle kind (spend_batch, split)");
}

std::string encode_quote(const RelayQuote& q) {
  return json{{"kind", bundle_kind_name(q.kind)},
              {"notes", q.notes},
              {"fee", q.fee.to_decimal()},
              {"fee_recipient", q.fee_recipient.to_checksum()},
              {"chain_id", q.chain_id},
              {"pool", q.pool.to_checksum()},
              {"gas", q.gas},
              {"gas_price", q.gas_price.to_decimal()},
              {"valid_until", q.valid_until}}
      .dump();
}

Result<RelayQuote> decode_quote(std::string_view text) {
  BUCKETPAY_ASSIGN_OR_RETURN(const json j, parse_object(text, "the quote"));
  Reader r(j, "quote.");
  RelayQuote q;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::string kind, r.string("kind"));
  BUCKETPAY_ASSIGN_OR_RETURN(q.kind, parse_bundle_kind(kind));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t notes, r.uint("notes"));
  if (notes == 0 || notes > kMaxBundleSpends) return bad("quote.notes", "is out of range");
  q.notes = static_cast<std::uint32_t>(notes);
  BUCKETPAY_ASSIGN_OR_RETURN(q.fee, r.decimal("fee"));
  BUCKETPAY_ASSIGN_OR_RETURN(q.fee_recipient, r.address("fee_recipient"));
  if (q.fee_recipient.is_zero()) return bad("quote.fee_recipient", "is the zero address");
  BUCKETPAY_ASSIGN_OR_RETURN(q.chain_id, r.uint("chain_id"));
  BUCKETPAY_ASSIGN_OR_RETURN(q.pool, r.address("pool"));
  BUCKETPAY_ASSIGN_OR_RETURN(q.gas, r.uint("gas"));
  BUCKETPAY_ASSIGN_OR_RETURN(q.gas_price, r.decimal("gas_price"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t valid_until, r.uint("valid_until"));
  if (valid_until > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return bad("quote.valid_until", "is out of range");
  }
  q.valid_until = static_cast<std::int64_t>(valid_until);
  return q;
}

std::string encode_bundle(const RelayBundle& b) {
  json j = {{"kind", bundle_kind_name(b.kind)},
            {"chain_id", b.chain_id},
            {"pool", b.pool.to_checksum()},
            {"payment", payment_json(b.payment)}};
  if (b.kind == BundleKind::kSpendBatch) {
    json spends = json::array();
    for (const SpendCall& s : b.spends) {
      spends.push_back({{"proof", to_hex(s.proof)},
                        {"root", word_hex(s.root)},
                        {"nullifier", word_hex(s.nullifier)},
                        {"value", s.value},
                        {"auth", s.auth.to_checksum()}});
    }
    j["spends"] = spends;
  } else if (b.split) {
    json outs = json::array();
    for (const U256& cm : b.split->out_cms) outs.push_back(word_hex(cm));
    j["split"] = {{"proof", to_hex(b.split->proof)},           {"root", word_hex(b.split->root)},
                  {"nullifier", word_hex(b.split->nullifier)}, {"amount", b.split->amount},
                  {"auth", b.split->auth.to_checksum()},       {"out_cms", outs}};
  }
  json sigs = json::array();
  for (const RsvSignature& s : b.signatures) sigs.push_back(to_hex(s));
  j["signatures"] = sigs;
  return j.dump();
}

Result<RelayBundle> decode_bundle(std::string_view text) {
  BUCKETPAY_ASSIGN_OR_RETURN(const json j, parse_object(text, "the bundle"));
  Reader r(j, "");
  RelayBundle b;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::string kind, r.string("kind"));
  BUCKETPAY_ASSIGN_OR_RETURN(b.kind, parse_bundle_kind(kind));
  const bool batch = b.kind == BundleKind::kSpendBatch;
  if (batch) {
    BUCKETPAY_RETURN_IF_ERROR(r.only({"kind", "chain_id", "pool", "payment", "spends", "signatures"}));
  } else {
    BUCKETPAY_RETURN_IF_ERROR(r.only({"kind", "chain_id", "pool", "payment", "split", "signatures"}));
  }
  BUCKETPAY_ASSIGN_OR_RETURN(b.chain_id, r.uint("chain_id"));
  BUCKETPAY_ASSIGN_OR_RETURN(b.pool, r.address("pool"));
  BUCKETPAY_ASSIGN_OR_RETURN(const json* payment, r.object("payment"));
  BUCKETPAY_ASSIGN_OR_RETURN(b.payment, decode_payment(*payment));
  std::vector<U256> proved;  // the nullifiers of the proofs, in order
  if (batch) {
    BUCKETPAY_ASSIGN_OR_RETURN(const json* spends, r.array("spends"));
    if (spends->empty() || spends->size() > kMaxBundleSpends) {
      return bad("spends", "must hold 1 to " + std::to_string(kMaxBundleSpends) + " spends");
    }
    for (std::size_t i = 0; i < spends->size(); ++i) {
      BUCKETPAY_ASSIGN_OR_RETURN(SpendCall s, decode_spend((*spends)[i], "spends[" + std::to_string(i) + "]"));
      proved.push_back(s.nullifier);
      b.spends.push_back(std::move(s));
    }
  } else {
    BUCKETPAY_ASSIGN_OR_RETURN(const json* split, r.object("split"));
    BUCKETPAY_ASSIGN_OR_RETURN(SplitCall s, decode_split(*split));
    proved.push_back(s.nullifier);
    b.split = std::move(s);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const json* sigs, r.array("signatures"));
  if (sigs->size() != proved.size()) {
    return bad("signatures", "holds " + std::to_string(sigs->size()) + " signatures for " +
                                 std::to_string(proved.size()) + " spent notes");
  }
  for (std::size_t i = 0; i < sigs->size(); ++i) {
    const std::string where = "signatures[" + std::to_string(i) + "]";
    if (!(*sigs)[i].is_string()) return bad(where, "is not a string");
    Result<Bytes> raw = from_hex((*sigs)[i].get_ref<const std::string&>());
    if (!raw.ok() || raw->size() != 65) return bad(where, "is not 0x and 130 hex digits");
    RsvSignature sig{};
    std::copy(raw->begin(), raw->end(), sig.begin());
    b.signatures.push_back(sig);
  }
  return b;
}

std::size_t RelayBundle::notes() const { return kind == BundleKind::kSplit ? 1 : spends.size(); }

std::vector<U256> RelayBundle::proof_nullifiers() const {
  std::vector<U256> out;
  for (const SpendCall& s : spends) out.push_back(s.nullifier);
  if (split) out.push_back(split->nullifier);
  return out;
}

std::vector<Address> RelayBundle::proof_auths() const {
  std::vector<Address> out;
  for (const SpendCall& s : spends) out.push_back(s.auth);
  if (split) out.push_back(split->auth);
  return out;
}

Hash32 x402_release_message(const Hash32& payment_digest, const Hash32& bundle_hash) {
  static constexpr std::string_view kTag = "bucketpay-x402-release";
  Bytes message(kTag.begin(), kTag.end());
  message.insert(message.end(), payment_digest.begin(), payment_digest.end());
  message.insert(message.end(), bundle_hash.begin(), bundle_hash.end());
  return keccak256(message);
}

Address x402_release_signer(const RelayBundle& bundle) {
  if (bundle.kind == BundleKind::kSplit) return bundle.split ? bundle.split->auth : Address();
  return bundle.spends.empty() ? Address() : bundle.spends.front().auth;
}

U256 RelayBundle::value_units() const {
  if (kind == BundleKind::kSplit) return split ? U256(split->amount) : U256();
  U256 total;
  for (const SpendCall& s : spends) total += U256(s.value);  // at most kMaxBundleSpends * 2^64: no wrap
  return total;
}

std::string_view RelayBundle::function() const { return kind == BundleKind::kSplit ? "split" : "spendBatch"; }

Result<Bytes> RelayBundle::calldata() const {
  if (kind == BundleKind::kSplit) {
    if (!split || signatures.size() != 1)
      return Status::invalid_argument("a split bundle has one split and one signature");
    return PoolClient::encode_split(*split, payment, signatures[0]);
  }
  return PoolClient::encode_spend_batch(spends, payment, signatures);
}

Status verify_bundle_signatures(const RelayBundle& b) {
  const Hash32 digest = b.digest();
  const std::vector<Address> auths = b.proof_auths();
  if (auths.size() != b.signatures.size()) {
    return Status::invalid_argument("the bundle has " + std::to_string(b.signatures.size()) + " signatures for " +
                                    std::to_string(auths.size()) + " spent notes");
  }
  for (std::size_t i = 0; i < auths.size(); ++i) {
    Result<Address> signer = recover_signer(digest, b.signatures[i]);
    if (!signer.ok()) return bad("signatures[" + std::to_string(i) + "]", "is malformed: " + signer.status().message());
    if (*signer != auths[i]) {
      return bad("signatures[" + std::to_string(i) + "]", "is not by the proof's auth " + auths[i].to_checksum());
    }
  }
  return Status::ok();
}

std::string_view relay_state_name(RelayState state) {
  switch (state) {
    case RelayState::kPending:
      return "pending";
    case RelayState::kSubmitted:
      return "submitted";
    case RelayState::kMined:
      return "mined";
    case RelayState::kFailed:
      return "failed";
  }
  return "?";
}

Result<RelayState> parse_relay_state(std::string_view name) {
  for (RelayState s : {RelayState::kPending, RelayState::kSubmitted, RelayState::kMined, RelayState::kFailed}) {
    if (relay_state_name(s) == name) return s;
  }
  return Status::invalid_argument("\"" + std::string(name.substr(0, 40)) + "\" is not a relay state");
}

std::string encode_status(const RelayStatus& s) {
  json j = {{"digest", to_hex(s.digest)},
            {"state", relay_state_name(s.state)},
            {"tx_hash", s.tx_hash ? json(to_hex(*s.tx_hash)) : json(nullptr)},
            {"block", s.block ? json(*s.block) : json(nullptr)},
            {"gas_used", s.gas_used ? json(*s.gas_used) : json(nullptr)},
            {"reason", s.reason}};
  return j.dump();
}

Result<RelayStatus> decode_status(std::string_view text) {
  BUCKETPAY_ASSIGN_OR_RETURN(const json j, parse_object(text, "the relay status"));
  Reader r(j, "status.");
  RelayStatus s;
  BUCKETPAY_ASSIGN_OR_RETURN(s.digest, r.hash("digest"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::string state, r.string("state"));
  BUCKETPAY_ASSIGN_OR_RETURN(s.state, parse_relay_state(state));
  if (const json* tx = r.optional("tx_hash")) {
    BUCKETPAY_ASSIGN_OR_RETURN(s.tx_hash, Reader::hash_of(*tx, "status.tx_hash"));
  }
  if (const json* block = r.optional("block")) {
    BUCKETPAY_ASSIGN_OR_RETURN(s.block, Reader::uint_of(*block, "status.block"));
  }
  if (const json* gas = r.optional("gas_used")) {
    BUCKETPAY_ASSIGN_OR_RETURN(s.gas_used, Reader::uint_of(*gas, "status.gas_used"));
  }
  if (const json* reason = r.optional("reason")) {
    if (!reason->is_string()) return bad("status.reason", "is not a string");
    s.reason = reason->get<std::string>();
  }
  return s;
}

}  // namespace bucketpay::eth
