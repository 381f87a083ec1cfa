// The payment planner: which notes pay an amount exactly, with as few notes as possible.
//
// A payment of A cents hands over the precomputed spend proofs of unspent notes whose values sum to
// exactly A (docs/protocol.md, "Precomputes and payments"); fewer notes means a cheaper transaction.
// When the notes are the bucket denominations (powers of two) the greedy choice, largest first, is
// optimal (each denomination divides the next); otherwise an exact dynamic programme over the sums
// up to A finds the optimum. Among plans with the fewest notes, one with the most notes marked
// `prefer` is taken (the wallet marks its odd notes, to be rid of them).
//
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/status.h"

namespace bucketpay {

struct PlanNote {
  std::int64_t note_id = 0;
  Cents value = 0;
  bool prefer = false;  // spend this one when it makes no plan longer
  friend bool operator==(const PlanNote&, const PlanNote&) = default;
};

struct Plan {
  std::vector<PlanNote> notes;  // largest first
  [[nodiscard]] Cents total() const;
};

// The largest amount the exact planner searches; above it, only power-of-two notes are planned.
inline constexpr Cents kMaxPlannedAmount = Cents{1} << 22;

// The fewest notes among `available` (each usable once) whose values sum to exactly `amount`.
// kInvalidArgument for a zero amount; kNotFound when no combination exists, with a message that
// says what is missing (the ready balance, or the denominations that would make it).
Result<Plan> plan_payment(std::span<const PlanNote> available, Cents amount);

// A plan for `amount` and a fee of at least `min_fee` cents (what a relayer quoted): amount +
// min_fee when notes make it exactly, else the fee raised by the fewest cents, at most
// max(min_fee, 1) (and at most 64), that lets notes make amount + fee (a 5-cent inventory pays a
// 3-cent fee as 5). kNotFound (plan_payment's, for amount + min_fee) when no raise helps.
struct FeePlan {
  Plan plan;
  Cents fee = 0;
};
Result<FeePlan> plan_payment_with_fee(std::span<const PlanNote> available, Cents amount, Cents min_fee);

}  // namespace bucketpay
