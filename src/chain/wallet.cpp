// EIP-1559 transactions and the Wallet (nonces, gas, fees, receipts, revert reasons).
#include <algorithm>
#include <array>

#include "bucketpay/chain.h"

namespace bucketpay::eth {

namespace {

std::vector<Bytes> unsigned_fields(const Eip1559Tx& tx) {
  std::vector<Bytes> f;
  f.push_back(rlp::encode_uint(U256(tx.chain_id)));
  f.push_back(rlp::encode_uint(U256(tx.nonce)));
  f.push_back(rlp::encode_uint(tx.max_priority_fee_per_gas));
  f.push_back(rlp::encode_uint(tx.max_fee_per_gas));
  f.push_back(rlp::encode_uint(U256(tx.gas_limit)));
  f.push_back(tx.to ? rlp::encode_bytes(tx.to->bytes()) : rlp::encode_bytes({}));
  f.push_back(rlp::encode_uint(tx.value));
  f.push_back(rlp::encode_bytes(tx.data));
  f.push_back(rlp::encode_list({}));  // empty access list
  return f;
}

Bytes typed_envelope(const std::vector<Bytes>& fields) {
  Bytes out{0x02};
  Bytes body = rlp::encode_list(fields);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

bool contains(const std::string& haystack, std::string_view needle) {
  std::string h = haystack;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return h.find(needle) != std::string::npos;
}

// A rejection that means our nonce is stale (someone else used it, or a resend).
// The node already has this very transaction in its pool (a resend).
bool is_already_known(const Status& s) {
  const std::string& m = s.message();
  return contains(m, "already known") || contains(m, "already imported") || contains(m, "known transaction");
}

bool is_nonce_conflict(const Status& s) {
  const std::string& m = s.message();
  return contains(m, "nonce too low") || contains(m, "already known") || contains(m, "replacement transaction") ||
         contains(m, "nonce has already been used");
}

}  // namespace

Hash32 Eip1559Tx::signing_hash() const { return keccak256(typed_envelope(unsigned_fields(*this))); }

Bytes Eip1559Tx::encode_signed(const Signature& signature) const {
  std::vector<Bytes> f = unsigned_fields(*this);
  f.push_back(rlp::encode_uint(U256(signature.recovery_id)));
  f.push_back(rlp::encode_uint(U256::from_word(signature.r)));
  f.push_back(rlp::encode_uint(U256::from_word(signature.s)));
  return typed_envelope(f);
}

Bytes sign_transaction(const Eip1559Tx& tx, const PrivateKey& key) {
  return tx.encode_signed(key.sign(tx.signing_hash()));
}

// --------------------------------------------------------------------------------------- Wallet

Wallet::Wallet(Rpc& rpc, const PrivateKey& key, const WalletOptions& options)
    : rpc_(rpc), key_(key), address_(key_.address()), options_(options) {}

void Wallet::reset_nonce() {
  std::lock_guard<std::mutex> lock(mutex_);
  next_nonce_.reset();
}

Result<std::uint64_t> Wallet::chain_id() {
  if (!chain_id_) {
    Result<std::uint64_t> id = rpc_.chain_id();
    if (!id) {
      return id.status();
    }
    chain_id_ = *id;
  }
  return *chain_id_;
}

Result<Fees> estimate_fees(Rpc& rpc, const WalletOptions& options) {
  Fees fees;
  Result<U256> tip = rpc.max_priority_fee_per_gas();
  if (tip) {
    fees.max_priority_fee_per_gas = *tip;
  } else if (tip.status().code() == StatusCode::kFailedPrecondition) {
    fees.max_priority_fee_per_gas = options.default_priority_fee;  // the node lacks the method
  } else {
    return tip.status();
  }
  Result<FeeHistory> history = rpc.fee_history(1, BlockId::latest(), {});
  if (history) {
    fees.base_fee_per_gas = history->base_fee_per_gas.back();  // the next block's
  } else {
    Result<std::optional<BlockHeader>> head = rpc.get_block(BlockId::latest());
    if (!head) {
      return head.status();
    }
    if (!head->has_value() || !(*head)->base_fee_per_gas) {
      return Status::failed_precondition("the chain reports no base fee (not EIP-1559?)");
    }
    fees.base_fee_per_gas = *(*head)->base_fee_per_gas;
  }
  auto scaled = U256::checked_mul(fees.base_fee_per_gas, U256(options.base_fee_multiplier));
  auto max_fee = scaled ? U256::checked_add(*scaled, fees.max_priority_fee_per_gas) : std::nullopt;
  if (!max_fee) {
    return Status::corruption("base fee " + fees.base_fee_per_gas.to_decimal() + " overflows");
  }
  fees.max_fee_per_gas = *max_fee;
  return fees;
}

Result<Wallet::Fees> Wallet::estimate_fees() { return eth::estimate_fees(rpc_, options_); }

Result<Hash32> send_signed(Rpc& rpc, const SignedTransaction& tx) {
  Result<Hash32> hash = rpc.send_raw_transaction(tx.raw);
  bool accepted = hash.ok();
  if (!accepted && hash.status().code() == StatusCode::kFailedPrecondition) {
    // A resend: the node has it in its pool ("already known"), or has mined it already (then it
    // answers "nonce too low", and knows the transaction by its hash).
    if (is_already_known(hash.status())) {
      accepted = true;
    } else if (is_nonce_conflict(hash.status())) {
      Result<std::optional<Transaction>> known = rpc.get_transaction(tx.hash);
      accepted = known.ok() && known->has_value();
    }
  }
  if (!accepted) {
    return hash.status().with_context("sending transaction with nonce " + std::to_string(tx.nonce));
  }
  if (hash.ok() && *hash != tx.hash) {
    return Status::corruption("the node answered hash " + to_hex(*hash) + " for transaction " + to_hex(tx.hash));
  }
  return tx.hash;
}

void explain_revert(Rpc& rpc, Receipt& receipt) {
  if (receipt.success) {
    return;
  }
  Result<std::optional<Transaction>> tx = rpc.get_transaction(receipt.transaction_hash);
  if (!tx || !tx->has_value()) {
    return;
  }
  const Transaction& t = **tx;
  CallRequest call{.from = t.from, .to = t.to, .data = t.input, .value = t.value, .gas = t.gas};
  Result<CallOutcome> replay = rpc.try_call(call, BlockId::number(receipt.block_number));
  if (replay && replay->reverted) {
    receipt.revert_reason = rpc.decode_revert(replay->data);
  }
}

Result<Hash32> Wallet::send_transaction(const std::optional<Address>& to, std::span<const std::uint8_t> data,
                                        const U256& value, const TxOverrides& overrides) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<Eip1559Tx> tx = prepare_locked(to, data, value, overrides);
  if (!tx) {
    return tx.status();
  }
  for (int attempt = 0;; ++attempt) {
    Result<SignedTransaction> signed_tx = sign_locked(*tx);
    if (!signed_tx) {
      return signed_tx.status();
    }
    Result<Hash32> hash = broadcast_locked(*signed_tx);
    if (hash) {
      return hash;
    }
    // broadcast_locked forgot the local nonce: a stale one is retried once with the node's.
    if (attempt == 0 && is_nonce_conflict(hash.status())) {
      continue;
    }
    return hash.status();
  }
}

Result<SignedTransaction> Wallet::sign_transaction(const std::optional<Address>& to, std::span<const std::uint8_t> data,
                                                   const U256& value, const TxOverrides& overrides) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<Eip1559Tx> tx = prepare_locked(to, data, value, overrides);
  if (!tx) {
    return tx.status();
  }
  return sign_locked(*tx);
}

