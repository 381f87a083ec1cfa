// The x402 facilitator of `bucketpay-exact`: staging, verify and settle over the relayer.
#include "bucketpay/x402.h"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace bucketpay::relay {
namespace {

using eth::U256;
using nlohmann::json;
using nlohmann::ordered_json;

X402Answer answer(int status, const ordered_json& body) { return {status, body.dump()}; }
X402Answer bad_request(const std::string& message) { return answer(400, ordered_json{{"error", message}}); }

// The first failed check of a payment: its x402 reason and one line about it.
struct Invalid {
  std::string reason;
  std::string message;
};

// Where the Pool's revert reason names a known failure.
std::string reason_of_revert(const std::string& message) {
  if (message.find("NullifierAlreadySpent") != std::string::npos) return "invalid_bucketpay_nullifier_spent";
  if (message.find("UnknownRoot") != std::string::npos) return "invalid_bucketpay_unknown_root";
  if (message.find("InvalidProof") != std::string::npos) return "invalid_bucketpay_invalid_proof";
  if (message.find("PaymentExpired") != std::string::npos) return "invalid_bucketpay_deadline_too_soon";
  if (message.find("WrongSigner") != std::string::npos) return "invalid_bucketpay_signature";
  return "invalid_bucketpay_simulation_failed";
}

std::string reason_of_refusal(Refusal refusal, const std::string& message) {
  switch (refusal) {
    case Refusal::kMalformed:
    case Refusal::kTooLarge:
    case Refusal::kNullifierMismatch:
    case Refusal::kDuplicateNullifier:
      return "invalid_payload";
    case Refusal::kWrongChain:
      return "invalid_network";
    case Refusal::kWrongPool:
      return "invalid_bucketpay_pool_mismatch";
    case Refusal::kWrongFeeRecipient:
      return "invalid_bucketpay_fee_recipient_mismatch";
    case Refusal::kFeeBelowQuote:
      return "invalid_bucketpay_fee_below_quote";
    case Refusal::kFeeAboveValue:
      return "invalid_bucketpay_amount_mismatch";
    case Refusal::kDeadline:
      return "invalid_bucketpay_deadline_too_soon";
    case Refusal::kBadSignature:
      return "invalid_bucketpay_signature";
    case Refusal::kReverted:
      return reason_of_revert(message);
  }
  return "invalid_payload";
}

// A member that must be a string.
std::optional<std::string> string_member(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The requirements' members x402 compares between the 402 and the retry.
constexpr const char* kCoreFields[] = {"scheme", "network", "asset", "amount", "payTo", "maxTimeoutSeconds"};

// A staged bundle.
struct Staged {
  eth::RelayBundle bundle;
  std::string digest;       // 0x + 64 lowercase hex
  std::string bundle_hash;  // keccak256 of the calldata, 0x + 64 lowercase hex
  std::int64_t expires_at = 0;
};

// A payment that passed the checks up to the relayer's: what settle and verify go on with.
struct Checked {
  Staged staged;
};

}  // namespace

struct X402Facilitator::Impl {
  Impl(Relayer& r, X402Options o, eth::Address token)
      : relayer(r),
        journal(r.journal()),
        options(std::move(o)),
        asset(token),
        clock(options.clock ? *options.clock : Clock::system()) {}

  Relayer& relayer;
  RelayJournal& journal;  // the stages, durable (X402Stage); memory below is their copy
  X402Options options;
  eth::Address asset;
  Clock& clock;

  std::mutex mu;
  std::map<std::string, Staged> staged;  // digest + bundle hash -> bundle
  std::map<U256, std::string> reserved;  // nullifier -> the digest of the staged payment spending it

  // The journal's stages into memory (a restart): the expired ones dropped first.
  Status load() {
    BUCKETPAY_RETURN_IF_ERROR(journal.drop_expired_x402_stages(static_cast<std::uint64_t>(now_s())).status());
    BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<X402Stage> rows, journal.list_x402_stages());
    std::lock_guard lock(mu);
    for (const X402Stage& row : rows) {
      Result<eth::RelayBundle> b = eth::decode_bundle(row.bundle);
      if (!b.ok()) return Status::corruption("x402 stage of " + row.digest + ": " + b.status().message());
      Staged s{std::move(b).value(), row.digest, row.bundle_hash, static_cast<std::int64_t>(row.expires_at)};
      for (const U256& nf : s.bundle.payment.nullifiers) reserved[nf] = s.digest;
      staged.emplace(s.digest + s.bundle_hash, std::move(s));
    }
    return Status::ok();
  }

