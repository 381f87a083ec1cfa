// The payment planner: which notes pay an amount exactly, with as few notes as possible.
//
// A payment of A cents hands over the precomputed spend proofs of unspent notes whose values sum to
// exactly A (docs/protocol.md, "Precomputes and payments"); fewer notes means a cheaper transaction.
// When the notes are the bucket denominations (powers of two) the greedy choice, largest first, is
// optimal (each denomination divides the next); otherwise an exact dynamic programme over the sums
// up to A finds the optimum.
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

}  // namespace bucketpay