Status Wallet::prefetch() {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<std::uint64_t> id = chain_id();
  if (!id) {
    return id.status();
  }
  if (!next_nonce_) {
    Result<std::uint64_t> n = rpc_.get_transaction_count(address_, BlockId::pending());
    if (!n) {
      return n.status().with_context("reading the nonce");
    }
    next_nonce_ = *n;
  }
  return Status::ok();
}

Result<Hash32> Wallet::broadcast(const SignedTransaction& tx) {
  std::lock_guard<std::mutex> lock(mutex_);
  return broadcast_locked(tx);
}

Result<Eip1559Tx> Wallet::prepare_locked(const std::optional<Address>& to, std::span<const std::uint8_t> data,
                                         const U256& value, const TxOverrides& overrides) {
  Eip1559Tx tx;
  Result<std::uint64_t> id = chain_id();
  if (!id) {
    return id.status();
  }
  tx.chain_id = *id;
  tx.to = to;
  tx.value = value;
  tx.data.assign(data.begin(), data.end());

  if (overrides.max_fee_per_gas && overrides.max_priority_fee_per_gas) {
    tx.max_fee_per_gas = *overrides.max_fee_per_gas;
    tx.max_priority_fee_per_gas = *overrides.max_priority_fee_per_gas;
  } else {
    Result<Fees> fees = estimate_fees();
    if (!fees) {
      return fees.status().with_context("estimating fees");
    }
    tx.max_fee_per_gas = overrides.max_fee_per_gas.value_or(fees->max_fee_per_gas);
    tx.max_priority_fee_per_gas = overrides.max_priority_fee_per_gas.value_or(fees->max_priority_fee_per_gas);
  }

  if (overrides.gas_limit) {
    tx.gas_limit = *overrides.gas_limit;
  } else {
    CallRequest call{.from = address_, .to = to, .data = tx.data, .value = value, .gas = std::nullopt};
    Result<std::uint64_t> gas = rpc_.estimate_gas(call);
    if (!gas) {
      return gas.status().with_context("estimating gas");
    }
    auto with_margin = U256::checked_mul(U256(*gas), U256(100 + options_.gas_margin_percent));
    if (!with_margin || !(*with_margin / U256(100)).fits_u64()) {
      return Status::corruption("gas estimate overflows");
    }
    tx.gas_limit = (*with_margin / U256(100)).low_u64();
  }
  return tx;
}

