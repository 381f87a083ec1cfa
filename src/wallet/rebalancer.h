// Rebalancer: keeps the inventory at its policy's targets by fan-out splits of larger notes
// (docs/wallet.md, "Inventory policy"; protocol v2's 1-in-8-out split through a relayer).
//
// plan_splits() is the policy: pure, from the notes on chain to the splits of one round. Each split
// takes one donor into up to 8 notes (the denominations short of their targets where it can) and
// withdraws exactly the relayer's fee: amount = fee in cents, recipient = fee recipient = the
// relayer's (plan_fan_out, wallet/split_plan.h, says how the fee is rounded). run() carries a round
// out: each split is reserved in the journal (its donor spending, its outputs kept pending first),
// all are proved together, then each is signed by its donor's auth key and handed to the relayer
// (PaymentRelay). A failure before anything is signed releases the splits begun so far; one after
// leaves the split to settle by chain truth.
//
// Thread safety: one thread at a time (the wallet's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/clock.h"
#include "bucketpay/store.h"
#include "bucketpay/wallet.h"
#include "chain_indexer.h"
#include "fee_quotes.h"
#include "payer.h"
#include "payment_relay.h"
#include "split_plan.h"

namespace bucketpay {

// One split of a round: `donor` into `outputs`, `fee` cents to the relayer.
struct PlannedSplit {
  StoredNote donor;
  Cents fee = 0;
  std::vector<Cents> outputs;  // largest first, at most 8, summing to donor.value - fee
};

// The splits (at most `max_splits`) that move `on_chain` towards `policy` when a split costs at
// least `min_fee` cents: for the smallest denomination short of its target, the smallest unused
// donor worth more than it and the fee, by preference an odd note (no denomination), then a surplus
// note (a denomination above its target), then any larger note; fanned out by plan_fan_out towards every shortage;
// repeated on the counts that split leaves. A note is a donor once; a denomination no donor can
// make is passed over.
std::vector<PlannedSplit> plan_splits(const std::vector<StoredNote>& on_chain, const InventoryPolicy& policy,
                                      Cents min_fee, std::size_t max_splits);

struct RebalancerOptions {
  std::string wallet;
  Fr sk;
  Fr pk;
  InventoryPolicy policy;
  std::size_t max_splits = 16;     // per round
  std::uint64_t deadline_s = 300;  // how long a signed split may land in
  eth::PaymentDomain domain;
  std::function<void(std::size_t done, std::size_t total)> on_progress;
};

class Rebalancer {
 public:
  // Everything outlives the rebalancer.
  Rebalancer(NoteStore& notes, PaymentRelay& relay, FeeQuotes& quotes, ChainIndexer& indexer, Clock& clock,
             ProverSource prover, RebalancerOptions options);

  // One round on the notes on chain now (the caller syncs first), through the relayer at `url`.
  // Fails only when no split was handed over (the first error), or for the store.
  Result<RebalanceReport> run(const std::string& url);

 private:
  // The reserved splits, their proof requests and statements.
  struct Prepared {
    std::vector<PlannedSplit> splits;
    std::vector<std::int64_t> payment_ids;
    std::vector<ProofRequest> requests;
    std::vector<SplitStatement> statements;
  };
  Result<Prepared> prepare(std::vector<PlannedSplit> splits, const eth::RelayQuote& quote, const std::string& url);
  Status prepare_one(const PlannedSplit& split, const eth::RelayQuote& quote, const std::string& url,
                     Prepared& prepared);
  // Gives up every split reserved so far; returns `why` (or the store's error).
  Status abandon_all(const Prepared& prepared, const Status& why);
  // Signs and hands over split i with its proof; its outcome goes into `report`, the first failure
  // into `first_error`.
  Status hand_over_one(const Prepared& prepared, std::size_t i, const ProofResult& proved, const eth::RelayQuote& quote,
                       const std::string& url, RebalanceReport& report, Status& first_error);

  NoteStore& notes_;
  PaymentRelay& relay_;
  FeeQuotes& quotes_;
  ChainIndexer& indexer_;
  Clock& clock_;
  ProverSource prover_;
  RebalancerOptions options_;
};

}  // namespace bucketpay
