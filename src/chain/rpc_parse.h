// Parsing a JSON-RPC node's answers: the envelope ({"jsonrpc", "id", "result" | "error"}) and the
// typed results the Rpc reads from it. Internal to src/chain (rpc.cpp); exposed for the unit tests
// and the fuzzer (rpc_fuzzer.cpp), since an answer is outside input.
//
// Errors: anything malformed is kCorruption naming the method and what was wrong. Never throws.
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "bucketpay/chain.h"

namespace bucketpay::eth {

struct RpcReply {         // NOLINT(bugprone-exception-escape): json's default constructor does not throw
  nlohmann::json result;  // when !is_error
  bool is_error = false;
  std::int64_t code = 0;  // the JSON-RPC error
  std::string message;
  std::optional<Bytes> data;  // the error's hex data, when it has some
};

// The answer `body` to request `id` of `method`: its result, or its error object.
Result<RpcReply> parse_rpc_reply(std::string_view body, std::string_view method, std::uint64_t id);

Result<Log> parse_log(const nlohmann::json& j);
Result<Receipt> parse_receipt(const nlohmann::json& j);

}  // namespace bucketpay::eth
