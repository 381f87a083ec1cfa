// PoolChain: the narrow view of the chain that the payments wallet needs: the head, block headers
// (with their timestamps: a payment's deadline is judged by them),
// the Pool's decoded events, receipts and transactions by hash, the account's nonce, fees and gas,
// simulating a call, sending a signed transaction, and a few views of the Pool and its token.
//
// Nothing here signs: the wallet holds its key and signs locally (eth::Eip1559Tx), then hands the
// signed bytes to send_raw_transaction(). Every decision (is this block still on the chain, did
// this payment land, may this transaction be sent again) is the wallet's; an implementation only
// reports what the node says.
//
// Implementations: RpcPoolChain (below) over a JSON-RPC node, and a scripted chain for unit tests
// (src/wallet/scripted_chain_testing.h) on which a test plays blocks, reorganisations, dropped and
// third-party transactions, a node that lies and a node that stalls.
//
// Errors: as the chain client's (bucketpay/chain.h): kUnavailable (no node), kTimeout (no answer in
// time), kCorruption (an answer that does not decode), kFailedPrecondition (the node refused, or a
// call reverted: the message names the decoded reason).
//
// Thread safety: an implementation is used by one thread at a time unless it says otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/chain.h"
#include "bucketpay/eth.h"
#include "bucketpay/pool_client.h"
#include "bucketpay/status.h"

namespace bucketpay::eth {

class PoolChain {
 public:
  virtual ~PoolChain() = default;

  // The Pool contract this chain view reads.
  [[nodiscard]] virtual const Address& pool() const = 0;
  virtual Result<std::uint64_t> chain_id() = 0;

  // ---- blocks
  // The number of the newest block.
  virtual Result<std::uint64_t> head() = 0;
  // The header of block `number`; none when the chain has no such block (yet).
  virtual Result<std::optional<BlockHeader>> header(std::uint64_t number) = 0;

  // ---- the Pool's events
  // Every Pool event (Inserted, Spent, Paid) in [from_block, to_block], in chain order, each with
  // the hash of the block the node says it is in; empty when from_block > to_block.
  virtual Result<std::vector<PoolEvent>> events(std::uint64_t from_block, std::uint64_t to_block) = 0;
  // The Spent events carrying any of `nullifiers`, from `from_block` to the head, in chain
  // order.
  virtual Result<std::vector<PoolEvent>> spends_of(std::span<const U256> nullifiers, std::uint64_t from_block) = 0;

  // ---- transactions
  // The receipt of a mined transaction, none while it is pending or unknown. A failed receipt comes
  // with revert_reason when the implementation can tell why (the real one replays the call).
  virtual Result<std::optional<Receipt>> receipt(const Hash32& tx_hash) = 0;
  // None when the node does not know the transaction (never had it, or dropped it).
  virtual Result<std::optional<Transaction>> transaction(const Hash32& tx_hash) = 0;
  // The account's transaction count: mined (at the latest block) or including the node's pending ones.
  enum class NonceKind : std::uint8_t { kMined, kPending };
  virtual Result<std::uint64_t> nonce(const Address& account, NonceKind kind) = 0;
  // Sends signed bytes; a node that already has this transaction counts as accepted (see
  // eth::send_signed). Returns its hash.
  virtual Result<Hash32> send_raw_transaction(const SignedTransaction& tx) = 0;
  virtual Result<Fees> fees() = 0;
  // Gas for `data` sent from `from` to `to`; a call that would revert is kFailedPrecondition with
  // the reason.
  virtual Result<std::uint64_t> estimate_gas(const Address& from, const Address& to,
                                             std::span<const std::uint8_t> data) = 0;

  // ---- the Pool and its token
  // eth_call of Pool.<function> from `from`: OK, or kFailedPrecondition "Pool.<function> reverted:
  // <reason>".
  virtual Status simulate(const Address& from, std::string_view function, std::span<const std::uint8_t> data) = 0;
  virtual Result<bool> is_spent(const U256& nullifier) = 0;
  virtual Result<U256> unit() = 0;      // token base units per cent (Pool.UNIT)
  virtual Result<Address> token() = 0;  // Pool.TOKEN
  virtual Result<U256> token_balance(const Address& account) = 0;
  virtual Result<U256> token_allowance(const Address& owner, const Address& spender) = 0;
};

// PoolChain over a JSON-RPC node (eth::Rpc) and a read-only eth::PoolClient.
class RpcPoolChain final : public PoolChain {
 public:
  // Fails only for a malformed URL (the node is first contacted by the first request).
  // options.error_signatures decode the Pool's custom errors; `fee_options` set how fees are estimated.
  static Result<std::unique_ptr<RpcPoolChain>> connect(RpcOptions options, const Address& pool,
                                                       const WalletOptions& fee_options = {});

  [[nodiscard]] const Address& pool() const override { return pool_.address(); }
  Result<std::uint64_t> chain_id() override;
  Result<std::uint64_t> head() override;
  Result<std::optional<BlockHeader>> header(std::uint64_t number) override;
  Result<std::vector<PoolEvent>> events(std::uint64_t from_block, std::uint64_t to_block) override;
  Result<std::vector<PoolEvent>> spends_of(std::span<const U256> nullifiers, std::uint64_t from_block) override;
  Result<std::optional<Receipt>> receipt(const Hash32& tx_hash) override;
  Result<std::optional<Transaction>> transaction(const Hash32& tx_hash) override;
  Result<std::uint64_t> nonce(const Address& account, NonceKind kind) override;
  Result<Hash32> send_raw_transaction(const SignedTransaction& tx) override;
  Result<Fees> fees() override;
  Result<std::uint64_t> estimate_gas(const Address& from, const Address& to,
                                     std::span<const std::uint8_t> data) override;
  Status simulate(const Address& from, std::string_view function, std::span<const std::uint8_t> data) override;
  Result<bool> is_spent(const U256& nullifier) override;
  Result<U256> unit() override;
  Result<Address> token() override;
  Result<U256> token_balance(const Address& account) override;
  Result<U256> token_allowance(const Address& owner, const Address& spender) override;

  [[nodiscard]] Rpc& rpc() { return *rpc_; }

 private:
  RpcPoolChain(std::unique_ptr<Rpc> rpc, const Address& pool, const WalletOptions& fee_options);
  // A view of the Pool's token returning one uint256.
  Result<U256> token_uint(std::string_view signature, std::span<const abi::Value> args);

  std::unique_ptr<Rpc> rpc_;
  PoolClient pool_;
  WalletOptions fee_options_;
  std::optional<std::uint64_t> chain_id_;
  std::optional<Address> token_;
};

}  // namespace bucketpay::eth
