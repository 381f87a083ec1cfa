// Payer: a payment from the inventory, through a relayer (docs/wallet.md, "Payments and the
// journal"; protocol v2).
//
//   quote:   the relayer's fee for a spendBatch of the notes the plan may take (FeeQuotes: fetched
//            before the latency clock starts, cached while valid), rounded up to whole cents f;
//   plan:    the ready notes (ready_notes(), the one rule: on chain, with a spend proof) that make
//            A + f exactly with the fewest notes (plan_payment), at most kMaxBundleSpends; f is the
//            quote for the number of notes planned (re-planned when the count changes the fee);
//   reserve: the payment recorded in the journal with its deadline (its notes on_chain -> spending,
//            all or none);
//   sign:    Payment{nullifiers, to, f * UNIT, the relayer's fee recipient, deadline}, its digest
//            signed by each note's auth key (derived from sk and the note);
//   hand over: the bundle journaled (its digest) and POSTed to the relayer (PaymentRelay).
// When the ready proofs cannot make A + f, MissingPolicy::kSplit proves a split now instead: the
// smallest note that covers A + f (the split quote's fee), the change back to the wallet as up to 8
// denominations (kept pending before anything is signed). MissingPolicy::kAlwaysSplit proves that
// split without looking at the ready proofs.
//
// Latency: from after the quotes to the relayer's answer to the hand-over.
//
// Thread safety: one thread at a time (the wallet's).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bucketpay/clock.h"
#include "bucketpay/engine.h"
#include "bucketpay/payment.h"
#include "bucketpay/planner.h"
#include "bucketpay/pool_chain.h"
#include "bucketpay/prover.h"
#include "bucketpay/store.h"
#include "bucketpay/wallet.h"
#include "chain_indexer.h"
#include "fee_quotes.h"
#include "payment_relay.h"
#include "split_plan.h"

namespace bucketpay {

// Starts (once) and returns the wallet's prover.
using ProverSource = std::function<Result<ProverPool*>()>;

struct PayerOptions {
  std::string wallet;
  Fr sk;
  Fr pk;
  std::uint64_t deadline_s = 300;  // how long a signed payment may land in
  InventoryPolicy policy;          // an on-demand split's change goes to the denominations it lacks
  eth::PaymentDomain domain;       // the Pool's EIP-712 domain
};

class Payer {
 public:
  // Everything outlives the payer.
  Payer(NoteStore& notes, ProofStore& proofs, PaymentRelay& relay, FeeQuotes& quotes, ChainIndexer& indexer,
        Clock& clock, ProverSource prover, PayerOptions options);

  // Wallet::pay (bucketpay/wallet.h) through the relayer at `relayer_url`.
  // A deadline_s of 0 takes PayerOptions::deadline_s.
  Result<PaymentReport> pay(Cents amount, const eth::Address& to, MissingPolicy policy, const std::string& relayer_url,
                            std::uint64_t deadline_s = 0);

 private:
  // The ready notes that make `amount` and a fee of at least `min_fee` (plan_payment_with_fee:
  // raised when that makes an exact plan; odd notes preferred), largest first, or why not
  // (kNotFound); the fee paid in `fee`.
  Result<std::vector<ReadyNote>> plan(const std::vector<ReadyNote>& ready, Cents amount, Cents min_fee,
                                      Cents* fee = nullptr) const;
  // The plan of amount + fee where fee is at least the quote for the planned number of notes; the
  // fee in report.fee.
  Result<std::vector<ReadyNote>> plan_with_fee(const std::vector<ReadyNote>& ready, const std::string& url,
                                               PaymentReport& report, eth::RelayQuote& quote);
  Result<PaymentReport> pay_from_precomputes(const std::vector<ReadyNote>& chosen, const eth::RelayQuote& quote,
                                             Clock::Steady::time_point started, PaymentReport report);
  Result<PaymentReport> pay_by_split(const std::vector<StoredNote>& notes, Clock::Steady::time_point started,
                                     PaymentReport report);
  [[nodiscard]] std::uint64_t deadline();

  NoteStore& notes_;
  ProofStore& proofs_;
  PaymentRelay& relay_;
  FeeQuotes& quotes_;
  ChainIndexer& indexer_;
  Clock& clock_;
  ProverSource prover_;
  PayerOptions options_;
  std::uint64_t deadline_s_ = 0;  // this payment's (0: options_.deadline_s)
};

}  // namespace bucketpay
