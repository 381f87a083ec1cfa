#include <cassert>

#include "merkle_tree_impl.h"

namespace bucketpay {
namespace {

constexpr std::size_t kMaxZeroLevel = 16;

std::array<Fr, kMaxZeroLevel + 1> make_zero_subtrees() {
  std::array<Fr, kMaxZeroLevel + 1> z{};
  for (std::size_t k = 0; k < kMaxZeroLevel; ++k) {
    z[k + 1] = poseidon2::hash3(z[k], z[k], z[k]);
  }
  return z;
}

}  // namespace

const Fr& zero_subtree(std::size_t level) {
  static const std::array<Fr, kMaxZeroLevel + 1> table = make_zero_subtrees();
  assert(level <= kMaxZeroLevel);
  return table[level];
}

template struct BasicMerklePath<16>;
template class BasicMerkleTree<16>;
template Fr compute_root<16>(const Fr&, const MerklePath&);
template bool verify_path<16>(const Fr&, const Fr&, const MerklePath&);

}  // namespace bucketpay
