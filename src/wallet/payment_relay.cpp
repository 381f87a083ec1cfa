#include "payment_relay.h"

#include <map>
#include <set>

#include "wallet_util.h"

namespace bucketpay {

namespace {

std::string label(std::int64_t id) { return "payment " + std::to_string(id); }

}  // namespace

PaymentRelay::PaymentRelay(RelayStores stores, eth::PoolChain& chain, RelayerSource relayers, Clock& clock,
                           const Fr& sk, PaymentRelayOptions options)
    : journal_(stores.journal),
      notes_(stores.notes),
      index_(stores.index),
      chain_(chain),
      relayers_(std::move(relayers)),
      clock_(clock),
      sk_(sk),
      options_(std::move(options)) {}

Result<std::int64_t> PaymentRelay::reserve(Payment payment) {
  payment.wallet = options_.wallet;
  payment.created_ms = clock_.unix_ms();  // the grace runs on the same clock
  return journal_.begin_payment(payment);
}

Status PaymentRelay::abandon(std::int64_t payment_id, std::string_view why) {
  Status st = journal_.fail_payment_if(payment_id, PaymentState::kPrepared, why, {}, 0);
  return st.code() == StatusCode::kFailedPrecondition ? Status::ok() : st;
}

Status PaymentRelay::give_up(std::int64_t payment_id, const Status& why) {
  Status st = abandon(payment_id, why.message());
  return st.is_ok() ? why : st;
}

Result<Handover> PaymentRelay::hand_over(std::int64_t payment_id, const std::string& relayer_url,
                                         const eth::RelayBundle& bundle, Clock::Steady::time_point started) {
  if (!bundle.payment.deadline.fits_u64()) return give_up(payment_id, Status::invalid_argument("deadline too large"));
  // Journaled before it leaves the process: from here on it may land.
  if (Status st = journal_.record_payment_bundle(payment_id, eth::to_hex(bundle.digest()),
                                                 bundle.payment.deadline.low_u64(), eth::encode_bundle(bundle));
      !st.is_ok()) {
    return give_up(payment_id, st);
  }
  return send_journaled(payment_id, relayer_url, bundle, started);
}

Result<Handover> PaymentRelay::reserve_signed_and_hand_over(Payment payment, const std::string& relayer_url,
                                                            const eth::RelayBundle& bundle,
                                                            Clock::Steady::time_point started) {
  if (!bundle.payment.deadline.fits_u64()) return Status::invalid_argument("deadline too large");
  payment.wallet = options_.wallet;
  payment.created_ms = clock_.unix_ms();
  // Reserved and journaled at once, before it leaves the process: from here on it may land.
  BUCKETPAY_ASSIGN_OR_RETURN(
      const std::int64_t payment_id,
      journal_.begin_signed_payment(payment, eth::to_hex(bundle.digest()), bundle.payment.deadline.low_u64(),
                                    eth::encode_bundle(bundle)));
  return send_journaled(payment_id, relayer_url, bundle, started);
}

Result<Handover> PaymentRelay::send_journaled(std::int64_t payment_id, const std::string& relayer_url,
                                              const eth::RelayBundle& bundle, Clock::Steady::time_point started) {
  Handover h;
  h.payment_id = payment_id;
  h.ready_ms = clock_.ms_since(started);
  h.digest = bundle.digest();
  const std::string digest = eth::to_hex(h.digest);
  const std::uint64_t deadline = bundle.payment.deadline.low_u64();
  auto reserved_until = [&](const Status& why) {
    return why.with_context(label(payment_id) + " (" + digest +
                            ") is signed; its notes stay reserved until its deadline " + std::to_string(deadline) +
                            " (Unix s) passes unpaid, and `bucketpay sync` hands it over "
                            "again meanwhile");
  };
  auto relayer = relayers_(relayer_url);
  if (!relayer.ok()) return reserved_until(relayer.status());
  auto status = (*relayer)->submit(bundle, h.digest);
  h.latency_ms = clock_.ms_since(started);
  if (!status.ok()) return reserved_until(status.status());
  h.relayer_tx = status->tx_hash;
  BUCKETPAY_RETURN_IF_ERROR(
      journal_.record_payment_relayed(payment_id, h.relayer_tx ? eth::to_hex(*h.relayer_tx) : "", h.latency_ms));
  return h;
}

Result<std::size_t> PaymentRelay::recover() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Payment> payments,
                             journal_.list_payments(options_.wallet, std::nullopt));
  std::size_t settled = 0;
  for (const Payment& p : payments) {
    if (p.kind == PaymentKind::kDeposit) continue;  // the sender's
    if (p.state == PaymentState::kConfirmed || p.state == PaymentState::kFailed) continue;
    auto outcome = settle_entry(p);
    if (!outcome.ok()) return outcome.status().with_context(label(p.id));
    if (*outcome == Outcome::kSettled) ++settled;
  }
  return settled;
}

Result<Payment> PaymentRelay::settle(std::int64_t payment_id) {
  BUCKETPAY_ASSIGN_OR_RETURN(const Payment p, journal_.get_payment(payment_id));
  if (p.kind != PaymentKind::kDeposit && p.state != PaymentState::kConfirmed && p.state != PaymentState::kFailed) {
    auto outcome = settle_entry(p);
    if (!outcome.ok()) return outcome.status().with_context(label(p.id));
  }
  return journal_.get_payment(payment_id);
}

