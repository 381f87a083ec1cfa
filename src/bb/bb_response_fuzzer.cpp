// libFuzzer harness: one msgpack answer frame of `bb msgpack run`, decoded as each response we read.
#include <cstdint>
#include <span>

#include "response.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bucketpay::bb;
  const std::span<const std::uint8_t> frame(data, size);
  (void)response::poseidon2_permutation(frame);
  (void)response::poseidon2_hash(frame);
  (void)response::circuit_info(frame);
  (void)response::compute_vk(frame);
  (void)response::prove(frame);
  (void)response::verify(frame);
  (void)response::solidity_verifier(frame);
  return 0;
}
