// The relayer (`bucketpay relay`, docs/relay.md): an HTTP service that takes signed payment bundles
// (bucketpay/relay_api.h) from wallets and sends them to the Pool from its own funded Ethereum
// account, for the fee each payment signs over to it.
//
//   GET  /v1/relay/quote?kind=spend_batch|split&notes=N   the fee it charges now, and until when
//   POST /v1/relay                                        a bundle -> 202 submitted (200: known digest)
//   GET  /v1/relay/{digest}                               pending | submitted | mined | failed
//   GET  /metrics, GET /v1/health
//
// Checks. A bundle is sent only after it passed, in order: its JSON shape, sizes and canonical
// values (400; a body above the limit 413); its chain id and Pool are the relayer's; its
// fee_recipient is the relayer's account; its fee is at least the relayer's quote for its kind and
// size (the current one, or one this process gave while it is valid); the fee is no more than what
// it withdraws; its deadline is at least RelayOptions::deadline_margin away; payment.nullifiers are
// the proofs' nullifiers, all distinct; every signature recovers to its proof's auth address; an
// eth_call of the transaction from the relayer's account succeeds (each of these a 422 naming what
// is wrong; a revert with its decoded reason, e.g. "NullifierAlreadySpent(..)").
//
// The journal (RelayJournal, bucketpay/store.h). An accepted bundle is recorded under its payment
// digest (received), its transaction signed under the account's sender lock (StoreLocks: two
// relayer processes on one store never share a nonce) and recorded (signed) BEFORE it is broadcast,
// then submitted, then mined or failed. One transaction per digest, ever: the same digest again
// answers its state; a transaction the node dropped is broadcast again byte for byte; after kill -9
// a restart finds what was signed and sends nothing new for it. A transaction whose payment was
// paid by someone else's copy of the bundle (a replay with a higher tip) reverts: it is recorded as
// failed with reason "paid by <tx>" when the Pool's Spent events carry this digest.
//
// Fees (FeePolicy): fee = max(min_fee, ceil(gas(kind, n) * gas_price * token units per wei *
// (1 + margin))), gas(kind, n) from GasTable (measured, docs/gas.md), gas_price the chain's next
// base fee plus priority fee, token units per wei from the configured ETH price and the token's
// decimals.
//
// Secrets: the account key is sealed in the store's vault (SecretStore) under kRelayOwner; the
// passphrase comes from the caller (the CLI). Nothing here logs or answers a key.
//
// Errors: Status as everywhere (bucketpay/status.h). Thread safety: a Relayer may be used from any
// number of threads at once (chain calls are serialised on one mutex; the journal's transitions
// are compare-and-sets); a RelayServer runs the HTTP threads and one monitor thread that polls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/clock.h"
#include "bucketpay/eth.h"
#include "bucketpay/pool_chain.h"
#include "bucketpay/relay_api.h"
#include "bucketpay/status.h"
#include "bucketpay/store.h"

namespace bucketpay::relay {

// The name the relayer's key and settings are stored under (SecretStore, SettingsStore); not a
// wallet name (wallets never start with '@').
inline constexpr std::string_view kRelayOwner = "@relay";

// The roles of the store the relayer uses. A whole Store converts to them.
struct RelayStores {
  RelayJournal& journal;
  SecretStore& secrets;
  SettingsStore& settings;
  StoreLocks& locks;

  RelayStores(RelayJournal& j, SecretStore& s, SettingsStore& t, StoreLocks& l)
      : journal(j), secrets(s), settings(t), locks(l) {}
  RelayStores(Store& store) : RelayStores(store, store, store, store) {}  // NOLINT(google-explicit-constructor)
};

// ------------------------------------------------------------------------------------------ fees

// Gas of a relayed transaction, whole (base, calldata, verification, the Pool's own), from
// docs/gas.md: spendBatch 697,276 for 1 note, 1,858,068 for 4, 3,409,002 for 8, 6,911,253 for 17
// (and 1,107,027 for 2, relay_e2e_test); a split into 8 outputs 1,114,474. The defaults are a line
// at or above every measured point (within 5 %).
struct GasTable {
  std::uint64_t spend_base = 340'000;  // spendBatch: spend_base + spend_per_note * n
  std::uint64_t spend_per_note = 390'000;
  std::uint64_t split = 1'120'000;

