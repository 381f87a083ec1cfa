#include "bucketpay/wallet.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "account_signer.h"
#include "chain_indexer.h"
#include "fee_quotes.h"
#include "payer.h"
#include "payment_relay.h"
#include "payment_sender.h"
#include "rebalancer.h"
#include "wallet_util.h"

namespace bucketpay {

namespace {

constexpr std::string_view kEthKeySecret = "eth_key";
constexpr std::string_view kSyncedAtSetting = "synced_at_ms";
// Notes per deposit: depositMany costs ~47k gas per note.
constexpr std::size_t kMaxNotesPerDeposit = 400;
constexpr std::size_t kMaxSplitsPerRound = 16;
// The write-ahead log is checkpointed after a sync or a settled payment once it holds this many
// pages (1 MB), well before SQLite's own checkpoint at 1,000 would fall inside a payment's commit.
constexpr int kQuietCheckpointPages = 256;
// A token balance above this many cents is shown as this many (it only says "enough" then).
constexpr Cents kMaxDepositCentsShown = Cents{1} << 62;
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
               std::unique_ptr<eth::PoolChain> chain, const eth::PrivateKey& key, PoolInfo pool)
    : store_(store),
      name_(std::move(name)),
      options_(std::move(options)),
      config_(std::move(config)),
      sk_(sk),
      pk_(bucketpay::owner_key(SpendingKey::from_fr(sk))),
      clock_(options_.clock != nullptr ? *options_.clock : Clock::system()),
      chain_(std::move(chain)),
      signer_(std::make_unique<AccountSigner>(*chain_, key)),
      unit_(pool.unit),
      token_(pool.token),
      domain_(pool.domain) {
  indexer_ = std::make_unique<ChainIndexer>(
      store_, *chain_, tree_, sk_,
      IndexerOptions{name_, config_.start_block, config_.confirmations, config_.log_range});
  SenderOptions so;
  so.wallet = name_;
  so.start_block = config_.start_block;
  so.receipt_timeout = options_.receipt_timeout;
  so.poll_interval = std::min(options_.poll_interval, kReceiptPoll);
  sender_ = std::make_unique<PaymentSender>(store_, *chain_, *signer_, clock_, so);
  auto relayers = [this](const std::string& url) { return relayer(url); };
  PaymentRelayOptions ro;
  ro.wallet = name_;
  ro.start_block = config_.start_block;
  relay_ = std::make_unique<PaymentRelay>(store_, *chain_, relayers, clock_, sk_, ro);
  quotes_ = std::make_unique<FeeQuotes>(relayers, clock_, domain_, unit_);
  auto prover_source = [this] { return prover(); };
  payer_ = std::make_unique<Payer>(store_, store_, *relay_, *quotes_, *indexer_, clock_, prover_source,
                                   PayerOptions{name_, sk_, pk_, config_.payment_deadline, config_.policy, domain_});
  RebalancerOptions rbo;
  rbo.wallet = name_;
  rbo.sk = sk_;
  rbo.pk = pk_;
  rbo.policy = config_.policy;
  rbo.max_splits = kMaxSplitsPerRound;
  rbo.deadline_s = config_.payment_deadline;
  rbo.domain = domain_;
  rbo.on_progress = options_.on_progress;
  rebalancer_ = std::make_unique<Rebalancer>(store_, *relay_, *quotes_, *indexer_, clock_, prover_source, rbo);
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

Result<std::unique_ptr<Wallet>> Wallet::open(Store& store, const std::string& name, WalletOptions options) {
  auto config = load_config(store, name);
  if (!config.ok()) return config.status().with_context("wallet " + name);
  if (!options.rpc_url.empty()) config->rpc_url = options.rpc_url;
  eth::RpcOptions ro;
  ro.url = config->rpc_url;
  ro.error_signatures = eth::pool_error_signatures();
  BUCKETPAY_ASSIGN_OR_RETURN(std::unique_ptr<eth::RpcPoolChain> chain, eth::RpcPoolChain::connect(ro, config->pool));
  return open_on(store, name, std::move(options), std::move(*config), std::move(chain));
}

Result<std::unique_ptr<Wallet>> Wallet::open(Store& store, const std::string& name,
                                             std::unique_ptr<eth::PoolChain> chain, WalletOptions options) {
  auto config = load_config(store, name);
  if (!config.ok()) return config.status().with_context("wallet " + name);
  return open_on(store, name, std::move(options), std::move(*config), std::move(chain));
}

Result<std::unique_ptr<Wallet>> Wallet::open_on(Store& store, const std::string& name, WalletOptions options,
                                                WalletConfig config, std::unique_ptr<eth::PoolChain> chain) {
  auto sk = store.get_spending_key(name);
  if (!sk.ok()) return sk.status().with_context("wallet " + name);
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::PrivateKey key, account_key(store, name));
  BUCKETPAY_ASSIGN_OR_RETURN(PoolInfo pool, read_pool(*chain, config));
  std::unique_ptr<Wallet> w(
      new Wallet(store, name, std::move(options), std::move(config), *sk, std::move(chain), key, pool));
  BUCKETPAY_RETURN_IF_ERROR(w->indexer_->reload_tree());
  auto settled = w->recover();
  if (!settled.ok()) return settled.status().with_context("settling the payments journal");
  return w;
}

Result<Wallet::PoolInfo> Wallet::read_pool(eth::PoolChain& chain, const WalletConfig& config) {
  PoolInfo info;
  auto unit = chain.unit();
  if (!unit.ok()) return unit.status().with_context("reading the Pool at " + config.pool.to_hex() + " (UNIT)");
  info.unit = *unit;
  auto token = chain.token();
  if (!token.ok()) return token.status().with_context("reading the Pool's token");
  info.token = *token;
  auto chain_id = chain.chain_id();
  if (!chain_id.ok()) return chain_id.status().with_context("reading the chain id");
  info.domain = eth::PaymentDomain{eth::U256(*chain_id), chain.pool()};
  return info;
}

Result<eth::RelayerClient*> Wallet::relayer(const std::string& url) {
  auto it = relayers_.find(url);
  if (it != relayers_.end()) return it->second.get();
  std::unique_ptr<eth::RelayerClient> client;
  if (options_.connect_relayer) {
    BUCKETPAY_ASSIGN_OR_RETURN(client, options_.connect_relayer(url));
  } else {
    BUCKETPAY_ASSIGN_OR_RETURN(client, eth::connect_relayer(eth::RelayerOptions{url}));
  }
  eth::RelayerClient* raw = client.get();
  relayers_.emplace(url, std::move(client));
  return raw;
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
  // For reports made without a node: how old the store's view of the chain is.
  BUCKETPAY_RETURN_IF_ERROR(store_.put_setting(name_, kSyncedAtSetting, std::to_string(clock_.unix_ms())));
  if (report.notes_landed > 0) BUCKETPAY_RETURN_IF_ERROR(queue_spend_proofs());
  BUCKETPAY_ASSIGN_OR_RETURN(report.payments_settled, recover());
  BUCKETPAY_RETURN_IF_ERROR(store_.checkpoint_log(kQuietCheckpointPages));
  return report;
}

Result<std::size_t> Wallet::recover() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::size_t deposits, sender_->recover());
  BUCKETPAY_ASSIGN_OR_RETURN(const std::size_t relayed, relay_->recover());
  return deposits + relayed;
}

