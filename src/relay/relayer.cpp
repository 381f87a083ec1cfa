// The relayer: checks, the journal, sending, and settling what was sent.
#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "bucketpay/relay.h"
#include "relay_metrics.h"

namespace bucketpay::relay {
namespace {

using eth::BundleKind;
using eth::U256;

Submission error(const Status& why, std::optional<RelayEntry> entry = std::nullopt) {
  Submission s;
  s.outcome = Submission::Outcome::kError;
  s.entry = std::move(entry);
  s.status = why;
  return s;
}

Submission known(RelayEntry entry) {
  Submission s;
  s.outcome = Submission::Outcome::kKnown;
  s.entry = std::move(entry);
  return s;
}

// The node explicitly refused a transaction (it never took it), as opposed to not answering.
bool refused_by_node(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kInvalidArgument;
}

std::string kind_and_size(BundleKind kind, std::size_t notes) {
  if (kind == BundleKind::kSplit) return "a split";
  return "a spend_batch of " + std::to_string(notes) + (notes == 1 ? " note" : " notes");
}

}  // namespace

std::string_view refusal_name(Refusal refusal) {
  switch (refusal) {
    case Refusal::kMalformed:
      return "malformed";
    case Refusal::kTooLarge:
      return "too_large";
    case Refusal::kWrongChain:
      return "wrong_chain";
    case Refusal::kWrongPool:
      return "wrong_pool";
    case Refusal::kWrongFeeRecipient:
      return "wrong_fee_recipient";
    case Refusal::kFeeBelowQuote:
      return "fee_below_quote";
    case Refusal::kFeeAboveValue:
      return "fee_above_value";
    case Refusal::kDeadline:
      return "deadline";
    case Refusal::kNullifierMismatch:
      return "nullifier_mismatch";
    case Refusal::kDuplicateNullifier:
      return "duplicate_nullifier";
    case Refusal::kBadSignature:
      return "bad_signature";
    case Refusal::kReverted:
      return "reverted";
  }
  return "unknown";
}

int refusal_http_status(Refusal refusal) {
  switch (refusal) {
    case Refusal::kMalformed:
      return 400;
    case Refusal::kTooLarge:
      return 413;
    default:
      return 422;
  }
}

Result<eth::RelayStatus> public_status(const RelayEntry& e) {
  eth::RelayStatus out;
  Result<eth::Hash32> digest = eth::hash_from_hex(e.digest);
  if (!digest.ok()) return Status::corruption("relay entry with a malformed digest: " + e.digest);
  out.digest = *digest;
  switch (e.state) {
    case RelayEntryState::kReceived:
    case RelayEntryState::kSigned:
      out.state = eth::RelayState::kPending;
      break;
    case RelayEntryState::kSubmitted:
      out.state = eth::RelayState::kSubmitted;
      break;
    case RelayEntryState::kMined:
      out.state = eth::RelayState::kMined;
      break;
    case RelayEntryState::kFailed:
      out.state = eth::RelayState::kFailed;
      break;
  }
  if (!e.tx_hash.empty()) {
    Result<eth::Hash32> tx = eth::hash_from_hex(e.tx_hash);
    if (!tx.ok()) return Status::corruption("relay entry " + e.digest + " with a malformed transaction hash");
    out.tx_hash = *tx;
  }
  if (e.block != 0) {
    out.block = e.block;
    out.gas_used = e.gas_used;
  }
  out.reason = e.reason;
  return out;
}

// The quotes this process gave, per (kind, notes): while one is valid, a bundle paying its fee is
// accepted even if the gas price rose since. Per key the remembered quotes have increasing fees and
// increasing expiries (a newer quote at or below an older one's fee replaces it), so the lowest
// valid fee is the first one that has not expired.
struct Relayer::Quotes {
  struct Given {
    U256 fee;
    std::int64_t valid_until = 0;
  };
  std::mutex mu;
  std::map<std::pair<int, std::size_t>, std::deque<Given>> given;

  static std::pair<int, std::size_t> key(BundleKind kind, std::size_t notes) { return {static_cast<int>(kind), notes}; }

  void remember(BundleKind kind, std::size_t notes, const U256& fee, std::int64_t valid_until) {
    std::lock_guard lock(mu);
    std::deque<Given>& d = given[key(kind, notes)];
    while (!d.empty() && d.back().fee >= fee) d.pop_back();
    d.push_back({fee, valid_until});
  }