  [[nodiscard]] std::string network() const { return "eip155:" + std::to_string(relayer.config().chain_id); }
  std::int64_t now_s() { return clock.unix_ms() / 1000; }

  // Drops staged bundles past their deadline, and the reservations of digests with none left.
  void expire_locked() {
    const std::int64_t now = now_s();
    std::set<std::string> live;
    bool expired = false;
    for (auto it = staged.begin(); it != staged.end();) {
      if (it->second.expires_at < now) {
        it = staged.erase(it);
        expired = true;
      } else {
        live.insert(it->second.digest);
        ++it;
      }
    }
    for (auto it = reserved.begin(); it != reserved.end();) {
      it = live.count(it->second) != 0 ? std::next(it) : reserved.erase(it);
    }
    // A row the journal failed to drop is dropped on the next pass or at the next start (expired:
    // nothing can use it).
    if (expired) (void)journal.drop_expired_x402_stages(static_cast<std::uint64_t>(now));
  }

  // After the payment was mined or failed: the journal's entry answers for it from now on, so a row
  // the journal failed to drop changes nothing (it expires).
  void drop_digest_locked(const std::string& digest) {
    (void)journal.drop_x402_stages(digest, "");
    for (auto it = staged.begin(); it != staged.end();) {
      it = it->second.digest == digest ? staged.erase(it) : std::next(it);
    }
    for (auto it = reserved.begin(); it != reserved.end();) {
      it = it->second == digest ? reserved.erase(it) : std::next(it);
    }
  }

  ordered_json supported_json() {
    ordered_json extra{{"pool", relayer.config().pool.to_checksum()},
                       {"asset", asset.to_checksum()},
                       {"unit", relayer.config().unit.to_decimal()},
                       {"feeRecipient", relayer.address().to_checksum()},
                       {"relayUrl", options.public_url + options.base_path}};
    ordered_json kind{{"x402Version", 2}, {"scheme", kX402Scheme}, {"network", network()}, {"extra", extra}};
    return ordered_json{
        {"kinds", ordered_json::array({kind})},
        {"extensions", ordered_json::array()},
        {"signers", ordered_json{{"eip155:*", ordered_json::array({relayer.address().to_checksum()})}}}};
  }

  // ------------------------------------------------------------------------------------ stage

  // The stage's answer: the relay API's status of a payment (so that a wallet's relayer client
  // takes it), with the bundle hash and when the stage expires.
  static X402Answer stage_answer(int status, const Staged& s) {
    eth::RelayStatus st;
    st.digest = *eth::hash_from_hex(s.digest);
    st.state = eth::RelayState::kPending;
    ordered_json j = ordered_json::parse(eth::encode_status(st));
    j["payment_digest"] = s.digest;
    j["bundle_hash"] = s.bundle_hash;
    j["expires_at"] = s.expires_at;
    return answer(status, j);
  }

  // The relay API's answer for a digest the relayer's journal holds (its public status), or a 503
  // or 500 when the journal or the entry cannot be read; nothing when the journal does not hold it.
  std::optional<X402Answer> journal_answer(const std::string& digest) {
    Result<std::optional<RelayEntry>> known = relayer.status(digest);
    if (!known.ok()) return answer(503, ordered_json{{"error", known.status().message()}});
    if (!*known) return std::nullopt;
    Result<eth::RelayStatus> st = public_status(**known);
    if (!st.ok()) return answer(500, ordered_json{{"error", st.status().message()}});
    return X402Answer{200, eth::encode_status(*st)};
  }