Status Wallet::queue_spend_proofs() {
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes, store_.list_notes(name_, NoteState::kOnChain));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<ReadyNote> ready, ready_notes(store_, store_, name_));
  std::set<std::int64_t> ready_ids;
  for (const ReadyNote& r : ready) ready_ids.insert(r.note.id);
  std::vector<std::int64_t> ids;
  for (const StoredNote& n : notes) {
    if (ready_ids.count(n.id) == 0) ids.push_back(n.id);
  }
  if (ids.empty()) return Status::ok();
  // Jobs only: the next inventory run or keeper round proves them (an existing job is left as it is).
  BUCKETPAY_ASSIGN_OR_RETURN(const std::unique_ptr<Engine> engine, Engine::open_without_prover(store_, name_));
  PrecomputeOptions po;
  po.batch = "landed-" + std::to_string(clock_.unix_ms());
  return engine->enqueue_spend_precomputes(ids, po).status();
}

Status Wallet::wait_confirmed(std::uint64_t block) {
  const auto start = clock_.steady_now();
  const auto deadline = start + options_.receipt_timeout;
  WaitProgress progress;
  progress.what = "confirmations of block " + std::to_string(block);
  progress.target = block + config_.confirmations;
  progress.want = config_.confirmations;
  progress.timeout_s = static_cast<double>(options_.receipt_timeout.count()) / 1000.0;
  for (;;) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::uint64_t head, chain_->head());
    progress.head = head;
    // A block on top of `block` is one confirmation (the block itself is not counted).
    progress.confirmations = std::min<std::uint64_t>(head > block ? head - block : 0, config_.confirmations);
    progress.elapsed_s = clock_.ms_since(start) / 1000.0;
    progress.done = head >= progress.target;
    if (options_.on_wait && progress.want > 0) options_.on_wait(progress);
    if (progress.done) break;
    if (clock_.steady_now() > deadline) {
      progress.done = true;
      if (options_.on_wait) options_.on_wait(progress);
      return Status::timeout("block " + std::to_string(block) + " has " + std::to_string(progress.confirmations) +
                             " of " + std::to_string(config_.confirmations) + " confirmations after " +
                             std::to_string(std::lround(progress.elapsed_s)) + " s (the chain is at block " +
                             std::to_string(head) + ")");
    }
    clock_.sleep_for(options_.poll_interval);
  }
  return sync().status();
}

