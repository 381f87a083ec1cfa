#include "bucketpay/wallet.h"

#include <sodium.h>

#include <set>

#include "wallet/account_signer.h"
#include "wallet/chain_indexer.h"
#include "wallet/payer.h"
#include "wallet/payment_sender.h"
#include "wallet/pool_errors.h"
#include "wallet/rebalancer.h"
#include "wallet/wallet_util.h"

namespace bucketpay {

namespace {

using wallet_util::bucket_of;
using wallet_util::is_denomination;

constexpr std::string_view kEthKeySecret = "eth_key";
// Notes per deposit: depositMany costs ~47k gas per note.
constexpr std::size_t kMaxNotesPerDeposit = 400;
constexpr std::size_t kMaxSplitsPerRound = 16;
// How often a receipt is polled for (a payment's latency on a chain that mines at once).
constexpr std::chrono::milliseconds kReceiptPoll{50};

Result<eth::PrivateKey> account_key(Store& store, const std::string& name) {
  auto key_bytes = store.get_secret(name, kEthKeySecret);
  if (!key_bytes.ok()) return key_bytes.status().with_context("wallet " + name + ": account key");
  if (key_bytes->size() != 32) return Status::corruption("wallet " + name + ": malformed account key");
  auto key = eth::PrivateKey::from_bytes(std::span<const std::uint8_t, 32>(key_bytes->data(), 32));
  sodium_memzero(key_bytes->data(), key_bytes->size());
  return key;
}

}  // namespace

Wallet::Wallet(Store& store, std::string name, WalletOptions options, WalletConfig config, const Fr& sk,
               std::unique_ptr<eth::PoolChain> chain, const eth::PrivateKey& key)
    : store_(store),
      name_(std::move(name)),
      options_(std::move(options)),
      config_(std::move(config)),
      sk_(sk),
      pk_(bucketpay::owner_key(SpendingKey::from_fr(sk))),
      clock_(options_.clock != nullptr ? *options_.clock : Clock::system()),
      chain_(std::move(chain)),
      signer_(std::make_unique<AccountSigner>(*chain_, key)) {
  indexer_ = std::make_unique<ChainIndexer>(
      store_, *chain_, tree_, sk_,
      IndexerOptions{name_, config_.start_block, config_.confirmations, config_.log_range});
  SenderOptions so;
  so.wallet = name_;
  so.start_block = config_.start_block;
  so.receipt_timeout = options_.receipt_timeout;
  so.poll_interval = std::min(options_.poll_interval, kReceiptPoll);
  sender_ = std::make_unique<PaymentSender>(store_, *chain_, *signer_, clock_, sk_, so);
  auto prover_source = [this] { return prover(); };
  payer_ = std::make_unique<Payer>(store_, store_, *chain_, *signer_, *sender_, *indexer_, clock_, prover_source,
                                   PayerOptions{name_, sk_, pk_, config_.payee});
  RebalancerOptions ro{name_, sk_, pk_, signer_->address(), config_.policy, kMaxSplitsPerRound, options_.on_progress};
  rebalancer_ = std::make_unique<Rebalancer>(store_, *chain_, *sender_, *indexer_, clock_, prover_source, ro);
}

Wallet::~Wallet() = default;

const eth::Address& Wallet::account() const { return signer_->address(); }

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
  eth::RpcOptions ro;
  ro.url = config->rpc_url;
  ro.error_signatures = pool_error_signatures();
  BUCKETPAY_ASSIGN_OR_RETURN(std::unique_ptr<eth::RpcPoolChain> chain, eth::RpcPoolChain::connect(ro, config->pool));
  return open_on(store, std::move(name), std::move(options), std::move(*config), std::move(chain));
}

Result<std::unique_ptr<Wallet>> Wallet::open(Store& store, std::string name, std::unique_ptr<eth::PoolChain> chain,
                                             WalletOptions options) {
  auto config = load_config(store, name);
  if (!config.ok()) return config.status().with_context("wallet " + name);
  return open_on(store, std::move(name), std::move(options), std::move(*config), std::move(chain));
}

Result<std::unique_ptr<Wallet>> Wallet::open_on(Store& store, std::string name, WalletOptions options,
                                                WalletConfig config, std::unique_ptr<eth::PoolChain> chain) {
  auto sk = store.get_spending_key(name);
  if (!sk.ok()) return sk.status().with_context("wallet " + name);
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::PrivateKey key, account_key(store, name));
  std::unique_ptr<Wallet> w(new Wallet(store, name, std::move(options), std::move(config), *sk, std::move(chain), key));
  BUCKETPAY_RETURN_IF_ERROR(w->read_pool());
  BUCKETPAY_RETURN_IF_ERROR(w->indexer_->reload_tree());
  auto settled = w->recover();
  if (!settled.ok()) return settled.status().with_context("settling the payments journal");
  return w;
}

