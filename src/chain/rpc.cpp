// JSON-RPC over HTTP with cpp-httplib, and the typed methods of Rpc.
//
// Every answer is checked field by field before use; nlohmann's throwing accessors are only reached
// after a type check, and a catch-all at the transport boundary turns anything unexpected into a
// Status.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "bucketpay/chain.h"
#include "rpc_parse.h"

namespace bucketpay::eth {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string snippet(std::string_view s) {
  constexpr std::size_t kMax = 120;
  std::string out(s.substr(0, kMax));
  if (s.size() > kMax) {
    out += "...";
  }
  return out;
}

// ---------------------------------------------------------------------------- field parsers

Status bad(std::string_view method, std::string_view what) {
  return Status::corruption("malformed answer to " + std::string(method) + ": " + std::string(what));
}

const json* field(const json& obj, const char* key) {
  if (!obj.is_object()) {
    return nullptr;
  }
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<U256> as_quantity(const json& j, std::string_view what) {
  if (!j.is_string()) {
    return Status::corruption(std::string(what) + " is not a hex string");
  }
  Result<U256> v = U256::from_quantity(j.get_ref<const std::string&>());
  if (!v) {
    return Status::corruption(std::string(what) + ": " + v.status().message());
  }
  return v;
}

Result<std::uint64_t> as_u64(const json& j, std::string_view what) {
  Result<U256> v = as_quantity(j, what);
  if (!v) {
    return v.status();
  }
  if (!v->fits_u64()) {
    return Status::corruption(std::string(what) + " exceeds 64 bits");
  }
  return v->low_u64();
}

Result<Bytes> as_data(const json& j, std::string_view what) {
  if (!j.is_string()) {
    return Status::corruption(std::string(what) + " is not a hex string");
  }
  Result<Bytes> b = from_hex(j.get_ref<const std::string&>());
  if (!b) {
    return Status::corruption(std::string(what) + ": " + b.status().message());
  }
  return b;
}

Result<Hash32> as_hash(const json& j, std::string_view what) {
  if (!j.is_string()) {
    return Status::corruption(std::string(what) + " is not a hex string");
  }
  Result<Hash32> h = hash_from_hex(j.get_ref<const std::string&>());
  if (!h) {
    return Status::corruption(std::string(what) + ": " + h.status().message());
  }
  return h;
}

Result<Address> as_address(const json& j, std::string_view what) {
  if (!j.is_string()) {
    return Status::corruption(std::string(what) + " is not a string");
  }
  Result<Address> a = Address::from_string(j.get_ref<const std::string&>());
  if (!a) {
    return Status::corruption(std::string(what) + ": " + a.status().message());
  }
  return a;
}

// Reads obj[key] with parser p into *out; a missing field is an error.
template <typename T, typename P>
Status read(const json& obj, const char* key, P p, T* out) {
  const json* f = field(obj, key);
  if (f == nullptr) {
    return Status::corruption(std::string("missing field '") + key + "'");
  }
  auto r = p(*f, key);
  if (!r) {
    return r.status();
  }
  *out = std::move(r).value();
  return Status::ok();
}

// Same for a field that may be missing or null.
template <typename T, typename P>
Status read_optional(const json& obj, const char* key, P p, std::optional<T>* out) {
  const json* f = field(obj, key);
  if (f == nullptr || f->is_null()) {
    out->reset();
    return Status::ok();
  }
  auto r = p(*f, key);
  if (!r) {
    return r.status();
  }
  *out = std::move(r).value();
  return Status::ok();
}

}  // namespace

Result<Log> parse_log(const json& j) {
  if (!j.is_object()) {
    return Status::corruption("log is not an object");
  }
  Log log;
  BUCKETPAY_RETURN_IF_ERROR(read(j, "address", as_address, &log.address));
  BUCKETPAY_RETURN_IF_ERROR(read(j, "data", as_data, &log.data));
  const json* topics = field(j, "topics");
  if (topics == nullptr || !topics->is_array()) {
    return Status::corruption("log topics is not an array");
  }
  for (const json& t : *topics) {
    Result<Hash32> h = as_hash(t, "topic");
    if (!h) {
      return h.status();
    }
    log.topics.push_back(*h);
  }
  std::optional<std::uint64_t> bn, li;
  std::optional<Hash32> bh, th;
  BUCKETPAY_RETURN_IF_ERROR(read_optional(j, "blockNumber", as_u64, &bn));
  BUCKETPAY_RETURN_IF_ERROR(read_optional(j, "logIndex", as_u64, &li));
  BUCKETPAY_RETURN_IF_ERROR(read_optional(j, "blockHash", as_hash, &bh));
  BUCKETPAY_RETURN_IF_ERROR(read_optional(j, "transactionHash", as_hash, &th));
  log.block_number = bn.value_or(0);
  log.log_index = li.value_or(0);
  log.block_hash = bh.value_or(Hash32{});
  log.transaction_hash = th.value_or(Hash32{});
  if (const json* r = field(j, "removed"); r != nullptr && !r->is_null()) {
    if (!r->is_boolean()) {
      return Status::corruption("log removed is not a bool");
    }
    log.removed = r->get<bool>();
  }
  return log;
}

Result<Receipt> parse_receipt(const json& j) {
  if (!j.is_object()) {
    return Status::corruption("receipt is not an object");
  }
  Receipt r;
  U256 status;
  BUCKETPAY_RETURN_IF_ERROR(read(j, "transactionHash", as_hash, &r.transaction_hash));
  BUCKETPAY_RETURN_IF_ERROR(read(j, "status", as_quantity, &status));
  if (status > U256(1)) {
    return Status::corruption("receipt status is neither 0x0 nor 0x1");
  }
  r.success = status == U256(1);
  BUCKETPAY_RETURN_IF_ERROR(read(j, "blockNumber", as_u64, &r.block_number));
  BUCKETPAY_RETURN_IF_ERROR(read(j, "blockHash", as_hash, &r.block_hash));
  BUCKETPAY_RETURN_IF_ERROR(read(j, "from", as_address, &r.from));
  BUCKETPAY_RETURN_IF_ERROR(read_optional(j, "to", as_address, &r.to));
  BUCKETPAY_RETURN_IF_ERROR(read_optional(j, "contractAddress", as_address, &r.contract_address));
  BUCKETPAY_RETURN_IF_ERROR(read(j, "gasUsed", as_u64, &r.gas_used));
  BUCKETPAY_RETURN_IF_ERROR(read(j, "effectiveGasPrice", as_quantity, &r.effective_gas_price));
  const json* logs = field(j, "logs");
  if (logs == nullptr || !logs->is_array()) {
    return Status::corruption("receipt logs is not an array");
  }
  for (const json& l : *logs) {
    Result<Log> log = parse_log(l);
    if (!log) {
      return log.status();
    }
    r.logs.push_back(std::move(log).value());
  }
  return r;
}

namespace {

json call_json(const CallRequest& c) {
  json j = json::object();
  if (c.from) {
    j["from"] = c.from->to_hex();
  }
  if (c.to) {
    j["to"] = c.to->to_hex();
  }
  j["input"] = to_hex(c.data);
  if (!c.value.is_zero()) {
    j["value"] = c.value.to_quantity();
  }
  if (c.gas) {
    j["gas"] = U256(*c.gas).to_quantity();
  }
  return j;
}

bool is_revert(int code, const std::string& message) {
  return code == 3 || lower(message).find("revert") != std::string::npos;
}

}  // namespace

Result<RpcReply> parse_rpc_reply(std::string_view body, std::string_view method, std::uint64_t id) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return bad(method, "not JSON: '" + snippet(body) + "'");
  }
  if (!j.is_object()) {
    return bad(method, "not a JSON object: '" + snippet(body) + "'");
  }
  const json* got_id = field(j, "id");
  if (got_id == nullptr || !got_id->is_number_unsigned() || got_id->get<std::uint64_t>() != id) {
    return bad(method, "id does not match the request's");
  }
  RpcReply reply;
  const json* error = field(j, "error");
  const json* result = field(j, "result");
  if (error != nullptr && !error->is_null()) {
    const json* code = field(*error, "code");
    const json* message = field(*error, "message");
    if (code == nullptr || !code->is_number_integer() || message == nullptr || !message->is_string()) {
      return bad(method, "error object without an integer code and a string message");
    }
    reply.is_error = true;
    reply.code = code->get<std::int64_t>();
    reply.message = message->get<std::string>();
    if (const json* data = field(*error, "data"); data != nullptr && data->is_string()) {
      Result<Bytes> b = from_hex(data->get_ref<const std::string&>());
      if (b) {
        reply.data = std::move(b).value();
      }
    }
    return reply;
  }
  if (result == nullptr) {
    return bad(method, "neither result nor error");
  }
  reply.result = *result;
  return reply;
}

