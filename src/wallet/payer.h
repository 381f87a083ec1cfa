// Payer: a payment from the inventory (docs/wallet.md, "Payments and the journal").
//
//   plan:    the notes ready to pay the recipient (ready_notes(), the one rule) that make the amount
//            exactly with the fewest notes (plan_payment), at most what one transaction carries;
//   reserve: the payment recorded in the journal (its notes on_chain -> spending, all or none);
//   build:   one spendBatch of their precomputed proofs, sent through the journal.
// When the ready proofs cannot make the amount, MissingPolicy::kSplit proves a split now instead:
// the smallest note that covers the amount, the change back to the wallet (kept pending before
// anything is sent).
//
// Latency: the fee data and the nonce are read before the clock starts, and the sender lock is
// held from before planning until the transaction is with the node (the on-demand split releases
// it while proving and takes it again).
//
// Thread safety: one thread at a time (the wallet's).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bucketpay/clock.h"
#include "bucketpay/engine.h"
#include "bucketpay/planner.h"
#include "bucketpay/pool_chain.h"
#include "bucketpay/prover.h"
#include "bucketpay/store.h"
#include "bucketpay/wallet.h"
#include "wallet/account_signer.h"
#include "wallet/chain_indexer.h"
#include "wallet/payment_sender.h"

namespace bucketpay {

// Starts (once) and returns the wallet's prover.
using ProverSource = std::function<Result<ProverPool*>()>;

struct PayerOptions {
  std::string wallet;
  Fr sk;
  Fr pk;
  eth::Address payee;  // the recipient the inventory is proved for (named in refusals)
};

class Payer {
 public:
  // Everything outlives the payer.
  Payer(NoteStore& notes, ProofStore& proofs, eth::PoolChain& chain, AccountSigner& signer, PaymentSender& sender,
        ChainIndexer& indexer, Clock& clock, ProverSource prover, PayerOptions options);

  // Wallet::pay (bucketpay/wallet.h).
  Result<PaymentReport> pay(Cents amount, const eth::Address& to, MissingPolicy policy);

 private:
  // The ready notes that make `amount` for `to`, largest first, or why not (kNotFound).
  Result<std::vector<ReadyNote>> plan(const std::vector<ReadyNote>& ready, Cents amount) const;
  Result<PaymentReport> pay_from_precomputes(std::vector<ReadyNote> chosen, const eth::Fees& fees,
                                             PaymentSender::SenderLock sender, Clock::Steady::time_point started,
                                             PaymentReport report);
  Result<PaymentReport> pay_by_split(const std::vector<StoredNote>& notes, const eth::Fees& fees,
                                     Clock::Steady::time_point started, PaymentReport report);
  // The split proof of `donor` for the report's amount and recipient, `change` back to the wallet.
  Result<eth::Bytes> prove_split(std::int64_t payment_id, const StoredNote& donor, const Note& change,
                                 PaymentReport& report);

  NoteStore& notes_;
  ProofStore& proofs_;
  eth::PoolChain& chain_;
  AccountSigner& signer_;
  PaymentSender& sender_;
  ChainIndexer& indexer_;
  Clock& clock_;
  ProverSource prover_;
  PayerOptions options_;
};

}  // namespace bucketpay