  X402Answer stage(std::string_view body) {
    Result<eth::RelayBundle> parsed = eth::decode_bundle(body);
    if (!parsed.ok()) return answer(400, ordered_json{{"error", parsed.status().message()}, {"reason", "malformed"}});
    const eth::RelayBundle& b = *parsed;
    // The cheap checks now (no eth_call): a bundle the relayer would refuse is refused here.
    if (std::optional<Submission> refused = relayer.preflight(b, /*simulate=*/false)) {
      if (refused->outcome == Submission::Outcome::kRefused) {
        return answer(refusal_http_status(refused->refusal),
                      ordered_json{{"error", refused->status.message()}, {"reason", refusal_name(refused->refusal)}});
      }
      return answer(503, ordered_json{{"error", refused->status.message()}});
    }
    Result<eth::Bytes> calldata = b.calldata();
    if (!calldata.ok()) return bad_request(calldata.status().message());
    Staged s;
    s.bundle = b;
    s.digest = eth::to_hex(b.digest());
    s.bundle_hash = eth::to_hex(eth::keccak256(*calldata));
    s.expires_at = static_cast<std::int64_t>(b.payment.deadline.low_u64());

    // Settled (or being settled) already: its status, as the relay API answers a known digest.
    if (std::optional<X402Answer> journaled = journal_answer(s.digest)) return *journaled;

    std::lock_guard lock(mu);
    expire_locked();
    const std::string key = s.digest + s.bundle_hash;
    if (staged.count(key) != 0) return stage_answer(200, s);
    for (const U256& nf : b.payment.nullifiers) {
      auto it = reserved.find(nf);
      if (it != reserved.end() && it->second != s.digest) {
        return answer(409, ordered_json{{"error", "nullifier " + eth::to_hex(nf.to_word()) +
                                                      " is staged for another payment (" + it->second + ")"}});
      }
    }
    if (staged.size() >= options.max_staged) {
      return answer(503, ordered_json{{"error", "too many staged payments; try again later"}});
    }
    // Durable before it is answered: a restarted facilitator still settles what it staged.
    const X402Stage row{s.digest, s.bundle_hash, eth::encode_bundle(b), static_cast<std::uint64_t>(s.expires_at), "",
                        0};
    if (Status put = journal.put_x402_stage(row); !put.is_ok() && put.code() != StatusCode::kAlreadyExists) {
      return answer(503, ordered_json{{"error", "recording the stage: " + put.message()}});
    }
    for (const U256& nf : b.payment.nullifiers) reserved[nf] = s.digest;
    X402Answer out = stage_answer(202, s);
    staged.emplace(key, std::move(s));
    return out;
  }

  // GET {base}/v1/relay/{digest}: the journal's entry, else "pending" while staged, else 404.
  X402Answer stage_status(std::string_view digest) {
    Result<eth::Hash32> d = eth::hash_from_hex(digest);
    if (!d.ok()) return bad_request("a payment digest is 0x + 64 hex digits");
    const std::string hex = eth::to_hex(*d);
    if (std::optional<X402Answer> journaled = journal_answer(hex)) return *journaled;
    std::lock_guard lock(mu);
    expire_locked();
    for (const auto& [key, s] : staged) {
      if (s.digest == hex) return stage_answer(200, s);
    }
    return answer(404, ordered_json{{"error", "no bundle with this digest"}});
  }

  // Only the payer releases: `signature` is x402_release_signer's signature over
  // x402_release_message (bucketpay/relay_api.h), which the wallet makes with the payment and the
  // client puts in the payload for the resource server; the digest and bundle hash alone (in
  // status URLs, logs, the chain once sent) do not release anything.
  X402Answer release(std::string_view body) {
    json j = json::parse(body, nullptr, false);
    if (!j.is_object()) return bad_request("the body is not a JSON object");
    std::optional<std::string> digest = string_member(j, "paymentDigest");
    std::optional<std::string> hash = string_member(j, "bundleHash");
    if (!digest || !hash) return bad_request("paymentDigest and bundleHash are required");
    Result<eth::Hash32> d = eth::hash_from_hex(*digest);
    Result<eth::Hash32> h = eth::hash_from_hex(*hash);
    if (!d.ok() || !h.ok()) return bad_request("paymentDigest and bundleHash are 0x + 64 hex digits");
    const std::optional<std::string> signature = string_member(j, "signature");
    if (!signature) {
      return answer(401, ordered_json{{"error", "a release needs the payer's signature (signature: 0x + 65 bytes)"}});
    }
    Result<eth::Bytes> rsv = eth::from_hex(*signature);
    if (!rsv.ok()) return bad_request("signature must be 0x + 65 bytes in hex");
    const std::string digest_hex = eth::to_hex(*d);
    const std::string hash_hex = eth::to_hex(*h);
    std::lock_guard lock(mu);
    expire_locked();
    auto it = staged.find(digest_hex + hash_hex);
    if (it == staged.end()) {
      return answer(404, ordered_json{{"error", "no bundle is staged for this paymentDigest and bundleHash"}});
    }
    Result<eth::Address> signer = eth::recover_signer(eth::x402_release_message(*d, *h), *rsv);
    if (!signer.ok() || *signer != eth::x402_release_signer(it->second.bundle)) {
      return answer(403, ordered_json{{"error", "the signature is not the payer's release of this payment"}});
    }
    if (Result<std::size_t> dropped = journal.drop_x402_stages(digest_hex, hash_hex); !dropped.ok()) {
      return answer(503, ordered_json{{"error", "dropping the stage: " + dropped.status().message()}});
    }
    staged.erase(it);
    bool any_left = false;
    for (const auto& [key, s] : staged) any_left = any_left || s.digest == digest_hex;
    if (!any_left) drop_digest_locked(digest_hex);
    return answer(200, ordered_json{{"released", true}});
  }