  std::optional<U256> lowest_valid(BundleKind kind, std::size_t notes, std::int64_t now) {
    std::lock_guard lock(mu);
    auto it = given.find(key(kind, notes));
    if (it == given.end()) return std::nullopt;
    std::deque<Given>& d = it->second;
    while (!d.empty() && d.front().valid_until < now) d.pop_front();
    if (d.empty()) return std::nullopt;
    return d.front().fee;
  }
};

Relayer::Relayer(RelayStores stores, eth::PoolChain& chain, const eth::PrivateKey& key, RelayConfig config,
                 RelayOptions options)
    : stores_(stores),
      chain_(chain),
      key_(key),
      address_(key.address()),
      sender_(address_.to_hex()),
      config_(std::move(config)),
      options_(options),
      clock_(options_.clock != nullptr ? *options_.clock : Clock::system()),
      metrics_(std::make_unique<RelayMetrics>()),
      quotes_(std::make_unique<Quotes>()) {}

Relayer::~Relayer() = default;

Result<std::unique_ptr<Relayer>> Relayer::open(RelayStores stores, eth::PoolChain& chain, RelayOptions options) {
  BUCKETPAY_ASSIGN_OR_RETURN(RelayConfig config, load_config(stores.settings));
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::PrivateKey key, load_account(stores.secrets));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t chain_id, chain.chain_id());
  if (chain_id != config.chain_id) {
    return Status::failed_precondition("the node is chain " + std::to_string(chain_id) +
                                       ", but this relayer is for chain " + std::to_string(config.chain_id));
  }
  if (chain.pool() != config.pool) {
    return Status::failed_precondition("the chain view is for Pool " + chain.pool().to_checksum() +
                                       ", but this relayer is for Pool " + config.pool.to_checksum());
  }
  return std::make_unique<Relayer>(stores, chain, key, std::move(config), options);
}

std::int64_t Relayer::now_s() { return clock_.unix_ms() / 1000; }

void Relayer::log_line(const std::string& line) {
  if (options_.log == nullptr) return;
  std::lock_guard lock(log_mu_);
  *options_.log << line << std::endl;
}

// ------------------------------------------------------------------------------------- quotes

Result<U256> Relayer::current_fee(BundleKind kind, std::size_t notes, U256* gas_price, std::uint64_t* gas) {
  eth::Fees fees;
  {
    std::lock_guard lock(chain_mu_);
    BUCKETPAY_ASSIGN_OR_RETURN(fees, chain_.fees());
  }
  // What a transaction pays per gas in the next block: its base fee plus the priority fee.
  *gas_price = fees.base_fee_per_gas + fees.max_priority_fee_per_gas;
  *gas = config_.fees.gas.gas(kind, notes);
  return compute_fee(config_.fees, config_.token_decimals, kind, notes, *gas_price);
}

Result<eth::RelayQuote> Relayer::quote(BundleKind kind, std::size_t notes) {
  if (kind == BundleKind::kSplit && notes != 1) return Status::invalid_argument("a split spends exactly 1 note");
  if (notes == 0 || notes > options_.max_notes) {
    return Status::invalid_argument("notes must be 1 to " + std::to_string(options_.max_notes));
  }
  eth::RelayQuote q;
  q.kind = kind;
  q.notes = static_cast<std::uint32_t>(notes);  // at most max_notes (checked above)
  BUCKETPAY_ASSIGN_OR_RETURN(q.fee, current_fee(kind, notes, &q.gas_price, &q.gas));
  q.fee_recipient = address_;
  q.chain_id = config_.chain_id;
  q.pool = config_.pool;
  q.valid_until = now_s() + config_.fees.quote_validity.count();
  quotes_->remember(kind, notes, q.fee, q.valid_until);
  return q;
}

// ------------------------------------------------------------------------------------- submit

Submission Relayer::refuse(Refusal refusal, const Status& why) {
  metrics_->refused(refusal);
  Submission s;
  s.outcome = Submission::Outcome::kRefused;
  s.refusal = refusal;
  s.status = why;
  return s;
}

