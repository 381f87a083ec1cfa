// The payments wallet (protocol v2): a spending key, notes in the Pool, an inventory of precomputed
// spend proofs, and payments made from them through relayers (docs/protocol.md; docs/wallet.md).
//
//   init -> deposit -> sync -> inventory (spend proofs) -> pay ... -> rebalance (split proofs) -> ...
//
// State lives in a Store (one wallet name in it): the spending key and the Ethereum account key
// (sealed), settings (node, Pool, relayer, payment deadline, confirmations, policy), notes and their
// states, the tree rebuilt from the Pool's events, precomputes, and the payments journal.
//
// The wallet is made of parts (src/wallet), each with its own contract:
//   ChainIndexer   (chain_indexer.h)    sync: the Pool's events into the store, reorganisations;
//   PaymentSender  (payment_sender.h)   the wallet's own transactions (deposits): record, sign, send,
//                                       recover, settle by receipt;
//   PaymentRelay   (payment_relay.h)    relayed payments: journal the signed bundle, hand it to a
//                                       relayer, settle it by chain truth, free it after its deadline;
//   FeeQuotes      (fee_quotes.h)       the relayers' fee quotes, cached while valid;
//   Payer          (payer.h)            plan, reserve, sign and hand over a payment;
//   Rebalancer     (rebalancer.h)       the policy's fan-out splits, through the relayer;
// over one narrow view of the chain (eth::PoolChain, bucketpay/pool_chain.h: a node, or a scripted
// chain in unit tests), relayers (eth::RelayerClient, bucketpay/relayer_client.h: HTTP, or a
// scripted relayer in unit tests) and one Clock (bucketpay/clock.h). One tree (the store's leaves)
// serves the indexer, the splits and the engine that proves the inventory.
//
// Who sends what. The wallet's Ethereum account sends only deposits (and the token approval). A
// payment or a split is an EIP-712 Payment signed by the spent notes' one-time auth keys (derived
// from sk and each note: a backup of sk and the notes restores them), bundled with the notes'
// proofs and handed to a relayer, who sends it and takes the signed fee. Anyone holding the bundle
// may send it; it can only pay the same people the same amounts, once, before its deadline.
//
// Sync. The Pool's events (Inserted, Spent, Paid) are read with eth_getLogs in ranges up to the head
// minus the confirmation depth, and applied one range per store transaction (idempotent: a crash
// mid-sync re-reads the range). The local tree's root is checked against the root each event
// carries. A reorganisation is detected by the hash of the last synced block; the wallet then walks
// back to the newest remembered block still on the chain, rolls the store back to it (leaves, note
// positions, spent marks, confirmed payments) and syncs forward again; precomputes whose root is
// gone are dropped and re-proved. Notes that land get their spend proofs queued (proving jobs), for
// the next inventory run or keeper round.
//
// Payments and settlement (chain truth). pay() takes the relayer's fee quote (fetched before the
// latency clock starts, cached while valid), rounds it up to whole cents f, plans notes with ready
// spend proofs summing to A + f (fewest notes), reserves them with a deadline, signs the Payment
// {nullifiers, to, f * UNIT, the relayer's fee recipient, deadline} with each note's auth key,
// journals the bundle (its digest) and hands it to the relayer. A relayed payment is settled when
// every one of its nullifiers is spent by a Spent event carrying its digest, whoever sent the
// transaction (that transaction is recorded); it is free again (its notes released, its split
// outputs deleted) only once the synced chain has a block whose timestamp is past its deadline and
// it is still unpaid. A relayer that refuses or does not answer frees nothing early: the bundle may
// be in someone's hands. Until the deadline, recover() hands the bundle over again when the relayer
// does not know it. Deposits are settled from their receipts (PaymentSender).
//
// Thread safety: a Wallet is used by one thread at a time. Several processes may share a store;
// reservations keep them from spending one note twice, and the account's sender lock from signing
// one nonce twice.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/amount.h"
#include "bucketpay/chain.h"
#include "bucketpay/clock.h"
#include "bucketpay/engine.h"
#include "bucketpay/merkle_tree.h"
#include "bucketpay/note.h"
#include "bucketpay/pool_chain.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/prover.h"
#include "bucketpay/relayer_client.h"
#include "bucketpay/store.h"

