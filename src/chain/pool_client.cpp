#include "bucketpay/pool_client.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace bucketpay::eth {

using abi::Value;

namespace {

constexpr std::string_view kInserted = "Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root)";

Value uint_value(std::uint64_t v) { return Value::integer(U256(v)); }

}  // namespace

PoolClient::PoolClient(Rpc& rpc, Wallet& wallet, const Address& pool, std::vector<std::string> error_signatures)
    : rpc_(rpc), wallet_(wallet), pool_(pool), errors_(std::move(error_signatures)),
      inserted_(*abi::parse_signature(kInserted)) {}

Result<std::vector<std::string>> PoolClient::error_signatures_from_abi_json(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) {
    return Status::invalid_argument("ABI JSON does not parse");
  }
  if (j.is_object() && j.contains("abi")) {
    return abi::signatures_from_abi_json(j["abi"].dump(), "error");
  }
  return abi::signatures_from_abi_json(json, "error");
}

abi::RevertReason PoolClient::decode_revert(std::span<const std::uint8_t> data) const {
  return abi::decode_revert(data, errors_);
}

namespace {

// A spend's arguments, in the order of spend() and of spendBatch's SpendRequest tuple.
Value::List spend_fields(const SpendCall& c) {
  return {Value::bytes(c.proof), Value::integer(c.root), Value::integer(c.nullifier), uint_value(c.value),
          Value::address(c.recipient)};
}

}  // namespace

Result<Receipt> PoolClient::send(std::string_view signature, std::span<const Value> args,
                                 const TxOverrides& overrides) {
  const std::string_view function = signature.substr(0, signature.find('('));
  Result<Bytes> encoded = abi::encode_call(signature, args);
  if (!encoded.ok()) {
    return encoded.status();
  }
  const Bytes& data = *encoded;
  last_revert_.reset();
  // Simulate first: a revert is reported with the Pool's error, and nothing is sent.
  CallRequest call;
  call.from = wallet_.address();
  call.to = pool_;
  call.data = data;
  Result<CallOutcome> sim = rpc_.try_call(call);
  if (!sim.ok()) {
    return sim.status();
  }
  if (sim->reverted) {
    last_revert_ = decode_revert(sim->data);
    return Status::failed_precondition("Pool." + std::string(function) + " reverted: " + last_revert_->message);
  }
  Result<Hash32> hash = wallet_.send_transaction(pool_, data, U256(), overrides);
  if (!hash.ok()) {
    return hash.status();
  }
  Result<Receipt> receipt = wallet_.wait_for_receipt(*hash);
  if (!receipt.ok()) {
    return receipt.status();
  }
  if (!receipt->success) {
    last_revert_ = receipt->revert_reason ? decode_revert(receipt->revert_reason->raw) : abi::RevertReason{};
    if (!receipt->revert_reason) {
      last_revert_->message = "no revert data";
    }
    return Status::failed_precondition("Pool." + std::string(function) + " reverted: " + last_revert_->message +
                                       " (tx " + to_hex(receipt->transaction_hash) + ", gas used " +
                                       std::to_string(receipt->gas_used) + ")");
  }
  return receipt;
}

Result<Receipt> PoolClient::deposit(const U256& pk, std::uint64_t value, const U256& r, const TxOverrides& overrides) {
  const std::vector<Value> args = {Value::integer(pk), uint_value(value), Value::integer(r)};
  return send("deposit(uint256,uint256,uint256)", args, overrides);
}

Result<Receipt> PoolClient::deposit_many(const U256& pk, std::span<const std::uint64_t> values,
                                         std::span<const U256> rs, const TxOverrides& overrides) {
  if (values.size() != rs.size()) {
    return Status::invalid_argument("deposit_many: " + std::to_string(values.size()) + " values but " +
                                    std::to_string(rs.size()) + " blinding factors");
  }
  Value::List vs;
  Value::List rv;
  for (std::size_t i = 0; i < values.size(); ++i) {
    vs.push_back(uint_value(values[i]));
    rv.push_back(Value::integer(rs[i]));
  }
  const std::vector<Value> args = {Value::integer(pk), Value::list(std::move(vs)), Value::list(std::move(rv))};
  return send("depositMany(uint256,uint256[],uint256[])", args, overrides);
}

Result<Receipt> PoolClient::spend(const SpendCall& c, const TxOverrides& overrides) {
  return send("spend(bytes,uint256,uint256,uint256,address)", spend_fields(c), overrides);
}

Result<Receipt> PoolClient::spend_batch(std::span<const SpendCall> calls, const TxOverrides& overrides) {
  Value::List requests;
  requests.reserve(calls.size());
  for (const SpendCall& c : calls) {
    requests.push_back(Value::list(spend_fields(c)));
  }
  const std::vector<Value> args = {Value::list(std::move(requests))};
  return send("spendBatch((bytes,uint256,uint256,uint256,address)[])", args, overrides);
}

