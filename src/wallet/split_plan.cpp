#include "split_plan.h"

#include <algorithm>

#include "bucketpay/circuit_inputs.h"

namespace bucketpay {

namespace {

constexpr std::uint8_t kNone = 255;
// Above this, sums of a non-chain set are found greedily (the table would take too much memory).
constexpr Cents kMaxTable = Cents{1} << 22;

}  // namespace

DenominationSums::DenominationSums(std::vector<Cents> values) : values_(std::move(values)) {
  values_.erase(std::remove(values_.begin(), values_.end(), Cents{0}), values_.end());
  std::sort(values_.begin(), values_.end());
  values_.erase(std::unique(values_.begin(), values_.end()), values_.end());
  for (std::size_t i = 1; i < values_.size(); ++i) chain_ = chain_ && values_[i] % values_[i - 1] == 0;
  fewest_.push_back(0);
}

void DenominationSums::grow(Cents total) {
  for (Cents s = fewest_.size(); s <= total; ++s) {
    std::uint8_t best = kNone;
    for (Cents v : values_) {
      if (v > s) break;
      const std::uint8_t before = fewest_[static_cast<std::size_t>(s - v)];
      if (before != kNone && before + 1 < best) best = static_cast<std::uint8_t>(before + 1);
    }
    fewest_.push_back(best);
  }
}

int DenominationSums::fewest(Cents total, std::size_t limit) {
  if (total == 0) return 0;
  if (values_.empty()) return -1;
  if (chain_ || total > kMaxTable) {
    std::size_t count = 0;
    Cents left = total;
    for (auto v = values_.rbegin(); v != values_.rend() && left > 0; ++v) {
      count += static_cast<std::size_t>(left / *v);
      left %= *v;
      if (count > limit) return -1;
    }
    return left == 0 ? static_cast<int>(count) : -1;
  }
  grow(total);
  const std::uint8_t n = fewest_[static_cast<std::size_t>(total)];
  return n == kNone || n > limit ? -1 : n;
}

std::vector<Cents> DenominationSums::notes(Cents total, std::size_t limit) {
  std::vector<Cents> out;
  const int n = fewest(total, limit);
  if (n <= 0) return out;
  Cents left = total;
  if (chain_ || total > kMaxTable) {
    for (auto v = values_.rbegin(); v != values_.rend(); ++v) {
      for (; left >= *v; left -= *v) out.push_back(*v);
    }
    return out;
  }
  // Walk the table back: a value whose removal leaves a sum one note shorter.
  while (left > 0) {
    const std::uint8_t here = fewest_[static_cast<std::size_t>(left)];
    for (auto v = values_.rbegin(); v != values_.rend(); ++v) {
      if (*v <= left && fewest_[static_cast<std::size_t>(left - *v)] + 1 == here) {
        out.push_back(*v);
        left -= *v;
        break;
      }
    }
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

namespace {

std::vector<Cents> outputs_of(Cents total, const Shortage& shortage, DenominationSums& sums) {
  std::vector<Cents> out;
  if (total == 0) return out;
  if (sums.fewest(total, kSplitOutputs) >= 0) {
    // The short denominations first, while the rest stays a sum of the room left.
    Cents left = total;
    for (const auto& [d, count] : shortage) {
      for (std::uint32_t k = 0; k < count && out.size() < kSplitOutputs && d <= left; ++k) {
        if (sums.fewest(left - d, kSplitOutputs - out.size() - 1) < 0) break;
        out.push_back(d);
        left -= d;
      }
    }
    const std::vector<Cents> rest = sums.notes(left, kSplitOutputs - out.size());
    out.insert(out.end(), rest.begin(), rest.end());
  } else {
    constexpr std::size_t kWhole = kSplitOutputs - 1;  // the last slot takes the odd change
    Cents left = total;
    for (const auto& [d, count] : shortage) {
      for (std::uint32_t k = 0; k < count && out.size() < kWhole && d <= left; ++k) {
        out.push_back(d);
        left -= d;
      }
    }
    // The largest denominations that fit (the binary terms of the rest, for the ladder).
    const std::vector<Cents>& values = sums.values();
    for (auto v = values.rbegin(); v != values.rend() && out.size() < kWhole; ++v) {
      for (; *v <= left && out.size() < kWhole; left -= *v) out.push_back(*v);
    }
    if (left > 0) out.push_back(left);
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

}  // namespace

std::vector<Cents> split_outputs(Cents total, const InventoryPolicy& policy, const Shortage& shortage) {
  DenominationSums sums(policy.values());
  return outputs_of(total, shortage, sums);
}

FanOut plan_fan_out(Cents value, Cents min_fee, Cents wanted, const InventoryPolicy& policy, const Shortage& shortage) {
  DenominationSums sums(policy.values());
  const Cents slack = std::max<Cents>(min_fee, 1);
  for (Cents fee = min_fee; fee <= min_fee + slack && fee < value; ++fee) {
    const Cents total = value - fee;
    if (sums.fewest(total, kSplitOutputs) < 0) continue;
    std::vector<Cents> outputs = outputs_of(total, shortage, sums);
    if (std::find(outputs.begin(), outputs.end(), wanted) != outputs.end()) return FanOut{fee, std::move(outputs)};
  }
  return FanOut{min_fee, outputs_of(value - min_fee, shortage, sums)};
}

}  // namespace bucketpay
