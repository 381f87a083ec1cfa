#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <string>

#include "bucketpay/wallet.h"

namespace bucketpay {

namespace {

// The binary ladder: every power of two from 1 to 65,536 cents, at `targets` (missing: 0).
InventoryPolicy ladder(const NoteCounts& targets) {
  InventoryPolicy p;
  for (Cents b : kBuckets) {
    auto it = targets.find(b);
    p.denominations.push_back(Denomination{b, it == targets.end() ? 0 : it->second});
  }
  return p;
}

}  // namespace

InventoryPolicy InventoryPolicy::defaults() {
  NoteCounts targets;
  for (int i = 0; i <= 13; ++i) targets[kBuckets[static_cast<std::size_t>(i)]] = 3;
  targets[kBuckets[14]] = 2;
  return ladder(targets);
}

Result<InventoryPolicy> InventoryPolicy::parse(std::string_view text) {
  if (text == "default") return defaults();
  if (text.empty()) return Status::invalid_argument("empty inventory policy (want \"default\" or CENTS=COUNT,...)");
  NoteCounts named;
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
    if (cents == 0 || cents > kMaxDenomination) {
      return bad("CENTS must be 1.." + std::to_string(kMaxDenomination) + " (a denomination one payment can carry)");
    }
    if (count > 1000) return bad("COUNT must be at most 1000");
    if (!named.emplace(cents, count).second) return bad("CENTS " + std::to_string(cents) + " is given twice");
    start = comma + 1;
  }
  const bool powers = std::all_of(named.begin(), named.end(), [](const auto& kv) {
    return std::has_single_bit(kv.first) && kv.first <= kBuckets.back();
  });
  if (powers) return ladder(named);
  InventoryPolicy p;
  for (const auto& [value, target] : named) p.denominations.push_back(Denomination{value, target});
  return p;
}

std::string InventoryPolicy::to_string() const {
  const bool ladder = powers_of_two();
  std::string s;
  for (const Denomination& d : denominations) {
    if (ladder && d.target == 0) continue;
    if (!s.empty()) s += ',';
    s += std::to_string(d.value) + "=" + std::to_string(d.target);
  }
  // A ladder with no targets at all.
  if (s.empty()) s = "1=0";
  return s;
}

Cents InventoryPolicy::target_value() const {
  Cents total = 0;
  for (const Denomination& d : denominations) total += d.value * d.target;
  return total;
}

bool InventoryPolicy::is_denomination(Cents value) const {
  return std::any_of(denominations.begin(), denominations.end(),
                     [&](const Denomination& d) { return d.value == value; });
}

std::uint32_t InventoryPolicy::target(Cents value) const {
  for (const Denomination& d : denominations) {
    if (d.value == value) return d.target;
  }
  return 0;
}

std::vector<Cents> InventoryPolicy::values() const {
  std::vector<Cents> v;
  v.reserve(denominations.size());
  for (const Denomination& d : denominations) v.push_back(d.value);
  return v;
}

bool InventoryPolicy::powers_of_two() const {
  return std::all_of(denominations.begin(), denominations.end(),
                     [](const Denomination& d) { return std::has_single_bit(d.value); });
}

NoteCounts InventoryPolicy::shortage(const NoteCounts& have) const {
  NoteCounts s;
  for (const Denomination& d : denominations) {
    auto it = have.find(d.value);
    const std::uint32_t n = it == have.end() ? 0 : it->second;
    if (d.target > n) s[d.value] = d.target - n;
  }
  return s;
}

std::vector<Cents> InventoryPolicy::deposit_values(Cents amount, const NoteCounts& have) const {
  std::vector<Cents> values;
  Cents left = amount;
  for (const Denomination& d : denominations) {
    auto it = have.find(d.value);
    for (std::uint32_t k = it == have.end() ? 0 : it->second; k < d.target && d.value <= left; ++k) {
      values.push_back(d.value);
      left -= d.value;
    }
  }
  for (auto d = denominations.rbegin(); d != denominations.rend() && left > 0; ++d) {
    for (; d->value <= left; left -= d->value) values.push_back(d->value);
  }
  if (left > 0) values.push_back(left);
  std::sort(values.begin(), values.end(), std::greater<>());
  return values;
}

}  // namespace bucketpay
