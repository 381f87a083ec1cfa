#include "bucketpay/planner.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <map>

namespace bucketpay {
namespace {

Status missing(std::span<const PlanNote> available, Cents amount) {
  Cents ready = 0;
  for (const auto& n : available) ready += n.value;
  if (ready < amount) {
    return Status::not_found("not enough ready notes: " + format_dollars(ready) + " ready, " + format_dollars(amount) +
                             " asked (" + format_dollars(amount - ready) + " short)");
  }
  // Which buckets of the amount have no note of that denomination: a split would make them.
  std::string need;
  for (Cents b : decompose(amount)) {
    const bool have = std::any_of(available.begin(), available.end(), [&](const PlanNote& n) { return n.value == b; });
    if (!have) need += (need.empty() ? "" : ", ") + format_dollars(b);
  }
  return Status::not_found("no combination of ready notes sums to exactly " + format_dollars(amount) + " (" +
                           format_dollars(ready) + " ready" +
                           (need.empty() ? std::string(")") : "; missing denominations " + need + ")"));
}

// Greedy, largest first: optimal when every value is a power of two.
Result<Plan> plan_powers_of_two(std::span<const PlanNote> available, Cents amount) {
  std::vector<PlanNote> sorted(available.begin(), available.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const PlanNote& a, const PlanNote& b) { return a.value > b.value; });
  Plan plan;
  Cents left = amount;
  for (const auto& n : sorted) {
    if (n.value <= left) {
      plan.notes.push_back(n);
      left -= n.value;
      if (left == 0) return plan;
    }
  }
  return missing(available, amount);
}

// Exact subset sum with the fewest notes, then the most preferred ones, over distinct values with
// multiplicities (binary splitting). A note costs kWeight, less 1 when preferred: with kWeight above
// the number of preferred notes, a plan with fewer notes always costs less.
Result<Plan> plan_exact(std::span<const PlanNote> available, Cents amount) {
  using Group = std::pair<Cents, bool>;  // value, preferred
  std::map<Group, std::vector<PlanNote>, std::greater<>> by_value;
  std::uint64_t preferred = 0;
  for (const auto& n : available) {
    if (n.value > 0 && n.value <= amount) {
      by_value[{n.value, n.prefer}].push_back(n);
      preferred += n.prefer ? 1 : 0;
    }
  }
  const std::uint64_t weight = preferred + 1;
  struct Chunk {
    Group group;
    std::size_t count;
  };
  std::vector<Chunk> chunks;
  for (const auto& [g, notes] : by_value) {
    std::size_t left = notes.size();
    for (std::size_t k = 1; left > 0; k <<= 1) {
      const std::size_t take = std::min(k, left);
      chunks.push_back({g, take});
      left -= take;
    }
  }
  const auto size = static_cast<std::size_t>(amount) + 1;
  constexpr std::uint64_t kInf = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::uint64_t> best(size, kInf);
  best[0] = 0;
  // taken[c][s]: chunk c improved sum s (for reconstruction).
  std::vector<std::vector<bool>> taken(chunks.size(), std::vector<bool>(size, false));
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const auto w = static_cast<std::size_t>(chunks[c].group.first * chunks[c].count);
    if (w >= size) continue;
    const std::uint64_t cost = chunks[c].count * (weight - (chunks[c].group.second ? 1 : 0));
    for (std::size_t s = size - 1; s >= w; --s) {
      if (best[s - w] != kInf && best[s - w] + cost < best[s]) {
        best[s] = best[s - w] + cost;
        taken[c][s] = true;
      }
      if (s == w) break;
    }
  }
  if (best[size - 1] == kInf) return missing(available, amount);
  std::map<Group, std::size_t> count_of;
  std::size_t s = size - 1;
  for (std::size_t c = chunks.size(); c-- > 0;) {
    if (s > 0 && taken[c][s]) {
      count_of[chunks[c].group] += chunks[c].count;
      s -= static_cast<std::size_t>(chunks[c].group.first * chunks[c].count);
    }
  }
  Plan plan;
  for (const auto& [g, notes] : by_value) {
    const std::size_t k = count_of[g];
    plan.notes.insert(plan.notes.end(), notes.begin(), notes.begin() + static_cast<std::ptrdiff_t>(k));
  }
  return plan;
}

}  // namespace

Cents Plan::total() const {
  Cents t = 0;
  for (const auto& n : notes) t += n.value;
  return t;
}

Result<Plan> plan_payment(std::span<const PlanNote> available, Cents amount) {
  if (amount == 0) return Status::invalid_argument("cannot pay zero");
  const bool powers =
      std::all_of(available.begin(), available.end(), [](const PlanNote& n) { return std::has_single_bit(n.value); });
  if (powers) return plan_powers_of_two(available, amount);
  if (amount > kMaxPlannedAmount) {
    return Status::invalid_argument("amounts above " + format_dollars(kMaxPlannedAmount) +
                                    " are planned only from power-of-two notes");
  }
  return plan_exact(available, amount);
}

}  // namespace bucketpay

namespace bucketpay {

Result<FeePlan> plan_payment_with_fee(std::span<const PlanNote> available, Cents amount, Cents min_fee) {
  auto exact = plan_payment(available, amount + min_fee);
  if (exact.ok()) return FeePlan{std::move(*exact), min_fee};
  if (exact.status().code() != StatusCode::kNotFound) return exact.status();
  const Cents slack = std::min<Cents>(std::max<Cents>(min_fee, 1), 64);
  for (Cents fee = min_fee + 1; fee <= min_fee + slack; ++fee) {
    auto raised = plan_payment(available, amount + fee);
    if (raised.ok()) return FeePlan{std::move(*raised), fee};
    if (raised.status().code() != StatusCode::kNotFound) return raised.status();
  }
  return exact.status();
}

}  // namespace bucketpay
