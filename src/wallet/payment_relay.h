// PaymentRelay: the wallet's relayed payments (pay, on-demand splits, rebalancing splits: protocol
// v2), journaled in the store's PaymentJournal, handed to a relayer, and settled by chain truth
// (docs/wallet.md, "Payments and the journal").
//
//   reserve (prepared: notes reserved, outputs kept pending) -> sign (the caller) -> journal the
//     bundle (signed: from here on it may land) -> hand it to the relayer (submitted)
//     -> confirmed (the chain's Spent events carry its digest) | failed (its deadline passed unpaid)
//
// Settlement (settle(), recover()), for a signed or submitted payment, in this order:
//  1. paid: every one of its nullifiers is spent by a Spent event carrying its digest (whoever sent
//     the transaction: the relayer, another relayer, anyone with a copy of the bundle). It is
//     confirmed with the transaction of the last such event (PaymentJournal::settle_payment_by).
//  2. expired: the synced chain (the sync cursor's block, still on the chain) has a timestamp past
//     the deadline, and it is not paid: nothing of it can land any more (the Pool refuses it). Its
//     notes are released, those spent by another payment marked spent, its outputs still pending
//     deleted (PaymentJournal::expire_payment).
//  3. otherwise it is in flight: nothing is freed, whatever a relayer said (a refusal or a timeout
//     frees nothing early: the bundle is out of the process). While the deadline is more than
//     `handover_margin` away, a bundle the relayer never took, or that the relayer no longer knows,
//     is handed over again (the relayer is idempotent per digest).
// A prepared payment (never signed: nothing of it can land) is given up once it is older than
// `prepared_grace` on the clock (a younger one may be proving an on-demand split in another
// process). Every settlement is a compare-and-set on the state the entry was read in.
//
// The relayer's answers are recorded (its transaction hash) and shown, never believed: the chain is.
//
// Thread safety: one thread at a time; processes sharing the store coordinate through the
// compare-and-set transitions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bucketpay/clock.h"
#include "bucketpay/pool_chain.h"
#include "bucketpay/relay_api.h"
#include "bucketpay/store.h"
#include "fee_quotes.h"

namespace bucketpay {

struct PaymentRelayOptions {
  std::string wallet;             // whose payments
  std::uint64_t start_block = 0;  // where the Pool's events begin (searched for a payment's spends)
  // How long a payment may stay reserved but unsigned before it is taken for a crash's leftover:
  // longer than any on-demand proof (the prover's timeout is 120 s).
  std::chrono::milliseconds prepared_grace{5 * 60 * 1000};
  // No hand-over when the deadline is this close (the relayer refuses those anyway).
  std::chrono::seconds handover_margin{10};
};

// The roles of the store the relay uses: the journal, the notes (their nullifiers), the sync
// cursor (the synced chain's time). A whole Store converts to them.
struct RelayStores {
  PaymentJournal& journal;
  NoteStore& notes;
  ChainIndexStore& index;

  RelayStores(PaymentJournal& j, NoteStore& n, ChainIndexStore& i) : journal(j), notes(n), index(i) {}
  RelayStores(Store& store) : RelayStores(store, store, store) {}  // NOLINT(google-explicit-constructor)
};

// A bundle handed over.
struct Handover {
  std::int64_t payment_id = 0;
  eth::Hash32 digest{};
  double ready_ms = 0;    // the call to the bundle journaled, just before it goes to the relayer
  double latency_ms = 0;  // the call to the relayer's answer
  std::optional<eth::Hash32> relayer_tx;
};

class PaymentRelay {
 public:
  // Everything outlives the relay; `sk` derives the nullifiers of the wallet's notes.
  PaymentRelay(RelayStores stores, eth::PoolChain& chain, RelayerSource relayers, Clock& clock, const Fr& sk,
               PaymentRelayOptions options);

  // Records `payment` as prepared (its notes reserved, created_ms from the clock); its id.
  Result<std::int64_t> reserve(Payment payment);
  // Gives up a payment never signed (prepared -> failed, notes released, outputs deleted). OK also
  // when it is no longer prepared (another process settled it).
  Status abandon(std::int64_t payment_id, std::string_view why);
  // abandon(), then `why` (or the store's error when that failed).
  Status give_up(std::int64_t payment_id, const Status& why);

  // Journals `bundle` for payment `payment_id` (prepared -> signed: a failure here gives the payment
  // up, nothing having left the process), then hands it to the relayer at `relayer_url`
  // (-> submitted). ready_ms and latency_ms run from `started`. A relayer that refuses or cannot be reached
  // leaves the payment signed, its notes reserved until the deadline: the error says so.
  Result<Handover> hand_over(std::int64_t payment_id, const std::string& relayer_url, const eth::RelayBundle& bundle,
                             Clock::Steady::time_point started);

  // reserve() and the journaling of hand_over() in one durable commit (PaymentJournal::
  // begin_signed_payment), for a bundle signed before its notes are reserved; then the hand-over.
  // An error before the commit leaves nothing reserved or journaled (nothing left the process);
  // after it, as hand_over().
  Result<Handover> reserve_signed_and_hand_over(Payment payment, const std::string& relayer_url,
                                                const eth::RelayBundle& bundle, Clock::Steady::time_point started);

  // Settles every unfinished relayed payment of the wallet that it can (see above); how many.
  Result<std::size_t> recover();
  // The same for one payment; the payment as it is afterwards.
  Result<Payment> settle(std::int64_t payment_id);

 private:
  enum class Outcome : std::uint8_t { kInFlight, kSettled, kSettledElsewhere };
  Result<Outcome> settle_entry(const Payment& p);
  Result<Outcome> settle_signed(const Payment& p);
  // Whether the synced chain is past `deadline`; its block when it is.
  Result<std::optional<std::uint64_t>> past_deadline(std::uint64_t deadline);
  // Hands a signed or submitted payment's bundle over again when the relayer does not have it;
  // relayer failures leave it as it is.
  Status hand_over_again(const Payment& p);
  static Result<Outcome> settled(const Status& st);
  // Hands over a journaled (signed) bundle.
  Result<Handover> send_journaled(std::int64_t payment_id, const std::string& relayer_url,
                                  const eth::RelayBundle& bundle, Clock::Steady::time_point started);

  PaymentJournal& journal_;
  NoteStore& notes_;
  ChainIndexStore& index_;
  eth::PoolChain& chain_;
  RelayerSource relayers_;
  Clock& clock_;
  Fr sk_;
  PaymentRelayOptions options_;
};

}  // namespace bucketpay
