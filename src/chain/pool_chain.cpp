#include "bucketpay/pool_chain.h"

#include <utility>

namespace bucketpay::eth {

Result<std::unique_ptr<RpcPoolChain>> RpcPoolChain::connect(RpcOptions options, const Address& pool,
                                                            const WalletOptions& fee_options) {
  Result<std::unique_ptr<Rpc>> rpc = Rpc::connect(std::move(options));
  if (!rpc.ok()) {
    return rpc.status();
  }
  return std::unique_ptr<RpcPoolChain>(new RpcPoolChain(std::move(rpc).value(), pool, fee_options));
}

RpcPoolChain::RpcPoolChain(std::unique_ptr<Rpc> rpc, const Address& pool, const WalletOptions& fee_options)
    : rpc_(std::move(rpc)), pool_(*rpc_, pool, rpc_->options().error_signatures), fee_options_(fee_options) {}

Result<std::uint64_t> RpcPoolChain::chain_id() {
  if (!chain_id_) {
    Result<std::uint64_t> id = rpc_->chain_id();
    if (!id.ok()) {
      return id.status();
    }
    chain_id_ = *id;
  }
  return *chain_id_;
}

Result<std::uint64_t> RpcPoolChain::head() { return rpc_->block_number(); }

Result<std::optional<BlockHeader>> RpcPoolChain::header(std::uint64_t number) {
  return rpc_->get_block(BlockId::number(number));
}

Result<std::vector<PoolEvent>> RpcPoolChain::events(std::uint64_t from_block, std::uint64_t to_block) {
  return pool_.events(from_block, to_block);
}

Result<std::vector<PoolEvent>> RpcPoolChain::spends_of(std::span<const U256> nullifiers, std::uint64_t from_block) {
  return pool_.spend_events(nullifiers, BlockId::number(from_block), BlockId::latest());
}

Result<std::optional<Receipt>> RpcPoolChain::receipt(const Hash32& tx_hash) {
  Result<std::optional<Receipt>> r = rpc_->get_transaction_receipt(tx_hash);
  if (r.ok() && r->has_value() && !(*r)->success) {
    explain_revert(*rpc_, **r);
  }
  return r;
}

Result<std::optional<Transaction>> RpcPoolChain::transaction(const Hash32& tx_hash) {
  return rpc_->get_transaction(tx_hash);
}

Result<std::uint64_t> RpcPoolChain::nonce(const Address& account, NonceKind kind) {
  return rpc_->get_transaction_count(account, kind == NonceKind::kMined ? BlockId::latest() : BlockId::pending());
}

Result<Hash32> RpcPoolChain::send_raw_transaction(const SignedTransaction& tx) { return send_signed(*rpc_, tx); }

Result<Fees> RpcPoolChain::fees() { return estimate_fees(*rpc_, fee_options_); }

Result<std::uint64_t> RpcPoolChain::estimate_gas(const Address& from, const Address& to,
                                                 std::span<const std::uint8_t> data) {
  CallRequest call;
  call.from = from;
  call.to = to;
  call.data.assign(data.begin(), data.end());
  return rpc_->estimate_gas(call);
}

Status RpcPoolChain::simulate(const Address& from, std::string_view function, std::span<const std::uint8_t> data) {
  return pool_.simulate_from(from, function, data);
}

Result<bool> RpcPoolChain::is_spent(const U256& nullifier) { return pool_.is_spent(nullifier); }

Result<U256> RpcPoolChain::unit() { return pool_.unit(); }

Result<Address> RpcPoolChain::token() {
  if (!token_) {
    Result<Address> t = pool_.token();
    if (!t.ok()) {
      return t.status();
    }
    token_ = *t;
  }
  return *token_;
}

Result<U256> RpcPoolChain::token_uint(std::string_view signature, std::span<const abi::Value> args) {
  Result<Address> token_address = token();
  if (!token_address.ok()) {
    return token_address.status();
  }
  Result<Bytes> data = abi::encode_call(signature, args);
  if (!data.ok()) {
    return data.status().with_context("encoding token." + std::string(signature));
  }
  CallRequest call;
  call.to = *token_address;
  call.data = std::move(data).value();
  Result<Bytes> out = rpc_->call(call);
  if (!out.ok()) {
    return out.status().with_context("token." + std::string(signature));
  }
  Result<std::vector<abi::Value>> v = abi::decode("(uint256)", *out);
  if (!v.ok() || v->size() != 1 || (*v)[0].as_uint() == nullptr) {
    return Status::corruption("token." + std::string(signature) + " returned " + std::to_string(out->size()) +
                              " bytes that are not a uint256");
  }
  return *(*v)[0].as_uint();
}

Result<U256> RpcPoolChain::token_balance(const Address& account) {
  const std::vector<abi::Value> args = {abi::Value::address(account)};
  return token_uint("balanceOf(address)", args);
}

Result<U256> RpcPoolChain::token_allowance(const Address& owner, const Address& spender) {
  const std::vector<abi::Value> args = {abi::Value::address(owner), abi::Value::address(spender)};
  return token_uint("allowance(address,address)", args);
}

}  // namespace bucketpay::eth
