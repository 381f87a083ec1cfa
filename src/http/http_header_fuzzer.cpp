// libFuzzer harness: the request headers' parsers (headers.h), each on the whole input as a header
// value (cpp-httplib hands a header's value over as sent, up to the line's end), with what each
// promises checked: a bearer token is a suffix of the value made only of b64token characters; a
// host name parses back to itself; an allowed host is an address, localhost or the listed name.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bucketpay/http_headers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bucketpay::http;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto token = bearer_token(text)) {
    if (token->empty() || text.substr(text.size() - token->size()) != *token) std::abort();
    for (char c : *token) {
      if (c <= ' ' || c >= 0x7f) std::abort();
    }
  }
  (void)is_json_content_type(text);
  if (auto name = host_name(text)) {
    // A name without its port is a Host header of its own, and the same name (an IPv6 address
    // needs its brackets back).
    const bool v6 = name->find(':') != std::string::npos;
    auto again = host_name(v6 ? "[" + *name + "]" : *name);
    if (!again || *again != *name) std::abort();
  }
  static const std::vector<std::string> kAllowed = {"pay.example.com"};
  if (host_allowed(text, kAllowed) && !host_name(text)) std::abort();
  return 0;
}