// ------------------------------------------------------------------------------------- deposits

Status Wallet::explain_gas(const Status& st) const {
  std::string lower = st.message();
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("insufficient funds") == std::string::npos) return st;
  return Status::failed_precondition("the account " + account().to_checksum() +
                                     " has too little ETH to pay for the gas of its transaction: send it some ETH "
                                     "(the node said: " +
                                     st.message() + ")");
}

Result<DepositReport> Wallet::deposit(Cents amount, bool wait) {
  if (amount == 0) return Status::invalid_argument("a deposit must be positive");
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes, store_.list_notes(name_, std::nullopt));
  NoteCounts have;
  for (const StoredNote& n : notes) {
    if ((n.state == NoteState::kOnChain || n.state == NoteState::kPending) && config_.policy.is_denomination(n.value)) {
      ++have[n.value];
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
    // In dollars (whole cents of the Pool's token, rounded down), as the user counts.
    const eth::U256 held_cents = balance / unit_;
    const Cents held =
        held_cents.fits_u64() ? std::min<Cents>(held_cents.low_u64(), kMaxDepositCentsShown) : kMaxDepositCentsShown;
    return Status::failed_precondition("the account " + account().to_checksum() + " holds " +
                                       wallet_util::dollars(held) + " of the Pool's token; the deposit needs " +
                                       wallet_util::dollars(amount) + ": send it tokens first");
  }
  DepositReport report;
  report.amount = amount;
  report.notes = values;
  BUCKETPAY_ASSIGN_OR_RETURN(const eth::Bytes calldata, record_deposit(values, report));
  const std::int64_t id = report.payment_id;
  if (Status st = approve_if_needed(*wei, report); !st.is_ok()) return sender_->give_up(id, explain_gas(st));
  auto gas = chain_->estimate_gas(account(), config_.pool, calldata);
  if (!gas.ok()) return sender_->give_up(id, explain_gas(gas.status()));
  auto fees = chain_->fees();
  if (!fees.ok()) return sender_->give_up(id, fees.status());
  auto sent =
      sender_->send(SendRequest{id, calldata, "depositMany", *gas + *gas / 5, *fees, clock_.steady_now(), nullptr});
  if (!sent.ok()) return explain_gas(sent.status());
  const Settlement settled = *sent;
  report.tx_hash = eth::to_hex(settled.tx_hash);
  report.gas_used += settled.gas_used;
  if (wait) {
    if (Status st = wait_confirmed(settled.block); !st.is_ok()) {
      if (st.code() != StatusCode::kTimeout) return st;
      return Status::timeout("the deposit landed (tx " + report.tx_hash + ", block " + std::to_string(settled.block) +
                             ") but " + st.message() +
                             "; do not deposit again: `bucketpay sync` confirms its notes once the chain has moved "
                             "on (a chain that mines only on transactions needs `init --confirmations 0`)");
    }
  }
  return report;
}