// --------------------------------------------------------------------------------- transport

class Rpc::Transport {
 public:
  using Reply = RpcReply;

  Transport(std::unique_ptr<httplib::Client> client, std::string path, const RpcOptions& options)
      : client_(std::move(client)), path_(std::move(path)), options_(options) {}

  Result<Reply> request(std::string_view method, json params) {
    try {
      return request_unguarded(method, std::move(params));
    } catch (const std::exception& e) {
      return Status::internal("unexpected exception in " + std::string(method) + ": " + e.what());
    }
  }

 private:
  Result<Reply> request_unguarded(std::string_view method, json params) {
    std::uint64_t id = next_id_.fetch_add(1);
    json body = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};

    httplib::Request req;
    req.method = "POST";
    req.path = path_;
    req.body = body.dump();
    req.headers.emplace("Content-Type", "application/json");
    std::string received;
    bool too_large = false;
    std::size_t limit = options_.max_response_bytes;
    req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
      if (received.size() + n > limit) {
        too_large = true;
        return false;
      }
      received.append(data, n);
      return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    auto start = std::chrono::steady_clock::now();
    bool sent;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      sent = client_->send(req, res, err);
    }
    std::string where = std::string(method) + " at " + options_.url;
    if (!sent) {
      if (too_large) {
        return Status::resource_exhausted("answer to " + where + " exceeds " + std::to_string(limit) + " bytes");
      }
      auto elapsed = std::chrono::steady_clock::now() - start;
      if (err == httplib::Error::ConnectionTimeout ||
          (err == httplib::Error::Read && elapsed >= options_.timeout * 9 / 10)) {
        return Status::timeout("no answer to " + where + " within " + std::to_string(options_.timeout.count()) + " ms");
      }
      return Status::unavailable("cannot reach " + where + ": " + httplib::to_string(err));
    }
    if (res.status != 200) {
      return Status::unavailable("HTTP " + std::to_string(res.status) + " from " + where + ": " + snippet(received));
    }

    return parse_rpc_reply(received, method, id);
  }

  std::unique_ptr<httplib::Client> client_;
  std::string path_;
  const RpcOptions& options_;
  std::mutex mutex_;
  std::atomic<std::uint64_t> next_id_{1};
};

