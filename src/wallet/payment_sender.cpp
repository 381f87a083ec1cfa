#include "payment_sender.h"

#include <algorithm>

#include "wallet_util.h"

namespace bucketpay {

namespace {

std::string revert_reason(const eth::Receipt& r) {
  return r.revert_reason ? r.revert_reason->message : std::string("reverted");
}

std::string context(std::int64_t payment_id, std::string_view what) {
  return "payment " + std::to_string(payment_id) + " " + std::string(what);
}

}  // namespace

PaymentSender::PaymentSender(SenderStores stores, eth::PoolChain& chain, AccountSigner& signer, Clock& clock,
                             SenderOptions options)
    : journal_(stores.journal),
      notes_(stores.notes),
      locks_(stores.locks),
      chain_(chain),
      signer_(signer),
      clock_(clock),
      options_(std::move(options)) {}

Result<std::int64_t> PaymentSender::record(Payment payment) {
  payment.wallet = options_.wallet;
  payment.created_ms = clock_.unix_ms();  // the grace of recover() runs on the same clock
  return journal_.begin_payment(payment);
}

Status PaymentSender::abandon(std::int64_t payment_id, std::string_view why) {
  Status st = journal_.fail_payment_if(payment_id, PaymentState::kPrepared, why, {}, 0);
  return st.code() == StatusCode::kFailedPrecondition ? Status::ok() : st;
}

Status PaymentSender::give_up(std::int64_t payment_id, const Status& why) {
  Status st = abandon(payment_id, why.message());
  return st.is_ok() ? why : st;
}

Result<PaymentSender::SenderLock> PaymentSender::lock_sender() {
  auto lock = locks_.lock("sender-" + signer_.address().to_hex(), options_.sender_lock_timeout);
  if (!lock.ok()) return lock.status().with_context("waiting for another process sending for this account");
  signer_.reset_nonce();  // another process may have sent since this one last did
  return lock;
}

Result<Settlement> PaymentSender::send(const SendRequest& request, SenderLock sender) {
  BUCKETPAY_ASSIGN_OR_RETURN(Payment payment, journal_.get_payment(request.payment_id));
  if (!sender) {
    auto lock = lock_sender();
    if (!lock.ok()) return give_up(payment.id, lock.status());
    sender = std::move(lock).value();
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::SignedTransaction signed_tx, sign_and_simulate(payment, request));
  auto sent = chain_.send_raw_transaction(signed_tx);
  sender.reset();  // the node has it (or refused it): the next sender reads the nonce after it
  if (!sent.ok()) {
    // The node may or may not have it: the journal keeps it signed, and the next start settles it.
    signer_.reset_nonce();
    return sent.status().with_context(
        context(payment.id, "is signed but may not have been sent; `bucketpay sync` settles it"));
  }
  BUCKETPAY_RETURN_IF_ERROR(journal_.mark_payment_submitted(payment.id));
  auto receipt = wait_for_receipt(signed_tx.hash);
  if (!receipt.ok()) {
    return receipt.status().with_context(
        context(payment.id, "was sent and is not mined yet; `bucketpay sync` settles it"));
  }
  payment.state = PaymentState::kSubmitted;
  payment.tx_hash = eth::to_hex(signed_tx.hash);
  const std::string failure = "Pool." + std::string(request.function) + " reverted: " + revert_reason(*receipt);
  Settlement s;
  BUCKETPAY_ASSIGN_OR_RETURN(const Outcome outcome, settle_receipt(payment, *receipt, failure, &s));
  if (outcome == Outcome::kSettledElsewhere) {
    // Another process settled it meanwhile: its verdict stands.
    BUCKETPAY_ASSIGN_OR_RETURN(const Payment now, journal_.get_payment(payment.id));
    if (now.state != PaymentState::kConfirmed) return Status::failed_precondition(now.error);
    s.block = now.block;
    return s;
  }
  if (receipt->success) return s;
  return Status::failed_precondition(failure);
}

Result<eth::SignedTransaction> PaymentSender::sign_and_simulate(const Payment& p, const SendRequest& request) {
  auto signed_tx = signer_.sign(chain_.pool(), request.calldata, request.gas_limit, request.fees);
  if (!signed_tx.ok()) return give_up(p.id, signed_tx.status());
  const double latency = clock_.ms_since(request.started);
  if (request.latency_ms != nullptr) *request.latency_ms = latency;
  // Simulated after signing, so that the latency holds no chain time, and before the bytes are
  // journaled: a payment that would revert is never sent, and its nonce is free again.
  if (Status st = chain_.simulate(signer_.address(), request.function, request.calldata); !st.is_ok()) {
    signer_.reset_nonce();
    Status failed = journal_.fail_payment_if(p.id, PaymentState::kPrepared, st.message(), {}, 0);
    return failed.is_ok() ? st : failed;
  }
  if (Status st =
          journal_.record_payment_signed(p.id, eth::to_hex(signed_tx->hash), signed_tx->raw, signed_tx->nonce, latency);
      !st.is_ok()) {
    signer_.reset_nonce();
    return give_up(p.id, st);
  }
  return signed_tx;
}

Result<std::size_t> PaymentSender::recover() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Payment> payments,
                             journal_.list_payments(options_.wallet, std::nullopt));
  std::vector<const Payment*> open;
  for (const Payment& p : payments) {
    const bool in_flight = p.state != PaymentState::kConfirmed && p.state != PaymentState::kFailed;
    if (in_flight && p.kind == PaymentKind::kDeposit) open.push_back(&p);
  }
  if (open.empty()) return 0;
  // Under the sender lock: no other process signs a nonce while this one decides whether a nonce
  // was used, or sends a journaled transaction again.
  BUCKETPAY_ASSIGN_OR_RETURN(SenderLock lock, lock_sender());
  std::size_t settled = 0;
  std::vector<const Payment*> sent_again;
  for (const Payment* p : open) {
    auto outcome = settle_locked(*p);
    if (!outcome.ok()) return outcome.status().with_context("payment " + std::to_string(p->id));
    if (*outcome == Outcome::kSettled) ++settled;
    if (*outcome == Outcome::kSentAgain) sent_again.push_back(p);
  }
  lock.reset();
  for (const Payment* p : sent_again) {
    BUCKETPAY_ASSIGN_OR_RETURN(const eth::Hash32 hash, eth::hash_from_hex(p->tx_hash));
    auto receipt = wait_for_receipt(hash);
    if (!receipt.ok()) return receipt.status().with_context(context(p->id, "was sent again and is not mined yet"));
    Payment submitted = *p;
    submitted.state = PaymentState::kSubmitted;
    auto outcome = settle_receipt(submitted, *receipt, "reverted: " + revert_reason(*receipt), nullptr);
    if (!outcome.ok()) return outcome.status().with_context("payment " + std::to_string(p->id));
    if (*outcome == Outcome::kSettled) ++settled;
  }
  return settled;
}