namespace bucketpay {

// One denomination of an inventory policy: notes of `value` cents, `target` of them kept ready.
struct Denomination {
  Cents value = 0;
  std::uint32_t target = 0;
  friend bool operator==(const Denomination&, const Denomination&) = default;
};

// Notes per value (cents -> how many).
using NoteCounts = std::map<Cents, std::uint32_t>;

// The largest denomination a policy may name: the largest amount one payment carries.
inline constexpr Cents kMaxDenomination = kMaxPaymentCents;

// Which denominations the wallet keeps notes of, and how many of each it keeps ready. A note whose
// value is no denomination is "odd": change the policy did not want; payments and splits use odd
// notes first (docs/wallet.md, "Inventory policy").
struct InventoryPolicy {
  // Ascending by value, distinct, each 1..kMaxDenomination.
  std::vector<Denomination> denominations;

  // For a balance around $1,000: the binary ladder (every power of two from $0.01 to $655.36),
  // 3 notes of each from $0.01 to $81.92 and 2 of $163.84 ($819.17 in all).
  static InventoryPolicy defaults();
  // "default", or comma-separated CENTS=COUNT items naming the denominations and their targets,
  // e.g. "5=20,10=10,20=10,40=4,80=0" (any value 1..kMaxDenomination; COUNT 0..1000, 0 naming a
  // denomination kept at no target). When every value named is a power of two the policy is the
  // binary ladder: every power of two from 1 to 65,536 cents is a denomination, the unnamed ones at
  // target 0 ("1=4,2=4,1024=2"; what earlier versions stored). kInvalidArgument naming the bad item
  // (a value named twice included).
  static Result<InventoryPolicy> parse(std::string_view text);
  // The CENTS=COUNT form parse() reads back (a ladder's zero targets left out).
  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] Cents target_value() const;  // the sum of all targets
  [[nodiscard]] bool is_denomination(Cents value) const;
  [[nodiscard]] std::uint32_t target(Cents value) const;  // 0 for a value that is no denomination
  [[nodiscard]] std::vector<Cents> values() const;        // the denominations' values, ascending
  // Every value a power of two (the binary ladder).
  [[nodiscard]] bool powers_of_two() const;
  // How many notes of each denomination `have` lacks to reach the targets (only those short).
  [[nodiscard]] NoteCounts shortage(const NoteCounts& have) const;

  // The note values a deposit of `amount` creates: first the notes missing from the targets (given
  // `have` notes per value), smallest first, while they fit; then the largest denominations that
  // fit, again and again (for the ladder: 65,536-cent notes, then the binary decomposition of the
  // rest); what no denomination makes (less than the smallest, say) as one odd note. Largest first.
  [[nodiscard]] std::vector<Cents> deposit_values(Cents amount, const NoteCounts& have) const;
};

// What pay() does when the ready proofs cannot make the amount (with the fee) exactly.
enum class MissingPolicy : std::uint8_t {
  kRefuse,  // fail with kNotFound saying what is missing
  kSplit,   // prove a split on demand: the amount and the fee from one note, change back to the wallet
  // Prove that split even when ready proofs could pay: the seed's way of paying (one withdrawal
  // from one note, proved for this payment), which bench/payments measures beside the inventory's.
  kAlwaysSplit,
};

// Caps on what pay() spends (docs/x402.md, "Spending limits"), in cents; 0: no cap. Amounts are
// what recipients receive (fees not included); payments that failed do not count, payments in
// flight do.
struct SpendLimits {
  Cents per_payment = 0;            // one payment
  Cents per_payee = 0;              // to one recipient within a period
  Cents per_period = 0;             // to everyone within a period
  std::uint64_t period_s = 86'400;  // the period: the last this many seconds