// ------------------------------------------------------------------------------------------ Rpc

Result<std::unique_ptr<Rpc>> Rpc::connect(RpcOptions options) {
  std::string_view url = options.url;
  std::string scheme;
  if (url.starts_with("http://")) {
    scheme = "http";
  } else if (url.starts_with("https://")) {
    scheme = "https";
  } else {
    return Status::invalid_argument("RPC URL must start with http:// or https://: '" + options.url + "'");
  }
  std::string_view rest = url.substr(scheme.size() + 3);
  std::size_t slash = rest.find('/');
  std::string_view host_port = rest.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (host_port.empty()) {
    return Status::invalid_argument("RPC URL has no host: '" + options.url + "'");
  }
  std::size_t colon = host_port.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port = host_port.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
        std::stoi(std::string(port)) > 65535) {
      return Status::invalid_argument("RPC URL has a bad port: '" + options.url + "'");
    }
  }
  if (options.timeout.count() <= 0) {
    return Status::invalid_argument("RPC timeout must be positive");
  }
  try {
    auto client = std::make_unique<httplib::Client>(scheme + "://" + std::string(host_port));
    if (!client->is_valid()) {
      return Status::invalid_argument("RPC URL is not usable: '" + options.url + "'");
    }
    auto secs = static_cast<time_t>(options.timeout.count() / 1000);
    auto usecs = static_cast<time_t>((options.timeout.count() % 1000) * 1000);
    client->set_connection_timeout(secs, usecs);
    client->set_read_timeout(secs, usecs);
    client->set_write_timeout(secs, usecs);
    client->set_keep_alive(true);
    std::unique_ptr<Rpc> rpc(new Rpc(std::move(options), nullptr));
    rpc->transport_ = std::make_unique<Transport>(std::move(client), std::move(path), rpc->options_);
    return rpc;
  } catch (const std::exception& e) {
    return Status::invalid_argument("RPC URL is not usable: '" + options.url + "': " + e.what());
  }
}

