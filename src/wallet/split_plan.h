// What a split makes (protocol v2's 1-in-8-out split): the outputs of a rebalancing fan-out and of an
// on-demand split's change, as the denominations the inventory policy names (bucketpay/wallet.h).
// Pure functions (docs/wallet.md, "Inventory policy").
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/wallet.h"

namespace bucketpay {

// How many notes of each denomination the inventory lacks (value -> count; InventoryPolicy::shortage).
using Shortage = NoteCounts;

// Sums of a policy's denominations (each usable any number of times): the fewest notes that make
// an amount. Exact: greedy, largest first, when each denomination divides the next (the binary
// ladder, 5 x 2^k cents, ...); otherwise a table of the fewest notes per sum up to the amount
// (amounts above 2^22 cents: greedy, which may miss a sum). Not thread-safe (the table grows).
class DenominationSums {
 public:
  explicit DenominationSums(std::vector<Cents> values);  // any order; zeros ignored
  // The fewest notes summing to `total`, or -1 when none make it with at most `limit` notes.
  int fewest(Cents total, std::size_t limit);
  // Those notes, largest first; empty when fewest(total, limit) < 0.
  std::vector<Cents> notes(Cents total, std::size_t limit);
  [[nodiscard]] const std::vector<Cents>& values() const { return values_; }  // ascending

 private:
  void grow(Cents total);
  std::vector<Cents> values_;         // ascending
  bool chain_ = true;                 // each value divides the next
  std::vector<std::uint8_t> fewest_;  // non-chain: the fewest notes per sum (kNone: none within 255)
};

// `total` cents as at most 8 notes, values summing to total (none for 0):
//  - when at most 8 denominations make it: the denominations short (smallest first, as many of
//    each as are short) while what is left is still a sum of the notes left room for, then the
//    fewest denominations making the rest (64 with three 1-cent notes short: 32 + 16 + 8 + 4 + 1 +
//    1 + 1 + 1);
//  - otherwise: denominations short of their targets, smallest first, while they fit and fewer than
//    7 are taken; the largest denominations that fit of what is left, up to 7 notes in all; and
//    the rest as one note (the only note that may be no denomination: "odd change").
std::vector<Cents> split_outputs(Cents total, const InventoryPolicy& policy, const Shortage& shortage);

// A rebalancing split of a note of `value` whose relayer fee is at least `min_fee` cents.
struct FanOut {
  Cents fee = 0;               // the split's amount: what the relayer is paid
  std::vector<Cents> outputs;  // the notes made, summing to value - fee
};
// The fee is raised above min_fee, by at most max(min_fee, 1) cents, when that makes value - fee a
// sum of at most 8 denominations that includes `wanted` (no odd change); else the fee is min_fee and
// the outputs are split_outputs(value - min_fee). Requires value > min_fee.
FanOut plan_fan_out(Cents value, Cents min_fee, Cents wanted, const InventoryPolicy& policy, const Shortage& shortage);

}  // namespace bucketpay