  // ----------------------------------------------------------------------------------- checks

  // The request's shape: 400 (nullopt Invalid and an error) when it is not a Verify/SettleRequest.
  // NOLINTNEXTLINE(bugprone-exception-escape): its implicit moves are json's, which are noexcept
  struct Parsed {
    json request;
    json requirements;
    json payload;
  };
  static Result<Parsed> parse_request(std::string_view body) {
    Parsed p;
    p.request = json::parse(body, nullptr, false);
    if (!p.request.is_object()) return Status::invalid_argument("the body is not a JSON object");
    auto req = p.request.find("paymentRequirements");
    auto pay = p.request.find("paymentPayload");
    if (req == p.request.end() || !req->is_object()) {
      return Status::invalid_argument("paymentRequirements must be an object");
    }
    if (pay == p.request.end() || !pay->is_object())
      return Status::invalid_argument("paymentPayload must be an object");
    p.requirements = *req;
    p.payload = *pay;
    return p;
  }

  // Checks up to the staged bundle against the requirements; `settle` skips the journal check (the
  // caller answers it its own way).
  std::variant<Invalid, Checked> check(const Parsed& p, bool for_settle, std::string* digest_out) {
    const json& req = p.requirements;
    const json& pay = p.payload;
    auto version = pay.find("x402Version");
    if (version == pay.end() || !version->is_number_integer() || version->get<std::int64_t>() != 2) {
      return Invalid{"invalid_x402_version", "paymentPayload.x402Version must be 2"};
    }
    auto accepted_it = pay.find("accepted");
    if (accepted_it == pay.end() || !accepted_it->is_object()) {
      return Invalid{"invalid_payload", "paymentPayload.accepted must be an object"};
    }
    const json& accepted = *accepted_it;
    if (string_member(req, "scheme") != std::string(kX402Scheme) ||
        string_member(accepted, "scheme") != std::string(kX402Scheme)) {
      return Invalid{"invalid_scheme", "the scheme must be " + std::string(kX402Scheme)};
    }
    if (string_member(req, "network") != network() || string_member(accepted, "network") != network()) {
      return Invalid{"invalid_network", "the network must be " + network()};
    }
    for (const char* field : kCoreFields) {
      auto a = accepted.find(field);
      auto r = req.find(field);
      if (a == accepted.end() || r == req.end() || *a != *r) {
        return Invalid{"invalid_payment_requirements",
                       std::string("paymentRequirements.") + field + " is not the payment's accepted." + field};
      }
    }
    const std::optional<std::string> asset_text = string_member(req, "asset");
    Result<eth::Address> asset_addr = eth::Address::from_string(asset_text.value_or(""));
    if (!asset_addr.ok() || *asset_addr != asset) {
      return Invalid{"invalid_bucketpay_asset_mismatch", "asset must be the Pool's token " + asset.to_checksum()};
    }
    const RelayConfig& config = relayer.config();
    if (auto extra = req.find("extra"); extra != req.end() && extra->is_object()) {
      if (auto pool = extra->find("pool"); pool != extra->end()) {
        Result<eth::Address> a = pool->is_string() ? eth::Address::from_string(pool->get<std::string>())
                                                   : Result<eth::Address>(Status::invalid_argument("not a string"));
        if (!a.ok() || *a != config.pool) {
          return Invalid{"invalid_bucketpay_pool_mismatch", "extra.pool must be " + config.pool.to_checksum()};
        }
      }
      if (auto unit = extra->find("unit"); unit != extra->end()) {
        if (!unit->is_string() || unit->get<std::string>() != config.unit.to_decimal()) {
          return Invalid{"invalid_bucketpay_pool_mismatch", "extra.unit must be " + config.unit.to_decimal()};
        }
      }
    }
    const std::optional<std::string> amount_text = string_member(req, "amount");
    Result<U256> amount = U256::from_string(amount_text.value_or(""));
    if (!amount.ok() || amount->is_zero() || !(*amount % config.unit).is_zero()) {
      return Invalid{"invalid_payment_requirements",
                     "amount must be a positive multiple of the Pool's unit " + config.unit.to_decimal()};
    }
    Result<eth::Address> pay_to = eth::Address::from_string(string_member(req, "payTo").value_or(""));
    if (!pay_to.ok() || pay_to->is_zero()) return Invalid{"invalid_payment_requirements", "payTo must be an address"};
    auto timeout = req.find("maxTimeoutSeconds");
    if (timeout == req.end() || !timeout->is_number_integer() || timeout->get<std::int64_t>() <= 0) {
      return Invalid{"invalid_payment_requirements", "maxTimeoutSeconds must be a positive integer"};
    }

    auto payload_it = pay.find("payload");
    if (payload_it == pay.end() || !payload_it->is_object()) {
      return Invalid{"invalid_payload", "paymentPayload.payload must be an object"};
    }
    Result<eth::Hash32> digest = eth::hash_from_hex(string_member(*payload_it, "paymentDigest").value_or(""));
    Result<eth::Hash32> bundle_hash = eth::hash_from_hex(string_member(*payload_it, "bundleHash").value_or(""));
    if (!digest.ok() || !bundle_hash.ok()) {
      return Invalid{"invalid_payload", "payload.paymentDigest and payload.bundleHash must be 0x + 64 hex digits"};
    }
    const std::string digest_hex = eth::to_hex(*digest);
    if (digest_out != nullptr) *digest_out = digest_hex;
    if (!for_settle) {
      Result<std::optional<RelayEntry>> known = relayer.status(digest_hex);
      if (!known.ok()) return Invalid{"unexpected_verify_error", known.status().message()};
      if (*known) {
        return Invalid{"invalid_bucketpay_payment_already_settled",
                       "payment " + digest_hex + " was settled already (transaction " + (*known)->tx_hash + ")"};
      }
    }
    Staged s;
    {
      std::lock_guard lock(mu);
      expire_locked();
      auto it = staged.find(digest_hex + eth::to_hex(*bundle_hash));
      if (it == staged.end()) {
        return Invalid{"invalid_bucketpay_bundle_not_staged",
                       "no bundle is staged for payment " + digest_hex + " with this bundleHash"};
      }
      s = it->second;
    }
    const eth::Payment& payment = s.bundle.payment;
    if (payment.recipient != *pay_to) {
      return Invalid{"invalid_bucketpay_recipient_mismatch",
                     "the payment pays " + payment.recipient.to_checksum() + ", not payTo " + pay_to->to_checksum()};
    }
    const std::optional<U256> withdrawn = U256::checked_mul(s.bundle.value_units(), config.unit);
    const std::optional<U256> paid = withdrawn ? U256::checked_sub(*withdrawn, payment.fee) : std::nullopt;
    if (!paid || *paid != *amount) {
      return Invalid{"invalid_bucketpay_amount_mismatch",
                     "the payment pays payTo " + (paid ? paid->to_decimal() : std::string("nothing")) + " (" +
                         s.bundle.value_units().to_decimal() + " cents less the fee " + payment.fee.to_decimal() +
                         "), not amount " + amount->to_decimal()};
    }
    const std::int64_t latest = now_s() + timeout->get<std::int64_t>() + options.deadline_slack.count();
    if (payment.deadline > U256(static_cast<std::uint64_t>(latest))) {
      return Invalid{"invalid_bucketpay_deadline_too_late",
                     "the payment's deadline " + payment.deadline.to_decimal() + " is beyond now + maxTimeoutSeconds"};
    }
    // Nullifiers: reserved by this payment only, and in no other open relay entry.
    {
      std::lock_guard lock(mu);
      for (const U256& nf : payment.nullifiers) {
        auto it = reserved.find(nf);
        if (it != reserved.end() && it->second != digest_hex) {
          return Invalid{"invalid_bucketpay_nullifier_pending",
                         "nullifier " + eth::to_hex(nf.to_word()) + " is staged for payment " + it->second};
        }
      }
    }
    Result<std::vector<RelayEntry>> open = relayer.open_entries();
    if (!open.ok()) return Invalid{"unexpected_verify_error", open.status().message()};
    const std::set<U256> mine(payment.nullifiers.begin(), payment.nullifiers.end());
    for (const RelayEntry& e : *open) {
      if (e.digest == digest_hex) continue;
      Result<eth::RelayBundle> other = eth::decode_bundle(e.bundle);
      if (!other.ok()) continue;
      for (const U256& nf : other->payment.nullifiers) {
        if (mine.count(nf) != 0) {
          return Invalid{"invalid_bucketpay_nullifier_pending",
                         "nullifier " + eth::to_hex(nf.to_word()) + " is in payment " + e.digest + ", not settled yet"};
        }
      }
    }
    return Checked{std::move(s)};
  }