Result<PaymentSender::Outcome> PaymentSender::settle_locked(const Payment& p) {
  if (p.state == PaymentState::kPrepared) {
    // Another process may be between reserving and signing (an on-demand split proves there):
    // only an entry older than that could ever take is a crash's leftover.
    if (clock_.unix_ms() - p.created_ms < options_.prepared_grace.count()) return Outcome::kInFlight;
    // Nothing was signed, so nothing can be on the chain: release its notes.
    return settled(journal_.fail_payment_if(p.id, PaymentState::kPrepared, "stopped before it was signed", {}, 0));
  }
  auto hash = eth::hash_from_hex(p.tx_hash);
  if (!hash.ok()) return Status::corruption(context(p.id, "has a malformed transaction hash"));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<eth::Receipt> receipt, chain_.receipt(*hash));
  if (receipt) return settle_receipt(p, *receipt, "reverted: " + revert_reason(*receipt), nullptr);
  return settle_in_flight(p, *hash);
}

Result<PaymentSender::Outcome> PaymentSender::settle_in_flight(const Payment& p, const eth::Hash32& hash) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<eth::Transaction> tx, chain_.transaction(hash));
  if (tx) {
    // Known and waiting to be mined: it stays in flight.
    if (p.state == PaymentState::kSigned) BUCKETPAY_RETURN_IF_ERROR(journal_.mark_payment_submitted(p.id));
    return Outcome::kInFlight;
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t mined,
                             chain_.nonce(signer_.address(), eth::PoolChain::NonceKind::kMined));
  if (mined > p.nonce) {
    // Its nonce was used by another transaction: this one can never be mined.
    return settled(
        journal_.fail_payment_if(p.id, p.state, "never mined: its nonce was used by another transaction", {}, 0));
  }
  // The node never got it (or dropped it): send the very same bytes again.
  const eth::SignedTransaction signed_tx{p.raw_tx, hash, p.nonce, 0};
  auto sent = chain_.send_raw_transaction(signed_tx);
  if (!sent.ok()) return sent.status().with_context("re-sending payment " + std::to_string(p.id));
  BUCKETPAY_RETURN_IF_ERROR(journal_.mark_payment_submitted(p.id));
  return Outcome::kSentAgain;
}

