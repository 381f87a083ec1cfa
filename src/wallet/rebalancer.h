// Rebalancer: keeps the inventory at its policy's targets by splitting larger notes
// (docs/wallet.md, "Inventory policy").
//
// plan_splits() is the policy: pure, from the notes on chain to the splits of one round. run()
// carries a round out: each split is recorded in the journal (its donor reserved, its two outputs
// kept pending first), all are proved together, and each is sent through the journal. A failure
// before anything is signed releases the splits begun so far.
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
#include "bucketpay/pool_chain.h"
#include "bucketpay/store.h"
#include "bucketpay/wallet.h"
#include "wallet/chain_indexer.h"
#include "wallet/payer.h"
#include "wallet/payment_sender.h"

namespace bucketpay {

// One split of a round: `donor` into `wanted` (a denomination short of its target) and `rest`.
struct PlannedSplit {
  StoredNote donor;
  Cents wanted = 0;
  Cents rest = 0;
};

// The splits (at most `max_splits`) that move `on_chain` towards `policy`: each denomination short
// of its target, smallest first, is split off a larger note, chosen by preference as a surplus note
// (not a denomination, or one above its target) whose rest is itself a denomination short of its
// target, then any surplus note, then any larger note (a short small denomination stops payments
// sooner than a short large one); the smallest at each level. A note is a donor once.
std::vector<PlannedSplit> plan_splits(const std::vector<StoredNote>& on_chain, const InventoryPolicy& policy,
                                      std::size_t max_splits);

struct RebalancerOptions {
  std::string wallet;
  Fr sk;
  Fr pk;
  eth::Address account;  // the recipient bound in the splits (the Pool refuses the zero address)
  InventoryPolicy policy;
  std::size_t max_splits = 16;  // per round
  std::function<void(std::size_t done, std::size_t total)> on_progress;
};

// What a round did, and the block of its last split (0: none was mined).
struct RebalanceRound {
  RebalanceReport report;
  std::uint64_t last_block = 0;
};

class Rebalancer {
 public:
  // Everything outlives the rebalancer.
  Rebalancer(NoteStore& notes, eth::PoolChain& chain, PaymentSender& sender, ChainIndexer& indexer, Clock& clock,
             ProverSource prover, RebalancerOptions options);

  // One round on the notes on chain now (the caller syncs first). Fails only when no split went
  // through (the first error), or for the store.
  Result<RebalanceRound> run();

 private:
  // The recorded splits, their proof requests and statements.
  struct Prepared {
    std::vector<PlannedSplit> splits;
    std::vector<std::int64_t> payment_ids;
    std::vector<ProofRequest> requests;
    std::vector<SplitStatement> statements;
  };
  Result<Prepared> prepare(std::vector<PlannedSplit> splits);
  Status prepare_one(const PlannedSplit& split, Prepared& prepared);
  // Gives up every split recorded so far; returns `why` (or the store's error).
  Status abandon_all(const Prepared& prepared, const Status& why);
  // Sends split i with its proof; its outcome goes into `round`, the first failure into `first_error`.
  Status send_one(const Prepared& prepared, std::size_t i, const ProofResult& proved, const Result<eth::Fees>& fees,
                  RebalanceRound& round, Status& first_error);

  NoteStore& notes_;
  eth::PoolChain& chain_;
  PaymentSender& sender_;
  ChainIndexer& indexer_;
  Clock& clock_;
  ProverSource prover_;
  RebalancerOptions options_;
};

}  // namespace bucketpay