  // "none", or comma-separated KEY=VALUE items: payment=CENTS, payee=CENTS, period=CENTS,
  // period_s=SECONDS (e.g. "payee=500,period=2000,period_s=3600"). kInvalidArgument naming the
  // bad item.
  static Result<SpendLimits> parse(std::string_view text);
  [[nodiscard]] std::string to_string() const;  // what parse() reads back
  [[nodiscard]] bool any() const { return per_payment != 0 || per_payee != 0 || per_period != 0; }
  friend bool operator==(const SpendLimits&, const SpendLimits&) = default;
};

// OK when paying `amount` to `to` at `now_ms` stays within `limits`, given the wallet's
// `payments` (its journal); else kResourceExhausted saying which cap and what is left.
Status check_spend_limits(const SpendLimits& limits, const std::vector<Payment>& payments, Cents amount,
                          const eth::Address& to, std::int64_t now_ms);

// The wallet's settings, kept in the store.
struct WalletConfig {
  std::string rpc_url;                   // the node, e.g. http://127.0.0.1:8545
  eth::Address pool;                     // the Pool contract
  std::string relayer;                   // the relayer's URL (bucketpay relay); empty: pay must name one
  std::uint64_t payment_deadline = 300;  // seconds a signed payment may land in (its deadline)
  std::uint64_t confirmations = 2;       // blocks on top of a block before the wallet believes it
  std::uint64_t start_block = 0;         // where sync starts (the Pool's deployment block)
  std::uint64_t log_range = 1000;        // blocks per eth_getLogs request
  InventoryPolicy policy = InventoryPolicy::defaults();
  SpendLimits limits;  // none by default
};

// What a wait is at, for a progress line: confirmations of a block, or a payment to land.
struct WaitProgress {
  std::string what;                 // "confirmations of block 120", "payment 7 to land"
  std::uint64_t head = 0;           // the chain's head
  std::uint64_t target = 0;         // the head the wait needs (0: none, a payment waits for events)
  std::uint64_t confirmations = 0;  // of `want` so far (confirmation waits)
  std::uint64_t want = 0;
  double elapsed_s = 0;
  double timeout_s = 0;
  bool done = false;  // the last call of this wait
};

