// FeeQuotes: the relayers' fee quotes (GET /v1/relay/quote), cached per relayer, kind and number of
// notes while they are valid, so that a payment's latency holds no request to the relayer when the
// quote it needs is fresh.
//
// A quote is taken as valid until `kQuoteMargin` before its valid_until (on the wallet's clock):
// the bundle must reach the relayer while the relayer still honours the fee. A quote is checked
// against the wallet's own chain and Pool (a relayer for another chain or Pool is refused,
// kFailedPrecondition), and its fee must be payable in cents of this Pool (fee_cents()).
//
// Thread safety: one thread at a time (the wallet's).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>

#include "bucketpay/amount.h"
#include "bucketpay/clock.h"
#include "bucketpay/payment.h"
#include "bucketpay/relayer_client.h"

namespace bucketpay {

// The relayer at a URL, connected once and kept by its owner (the wallet).
using RelayerSource = std::function<Result<eth::RelayerClient*>(const std::string& url)>;

inline constexpr std::chrono::seconds kQuoteMargin{5};

class FeeQuotes {
 public:
  // `unit`: token base units per cent (Pool.UNIT).
  FeeQuotes(RelayerSource relayers, Clock& clock, eth::PaymentDomain domain, eth::U256 unit);

  // The quote of the relayer at `url` for `kind` of `notes` notes: from the cache while valid, else
  // fetched (and cached).
  Result<eth::RelayQuote> get(const std::string& url, eth::BundleKind kind, std::uint32_t notes);
  // A cached quote only (no request): none when there is no valid one.
  std::optional<eth::RelayQuote> cached(const std::string& url, eth::BundleKind kind, std::uint32_t notes);
  // The quote's fee in whole cents, rounded up (kInvalidArgument when it is beyond 2^63 cents).
  Result<Cents> fee_cents(const eth::RelayQuote& quote) const;
  [[nodiscard]] const eth::U256& unit() const { return unit_; }

 private:
  using Key = std::tuple<std::string, eth::BundleKind, std::uint32_t>;
  [[nodiscard]] bool valid(const eth::RelayQuote& q);

  RelayerSource relayers_;
  Clock& clock_;
  eth::PaymentDomain domain_;
  eth::U256 unit_;
  std::map<Key, eth::RelayQuote> cache_;
};

}  // namespace bucketpay
