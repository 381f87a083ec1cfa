// The chain client: Ethereum JSON-RPC over HTTP, and a Wallet that signs EIP-1559 transactions
// locally, tracks its nonce, estimates gas and fees, waits for receipts and explains reverts.
//
// Layers: eth.h (primitives) <- abi.h (encoding) <- this header.
//
// Errors. Every failure is a Status, never an exception and never a crash:
//   kUnavailable        the node cannot be reached, or answered with a non-200 HTTP status;
//   kTimeout            no answer within the timeout, or no receipt before the deadline;
//   kCorruption         the answer is not JSON-RPC 2.0 (bad JSON, wrong types, missing fields);
//   kFailedPrecondition the node answered with a JSON-RPC error object; the message reads
//                       "rpc error <code>: <message> (<method>)", plus the decoded revert reason
//                       when the error carries revert data ("execution reverted");
//   kInvalidArgument    the caller's input is malformed (e.g. a bad URL), or the node answered
//                       -32600/-32602 (invalid request/params);
//   kResourceExhausted  the answer exceeds RpcOptions::max_response_bytes.
//
// Thread safety: Rpc and Wallet may be used from several threads at once (requests are
// serialized on one HTTP connection; a Wallet assigns nonces under a mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/abi.h"
#include "bucketpay/eth.h"
#include "bucketpay/status.h"

namespace bucketpay::eth {

// A block number or tag, as JSON-RPC takes it.
class BlockId {
 public:
  static BlockId latest() { return BlockId("latest"); }
  static BlockId pending() { return BlockId("pending"); }
  static BlockId earliest() { return BlockId("earliest"); }
  static BlockId number(std::uint64_t n) { return BlockId(U256(n).to_quantity()); }
  [[nodiscard]] const std::string& to_rpc() const { return rpc_; }

 private:
  explicit BlockId(std::string rpc) : rpc_(std::move(rpc)) {}
  std::string rpc_;
};

// A message call (eth_call, eth_estimateGas). Unset fields are left out of the request.
struct CallRequest {
  std::optional<Address> from;
  std::optional<Address> to;  // none: contract creation
  Bytes data;
  U256 value;
  std::optional<std::uint64_t> gas;
};

// The outcome of eth_call: return data, or the revert data of a call that reverted.
struct CallOutcome {
  bool reverted = false;
  Bytes data;               // return data, or revert data when reverted
  std::string rpc_message;  // the node's error message when reverted
};

struct Log {
  Address address;
  std::vector<Hash32> topics;
  Bytes data;
  std::uint64_t block_number = 0;
  Hash32 block_hash{};
  Hash32 transaction_hash{};
  std::uint64_t log_index = 0;
  bool removed = false;  // true when a reorg dropped the log
};

struct Receipt {
  Hash32 transaction_hash{};
  bool success = false;  // status 1
  std::uint64_t block_number = 0;
  Hash32 block_hash{};
  Address from;
  std::optional<Address> to;
  std::optional<Address> contract_address;  // set for deployments
  std::uint64_t gas_used = 0;
  U256 effective_gas_price;
  std::vector<Log> logs;
  // Set by Wallet::wait_for_receipt for failed transactions: why it reverted (replayed with
  // eth_call at the receipt's block). Empty when the replay did not revert (e.g. out of gas).
  std::optional<abi::RevertReason> revert_reason;

  // gas_used * effective_gas_price: what the sender paid in wei.
  [[nodiscard]] U256 fee() const { return U256(gas_used) * effective_gas_price; }
};

// A transaction as eth_getTransactionByHash shows it (the fields needed to replay it).
struct Transaction {
  Hash32 hash{};
  Address from;
  std::optional<Address> to;
  U256 value;
  Bytes input;
  std::uint64_t nonce = 0;
  std::uint64_t gas = 0;
  std::optional<std::uint64_t> block_number;  // none while pending
};

struct BlockHeader {
  std::uint64_t number = 0;
  Hash32 hash{};
  Hash32 parent_hash{};
  std::uint64_t timestamp = 0;
  std::optional<U256> base_fee_per_gas;  // none before London
};

// eth_getLogs filter. topics[i] unset matches anything at position i; a list matches any of them.
struct LogFilter {
  std::vector<Address> addresses;  // empty: any
  std::vector<std::optional<std::vector<Hash32>>> topics;
  BlockId from_block = BlockId::earliest();
  BlockId to_block = BlockId::latest();
};

struct FeeHistory {
  std::uint64_t oldest_block = 0;
  std::vector<U256> base_fee_per_gas;  // one per block, plus the next block's
  std::vector<double> gas_used_ratio;
  std::vector<std::vector<U256>> reward;  // per block, one per requested percentile
};

struct RpcOptions {
  std::string url;                            // "http://127.0.0.1:8545" (optionally with a path)
  std::chrono::milliseconds timeout{10'000};  // connect, read and write, per request
  std::size_t max_response_bytes = std::size_t{64} << 20;
  // Custom error signatures ("UnknownRoot(uint256)") used to decode revert data in messages.
  std::vector<std::string> error_signatures;
};

// Typed Ethereum JSON-RPC methods over HTTP.
class Rpc {
 public:
  // Fails only for a malformed URL; the node is first contacted by the first request.
  static Result<std::unique_ptr<Rpc>> connect(RpcOptions options);
  ~Rpc();
  Rpc(const Rpc&) = delete;
  Rpc& operator=(const Rpc&) = delete;

