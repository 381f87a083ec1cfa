// RelayerClient: the wallet's side of the relayer HTTP API (bucketpay/relay_api.h): a fee quote, a
// signed bundle handed over, and the relayer's status of a payment digest.
//
// What a relayer answers is not the truth about a payment: the chain is (the Pool's Spent events
// carrying the digest). The wallet uses the answers to hand a bundle over again and to show what the
// relayer did, never to settle a payment.
//
// Implementations: HttpRelayerClient (connect_relayer(), cpp-httplib) and, in unit tests, a
// scripted relayer (src/wallet/scripted_relayer_testing.h).
//
// Errors: kUnavailable (no relayer at the URL, or it answered 5xx), kTimeout (no answer in time),
// kFailedPrecondition "the relayer at URL refused ...: <its reason>" (a 4xx: it will not take this
// request as it is), kCorruption (an answer that breaks the API: not the message the spec says, or
// a quote or status of something other than what was asked).
//
// Thread safety: an implementation is used by one thread at a time unless it says otherwise.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bucketpay/relay_api.h"
#include "bucketpay/status.h"

namespace bucketpay::eth {

class RelayerClient {
 public:
  virtual ~RelayerClient() = default;

  // Where the relayer is (its base URL, e.g. "http://127.0.0.1:8646").
  [[nodiscard]] virtual const std::string& url() const = 0;
  // GET /v1/relay/quote?kind=..&notes=N: the answer's kind and notes are those asked.
  virtual Result<RelayQuote> quote(BundleKind kind, std::uint32_t notes) = 0;
  // POST /v1/relay: the relayer's status of the bundle (202: taken now; 200: it had it). The
  // answer's digest must be `digest` (the bundle's, as the wallet computed it).
  virtual Result<RelayStatus> submit(const RelayBundle& bundle, const Hash32& digest) = 0;
  // GET /v1/relay/{digest}: none when the relayer does not know it (404).
  virtual Result<std::optional<RelayStatus>> status(const Hash32& digest) = 0;
};

struct RelayerOptions {
  std::string url;                            // http://host:port (a path prefix is allowed)
  std::chrono::milliseconds timeout{10'000};  // connect, read and write, per request
  std::size_t max_response_bytes = std::size_t{1} << 20;
};

// An HTTP RelayerClient; fails only for a malformed URL (the relayer is first contacted by the
// first request). Thread safety: its methods may be called from any thread.
Result<std::unique_ptr<RelayerClient>> connect_relayer(RelayerOptions options);

}  // namespace bucketpay::eth
