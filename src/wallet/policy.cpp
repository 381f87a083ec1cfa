#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <string>

#include "bucketpay/wallet.h"

namespace bucketpay {

InventoryPolicy InventoryPolicy::defaults() {
  InventoryPolicy p;
  for (int i = 0; i <= 13; ++i) p.targets[static_cast<std::size_t>(i)] = 3;
  p.targets[14] = 2;
  return p;
}

Result<InventoryPolicy> InventoryPolicy::parse(std::string_view text) {
  if (text == "default") return defaults();
  InventoryPolicy p;
  std::array<bool, kBucketCount> seen{};
  if (text.empty()) return Status::invalid_argument("empty inventory policy (want \"default\" or CENTS=COUNT,...)");
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    auto bad = [&](std::string_view why) {
      return Status::invalid_argument("inventory policy item \"" + std::string(item) + "\": " + std::string(why));
    };
    if (eq == std::string_view::npos) return bad("want CENTS=COUNT");
    std::uint64_t cents = 0;
    std::uint32_t count = 0;
    const std::string_view c = item.substr(0, eq);
    const std::string_view n = item.substr(eq + 1);
    auto [pc, ec1] = std::from_chars(c.data(), c.data() + c.size(), cents);
    auto [pn, ec2] = std::from_chars(n.data(), n.data() + n.size(), count);
    if (c.empty() || n.empty() || ec1 != std::errc() || ec2 != std::errc() || pc != c.data() + c.size() ||
        pn != n.data() + n.size()) {
      return bad("CENTS and COUNT must be decimal integers");
    }
    if (!std::has_single_bit(cents) || cents > kBuckets.back()) return bad("CENTS must be a power of two 1..65536");
    if (count > 1000) return bad("COUNT must be at most 1000");
    const auto bucket = static_cast<std::size_t>(std::countr_zero(cents));
    if (seen[bucket]) return bad("CENTS " + std::to_string(cents) + " is given twice");
    seen[bucket] = true;
    p.targets[bucket] = count;
    start = comma + 1;
  }
  return p;
}

std::string InventoryPolicy::to_string() const {
  std::string s;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i] == 0) continue;
    if (!s.empty()) s += ',';
    s += std::to_string(kBuckets[i]) + "=" + std::to_string(targets[i]);
  }
  return s;
}

Cents InventoryPolicy::target_value() const {
  Cents total = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) total += kBuckets[i] * targets[i];
  return total;
}

std::vector<Cents> InventoryPolicy::deposit_values(Cents amount,
                                                   const std::array<std::uint32_t, kBucketCount>& have) const {
  std::vector<Cents> values;
  Cents left = amount;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    for (std::uint32_t k = have[i]; k < targets[i] && kBuckets[i] <= left; ++k) {
      values.push_back(kBuckets[i]);
      left -= kBuckets[i];
    }
  }
  for (; left >= kBuckets.back(); left -= kBuckets.back()) values.push_back(kBuckets.back());
  for (Cents b : kBuckets) {
    if ((left & b) != 0) values.push_back(b);
  }
  std::sort(values.begin(), values.end(), std::greater<>());
  return values;
}

}  // namespace bucketpay
