// libFuzzer harness: the hex, U256 and address parsers of eth.h on any text (every value a node
// or a user hands us goes through them). Whatever they accept prints back to an equal value.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bucketpay/eth.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bucketpay::eth;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto b = from_hex(text); b.ok()) {
    auto again = from_hex(to_hex(*b));
    if (!again.ok() || *again != *b) std::abort();
  }
  if (auto h = hash_from_hex(text); h.ok()) {
    if (h->size() != 32) std::abort();
  }
  if (auto v = U256::from_string(text); v.ok()) {
    auto dec = U256::from_string(v->to_decimal());
    if (!dec.ok() || *dec != *v) std::abort();
  }
  if (auto q = U256::from_quantity(text); q.ok()) {
    // Quantities are canonical (no leading zeros): one spelling per value, up to the digits' case.
    const std::string printed = q->to_quantity();
    if (printed.size() != text.size() || !std::equal(printed.begin(), printed.end(), text.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      std::abort();
    }
  }
  if (auto a = Address::from_string(text); a.ok()) {
    auto back = Address::from_string(a->to_checksum());
    if (!back.ok() || *back != *a) std::abort();
  }
  if (size <= 32) {
    auto w = U256::from_be_bytes(std::span(data, size));
    if (!w.ok()) std::abort();
  }
  return 0;
}
