// libFuzzer harness: parse_amount on any text, in dollars and in cents (amounts come from the CLI
// and the service's query strings). An accepted amount is in range and formats back to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bucketpay/amount.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bucketpay;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (AmountUnit unit : {AmountUnit::kDollars, AmountUnit::kCents}) {
    auto cents = parse_amount(text, unit);
    if (!cents.ok()) continue;
    if (*cents == 0 || *cents > kMaxPaymentCents) std::abort();
    auto again = parse_amount(format_dollars(*cents), AmountUnit::kDollars);
    if (!again.ok() || *again != *cents) std::abort();
  }
  return 0;
}
