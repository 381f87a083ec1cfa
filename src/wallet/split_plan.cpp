#include "wallet/split_plan.h"

#include <algorithm>
#include <bit>
#include <optional>

#include "bucketpay/circuit_inputs.h"

namespace bucketpay {

namespace {

bool is_denomination(Cents v) { return std::has_single_bit(v) && v <= kBuckets.back(); }
std::size_t bucket_of(Cents v) { return static_cast<std::size_t>(std::countr_zero(v)); }

std::vector<Cents> binary_terms(Cents total) {
  std::vector<Cents> out;
  for (int bit = 63; bit >= 0; --bit) {
    const Cents term = Cents{1} << bit;
    if ((total & term) != 0) out.push_back(term);
  }
  return out;
}

// Still short of `d` after `outputs` are made.
bool still_short(Cents d, const std::vector<Cents>& outputs, const Shortage& shortage) {
  if (!is_denomination(d)) return false;
  const auto made = static_cast<std::uint32_t>(std::count(outputs.begin(), outputs.end(), d));
  return shortage[bucket_of(d)] > made;
}

// While there is room: the smallest denomination still short, made by halving the smallest term
// above it (again and again, down to it).
void refine(std::vector<Cents>& outputs, const Shortage& shortage) {
  while (outputs.size() < kSplitOutputs) {
    std::optional<Cents> wanted;
    for (std::size_t i = 0; i < kBucketCount && !wanted; ++i) {
      if (still_short(kBuckets[i], outputs, shortage)) wanted = kBuckets[i];
    }
    if (!wanted) return;
    auto best = outputs.end();
    for (auto it = outputs.begin(); it != outputs.end(); ++it) {
      if (*it <= *wanted || !std::has_single_bit(*it)) continue;
      if (best == outputs.end() || *it < *best) best = it;
    }
    if (best == outputs.end()) return;
    const Cents half = *best / 2;
    *best = half;
    outputs.push_back(half);
  }
}

}  // namespace

std::vector<Cents> split_outputs(Cents total, const Shortage& shortage) {
  std::vector<Cents> out;
  if (total == 0) return out;
  if (std::popcount(total) <= static_cast<int>(kSplitOutputs)) {
    out = binary_terms(total);
    refine(out, shortage);
  } else {
    constexpr std::size_t kWhole = kSplitOutputs - 1;  // the last slot takes the odd change
    Cents left = total;
    for (std::size_t i = 0; i < kBucketCount && out.size() < kWhole; ++i) {
      for (std::uint32_t k = 0; k < shortage[i] && out.size() < kWhole && kBuckets[i] <= left; ++k) {
        out.push_back(kBuckets[i]);
        left -= kBuckets[i];
      }
    }
    for (int bit = 63; bit >= 0 && out.size() < kWhole && left > 0; --bit) {
      const Cents term = Cents{1} << bit;
      if ((left & term) != 0) {
        out.push_back(term);
        left -= term;
      }
    }
    if (left > 0) out.push_back(left);
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

FanOut plan_fan_out(Cents value, Cents min_fee, Cents wanted, const Shortage& shortage) {
  const Cents slack = std::max<Cents>(min_fee, 1);
  for (Cents fee = min_fee; fee <= min_fee + slack && fee < value; ++fee) {
    const Cents total = value - fee;
    if (std::popcount(total) > static_cast<int>(kSplitOutputs)) continue;
    std::vector<Cents> outputs = split_outputs(total, shortage);
    if (std::find(outputs.begin(), outputs.end(), wanted) != outputs.end()) return FanOut{fee, std::move(outputs)};
  }
  return FanOut{min_fee, split_outputs(value - min_fee, shortage)};
}

}  // namespace bucketpay
