// PaymentSender: the transactions the wallet's own account sends (protocol v2: deposits only; a
// payment or split goes through a relayer, wallet/payment_relay.h), recorded in the store's
// payments journal (PaymentJournal, bucketpay/store.h) before they are sent, and settled from their
// receipts (docs/wallet.md, "Payments and the journal").
//
//   record (prepared: its new notes kept pending) -> sign -> simulate -> signed (raw bytes kept)
//     -> send -> submitted -> receipt -> confirmed | failed
//
// Sending. send() signs under the account's sender lock (StoreLocks::lock), simulates the call (one
// that would revert is never recorded as signed: its nonce stays free), records the signed bytes,
// sends them, releases the lock and waits for the receipt on the clock.
//
// Recovery. recover() settles every unfinished deposit, under the sender lock:
//  - prepared (nothing signed): another process may be between recording and signing, so only an
//    entry older than `prepared_grace` on the clock is given up;
//  - signed or submitted: its receipt settles it; a transaction the node knows stays in flight; one
//    it does not know whose nonce the account has used since can never be mined (failed); otherwise
//    the very same bytes are sent again (same nonce, same hash: it cannot be mined twice) and, the
//    lock released, its receipt awaited.
// Every settlement is a compare-and-set on the state the entry was read in, so two settlers (two
// processes) never undo each other; a deposit that was signed keeps its notes pending when it fails
// (PaymentJournal::fail_payment_if): if its bytes land after all, the sync finds them.
//
// Thread safety: one thread at a time; processes sharing the store coordinate through the sender
// lock and the compare-and-set transitions.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "account_signer.h"
#include "bucketpay/clock.h"
#include "bucketpay/pool_chain.h"
#include "bucketpay/store.h"

namespace bucketpay {

struct SenderOptions {
  std::string wallet;             // whose payments
  std::uint64_t start_block = 0;  // where the Pool's events begin (searched for a payment's spends)
  std::chrono::milliseconds receipt_timeout{120'000};
  std::chrono::milliseconds poll_interval{200};
  // How long a payment may stay reserved but unsigned before recover() takes it for a crash's
  // leftover: longer than any on-demand proof (the prover's timeout is 120 s).
  std::chrono::milliseconds prepared_grace{5 * 60 * 1000};
  // How long a sender waits for another process's transaction to reach the node.
  std::chrono::milliseconds sender_lock_timeout{30'000};
};

// How a sent transaction ended (confirmed by its receipt).
struct Settlement {
  eth::Hash32 tx_hash{};       // the wallet's own transaction
  std::uint64_t block = 0;     // where it was mined
  std::uint64_t gas_used = 0;  // reverted or not
};

// One transaction to journal and send.
struct SendRequest {
  std::int64_t payment_id = 0;  // recorded, prepared
  std::span<const std::uint8_t> calldata;
  std::string_view function;  // the Pool's, for messages ("depositMany")
  std::uint64_t gas_limit = 0;
  eth::Fees fees;
  Clock::Steady::time_point started;  // when the command began: latency_ms counts from it
  double* latency_ms = nullptr;       // set to the latency until the transaction was signed
};

// The roles of the store the sender uses: the payments journal, the notes, and the account's sender
// lock. A whole Store converts to them.
struct SenderStores {
  PaymentJournal& journal;
  NoteStore& notes;
  StoreLocks& locks;

  SenderStores(PaymentJournal& j, NoteStore& n, StoreLocks& l) : journal(j), notes(n), locks(l) {}
  SenderStores(Store& store) : SenderStores(store, store, store) {}  // NOLINT(google-explicit-constructor)
};

class PaymentSender {
 public:
  using SenderLock = std::unique_ptr<StoreLocks::Lock>;

  // Everything outlives the sender.
  PaymentSender(SenderStores stores, eth::PoolChain& chain, AccountSigner& signer, Clock& clock, SenderOptions options);

  // Records `payment` (a deposit) as prepared (created_ms from the clock); its id.
  Result<std::int64_t> record(Payment payment);
  // Gives up a payment that was never signed (prepared -> failed with `why`, its notes released and
  // its outputs deleted: nothing of it can land). OK also when it is no longer prepared (another
  // process settled it); else the store's error.
  Status abandon(std::int64_t payment_id, std::string_view why);
  // abandon(), then `why` (or the store's error when that failed): for `return give_up(id, st);`.
  Status give_up(std::int64_t payment_id, const Status& why);

  // The account's sender lock, held from reading the nonce until the signed transaction is with the
  // node; taking it drops the cached nonce.
  Result<SenderLock> lock_sender();
  // Signs, simulates, journals, sends and waits (see above). With `sender` null it takes the lock
  // itself; either way the lock is released once the transaction is sent. kFailedPrecondition
  // "Pool.<function> reverted: <reason>" when it failed; a send or a receipt that could not be
  // confirmed leaves the entry in flight for recover().
  Result<Settlement> send(const SendRequest& request, SenderLock sender = nullptr);
  // Settles unfinished deposits (see above); how many were settled.
  Result<std::size_t> recover();

  // A transaction outside the journal (the token approval): gas estimated, signed and sent under the
  // sender lock, its receipt awaited; a revert is kFailedPrecondition.
  Result<eth::Receipt> transact(const eth::Address& to, std::span<const std::uint8_t> calldata, std::string_view what);
  // Polls for the receipt on the clock; kTimeout after receipt_timeout.
  Result<eth::Receipt> wait_for_receipt(const eth::Hash32& tx_hash);

 private:
  enum class Outcome : std::uint8_t { kInFlight, kSettled, kSentAgain, kSettledElsewhere };
  // One entry under the sender lock (no waiting).
  Result<Outcome> settle_locked(const Payment& p);
  Result<Outcome> settle_in_flight(const Payment& p, const eth::Hash32& hash);
  // From the wallet's own receipt; `failure` is the error recorded if it failed.
  Result<Outcome> settle_receipt(const Payment& p, const eth::Receipt& receipt, const std::string& failure,
                                 Settlement* out);
  // kFailedPrecondition from a compare-and-set means another settler got there first.
  static Result<Outcome> settled(const Status& st);
  Result<eth::SignedTransaction> sign_and_simulate(const Payment& p, const SendRequest& request);

  PaymentJournal& journal_;
  NoteStore& notes_;
  StoreLocks& locks_;
  eth::PoolChain& chain_;
  AccountSigner& signer_;
  Clock& clock_;
  SenderOptions options_;
};

}  // namespace bucketpay