  Result<std::uint64_t> chain_id();
  Result<std::uint64_t> block_number();
  Result<U256> get_balance(const Address& account, const BlockId& block = BlockId::latest());
  Result<std::uint64_t> get_transaction_count(const Address& account, const BlockId& block = BlockId::pending());
  Result<Bytes> get_code(const Address& account, const BlockId& block = BlockId::latest());
  // A revert is a kFailedPrecondition whose message names the decoded reason.
  Result<std::uint64_t> estimate_gas(const CallRequest& call);
  Result<U256> max_priority_fee_per_gas();
  Result<FeeHistory> fee_history(std::uint64_t block_count, const BlockId& newest,
                                 const std::vector<double>& reward_percentiles);
  Result<Hash32> send_raw_transaction(std::span<const std::uint8_t> raw);
  // None while the transaction is pending or unknown.
  Result<std::optional<Receipt>> get_transaction_receipt(const Hash32& tx_hash);
  // Polls eth_getTransactionReceipt until the receipt appears or the timeout passes (kTimeout).
  Result<Receipt> wait_for_receipt(const Hash32& tx_hash, std::chrono::milliseconds timeout,
                                   std::chrono::milliseconds poll_interval = std::chrono::milliseconds(50));
  // A reverting call is a successful Result with reverted = true and the revert data.
  Result<CallOutcome> try_call(const CallRequest& call, const BlockId& block = BlockId::latest());
  // Return data; a revert is a kFailedPrecondition naming the decoded reason.
  Result<Bytes> call(const CallRequest& call, const BlockId& block = BlockId::latest());
  Result<std::vector<Log>> get_logs(const LogFilter& filter);
  // None when the node does not know the transaction.
  Result<std::optional<Transaction>> get_transaction(const Hash32& tx_hash);
  // None when the block does not exist (yet).
  Result<std::optional<BlockHeader>> get_block(const BlockId& block);

  // Any method, for what the typed ones do not cover (e.g. anvil_setBalance, evm_snapshot):
  // `params_json` is the JSON array of parameters ("[]", "[\"0x..\", 1]"), and the answer is the
  // result's JSON text (e.g. "\"0x1\"", "true", "null"). A JSON-RPC error object is a Status as for
  // the typed methods (kFailedPrecondition, or kInvalidArgument for -32600/-32602); params that are
  // not a JSON array are kInvalidArgument and are never sent.
  Result<std::string> raw_request(std::string_view method, std::string_view params_json);

  // Decodes revert data with the configured error signatures.
  [[nodiscard]] abi::RevertReason decode_revert(std::span<const std::uint8_t> data) const;
  [[nodiscard]] const RpcOptions& options() const { return options_; }

  class Transport;  // the HTTP client (private)

 private:
  Rpc(RpcOptions options, std::unique_ptr<Transport> transport);
  RpcOptions options_;
  std::unique_ptr<Transport> transport_;
};

// ---------------------------------------------------------------------------- EIP-1559 signing

// An EIP-1559 (type 2) transaction, without an access list.
struct Eip1559Tx {
  std::uint64_t chain_id = 0;
  std::uint64_t nonce = 0;
  U256 max_priority_fee_per_gas;
  U256 max_fee_per_gas;
  std::uint64_t gas_limit = 0;
  std::optional<Address> to;  // none: contract creation
  U256 value;
  Bytes data;

