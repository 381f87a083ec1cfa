// PoolClient: a typed client for a deployed Pool contract (contracts/src/Pool.sol) over an
// eth::Rpc and an eth::Wallet: deposits, spends, splits, views and the Inserted events.
//
// Field elements (pk, r, roots, nullifiers, commitments) are U256 here so that this header
// depends only on the chain layer; callers convert (U256::from_word(fr.to_bytes())).
//
// Errors. Sends first simulate the call (eth_call from the wallet's address): a call that would
// revert is never sent and fails with kFailedPrecondition whose message is
// "Pool.<function> reverted: <reason>", the reason decoded with the Pool's custom errors (e.g.
// "NullifierAlreadySpent(123)"); a transaction that still reverts once mined fails the same way.
// The decoded reason of the last revert is also kept (last_revert()). Rpc failures pass through.
//
// Thread safety: like Wallet, except last_revert(), which is meant for one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/abi.h"
#include "bucketpay/chain.h"
#include "bucketpay/eth.h"
#include "bucketpay/status.h"

namespace bucketpay::eth {

// One item of spendBatch (Pool.SpendRequest).
struct SpendCall {
  Bytes proof;
  U256 root;
  U256 nullifier;
  std::uint64_t value = 0;
  Address recipient;
};

// The arguments of Pool.split.
struct SplitCall {
  Bytes proof;
  U256 root;
  U256 nullifier;
  std::uint64_t amount = 0;
  Address recipient;
  U256 out_cm1;
  U256 out_cm2;
};

// Pool.Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root).
struct InsertedEvent {
  U256 commitment;
  std::uint64_t leaf_index = 0;
  U256 root;  // the root after the whole call's inserts
  std::uint64_t block_number = 0;
  Hash32 transaction_hash{};
  std::uint64_t log_index = 0;
};

// Pool.Spent(uint256 indexed nullifier, address indexed recipient, uint256 value).
struct SpentEvent {
  U256 nullifier;
  Address recipient;
  U256 value;
};

// Pool.Split(uint256 indexed nullifier, address indexed recipient, uint256 amount, uint256 outCm1,
// uint256 outCm2).
struct SplitEvent {
  U256 nullifier;
  Address recipient;
  U256 amount;
  U256 out_cm1;
  U256 out_cm2;
};

// Any of the Pool's events, with where it happened.
struct PoolEvent {
  enum class Kind : std::uint8_t { kInserted, kSpent, kSplit };
  Kind kind = Kind::kInserted;
  InsertedEvent inserted;  // kind == kInserted (its block fields are filled in too)
  SpentEvent spent;        // kind == kSpent
  SplitEvent split;        // kind == kSplit
  std::uint64_t block_number = 0;
  Hash32 block_hash{};
  Hash32 transaction_hash{};
  std::uint64_t log_index = 0;
};

class PoolClient {
 public:
  // `error_signatures` are the Pool's custom errors, e.g. from error_signatures_from_abi_json().
  // `rpc` and `wallet` outlive the client; the wallet must send through `rpc`'s node.
  PoolClient(Rpc& rpc, Wallet& wallet, const Address& pool, std::vector<std::string> error_signatures);
  // A client without a wallet: views, events, encoding and simulate_from(); the transactions and
  // simulate() fail with kFailedPrecondition.
  PoolClient(Rpc& rpc, const Address& pool, std::vector<std::string> error_signatures);

  // The "error" signatures of a forge artifact's ABI (the "abi" array or the whole artifact JSON).
  static Result<std::vector<std::string>> error_signatures_from_abi_json(std::string_view json);

  [[nodiscard]] const Address& address() const { return pool_; }

  // ---- transactions: the receipt (gas used, success) or the decoded revert as a Status.
  Result<Receipt> deposit(const U256& pk, std::uint64_t value, const U256& r, const TxOverrides& overrides = {});
  Result<Receipt> deposit_many(const U256& pk, std::span<const std::uint64_t> values, std::span<const U256> rs,
                               const TxOverrides& overrides = {});
  Result<Receipt> spend(const SpendCall& call, const TxOverrides& overrides = {});
  Result<Receipt> spend_batch(std::span<const SpendCall> calls, const TxOverrides& overrides = {});
  Result<Receipt> split(const SplitCall& call, const TxOverrides& overrides = {});

