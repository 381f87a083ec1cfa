// libFuzzer harness: ABI decoding of return data, event logs and revert data as a node hands them
// over, for a range of static and dynamic types (nested arrays, tuples, bytes, strings). What
// decodes re-encodes and decodes to the same values.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "bucketpay/abi.h"

namespace {

using namespace bucketpay;

const char* const kTypeLists[] = {
    "(uint256)",          "(bool)",
    "(address,uint256)",  "(bytes)",
    "(string)",           "(uint256[])",
    "(bytes32[],uint64)", "((uint256,bytes)[])",
    "(uint256[2][])",     "(bytes,uint256[],address,bool,string)",
    "(uint8,bytes4,int)", "(string[][])",
};

const abi::Signature& spent_event() {
  static const abi::Signature sig =
      *abi::parse_signature("Spent(uint256 indexed nullifier, address indexed recipient, uint256 value, bytes data)");
  return sig;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  auto types = abi::parse_type_list(kTypeLists[data[0] % std::size(kTypeLists)]);
  if (types.ok()) {
    if (auto values = abi::decode(*types, rest); values.ok()) {
      auto encoded = abi::encode(*types, *values);
      if (!encoded.ok()) std::abort();
      auto again = abi::decode(*types, *encoded);
      if (!again.ok() || *again != *values) std::abort();
    }
  }
  // An event: up to three topics from the front of the data, the rest as its data.
  std::vector<eth::Hash32> topics{spent_event().topic()};
  std::size_t used = 0;
  while (topics.size() < 1U + (data[0] & 3U) && used + 32 <= rest.size()) {
    eth::Hash32 t;
    std::copy_n(rest.begin() + static_cast<std::ptrdiff_t>(used), 32, t.begin());
    topics.push_back(t);
    used += 32;
  }
  (void)abi::decode_log(spent_event(), topics, rest.subspan(used));
  // Revert data, with custom errors to match against.
  static const std::vector<std::string> errors = {"UnknownRoot(uint256)", "NullifierSpent(uint256)", "BadProof(bytes)",
                                                  "Custom(string,uint256[])"};
  const auto reason = abi::decode_revert(rest, errors);
  if (reason.message.empty()) std::abort();
  // The type grammar itself (types come from our code and forge artifacts, but cost nothing to check).
  (void)abi::parse_signature(std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()));
  return 0;
}