Submission Relayer::submit(std::string_view body) {
  Result<eth::RelayBundle> parsed = eth::decode_bundle(body);
  if (!parsed.ok()) {
    metrics_->received("unknown");
    return refuse(Refusal::kMalformed, parsed.status());
  }
  const eth::RelayBundle& b = *parsed;
  metrics_->received(eth::bundle_kind_name(b.kind));
  if (b.notes() > options_.max_notes) {
    return refuse(Refusal::kMalformed, Status::invalid_argument("spends: this relayer takes 1 to " +
                                                                std::to_string(options_.max_notes) + " spends"));
  }
  if (b.chain_id != config_.chain_id) {
    return refuse(Refusal::kWrongChain,
                  Status::failed_precondition("chain_id " + std::to_string(b.chain_id) +
                                              " is not this relayer's chain " + std::to_string(config_.chain_id)));
  }
  if (b.pool != config_.pool) {
    return refuse(Refusal::kWrongPool,
                  Status::failed_precondition("pool " + b.pool.to_checksum() + " is not this relayer's Pool " +
                                              config_.pool.to_checksum()));
  }
  const eth::Hash32 digest = b.digest();
  const std::string digest_hex = eth::to_hex(digest);
  // One transaction per digest, ever: a digest seen before answers what became of it.
  Result<std::optional<RelayEntry>> seen = stores_.journal.get_relay(digest_hex);
  if (!seen.ok()) return error(seen.status());
  if (*seen) return known(std::move(**seen));

  if (std::optional<Submission> refused = check(b, digest)) return *refused;
  Result<eth::Bytes> calldata = b.calldata();
  if (!calldata.ok()) return refuse(Refusal::kMalformed, calldata.status());
  Result<std::uint64_t> limit = gas_limit(b, *calldata);
  if (!limit.ok()) {
    if (limit.status().code() == StatusCode::kFailedPrecondition) return refuse(Refusal::kReverted, limit.status());
    return error(limit.status());
  }

  RelayEntry entry;
  entry.digest = digest_hex;
  entry.kind = std::string(eth::bundle_kind_name(b.kind));
  entry.bundle = eth::encode_bundle(b);
  entry.fee = b.payment.fee.to_decimal();
  entry.sender = sender_;
  entry.deadline = b.payment.deadline.low_u64();
  entry.created_ms = clock_.unix_ms();
  if (Status begun = stores_.journal.begin_relay(entry); !begun.is_ok()) {
    if (begun.code() != StatusCode::kAlreadyExists) return error(begun);
    // The same bundle posted twice at once: the other request recorded it first.
    Result<std::optional<RelayEntry>> other = stores_.journal.get_relay(digest_hex);
    if (!other.ok()) return error(other.status());
    if (*other) return known(std::move(**other));
    return error(Status::internal("relay entry " + digest_hex + " exists and cannot be read"));
  }
  log_line("received " + digest_hex + ": " + kind_and_size(b.kind, b.notes()) + ", fee " + entry.fee);
  return send_entry(entry, b, *limit);
}

std::optional<Submission> Relayer::preflight(const eth::RelayBundle& bundle, bool simulate) {
  if (bundle.notes() > options_.max_notes) {
    return refuse(Refusal::kMalformed, Status::invalid_argument("spends: this relayer takes 1 to " +
                                                                std::to_string(options_.max_notes) + " spends"));
  }
  if (bundle.chain_id != config_.chain_id) {
    return refuse(Refusal::kWrongChain, Status::failed_precondition("chain_id " + std::to_string(bundle.chain_id) +
                                                                    " is not this relayer's chain"));
  }
  if (bundle.pool != config_.pool) {
    return refuse(Refusal::kWrongPool,
                  Status::failed_precondition("pool " + bundle.pool.to_checksum() + " is not this relayer's Pool"));
  }
  return check(bundle, bundle.digest(), simulate);
}

Result<std::optional<RelayEntry>> Relayer::refresh(std::string_view digest) {
  BUCKETPAY_ASSIGN_OR_RETURN(std::optional<RelayEntry> e, status(digest));
  if (!e || e->state == RelayEntryState::kMined || e->state == RelayEntryState::kFailed) return e;
  BUCKETPAY_RETURN_IF_ERROR((e->state == RelayEntryState::kReceived ? resume_received(*e) : settle(*e)).status());
  return status(digest);
}