struct WalletOptions {
  // The node for this session instead of the configured one (`--rpc-url`, ETH_RPC_URL); empty: the
  // wallet's own (WalletConfig::rpc_url).
  std::string rpc_url;
  // Starts a prover when one is needed (inventory, rebalance, on-demand splits); null: commands
  // that need proofs fail with kFailedPrecondition.
  std::function<Result<std::unique_ptr<ProverPool>>()> start_prover;
  // Proving progress (inventory, rebalance).
  std::function<void(std::size_t done, std::size_t total)> on_progress;
  // Called for each proof of build_inventory() that failed, before on_progress counts it.
  std::function<void()> on_failed;
  // Called at every poll of a wait (wait_confirmed, wait_settled), and once with done = true.
  std::function<void(const WaitProgress&)> on_wait;
  // How long to wait for a receipt, and for deposits to reach the confirmation depth.
  std::chrono::milliseconds receipt_timeout{120'000};
  std::chrono::milliseconds poll_interval{200};
  // The clock of deadlines, polling and the journal's grace; null: Clock::system(). Outlives the
  // wallet.
  Clock* clock = nullptr;
  // The relayer at a URL; null: the HTTP client (eth::connect_relayer). Called once per URL.
  std::function<Result<std::unique_ptr<eth::RelayerClient>>(const std::string& url)> connect_relayer;
};

struct SyncReport {
  std::uint64_t from_block = 0;         // first block read (0 when already up to date)
  std::uint64_t to_block = 0;           // the cursor afterwards
  std::size_t leaves = 0;               // leaves added
  std::size_t notes_landed = 0;         // the wallet's pending notes now on chain
  std::size_t notes_spent = 0;          // the wallet's notes seen spent
  std::uint64_t reorg_depth = 0;        // blocks rolled back (0: none)
  std::size_t precomputes_dropped = 0;  // by a reorganisation
  std::size_t payments_settled = 0;     // journal entries recovered
  // Payments whose receipt a reorganisation took away (above the cursor, so no rollback): back in
  // flight, then settled again (payments_settled counts them too when that happened in this sync).
  std::size_t payments_reopened = 0;
};

struct DenominationCount {
  Cents value = 0;
  std::uint32_t target = 0;
  std::uint32_t notes = 0;  // on chain and unspent
  std::uint32_t ready = 0;  // of which with a ready spend proof
};

struct BalanceReport {
  Cents on_chain = 0;  // spendable notes (on chain, not reserved)
  Cents ready = 0;     // of which covered by ready spend proofs
  // Deposits and change not yet confirmed (not the outputs of failed payments, kept in case a copy
  // of their transaction still lands).
  Cents pending = 0;
  Cents reserved = 0;                            // in payments in flight
  std::vector<DenominationCount> denominations;  // the policy's denominations, smallest first
  std::uint32_t other_notes = 0;                 // odd notes: values that are no denomination (change)
  Cents other_value = 0;
  std::uint64_t synced_block = 0;
  std::optional<std::int64_t> synced_at_ms;  // when the last sync finished (Unix ms), if one did
};

struct PaymentReport {
  std::int64_t payment_id = 0;
  Cents amount = 0;  // what the recipient receives
  eth::Address recipient;
  Cents fee = 0;                  // the relayer's fee, in whole cents (the quote rounded up)
  std::vector<Cents> notes;       // the values spent, largest first
  bool proved_on_demand = false;  // a split was proved for this payment
  std::string digest;             // the payment digest (0x hex)
  std::string bundle_hash;        // keccak256 of the Pool calldata the bundle makes (0x hex; x402)
  // x402: the release of this payment's stage at the facilitator, 0x + 65 bytes r || s || v: the
  // first note's auth key over eth::x402_release_message(digest, bundle_hash) (relay_api.h).
  std::string release_signature;
  std::uint64_t deadline = 0;  // Unix s
  std::string relayer;         // the URL it was handed to
  // From the call to the signed bundle journaled and ready for the relayer: the wallet's part
  // (planning, reserving the notes, signing with each note's auth key, journaling; and proving, on
  // demand). The fee quote is fetched (or taken from the cache) before the clock starts.
  double bundle_ready_ms = 0;
  // From the same call to the relayer's answer: bundle_ready_ms, then the hand-over (the relayer's
  // own checks, its eth_call of the transaction, and its send).
  double latency_ms = 0;
  double prove_ms = 0;                            // of which proving (on-demand only)
  std::string relayer_tx;                         // the relayer's transaction, as it reported it
  PaymentState state = PaymentState::kSubmitted;  // after pay(): submitted; after wait_settled(): the end
  std::string settled_by;                         // the transaction that paid it (wait_settled)
  std::uint64_t block = 0;                        // its block (wait_settled)
  std::string error;                              // why it failed (wait_settled)
};

struct DepositReport {
  std::int64_t payment_id = 0;
  Cents amount = 0;
  std::vector<Cents> notes;
  std::string tx_hash;
  std::uint64_t gas_used = 0;  // deposit transaction (plus approval, if one was needed)
};

struct RebalanceReport {
  std::size_t splits = 0;         // splits handed to the relayer
  std::size_t settled = 0;        // of which landed (when the round waited for them)
  std::vector<std::string> made;  // "$10.24 -> $5.12 + $2.56 + ... (fee $0.04)" per split
  Cents fees = 0;                 // the relayer's fees, in cents
  double prove_ms = 0;
  std::vector<std::int64_t> payment_ids;
};

struct InventoryReport {
  std::size_t proved = 0;
  std::size_t cached = 0;
  std::size_t failed = 0;
  std::vector<std::string> errors;
  double seconds = 0;
};

class ChainIndexer;
class PaymentSender;
class PaymentRelay;
class FeeQuotes;
class Payer;
class Rebalancer;
class AccountSigner;

class Wallet {
 public:
  // Creates the wallet `name` in `store`: a fresh spending key and Ethereum account key (sealed;
  // the store needs a vault), and `config`. kAlreadyExists when the wallet has a key.
  static Status create(Store& store, std::string_view name, const WalletConfig& config);
  // Opens the wallet, connects to its node (config.rpc_url) and settles the journal (recover()).
  static Result<std::unique_ptr<Wallet>> open(Store& store, const std::string& name, WalletOptions options = {});
  // The same over a given chain (e.g. a scripted one in tests); config.rpc_url is not used.
  static Result<std::unique_ptr<Wallet>> open(Store& store, const std::string& name,
                                              std::unique_ptr<eth::PoolChain> chain, WalletOptions options = {});
  ~Wallet();
  Wallet(const Wallet&) = delete;
  Wallet& operator=(const Wallet&) = delete;