  // ----------------------------------------------------------------------------------- verify

  X402Answer verify(std::string_view body) {
    Result<Parsed> p = parse_request(body);
    if (!p.ok()) return bad_request(p.status().message());
    std::string digest;
    auto checked = check(*p, /*for_settle=*/false, &digest);
    if (auto* invalid = std::get_if<Invalid>(&checked)) return invalid_answer(*invalid);
    const Staged& s = std::get<Checked>(checked).staged;
    if (std::optional<Submission> refused = relayer.preflight(s.bundle, /*simulate=*/true)) {
      if (refused->outcome == Submission::Outcome::kRefused) {
        return invalid_answer(
            Invalid{reason_of_refusal(refused->refusal, refused->status.message()), refused->status.message()});
      }
      return invalid_answer(Invalid{"unexpected_verify_error", refused->status.message()});
    }
    return answer(200, ordered_json{{"isValid", true}, {"extra", ordered_json{{"paymentDigest", s.digest}}}});
  }

  static X402Answer invalid_answer(const Invalid& i) {
    return answer(200, ordered_json{{"isValid", false}, {"invalidReason", i.reason}, {"invalidMessage", i.message}});
  }

  // ----------------------------------------------------------------------------------- settle

  X402Answer settle_failure(const std::string& reason, const std::string& message, const std::string& tx = "") {
    return answer(200, ordered_json{{"success", false},
                                    {"errorReason", reason},
                                    {"errorMessage", message},
                                    {"transaction", tx},
                                    {"network", network()}});
  }

