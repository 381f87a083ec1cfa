// The wallet's x402 payment endpoint: requirements in, a staged payment's digest and bundle hash out.
#include "x402_pay.h"

#include <nlohmann/json.hpp>

namespace bucketpay::service {
namespace {

using nlohmann::json;

constexpr std::string_view kScheme = "bucketpay-exact";
constexpr std::int64_t kMinTimeoutS = 61;  // a relayer takes a deadline at least 60 s away
constexpr std::int64_t kMaxTimeoutS = 3600;

X402PayAnswer error(int status, const std::string& message) { return {status, json{{"error", message}}.dump()}; }

std::string string_of(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

X402PayAnswer X402Payer::pay(const std::string& wallet_name, std::string_view body) {
  const json request = json::parse(body, nullptr, false);
  if (!request.is_object()) return error(400, "the body must be a JSON object {\"requirements\": {...}}");
  auto req_it = request.find("requirements");
  if (req_it == request.end() || !req_it->is_object()) return error(400, "requirements must be an object");
  const json& req = *req_it;

  std::lock_guard lock(mu_);
  auto it = wallets_.find(wallet_name);
  if (it == wallets_.end()) {
    Result<std::unique_ptr<Wallet>> opened = Wallet::open(store_, wallet_name);
    if (!opened.ok()) return error(503, "cannot open wallet " + wallet_name + ": " + opened.status().message());
    it = wallets_.emplace(wallet_name, std::move(opened).value()).first;
  }
  Wallet& w = *it->second;

  if (string_of(req, "scheme") != kScheme) return error(400, "scheme must be bucketpay-exact");
  const std::string network = "eip155:" + w.domain().chain_id.to_decimal();
  if (string_of(req, "network") != network) {
    return error(400, "network " + string_of(req, "network") + " is not this wallet's chain " + network);
  }
  Result<eth::Address> asset = eth::Address::from_string(string_of(req, "asset"));
  if (!asset.ok() || *asset != w.token()) {
    return error(400, "asset must be the Pool's token " + w.token().to_checksum());
  }
  auto extra_it = req.find("extra");
  if (extra_it == req.end() || !extra_it->is_object()) {
    return error(400, "extra must name the pool and the relayUrl");
  }
  Result<eth::Address> pool = eth::Address::from_string(string_of(*extra_it, "pool"));
  if (!pool.ok() || *pool != w.config().pool) {
    return error(400, "extra.pool must be this wallet's Pool " + w.config().pool.to_checksum());
  }
  const std::string relay_url = string_of(*extra_it, "relayUrl");
  if (relay_url.rfind("http://", 0) != 0 && relay_url.rfind("https://", 0) != 0) {
    return error(400, "extra.relayUrl must be an http(s) URL");
  }
  Result<eth::U256> amount = eth::U256::from_string(string_of(req, "amount"));
  if (!amount.ok() || amount->is_zero()) return error(400, "amount must be a positive decimal of token base units");
  if (!(*amount % w.unit()).is_zero()) {
    return error(
        400, "amount " + amount->to_decimal() + " is not a whole number of cents (unit " + w.unit().to_decimal() + ")");
  }
  const eth::U256 cents = *amount / w.unit();
  if (!cents.fits_u64() || cents.low_u64() > kMaxPaymentCents)
    return error(400, "amount is above what one payment carries");
  if (auto max_it = request.find("max_amount"); max_it != request.end() && !max_it->is_null()) {
    Result<eth::U256> max = eth::U256::from_string(max_it->is_string() ? max_it->get<std::string>() : "");
    if (!max.ok()) return error(400, "max_amount must be a decimal of token base units");
    if (*amount > *max)
      return error(400, "amount " + amount->to_decimal() + " is above max_amount " + max->to_decimal());
  }
  Result<eth::Address> pay_to = eth::Address::from_string(string_of(req, "payTo"));
  if (!pay_to.ok() || pay_to->is_zero()) return error(400, "payTo must be an address");
  auto timeout_it = req.find("maxTimeoutSeconds");
  if (timeout_it == req.end() || !timeout_it->is_number_integer() || timeout_it->get<std::int64_t>() < kMinTimeoutS ||
      timeout_it->get<std::int64_t>() > kMaxTimeoutS) {
    return error(400,
                 "maxTimeoutSeconds must be " + std::to_string(kMinTimeoutS) + " to " + std::to_string(kMaxTimeoutS));
  }

  if (Result<SyncReport> synced = w.sync(); !synced.ok()) {
    return error(503, "syncing the wallet: " + synced.status().message());
  }
  Result<PaymentReport> paid = w.pay(cents.low_u64(), *pay_to, MissingPolicy::kRefuse, relay_url,
                                     static_cast<std::uint64_t>(timeout_it->get<std::int64_t>()));
  if (!paid.ok()) {
    const Status& s = paid.status();
    switch (s.code()) {
      case StatusCode::kNotFound:
        return error(409, s.message());
      case StatusCode::kResourceExhausted:
        return error(403, s.message());
      case StatusCode::kInvalidArgument:
        return error(400, s.message());
      case StatusCode::kFailedPrecondition:
        return error(502, s.message());
      case StatusCode::kUnavailable:
      case StatusCode::kTimeout:
        return error(503, s.message());
      default:
        return error(500, s.message());
    }
  }
  json notes = json::array();
  for (Cents v : paid->notes) notes.push_back(v);
  const eth::U256 fee = eth::U256(paid->fee) * w.unit();
  return {201, json{{"payment_digest", paid->digest},
                    {"bundle_hash", paid->bundle_hash},
                    {"release_signature", paid->release_signature},
                    {"payment_id", paid->payment_id},
                    {"amount", amount->to_decimal()},
                    {"fee", fee.to_decimal()},
                    {"notes", notes},
                    {"deadline", paid->deadline}}
                   .dump()};
}

}  // namespace bucketpay::service