Result<std::vector<RelayEntry>> Relayer::open_entries() { return stores_.journal.list_open_relays(); }

Result<eth::Address> Relayer::token() {
  std::lock_guard lock(chain_mu_);
  return chain_.token();
}

std::optional<Submission> Relayer::check(const eth::RelayBundle& b, const eth::Hash32& digest, bool simulate) {
  const eth::Payment& p = b.payment;
  if (p.fee_recipient != address_) {
    return refuse(Refusal::kWrongFeeRecipient,
                  Status::failed_precondition("payment.fee_recipient " + p.fee_recipient.to_checksum() +
                                              " is not this relayer's account " + address_.to_checksum()));
  }

  const std::size_t n = b.notes();
  const std::optional<U256> remembered = quotes_->lowest_valid(b.kind, n, now_s());
  if (!remembered || p.fee < *remembered) {
    U256 gas_price;
    std::uint64_t gas = 0;
    Result<U256> current = current_fee(b.kind, n, &gas_price, &gas);
    if (!current.ok()) return error(current.status().with_context("quoting the fee"));
    const U256 floor = remembered ? std::min(*remembered, *current) : *current;
    if (p.fee < floor) {
      return refuse(Refusal::kFeeBelowQuote,
                    Status::failed_precondition("payment.fee " + p.fee.to_decimal() + " is below the quote " +
                                                floor.to_decimal() + " for " + kind_and_size(b.kind, n) +
                                                " (GET /v1/relay/quote)"));
    }
  }
  const std::optional<U256> withdrawn = U256::checked_mul(b.value_units(), config_.unit);
  if (!withdrawn || p.fee > *withdrawn) {
    return refuse(Refusal::kFeeAboveValue,
                  Status::failed_precondition("payment.fee " + p.fee.to_decimal() + " is more than the " +
                                              b.value_units().to_decimal() + " cents the bundle withdraws"));
  }

  const std::int64_t now = now_s();
  const std::int64_t earliest = now + options_.deadline_margin.count();
  if (p.deadline < U256(static_cast<std::uint64_t>(std::max<std::int64_t>(earliest, 0)))) {
    return refuse(Refusal::kDeadline,
                  Status::failed_precondition("payment.deadline " + p.deadline.to_decimal() + " is less than " +
                                              std::to_string(options_.deadline_margin.count()) + " s after now (" +
                                              std::to_string(now) + ")"));
  }

  const std::vector<U256> proofs = b.proof_nullifiers();
  const char* proof_field = b.kind == BundleKind::kSplit ? "split" : "spends";
  if (p.nullifiers.size() != proofs.size()) {
    return refuse(Refusal::kNullifierMismatch,
                  Status::failed_precondition("payment.nullifiers has " + std::to_string(p.nullifiers.size()) +
                                              " entries for " + std::to_string(proofs.size()) + " proofs"));
  }
  for (std::size_t i = 0; i < proofs.size(); ++i) {
    if (p.nullifiers[i] != proofs[i]) {
      const std::string field = b.kind == BundleKind::kSplit
                                    ? "split.nullifier"
                                    : std::string(proof_field) + "[" + std::to_string(i) + "].nullifier";
      return refuse(Refusal::kNullifierMismatch,
                    Status::failed_precondition("payment.nullifiers[" + std::to_string(i) + "] is not " + field));
    }
  }
  std::map<U256, std::size_t> first_seen;
  for (std::size_t i = 0; i < proofs.size(); ++i) {
    auto [it, fresh] = first_seen.emplace(proofs[i], i);
    if (!fresh) {
      return refuse(Refusal::kDuplicateNullifier,
                    Status::failed_precondition("nullifier " + eth::to_hex(proofs[i].to_word()) +
                                                " is spent twice in the bundle (notes " + std::to_string(it->second) +
                                                " and " + std::to_string(i) + ")"));
    }
  }

  const std::vector<eth::Address> auths = b.proof_auths();
  for (std::size_t i = 0; i < auths.size(); ++i) {
    const std::string field =
        b.kind == BundleKind::kSplit ? "split.auth" : std::string(proof_field) + "[" + std::to_string(i) + "].auth";
    Result<eth::Address> signer = eth::recover_signer(digest, b.signatures[i]);
    if (!signer.ok()) {
      return refuse(Refusal::kBadSignature,
                    Status::failed_precondition("signatures[" + std::to_string(i) + "]: " + signer.status().message()));
    }
    if (*signer != auths[i]) {
      return refuse(Refusal::kBadSignature,
                    Status::failed_precondition("signatures[" + std::to_string(i) + "] recovers to " +
                                                signer->to_checksum() + ", not " + field + " " +
                                                auths[i].to_checksum() + " (a signature of another payment?)"));
    }
  }

  Result<eth::Bytes> calldata = b.calldata();
  if (!calldata.ok()) return refuse(Refusal::kMalformed, calldata.status());
  if (!simulate) return std::nullopt;
  Status simulated;
  {
    std::lock_guard lock(chain_mu_);
    simulated = chain_.simulate(address_, b.function(), *calldata);
  }
  if (!simulated.is_ok()) {
    if (simulated.code() == StatusCode::kFailedPrecondition) return refuse(Refusal::kReverted, simulated);
    return error(simulated.with_context("simulating the transaction"));
  }
  return std::nullopt;
}