  X402Answer settle(std::string_view body) {
    Result<Parsed> p = parse_request(body);
    if (!p.ok()) return bad_request(p.status().message());
    std::string digest;
    auto checked = check(*p, /*for_settle=*/true, &digest);
    // A payment the journal holds: the one reconciling answer after settlement_pending, else refused.
    if (!digest.empty()) {
      Result<std::optional<RelayEntry>> known = relayer.status(digest);
      if (!known.ok()) return settle_failure("unexpected_settle_error", known.status().message());
      if (*known) {
        // Taken once from the journal (also after a restart): of two retries, one waits.
        Result<std::optional<std::string>> reported = journal.take_x402_pending(digest);
        if (!reported.ok()) return settle_failure("unexpected_settle_error", reported.status().message());
        if (*reported) return wait_and_answer(digest, /*may_report_pending=*/false);
        return settle_failure("invalid_bucketpay_payment_already_settled", "payment " + digest + " was settled already",
                              (*known)->tx_hash);
      }
    }
    if (auto* invalid = std::get_if<Invalid>(&checked)) {
      return settle_failure(invalid->reason == "unexpected_verify_error" ? "unexpected_settle_error" : invalid->reason,
                            invalid->message);
    }
    const Staged& s = std::get<Checked>(checked).staged;
    const Submission sub = relayer.submit(eth::encode_bundle(s.bundle));
    switch (sub.outcome) {
      case Submission::Outcome::kRefused:
        return settle_failure(reason_of_refusal(sub.refusal, sub.status.message()), sub.status.message());
      case Submission::Outcome::kKnown:
        // Another settle (or POST /v1/relay) handed it to the relayer first.
        return settle_failure("invalid_bucketpay_payment_already_settled", "payment " + digest + " was settled already",
                              sub.entry ? sub.entry->tx_hash : "");
      case Submission::Outcome::kError:
        if (!sub.entry) return settle_failure("unexpected_settle_error", sub.status.message());
        break;  // journaled: the relayer sends it (again); wait for it like a submitted one
      case Submission::Outcome::kSubmitted:
        break;
    }
    return wait_and_answer(digest, /*may_report_pending=*/true);
  }

