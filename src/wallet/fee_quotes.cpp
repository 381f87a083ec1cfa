#include "fee_quotes.h"

#include <limits>

namespace bucketpay {

FeeQuotes::FeeQuotes(RelayerSource relayers, Clock& clock, eth::PaymentDomain domain, eth::U256 unit)
    : relayers_(std::move(relayers)), clock_(clock), domain_(domain), unit_(unit) {}

bool FeeQuotes::valid(const eth::RelayQuote& q) {
  return clock_.unix_ms() / 1000 + kQuoteMargin.count() < q.valid_until;
}

std::optional<eth::RelayQuote> FeeQuotes::cached(const std::string& url, eth::BundleKind kind, std::uint32_t notes) {
  auto it = cache_.find(Key{url, kind, notes});
  if (it == cache_.end() || !valid(it->second)) return std::nullopt;
  return it->second;
}

Result<eth::RelayQuote> FeeQuotes::get(const std::string& url, eth::BundleKind kind, std::uint32_t notes) {
  if (auto q = cached(url, kind, notes)) return *q;
  BUCKETPAY_ASSIGN_OR_RETURN(eth::RelayerClient* const relayer, relayers_(url));
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::RelayQuote q, relayer->quote(kind, notes));
  if (eth::U256(q.chain_id) != domain_.chain_id || q.pool != domain_.pool) {
    return Status::failed_precondition("the relayer at " + url + " relays for Pool " + q.pool.to_checksum() +
                                       " on chain " + std::to_string(q.chain_id) + ", not this wallet's Pool " +
                                       domain_.pool.to_checksum() + " on chain " + domain_.chain_id.to_decimal());
  }
  BUCKETPAY_RETURN_IF_ERROR(fee_cents(q).status());
  if (!valid(q)) {
    return Status::failed_precondition("the relayer at " + url + " quoted a fee valid until " +
                                       std::to_string(q.valid_until) + ", which is already past (is its clock right?)");
  }
  cache_[Key{url, kind, notes}] = q;
  return q;
}

Result<Cents> FeeQuotes::fee_cents(const eth::RelayQuote& q) const {
  if (unit_.is_zero()) return Status::failed_precondition("the Pool's unit is 0");
  eth::U256 cents = q.fee / unit_;
  if (!(q.fee % unit_).is_zero()) cents += eth::U256(1);
  if (!cents.fits_u64() || cents.low_u64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Status::invalid_argument("the relayer's fee " + q.fee.to_decimal() + " is beyond any payment");
  }
  return cents.low_u64();
}

}  // namespace bucketpay
