#include "bucketpay/inventory_plan.h"

#include <algorithm>
#include <random>

#include "bucketpay/planner.h"
#include "bucketpay/relay_api.h"
#include "rebalancer.h"
#include "split_plan.h"

namespace bucketpay {

std::uint64_t GasTable::spend_batch_gas(std::uint32_t notes) const {
  if (spend_batch.empty() || notes == 0) return 0;
  if (notes <= spend_batch.front().notes) return spend_batch.front().gas * notes / spend_batch.front().notes;
  for (std::size_t i = 1; i < spend_batch.size(); ++i) {
    const Point& a = spend_batch[i - 1];
    const Point& b = spend_batch[i];
    if (notes <= b.notes) {
      return a.gas + (b.gas - a.gas) * (notes - a.notes) / (b.notes - a.notes);
    }
  }
  if (spend_batch.size() == 1) return spend_batch.front().gas * notes / spend_batch.front().notes;
  const Point& a = spend_batch[spend_batch.size() - 2];
  const Point& b = spend_batch.back();
  return b.gas + (b.gas - a.gas) * (notes - b.notes) / (b.notes - a.notes);
}

namespace {

// The wallet's notes in the play: all on chain, each with its spend proof ready.
class Play {
 public:
  Play(const InventoryPlanOptions& options, InventoryPlanReport& report) : o_(options), r_(report) {}

  void add(Cents value) {
    StoredNote n;
    n.id = next_id_++;
    n.value = value;
    n.state = NoteState::kOnChain;
    notes_.push_back(n);
    if (!o_.policy.is_denomination(value)) ++r_.odd_notes_made;
  }

  void remove(std::int64_t id) {
    notes_.erase(std::find_if(notes_.begin(), notes_.end(), [&](const StoredNote& n) { return n.id == id; }));
  }

  // One rebalancing round, as Rebalancer::run plans it; how many splits.
  std::size_t rebalance() {
    const std::vector<PlannedSplit> splits = plan_splits(notes_, o_.policy, o_.split_fee, o_.max_splits);
    for (const PlannedSplit& s : splits) {
      remove(s.donor.id);
      for (Cents out : s.outputs) add(out);
      ++r_.rebalancing_splits;
      ++r_.split_proofs;
      r_.spend_proofs += s.outputs.size();
      r_.rebalancing_gas += o_.gas.split;
      r_.fees += s.fee;
    }
    return splits.size();
  }

  // A payment from ready notes, as Payer::plan makes it.
  bool pay_from_notes(Cents amount) {
    std::vector<PlanNote> available;
    available.reserve(notes_.size());
    for (const StoredNote& n : notes_)
      available.push_back(PlanNote{n.id, n.value, !o_.policy.is_denomination(n.value)});
    auto planned = plan_payment_with_fee(available, amount, o_.payment_fee);
    if (!planned.ok() || planned->plan.notes.size() > eth::kMaxBundleSpends) return false;
    for (const PlanNote& n : planned->plan.notes) remove(n.note_id);
    const auto k = static_cast<std::uint32_t>(planned->plan.notes.size());
    r_.notes_spent += k;
    r_.payment_gas += o_.gas.spend_batch_gas(k);
    r_.fees += planned->fee;
    return true;
  }

  // An on-demand split, as Payer::pay_by_split makes it.
  bool pay_by_split(Cents amount) {
    const Cents total = amount + o_.split_fee;
    const StoredNote* donor = nullptr;
    for (const bool odd_only : {true, false}) {
      for (const StoredNote& n : notes_) {
        if (odd_only && o_.policy.is_denomination(n.value)) continue;
        if (n.value >= total && (donor == nullptr || n.value < donor->value)) donor = &n;
      }
      if (donor != nullptr) break;
    }
    if (donor == nullptr) return false;
    NoteCounts have;
    for (const StoredNote& n : notes_) {
      if (o_.policy.is_denomination(n.value) && n.id != donor->id) ++have[n.value];
    }
    const std::vector<Cents> change = split_outputs(donor->value - total, o_.policy, o_.policy.shortage(have));
    remove(donor->id);
    for (Cents c : change) add(c);
    ++r_.payments_by_split;
    ++r_.notes_spent;
    ++r_.split_proofs;
    r_.spend_proofs += change.size();
    r_.payment_gas += o_.gas.split;
    r_.fees += o_.split_fee;
    return true;
  }

  void finish() {
    r_.notes_left = notes_.size();
    r_.odd_notes_left = static_cast<std::size_t>(std::count_if(
        notes_.begin(), notes_.end(), [&](const StoredNote& n) { return !o_.policy.is_denomination(n.value); }));
  }

 private:
  const InventoryPlanOptions& o_;
  InventoryPlanReport& r_;
  std::vector<StoredNote> notes_;
  std::int64_t next_id_ = 1;
};

// Rounds after a payment (the keeper) stop here even if something is still short.
constexpr int kMaxRoundsAfterPayment = 8;

}  // namespace

Result<InventoryPlanReport> simulate_inventory(std::span<const Cents> amounts, const InventoryPlanOptions& options) {
  if (amounts.empty()) return Status::invalid_argument("no payment amounts");
  for (Cents a : amounts) {
    if (a == 0 || a > kMaxPaymentCents) {
      return Status::invalid_argument("payment amount " + std::to_string(a) + " cents is outside 1.." +
                                      std::to_string(kMaxPaymentCents));
    }
  }
  if (options.policy.denominations.empty()) return Status::invalid_argument("the policy names no denominations");
  InventoryPlanReport r;
  r.payments = amounts.size();
  Play play(options, r);
  const std::vector<Cents> deposit = options.policy.deposit_values(options.deposit, {});
  for (Cents v : deposit) play.add(v);
  r.deposit_notes = deposit.size();
  r.deposit_gas = options.gas.deposit_per_note * deposit.size();
  for (Cents amount : amounts) {
    bool paid = play.pay_from_notes(amount);
    for (int round = 0; !paid && round < options.rounds_when_short; ++round) {
      if (play.rebalance() == 0) break;
      paid = play.pay_from_notes(amount);
    }
    if (!paid) paid = play.pay_by_split(amount);
    ++(paid ? r.paid : r.refused);
    for (int round = 0; options.rebalance_after_each && round < kMaxRoundsAfterPayment; ++round) {
      if (play.rebalance() == 0) break;
    }
  }
  play.finish();
  return r;
}

std::vector<Cents> random_payment_amounts(std::size_t count, Cents min, Cents max, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<Cents> pick(min, max);
  std::vector<Cents> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(pick(rng));
  return out;
}

Result<std::vector<Cents>> parse_payment_amounts(std::string_view text) {
  std::vector<Cents> out;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return Status::invalid_argument("line " + std::to_string(line_no) + ": no amount (blank line)");
    auto cents = parse_amount(line, AmountUnit::kDollars, kMaxPaymentCents);
    if (!cents.ok())
      return Status::invalid_argument("line " + std::to_string(line_no) + ": " + cents.status().message());
    out.push_back(*cents);
    start = end + 1;
  }
  if (out.empty()) return Status::invalid_argument("no amounts (want one amount in dollars per line, e.g. 12.34)");
  return out;
}

}  // namespace bucketpay