Result<std::uint64_t> Relayer::gas_limit(const eth::RelayBundle& b, std::span<const std::uint8_t> calldata) {
  Result<std::uint64_t> gas = Status::internal("not estimated");
  {
    std::lock_guard lock(chain_mu_);
    gas = chain_.estimate_gas(address_, config_.pool, calldata);
  }
  if (!gas.ok()) return gas.status().with_context("estimating the gas of Pool." + std::string(b.function()));
  return *gas + *gas * options_.gas_limit_margin_percent / 100;
}

// -------------------------------------------------------------------------------------- sending

Result<std::uint64_t> Relayer::next_nonce() {
  std::uint64_t next = 0;
  {
    std::lock_guard lock(chain_mu_);
    BUCKETPAY_ASSIGN_OR_RETURN(next, chain_.nonce(address_, eth::PoolChain::NonceKind::kPending));
  }
  // A journaled transaction the node does not hold (not sent yet, or dropped) keeps its nonce: it
  // will be sent again, and nothing else may take its place.
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<RelayEntry> open, stores_.journal.list_open_relays());
  for (const RelayEntry& e : open) {
    if (e.sender == sender_ && e.nonce && e.state != RelayEntryState::kReceived) next = std::max(next, *e.nonce + 1);
  }
  return next;
}

