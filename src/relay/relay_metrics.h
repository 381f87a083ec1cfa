// The relayer's counters, rendered in the Prometheus text format (version 0.0.4) by GET /metrics.
// Counters start at 0 with the process (Prometheus handles the reset); the entries open in the
// journal are a gauge read from the store at render time.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "bucketpay/eth.h"
#include "bucketpay/relay.h"
#include "bucketpay/store.h"

namespace bucketpay::relay {

class RelayMetrics {
 public:
  // A POST that reached the checks; `kind` is "spend_batch", "split" or "unknown" (malformed).
  void received(std::string_view kind);
  void refused(Refusal refusal);
  void submitted();
  void sent_again();
  // The relayer's own transaction mined and succeeded: it earned `fee` (token base units).
  void mined(const eth::U256& fee, std::uint64_t gas_used, const eth::U256& wei);
  // The entry failed; `gas_used` and `wei` are what its transaction cost if it was mined (reverted),
  // `fee` what the relayer's account received anyway (someone else's copy paid it), else 0.
  void failed(std::uint64_t gas_used, const eth::U256& wei, const eth::U256& fee);
  void request(std::string_view route, int status);

  [[nodiscard]] std::string render(const RelayCounts& journal) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> received_;
  std::map<std::string, std::uint64_t> refused_;
  std::uint64_t submitted_ = 0;
  std::uint64_t sent_again_ = 0;
  std::uint64_t mined_ = 0;
  std::uint64_t failed_ = 0;
  eth::U256 fees_earned_;
  std::uint64_t gas_spent_ = 0;
  eth::U256 wei_spent_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
};

}  // namespace bucketpay::relay