  // ---- calldata, for callers that sign and send themselves (e.g. through a payments journal).
  // An argument that does not encode (e.g. a proof beyond the ABI's limits) is an error, never
  // empty calldata.
  static Result<Bytes> encode_deposit_many(const U256& pk, std::span<const std::uint64_t> values,
                                           std::span<const U256> rs);
  static Result<Bytes> encode_spend_batch(std::span<const SpendCall> calls);
  static Result<Bytes> encode_split(const SplitCall& call);
  // eth_call of `calldata` to the Pool from the wallet's address: OK, or kFailedPrecondition
  // "Pool.<function> reverted: <reason>" (the reason decoded with the Pool's errors).
  Status simulate(std::string_view function, std::span<const std::uint8_t> calldata);
  // The same from any address.
  Status simulate_from(const Address& from, std::string_view function, std::span<const std::uint8_t> calldata);

  // ---- views
  Result<U256> root(const BlockId& block = BlockId::latest());
  Result<std::uint64_t> next_index(const BlockId& block = BlockId::latest());
  Result<bool> is_spent(const U256& nullifier, const BlockId& block = BlockId::latest());
  Result<bool> known_root(const U256& root, const BlockId& block = BlockId::latest());
  Result<U256> unit();
  Result<Address> token();

  // ---- events
  // The Pool's Inserted events in [from_block, to_block], in chain order; removed logs are skipped.
  Result<std::vector<InsertedEvent>> inserted_events(const BlockId& from_block, const BlockId& to_block);
  // All the Pool's events (Inserted, Spent, Split) in [from_block, to_block], in chain order (block,
  // then log index), with their block hashes; removed logs are skipped. A log that does not decode
  // is kCorruption.
  Result<std::vector<PoolEvent>> events(std::uint64_t from_block, std::uint64_t to_block);
  // The Spent and Split events that carry any of `nullifiers` (an indexed topic) in
  // [from_block, to_block], in chain order; removed logs are skipped.
  Result<std::vector<PoolEvent>> spend_events(std::span<const U256> nullifiers, const BlockId& from_block,
                                              const BlockId& to_block);
  // The Pool's Inserted events in one receipt.
  Result<std::vector<InsertedEvent>> inserted_events(const Receipt& receipt) const;

  // Revert data decoded with the Pool's errors.
  [[nodiscard]] abi::RevertReason decode_revert(std::span<const std::uint8_t> data) const;
  // The reason of the last send that failed with a revert (simulated or mined), if any.
  [[nodiscard]] const std::optional<abi::RevertReason>& last_revert() const { return last_revert_; }

 private:
  PoolClient(Rpc& rpc, Wallet* wallet, const Address& pool, std::vector<std::string> error_signatures);
  // Simulates the calldata of Pool.<function>, sends it, waits for its receipt.
  Result<Receipt> send(std::string_view function, const Result<Bytes>& calldata, const TxOverrides& overrides);
  Result<std::vector<abi::Value>> view(std::string_view signature, std::span<const abi::Value> args,
                                       std::string_view returns, const BlockId& block);
  Result<InsertedEvent> decode_inserted(const Log& log) const;
  Result<PoolEvent> decode_event(const Log& log) const;  // kCorruption when it is none of the Pool's

  Rpc& rpc_;
  Wallet* wallet_;  // null: no transactions
  Address pool_;
  std::vector<std::string> errors_;
  abi::Signature inserted_;
  abi::Signature spent_;
  abi::Signature split_;
  std::optional<abi::RevertReason> last_revert_;
};

// An ERC20 token (OpenZeppelin's), and TestToken's mint.
class TokenClient {
 public:
  TokenClient(Rpc& rpc, Wallet& wallet, const Address& token);
  [[nodiscard]] const Address& address() const { return token_; }
  Result<U256> balance_of(const Address& account, const BlockId& block = BlockId::latest());
  Result<U256> allowance(const Address& owner, const Address& spender);
  Result<Receipt> approve(const Address& spender, const U256& amount, const TxOverrides& overrides = {});
  Result<Receipt> transfer(const Address& to, const U256& amount, const TxOverrides& overrides = {});
  Result<Receipt> mint(const Address& to, const U256& amount, const TxOverrides& overrides = {});  // TestToken only
  Result<std::uint8_t> decimals();
  // The calldata of approve(spender, amount), for callers that sign and send themselves.
  static Result<Bytes> encode_approve(const Address& spender, const U256& amount);

 private:
  Result<Receipt> send(std::string_view function, const Result<Bytes>& calldata, const TxOverrides& overrides);

  Rpc& rpc_;
  Wallet& wallet_;
  Address token_;
};

}  // namespace bucketpay::eth