Submission Relayer::send_entry(const RelayEntry& entry, const eth::RelayBundle& b, std::uint64_t gas_limit) {
  // From reading the nonce until the node has the transaction, no other process signs for this
  // account.
  auto lock = stores_.locks.lock("relay-sender-" + sender_, options_.sender_lock_timeout);
  if (!lock.ok()) {
    return error(lock.status().with_context("waiting for the account's sender lock (another relayer process)"), entry);
  }
  Result<std::optional<RelayEntry>> now = stores_.journal.get_relay(entry.digest);
  if (!now.ok()) return error(now.status(), entry);
  if (!*now) return error(Status::internal("relay entry " + entry.digest + " vanished"));
  if ((*now)->state != RelayEntryState::kReceived) return known(std::move(**now));  // another process sent it

  Result<eth::Bytes> calldata = b.calldata();
  if (!calldata.ok()) return error(calldata.status(), entry);
  eth::Fees fees;
  {
    std::lock_guard chain_lock(chain_mu_);
    Result<eth::Fees> f = chain_.fees();
    if (!f.ok()) return error(f.status().with_context("reading the gas price"), entry);
    fees = *f;
  }
  Result<std::uint64_t> nonce = next_nonce();
  if (!nonce.ok()) return error(nonce.status().with_context("reading the account's nonce"), entry);
  eth::Eip1559Tx tx;
  tx.chain_id = config_.chain_id;
  tx.nonce = *nonce;
  tx.max_priority_fee_per_gas = fees.max_priority_fee_per_gas;
  tx.max_fee_per_gas = fees.max_fee_per_gas;
  tx.gas_limit = gas_limit;
  tx.to = config_.pool;
  tx.data = std::move(calldata).value();
  eth::SignedTransaction signed_tx;
  signed_tx.raw = eth::sign_transaction(tx, key_);
  signed_tx.hash = eth::keccak256(signed_tx.raw);
  signed_tx.nonce = tx.nonce;
  signed_tx.gas_limit = gas_limit;
  const std::string tx_hash = eth::to_hex(signed_tx.hash);

  // Recorded before it is broadcast: after a crash, these very bytes are what gets sent.
  if (Status st = stores_.journal.record_relay_signed(entry.digest, tx_hash, signed_tx.raw, signed_tx.nonce);
      !st.is_ok()) {
    if (st.code() == StatusCode::kFailedPrecondition) {
      Result<std::optional<RelayEntry>> other = stores_.journal.get_relay(entry.digest);
      if (other.ok() && *other) return known(std::move(**other));
    }
    return error(st, entry);
  }
  log_line("signed " + entry.digest + " as " + tx_hash + " (nonce " + std::to_string(signed_tx.nonce) + ")");
  Result<eth::Hash32> sent = Status::internal("not sent");
  {
    std::lock_guard chain_lock(chain_mu_);
    sent = chain_.send_raw_transaction(signed_tx);
  }
  lock->reset();

  if (sent.ok()) {
    if (Status st = stores_.journal.mark_relay_submitted(entry.digest);
        !st.is_ok() && st.code() != StatusCode::kFailedPrecondition) {
      return error(st, entry);
    }
    metrics_->submitted();
    log_line("submitted " + entry.digest + " as " + tx_hash);
    Result<std::optional<RelayEntry>> after = stores_.journal.get_relay(entry.digest);
    if (!after.ok() || !*after) return error(after.ok() ? Status::internal("entry vanished") : after.status(), entry);
    Submission s;
    s.outcome = Submission::Outcome::kSubmitted;
    s.entry = std::move(**after);
    return s;
  }
  if (!refused_by_node(sent.status())) {
    // The node may or may not have it: the journal keeps it signed, and poll() sends it again.
    log_line("sending " + entry.digest + " is unconfirmed (" + sent.status().message() + "); it will be sent again");
    Result<std::optional<RelayEntry>> signed_entry = stores_.journal.get_relay(entry.digest);
    return error(Status::unavailable("the transaction " + tx_hash +
                                     " is signed and journaled, but the node did not confirm it (" +
                                     sent.status().message() + "); the relayer will send it again"),
                 signed_entry.ok() && *signed_entry ? **signed_entry : entry);
  }
  // The node refused it, so it never reached the chain: the entry fails and its nonce is free again.
  const std::string reason = "not sent: the node refused the transaction: " + sent.status().message();
  if (Status st = stores_.journal.fail_relay(entry.digest, RelayEntryState::kSigned, reason, 0, 0); !st.is_ok()) {
    return error(st, entry);
  }
  metrics_->failed(0, U256(), U256());
  log_line("failed " + entry.digest + ": " + reason);
  Result<std::optional<RelayEntry>> failed = stores_.journal.get_relay(entry.digest);
  return error(Status::unavailable(reason),
               failed.ok() && *failed ? std::optional<RelayEntry>(**failed) : std::optional<RelayEntry>(entry));
}

// ---------------------------------------------------------------------------------------- status

Result<std::optional<RelayEntry>> Relayer::status(std::string_view digest) {
  Result<eth::Hash32> h = eth::hash_from_hex(digest);
  if (!h.ok()) return Status::invalid_argument("a payment digest is 0x + 64 hex digits");
  return stores_.journal.get_relay(eth::to_hex(*h));
}

Status Relayer::health() {
  std::lock_guard lock(chain_mu_);
  Result<std::uint64_t> head = chain_.head();
  if (!head.ok()) return head.status().with_context("the node");
  return Status::ok();
}

std::string Relayer::metrics_text() {
  Result<RelayCounts> counts = stores_.journal.relay_counts();
  return metrics_->render(counts.ok() ? *counts : RelayCounts{});
}

void Relayer::count_request(std::string_view route, int status) { metrics_->request(route, status); }

void Relayer::count_too_large() {
  metrics_->received("unknown");
  metrics_->refused(Refusal::kTooLarge);
}

// ------------------------------------------------------------------------------------- settling

