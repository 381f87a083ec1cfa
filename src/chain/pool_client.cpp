#include "bucketpay/pool_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

namespace bucketpay::eth {

using abi::Value;

namespace {

constexpr std::string_view kInserted = "Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root)";
constexpr std::string_view kSpent = "Spent(uint256 indexed nullifier, bytes32 indexed payment)";
constexpr std::string_view kPaid =
    "Paid(bytes32 indexed payment, address indexed recipient, uint256 amount, address indexed feeRecipient, "
    "uint256 fee)";

// The Pool's tuples, as its ABI spells them.
constexpr std::string_view kPaymentTuple = "(uint256[],address,uint256,address,uint256)";
// spendBatch(bytes[] proofs, SpendInputs[] spends, Payment payment, bytes[] signatures): the proofs
// apart from their public inputs, so that the Pool forwards them to the batch verifier as they came.
constexpr std::string_view kSpendBatch =
    "spendBatch(bytes[],(uint256,uint256,uint256,address)[],(uint256[],address,uint256,address,uint256),bytes[])";
constexpr std::string_view kSplitFn =
    "split((bytes,uint256,uint256,uint256,address,uint256[8]),(uint256[],address,uint256,address,uint256),bytes)";

Value uint_value(std::uint64_t v) { return Value::integer(U256(v)); }

Value payment_value(const Payment& p) {
  Value::List nfs;
  nfs.reserve(p.nullifiers.size());
  for (const U256& nf : p.nullifiers) nfs.push_back(Value::integer(nf));
  return Value::list({Value::list(std::move(nfs)), Value::address(p.recipient), Value::integer(p.fee),
                      Value::address(p.fee_recipient), Value::integer(p.deadline)});
}

Value signature_value(const RsvSignature& s) { return Value::bytes(Bytes(s.begin(), s.end())); }

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
      paid_(*abi::parse_signature(kPaid)) {}

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

Result<Bytes> PoolClient::encode_deposit(const U256& owner, std::uint64_t value) {
  const std::vector<Value> args = {Value::integer(owner), uint_value(value)};
  return encode("deposit(uint256,uint256)", args);
}

Result<Bytes> PoolClient::encode_deposit_many(std::span<const U256> owners, std::span<const std::uint64_t> values) {
  Value::List os;
  Value::List vs;
  for (const U256& o : owners) os.push_back(Value::integer(o));
  for (std::uint64_t v : values) vs.push_back(uint_value(v));
  const std::vector<Value> args = {Value::list(std::move(os)), Value::list(std::move(vs))};
  return encode("depositMany(uint256[],uint256[])", args);
}

Result<Bytes> PoolClient::encode_spend_batch(std::span<const SpendCall> spends, const Payment& payment,
                                             std::span<const RsvSignature> signatures) {
  Value::List proofs;
  Value::List inputs;
  proofs.reserve(spends.size());
  inputs.reserve(spends.size());
  for (const SpendCall& c : spends) {
    proofs.push_back(Value::bytes(c.proof));
    inputs.push_back(Value::list(
        {Value::integer(c.root), Value::integer(c.nullifier), uint_value(c.value), Value::address(c.auth)}));
  }
  Value::List sigs;
  for (const RsvSignature& sig : signatures) sigs.push_back(signature_value(sig));
  const std::vector<Value> args = {Value::list(std::move(proofs)), Value::list(std::move(inputs)),
                                   payment_value(payment), Value::list(std::move(sigs))};
  return encode(kSpendBatch, args);
}

Result<Bytes> PoolClient::encode_split(const SplitCall& c, const Payment& payment, const RsvSignature& signature) {
  Value::List outs;
  for (const U256& cm : c.out_cms) outs.push_back(Value::integer(cm));
  const Value proof = Value::list({Value::bytes(c.proof), Value::integer(c.root), Value::integer(c.nullifier),
                                   uint_value(c.amount), Value::address(c.auth), Value::list(std::move(outs))});
  const std::vector<Value> args = {proof, payment_value(payment), signature_value(signature)};
  return encode(kSplitFn, args);
}

Result<Receipt> PoolClient::deposit(const U256& owner, std::uint64_t value, const TxOverrides& overrides) {
  return send("deposit", encode_deposit(owner, value), overrides);
}

Result<Receipt> PoolClient::deposit_many(std::span<const U256> owners, std::span<const std::uint64_t> values,
                                         const TxOverrides& overrides) {
  if (owners.size() != values.size()) {
    return Status::invalid_argument("deposit_many: " + std::to_string(owners.size()) + " owners but " +
                                    std::to_string(values.size()) + " values");
  }
  return send("depositMany", encode_deposit_many(owners, values), overrides);
}

Result<Receipt> PoolClient::spend_batch(std::span<const SpendCall> spends, const Payment& payment,
                                        std::span<const RsvSignature> signatures, const TxOverrides& overrides) {
  return send("spendBatch", encode_spend_batch(spends, payment, signatures), overrides);
}

Result<Receipt> PoolClient::split(const SplitCall& c, const Payment& payment, const RsvSignature& signature,
                                  const TxOverrides& overrides) {
  return send("split", encode_split(c, payment, signature), overrides);
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

Result<Hash32> PoolClient::payment_digest(const Payment& payment) {
  const std::vector<Value> args = {payment_value(payment)};
  Result<std::vector<Value>> v =
      view("paymentDigest(" + std::string(kPaymentTuple) + ")", args, "(bytes32)", BlockId::latest());
  if (!v.ok()) return v.status();
  Hash32 out{};
  const Bytes& b = *(*v)[0].as_bytes();
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

Result<Hash32> PoolClient::domain_separator() {
  Result<std::vector<Value>> v = view("domainSeparator()", {}, "(bytes32)", BlockId::latest());
  if (!v.ok()) return v.status();
  Hash32 out{};
  const Bytes& b = *(*v)[0].as_bytes();
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

Result<PaymentDomain> PoolClient::payment_domain() {
  Result<std::uint64_t> id = rpc_.chain_id();
  if (!id.ok()) return id.status();
  return PaymentDomain{U256(*id), pool_};
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
  if (!is_spent && topic != paid_.topic()) {
    return Status::corruption("a log of the Pool that is none of its events" + where);
  }
  Result<std::vector<Value>> v = abi::decode_log(is_spent ? spent_ : paid_, log.topics, log.data);
  if (!v.ok()) {
    return Status::corruption(std::string(is_spent ? "Spent" : "Paid") +
                              " event does not decode: " + v.status().message() + where);
  }
  const std::vector<Value>& f = *v;
  auto word = [](const Value& x) {
    Hash32 h{};
    const Bytes& b = *x.as_bytes();
    std::copy(b.begin(), b.end(), h.begin());
    return h;
  };
  if (is_spent) {
    e.kind = PoolEvent::Kind::kSpent;
    e.spent = SpentEvent{*f[0].as_uint(), word(f[1])};
  } else {
    e.kind = PoolEvent::Kind::kPaid;
    e.paid = PaidEvent{word(f[0]), *f[1].as_address(), *f[2].as_uint(), *f[3].as_address(), *f[4].as_uint()};
  }
  return e;
}

Result<std::vector<PoolEvent>> PoolClient::events(std::uint64_t from_block, std::uint64_t to_block) {
  if (from_block > to_block) {
    return std::vector<PoolEvent>{};
  }
  Result<std::vector<Log>> logs =
      rpc_.get_logs({.addresses = {pool_},
                     .topics = {std::vector<Hash32>{inserted_.topic(), spent_.topic(), paid_.topic()}},
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
  Result<std::vector<Log>> logs = rpc_.get_logs({.addresses = {pool_},
                                                 .topics = {std::vector<Hash32>{spent_.topic()}, wanted},
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
    if (e->kind != PoolEvent::Kind::kSpent) {
      return Status::corruption("the node answered another event to a query for Spent");
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

std::vector<std::string> pool_error_signatures() {
  return {
      "EmptyBatch()",
      "FeeTooHigh(uint256,uint256)",
      "HasherCallFailed()",
      "HasherDeploymentFailed()",
      "InvalidProof()",
      "InvalidShortString()",
      "InvalidUnit()",
      "LengthMismatch(uint256,uint256)",
      "NotAFieldElement(uint256)",
      "NullifierAlreadySpent(uint256)",
      "PaymentExpired(uint256)",
      "PaymentMismatch(uint256)",
      "ReentrancyGuardReentrantCall()",
      "SafeERC20FailedOperation(address)",
      "StringTooLong(string)",
      "TreeFull()",
      "UnknownRoot(uint256)",
      "ValueTooLarge(uint256)",
      "WrongSigner(uint256)",
      "ZeroAddress()",
      "ZeroAuth(uint256)",
      "ZeroFeeRecipient()",
      "ZeroRecipient()",
      "ZeroValue()",
  };
}

}  // namespace bucketpay::eth