Status Wallet::read_pool() {
  auto unit = chain_->unit();
  if (!unit.ok()) return unit.status().with_context("reading the Pool at " + config_.pool.to_hex() + " (UNIT)");
  unit_ = *unit;
  auto token = chain_->token();
  if (!token.ok()) return token.status().with_context("reading the Pool's token");
  token_ = *token;
  return Status::ok();
}

Result<ProverPool*> Wallet::prover() {
  if (prover_) return prover_.get();
  if (!options_.start_prover) return Status::failed_precondition("this command has no prover");
  BUCKETPAY_ASSIGN_OR_RETURN(prover_, options_.start_prover());
  return prover_.get();
}

// ------------------------------------------------------------------------------------------ sync

Result<SyncReport> Wallet::sync() {
  BUCKETPAY_ASSIGN_OR_RETURN(SyncReport report, indexer_->sync());
  BUCKETPAY_ASSIGN_OR_RETURN(report.payments_settled, recover());
  return report;
}

Result<std::size_t> Wallet::recover() { return sender_->recover(); }

Status Wallet::wait_confirmed(std::uint64_t block) {
  const auto deadline = clock_.steady_now() + options_.receipt_timeout;
  for (;;) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t head, chain_->head());
    if (head >= block + config_.confirmations) break;
    if (clock_.steady_now() > deadline) {
      return Status::timeout("block " + std::to_string(block) + " did not get " +
                             std::to_string(config_.confirmations) + " confirmations in time");
    }
    clock_.sleep_for(options_.poll_interval);
  }
  return sync().status();
}

// ------------------------------------------------------------------------------------- deposits

Result<DepositReport> Wallet::deposit(Cents amount, bool wait) {
  if (amount == 0) return Status::invalid_argument("a deposit must be positive");
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes, store_.list_notes(name_, std::nullopt));
  std::array<std::uint32_t, kBucketCount> have{};
  for (const StoredNote& n : notes) {
    if ((n.state == NoteState::kOnChain || n.state == NoteState::kPending) && is_denomination(n.value)) {
      ++have[bucket_of(n.value)];
    }
  }
  const std::vector<Cents> values = config_.policy.deposit_values(amount, have);
  if (values.size() > kMaxNotesPerDeposit) {
    return Status::invalid_argument(
        "a deposit of " + wallet_util::dollars(amount) + " makes " + std::to_string(values.size()) +
        " notes, more than " + std::to_string(kMaxNotesPerDeposit) + " in one transaction; deposit less at a time");
  }
  auto wei = eth::U256::checked_mul(eth::U256(amount), unit_);
  if (!wei) return Status::invalid_argument("deposit too large for the token");
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::U256 balance, chain_->token_balance(account()));
  if (balance < *wei) {
    return Status::failed_precondition("the account " + account().to_hex() + " holds " + balance.to_decimal() +
                                       " token units; the deposit needs " + wei->to_decimal());
  }
  DepositReport report;
  report.amount = amount;
  report.notes = values;
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Bytes calldata, record_deposit(values, report));
  const std::int64_t id = report.payment_id;
  if (Status st = approve_if_needed(*wei, report); !st.is_ok()) return sender_->give_up(id, st);
  auto gas = chain_->estimate_gas(account(), config_.pool, calldata);
  if (!gas.ok()) return sender_->give_up(id, gas.status());
  auto fees = chain_->fees();
  if (!fees.ok()) return sender_->give_up(id, fees.status());
  BUCKETPAY_ASSIGN_OR_RETURN(
      const Settlement settled,
      sender_->send(SendRequest{id, calldata, "depositMany", *gas + *gas / 5, *fees, clock_.steady_now(), nullptr}));
  report.tx_hash = eth::to_hex(settled.tx_hash);
  report.gas_used += settled.gas_used;
  if (wait) BUCKETPAY_RETURN_IF_ERROR(wait_confirmed(settled.block));
  return report;
}

Result<eth::Bytes> Wallet::record_deposit(const std::vector<Cents>& values, DepositReport& report) {
  // The notes go in the store (pending) before anything is sent, so a crash cannot lose them.
  Payment p;
  p.kind = "deposit";
  p.amount = report.amount;
  std::vector<eth::U256> rs;
  for (Cents v : values) {
    const Note note = Note::create(pk_, v);
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, wallet_util::insert_pending_note(store_, name_, note));
    p.new_note_ids.push_back(id);
    rs.push_back(wallet_util::to_u256(note.r));
  }
  const std::vector<std::uint64_t> raw_values(values.begin(), values.end());
  BUCKETPAY_ASSIGN_OR_RETURN(eth::Bytes calldata,
                             eth::PoolClient::encode_deposit_many(wallet_util::to_u256(pk_), raw_values, rs));
  BUCKETPAY_ASSIGN_OR_RETURN(report.payment_id, sender_->record(p));
  return calldata;
}