Result<std::size_t> Relayer::poll() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<RelayEntry> open, stores_.journal.list_open_relays());
  std::size_t changed = 0;
  Status first_failure;
  for (const RelayEntry& e : open) {
    if (e.sender != sender_) continue;  // another account's entries are its own relayer's
    Result<bool> r = e.state == RelayEntryState::kReceived ? resume_received(e) : settle(e);
    if (!r.ok()) {
      // One entry the node cannot answer for must not hold up the others.
      log_line("settling " + e.digest + ": " + r.status().message());
      if (first_failure.is_ok()) first_failure = r.status().with_context("relay entry " + e.digest);
      continue;
    }
    if (*r) ++changed;
  }
  if (!first_failure.is_ok() && changed == 0) return first_failure;
  return changed;
}

Result<bool> Relayer::settle(const RelayEntry& e) {
  Result<eth::Hash32> hash = eth::hash_from_hex(e.tx_hash);
  if (!hash.ok() || !e.nonce) return Status::corruption("relay entry " + e.digest + " has no transaction on record");
  std::optional<eth::Receipt> receipt;
  std::uint64_t head = 0;
  {
    std::lock_guard lock(chain_mu_);
    BUCKETPAY_ASSIGN_OR_RETURN(receipt, chain_.receipt(*hash));
    if (receipt && options_.confirmations > 1) {
      BUCKETPAY_ASSIGN_OR_RETURN(head, chain_.head());
    }
  }
  if (receipt) {
    if (options_.confirmations > 1 && head + 1 < receipt->block_number + options_.confirmations) {
      if (e.state == RelayEntryState::kSigned) return stores_.journal.mark_relay_submitted(e.digest).is_ok();
      return false;  // mined, but not deep enough yet
    }
    const U256 wei = receipt->fee();
    if (receipt->success) {
      Status st = stores_.journal.mark_relay_mined(e.digest, receipt->block_number, receipt->gas_used);
      if (st.code() == StatusCode::kFailedPrecondition) return false;  // another process settled it
      BUCKETPAY_RETURN_IF_ERROR(st);
      Result<U256> fee = U256::from_string(e.fee);
      metrics_->mined(fee.ok() ? *fee : U256(), receipt->gas_used, wei);
      log_line("mined " + e.digest + " in block " + std::to_string(receipt->block_number) + " (gas " +
               std::to_string(receipt->gas_used) + ")");
      return true;
    }
    const std::string why =
        "reverted: " + (receipt->revert_reason ? receipt->revert_reason->message : std::string("no reason given"));
    return settle_by_chain_truth(e, why, receipt->block_number, receipt->gas_used, wei);
  }

  std::optional<eth::Transaction> tx;
  std::uint64_t mined_nonce = 0;
  {
    std::lock_guard lock(chain_mu_);
    BUCKETPAY_ASSIGN_OR_RETURN(tx, chain_.transaction(*hash));
    if (!tx) {
      BUCKETPAY_ASSIGN_OR_RETURN(mined_nonce, chain_.nonce(address_, eth::PoolChain::NonceKind::kMined));
    }
  }
  if (tx) {
    // The node has it, waiting to be mined.
    if (e.state == RelayEntryState::kSigned) return stores_.journal.mark_relay_submitted(e.digest).is_ok();
    return false;
  }
  if (mined_nonce > *e.nonce) {
    return settle_by_chain_truth(e, "never mined: its nonce was used by another transaction", 0, 0, U256());
  }
  // The node never got it, or dropped it: the very same bytes again (same nonce, same hash: it
  // cannot be mined twice). Under the sender lock: the request that signed it holds that lock until
  // the node has it, so a signed entry is not sent a second time while its first send is under way.
  auto lock = stores_.locks.lock("relay-sender-" + sender_, options_.sender_lock_timeout);
  if (!lock.ok()) return lock.status().with_context("waiting for the account's sender lock");
  {
    std::lock_guard chain_lock(chain_mu_);
    BUCKETPAY_ASSIGN_OR_RETURN(tx, chain_.transaction(*hash));
  }
  if (tx) {
    if (e.state == RelayEntryState::kSigned) return stores_.journal.mark_relay_submitted(e.digest).is_ok();
    return false;
  }
  const eth::SignedTransaction again{e.raw_tx, *hash, *e.nonce, 0};
  Result<eth::Hash32> sent = Status::internal("not sent");
  {
    std::lock_guard chain_lock(chain_mu_);
    sent = chain_.send_raw_transaction(again);
  }
  if (!sent.ok()) return sent.status().with_context("sending " + e.tx_hash + " again");
  metrics_->sent_again();
  log_line("sent " + e.digest + " again as " + e.tx_hash + " (the node did not have it)");
  if (e.state == RelayEntryState::kSigned) {
    Status st = stores_.journal.mark_relay_submitted(e.digest);
    if (!st.is_ok() && st.code() != StatusCode::kFailedPrecondition) return st;
  }
  return true;
}