  [[nodiscard]] const WalletConfig& config() const { return config_; }
  // The Pool's token and EIP-712 domain (chain id, Pool).
  [[nodiscard]] const eth::Address& token() const { return token_; }
  [[nodiscard]] const eth::PaymentDomain& domain() const { return domain_; }
  [[nodiscard]] const eth::Address& account() const;  // sends the deposits
  [[nodiscard]] const Fr& owner_key() const { return pk_; }
  [[nodiscard]] eth::PoolChain& chain() { return *chain_; }
  [[nodiscard]] const eth::U256& unit() const { return unit_; }  // token base units per cent

  // Reads the Pool's events up to head - confirmations (see above), queues the spend proofs of the
  // notes that landed, and settles the journal.
  Result<SyncReport> sync();
  // Settles unfinished journal entries (see above); returns how many were settled.
  Result<std::size_t> recover();

  // Deposits `amount` as denomination notes (InventoryPolicy::deposit_values) with one
  // depositMany, approving the Pool first when needed; waits for the receipt, then (when
  // `wait_confirmed`) until the notes are confirmed and synced. A wait that times out after the
  // deposit landed is kTimeout saying so (its transaction and block): the deposit is not to be
  // made again; `sync` confirms its notes once the chain has moved on.
  Result<DepositReport> deposit(Cents amount, bool wait_confirmed = true);
  // Proves the spend of every spendable note that has no ready proof (and every queued job).
  Result<InventoryReport> build_inventory();
  // One round of fan-out splits that move the inventory towards the policy's targets (plan_splits
  // in src/wallet/rebalancer.h), after a sync, handed to the relayer. When `wait_confirmed`, waits
  // until they settle and their outputs are confirmed; then build_inventory() makes their proofs.
  Result<RebalanceReport> rebalance(bool wait_confirmed = true);
  // Pays `amount` to `to` through the relayer at `relayer` (empty: the configured one), see above.
  // Returns once the relayer took the bundle. kNotFound (a refusal saying what is missing) when the
  // ready proofs cannot make the amount and the fee and the policy is kRefuse, or when the balance
  // is short; kFailedPrecondition when the relayer refused it (the notes stay reserved until the
  // deadline); kUnavailable / kTimeout when the relayer could not be reached (likewise).
  // Refused with kResourceExhausted before anything is reserved when it would pass a spending
  // limit (WalletConfig::limits). `deadline_s` (0: payment_deadline) is how long the signed
  // payment may land in (x402: maxTimeoutSeconds).
  Result<PaymentReport> pay(Cents amount, const eth::Address& to, MissingPolicy policy = MissingPolicy::kRefuse,
                            const std::string& relayer = "", std::uint64_t deadline_s = 0);
  // Waits (syncing, on the wallet's clock, at most options.receipt_timeout) until the payment is
  // settled on chain or failed; its report filled in with how it ended. kTimeout when it is still in
  // flight.
  Result<PaymentReport> wait_settled(const PaymentReport& paid);

