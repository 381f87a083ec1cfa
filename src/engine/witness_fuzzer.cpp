// libFuzzer harness: one answer frame of the witness server (Node), for a circuit and for the ping.
#include <cstdint>
#include <span>

#include "witness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> frame(data, size);
  (void)bucketpay::parse_witness_response(frame, 1, "spend");
  (void)bucketpay::parse_witness_response(frame, 7, "__ping");
  return 0;
}