Result<Receipt> PoolClient::split(const SplitCall& c, const TxOverrides& overrides) {
  const std::vector<Value> args = {Value::bytes(c.proof),       Value::integer(c.root),    Value::integer(c.nullifier),
                                   uint_value(c.amount),        Value::address(c.recipient), Value::integer(c.out_cm1),
                                   Value::integer(c.out_cm2)};
  return send("split(bytes,uint256,uint256,uint256,address,uint256,uint256)", args, overrides);
}

Result<std::vector<Value>> PoolClient::view(std::string_view signature, std::span<const Value> args,
                                            std::string_view returns, const BlockId& block) {
  Result<Bytes> data = abi::encode_call(signature, args);
  if (!data.ok()) {
    return data.status();
  }
  CallRequest call;
  call.to = pool_;
  call.data = std::move(*data);
  Result<CallOutcome> out = rpc_.try_call(call, block);
  if (!out.ok()) {
    return out.status();
  }
  if (out->reverted) {
    return Status::failed_precondition("Pool." + std::string(signature) +
                                       " reverted: " + decode_revert(out->data).message);
  }
  return abi::decode(returns, out->data);
}

Result<U256> PoolClient::root(const BlockId& block) {
  Result<std::vector<Value>> v = view("root()", {}, "(uint256)", block);
  if (!v.ok()) {
    return v.status();
  }
  return *(*v)[0].as_uint();
}

Result<std::uint64_t> PoolClient::next_index(const BlockId& block) {
  Result<std::vector<Value>> v = view("nextIndex()", {}, "(uint256)", block);
  if (!v.ok()) {
    return v.status();
  }
  const U256& n = *(*v)[0].as_uint();
  if (!n.fits_u64()) {
    return Status::corruption("Pool.nextIndex() does not fit 64 bits");
  }
  return n.low_u64();
}

Result<bool> PoolClient::is_spent(const U256& nullifier, const BlockId& block) {
  const std::vector<Value> args = {Value::integer(nullifier)};
  Result<std::vector<Value>> v = view("isSpent(uint256)", args, "(bool)", block);
  if (!v.ok()) {
    return v.status();
  }
  return *(*v)[0].as_bool();
}

Result<bool> PoolClient::known_root(const U256& root, const BlockId& block) {
  const std::vector<Value> args = {Value::integer(root)};
  Result<std::vector<Value>> v = view("isKnownRoot(uint256)", args, "(bool)", block);
  if (!v.ok()) {
    return v.status();
  }
  return *(*v)[0].as_bool();
}

Result<U256> PoolClient::unit() {
  Result<std::vector<Value>> v = view("UNIT()", {}, "(uint256)", BlockId::latest());
  if (!v.ok()) {
    return v.status();
  }
  return *(*v)[0].as_uint();
}

Result<Address> PoolClient::token() {
  Result<std::vector<Value>> v = view("TOKEN()", {}, "(address)", BlockId::latest());
  if (!v.ok()) {
    return v.status();
  }
  return *(*v)[0].as_address();
}

Result<InsertedEvent> PoolClient::decode_inserted(const Log& log) const {
  Result<std::vector<Value>> v = abi::decode_log(inserted_, log.topics, log.data);
  if (!v.ok()) {
    return v.status();
  }
  const U256& index = *(*v)[1].as_uint();
  if (!index.fits_u64()) {
    return Status::corruption("Inserted.leafIndex does not fit 64 bits");
  }
  InsertedEvent e;
  e.commitment = *(*v)[0].as_uint();
  e.leaf_index = index.low_u64();
  e.root = *(*v)[2].as_uint();
  e.block_number = log.block_number;
  e.transaction_hash = log.transaction_hash;
  e.log_index = log.log_index;
  return e;
}

Result<std::vector<InsertedEvent>> PoolClient::inserted_events(const BlockId& from_block, const BlockId& to_block) {
  Result<std::vector<Log>> logs = rpc_.get_logs({.addresses = {pool_},
                                                 .topics = {std::vector<Hash32>{inserted_.topic()}},
                                                 .from_block = from_block,
                                                 .to_block = to_block});
  if (!logs.ok()) {
    return logs.status();
  }
  std::vector<InsertedEvent> out;
  for (const Log& log : *logs) {
    if (log.removed || log.address != pool_ || log.topics.empty() || log.topics[0] != inserted_.topic()) {
      continue;
    }
    Result<InsertedEvent> e = decode_inserted(log);
    if (!e.ok()) {
      return e.status();
    }
    out.push_back(*e);
  }
  return out;
}

Result<std::vector<InsertedEvent>> PoolClient::inserted_events(const Receipt& receipt) const {
  std::vector<InsertedEvent> out;
  for (const Log& log : receipt.logs) {
    if (log.address != pool_ || log.topics.empty() || log.topics[0] != inserted_.topic()) {
      continue;
    }
    Result<InsertedEvent> e = decode_inserted(log);
    if (!e.ok()) {
      return e.status();
    }
    out.push_back(*e);
  }
  return out;
}

}  // namespace bucketpay::eth