Rpc::Rpc(RpcOptions options, std::unique_ptr<Transport> transport)
    : options_(std::move(options)), transport_(std::move(transport)) {}

Rpc::~Rpc() = default;

abi::RevertReason Rpc::decode_revert(std::span<const std::uint8_t> data) const {
  return abi::decode_revert(data, options_.error_signatures);
}

namespace {
// Turns a reply into its result, or the error object into a Status.
Result<json> unwrap(const Rpc& rpc, std::string_view method, Result<Rpc::Transport::Reply> reply) {
  if (!reply) {
    return reply.status();
  }
  if (!reply->is_error) {
    return std::move(reply->result);
  }
  std::string msg =
      "rpc error " + std::to_string(reply->code) + ": " + reply->message + " (" + std::string(method) + ")";
  if (is_revert(static_cast<int>(reply->code), reply->message)) {
    msg += ": reverted with " + rpc.decode_revert(reply->data.value_or(Bytes{})).message;
  }
  StatusCode code =
      reply->code == -32602 || reply->code == -32600 ? StatusCode::kInvalidArgument : StatusCode::kFailedPrecondition;
  return Status(code, msg);
}

template <typename T, typename P>
Result<T> typed(std::string_view method, Result<json> r, P parse) {
  if (!r) {
    return r.status();
  }
  auto v = parse(*r, "result");
  if (!v) {
    return v.status().with_context(std::string(method));
  }
  return std::move(v).value();
}
}  // namespace

#define BUCKETPAY_RPC(method, params) unwrap(*this, method, transport_->request(method, params))

Result<std::uint64_t> Rpc::chain_id() {
  return typed<std::uint64_t>("eth_chainId", BUCKETPAY_RPC("eth_chainId", json::array()), as_u64);
}

Result<std::uint64_t> Rpc::block_number() {
  return typed<std::uint64_t>("eth_blockNumber", BUCKETPAY_RPC("eth_blockNumber", json::array()), as_u64);
}

Result<U256> Rpc::get_balance(const Address& account, const BlockId& block) {
  return typed<U256>("eth_getBalance", BUCKETPAY_RPC("eth_getBalance", json::array({account.to_hex(), block.to_rpc()})),
                     as_quantity);
}

Result<std::uint64_t> Rpc::get_transaction_count(const Address& account, const BlockId& block) {
  return typed<std::uint64_t>("eth_getTransactionCount",
                              BUCKETPAY_RPC("eth_getTransactionCount", json::array({account.to_hex(), block.to_rpc()})),
                              as_u64);
}

Result<Bytes> Rpc::get_code(const Address& account, const BlockId& block) {
  return typed<Bytes>("eth_getCode", BUCKETPAY_RPC("eth_getCode", json::array({account.to_hex(), block.to_rpc()})),
                      as_data);
}

Result<std::uint64_t> Rpc::estimate_gas(const CallRequest& call) {
  return typed<std::uint64_t>("eth_estimateGas", BUCKETPAY_RPC("eth_estimateGas", json::array({call_json(call)})),
                              as_u64);
}

Result<U256> Rpc::max_priority_fee_per_gas() {
  return typed<U256>("eth_maxPriorityFeePerGas", BUCKETPAY_RPC("eth_maxPriorityFeePerGas", json::array()), as_quantity);
}

