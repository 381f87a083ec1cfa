#include "bucketpay/pool_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

namespace bucketpay::eth {

using abi::Value;

namespace {

constexpr std::string_view kInserted = "Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root)";
constexpr std::string_view kSpent = "Spent(uint256 indexed nullifier, address indexed recipient, uint256 value)";
constexpr std::string_view kSplit =
    "Split(uint256 indexed nullifier, address indexed recipient, uint256 amount, uint256 outCm1, uint256 outCm2)";

Value uint_value(std::uint64_t v) { return Value::integer(U256(v)); }

// Selector + arguments of a call. The signatures are fixed in this file, but the arguments come
// from callers (e.g. a proof too large to encode): a failure is returned, never empty calldata.
Result<Bytes> encode(std::string_view signature, std::span<const Value> args) {
  Result<Bytes> b = abi::encode_call(signature, args);
  if (!b.ok()) return b.status().with_context("encoding " + std::string(signature));
  return b;
}

}  // namespace

PoolClient::PoolClient(Rpc& rpc, Wallet& wallet, const Address& pool, std::vector<std::string> error_signatures)
    : PoolClient(rpc, &wallet, pool, std::move(error_signatures)) {}

PoolClient::PoolClient(Rpc& rpc, const Address& pool, std::vector<std::string> error_signatures)
    : PoolClient(rpc, nullptr, pool, std::move(error_signatures)) {}

PoolClient::PoolClient(Rpc& rpc, Wallet* wallet, const Address& pool, std::vector<std::string> error_signatures)
    : rpc_(rpc),
      wallet_(wallet),
      pool_(pool),
      errors_(std::move(error_signatures)),
      inserted_(*abi::parse_signature(kInserted)),
      spent_(*abi::parse_signature(kSpent)),
      split_(*abi::parse_signature(kSplit)) {}

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

Status PoolClient::simulate(std::string_view function, std::span<const std::uint8_t> calldata) {
  if (wallet_ == nullptr) return Status::failed_precondition("this PoolClient has no wallet to simulate from");
  return simulate_from(wallet_->address(), function, calldata);
}

Status PoolClient::simulate_from(const Address& from, std::string_view function,
                                 std::span<const std::uint8_t> calldata) {
  last_revert_.reset();
  CallRequest call;
  call.from = from;
  call.to = pool_;
  call.data.assign(calldata.begin(), calldata.end());
  Result<CallOutcome> sim = rpc_.try_call(call);
  if (!sim.ok()) {
    return sim.status();
  }
  if (sim->reverted) {
    last_revert_ = decode_revert(sim->data);
    return Status::failed_precondition("Pool." + std::string(function) + " reverted: " + last_revert_->message);
  }
  return Status::ok();
}

Result<Receipt> PoolClient::send(std::string_view function, const Result<Bytes>& calldata,
                                 const TxOverrides& overrides) {
  if (wallet_ == nullptr) return Status::failed_precondition("this PoolClient has no wallet to send from");
  if (!calldata.ok()) return calldata.status();
  const Bytes& data = *calldata;
  // Simulate first: a revert is reported with the Pool's error, and nothing is sent.
  BUCKETPAY_RETURN_IF_ERROR(simulate(function, data));
  Result<Hash32> hash = wallet_->send_transaction(pool_, data, U256(), overrides);
  if (!hash.ok()) {
    return hash.status();
  }
  Result<Receipt> receipt = wallet_->wait_for_receipt(*hash);
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

Result<Bytes> PoolClient::encode_deposit_many(const U256& pk, std::span<const std::uint64_t> values,
                                              std::span<const U256> rs) {
  Value::List vs;
  Value::List rv;
  for (std::uint64_t v : values) {
    vs.push_back(uint_value(v));
  }
  for (const U256& r : rs) {
    rv.push_back(Value::integer(r));
  }
  const std::vector<Value> args = {Value::integer(pk), Value::list(std::move(vs)), Value::list(std::move(rv))};
  return encode("depositMany(uint256,uint256[],uint256[])", args);
}

Result<Bytes> PoolClient::encode_spend_batch(std::span<const SpendCall> calls) {
  Value::List requests;
  requests.reserve(calls.size());
  for (const SpendCall& c : calls) {
    requests.push_back(Value::list(spend_fields(c)));
  }
  const std::vector<Value> args = {Value::list(std::move(requests))};
  return encode("spendBatch((bytes,uint256,uint256,uint256,address)[])", args);
}

Result<Bytes> PoolClient::encode_split(const SplitCall& c) {
  const std::vector<Value> args = {Value::bytes(c.proof),    Value::integer(c.root),      Value::integer(c.nullifier),
                                   uint_value(c.amount),     Value::address(c.recipient), Value::integer(c.out_cm1),
                                   Value::integer(c.out_cm2)};
  return encode("split(bytes,uint256,uint256,uint256,address,uint256,uint256)", args);
}

Result<Receipt> PoolClient::deposit(const U256& pk, std::uint64_t value, const U256& r, const TxOverrides& overrides) {
  const std::vector<Value> args = {Value::integer(pk), uint_value(value), Value::integer(r)};
  return send("deposit", encode("deposit(uint256,uint256,uint256)", args), overrides);
}

Result<Receipt> PoolClient::deposit_many(const U256& pk, std::span<const std::uint64_t> values,
                                         std::span<const U256> rs, const TxOverrides& overrides) {
  if (values.size() != rs.size()) {
    return Status::invalid_argument("deposit_many: " + std::to_string(values.size()) + " values but " +
                                    std::to_string(rs.size()) + " blinding factors");
  }
  return send("depositMany", encode_deposit_many(pk, values, rs), overrides);
}

Result<Receipt> PoolClient::spend(const SpendCall& c, const TxOverrides& overrides) {
  return send("spend", encode("spend(bytes,uint256,uint256,uint256,address)", spend_fields(c)), overrides);
}

Result<Receipt> PoolClient::spend_batch(std::span<const SpendCall> calls, const TxOverrides& overrides) {
  return send("spendBatch", encode_spend_batch(calls), overrides);
}

Result<Receipt> PoolClient::split(const SplitCall& c, const TxOverrides& overrides) {
  return send("split", encode_split(c), overrides);
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

Result<PoolEvent> PoolClient::decode_event(const Log& log) const {
  PoolEvent e;
  e.block_number = log.block_number;
  e.block_hash = log.block_hash;
  e.transaction_hash = log.transaction_hash;
  e.log_index = log.log_index;
  const Hash32& topic = log.topics.empty() ? Hash32{} : log.topics[0];
  const std::string where =
      " (block " + std::to_string(log.block_number) + ", log " + std::to_string(log.log_index) + ")";
  if (log.address != pool_) {
    return Status::corruption("a log of " + log.address.to_hex() + " among the Pool's" + where);
  }
  if (topic == inserted_.topic()) {
    Result<InsertedEvent> ins = decode_inserted(log);
    if (!ins.ok()) {
      return Status::corruption("Inserted event does not decode: " + ins.status().message() + where);
    }
    e.kind = PoolEvent::Kind::kInserted;
    e.inserted = *ins;
    return e;
  }
  const bool is_spent = topic == spent_.topic();
  if (!is_spent && topic != split_.topic()) {
    return Status::corruption("a log of the Pool that is none of its events" + where);
  }
  Result<std::vector<Value>> v = abi::decode_log(is_spent ? spent_ : split_, log.topics, log.data);
  if (!v.ok()) {
    return Status::corruption(std::string(is_spent ? "Spent" : "Split") +
                              " event does not decode: " + v.status().message() + where);
  }
  const std::vector<Value>& f = *v;
  if (is_spent) {
    e.kind = PoolEvent::Kind::kSpent;
    e.spent = SpentEvent{*f[0].as_uint(), *f[1].as_address(), *f[2].as_uint()};
  } else {
    e.kind = PoolEvent::Kind::kSplit;
    e.split = SplitEvent{*f[0].as_uint(), *f[1].as_address(), *f[2].as_uint(), *f[3].as_uint(), *f[4].as_uint()};
  }
  return e;
}

Result<std::vector<PoolEvent>> PoolClient::events(std::uint64_t from_block, std::uint64_t to_block) {
  if (from_block > to_block) {
    return std::vector<PoolEvent>{};
  }
  Result<std::vector<Log>> logs =
      rpc_.get_logs({.addresses = {pool_},
                     .topics = {std::vector<Hash32>{inserted_.topic(), spent_.topic(), split_.topic()}},
                     .from_block = BlockId::number(from_block),
                     .to_block = BlockId::number(to_block)});
  if (!logs.ok()) {
    return logs.status();
  }
  std::vector<PoolEvent> out;
  out.reserve(logs->size());
  for (const Log& log : *logs) {
    if (log.removed) {
      continue;
    }
    Result<PoolEvent> e = decode_event(log);
    if (!e.ok()) {
      return e.status();
    }
    out.push_back(std::move(e).value());
  }
  std::stable_sort(out.begin(), out.end(), [](const PoolEvent& a, const PoolEvent& b) {
    return a.block_number != b.block_number ? a.block_number < b.block_number : a.log_index < b.log_index;
  });
  return out;
}

Result<std::vector<PoolEvent>> PoolClient::spend_events(std::span<const U256> nullifiers, const BlockId& from_block,
                                                        const BlockId& to_block) {
  if (nullifiers.empty()) {
    return std::vector<PoolEvent>{};
  }
  std::vector<Hash32> wanted;
  wanted.reserve(nullifiers.size());
  for (const U256& n : nullifiers) {
    wanted.push_back(n.to_word());
  }
  Result<std::vector<Log>> logs =
      rpc_.get_logs({.addresses = {pool_},
                     .topics = {std::vector<Hash32>{spent_.topic(), split_.topic()}, wanted},
                     .from_block = from_block,
                     .to_block = to_block});
  if (!logs.ok()) {
    return logs.status();
  }
  std::vector<PoolEvent> out;
  for (const Log& log : *logs) {
    if (log.removed) {
      continue;
    }
    Result<PoolEvent> e = decode_event(log);
    if (!e.ok()) {
      return e.status();
    }
    if (e->kind == PoolEvent::Kind::kInserted) {
      return Status::corruption("the node answered an Inserted event to a query for Spent and Split");
    }
    out.push_back(std::move(e).value());
  }
  std::stable_sort(out.begin(), out.end(), [](const PoolEvent& a, const PoolEvent& b) {
    return a.block_number != b.block_number ? a.block_number < b.block_number : a.log_index < b.log_index;
  });
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

// ------------------------------------------------------------------------------------ TokenClient

TokenClient::TokenClient(Rpc& rpc, Wallet& wallet, const Address& token) : rpc_(rpc), wallet_(wallet), token_(token) {}

namespace {

// One value of type `returns` ("(uint256)") from a view of `token`.
Result<Value> token_view(Rpc& rpc, const Address& token, std::string_view signature, std::span<const Value> args,
                         std::string_view returns, const BlockId& block) {
  Result<Bytes> data = encode(signature, args);
  if (!data.ok()) return data.status();
  CallRequest call;
  call.to = token;
  call.data = std::move(data).value();
  Result<Bytes> out = rpc.call(call, block);
  if (!out.ok()) {
    return out.status().with_context("token." + std::string(signature));
  }
  Result<std::vector<Value>> v = abi::decode(returns, *out);
  if (!v.ok() || v->size() != 1) {
    return Status::corruption("token." + std::string(signature) + " returned " + std::to_string(out->size()) +
                              " bytes that are not " + std::string(returns));
  }
  return std::move((*v)[0]);
}

}  // namespace

Result<U256> TokenClient::balance_of(const Address& account, const BlockId& block) {
  const std::vector<Value> args = {Value::address(account)};
  Result<Value> v = token_view(rpc_, token_, "balanceOf(address)", args, "(uint256)", block);
  if (!v.ok()) {
    return v.status();
  }
  return *v->as_uint();
}

Result<U256> TokenClient::allowance(const Address& owner, const Address& spender) {
  const std::vector<Value> args = {Value::address(owner), Value::address(spender)};
  Result<Value> v = token_view(rpc_, token_, "allowance(address,address)", args, "(uint256)", BlockId::latest());
  if (!v.ok()) {
    return v.status();
  }
  return *v->as_uint();
}

Result<std::uint8_t> TokenClient::decimals() {
  Result<Value> v = token_view(rpc_, token_, "decimals()", {}, "(uint8)", BlockId::latest());
  if (!v.ok()) {
    return v.status();
  }
  return static_cast<std::uint8_t>(v->as_uint()->low_u64());
}

Result<Bytes> TokenClient::encode_approve(const Address& spender, const U256& amount) {
  const std::vector<Value> args = {Value::address(spender), Value::integer(amount)};
  return encode("approve(address,uint256)", args);
}

Result<Receipt> TokenClient::send(std::string_view function, const Result<Bytes>& calldata,
                                  const TxOverrides& overrides) {
  if (!calldata.ok()) return calldata.status();
  Result<Receipt> r = wallet_.transact(token_, *calldata, U256(), overrides);
  return r.ok() ? r : Result<Receipt>(r.status().with_context("token." + std::string(function)));
}

Result<Receipt> TokenClient::approve(const Address& spender, const U256& amount, const TxOverrides& overrides) {
  return send("approve", encode_approve(spender, amount), overrides);
}

Result<Receipt> TokenClient::transfer(const Address& to, const U256& amount, const TxOverrides& overrides) {
  const std::vector<Value> args = {Value::address(to), Value::integer(amount)};
  return send("transfer", encode("transfer(address,uint256)", args), overrides);
}

Result<Receipt> TokenClient::mint(const Address& to, const U256& amount, const TxOverrides& overrides) {
  const std::vector<Value> args = {Value::address(to), Value::integer(amount)};
  return send("mint", encode("mint(address,uint256)", args), overrides);
}

}  // namespace bucketpay::eth