Result<PaymentRelay::Outcome> PaymentRelay::settle_entry(const Payment& p) {
  if (p.state == PaymentState::kPrepared) {
    if (clock_.unix_ms() - p.created_ms < options_.prepared_grace.count()) return Outcome::kInFlight;
    // Nothing was signed, so nothing of it can be on the chain: release its notes.
    return settled(journal_.fail_payment_if(p.id, PaymentState::kPrepared, "stopped before it was signed", {}, 0));
  }
  return settle_signed(p);
}

Result<PaymentRelay::Outcome> PaymentRelay::settle_signed(const Payment& p) {
  auto digest = eth::hash_from_hex(p.digest);
  if (!digest.ok())
    return Status::corruption(label(p.id) + " is " + std::string(payment_state_name(p.state)) +
                              " with a malformed digest");
  std::map<std::string, std::int64_t> note_of;  // nullifier -> note id
  std::vector<eth::U256> nullifiers;
  for (std::int64_t id : p.note_ids) {
    BUCKETPAY_ASSIGN_OR_RETURN(const StoredNote note, notes_.get_note(id));
    const Fr nf = wallet_util::note_nullifier(sk_, note);
    nullifiers.push_back(wallet_util::to_u256(nf));
    note_of.emplace(wallet_util::fr_key(nf), id);
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<eth::PoolEvent> events,
                             chain_.spends_of(nullifiers, options_.start_block));
  std::set<std::int64_t> spent;  // by any payment
  std::set<std::int64_t> paid;   // by this one
  const eth::PoolEvent* last = nullptr;
  for (const eth::PoolEvent& ev : events) {
    if (ev.kind != eth::PoolEvent::Kind::kSpent) continue;
    auto nf = wallet_util::to_fr(ev.spent.nullifier);
    if (!nf.ok()) continue;
    auto it = note_of.find(wallet_util::fr_key(*nf));
    if (it == note_of.end()) continue;
    spent.insert(it->second);
    if (ev.spent.payment != *digest) continue;
    paid.insert(it->second);
    if (last == nullptr || ev.block_number > last->block_number ||
        (ev.block_number == last->block_number && ev.log_index > last->log_index)) {
      last = &ev;
    }
  }
  if (!p.note_ids.empty() && paid.size() == p.note_ids.size()) {
    return settled(journal_.settle_payment_by(p.id, p.state, eth::to_hex(last->transaction_hash), last->block_number));
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<std::uint64_t> expired_at, past_deadline(p.deadline));
  if (expired_at) {
    const std::vector<std::int64_t> spent_ids(spent.begin(), spent.end());
    return settled(journal_.expire_payment(
        p.id, p.state,
        "its deadline " + std::to_string(p.deadline) + " passed unpaid (block " + std::to_string(*expired_at) + ")",
        spent_ids, *expired_at));
  }
  BUCKETPAY_RETURN_IF_ERROR(hand_over_again(p));
  return Outcome::kInFlight;
}

Result<std::optional<std::uint64_t>> PaymentRelay::past_deadline(std::uint64_t deadline) {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<BlockRef> cursor, index_.sync_cursor());
  if (!cursor) return std::optional<std::uint64_t>();
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<eth::BlockHeader> header, chain_.header(cursor->number));
  // The cursor's block gone: a reorganisation the next sync follows first.
  if (!header || header->hash != cursor->hash) return std::optional<std::uint64_t>();
  if (header->timestamp <= deadline) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(cursor->number);
}

Status PaymentRelay::hand_over_again(const Payment& p) {
  const auto now_s = clock_.unix_ms() / 1000;
  if (p.relayer.empty() ||
      static_cast<std::uint64_t>(now_s) + static_cast<std::uint64_t>(options_.handover_margin.count()) >= p.deadline) {
    return Status::ok();
  }
  auto relayer = relayers_(p.relayer);
  if (!relayer.ok()) return Status::ok();  // unreachable now: the next settlement tries again
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Hash32 digest, eth::hash_from_hex(p.digest));
  if (p.state == PaymentState::kSubmitted) {
    auto known = (*relayer)->status(digest);
    if (!known.ok()) return Status::ok();
    if (known->has_value()) {
      const std::optional<eth::Hash32>& tx = (*known)->tx_hash;
      if (tx && eth::to_hex(*tx) != p.relayer_tx) {
        BUCKETPAY_RETURN_IF_ERROR(journal_.record_payment_relayed(p.id, eth::to_hex(*tx), 0));
      }
      return Status::ok();
    }
  }
  auto bundle = eth::decode_bundle(p.bundle_json);
  if (!bundle.ok()) return bundle.status().with_context("the journaled bundle of " + label(p.id));
  if (bundle->digest() != digest)
    return Status::corruption("the journaled bundle of " + label(p.id) + " is not its digest's");
  auto status = (*relayer)->submit(*bundle, digest);
  if (!status.ok()) return Status::ok();
  return journal_.record_payment_relayed(p.id, status->tx_hash ? eth::to_hex(*status->tx_hash) : "", 0);
}

Result<PaymentRelay::Outcome> PaymentRelay::settled(const Status& st) {
  if (st.is_ok()) return Outcome::kSettled;
  if (st.code() == StatusCode::kFailedPrecondition) return Outcome::kSettledElsewhere;
  return st;
}

}  // namespace bucketpay
