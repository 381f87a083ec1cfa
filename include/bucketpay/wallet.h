// The payments wallet: a spending key, notes in the Pool, an inventory of precomputed spend proofs,
// and payments made from them (docs/protocol.md, "Precomputes and payments"; docs/wallet.md).
//
//   init -> deposit -> sync -> inventory (spend proofs) -> pay ... -> rebalance (split proofs) -> ...
//
// State lives in a Store (one wallet name in it): the spending key and the Ethereum account key
// (sealed), settings (node, Pool, payee, confirmations, policy), notes and their states, the tree
// rebuilt from the Pool's events, precomputes, and the payments journal.
//
// The wallet is made of parts (src/wallet), each with its own contract:
//   ChainIndexer   (chain_indexer.h)    sync: the Pool's events into the store, reorganisations;
//   PaymentSender  (payment_sender.h)   record, sign, send, recover and settle every transaction;
//   Payer          (payer.h)            plan, reserve and build a payment;
//   Rebalancer     (rebalancer.h)       the policy's splits;
// over one narrow view of the chain (eth::PoolChain, bucketpay/pool_chain.h: a node, or a scripted
// chain in unit tests) and one Clock (bucketpay/clock.h). One tree (the store's leaves) serves the
// indexer, the on-demand splits and the engine that proves the inventory.
//
// Sync. The Pool's events are read with eth_getLogs in ranges up to the head minus the
// confirmation depth, and applied one range per store transaction (idempotent: a crash mid-sync
// re-reads the range). The local tree's root is checked against the root each event carries. A
// reorganisation is detected by the hash of the last synced block; the wallet then walks back to
// the newest remembered block still on the chain, rolls the store back to it (leaves, note
// positions, spent marks, confirmed payments) and syncs forward again; precomputes whose root is
// gone are dropped and re-proved by the next inventory run. A chain that changes while it is read
// is read again, a bounded number of times.
//
// Payments. pay() plans from notes whose spend proof for the recipient is ready (fewest notes),
// reserves them, signs one spendBatch and records the signed transaction in the journal before
// sending it. A crash at any point is recovered by recover() (run by open() and sync()): a payment
// never signed is released once it is 5 minutes old (a younger one may be in progress in another
// process); a signed one is looked up by its hash, re-broadcast byte for byte when the
// node does not know it (same nonce, same hash: it cannot be mined twice), and settled from its
// receipt, or from the chain's events when its own transaction reverted or can never be mined (a
// copy of its calldata sent by someone else paid it: it is confirmed, not failed). A note is never
// put in two payments: reservation is a compare-and-set in the store.
//
// Recipients. A spend proof binds its recipient (a public input), so the inventory is proved for
// one address, the wallet's payee (e.g. a card issuer's settlement address). Paying another address
// finds no ready proofs: the MissingPolicy decides (an on-demand split proof, or a refusal).
//
// Thread safety: a Wallet is used by one thread at a time. Several processes may share a store;
// reservations keep them from spending one note twice, and the account's sender lock from signing
// one nonce twice.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
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
#include "bucketpay/store.h"

namespace bucketpay {

// How many notes of each denomination (2^i cents, i = 0..16) the wallet keeps ready.
struct InventoryPolicy {
  std::array<std::uint32_t, kBucketCount> targets{};

  // For a balance around $1,000: 3 notes of each denomination from $0.01 to $81.92, 2 of $163.84
  // (819.17 dollars in all); what a deposit brings beyond that is kept in power-of-two notes too.
  static InventoryPolicy defaults();
  // "default", or comma-separated CENTS=COUNT pairs for powers of two, e.g. "1=4,2=4,1024=2"
  // (unlisted denominations: 0). kInvalidArgument naming the bad item.
  static Result<InventoryPolicy> parse(std::string_view text);
  [[nodiscard]] std::string to_string() const;  // the CENTS=COUNT form (parse() reads it back)
  [[nodiscard]] Cents target_value() const;     // the sum of all targets

