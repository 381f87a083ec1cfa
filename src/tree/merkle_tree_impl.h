// Definitions of the templates declared in bucketpay/merkle_tree.h. Included by merkle_tree.cpp
// (which instantiates depth 16) and by tests that need other depths.
#pragma once

#include <algorithm>
#include <cassert>
#include <string>

#include "bucketpay/merkle_tree.h"
#include "bucketpay/poseidon2.h"

namespace bucketpay {

template <std::size_t Depth>
std::uint64_t BasicMerklePath<Depth>::index() const {
  std::uint64_t i = 0;
  for (std::size_t k = Depth; k-- > 0;) {
    assert(positions[k] < 3);
    i = i * 3 + positions[k];
  }
  return i;
}

template <std::size_t Depth>
BasicMerkleTree<Depth>::BasicMerkleTree() : root_(zero_subtree(Depth)) {}

template <std::size_t Depth>
Result<std::uint64_t> BasicMerkleTree<Depth>::append(const Fr& leaf) {
  return append_many(std::span<const Fr>(&leaf, 1));
}

template <std::size_t Depth>
Result<std::uint64_t> BasicMerkleTree<Depth>::append_many(std::span<const Fr> leaves) {
  const std::uint64_t first = size();
  if (leaves.size() > kCapacity - first) {
    return Status::resource_exhausted("Merkle tree full: " + std::to_string(first) + " of " +
                                      std::to_string(kCapacity) + " leaves, " + std::to_string(leaves.size()) +
                                      " more requested");
  }
  if (leaves.empty()) {
    return first;
  }
  levels_[0].insert(levels_[0].end(), leaves.begin(), leaves.end());
  update(first, size());
  return first;
}

template <std::size_t Depth>
void BasicMerkleTree<Depth>::update(std::uint64_t first, std::uint64_t last) {
  assert(first < last);
  for (std::size_t k = 0; k < Depth; ++k) {
    const std::vector<Fr>& children = levels_[k];
    const Fr& zero = zero_subtree(k);
    const std::uint64_t p_first = first / 3;
    const std::uint64_t p_last = (last - 1) / 3 + 1;
    auto child = [&](std::uint64_t c) -> const Fr& { return c < children.size() ? children[c] : zero; };
    if (k + 1 == Depth) {
      assert(p_first == 0 && p_last == 1);
      root_ = poseidon2::hash3(child(0), child(1), child(2));
      break;
    }
    std::vector<Fr>& parents = levels_[k + 1];
    if (parents.size() < p_last) {
      parents.resize(p_last);
    }
    // The parents of one level are independent: hashed in chunks through the batch path.
    std::array<std::array<Fr, 3>, 64> in;
    for (std::uint64_t base = p_first; base < p_last; base += in.size()) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), p_last - base));
      for (std::size_t j = 0; j < n; ++j) {
        const std::uint64_t p = base + j;
        in[j] = {child(3 * p), child(3 * p + 1), child(3 * p + 2)};
      }
      poseidon2::hash3_many(std::span(in.data(), n), std::span(parents.data() + base, n));
    }
    first = p_first;
    last = p_last;
  }
}

template <std::size_t Depth>
Result<Fr> BasicMerkleTree<Depth>::leaf(std::uint64_t i) const {
  if (i >= size()) {
    return Status::not_found("leaf " + std::to_string(i) + " not in a tree of " + std::to_string(size()));
  }
  return levels_[0][i];
}

template <std::size_t Depth>
Result<typename BasicMerkleTree<Depth>::Path> BasicMerkleTree<Depth>::path(std::uint64_t i) const {
  if (i >= size()) {
    return Status::not_found("no path for leaf " + std::to_string(i) + " in a tree of " + std::to_string(size()));
  }
  Path out;
  std::uint64_t idx = i;
  for (std::size_t k = 0; k < Depth; ++k) {
    const std::vector<Fr>& nodes = levels_[k];
    const auto pos = static_cast<std::uint8_t>(idx % 3);
    const std::uint64_t base = idx - pos;
    std::size_t s = 0;
    for (std::uint64_t c = 0; c < 3; ++c) {
      if (c == pos) {
        continue;
      }
      out.siblings[k][s++] = base + c < nodes.size() ? nodes[base + c] : zero_subtree(k);
    }
    out.positions[k] = pos;
    idx /= 3;
  }
  return out;
}

template <std::size_t Depth>
void BasicMerkleTree<Depth>::reserve(std::uint64_t leaves) {
  leaves = std::min(leaves, kCapacity);
  for (std::size_t k = 0; k < Depth; ++k) {
    levels_[k].reserve(leaves);
    leaves = (leaves + 2) / 3;
  }
}

template <std::size_t Depth>
std::size_t BasicMerkleTree<Depth>::memory_bytes() const {
  std::size_t bytes = sizeof(*this);
  for (const auto& level : levels_) {
    bytes += level.capacity() * sizeof(Fr);
  }
  return bytes;
}

template <std::size_t Depth>
Fr compute_root(const Fr& leaf, const BasicMerklePath<Depth>& path) {
  Fr cur = leaf;
  for (std::size_t k = 0; k < Depth; ++k) {
    const auto& s = path.siblings[k];
    switch (path.positions[k]) {
      case 0:
        cur = poseidon2::hash3(cur, s[0], s[1]);
        break;
      case 1:
        cur = poseidon2::hash3(s[0], cur, s[1]);
        break;
      case 2:
        cur = poseidon2::hash3(s[0], s[1], cur);
        break;
      default:
        assert(false && "Merkle path position out of range");
        return Fr();
    }
  }
  return cur;
}

template <std::size_t Depth>
bool verify_path(const Fr& root, const Fr& leaf, const BasicMerklePath<Depth>& path) {
  for (std::uint8_t pos : path.positions) {
    if (pos > 2) {
      return false;
    }
  }
  return compute_root(leaf, path) == root;
}

}  // namespace bucketpay
