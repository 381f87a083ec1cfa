// What a split makes (protocol v2's 1-in-8-out split): the outputs of a rebalancing fan-out and of an
// on-demand split's change, as denominations (powers of two, bucketpay/amount.h) the inventory
// policy wants. Pure functions (docs/wallet.md, "Inventory policy").
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "bucketpay/amount.h"

namespace bucketpay {

// How many notes of each denomination (2^i cents) the inventory lacks.
using Shortage = std::array<std::uint32_t, kBucketCount>;

// `total` cents as at most 8 notes, values summing to total (none for 0):
//  - when its binary decomposition has at most 8 terms: that decomposition, refined while there is
//    room towards the smallest denomination still short, by halving the smallest term above it
//    (64 with three 1-cent notes short: 32 + 16 + 8 + 4 + 1 + 1 + 1 + 1);
//  - otherwise: denominations short of their targets, smallest first, while they fit and fewer than
//    7 are taken; the largest powers of two of what is left up to 7 notes in all; and the rest as
//    one note (the only note that may be no denomination: "odd change").
std::vector<Cents> split_outputs(Cents total, const Shortage& shortage);

// A rebalancing split of a note of `value` whose relayer fee is at least `min_fee` cents.
struct FanOut {
  Cents fee = 0;               // the split's amount: what the relayer is paid
  std::vector<Cents> outputs;  // the notes made, summing to value - fee
};
// The fee is raised above min_fee, by at most max(min_fee, 1) cents, when that makes value - fee a
// sum of at most 8 denominations that includes `wanted` (no odd change); else the fee is min_fee and
// the outputs are split_outputs(value - min_fee). Requires value > min_fee.
FanOut plan_fan_out(Cents value, Cents min_fee, Cents wanted, const Shortage& shortage);

}  // namespace bucketpay
