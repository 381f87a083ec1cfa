// libFuzzer harness: the service's request parsers (codec.h), as an HTTP client controls them: a
// POST /v1/jobs body, and the parameters of GET /v1/plan's query string (the input split at '&'
// and '=' as cpp-httplib splits a query). The Authorization header is read in service.cpp's
// request handler, not reachable from here.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bucketpay::service;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_create_job(text);
  std::multimap<std::string, std::string> params;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t amp = std::min(text.find('&', start), text.size());
    const std::string_view item = text.substr(start, amp - start);
    const std::size_t eq = item.find('=');
    params.emplace(std::string(item.substr(0, eq)),
                   eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1)));
    start = amp + 1;
  }
  (void)parse_plan(params);
  return 0;
}