Result<bool> Relayer::settle_by_chain_truth(const RelayEntry& e, const std::string& why, std::uint64_t block,
                                            std::uint64_t gas_used, const U256& wei) {
  Result<eth::RelayBundle> b = eth::decode_bundle(e.bundle);
  if (!b.ok()) return Status::corruption("relay entry " + e.digest + " holds a bundle that does not parse");
  std::vector<eth::PoolEvent> events;
  {
    std::lock_guard lock(chain_mu_);
    BUCKETPAY_ASSIGN_OR_RETURN(events, chain_.spends_of(b->payment.nullifiers, config_.start_block));
  }
  // Paid by someone else's copy: every nullifier spent by a Spent event that carries this digest.
  const eth::Hash32 digest = b->digest();
  std::set<U256> paid;
  std::optional<eth::Hash32> paid_by;
  for (const eth::PoolEvent& ev : events) {
    if (ev.kind != eth::PoolEvent::Kind::kSpent || ev.spent.payment != digest) continue;
    paid.insert(ev.spent.nullifier);
    paid_by = ev.transaction_hash;
  }
  const bool paid_elsewhere =
      paid_by && paid.size() == b->payment.nullifiers.size() && eth::to_hex(*paid_by) != e.tx_hash;
  const std::string reason = paid_elsewhere ? "paid by " + eth::to_hex(*paid_by) : why;
  Status st = stores_.journal.fail_relay(e.digest, e.state, reason, block, gas_used);
  if (st.code() == StatusCode::kFailedPrecondition) return false;  // another process settled it
  BUCKETPAY_RETURN_IF_ERROR(st);
  // A copy paid the payment's fee to its fee_recipient: this relayer's account (checked on receipt).
  metrics_->failed(gas_used, wei, paid_elsewhere ? b->payment.fee : U256());
  log_line("failed " + e.digest + ": " + reason);
  return true;
}

Result<bool> Relayer::resume_received(const RelayEntry& e) {
  // Another process (or this one) may be between recording and signing it: only an entry older than
  // any request takes is a crash's leftover.
  if (clock_.unix_ms() - e.created_ms < options_.received_grace.count()) return false;
  Result<eth::RelayBundle> b = eth::decode_bundle(e.bundle);
  if (!b.ok()) return Status::corruption("relay entry " + e.digest + " holds a bundle that does not parse");
  if (b->payment.deadline < U256(static_cast<std::uint64_t>(now_s() + options_.deadline_margin.count()))) {
    Status st = stores_.journal.fail_relay(e.digest, RelayEntryState::kReceived,
                                           "not sent: its deadline was too close when the relayer resumed it", 0, 0);
    if (st.code() == StatusCode::kFailedPrecondition) return false;
    BUCKETPAY_RETURN_IF_ERROR(st);
    metrics_->failed(0, U256(), U256());
    return true;
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Bytes calldata, b->calldata());
  Status simulated;
  {
    std::lock_guard lock(chain_mu_);
    simulated = chain_.simulate(address_, b->function(), calldata);
  }
  if (simulated.code() == StatusCode::kFailedPrecondition) {
    return settle_by_chain_truth(e, "not sent: " + simulated.message(), 0, 0, U256());
  }
  BUCKETPAY_RETURN_IF_ERROR(simulated);
  BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t limit, gas_limit(*b, calldata));
  log_line("resuming " + e.digest + " (received, never signed)");
  const Submission s = send_entry(e, *b, limit);
  if (s.outcome == Submission::Outcome::kError && (!s.entry || s.entry->state == RelayEntryState::kReceived)) {
    return s.status;
  }
  return true;
}

}  // namespace bucketpay::relay
