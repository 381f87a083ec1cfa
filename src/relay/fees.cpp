// The fee rule (FeePolicy, compute_fee) in exact integers.
#include <algorithm>

#include "bucketpay/relay.h"

namespace bucketpay::relay {
namespace {

using eth::U256;

constexpr unsigned kMaxPriceDecimals = 18;
constexpr std::uint32_t kMaxMarginBps = 100'000;  // 1,000 %
constexpr unsigned kMaxTokenDecimals = 36;

// A positive decimal "3000" or "2500.5" as numerator / 10^scale.
struct Decimal {
  U256 numerator;
  unsigned scale = 0;
};

Result<Decimal> parse_price(std::string_view text) {
  const auto bad = [&] {
    return Status::invalid_argument("the ETH price must be a positive decimal such as 3000 or 2500.5, not \"" +
                                    std::string(text.substr(0, 40)) + "\"");
  };
  const std::size_t point = text.find('.');
  std::string digits(text.substr(0, point));
  unsigned scale = 0;
  if (point != std::string_view::npos) {
    const std::string_view fraction = text.substr(point + 1);
    if (fraction.empty() || fraction.size() > kMaxPriceDecimals) return bad();
    digits += fraction;
    scale = static_cast<unsigned>(fraction.size());
  }
  if (digits.empty() || point == 0 || digits.size() > 60 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad();
  }
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return bad();  // zero
  Result<U256> n = U256::from_string(digits.substr(first));
  if (!n.ok()) return bad();
  return Decimal{*n, scale};
}

U256 pow10(unsigned e) {
  U256 r(1);
  for (unsigned i = 0; i < e; ++i) r = r * U256(10);
  return r;
}

}  // namespace

std::uint64_t GasTable::gas(eth::BundleKind kind, std::size_t notes) const {
  if (kind == eth::BundleKind::kSplit) return split;
  return spend_base + spend_per_note * static_cast<std::uint64_t>(notes);
}

Status validate_fee_policy(const FeePolicy& policy) {
  BUCKETPAY_RETURN_IF_ERROR(parse_price(policy.eth_price).status());
  if (policy.margin_bps > kMaxMarginBps) {
    return Status::invalid_argument("the fee margin must be at most " + std::to_string(kMaxMarginBps / 100) + " %");
  }
  if (policy.quote_validity.count() <= 0) return Status::invalid_argument("a quote must be valid for at least 1 s");
  if (policy.gas.spend_per_note == 0 || policy.gas.split == 0) {
    return Status::invalid_argument("the gas table must have a non-zero gas per note and per split");
  }
  return Status::ok();
}

Result<U256> compute_fee(const FeePolicy& policy, unsigned token_decimals, eth::BundleKind kind, std::size_t notes,
                         const U256& gas_price) {
  BUCKETPAY_RETURN_IF_ERROR(validate_fee_policy(policy));
  if (token_decimals > kMaxTokenDecimals) {
    return Status::invalid_argument("a token with " + std::to_string(token_decimals) + " decimals is not supported");
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const Decimal price, parse_price(policy.eth_price));
  // fee = gas * gas_price * price * 10^decimals * (10^4 + margin) / (10^18 * 10^scale * 10^4), rounded up.
  const U256 factors[] = {U256(policy.gas.gas(kind, notes)), gas_price, price.numerator, pow10(token_decimals),
                          U256(10'000 + policy.margin_bps)};
  U256 numerator(1);
  for (const U256& f : factors) {
    std::optional<U256> product = U256::checked_mul(numerator, f);
    if (!product) {
      return Status::invalid_argument("the fee overflows 256 bits: check the ETH price and the gas table");
    }
    numerator = *product;
  }
  const U256 denominator = pow10(18 + price.scale) * U256(10'000);
  U256 fee = numerator / denominator;
  if (!(numerator % denominator).is_zero()) fee += U256(1);
  return std::max(fee, policy.min_fee);
}

}  // namespace bucketpay::relay