  // keccak256(0x02 || rlp([chain_id, nonce, max_priority_fee, max_fee, gas, to, value, data, []]))
  [[nodiscard]] Hash32 signing_hash() const;
  // 0x02 || rlp([... , [], y_parity, r, s]): what eth_sendRawTransaction takes.
  [[nodiscard]] Bytes encode_signed(const Signature& signature) const;
};

// Signs and encodes; the transaction hash is keccak256 of the result.
Bytes sign_transaction(const Eip1559Tx& tx, const PrivateKey& key);

// --------------------------------------------------------------------------------------- Wallet

struct SignedTransaction;

struct WalletOptions {
  // gas limit = estimate * (100 + gas_margin_percent) / 100.
  std::uint32_t gas_margin_percent = 20;
  // max fee = base_fee_multiplier * next block's base fee + priority fee.
  std::uint32_t base_fee_multiplier = 2;
  // Used when the node has no eth_maxPriorityFeePerGas.
  U256 default_priority_fee = U256(1'000'000'000);
  std::chrono::milliseconds receipt_timeout{60'000};
};

// EIP-1559 fees: priority = eth_maxPriorityFeePerGas (else the default), max = multiplier * the
// next block's base fee (eth_feeHistory, else the latest block's) + priority.
struct Fees {
  U256 max_fee_per_gas;
  U256 max_priority_fee_per_gas;
  U256 base_fee_per_gas;
};
Result<Fees> estimate_fees(Rpc& rpc, const WalletOptions& options);

// Sends a signed transaction. A node that already has it counts as accepted: in its pool ("already
// known"), or mined (a "nonce too low" answer for a hash it knows). Returns its hash; kCorruption
// when the node answers another hash; other rejections as the node gave them, with the nonce named.
Result<Hash32> send_signed(Rpc& rpc, const SignedTransaction& tx);

// For a failed receipt: replays its transaction with eth_call on the state at its block and sets
// receipt.revert_reason when the replay reverts (decoded with the Rpc's error signatures).
// Best effort: a replay that fails or does not revert leaves the receipt as it was.
void explain_revert(Rpc& rpc, Receipt& receipt);

// Per-transaction overrides.
struct TxOverrides {
  std::optional<std::uint64_t> gas_limit;  // skips estimation (a reverting tx is then mined)
  std::optional<U256> max_fee_per_gas;
  std::optional<U256> max_priority_fee_per_gas;
};

struct Deployment {
  Address address;
  Receipt receipt;
};

// A transaction signed but not necessarily sent (see Wallet::sign_transaction).
struct SignedTransaction {
  Bytes raw;  // what eth_sendRawTransaction takes
  Hash32 hash{};
  std::uint64_t nonce = 0;
  std::uint64_t gas_limit = 0;
};

// An account that signs locally and sends through an Rpc. Owns its key (wiped on destruction).
//
// Nonces: the first send (or sign) reads eth_getTransactionCount(pending); each signed transaction
// advances the local nonce. A "nonce too low" (or "replacement") rejection resyncs from the node and
// send_transaction retries once; any other send failure resyncs before the next send, since the node
// may or may not have taken the transaction. A resent transaction the node already has (in its pool:
// "already known"; or mined: "nonce too low" for a hash it knows) counts as accepted. Sends are
// serialized, so nonces leave in order.
class Wallet {
 public:
  Wallet(Rpc& rpc, const PrivateKey& key, const WalletOptions& options = {});

  [[nodiscard]] const Address& address() const { return address_; }

  // eth::estimate_fees with this wallet's options.
  using Fees = eth::Fees;
  Result<Fees> estimate_fees();

  // Signs and broadcasts; returns the transaction hash once the node accepted it. Gas is estimated
  // unless overridden: a transaction that would revert fails here with its decoded reason and is
  // never sent.
  Result<Hash32> send_transaction(const std::optional<Address>& to, std::span<const std::uint8_t> data,
                                  const U256& value, const TxOverrides& overrides = {});
  // Waits for the receipt; for a failed transaction, fills receipt.revert_reason by replaying the
  // call with eth_call on the state at the receipt's block (which includes what the other
  // transactions of that block did, e.g. a competitor spending the same nullifier first).
  Result<Receipt> wait_for_receipt(const Hash32& tx_hash, std::optional<std::chrono::milliseconds> timeout = {});
  // send_transaction + wait_for_receipt; a mined revert is a kFailedPrecondition with the reason.
  Result<Receipt> transact(const std::optional<Address>& to, std::span<const std::uint8_t> data, const U256& value,
                           const TxOverrides& overrides = {});
  // Deploys init code (constructor arguments already appended, see abi::encode_deploy).
  Result<Deployment> deploy(std::span<const std::uint8_t> init_code, const TxOverrides& overrides = {});

  // Signs without sending: gas estimated unless overridden (a transaction that would revert fails
  // here with its decoded reason), fees estimated unless both are overridden, the next nonce
  // assigned. The local nonce advances, so the caller records the result and then broadcast()s it
  // (a payments journal keeps it across a crash: after a restart the node's pending count gives
  // the same nonce back until it is sent).
  Result<SignedTransaction> sign_transaction(const std::optional<Address>& to, std::span<const std::uint8_t> data,
                                             const U256& value, const TxOverrides& overrides = {});
  // Reads the chain id and, unless known, the next nonce now, so that a later sign_transaction with
  // gas and fees overridden makes no request (e.g. to keep chain time out of a latency).
  Status prefetch();
  // Sends a signed transaction. Idempotent: a node that already has it ("already known") counts as
  // accepted. A rejection resyncs the local nonce from the node before the next send.
  Result<Hash32> broadcast(const SignedTransaction& tx);

  // Forgets the local nonce; the next send reads it from the node.
  void reset_nonce();

 private:
  // The transaction with fees and gas limit set, not yet its nonce.
  Result<Eip1559Tx> prepare_locked(const std::optional<Address>& to, std::span<const std::uint8_t> data,
                                   const U256& value, const TxOverrides& overrides);
  Result<SignedTransaction> sign_locked(Eip1559Tx tx);  // assigns the next nonce and advances it
  Result<Hash32> broadcast_locked(const SignedTransaction& tx);
  Result<std::uint64_t> chain_id();

  Rpc& rpc_;
  PrivateKey key_;
  Address address_;
  WalletOptions options_;
  std::mutex mutex_;
  std::optional<std::uint64_t> next_nonce_;  // guarded by mutex_
  std::optional<std::uint64_t> chain_id_;    // guarded by mutex_
};

}  // namespace bucketpay::eth