  // The note values a deposit of `amount` creates: first the notes missing from the targets (given
  // `have` notes per denomination), smallest first, while they fit; the rest as its binary
  // decomposition (2^16-cent notes for anything above). Every value is a power of two.
  [[nodiscard]] std::vector<Cents> deposit_values(Cents amount,
                                                  const std::array<std::uint32_t, kBucketCount>& have) const;
};

// What pay() does when the ready proofs cannot make the amount exactly.
enum class MissingPolicy : std::uint8_t {
  kRefuse,  // fail with kNotFound saying what is missing
  kSplit,   // prove a split on demand: withdraw the amount from one note, change back to the wallet
};

// The wallet's settings, kept in the store.
struct WalletConfig {
  std::string rpc_url;              // the node, e.g. http://127.0.0.1:8545
  eth::Address pool;                // the Pool contract
  eth::Address payee;               // the recipient the inventory is proved for
  std::uint64_t confirmations = 2;  // blocks on top of a block before the wallet believes it
  std::uint64_t start_block = 0;    // where sync starts (the Pool's deployment block)
  std::uint64_t log_range = 1000;   // blocks per eth_getLogs request
  InventoryPolicy policy = InventoryPolicy::defaults();
};

struct WalletOptions {
  // Starts a prover when one is needed (inventory, rebalance, on-demand splits); null: commands
  // that need proofs fail with kFailedPrecondition.
  std::function<Result<std::unique_ptr<ProverPool>>()> start_prover;
  // Proving progress (inventory, rebalance).
  std::function<void(std::size_t done, std::size_t total)> on_progress;
  // How long to wait for a receipt, and for deposits to reach the confirmation depth.
  std::chrono::milliseconds receipt_timeout{120'000};
  std::chrono::milliseconds poll_interval{200};
  // The clock of deadlines, polling and the journal's grace; null: Clock::system(). Outlives the
  // wallet.
  Clock* clock = nullptr;
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
  std::uint32_t ready = 0;  // of which with a spend proof for the payee
};

struct BalanceReport {
  Cents on_chain = 0;  // spendable notes (on chain, not reserved)
  Cents ready = 0;     // of which covered by ready proofs for the payee
  // Deposits and change not yet confirmed (not the outputs of failed payments, kept in case a copy
  // of their transaction still lands).
  Cents pending = 0;
  Cents reserved = 0;                            // in payments in flight
  std::vector<DenominationCount> denominations;  // the 17 bucket denominations
  std::uint32_t other_notes = 0;                 // notes whose value is not a denomination (change)
  Cents other_value = 0;
  std::uint64_t synced_block = 0;
};

struct PaymentReport {
  std::int64_t payment_id = 0;
  Cents amount = 0;
  eth::Address recipient;
  std::vector<Cents> notes;       // the values spent, largest first
  bool proved_on_demand = false;  // a split was proved for this payment
  // From the call to the signed transaction in the journal: planning, reserving the notes, encoding,
  // signing (and proving, on demand). No chain time: fee data is read before the clock starts.
  double latency_ms = 0;
  double prove_ms = 0;  // of which proving (on-demand only)
  std::string tx_hash;
  std::uint64_t gas_used = 0;
  std::uint64_t block = 0;
};

struct DepositReport {
  std::int64_t payment_id = 0;
  Cents amount = 0;
  std::vector<Cents> notes;
  std::string tx_hash;
  std::uint64_t gas_used = 0;  // deposit transaction (plus approval, if one was needed)
};

struct RebalanceReport {
  std::size_t splits = 0;         // split transactions made
  std::vector<std::string> made;  // "$10.24 -> $0.04 + $10.20" per split
  std::uint64_t gas_used = 0;
  double prove_ms = 0;
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
class Payer;
class Rebalancer;
class AccountSigner;

class Wallet {
 public:
  // Creates the wallet `name` in `store`: a fresh spending key and Ethereum account key (sealed;
  // the store needs a vault), and `config`. kAlreadyExists when the wallet has a key.
  static Status create(Store& store, std::string_view name, const WalletConfig& config);
  // Opens the wallet, connects to its node (config.rpc_url) and settles the journal (recover()).
  static Result<std::unique_ptr<Wallet>> open(Store& store, std::string name, WalletOptions options = {});
  // The same over a given chain (e.g. a scripted one in tests); config.rpc_url is not used.
  static Result<std::unique_ptr<Wallet>> open(Store& store, std::string name, std::unique_ptr<eth::PoolChain> chain,
                                              WalletOptions options = {});
  ~Wallet();
  Wallet(const Wallet&) = delete;
  Wallet& operator=(const Wallet&) = delete;