Result<eth::Bytes> Wallet::record_deposit(const std::vector<Cents>& values, DepositReport& report) {
  // The notes go in the store (pending) before anything is sent, so a crash cannot lose them.
  Payment p;
  p.kind = PaymentKind::kDeposit;
  p.amount = report.amount;
  // Deposits publish only each note's hidden owner H(pk, r) and its value.
  std::vector<eth::U256> owners;
  for (Cents v : values) {
    const Note note = Note::create(pk_, v);
    BUCKETPAY_ASSIGN_OR_RETURN(const std::int64_t id, wallet_util::insert_pending_note(store_, name_, note));
    p.new_note_ids.push_back(id);
    owners.push_back(wallet_util::to_u256(note.owner()));
  }
  const std::vector<std::uint64_t> raw_values(values.begin(), values.end());
  BUCKETPAY_ASSIGN_OR_RETURN(eth::Bytes calldata, eth::PoolClient::encode_deposit_many(owners, raw_values));
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
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<ReadyNote> ready, ready_notes(store_, store_, name_));
  std::set<std::int64_t> ready_ids;
  for (const ReadyNote& r : ready) ready_ids.insert(r.note.id);
  std::vector<std::int64_t> ids;
  for (const StoredNote& n : notes) {
    if (ready_ids.count(n.id) == 0) ids.push_back(n.id);
  }
  report.cached = ready.size();
  BUCKETPAY_ASSIGN_OR_RETURN(const JobCounts queued, store_.job_counts(std::nullopt));
  if (ids.empty() && queued.pending == 0) return report;
  BUCKETPAY_ASSIGN_OR_RETURN(ProverPool* const pool, prover());
  BUCKETPAY_RETURN_IF_ERROR(indexer_->refresh_tree());
  // The engine proves on the wallet's own tree: one copy of it in the process.
  BUCKETPAY_ASSIGN_OR_RETURN(const std::unique_ptr<Engine> engine, Engine::open(store_, *pool, name_, tree_));
  PrecomputeOptions po;
  po.on_progress = options_.on_progress;
  po.on_failed = options_.on_failed;
  po.batch = "inventory-" + std::to_string(clock_.unix_ms());
  BUCKETPAY_ASSIGN_OR_RETURN(const PrecomputeReport r, engine->generate_spend_precomputes(ids, po));
  report.proved = r.proved;
  report.cached += r.cached;
  report.failed = r.failed;
  report.errors = r.errors;
  report.seconds = clock_.ms_since(t0) / 1000.0;
  return report;
}

// ---------------------------------------------------------------------------- payments, splits

Result<PaymentReport> Wallet::pay(Cents amount, const eth::Address& to, MissingPolicy policy,
                                  const std::string& relayer_url, std::uint64_t deadline_s) {
  if (config_.limits.any()) {
    BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Payment> payments, store_.list_payments(name_, std::nullopt));
    BUCKETPAY_RETURN_IF_ERROR(check_spend_limits(config_.limits, payments, amount, to, clock_.unix_ms()));
  }
  return payer_->pay(amount, to, policy, relayer_url.empty() ? config_.relayer : relayer_url, deadline_s);
}

Result<PaymentReport> Wallet::wait_settled(const PaymentReport& paid) {
  PaymentReport report = paid;
  const auto start = clock_.steady_now();
  const auto deadline = start + options_.receipt_timeout;
  WaitProgress progress;
  progress.what = "payment " + std::to_string(paid.payment_id) + " to land";
  progress.timeout_s = static_cast<double>(options_.receipt_timeout.count()) / 1000.0;
  for (;;) {
    BUCKETPAY_ASSIGN_OR_RETURN(const Payment p, relay_->settle(paid.payment_id));
    report.state = p.state;
    progress.elapsed_s = clock_.ms_since(start) / 1000.0;
    progress.done =
        p.state == PaymentState::kConfirmed || p.state == PaymentState::kFailed || clock_.steady_now() > deadline;
    if (options_.on_wait) {
      if (auto head = chain_->head(); head.ok()) progress.head = *head;
      options_.on_wait(progress);
    }
    if (p.state == PaymentState::kConfirmed || p.state == PaymentState::kFailed) {
      BUCKETPAY_RETURN_IF_ERROR(store_.checkpoint_log(kQuietCheckpointPages));
      report.settled_by = p.settled_by;
      report.block = p.block;
      report.error = p.error;
      if (!p.relayer_tx.empty()) report.relayer_tx = p.relayer_tx;
      return report;
    }
    if (clock_.steady_now() > deadline) {
      return Status::timeout("payment " + std::to_string(paid.payment_id) + " (" + paid.digest +
                             ") is not on chain yet; it may still land until its deadline " +
                             std::to_string(p.deadline) + " (Unix s): `bucketpay sync` settles it");
    }
    clock_.sleep_for(options_.poll_interval);
    // The deadline rule reads the synced chain: keep it moving.
    BUCKETPAY_RETURN_IF_ERROR(indexer_->sync().status());
  }
}