Result<PaymentSender::Outcome> PaymentSender::settle_receipt(const Payment& p, const eth::Receipt& receipt,
                                                             const std::string& failure, Settlement* out) {
  if (out != nullptr) {
    out->tx_hash = receipt.transaction_hash;
    out->gas_used = receipt.gas_used;
    out->block = receipt.block_number;
  }
  if (receipt.success) return settled(journal_.confirm_payment(p.id, receipt.gas_used, receipt.block_number));
  return settled(journal_.fail_payment_if(p.id, p.state, failure, {}, receipt.block_number));
}

Result<PaymentSender::Outcome> PaymentSender::settled(const Status& st) {
  if (st.is_ok()) return Outcome::kSettled;
  if (st.code() == StatusCode::kFailedPrecondition) return Outcome::kSettledElsewhere;
  return st;
}

Result<eth::Receipt> PaymentSender::transact(const eth::Address& to, std::span<const std::uint8_t> calldata,
                                             std::string_view what) {
  BUCKETPAY_ASSIGN_OR_RETURN(SenderLock lock, lock_sender());
  auto gas = chain_.estimate_gas(signer_.address(), to, calldata);
  if (!gas.ok()) return gas.status().with_context(what);
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Fees fees, chain_.fees());
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::SignedTransaction signed_tx, signer_.sign(to, calldata, *gas + *gas / 5, fees));
  auto sent = chain_.send_raw_transaction(signed_tx);
  lock.reset();
  if (!sent.ok()) {
    signer_.reset_nonce();
    return sent.status().with_context(what);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(eth::Receipt receipt, wait_for_receipt(signed_tx.hash));
  if (!receipt.success) {
    return Status::failed_precondition(std::string(what) + ": transaction " + eth::to_hex(receipt.transaction_hash) +
                                       " reverted in block " + std::to_string(receipt.block_number) + ": " +
                                       revert_reason(receipt));
  }
  return receipt;
}

Result<eth::Receipt> PaymentSender::wait_for_receipt(const eth::Hash32& tx_hash) {
  const auto deadline = clock_.steady_now() + options_.receipt_timeout;
  for (;;) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<eth::Receipt> receipt, chain_.receipt(tx_hash));
    if (receipt) return *receipt;
    if (clock_.steady_now() >= deadline) {
      return Status::timeout("no receipt for transaction " + eth::to_hex(tx_hash) + " within " +
                             std::to_string(options_.receipt_timeout.count()) + " ms");
    }
    clock_.sleep_for(options_.poll_interval);
  }
}

}  // namespace bucketpay
