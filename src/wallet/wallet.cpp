#include "bucketpay/wallet.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include "bucketpay/circuit_inputs.h"
#include "bucketpay/note.h"
#include "bucketpay/planner.h"
#include "wallet/pool_errors.h"

namespace bucketpay {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kEthKeySecret = "eth_key";
// Remembered blocks searched for the fork point of a reorganisation.
constexpr std::size_t kReorgSearch = 1024;
// spendBatch gas: the measured cost is ~745k-801k per proof (docs/gas.md); the limit leaves room.
constexpr std::uint64_t kSpendBatchBaseGas = 150'000;
constexpr std::uint64_t kSpendGasPerProof = 950'000;
constexpr std::uint64_t kSplitGas = 1'500'000;
// Notes per payment: what fits a 30M-gas block with kSpendGasPerProof each.
constexpr std::size_t kMaxNotesPerPayment = 30;
// Notes per deposit: depositMany costs ~47k gas per note.
constexpr std::size_t kMaxNotesPerDeposit = 400;
constexpr std::size_t kMaxSplitsPerRound = 16;
// How long a payment may stay reserved but unsigned before recover() takes it for a crash's
// leftover and releases its notes: longer than any on-demand proof (the prover's timeout is 120 s).
constexpr std::int64_t kPreparedGraceMs = 5 * 60 * 1000;
// How long a sender waits for another process's transaction to reach the node.
constexpr std::chrono::milliseconds kSenderLockTimeout{30'000};

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

eth::U256 to_u256(const Fr& f) { return eth::U256::from_word(f.to_bytes()); }

Result<Fr> to_fr(const eth::U256& u) { return Fr::from_bytes(u.to_word()); }

Fr address_fr(const eth::Address& a) { return Fr::from_bytes_reduce(a.to_word()); }

std::string fr_key(const Fr& f) { return f.to_hex(); }

bool is_denomination(Cents v) { return std::has_single_bit(v) && v <= kBuckets.back(); }

std::size_t bucket_of(Cents v) { return static_cast<std::size_t>(std::countr_zero(v)); }

// The notes that have a spend proof ready for `recipient`.
Result<std::set<std::int64_t>> notes_ready_for(Store& store, const Fr& recipient) {
  auto pre = store.list_precomputes_by_circuit("spend");
  if (!pre.ok()) return pre.status();
  std::set<std::int64_t> ready;
  for (const Precompute& p : *pre) {
    if (p.recipient == recipient) ready.insert(p.note_id);
  }
  return ready;
}

}  // namespace

Wallet::Wallet(Store& store, std::string name, WalletOptions options, WalletConfig config, const Fr& sk)
    : store_(store),
      name_(std::move(name)),
      options_(std::move(options)),
      config_(std::move(config)),
      sk_(sk),
      pk_(bucketpay::owner_key(SpendingKey::from_fr(sk))) {}

Wallet::~Wallet() = default;

Status Wallet::create(Store& store, std::string_view name, const WalletConfig& config) {
  if (store.get_spending_key(name).ok()) {
    return Status::already_exists("wallet \"" + std::string(name) + "\" already has a key");
  }
  if (!store.has_vault()) return Status::failed_precondition("a wallet's keys need a store with a passphrase");
  // The account key: 32 random bytes that make a valid secp256k1 key (almost always the first).
  std::array<std::uint8_t, 32> key{};
  for (;;) {
    randombytes_buf(key.data(), key.size());
    if (eth::PrivateKey::from_bytes(key).ok()) break;
  }
  Status st = save_config(store, name, config);
  if (st.is_ok()) st = store.put_secret(name, kEthKeySecret, key);
  sodium_memzero(key.data(), key.size());
  if (!st.is_ok()) return st;
  // The spending key last: a wallet exists once it has one.
  return store.put_spending_key(name, SpendingKey::generate().reveal());
}

Result<std::unique_ptr<Wallet>> Wallet::open(Store& store, std::string name, WalletOptions options) {
  auto config = load_config(store, name);
  if (!config.ok()) return config.status().with_context("wallet " + name);
  auto sk = store.get_spending_key(name);
  if (!sk.ok()) return sk.status().with_context("wallet " + name);
  auto key_bytes = store.get_secret(name, kEthKeySecret);
  if (!key_bytes.ok()) return key_bytes.status().with_context("wallet " + name + ": account key");
  if (key_bytes->size() != 32) return Status::corruption("wallet " + name + ": malformed account key");
  auto key = eth::PrivateKey::from_bytes(std::span<const std::uint8_t, 32>(key_bytes->data(), 32));
  sodium_memzero(key_bytes->data(), key_bytes->size());
  if (!key.ok()) return key.status();
  std::unique_ptr<Wallet> w(new Wallet(store, name, std::move(options), std::move(*config), *sk));
  if (Status st = w->connect(*key); !st.is_ok()) return st;
  if (Status st = w->reload_tree(); !st.is_ok()) return st;
  auto settled = w->recover();
  if (!settled.ok()) return settled.status().with_context("settling the payments journal");
  return w;
}

Status Wallet::connect(const eth::PrivateKey& account_key) {
  eth::RpcOptions ro;
  ro.url = config_.rpc_url;
  ro.error_signatures = pool_error_signatures();
  auto rpc = eth::Rpc::connect(ro);
  if (!rpc.ok()) return rpc.status();
  rpc_ = std::move(*rpc);
  eth::WalletOptions wo;
  wo.receipt_timeout = options_.receipt_timeout;
  signer_ = std::make_unique<eth::Wallet>(*rpc_, account_key, wo);
  pool_ = std::make_unique<eth::PoolClient>(*rpc_, *signer_, config_.pool, pool_error_signatures());
  auto unit = pool_->unit();
  if (!unit.ok()) return unit.status().with_context("reading the Pool at " + config_.pool.to_hex() + " (UNIT)");
  unit_ = *unit;
  auto token = pool_->token();
  if (!token.ok()) return token.status().with_context("reading the Pool's token");
  token_ = std::make_unique<eth::TokenClient>(*rpc_, *signer_, *token);
  return Status::ok();
}

Status Wallet::reload_tree() {
  auto leaves = store_.load_leaves();
  if (!leaves.ok()) return leaves.status();
  tree_ = MerkleTree();
  auto appended = tree_.append_many(*leaves);
  return appended.ok() ? Status::ok() : appended.status();
}

Result<ProverPool*> Wallet::prover() {
  if (prover_) return prover_.get();
  if (!options_.start_prover) return Status::failed_precondition("this command has no prover");
  auto pool = options_.start_prover();
  if (!pool.ok()) return pool.status();
  prover_ = std::move(*pool);
  return prover_.get();
}

Result<std::int64_t> Wallet::insert_pending(const Note& note) {
  StoredNote sn;
  sn.wallet = name_;
  sn.pk = note.pk;
  sn.value = note.value;
  sn.r = note.r;
  sn.commitment = note.commitment();
  return store_.insert_note(sn);
}

Result<Fr> Wallet::note_nullifier(const StoredNote& note) const {
  return nullifier(SpendingKey::from_fr(sk_), note.commitment);
}

// ------------------------------------------------------------------------------------------ sync

Result<SyncReport> Wallet::sync() {
  SyncReport report;
  auto head = rpc_->block_number();
  if (!head.ok()) return head.status();
  auto cursor = store_.sync_cursor();
  if (!cursor.ok()) return cursor.status();

  if (cursor->has_value()) {
    const BlockRef at = **cursor;
    auto block = rpc_->get_block(eth::BlockId::number(at.number));
    if (!block.ok()) return block.status();
    if (!block->has_value() || (*block)->hash != at.hash) {
      // A reorganisation below the cursor: find the newest remembered block still on the chain.
      auto recent = store_.recent_blocks(kReorgSearch);
      if (!recent.ok()) return recent.status();
      std::optional<BlockRef> fork;
      for (const BlockRef& b : *recent) {
        auto h = rpc_->get_block(eth::BlockId::number(b.number));
        if (!h.ok()) return h.status();
        if (h->has_value() && (*h)->hash == b.hash) {
          fork = b;
          break;
        }
      }
      if (!fork) {
        // Nothing remembered survives: start over from before the Pool's deployment.
        const std::uint64_t n = config_.start_block > 0 ? config_.start_block - 1 : 0;
        auto h = rpc_->get_block(eth::BlockId::number(n));
        if (!h.ok()) return h.status();
        if (!h->has_value()) return Status::failed_precondition("the node has no block " + std::to_string(n));
        fork = BlockRef{n, (*h)->hash};
      }
      auto proofs_before = store_.count_precomputes();
      if (!proofs_before.ok()) return proofs_before.status();
      if (Status st = store_.rollback_chain(*fork); !st.is_ok())
        return st.with_context("rolling back a reorganisation");
      report.reorg_depth = at.number - fork->number;
      if (Status st = reload_tree(); !st.is_ok()) return st;
      auto proofs_after = store_.count_precomputes();
      if (!proofs_after.ok()) return proofs_after.status();
      report.precomputes_dropped = static_cast<std::size_t>(*proofs_before - *proofs_after);
      cursor = store_.sync_cursor();
      if (!cursor.ok()) return cursor.status();
    }
  }

  // Proofs made under a root that is gone (a reorganisation; also one that a crash interrupted
  // after its rollback) can never be accepted: drop them, the next inventory run proves again.
  auto dropped = drop_proofs_under_unknown_roots();
  if (!dropped.ok()) return dropped.status();
  report.precomputes_dropped += *dropped;

  const std::uint64_t confirmed = *head >= config_.confirmations ? *head - config_.confirmations : 0;
  std::uint64_t from = cursor->has_value() ? (*cursor)->number + 1 : config_.start_block;
  report.to_block = cursor->has_value() ? (*cursor)->number : 0;
  if (from <= confirmed) report.from_block = from;

  if (from <= confirmed) {
    auto notes = store_.list_notes(name_, std::nullopt);
    if (!notes.ok()) return notes.status();
    std::unordered_map<std::string, std::int64_t> pending_by_cm;
    std::unordered_map<std::string, std::int64_t> by_nullifier;
    for (const StoredNote& n : *notes) {
      if (n.state == NoteState::kSpent) continue;
      if (n.state == NoteState::kPending) pending_by_cm.emplace(fr_key(n.commitment), n.id);
      auto nf = note_nullifier(n);
      if (!nf.ok()) return nf.status();
      by_nullifier.emplace(fr_key(*nf), n.id);
    }
    // Payments confirmed from their receipt in blocks the sync has not reached yet: a reorganisation
    // that stays above the cursor can still take them away, so each is checked against the events
    // of its block's range below.
    auto confirmed_payments = store_.list_payments(name_, PaymentState::kConfirmed);
    if (!confirmed_payments.ok()) return confirmed_payments.status();
    std::erase_if(*confirmed_payments, [&](const Payment& p) { return p.block < from; });
    while (from <= confirmed) {
      const std::uint64_t to = std::min(confirmed, from + config_.log_range - 1);
      auto events = pool_->events(from, to);
      if (!events.ok()) return events.status().with_context("reading the Pool's events");
      // Every Pool transaction leaves events: a payment without any in the range that should hold
      // its block was reorganised away. Reopened before the cursor moves past it (a crash in
      // between reads the range again), it is looked up, sent again or failed by recover() below.
      std::set<std::string> tx_hashes;
      for (const eth::PoolEvent& ev : *events) tx_hashes.insert(eth::to_hex(ev.transaction_hash));
      for (const Payment& p : *confirmed_payments) {
        if (p.block < from || p.block > to || tx_hashes.count(p.tx_hash) != 0) continue;
        if (Status st = store_.reopen_payment(p.id); !st.is_ok()) return st;
        ++report.payments_reopened;
      }
      ChainUpdate update;
      const std::uint64_t first_leaf = tree_.size();
      auto fail = [&](Status st) -> Status {
        // The tree may hold leaves of the failed step: rebuild it from the store.
        Status reload = reload_tree();
        return reload.is_ok() ? st : reload;
      };
      std::map<std::uint64_t, eth::Hash32> event_blocks;
      std::vector<Fr> tx_leaves;  // the current transaction's leaves, not yet in the tree
      for (std::size_t i = 0; i < events->size(); ++i) {
        const eth::PoolEvent& ev = (*events)[i];
        event_blocks.emplace(ev.block_number, ev.block_hash);
        if (ev.kind == eth::PoolEvent::Kind::kInserted) {
          const std::uint64_t expected = first_leaf + update.leaves.size();
          if (ev.inserted.leaf_index != expected) {
            return fail(Status::corruption("Pool event: leaf " + std::to_string(ev.inserted.leaf_index) +
                                           " inserted, the wallet expected leaf " + std::to_string(expected)));
          }
          auto leaf = to_fr(ev.inserted.commitment);
          auto root = to_fr(ev.inserted.root);
          if (!leaf.ok() || !root.ok()) return fail(Status::corruption("Pool event: a value is not a field element"));
          tx_leaves.push_back(*leaf);
          update.leaves.push_back(ChainLeaf{expected, *leaf, ev.block_number, *root});
          if (auto it = pending_by_cm.find(fr_key(*leaf)); it != pending_by_cm.end()) {
            update.note_leaves.push_back({it->second, expected});
            pending_by_cm.erase(it);
            ++report.notes_landed;
          }
          // The event's root is the root after its whole transaction: check it at the last insert.
          const bool last_of_tx = i + 1 == events->size() || (*events)[i + 1].kind != eth::PoolEvent::Kind::kInserted ||
                                  (*events)[i + 1].transaction_hash != ev.transaction_hash;
          if (last_of_tx) {
            // A transaction's leaves go in together: the tree hashes each level of them in one batch.
            if (auto idx = tree_.append_many(tx_leaves); !idx.ok()) return fail(idx.status());
            tx_leaves.clear();
            if (tree_.root() != *root) {
              return fail(Status::corruption("the Pool's root after leaf " + std::to_string(expected) +
                                             " differs from the wallet's tree"));
            }
          }
        } else {
          const eth::U256& nf = ev.kind == eth::PoolEvent::Kind::kSpent ? ev.spent.nullifier : ev.split.nullifier;
          auto f = to_fr(nf);
          if (!f.ok()) continue;
          if (auto it = by_nullifier.find(fr_key(*f)); it != by_nullifier.end()) {
            update.spent.push_back({it->second, ev.block_number});
            by_nullifier.erase(it);
            ++report.notes_spent;
          }
        }
      }
      // The logs and the block hashes must describe one chain: a reorganisation between the two
      // requests shows as a hash that differs; then this range is read again.
      bool consistent = true;
      for (const auto& [number, hash] : event_blocks) {
        auto b = rpc_->get_block(eth::BlockId::number(number));
        if (!b.ok()) return fail(b.status());
        if (!b->has_value() || (*b)->hash != hash) consistent = false;
        update.blocks.push_back(BlockRef{number, hash});
      }
      auto last = rpc_->get_block(eth::BlockId::number(to));
      if (!last.ok()) return fail(last.status());
      if (!last->has_value()) return fail(Status::failed_precondition("the node lost block " + std::to_string(to)));
      if (!consistent) {
        if (Status st = reload_tree(); !st.is_ok()) return st;
        report.leaves = 0;
        return sync();  // read again, from the same cursor
      }
      update.cursor = BlockRef{to, (*last)->hash};
      if (event_blocks.count(to) == 0) update.blocks.push_back(update.cursor);
      if (Status st = store_.apply_chain_update(update); !st.is_ok()) return fail(st);
      report.leaves += update.leaves.size();
      report.to_block = to;
      from = to + 1;
    }
  }
  auto settled = recover();
  if (!settled.ok()) return settled.status();
  report.payments_settled = *settled;
  return report;
}

Result<std::size_t> Wallet::drop_proofs_under_unknown_roots() {
  auto roots = store_.known_roots();
  if (!roots.ok()) return roots.status();
  std::set<std::string> known;
  for (const Fr& r : *roots) known.insert(fr_key(r));
  std::size_t dropped = 0;
  for (const char* circuit : {"spend", "split"}) {
    auto pre = store_.list_precomputes_by_circuit(circuit);
    if (!pre.ok()) return pre.status();
    for (const Precompute& p : *pre) {
      if (!p.public_inputs.empty() && known.count(fr_key(p.public_inputs[0])) != 0) continue;
      if (Status st = store_.delete_precompute(p.key); !st.is_ok()) return st;
      ++dropped;
    }
  }
  return dropped;
}

Status Wallet::wait_confirmed(std::uint64_t block) {
  const auto deadline = Clock::now() + options_.receipt_timeout;
  for (;;) {
    auto head = rpc_->block_number();
    if (!head.ok()) return head.status();
    if (*head >= block + config_.confirmations) break;
    if (Clock::now() > deadline) {
      return Status::timeout("block " + std::to_string(block) + " did not get " +
                             std::to_string(config_.confirmations) + " confirmations in time");
    }
    std::this_thread::sleep_for(options_.poll_interval);
  }
  auto synced = sync();
  return synced.ok() ? Status::ok() : synced.status();
}

// --------------------------------------------------------------------------------------- journal

Result<std::vector<std::int64_t>> Wallet::spent_on_chain(const std::vector<std::int64_t>& note_ids) {
  std::vector<std::int64_t> spent;
  for (std::int64_t id : note_ids) {
    auto note = store_.get_note(id);
    if (!note.ok()) return note.status();
    auto nf = note_nullifier(*note);
    if (!nf.ok()) return nf.status();
    auto is_spent = pool_->is_spent(to_u256(*nf));
    if (!is_spent.ok()) return is_spent.status();
    if (*is_spent) spent.push_back(id);
  }
  return spent;
}

Result<std::size_t> Wallet::recover() {
  auto payments = store_.list_payments(name_, std::nullopt);
  if (!payments.ok()) return payments.status();
  std::size_t settled = 0;
  for (const Payment& p : *payments) {
    if (p.state == PaymentState::kConfirmed || p.state == PaymentState::kFailed) continue;
    auto n = settle(p);
    if (!n.ok()) return n.status().with_context("payment " + std::to_string(p.id));
    settled += *n;
  }
  return settled;
}

Result<std::size_t> Wallet::settle(const Payment& p) {
  if (p.state == PaymentState::kPrepared) {
    // Another process may be between reserving and signing (an on-demand split proves there):
    // only an entry older than that could ever take is a crash's leftover.
    if (now_ms() - p.created_ms < kPreparedGraceMs) return 0;
    // Nothing was signed, so nothing can be on the chain: release its notes.
    Status st = store_.fail_payment(p.id, "stopped before it was signed", {}, 0);
    return st.is_ok() ? Result<std::size_t>(1) : st;
  }
  auto hash = eth::hash_from_hex(p.tx_hash);
  if (!hash.ok()) return Status::corruption("payment " + std::to_string(p.id) + " has a malformed transaction hash");
  auto settle_receipt = [&](const eth::Receipt& r) -> Result<std::size_t> {
    if (r.success) {
      Status st = store_.confirm_payment(p.id, r.gas_used, r.block_number);
      return st.is_ok() ? Result<std::size_t>(1) : st;
    }
    auto spent = spent_on_chain(p.note_ids);
    if (!spent.ok()) return spent.status();
    const std::string why = r.revert_reason ? r.revert_reason->message : std::string("reverted");
    Status st = store_.fail_payment(p.id, "reverted: " + why, *spent, r.block_number);
    return st.is_ok() ? Result<std::size_t>(1) : st;
  };
  auto receipt = rpc_->get_transaction_receipt(*hash);
  if (!receipt.ok()) return receipt.status();
  if (receipt->has_value()) {
    if (!(*receipt)->success) {
      // The replay that names the reason.
      auto full = signer_->wait_for_receipt(*hash);
      if (full.ok()) return settle_receipt(*full);
    }
    return settle_receipt(**receipt);
  }
  auto tx = rpc_->get_transaction(*hash);
  if (!tx.ok()) return tx.status();
  if (tx->has_value()) {
    // Known and waiting to be mined: it stays in flight.
    if (p.state == PaymentState::kSigned) {
      if (Status st = store_.mark_payment_submitted(p.id); !st.is_ok()) return st;
    }
    return 0;
  }
  auto nonce = rpc_->get_transaction_count(account(), eth::BlockId::latest());
  if (!nonce.ok()) return nonce.status();
  if (*nonce > p.nonce) {
    // Its nonce was used by another transaction: this one can never be mined.
    auto spent = spent_on_chain(p.note_ids);
    if (!spent.ok()) return spent.status();
    Status st = store_.fail_payment(p.id, "never mined: its nonce was used by another transaction", *spent, 0);
    return st.is_ok() ? Result<std::size_t>(1) : st;
  }
  // The node never got it (or dropped it): send the very same bytes again.
  eth::SignedTransaction signed_tx{p.raw_tx, *hash, p.nonce, 0};
  auto sent = signer_->broadcast(signed_tx);
  if (!sent.ok()) return sent.status().with_context("re-sending payment " + std::to_string(p.id));
  if (Status st = store_.mark_payment_submitted(p.id); !st.is_ok()) return st;
  auto r = signer_->wait_for_receipt(*hash);
  if (!r.ok()) return r.status();
  return settle_receipt(*r);
}

Result<std::unique_ptr<Store::Lock>> Wallet::lock_sender() {
  auto lock = store_.lock("sender-" + account().to_hex(), kSenderLockTimeout);
  if (!lock.ok()) return lock.status().with_context("waiting for another process sending for this account");
  signer_->reset_nonce();  // another process may have sent since this one last did
  return lock;
}

Result<eth::Receipt> Wallet::send_journaled(std::int64_t payment_id, std::span<const std::uint8_t> calldata,
                                            std::string_view function, std::uint64_t gas_limit,
                                            const eth::Wallet::Fees& fees, Clock::time_point started,
                                            double* latency_ms, std::unique_ptr<Store::Lock> sender) {
  auto fail = [&](const Status& why, std::vector<std::int64_t> spent, std::uint64_t block) -> Status {
    Status st = store_.fail_payment(payment_id, why.message(), spent, block);
    return st.is_ok() ? why : st;
  };
  auto payment = store_.get_payment(payment_id);
  if (!payment.ok()) return payment.status();
  if (!sender) {
    auto lock = lock_sender();
    if (!lock.ok()) return fail(lock.status(), {}, 0);
    sender = std::move(*lock);
  }
  eth::TxOverrides o;
  o.gas_limit = gas_limit;
  o.max_fee_per_gas = fees.max_fee_per_gas;
  o.max_priority_fee_per_gas = fees.max_priority_fee_per_gas;
  auto signed_tx = signer_->sign_transaction(config_.pool, calldata, eth::U256(0), o);
  if (!signed_tx.ok()) return fail(signed_tx.status(), {}, 0);
  const double latency = ms_since(started);
  if (latency_ms != nullptr) *latency_ms = latency;
  if (Status st = store_.record_payment_signed(payment_id, eth::to_hex(signed_tx->hash), signed_tx->raw,
                                               signed_tx->nonce, latency);
      !st.is_ok()) {
    signer_->reset_nonce();
    return fail(st, {}, 0);
  }
  // Simulated after signing, so that the latency above holds no chain time; a payment that would
  // revert is never sent (and its nonce is free again).
  if (Status st = pool_->simulate(function, calldata); !st.is_ok()) {
    signer_->reset_nonce();
    auto spent = spent_on_chain(payment->note_ids);
    if (!spent.ok()) return spent.status();
    return fail(st, *spent, 0);
  }
  auto sent = signer_->broadcast(*signed_tx);
  sender.reset();  // the node has it (or refused it): the next sender reads the nonce after it
  if (!sent.ok()) {
    // The node may or may not have it: the journal keeps it signed, and the next start settles it.
    return sent.status().with_context("payment " + std::to_string(payment_id) +
                                      " is signed but may not have been sent; `bucketpay sync` settles it");
  }
  if (Status st = store_.mark_payment_submitted(payment_id); !st.is_ok()) return st;
  auto receipt = signer_->wait_for_receipt(signed_tx->hash);
  if (!receipt.ok()) {
    return receipt.status().with_context("payment " + std::to_string(payment_id) +
                                         " was sent and is not mined yet; `bucketpay sync` settles it");
  }
  if (receipt->success) {
    if (Status st = store_.confirm_payment(payment_id, receipt->gas_used, receipt->block_number); !st.is_ok())
      return st;
    return *receipt;
  }
  auto spent = spent_on_chain(payment->note_ids);
  if (!spent.ok()) return spent.status();
  const std::string why = receipt->revert_reason ? receipt->revert_reason->message : std::string("reverted");
  return fail(Status::failed_precondition("Pool." + std::string(function) + " reverted: " + why), *spent,
              receipt->block_number);
}

// ------------------------------------------------------------------------------------- deposits

Result<DepositReport> Wallet::deposit(Cents amount, bool wait) {
  if (amount == 0) return Status::invalid_argument("a deposit must be positive");
  auto notes = store_.list_notes(name_, std::nullopt);
  if (!notes.ok()) return notes.status();
  std::array<std::uint32_t, kBucketCount> have{};
  for (const StoredNote& n : *notes) {
    if ((n.state == NoteState::kOnChain || n.state == NoteState::kPending) && is_denomination(n.value)) {
      ++have[bucket_of(n.value)];
    }
  }
  const std::vector<Cents> values = config_.policy.deposit_values(amount, have);
  if (values.size() > kMaxNotesPerDeposit) {
    return Status::invalid_argument(
        "a deposit of $" + format_dollars(amount) + " makes " + std::to_string(values.size()) + " notes, more than " +
        std::to_string(kMaxNotesPerDeposit) + " in one transaction; deposit less at a time");
  }
  auto wei = eth::U256::checked_mul(eth::U256(amount), unit_);
  if (!wei) return Status::invalid_argument("deposit too large for the token");
  auto balance = token_->balance_of(account());
  if (!balance.ok()) return balance.status();
  if (*balance < *wei) {
    return Status::failed_precondition("the account " + account().to_hex() + " holds " + balance->to_decimal() +
                                       " token units; the deposit needs " + wei->to_decimal());
  }
  // The notes go in the store (pending) before anything is sent, so a crash cannot lose them.
  Payment p;
  p.wallet = name_;
  p.kind = "deposit";
  p.amount = amount;
  std::vector<eth::U256> rs;
  std::vector<std::uint64_t> raw_values;
  for (Cents v : values) {
    const Note note = Note::create(pk_, v);
    auto id = insert_pending(note);
    if (!id.ok()) return id.status();
    p.new_note_ids.push_back(*id);
    rs.push_back(to_u256(note.r));
    raw_values.push_back(v);
  }
  auto id = store_.begin_payment(p);
  if (!id.ok()) return id.status();
  DepositReport report;
  report.payment_id = *id;
  report.amount = amount;
  report.notes = values;
  auto allowance = token_->allowance(account(), config_.pool);
  if (!allowance.ok()) return allowance.status();
  if (*allowance < *wei) {
    // One approval for all deposits to come: a later deposit then is a single transaction that the
    // journal covers alone (an approval is not journaled; a lost one is simply made again).
    auto sender = lock_sender();
    if (!sender.ok()) {
      Status st = store_.fail_payment(*id, sender.status().message(), {}, 0);
      return st.is_ok() ? sender.status() : st;
    }
    auto approved = token_->approve(config_.pool, eth::U256::max());
    sender->reset();
    if (!approved.ok()) {
      Status st = store_.fail_payment(*id, approved.status().message(), {}, 0);
      return st.is_ok() ? approved.status() : st;
    }
    report.gas_used += approved->gas_used;
  }
  auto encoded = pool_->encode_deposit_many(to_u256(pk_), raw_values, rs);
  if (!encoded.ok()) return encoded.status();
  const eth::Bytes calldata = std::move(encoded).value();
  eth::CallRequest call;
  call.from = account();
  call.to = config_.pool;
  call.data = calldata;
  auto gas = rpc_->estimate_gas(call);
  if (!gas.ok()) {
    Status st = store_.fail_payment(*id, gas.status().message(), {}, 0);
    return st.is_ok() ? gas.status() : st;
  }
  auto fees = signer_->estimate_fees();
  if (!fees.ok()) {
    Status st = store_.fail_payment(*id, fees.status().message(), {}, 0);
    return st.is_ok() ? fees.status() : st;
  }
  auto receipt = send_journaled(*id, calldata, "depositMany", *gas + *gas / 5, *fees, Clock::now(), nullptr);
  if (!receipt.ok()) return receipt.status();
  report.tx_hash = eth::to_hex(receipt->transaction_hash);
  report.gas_used += receipt->gas_used;
  if (wait) {
    if (Status st = wait_confirmed(receipt->block_number); !st.is_ok()) return st;
  }
  return report;
}

// ------------------------------------------------------------------------------------ inventory

Result<InventoryReport> Wallet::build_inventory() {
  const auto t0 = Clock::now();
  InventoryReport report;
  auto notes = store_.list_notes(name_, NoteState::kOnChain);
  if (!notes.ok()) return notes.status();
  const Fr payee = address_fr(config_.payee);
  auto ready_or = notes_ready_for(store_, payee);
  if (!ready_or.ok()) return ready_or.status();
  const std::set<std::int64_t>& ready = *ready_or;
  std::vector<std::int64_t> ids;
  for (const StoredNote& n : *notes) {
    if (ready.count(n.id) == 0) ids.push_back(n.id);
  }
  report.cached = ready.size();
  if (ids.empty()) return report;
  auto pool = prover();
  if (!pool.ok()) return pool.status();
  auto engine = Engine::open(store_, **pool, name_);
  if (!engine.ok()) return engine.status();
  PrecomputeOptions po;
  po.on_progress = options_.on_progress;
  po.batch = "inventory-" + std::to_string(now_ms());
  auto r = (*engine)->generate_spend_precomputes(ids, payee, po);
  if (!r.ok()) return r.status();
  report.proved = r->proved;
  report.cached += r->cached;
  report.failed = r->failed;
  report.errors = r->errors;
  report.seconds = ms_since(t0) / 1000.0;
  return report;
}

// ------------------------------------------------------------------------------------- payments

Result<PaymentReport> Wallet::pay(Cents amount, const eth::Address& to, MissingPolicy policy) {
  if (amount == 0) return Status::invalid_argument("the amount must be positive");
  if (to.is_zero()) return Status::invalid_argument("cannot pay the zero address");
  // Chain time is not payment latency: the fee data is read before the clock starts.
  auto fees = signer_->estimate_fees();
  if (!fees.ok()) return fees.status();
  // The nonce is read afresh under the sender lock: another process (a keeper) may have sent since
  // this one last did, and none can send until this payment is with the node.
  auto sender = lock_sender();
  if (!sender.ok()) return sender.status();
  if (Status st = signer_->prefetch(); !st.is_ok()) return st;
  const auto started = Clock::now();
  PaymentReport report;
  report.amount = amount;
  report.recipient = to;
  auto notes = store_.list_notes(name_, NoteState::kOnChain);
  if (!notes.ok()) return notes.status();
  auto pre = store_.list_precomputes_by_circuit("spend");
  if (!pre.ok()) return pre.status();
  const Fr recipient = address_fr(to);
  std::unordered_map<std::int64_t, const Precompute*> ready;
  for (const Precompute& p : *pre) {
    if (p.recipient == recipient && p.public_inputs.size() == 4) ready.emplace(p.note_id, &p);
  }
  std::vector<PlanNote> available;
  Cents on_chain = 0;
  for (const StoredNote& n : *notes) {
    on_chain += n.value;
    if (ready.count(n.id) != 0) available.push_back(PlanNote{n.id, n.value});
  }
  if (on_chain < amount) {
    return Status::not_found("the balance on chain is $" + format_dollars(on_chain) + ", less than $" +
                             format_dollars(amount));
  }
  auto plan = plan_payment(available, amount);
  if (plan.ok() && plan->notes.size() > kMaxNotesPerPayment) {
    plan = Status::not_found("$" + format_dollars(amount) + " needs " + std::to_string(plan->notes.size()) +
                             " notes, more than one transaction carries (" + std::to_string(kMaxNotesPerPayment) + ")");
  }
  if (plan.ok()) {
    Payment p;
    p.wallet = name_;
    p.kind = "pay";
    p.amount = amount;
    p.recipient = to.to_hex();
    std::vector<eth::SpendCall> calls;
    for (const PlanNote& n : plan->notes) {
      p.note_ids.push_back(n.note_id);
      report.notes.push_back(n.value);
      const Precompute& pc = *ready.at(n.note_id);
      calls.push_back(eth::SpendCall{eth::Bytes(pc.proof.begin(), pc.proof.end()), to_u256(pc.public_inputs[0]),
                                     to_u256(pc.public_inputs[1]), n.value, to});
    }
    auto id = store_.begin_payment(p);
    if (!id.ok()) return id.status();
    report.payment_id = *id;
    auto encoded = pool_->encode_spend_batch(calls);
    if (!encoded.ok()) return encoded.status();
    const eth::Bytes calldata = std::move(encoded).value();
    auto receipt = send_journaled(*id, calldata, "spendBatch", kSpendBatchBaseGas + kSpendGasPerProof * calls.size(),
                                  *fees, started, &report.latency_ms, std::move(*sender));
    if (!receipt.ok()) return receipt.status();
    report.tx_hash = eth::to_hex(receipt->transaction_hash);
    report.gas_used = receipt->gas_used;
    report.block = receipt->block_number;
    return report;
  }
  if (plan.status().code() != StatusCode::kNotFound || policy == MissingPolicy::kRefuse) {
    const bool other_payee = to != config_.payee;
    return plan.status().with_context(
        "no ready proofs make $" + format_dollars(amount) +
        (other_payee ? " for " + to.to_hex() + " (the inventory is proved for " + config_.payee.to_hex() + ")" : "") +
        "; `bucketpay rebalance` refills the inventory, and --on-missing split proves a split now");
  }

  // On demand: the smallest note that covers the amount, split into the payment and the change.
  // Proving takes a while: other processes may send meanwhile, and the split takes the lock again.
  sender->reset();
  const StoredNote* donor = nullptr;
  for (const StoredNote& n : *notes) {
    if (n.value >= amount && (donor == nullptr || n.value < donor->value)) donor = &n;
  }
  if (donor == nullptr) {
    return Status::not_found("no single note covers $" + format_dollars(amount) + " for an on-demand split");
  }
  const Note change = Note::create(pk_, donor->value - amount);
  Payment p;
  p.wallet = name_;
  p.kind = "split";
  p.amount = amount;
  p.recipient = to.to_hex();
  p.note_ids = {donor->id};
  if (change.value > 0) {
    auto cid = insert_pending(change);
    if (!cid.ok()) return cid.status();
    p.new_note_ids.push_back(*cid);
  }
  auto id = store_.begin_payment(p);
  if (!id.ok()) return id.status();
  report.payment_id = *id;
  report.notes = {donor->value};
  report.proved_on_demand = true;
  auto fail = [&](const Status& why) -> Status {
    Status st = store_.fail_payment(*id, why.message(), {}, 0);
    return st.is_ok() ? why : st;
  };
  auto pool = prover();
  if (!pool.ok()) return fail(pool.status());
  const OwnedNote owned{Note{donor->pk, donor->value, donor->r}, SpendingKey::from_fr(sk_), *donor->leaf_index};
  auto path = tree_.path(*donor->leaf_index);
  if (!path.ok()) return fail(path.status());
  const SplitOutputs outputs{change.value > 0 ? change : Note{Fr::zero(), 0, Fr::zero()},
                             Note{Fr::zero(), 0, Fr::zero()}};
  ProofRequest req;
  req.key = "pay-split-" + std::to_string(*id);
  req.circuit = "split";
  req.inputs_json = split_inputs_json(owned, *path, tree_.root(), amount, recipient, outputs);
  const SplitStatement statement = split_statement(owned, tree_.root(), amount, recipient, outputs);
  req.expected_public_inputs = statement.public_inputs();
  const auto t_prove = Clock::now();
  ProofResult proved = (*pool)->prove_now(req);
  report.prove_ms = ms_since(t_prove);
  if (!proved.proof.ok()) return fail(proved.proof.status().with_context("proving the split"));
  eth::SplitCall call{eth::Bytes(proved.proof->proof.begin(), proved.proof->proof.end()),
                      to_u256(statement.root),
                      to_u256(statement.nullifier),
                      amount,
                      to,
                      to_u256(statement.out_cm1),
                      to_u256(statement.out_cm2)};
  auto encoded = pool_->encode_split(call);
  if (!encoded.ok()) return fail(encoded.status());
  const eth::Bytes calldata = std::move(encoded).value();
  auto receipt = send_journaled(*id, calldata, "split", kSplitGas, *fees, started, &report.latency_ms);
  if (!receipt.ok()) return receipt.status();
  report.tx_hash = eth::to_hex(receipt->transaction_hash);
  report.gas_used = receipt->gas_used;
  report.block = receipt->block_number;
  return report;
}

// ------------------------------------------------------------------------------------ rebalance

Result<RebalanceReport> Wallet::rebalance(bool wait) {
  RebalanceReport report;
  auto synced = sync();
  if (!synced.ok()) return synced.status();
  auto notes = store_.list_notes(name_, NoteState::kOnChain);
  if (!notes.ok()) return notes.status();
  std::array<std::uint32_t, kBucketCount> have{};
  for (const StoredNote& n : *notes) {
    if (is_denomination(n.value)) ++have[bucket_of(n.value)];
  }
  // Donors, smallest first; a note is a surplus when it is not a denomination or its denomination
  // is above target.
  std::vector<const StoredNote*> donors;
  for (const StoredNote& n : *notes) donors.push_back(&n);
  std::sort(donors.begin(), donors.end(), [](const auto* a, const auto* b) { return a->value < b->value; });
  std::set<std::int64_t> used;
  struct Split {
    const StoredNote* donor;
    Note out1;
    Note out2;
  };
  std::vector<Split> splits;
  auto surplus = [&](const StoredNote& n) {
    return !is_denomination(n.value) || have[bucket_of(n.value)] > config_.policy.targets[bucket_of(n.value)];
  };
  for (std::size_t i = 0; i < kBucketCount && splits.size() < kMaxSplitsPerRound; ++i) {
    while (have[i] < config_.policy.targets[i] && splits.size() < kMaxSplitsPerRound) {
      const Cents d = kBuckets[i];
      // The donor, by preference: a surplus note whose rest (value - d) is itself a denomination
      // short of its target (e.g. 2d: both outputs are wanted), then any surplus note, then any
      // larger note (a short small denomination stops payments sooner than a short large one);
      // the smallest at each level.
      auto useful_rest = [&](Cents rest) {
        return is_denomination(rest) &&
               have[bucket_of(rest)] + (rest == d ? 2 : 1) <= config_.policy.targets[bucket_of(rest)];
      };
      const StoredNote* donor = nullptr;
      for (int level = 0; level < 3 && donor == nullptr; ++level) {
        for (const StoredNote* n : donors) {
          if (used.count(n->id) != 0 || n->value <= d) continue;
          const bool ok = level == 0 ? surplus(*n) && useful_rest(n->value - d) : level == 1 ? surplus(*n) : true;
          if (ok) {
            donor = n;
            break;
          }
        }
      }
      if (donor == nullptr) break;
      used.insert(donor->id);
      if (is_denomination(donor->value)) --have[bucket_of(donor->value)];
      const Cents rest = donor->value - d;
      ++have[i];
      if (is_denomination(rest)) ++have[bucket_of(rest)];
      splits.push_back(Split{donor, Note::create(pk_, d), Note::create(pk_, rest)});
    }
  }
  if (splits.empty()) return report;

  auto pool = prover();
  if (!pool.ok()) return pool.status();
  std::vector<std::int64_t> payment_ids;
  std::vector<ProofRequest> requests;
  std::vector<SplitStatement> statements;
  // A failure before anything is signed releases the splits begun so far (a long-running keeper
  // would otherwise hold their notes).
  auto abandon = [&](const Status& why) -> Status {
    for (std::int64_t id : payment_ids) {
      if (Status st = store_.fail_payment(id, why.message(), {}, 0); !st.is_ok()) return st;
    }
    return why;
  };
  for (const Split& s : splits) {
    Payment p;
    p.wallet = name_;
    p.kind = "rebalance";
    p.amount = 0;
    p.note_ids = {s.donor->id};
    for (const Note* out : {&s.out1, &s.out2}) {
      auto cid = insert_pending(*out);
      if (!cid.ok()) return abandon(cid.status());
      p.new_note_ids.push_back(*cid);
    }
    auto id = store_.begin_payment(p);
    if (!id.ok()) return abandon(id.status());
    payment_ids.push_back(*id);
    const OwnedNote owned{Note{s.donor->pk, s.donor->value, s.donor->r}, SpendingKey::from_fr(sk_),
                          *s.donor->leaf_index};
    auto path = tree_.path(*s.donor->leaf_index);
    if (!path.ok()) return abandon(path.status());
    // Nothing is withdrawn; the recipient is bound anyway, and the Pool refuses the zero address.
    const Fr self = address_fr(account());
    ProofRequest req;
    req.key = "rebalance-" + std::to_string(*id);
    req.circuit = "split";
    req.inputs_json = split_inputs_json(owned, *path, tree_.root(), 0, self, SplitOutputs{s.out1, s.out2});
    statements.push_back(split_statement(owned, tree_.root(), 0, self, SplitOutputs{s.out1, s.out2}));
    req.expected_public_inputs = statements.back().public_inputs();
    requests.push_back(std::move(req));
  }
  const auto t_prove = Clock::now();
  BatchOptions bo;
  if (options_.on_progress) {
    bo.on_result = [&](const ProofResult&, std::size_t done, std::size_t total) { options_.on_progress(done, total); };
  }
  std::vector<ProofResult> results = (*pool)->prove_all(requests, bo);
  auto fees = signer_->estimate_fees();
  report.prove_ms = ms_since(t_prove);
  std::uint64_t last_block = 0;
  Status first_error = Status::ok();
  for (std::size_t i = 0; i < splits.size(); ++i) {
    if (!results[i].proof.ok()) {
      Status st = store_.fail_payment(payment_ids[i], results[i].proof.status().message(), {}, 0);
      if (!st.is_ok()) return st;
      if (first_error.is_ok()) first_error = results[i].proof.status();
      continue;
    }
    const SplitStatement& s = statements[i];
    eth::SplitCall call{eth::Bytes(results[i].proof->proof.begin(), results[i].proof->proof.end()),
                        to_u256(s.root),
                        to_u256(s.nullifier),
                        0,
                        account(),
                        to_u256(s.out_cm1),
                        to_u256(s.out_cm2)};
    if (!fees.ok()) {
      Status st = store_.fail_payment(payment_ids[i], fees.status().message(), {}, 0);
      if (!st.is_ok()) return st;
      if (first_error.is_ok()) first_error = fees.status();
      continue;
    }
    auto encoded = pool_->encode_split(call);
    if (!encoded.ok()) return encoded.status();
    auto receipt = send_journaled(payment_ids[i], *encoded, "split", kSplitGas, *fees, Clock::now(), nullptr);
    if (!receipt.ok()) {
      if (first_error.is_ok()) first_error = receipt.status();
      continue;
    }
    ++report.splits;
    report.gas_used += receipt->gas_used;
    last_block = std::max(last_block, receipt->block_number);
    report.made.push_back("$" + format_dollars(splits[i].donor->value) + " -> $" +
                          format_dollars(splits[i].out1.value) + " + $" + format_dollars(splits[i].out2.value));
  }
  if (report.splits == 0 && !first_error.is_ok()) return first_error;
  if (wait && last_block > 0) {
    if (Status st = wait_confirmed(last_block); !st.is_ok()) return st;
  }
  return report;
}

// -------------------------------------------------------------------------------------- reports

Result<BalanceReport> Wallet::balance() {
  BalanceReport b;
  auto notes = store_.list_notes(name_, std::nullopt);
  if (!notes.ok()) return notes.status();
  auto ready_or = notes_ready_for(store_, address_fr(config_.payee));
  if (!ready_or.ok()) return ready_or.status();
  const std::set<std::int64_t>& ready = *ready_or;
  b.denominations.resize(kBucketCount);
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    b.denominations[i].value = kBuckets[i];
    b.denominations[i].target = config_.policy.targets[i];
  }
  for (const StoredNote& n : *notes) {
    switch (n.state) {
      case NoteState::kPending:
        b.pending += n.value;
        break;
      case NoteState::kSpending:
        b.reserved += n.value;
        break;
      case NoteState::kSpent:
        break;
      case NoteState::kOnChain: {
        b.on_chain += n.value;
        const bool is_ready = ready.count(n.id) != 0;
        if (is_ready) b.ready += n.value;
        if (is_denomination(n.value)) {
          auto& d = b.denominations[bucket_of(n.value)];
          ++d.notes;
          if (is_ready) ++d.ready;
        } else {
          ++b.other_notes;
          b.other_value += n.value;
        }
        break;
      }
    }
  }
  auto cursor = store_.sync_cursor();
  if (!cursor.ok()) return cursor.status();
  b.synced_block = cursor->has_value() ? (*cursor)->number : 0;
  return b;
}

Result<std::vector<Payment>> Wallet::history() { return store_.list_payments(name_, std::nullopt); }

}  // namespace bucketpay
