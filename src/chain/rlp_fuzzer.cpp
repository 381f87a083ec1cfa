// libFuzzer harness: RLP. bucketpay only encodes RLP (its transactions, CREATE addresses); nothing
// decodes RLP from outside. The fuzzer's bytes become items (each a length byte, then that many
// bytes, lengths up to 255 so both the short and the long form and the 55/56 edge are reached),
// plus integers and a list of lists; every encoding is read back by the strict reader below (the
// yellow paper's appendix B, canonical forms only) and must give back the same items.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "bucketpay/eth.h"

namespace {

using bucketpay::eth::Bytes;

struct Item {
  bool list = false;
  Bytes payload;  // a string's bytes, or a list's encoded items
};

// One canonical item at the start of `in`, and its encoded size; nullopt if not canonical.
std::optional<std::pair<Item, std::size_t>> read_item(std::span<const std::uint8_t> in) {
  if (in.empty()) return std::nullopt;
  const std::uint8_t b = in[0];
  if (b < 0x80) return std::pair{Item{false, Bytes{b}}, std::size_t{1}};
  const bool list = b >= 0xc0;
  const std::uint8_t base = list ? 0xc0 : 0x80;
  std::size_t header = 1;
  std::size_t len = 0;
  if (b - base <= 55) {
    len = b - base;
  } else {
    const std::size_t n = b - base - 55;
    if (in.size() < 1 + n || in[1] == 0 || n > 8) return std::nullopt;  // no leading zero
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[1 + i];
    if (len <= 55) return std::nullopt;  // the short form was required
    header += n;
  }
  if (in.size() - header < len) return std::nullopt;
  Bytes payload(in.begin() + static_cast<std::ptrdiff_t>(header),
                in.begin() + static_cast<std::ptrdiff_t>(header + len));
  if (!list && len == 1 && payload[0] < 0x80) return std::nullopt;  // a single byte is itself
  return std::pair{Item{list, std::move(payload)}, header + len};
}

Bytes read_whole_string(const Bytes& encoded) {
  auto item = read_item(encoded);
  if (!item || item->first.list || item->second != encoded.size()) std::abort();
  return item->first.payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace rlp = bucketpay::eth::rlp;
  std::vector<Bytes> items;
  std::vector<Bytes> encoded;
  std::size_t at = 0;
  while (at < size) {
    const std::size_t len = std::min<std::size_t>(data[at], size - at - 1);
    Bytes item(data + at + 1, data + at + 1 + len);
    at += 1 + len;
    Bytes enc = rlp::encode_bytes(item);
    if (read_whole_string(enc) != item) std::abort();
    // The same bytes as a big-endian integer (leading zeros dropped) encode as its minimal bytes.
    if (item.size() <= 32) {
      std::size_t first = 0;
      while (first < item.size() && item[first] == 0) ++first;
      const Bytes minimal(item.begin() + static_cast<std::ptrdiff_t>(first), item.end());
      Bytes padded(32 - item.size(), 0);
      padded.insert(padded.end(), item.begin(), item.end());
      const auto value = bucketpay::eth::U256::from_be_bytes(padded);
      if (!value.ok() || read_whole_string(rlp::encode_uint(*value)) != minimal) std::abort();
    }
    items.push_back(std::move(item));
    encoded.push_back(std::move(enc));
  }
  const Bytes list = rlp::encode_list(encoded);
  auto whole = read_item(list);
  if (!whole || !whole->first.list || whole->second != list.size()) std::abort();
  std::span<const std::uint8_t> rest = whole->first.payload;
  for (const Bytes& item : items) {
    auto next = read_item(rest);
    if (!next || next->first.list || next->first.payload != item) std::abort();
    rest = rest.subspan(next->second);
  }
  if (!rest.empty()) std::abort();
  // A list of that list and an empty list nests as two items.
  const std::vector<Bytes> nested = {list, rlp::encode_list({})};
  auto outer = read_item(rlp::encode_list(nested));
  if (!outer || !outer->first.list) std::abort();
  return 0;
}
