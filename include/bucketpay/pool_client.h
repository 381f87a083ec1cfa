// PoolClient: a typed client for a deployed Pool contract (contracts/src/Pool.sol, protocol v2)
// over an eth::Rpc and an eth::Wallet: deposits by hidden owner, spendBatch and split with their
// signed EIP-712 payment (bucketpay/payment.h), views (including the Pool's own payment digest) and
// the Inserted, Spent and Paid events.
//
// Field elements (owners, roots, nullifiers, commitments) are U256 here so that this header
// depends only on the chain layer; callers convert (U256::from_word(fr.to_bytes())).
//
// Errors. Encoders return the calldata or the ABI encoder's error (never empty calldata). Sends
// first simulate the call (eth_call from the wallet's address): a call that would revert is never
// sent and fails with kFailedPrecondition whose message is "Pool.<function> reverted: <reason>",
// the reason decoded with the Pool's custom errors (e.g. "NullifierAlreadySpent(123)"); a
// transaction that still reverts once mined fails the same way. The decoded reason of the last
// revert is also kept (last_revert()). Rpc failures pass through.
//
// Thread safety: like Wallet, except last_revert(), which is meant for one thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/abi.h"
#include "bucketpay/chain.h"
#include "bucketpay/eth.h"
#include "bucketpay/payment.h"
#include "bucketpay/status.h"

namespace bucketpay::eth {

// Outputs of a split (Pool.SPLIT_OUTPUTS); an absent output's commitment is 0.
inline constexpr std::size_t kSplitOutputs = 8;

// One spend of spendBatch: the proof and its public inputs (Pool.SpendInputs). The encoder sends the
// proofs as spendBatch's `bytes[] proofs` and the inputs as its `SpendInputs[] spends`, in order.
struct SpendCall {
  Bytes proof;
  U256 root;
  U256 nullifier;
  std::uint64_t value = 0;
  Address auth;  // the note's spend authorization address, bound by the proof

  friend bool operator==(const SpendCall&, const SpendCall&) = default;
};

// A split proof (Pool.SplitProof).
struct SplitCall {
  Bytes proof;
  U256 root;
  U256 nullifier;
  std::uint64_t amount = 0;
  Address auth;
  std::array<U256, kSplitOutputs> out_cms{};  // 0 for an absent output

  friend bool operator==(const SplitCall&, const SplitCall&) = default;
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

// Pool.Spent(uint256 indexed nullifier, bytes32 indexed payment): a note spent by spendBatch or
// split for the payment with this digest.
struct SpentEvent {
  U256 nullifier;
  Hash32 payment{};
};

// Pool.Paid(bytes32 indexed payment, address indexed recipient, uint256 amount, address indexed
// feeRecipient, uint256 fee): one per spendBatch or split; amounts in token base units, `amount`
// being what the recipient received (the fee already taken off).
struct PaidEvent {
  Hash32 payment{};
  Address recipient;
  U256 amount;
  Address fee_recipient;
  U256 fee;
};

// Any of the Pool's events, with where it happened.
struct PoolEvent {
  enum class Kind : std::uint8_t { kInserted, kSpent, kPaid };
  Kind kind = Kind::kInserted;
  InsertedEvent inserted;  // kind == kInserted (its block fields are filled in too)
  SpentEvent spent;        // kind == kSpent
  PaidEvent paid;          // kind == kPaid
  std::uint64_t block_number = 0;
  Hash32 block_hash{};
  Hash32 transaction_hash{};
  std::uint64_t log_index = 0;
};

// The Pool's custom errors (contracts/src/Pool.sol and the OpenZeppelin code it uses), to decode
// reverts by name; pool_test checks the list against the compiled Pool's ABI.
std::vector<std::string> pool_error_signatures();

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
  // owner = H(pk, r), the note's hidden owner; 0 < value < 2^64 (the Pool checks).
  Result<Receipt> deposit(const U256& owner, std::uint64_t value, const TxOverrides& overrides = {});
  // kInvalidArgument (nothing sent) unless owners and values have the same length.
  Result<Receipt> deposit_many(std::span<const U256> owners, std::span<const std::uint64_t> values,
                               const TxOverrides& overrides = {});
  // signatures[i]: spends[i].auth's signature of the payment's digest (sign_digest). Calls
  // Pool.spendBatch(bytes[] proofs, SpendInputs[] spends, Payment payment, bytes[] signatures).
  Result<Receipt> spend_batch(std::span<const SpendCall> spends, const Payment& payment,
                              std::span<const RsvSignature> signatures, const TxOverrides& overrides = {});
  Result<Receipt> split(const SplitCall& split, const Payment& payment, const RsvSignature& signature,
                        const TxOverrides& overrides = {});

  // ---- calldata, for callers that sign and send themselves (e.g. a relayer's journal). Lengths are
  // encoded as given (the Pool refuses mismatches with LengthMismatch).
  [[nodiscard]] static Result<Bytes> encode_deposit(const U256& owner, std::uint64_t value);
  [[nodiscard]] static Result<Bytes> encode_deposit_many(std::span<const U256> owners,
                                                         std::span<const std::uint64_t> values);
  [[nodiscard]] static Result<Bytes> encode_spend_batch(std::span<const SpendCall> spends, const Payment& payment,
                                                        std::span<const RsvSignature> signatures);
  [[nodiscard]] static Result<Bytes> encode_split(const SplitCall& split, const Payment& payment,
                                                  const RsvSignature& signature);
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
  // The Pool's own EIP-712 digest of `payment` and its domain separator (the wallet's and relayer's
  // payment_digest(domain, payment) must agree with these).
  Result<Hash32> payment_digest(const Payment& payment);
  Result<Hash32> domain_separator();
  // The Pool's EIP-712 domain: the node's chain id and this Pool's address.
  Result<PaymentDomain> payment_domain();

  // ---- events
  // The Pool's Inserted events in [from_block, to_block], in chain order; removed logs are skipped.
  Result<std::vector<InsertedEvent>> inserted_events(const BlockId& from_block, const BlockId& to_block);
  // All the Pool's events (Inserted, Spent, Paid) in [from_block, to_block], in chain order (block,
  // then log index), with their block hashes; removed logs are skipped. A log that does not decode
  // is kCorruption.
  Result<std::vector<PoolEvent>> events(std::uint64_t from_block, std::uint64_t to_block);
  // The Spent events that carry any of `nullifiers` (an indexed topic) in [from_block, to_block],
  // in chain order; removed logs are skipped.
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
  abi::Signature paid_;
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