  Result<BalanceReport> balance();
  // The same from the store alone, without a node (what the last sync saw).
  static Result<BalanceReport> stored_balance(Store& store, std::string_view name);
  Result<std::vector<Payment>> history();

  // Blocks until the chain head reaches `block` + confirmations, then syncs (kTimeout after
  // options.receipt_timeout on the wallet's clock, saying how many confirmations the block has).
  Status wait_confirmed(std::uint64_t block);

 private:
  // What the wallet reads of its Pool when it opens.
  struct PoolInfo {
    eth::U256 unit;
    eth::Address token;
    eth::PaymentDomain domain;
  };
  Wallet(Store& store, std::string name, WalletOptions options, WalletConfig config, const Fr& sk,
         std::unique_ptr<eth::PoolChain> chain, const eth::PrivateKey& account_key, PoolInfo pool);
  static Result<std::unique_ptr<Wallet>> open_on(Store& store, const std::string& name, WalletOptions options,
                                                 WalletConfig config, std::unique_ptr<eth::PoolChain> chain);
  static Result<PoolInfo> read_pool(eth::PoolChain& chain, const WalletConfig& config);
  Result<ProverPool*> prover();
  // The relayer at `url` (connected once, kept).
  Result<eth::RelayerClient*> relayer(const std::string& url);
  // The deposit's notes, kept pending, and its payment recorded; its calldata.
  Result<eth::Bytes> record_deposit(const std::vector<Cents>& values, DepositReport& report);
  // Approves the Pool for the token once, when the allowance is below `wei`.
  Status approve_if_needed(const eth::U256& wei, DepositReport& report);
  // A node's "insufficient funds" (for gas) said in words, naming the account; other errors as they are.
  [[nodiscard]] Status explain_gas(const Status& st) const;
  // Queues spend proofs for the wallet's notes on chain that have neither a proof nor a job.
  Status queue_spend_proofs();

  Store& store_;
  std::string name_;
  WalletOptions options_;
  WalletConfig config_;
  Fr sk_;
  Fr pk_;
  Clock& clock_;
  std::unique_ptr<eth::PoolChain> chain_;
  std::unique_ptr<AccountSigner> signer_;
  MerkleTree tree_;  // the store's leaves: the chain's tree up to the sync cursor; shared by the parts
  std::unique_ptr<ChainIndexer> indexer_;
  std::unique_ptr<PaymentSender> sender_;
  std::unique_ptr<PaymentRelay> relay_;
  std::unique_ptr<FeeQuotes> quotes_;
  std::unique_ptr<Payer> payer_;
  std::unique_ptr<Rebalancer> rebalancer_;
  eth::U256 unit_;
  eth::Address token_;
  eth::PaymentDomain domain_;
  std::unique_ptr<ProverPool> prover_;
  std::map<std::string, std::unique_ptr<eth::RelayerClient>> relayers_;
};

// Settings keys and config round trip (the store keeps WalletConfig as settings).
Status save_config(Store& store, std::string_view wallet, const WalletConfig& config);
Result<WalletConfig> load_config(Store& store, std::string_view wallet);

// Backups: the wallet's secrets and notes in one file sealed with a passphrase (Argon2id +
// XChaCha20-Poly1305, like the store's vault), to restore into a new store. The file is JSON:
// {"format":"bucketpay-backup-1","kdf":{...salt, params},"sealed":"0x..."}; nothing in clear but
// the format and KDF parameters.
Result<std::string> export_backup(Store& store, std::string_view wallet, std::string_view passphrase,
                                  VaultParams params = VaultParams::moderate());
// Restores into `store` (which must not have the wallet): keys, settings, and the notes as
// pending, so that the next sync finds where they are and which are spent (each note's auth key is
// derived again from sk and the note). Returns how many notes.
// kInvalidArgument for a malformed file, a wrong passphrase or a tampered file.
Result<std::size_t> import_backup(Store& store, std::string_view backup_json, std::string_view passphrase);

}  // namespace bucketpay
