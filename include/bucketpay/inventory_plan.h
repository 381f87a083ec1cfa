// What an inventory policy costs, before any money moves: the wallet's own planner and rebalancer
// (plan_payment_with_fee, plan_splits, split_outputs) played over a list of payment amounts, with
// every note ready at once, no chain and no prover (`bucketpay inventory plan`; docs/wallet.md).
//
// The play follows bench/payments: a deposit by the policy (InventoryPolicy::deposit_values); then
// each payment is planned from the notes (the relayer's fee as given, raised like the wallet raises
// it); when no plan is found, a rebalancing round (plan_splits, up to `max_splits`) and again, at
// most `rounds_when_short` rounds; then an on-demand split of one note (the smallest odd note that
// covers, else the smallest note; its change as split_outputs); else the payment is refused. With
// `rebalance_after_each`, rounds also run after every payment until nothing is short (the keeper).
// Gas comes from the measured table (docs/gas.md).
//
// Pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/status.h"
#include "bucketpay/wallet.h"

namespace bucketpay {

// Gas of the Pool's transactions, from docs/gas.md (`make gas`: forge, isolated transactions, the
// batch verifiers, a relayer sending).
struct GasTable {
  struct Point {
    std::uint32_t notes = 0;
    std::uint64_t gas = 0;
  };
  // spendBatch, the whole transaction, for k notes (the "spendBatch, all in, per note" table).
  std::vector<Point> spend_batch = {{1, 697'276}, {4, 1'858'068}, {8, 3'409'002}, {17, 6'911'253}};
  std::uint64_t split = 1'114'474;          // split, 1 note into 8 outputs
  std::uint64_t deposit_per_note = 48'606;  // depositMany of 16 notes, per note

  // Linear between the measured points; beyond the last, its slope per note.
  [[nodiscard]] std::uint64_t spend_batch_gas(std::uint32_t notes) const;
};

struct InventoryPlanOptions {
  InventoryPolicy policy = InventoryPolicy::defaults();
  Cents deposit = 1'200'000;          // $12,000, what bench/payments deposits
  Cents payment_fee = 0;              // the relayer's fee for a payment, cents
  Cents split_fee = 0;                // the relayer's fee for a split, cents
  std::size_t max_splits = 16;        // per rebalancing round (the wallet's)
  int rounds_when_short = 2;          // rebalancing rounds before an on-demand split (bench/payments)
  bool rebalance_after_each = false;  // also rebalance after every payment (the keeper)
  GasTable gas;
};

struct InventoryPlanReport {
  std::size_t payments = 0;  // amounts given
  std::size_t paid = 0;      // of which paid (from notes or by an on-demand split)
  std::size_t refused = 0;   // no note, nor one split, could pay them
  std::size_t deposit_notes = 0;
  std::size_t notes_spent = 0;         // in payments from notes (an on-demand split: its one donor)
  std::size_t payments_by_split = 0;   // paid by an on-demand split
  std::size_t rebalancing_splits = 0;  // rebalancing rounds' splits
  std::size_t spend_proofs = 0;        // the spend proofs of every note made after the deposit
  std::size_t split_proofs = 0;        // one per split (rebalancing and on demand)
  std::size_t odd_notes_made = 0;      // split outputs and deposit notes that are no denomination
  std::size_t odd_notes_left = 0;      // odd notes at the end
  std::size_t notes_left = 0;
  Cents fees = 0;                     // paid to relayers, cents
  std::uint64_t payment_gas = 0;      // spendBatches and on-demand splits
  std::uint64_t rebalancing_gas = 0;  // rebalancing splits
  std::uint64_t deposit_gas = 0;      // the deposit's notes

  // Per paid payment (0 when none was paid).
  [[nodiscard]] double per_payment(double total) const { return paid == 0 ? 0 : total / static_cast<double>(paid); }
  [[nodiscard]] double notes_per_payment() const { return per_payment(static_cast<double>(notes_spent)); }
  [[nodiscard]] double splits_per_payment() const {
    return per_payment(static_cast<double>(rebalancing_splits + payments_by_split));
  }
  // Spend proofs of the notes made after the deposit, and split proofs.
  [[nodiscard]] double proofs_per_payment() const {
    return per_payment(static_cast<double>(spend_proofs + split_proofs));
  }
};

// Plays `amounts` (cents, each 1..kMaxPaymentCents) over the options. kInvalidArgument for no
// amounts, an amount out of range, or a policy with no denominations.
Result<InventoryPlanReport> simulate_inventory(std::span<const Cents> amounts, const InventoryPlanOptions& options);

// `count` amounts uniform in [min, max] cents from std::mt19937_64(seed): bench/payments' amounts.
std::vector<Cents> random_payment_amounts(std::size_t count, Cents min, Cents max, std::uint64_t seed);

// Amounts in dollars, one per line ("12.34"; parse_amount's rules, up to kMaxPaymentCents), as in
// a file; a trailing newline and '\r' line ends are fine, blank lines are not. kInvalidArgument
// naming the line for anything else, and for no amounts at all.
Result<std::vector<Cents>> parse_payment_amounts(std::string_view text);

}  // namespace bucketpay