Result<SignedTransaction> Wallet::sign_locked(Eip1559Tx tx) {
  if (!next_nonce_) {
    Result<std::uint64_t> n = rpc_.get_transaction_count(address_, BlockId::pending());
    if (!n) {
      return n.status().with_context("reading the nonce");
    }
    next_nonce_ = *n;
  }
  tx.nonce = *next_nonce_;
  SignedTransaction out;
  out.raw = eth::sign_transaction(tx, key_);
  out.hash = keccak256(out.raw);
  out.nonce = tx.nonce;
  out.gas_limit = tx.gas_limit;
  next_nonce_ = tx.nonce + 1;
  return out;
}

Result<Hash32> Wallet::broadcast_locked(const SignedTransaction& tx) {
  Result<Hash32> hash = send_signed(rpc_, tx);
  if (!hash.ok()) {
    // Whatever happened, the node's view of our nonce is the one to trust next.
    next_nonce_.reset();
    return hash.status();
  }
  if (next_nonce_ && *next_nonce_ <= tx.nonce) {
    next_nonce_ = tx.nonce + 1;  // signed by an earlier Wallet (e.g. before a restart)
  }
  return tx.hash;
}

Result<Receipt> Wallet::wait_for_receipt(const Hash32& tx_hash, std::optional<std::chrono::milliseconds> timeout) {
  Result<Receipt> receipt = rpc_.wait_for_receipt(tx_hash, timeout.value_or(options_.receipt_timeout));
  if (receipt && !receipt->success) {
    // Replay the failed transaction to learn why (its revert data is not in the receipt).
    explain_revert(rpc_, *receipt);
  }
  return receipt;
}

Result<Receipt> Wallet::transact(const std::optional<Address>& to, std::span<const std::uint8_t> data,
                                 const U256& value, const TxOverrides& overrides) {
  Result<Hash32> hash = send_transaction(to, data, value, overrides);
  if (!hash) {
    return hash.status();
  }
  Result<Receipt> receipt = wait_for_receipt(*hash);
  if (!receipt) {
    return receipt.status();
  }
  if (!receipt->success) {
    std::string why =
        receipt->revert_reason ? receipt->revert_reason->message : std::string("no revert reason (out of gas?)");
    return Status::failed_precondition("transaction " + to_hex(*hash) + " reverted in block " +
                                       std::to_string(receipt->block_number) + ": " + why);
  }
  return receipt;
}

Result<Deployment> Wallet::deploy(std::span<const std::uint8_t> init_code, const TxOverrides& overrides) {
  Result<Receipt> receipt = transact(std::nullopt, init_code, U256(), overrides);
  if (!receipt) {
    return receipt.status().with_context("deploying");
  }
  if (!receipt->contract_address) {
    return Status::corruption("deployment receipt has no contractAddress");
  }
  Address address = *receipt->contract_address;
  return Deployment{address, std::move(receipt).value()};
}

}  // namespace bucketpay::eth