Result<FeeHistory> Rpc::fee_history(std::uint64_t block_count, const BlockId& newest,
                                    const std::vector<double>& reward_percentiles) {
  Result<json> r = BUCKETPAY_RPC("eth_feeHistory",
                                 json::array({U256(block_count).to_quantity(), newest.to_rpc(), reward_percentiles}));
  if (!r) {
    return r.status();
  }
  const json& j = *r;
  auto fail = [](const std::string& what) { return bad("eth_feeHistory", what); };
  if (!j.is_object()) {
    return fail("result is not an object");
  }
  FeeHistory h;
  Status s = read(j, "oldestBlock", as_u64, &h.oldest_block);
  if (!s.is_ok()) {
    return fail(s.message());
  }
  const json* base = field(j, "baseFeePerGas");
  if (base == nullptr || !base->is_array() || base->empty()) {
    return fail("baseFeePerGas is not a non-empty array");
  }
  for (const json& b : *base) {
    Result<U256> v = as_quantity(b, "baseFeePerGas");
    if (!v) {
      return fail(v.status().message());
    }
    h.base_fee_per_gas.push_back(*v);
  }
  if (const json* ratios = field(j, "gasUsedRatio"); ratios != nullptr && ratios->is_array()) {
    for (const json& x : *ratios) {
      if (!x.is_number()) {
        return fail("gasUsedRatio holds a non-number");
      }
      h.gas_used_ratio.push_back(x.get<double>());
    }
  }
  if (const json* rewards = field(j, "reward"); rewards != nullptr && rewards->is_array()) {
    for (const json& row : *rewards) {
      if (!row.is_array()) {
        return fail("reward row is not an array");
      }
      std::vector<U256> out;
      for (const json& x : row) {
        Result<U256> v = as_quantity(x, "reward");
        if (!v) {
          return fail(v.status().message());
        }
        out.push_back(*v);
      }
      h.reward.push_back(std::move(out));
    }
  }
  return h;
}

Result<Hash32> Rpc::send_raw_transaction(std::span<const std::uint8_t> raw) {
  return typed<Hash32>("eth_sendRawTransaction", BUCKETPAY_RPC("eth_sendRawTransaction", json::array({to_hex(raw)})),
                       as_hash);
}

Result<std::optional<Receipt>> Rpc::get_transaction_receipt(const Hash32& tx_hash) {
  Result<json> r = BUCKETPAY_RPC("eth_getTransactionReceipt", json::array({to_hex(tx_hash)}));
  if (!r) {
    return r.status();
  }
  if (r->is_null()) {
    return std::optional<Receipt>();
  }
  Result<Receipt> receipt = parse_receipt(*r);
  if (!receipt) {
    return bad("eth_getTransactionReceipt", receipt.status().message());
  }
  return std::optional<Receipt>(std::move(receipt).value());
}