  [[nodiscard]] const WalletConfig& config() const { return config_; }
  [[nodiscard]] const eth::Address& account() const;  // sends the transactions
  [[nodiscard]] const Fr& owner_key() const { return pk_; }
  [[nodiscard]] eth::PoolChain& chain() { return *chain_; }
  [[nodiscard]] const eth::U256& unit() const { return unit_; }  // token base units per cent

  // Reads the Pool's events up to head - confirmations (see above) and settles the journal.
  Result<SyncReport> sync();
  // Settles unfinished journal entries (see above); returns how many were settled.
  Result<std::size_t> recover();

  // Deposits `amount` as denomination notes (InventoryPolicy::deposit_values) with one
  // depositMany, approving the Pool first when needed; waits for the receipt, then (when
  // `wait_confirmed`) until the notes are confirmed and synced.
  Result<DepositReport> deposit(Cents amount, bool wait_confirmed = true);
  // Proves the spend of every spendable note that has no ready proof for the payee.
  Result<InventoryReport> build_inventory();
  // One round of splits that move the inventory towards the policy's targets (plan_splits in
  // src/wallet/rebalancer.h), after a sync. Waits for the receipts and (when `wait_confirmed`) for
  // confirmation; then build_inventory() makes their proofs.
  Result<RebalanceReport> rebalance(bool wait_confirmed = true);
  // Pays `amount` to `to` (see above). kNotFound (a refusal saying what is missing) when the ready
  // proofs cannot make it and the policy is kRefuse, or when the balance is short;
  // kFailedPrecondition when the chain refused it (decoded reason).
  Result<PaymentReport> pay(Cents amount, const eth::Address& to, MissingPolicy policy = MissingPolicy::kRefuse);

  Result<BalanceReport> balance();
  Result<std::vector<Payment>> history();

  // Blocks until the chain head reaches `block` + confirmations, then syncs (kTimeout after
  // options.receipt_timeout on the wallet's clock).
  Status wait_confirmed(std::uint64_t block);

 private:
  Wallet(Store& store, std::string name, WalletOptions options, WalletConfig config, const Fr& sk,
         std::unique_ptr<eth::PoolChain> chain, const eth::PrivateKey& account_key);
  static Result<std::unique_ptr<Wallet>> open_on(Store& store, std::string name, WalletOptions options,
                                                 WalletConfig config, std::unique_ptr<eth::PoolChain> chain);
  Status read_pool();
  Result<ProverPool*> prover();
  // The deposit's notes, kept pending, and its payment recorded; its calldata.
  Result<eth::Bytes> record_deposit(const std::vector<Cents>& values, DepositReport& report);
  // Approves the Pool for the token once, when the allowance is below `wei`.
  Status approve_if_needed(const eth::U256& wei, DepositReport& report);

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
  std::unique_ptr<Payer> payer_;
  std::unique_ptr<Rebalancer> rebalancer_;
  eth::U256 unit_;
  eth::Address token_;
  std::unique_ptr<ProverPool> prover_;
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
// pending, so that the next sync finds where they are and which are spent. Returns how many notes.
// kInvalidArgument for a malformed file, a wrong passphrase or a tampered file.
Result<std::size_t> import_backup(Store& store, std::string_view backup_json, std::string_view passphrase);

}  // namespace bucketpay
