// libFuzzer harness: a JSON-RPC node's answer body, through the envelope (id, result or error)
// and the typed parsers the Rpc applies to results (receipts, logs).
#include <cstdint>
#include <string_view>

#include "rpc_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bucketpay::eth;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto reply = parse_rpc_reply(body, "eth_getTransactionReceipt", 1);
  if (!reply.ok() || reply->is_error) return 0;
  (void)parse_receipt(reply->result);
  if (reply->result.is_array()) {
    for (const auto& log : reply->result) (void)parse_log(log);
  } else {
    (void)parse_log(reply->result);
  }
  return 0;
}