Result<Receipt> Rpc::wait_for_receipt(const Hash32& tx_hash, std::chrono::milliseconds timeout,
                                      std::chrono::milliseconds poll_interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Result<std::optional<Receipt>> r = get_transaction_receipt(tx_hash);
    if (!r) {
      return r.status();
    }
    if (r->has_value()) {
      return std::move(**r);
    }
    if (std::chrono::steady_clock::now() + poll_interval > deadline) {
      return Status::timeout("no receipt for " + to_hex(tx_hash) + " within " + std::to_string(timeout.count()) +
                             " ms");
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

Result<CallOutcome> Rpc::try_call(const CallRequest& call, const BlockId& block) {
  Result<Transport::Reply> reply = transport_->request("eth_call", json::array({call_json(call), block.to_rpc()}));
  if (!reply) {
    return reply.status();
  }
  CallOutcome out;
  if (reply->is_error) {
    if (!is_revert(static_cast<int>(reply->code), reply->message)) {
      return unwrap(*this, "eth_call", std::move(reply)).status();
    }
    out.reverted = true;
    out.data = reply->data.value_or(Bytes{});
    out.rpc_message = reply->message;
    return out;
  }
  Result<Bytes> data = as_data(reply->result, "result");
  if (!data) {
    return bad("eth_call", data.status().message());
  }
  out.data = std::move(data).value();
  return out;
}

Result<Bytes> Rpc::call(const CallRequest& call, const BlockId& block) {
  Result<CallOutcome> r = try_call(call, block);
  if (!r) {
    return r.status();
  }
  if (r->reverted) {
    return Status::failed_precondition("call reverted with " + decode_revert(r->data).message + " (" + r->rpc_message +
                                       ")");
  }
  return std::move(r->data);
}

Result<std::string> Rpc::raw_request(std::string_view method, std::string_view params_json) {
  json params = json::parse(params_json, nullptr, /*allow_exceptions=*/false);
  if (params.is_discarded() || !params.is_array()) {
    return Status::invalid_argument("params of " + std::string(method) + " are not a JSON array: '" +
                                    snippet(params_json) + "'");
  }
  Result<json> r = BUCKETPAY_RPC(method, std::move(params));
  if (!r) {
    return r.status();
  }
  return r->dump();
}

Result<std::vector<Log>> Rpc::get_logs(const LogFilter& filter) {
  json f = json::object();
  f["fromBlock"] = filter.from_block.to_rpc();
  f["toBlock"] = filter.to_block.to_rpc();
  if (!filter.addresses.empty()) {
    json a = json::array();
    for (const Address& x : filter.addresses) {
      a.push_back(x.to_hex());
    }
    f["address"] = a;
  }
  if (!filter.topics.empty()) {
    json t = json::array();
    for (const auto& pos : filter.topics) {
      if (!pos) {
        t.push_back(nullptr);
        continue;
      }
      json any = json::array();
      for (const Hash32& h : *pos) {
        any.push_back(to_hex(h));
      }
      t.push_back(any);
    }
    f["topics"] = t;
  }
  Result<json> r = BUCKETPAY_RPC("eth_getLogs", json::array({f}));
  if (!r) {
    return r.status();
  }
  if (!r->is_array()) {
    return bad("eth_getLogs", "result is not an array");
  }
  std::vector<Log> logs;
  for (const json& l : *r) {
    Result<Log> log = parse_log(l);
    if (!log) {
      return bad("eth_getLogs", log.status().message());
    }
    logs.push_back(std::move(log).value());
  }
  return logs;
}

Result<std::optional<Transaction>> Rpc::get_transaction(const Hash32& tx_hash) {
  Result<json> r = BUCKETPAY_RPC("eth_getTransactionByHash", json::array({to_hex(tx_hash)}));
  if (!r) {
    return r.status();
  }
  if (r->is_null()) {
    return std::optional<Transaction>();
  }
  const json& j = *r;
  Transaction t;
  Status s = [&]() -> Status {
    BUCKETPAY_RETURN_IF_ERROR(read(j, "hash", as_hash, &t.hash));
    BUCKETPAY_RETURN_IF_ERROR(read(j, "from", as_address, &t.from));
    BUCKETPAY_RETURN_IF_ERROR(read_optional(j, "to", as_address, &t.to));
    BUCKETPAY_RETURN_IF_ERROR(read(j, "value", as_quantity, &t.value));
    BUCKETPAY_RETURN_IF_ERROR(read(j, "input", as_data, &t.input));
    BUCKETPAY_RETURN_IF_ERROR(read(j, "nonce", as_u64, &t.nonce));
    BUCKETPAY_RETURN_IF_ERROR(read(j, "gas", as_u64, &t.gas));
    return read_optional(j, "blockNumber", as_u64, &t.block_number);
  }();
  if (!s.is_ok()) {
    return bad("eth_getTransactionByHash", s.message());
  }
  return std::optional<Transaction>(std::move(t));
}

Result<std::optional<BlockHeader>> Rpc::get_block(const BlockId& block) {
  Result<json> r = BUCKETPAY_RPC("eth_getBlockByNumber", json::array({block.to_rpc(), false}));
  if (!r) {
    return r.status();
  }
  if (r->is_null()) {
    return std::optional<BlockHeader>();
  }
  const json& j = *r;
  BlockHeader h;
  Status s = [&]() -> Status {
    if (!j.is_object()) {
      return Status::corruption("result is not an object");
    }
    BUCKETPAY_RETURN_IF_ERROR(read(j, "number", as_u64, &h.number));
    BUCKETPAY_RETURN_IF_ERROR(read(j, "hash", as_hash, &h.hash));
    BUCKETPAY_RETURN_IF_ERROR(read(j, "parentHash", as_hash, &h.parent_hash));
    BUCKETPAY_RETURN_IF_ERROR(read(j, "timestamp", as_u64, &h.timestamp));
    return read_optional(j, "baseFeePerGas", as_quantity, &h.base_fee_per_gas);
  }();
  if (!s.is_ok()) {
    return bad("eth_getBlockByNumber", s.message());
  }
  return std::optional<BlockHeader>(h);
}

#undef BUCKETPAY_RPC

}  // namespace bucketpay::eth