  [[nodiscard]] std::uint64_t gas(eth::BundleKind kind, std::size_t notes) const;
};

struct FeePolicy {
  GasTable gas;
  // Whole tokens per ETH: the price the relayer converts its gas cost at. A decimal ("3000",
  // "2500.5"), at most 18 digits after the point, above 0.
  std::string eth_price = "3000";
  std::uint32_t margin_bps = 2000;  // on top of the cost, in basis points: 2000 = 20 %
  eth::U256 min_fee;                // token base units; no quote is below it
  std::chrono::seconds quote_validity{60};
};

// kInvalidArgument naming what is wrong (an ETH price that is not a positive decimal, a validity of
// 0, a margin above 100,000 bps).
Status validate_fee_policy(const FeePolicy& policy);

// The fee rule: max(min_fee, ceil(gas(kind, notes) * gas_price * eth_price * 10^token_decimals /
// 10^18 * (10,000 + margin_bps) / 10,000)), exact in integers. kInvalidArgument for a policy
// validate_fee_policy refuses, or a product above 2^256.
Result<eth::U256> compute_fee(const FeePolicy& policy, unsigned token_decimals, eth::BundleKind kind, std::size_t notes,
                              const eth::U256& gas_price);

// ---------------------------------------------------------------------------------- configuration

// What `relay init` records in the store (SettingsStore, under kRelayOwner).
struct RelayConfig {
  std::string rpc_url;
  eth::Address pool;
  std::uint64_t chain_id = 0;
  eth::U256 unit;  // token base units per cent (Pool.UNIT)
  unsigned token_decimals = 18;
  std::uint64_t start_block = 0;  // where the Pool's events are searched from (the head at init)
  FeePolicy fees;
};

Status save_config(SettingsStore& settings, const RelayConfig& config);
// kNotFound when the store has no relayer (`relay init` first); kCorruption for a malformed setting.
Result<RelayConfig> load_config(SettingsStore& settings);
// The chain's side of a new config: its chain id, the Pool's UNIT and token, the token's decimals
// and the head block (start_block), from the node at `rpc_url`. kFailedPrecondition when `pool` has
// no contract there.
Result<RelayConfig> read_chain_config(const std::string& rpc_url, const eth::Address& pool);

// The relayer's account key: made once (random, sealed in the vault) and never overwritten.
// Returns its address, also when it existed. kFailedPrecondition for a store without a vault.
Result<eth::Address> create_account(SecretStore& secrets);
// kNotFound when there is none; kCorruption when it is malformed.
Result<eth::PrivateKey> load_account(SecretStore& secrets);

// ------------------------------------------------------------------------------------- the relayer

struct RelayOptions {
  std::size_t max_notes = 30;                        // notes per spend_batch (at most eth::kMaxBundleSpends)
  std::chrono::seconds deadline_margin{60};          // a deadline must be at least this far away
  std::chrono::milliseconds received_grace{60'000};  // a received entry older than this is resumed
  std::chrono::milliseconds sender_lock_timeout{30'000};
  std::uint32_t gas_limit_margin_percent = 25;  // gas limit = estimate * (100 + this) / 100
  std::uint64_t confirmations = 1;              // blocks (the receipt's included) before "mined"
  Clock* clock = nullptr;                       // null: Clock::system()
  std::ostream* log = nullptr;                  // one line per journal transition; null: silent
};

// Why a bundle was refused: the label of bucketpay_relay_bundles_refused_total{reason}.
enum class Refusal : std::uint8_t {
  kMalformed,           // 400: shape, sizes, canonical values
  kTooLarge,            // 413: the body is above the limit
  kWrongChain,          // 422: chain_id
  kWrongPool,           // 422: pool
  kWrongFeeRecipient,   // 422: payment.fee_recipient is not the relayer's account
  kFeeBelowQuote,       // 422
  kFeeAboveValue,       // 422: the fee is more than the bundle withdraws (the Pool's FeeTooHigh)
  kDeadline,            // 422: too close, or past
  kNullifierMismatch,   // 422: payment.nullifiers are not the proofs'
  kDuplicateNullifier,  // 422
  kBadSignature,        // 422: malformed, or recovers to another address than the proof's auth
  kReverted,            // 422: the eth_call reverted (the decoded reason in the message)
};
std::string_view refusal_name(Refusal refusal);  // "malformed", "too_large", "wrong_chain", ...
int refusal_http_status(Refusal refusal);        // 400, 413 or 422

// What submit() did with a bundle.
struct Submission {
  enum class Outcome : std::uint8_t {
    kSubmitted,  // journaled and accepted by the node: 202
    kKnown,      // the digest has an entry already (nothing new was sent): 200 with its state
    kRefused,    // a check failed (refusal, status): 4xx
    kError,      // the relayer could not finish (the node, the store): 503 or 500 (status); `entry`
                 // when the bundle was journaled (it is then sent or settled by poll())
  };
  Outcome outcome = Outcome::kError;
  std::optional<RelayEntry> entry;
  Refusal refusal = Refusal::kMalformed;
  Status status;
};

// What a client sees of a journal entry (GET /v1/relay/{digest}, eth::encode_status): received and
// signed are pending; block and gas_used once in a block. kCorruption for an entry whose digest or
// transaction hash is not 0x + 64 hex digits.
Result<eth::RelayStatus> public_status(const RelayEntry& entry);

class RelayMetrics;

class Relayer {
 public:
  // The stores and the chain outlive the relayer. The chain's Pool is config.pool.
  Relayer(RelayStores stores, eth::PoolChain& chain, const eth::PrivateKey& key, RelayConfig config,
          RelayOptions options = {});
  // load_account() and load_config() from the stores, over `chain`; kFailedPrecondition when the
  // chain's id or Pool is not the config's.
  static Result<std::unique_ptr<Relayer>> open(RelayStores stores, eth::PoolChain& chain, RelayOptions options = {});
  ~Relayer();
  Relayer(const Relayer&) = delete;
  Relayer& operator=(const Relayer&) = delete;

  [[nodiscard]] const eth::Address& address() const { return address_; }
  [[nodiscard]] const RelayConfig& config() const { return config_; }

  // The fee for `notes` notes of `kind` at the chain's current gas price, valid for
  // quote_validity (remembered by this process: a bundle with this fee is accepted until then).
  // kInvalidArgument for a kind and size no bundle can have (a split is 1 note; 1..max_notes).
  Result<eth::RelayQuote> quote(eth::BundleKind kind, std::size_t notes);
  // Checks, journals and sends a bundle (JSON); see the header comment.
  Submission submit(std::string_view body);
  // The entry of a digest ("0x" + 64 hex digits, either case), or none.
  Result<std::optional<RelayEntry>> status(std::string_view digest);
  // One pass over the open entries: receipts (mined, failed, paid by someone else), transactions
  // the node dropped (broadcast again byte for byte), received entries older than received_grace
  // (a crash between recording and signing: checked again and sent). How many entries changed.
  Result<std::size_t> poll();
  // OK when the node answers.
  Status health();

  // For the x402 facilitator (bucketpay/x402.h):
  // Every check submit() runs on a bundle after its chain and Pool (fee recipient, quote, fee
  // against what it withdraws, deadline margin, nullifiers, signatures and, when `simulate`, an
  // eth_call of the transaction), without journaling or sending it: none when submit() would send
  // it, else the refusal (counted in the metrics) or the error.
  std::optional<Submission> preflight(const eth::RelayBundle& bundle, bool simulate);
  // poll() for one digest's entry (its receipt; a dropped transaction sent again), then the entry
  // as it is now (none when the journal has no such digest).
  Result<std::optional<RelayEntry>> refresh(std::string_view digest);
  // The journal's open entries (received, signed, submitted) of every account.
  Result<std::vector<RelayEntry>> open_entries();
  // The Pool's token, from the chain.
  Result<eth::Address> token();
  // The journal (the facilitator keeps its stages there).
  [[nodiscard]] RelayJournal& journal() { return stores_.journal; }
  // Seconds since the Unix epoch on the relayer's clock.
  std::int64_t now_s();
  [[nodiscard]] const RelayOptions& options() const { return options_; }

  // Prometheus text: bundles received and refused (by reason), transactions submitted, re-sent,
  // mined and failed, fees earned, gas and wei spent, entries open, HTTP requests.
  [[nodiscard]] std::string metrics_text();
  // One HTTP answer (`route` is the route's pattern, never the raw path).
  void count_request(std::string_view route, int status);
  // A body above the server's limit (413), counted as a refusal.
  void count_too_large();

 private:
  Submission refuse(Refusal refusal, const Status& why);
  // Every check after the shape, the chain and the Pool: a refusal (or an error), else none.
  std::optional<Submission> check(const eth::RelayBundle& bundle, const eth::Hash32& digest, bool simulate = true);
  Result<eth::U256> current_fee(eth::BundleKind kind, std::size_t notes, eth::U256* gas_price, std::uint64_t* gas);
  // The gas limit of a bundle's transaction (estimated; a revert is kFailedPrecondition).
  Result<std::uint64_t> gas_limit(const eth::RelayBundle& bundle, std::span<const std::uint8_t> calldata);
  // Signs a received entry under the sender lock, journals it (signed) and broadcasts it.
  Submission send_entry(const RelayEntry& entry, const eth::RelayBundle& bundle, std::uint64_t gas_limit);
  Result<std::uint64_t> next_nonce();
  // poll() for one entry: true when it changed.
  Result<bool> settle(const RelayEntry& entry);
  Result<bool> resume_received(const RelayEntry& entry);
  // Failed, with reason "paid by <tx>" when the Pool's Spent events of its nullifiers carry its digest.
  Result<bool> settle_by_chain_truth(const RelayEntry& entry, const std::string& why, std::uint64_t block,
                                     std::uint64_t gas_used, const eth::U256& wei);
  void log_line(const std::string& line);

  RelayStores stores_;
  eth::PoolChain& chain_;
  std::mutex chain_mu_;  // the chain view is used by one thread at a time
  eth::PrivateKey key_;
  eth::Address address_;
  std::string sender_;  // address_ as the journal writes it
  RelayConfig config_;
  RelayOptions options_;
  Clock& clock_;
  std::unique_ptr<RelayMetrics> metrics_;
  struct Quotes;
  std::unique_ptr<Quotes> quotes_;
  std::mutex log_mu_;
};

// ------------------------------------------------------------------------------------ HTTP server

class X402Facilitator;

struct ServerOptions {
  // Serves the x402 facilitator's routes under its base path too (bucketpay/x402.h); it outlives
  // the server. Its relayUrl, when unset, becomes http://host:port.
  X402Facilitator* x402 = nullptr;
  std::string host = "127.0.0.1";                     // loopback by default: put a TLS proxy in front to expose it
  int port = 8090;                                    // 0: any free port (RelayServer::port())
  std::size_t max_body_bytes = std::size_t{1} << 20;  // 30 notes of 6,848-byte proofs fit in ~450 KB
  std::chrono::milliseconds poll_interval{1000};      // the monitor's pass over open entries
};

class RelayServer {
 public:
  // Binds, then serves on threads of its own and starts the monitor (a poll() every poll_interval,
  // the first at once); returns once requests are accepted. kUnavailable when the port is taken.
  static Result<std::unique_ptr<RelayServer>> start(Relayer& relayer, const ServerOptions& options);
  // Stops accepting requests and joins every thread.
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  [[nodiscard]] int port() const;

  struct Impl;

 private:
  explicit RelayServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `bucketpay relay serve`: starts the server, writes "relaying for 0x.. on http://HOST:PORT" to
// `out`, serves until SIGINT or SIGTERM, then stops cleanly.
Status serve_until_signal(Relayer& relayer, const ServerOptions& options, std::ostream& out);

}  // namespace bucketpay::relay
