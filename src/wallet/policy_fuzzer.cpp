// libFuzzer harness: InventoryPolicy::parse (from --policy and from a backup's settings). An
// accepted policy prints (to_string) to a text that parses back to the same denominations and targets.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bucketpay/wallet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bucketpay;
  auto policy = InventoryPolicy::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!policy.ok()) return 0;
  const std::string text = policy->to_string();
  if (text.empty()) return 0;  // all targets zero: nothing to print
  auto again = InventoryPolicy::parse(text);
  if (!again.ok() || again->denominations != policy->denominations) std::abort();
  return 0;
}