Result<RebalanceReport> Wallet::rebalance(bool wait) {
  BUCKETPAY_RETURN_IF_ERROR(sync().status());
  BUCKETPAY_ASSIGN_OR_RETURN(RebalanceReport report, rebalancer_->run(config_.relayer));
  if (!wait) return report;
  std::uint64_t last_block = 0;
  for (std::int64_t id : report.payment_ids) {
    PaymentReport handed;
    handed.payment_id = id;
    BUCKETPAY_ASSIGN_OR_RETURN(const PaymentReport settled, wait_settled(handed));
    if (settled.state == PaymentState::kConfirmed) {
      ++report.settled;
      last_block = std::max(last_block, settled.block);
    }
  }
  if (last_block > 0) BUCKETPAY_RETURN_IF_ERROR(wait_confirmed(last_block));
  return report;
}

// -------------------------------------------------------------------------------------- reports

Result<BalanceReport> Wallet::balance() { return stored_balance(store_, name_); }

Result<BalanceReport> Wallet::stored_balance(Store& store, std::string_view name) {
  const std::string wallet(name);
  BUCKETPAY_ASSIGN_OR_RETURN(const WalletConfig config, load_config(store, wallet));
  BalanceReport b;
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<std::string> synced_at, store.get_setting(wallet, kSyncedAtSetting));
  if (synced_at) {
    try {
      b.synced_at_ms = std::stoll(*synced_at);
    } catch (const std::exception&) {
      return Status::corruption("wallet setting " + std::string(kSyncedAtSetting) + " is not a number");
    }
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<StoredNote> notes, store.list_notes(wallet, std::nullopt));
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<ReadyNote> ready_list, ready_notes(store, store, wallet));
  std::set<std::int64_t> ready;
  for (const ReadyNote& r : ready_list) ready.insert(r.note.id);
  // The outputs of failed payments stay pending in case a copy of their transaction lands: they
  // are not counted as coming.
  BUCKETPAY_ASSIGN_OR_RETURN(const std::vector<Payment> failed, store.list_payments(wallet, PaymentState::kFailed));
  std::set<std::int64_t> kept;
  for (const Payment& p : failed) kept.insert(p.new_note_ids.begin(), p.new_note_ids.end());
  std::map<Cents, std::size_t> index;
  for (const Denomination& d : config.policy.denominations) {
    index[d.value] = b.denominations.size();
    b.denominations.push_back(DenominationCount{d.value, d.target, 0, 0});
  }
  for (const StoredNote& n : notes) {
    if (n.state == NoteState::kPending && kept.count(n.id) == 0) b.pending += n.value;
    if (n.state == NoteState::kSpending) b.reserved += n.value;
    if (n.state != NoteState::kOnChain) continue;
    b.on_chain += n.value;
    const bool is_ready = ready.count(n.id) != 0;
    if (is_ready) b.ready += n.value;
    if (auto at = index.find(n.value); at != index.end()) {
      auto& d = b.denominations[at->second];
      ++d.notes;
      if (is_ready) ++d.ready;
    } else {
      ++b.other_notes;
      b.other_value += n.value;
    }
  }
  BUCKETPAY_ASSIGN_OR_RETURN(const std::optional<BlockRef> cursor, store.sync_cursor());
  b.synced_block = cursor ? cursor->number : 0;
  return b;
}

Result<std::vector<Payment>> Wallet::history() { return store_.list_payments(name_, std::nullopt); }

}  // namespace bucketpay