Status Wallet::approve_if_needed(const eth::U256& wei, DepositReport& report) {
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::U256 allowance, chain_->token_allowance(account(), config_.pool));
  if (allowance >= wei) return Status::ok();
  // One approval for all deposits to come: a later deposit then is a single transaction that the
  // journal covers alone (an approval is not journaled; a lost one is simply made again).
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Bytes calldata,
                             eth::TokenClient::encode_approve(config_.pool, eth::U256::max()));
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Receipt approved, sender_->transact(token_, calldata, "token.approve"));
  report.gas_used += approved.gas_used;
  return Status::ok();
}

// ------------------------------------------------------------------------------------ inventory

Result<InventoryReport> Wallet::build_inventory() {
  const auto t0 = clock_.steady_now();
  InventoryReport report;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes, store_.list_notes(name_, NoteState::kOnChain));
  const Fr payee = wallet_util::address_fr(config_.payee);
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<ReadyNote> ready, ready_notes(store_, store_, name_, payee));
  std::set<std::int64_t> ready_ids;
  for (const ReadyNote& r : ready) ready_ids.insert(r.note.id);
  std::vector<std::int64_t> ids;
  for (const StoredNote& n : notes) {
    if (ready_ids.count(n.id) == 0) ids.push_back(n.id);
  }
  report.cached = ready.size();
  if (ids.empty()) return report;
  BUCKETPAY_ASSIGN_OR_RETURN(ProverPool* const pool, prover());
  BUCKETPAY_RETURN_IF_ERROR(indexer_->refresh_tree());
  // The engine proves on the wallet's own tree: one copy of it in the process.
  BUCKETPAY_ASSIGN_OR_RETURN(const std::unique_ptr<Engine> engine, Engine::open(store_, *pool, name_, tree_));
  PrecomputeOptions po;
  po.on_progress = options_.on_progress;
  po.batch = "inventory-" + std::to_string(clock_.unix_ms());
  BUCKETPAY_ASSIGN_OR_RETURN(const PrecomputeReport r, engine->generate_spend_precomputes(ids, payee, po));
  report.proved = r.proved;
  report.cached += r.cached;
  report.failed = r.failed;
  report.errors = r.errors;
  report.seconds = clock_.ms_since(t0) / 1000.0;
  return report;
}

// ---------------------------------------------------------------------------- payments, splits

Result<PaymentReport> Wallet::pay(Cents amount, const eth::Address& to, MissingPolicy policy) {
  return payer_->pay(amount, to, policy);
}

Result<RebalanceReport> Wallet::rebalance(bool wait) {
  BUCKETPAY_RETURN_IF_ERROR(sync().status());
  BUCKETPAY_ASSIGN_OR_RETURN(const RebalanceRound round, rebalancer_->run());
  if (wait && round.last_block > 0) BUCKETPAY_RETURN_IF_ERROR(wait_confirmed(round.last_block));
  return round.report;
}

// -------------------------------------------------------------------------------------- reports

Result<BalanceReport> Wallet::balance() {
  BalanceReport b;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes, store_.list_notes(name_, std::nullopt));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<ReadyNote> ready_notes_,
                             ready_notes(store_, store_, name_, wallet_util::address_fr(config_.payee)));
  std::set<std::int64_t> ready;
  for (const ReadyNote& r : ready_notes_) ready.insert(r.note.id);
  // The outputs of failed payments stay pending in case a copy of their transaction lands: they
  // are not counted as coming.
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Payment> failed, store_.list_payments(name_, PaymentState::kFailed));
  std::set<std::int64_t> kept;
  for (const Payment& p : failed) kept.insert(p.new_note_ids.begin(), p.new_note_ids.end());
  b.denominations.resize(kBucketCount);
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    b.denominations[i].value = kBuckets[i];
    b.denominations[i].target = config_.policy.targets[i];
  }
  for (const StoredNote& n : notes) {
    if (n.state == NoteState::kPending && kept.count(n.id) == 0) b.pending += n.value;
    if (n.state == NoteState::kSpending) b.reserved += n.value;
    if (n.state != NoteState::kOnChain) continue;
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
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<BlockRef> cursor, store_.sync_cursor());
  b.synced_block = cursor ? cursor->number : 0;
  return b;
}

Result<std::vector<Payment>> Wallet::history() { return store_.list_payments(name_, std::nullopt); }

}  // namespace bucketpay