  // Waits up to settle_wait for the digest's entry to be mined or fail, and answers it.
  X402Answer wait_and_answer(const std::string& digest, bool may_report_pending) {
    const auto until = clock.steady_now() + options.settle_wait;
    std::optional<RelayEntry> entry;
    while (true) {
      Result<std::optional<RelayEntry>> e = relayer.refresh(digest);
      if (e.ok() && *e) {
        entry = **e;
        if (entry->state == RelayEntryState::kMined) {
          {
            std::lock_guard lock(mu);
            drop_digest_locked(digest);
          }
          return answer(200, ordered_json{{"success", true},
                                          {"transaction", entry->tx_hash},
                                          {"network", network()},
                                          {"extra", ordered_json{{"paymentDigest", digest}}}});
        }
        if (entry->state == RelayEntryState::kFailed) {
          {
            std::lock_guard lock(mu);
            drop_digest_locked(digest);
          }
          const bool paid_elsewhere = entry->reason.rfind("paid by ", 0) == 0;
          return settle_failure(
              paid_elsewhere ? "invalid_bucketpay_payment_already_settled" : "invalid_bucketpay_transaction_failed",
              entry->reason, entry->tx_hash);
        }
      }
      if (clock.steady_now() >= until) break;
      clock.sleep_for(options.settle_poll);
    }
    const std::string tx = entry ? entry->tx_hash : "";
    if (may_report_pending && !tx.empty()) {
      // Recorded with the stage, durable. When it cannot be, the SDK's retry is answered
      // invalid_bucketpay_payment_already_settled: never a second success, at worst none.
      (void)journal.set_x402_pending(digest, tx);
    }
    return settle_failure("settlement_pending",
                          "transaction " + (tx.empty() ? std::string("(not sent yet)") : tx) + " is not mined yet", tx);
  }
};

X402Facilitator::X402Facilitator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
X402Facilitator::~X402Facilitator() = default;

Result<std::unique_ptr<X402Facilitator>> X402Facilitator::create(Relayer& relayer, X402Options options) {
  if (options.base_path.empty() || options.base_path.front() != '/' || options.base_path.back() == '/') {
    return Status::invalid_argument("the x402 base path must start with / and not end with one, e.g. /x402");
  }
  if (options.settle_poll.count() <= 0) return Status::invalid_argument("settle_poll must be above 0");
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Address token, relayer.token());
  auto impl = std::make_unique<Impl>(relayer, std::move(options), token);
  BUCKETPAY_RETURN_IF_ERROR(impl->load());
  return std::unique_ptr<X402Facilitator>(new X402Facilitator(std::move(impl)));
}

const X402Options& X402Facilitator::options() const { return impl_->options; }
std::string X402Facilitator::network() const { return impl_->network(); }
const eth::Address& X402Facilitator::asset() const { return impl_->asset; }
void X402Facilitator::set_public_url(std::string url) { impl_->options.public_url = std::move(url); }

X402Answer X402Facilitator::supported() { return answer(200, impl_->supported_json()); }
X402Answer X402Facilitator::stage(std::string_view body) { return impl_->stage(body); }
X402Answer X402Facilitator::verify(std::string_view body) { return impl_->verify(body); }
X402Answer X402Facilitator::settle(std::string_view body) { return impl_->settle(body); }
X402Answer X402Facilitator::release(std::string_view body) { return impl_->release(body); }
X402Answer X402Facilitator::stage_status(std::string_view digest) { return impl_->stage_status(digest); }

}  // namespace bucketpay::relay
