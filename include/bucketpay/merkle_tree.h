// The note commitment tree: an append-only 3-ary Poseidon2 Merkle tree of depth 16
// (docs/protocol.md, "Tree"), 3^16 = 43,046,721 leaves.
//
// Hashing. Node = H(child0, child1, child2) with H the protocol hash (bucketpay/poseidon2.h).
// The empty leaf is 0 and the empty subtrees are Z_0 = 0, Z_{k+1} = H(Z_k, Z_k, Z_k); a node whose
// children do not exist yet uses Z_k for each missing child at height k.
//
// Positions. Leaves are appended left to right. Leaf index i written in base 3, least significant
// digit first, gives the leaf's position at each level from the bottom: positions[k] =
// (i / 3^k) % 3. MerklePath::index() inverts this.
//
// Paths, exactly as the Noir circuits (spend, split, crosscheck) consume them. At level k (0 = the
// leaf's level) with cur the node computed so far (the leaf at k = 0), pos = positions[k] and
// [s0, s1] = siblings[k], the parent is H(c0, c1, c2) with
//   pos 0 -> [c0, c1, c2] = [cur, s0, s1]
//   pos 1 -> [c0, c1, c2] = [s0, cur, s1]
//   pos 2 -> [c0, c1, c2] = [s0, s1, cur]
// i.e. siblings[k] are the node's two siblings in left-to-right order, skipping the node itself.
// After level 15 the result is the root.
//
// Storage. Level k (k = 0..15) holds only the nodes that exist, ceil(n / 3^k) of them for n leaves,
// as a std::vector<Fr> (32 bytes each); empty subtrees are implicit. That is 32 * n * (1 + 1/3 +
// 1/9 + ...) = 48 bytes per leaf: 48 MiB for 2^20 leaves, 2.07 GB for a full tree. Measured by
// tree_bench (counter bytes_per_leaf, from memory_bytes()) at 2^20 leaves: 48.0. Growth by single
// appends adds std::vector's doubling slack on top (at worst 2x, 96 bytes/leaf); reserve() avoids it.
//
// Cost. append(): 16 hashes (one per level), so the root is always current and root() is O(1).
// append_many(m leaves): hashes each changed internal node once, about m/2 + 16 hashes in total,
// which is what makes bulk loading (e.g. syncing a million leaves) fast. path(): O(depth) copies,
// no hashing. compute_root()/verify_path(): 16 hashes.
//
// Thread safety: const methods may run concurrently with each other; append/append_many/reserve need
// external synchronization against every other call on the same tree.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bucketpay/field.h"
#include "bucketpay/status.h"

namespace bucketpay {

// A Merkle path for a tree of depth Depth: see the file comment for the exact convention.
template <std::size_t Depth>
struct BasicMerklePath {
  // siblings[k]: the two other children of the level-(k+1) node on the path, left to right.
  std::array<std::array<Fr, 2>, Depth> siblings{};
  // positions[k] in {0, 1, 2}: where the path's node sits among its parent's children.
  std::array<std::uint8_t, Depth> positions{};

  // The leaf index the positions encode (sum of positions[k] * 3^k). Requires positions in {0,1,2}.
  [[nodiscard]] std::uint64_t index() const;

  friend bool operator==(const BasicMerklePath&, const BasicMerklePath&) = default;
};

// An append-only 3-ary Merkle tree of depth Depth (1 <= Depth <= 16). The protocol's tree is
// MerkleTree = BasicMerkleTree<16>; other depths exist for tests (e.g. filling a tree to capacity).
template <std::size_t Depth>
class BasicMerkleTree {
 public:
  static_assert(Depth >= 1 && Depth <= 16, "depth 1..16");
  using Path = BasicMerklePath<Depth>;

  static constexpr std::size_t kArity = 3;
  static constexpr std::size_t kDepth = Depth;
  // 3^Depth leaves.
  static constexpr std::uint64_t kCapacity = [] {
    std::uint64_t c = 1;
    for (std::size_t k = 0; k < Depth; ++k) {
      c *= kArity;
    }
    return c;
  }();

  // An empty tree; its root is Z_Depth.
  BasicMerkleTree();

  // Appends one leaf and returns its index. Fails with kResourceExhausted when the tree is full
  // (the tree is then unchanged).
  Result<std::uint64_t> append(const Fr& leaf);
  // Appends leaves in order and returns the index of the first (the size before the call; for an
  // empty span that is size()). All or nothing: fails with kResourceExhausted, appending nothing,
  // when they do not all fit.
  Result<std::uint64_t> append_many(std::span<const Fr> leaves);

  // The current root, O(1).
  [[nodiscard]] const Fr& root() const { return root_; }
  // Number of leaves appended.
  [[nodiscard]] std::uint64_t size() const { return levels_[0].size(); }
  // Leaf i; kNotFound when i >= size().
  [[nodiscard]] Result<Fr> leaf(std::uint64_t i) const;
  // The path from leaf i to the current root; kNotFound when i >= size().
  [[nodiscard]] Result<Path> path(std::uint64_t i) const;

  // Reserves memory for `leaves` leaves in total (no effect if already that large), so that bulk
  // loading neither reallocates nor leaves growth slack.
  void reserve(std::uint64_t leaves);
  // Bytes held by the node vectors (their capacities), for memory accounting.
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  // Rehashes the ancestors of leaves [first, last) up to the root.
  void update(std::uint64_t first, std::uint64_t last);

  // levels_[k]: the existing nodes at height k; levels_[0] are the leaves.
  std::array<std::vector<Fr>, Depth> levels_;
  Fr root_;
};

// Z_level, the root of an empty subtree of height `level`. Requires level <= 16 (asserted).
// The table is computed once, on first use (thread-safe).
[[nodiscard]] const Fr& zero_subtree(std::size_t level);

// The root that `path` leads to from `leaf`. Requires every position in {0, 1, 2} (asserted);
// verify_path checks that instead.
template <std::size_t Depth>
[[nodiscard]] Fr compute_root(const Fr& leaf, const BasicMerklePath<Depth>& path);

// True when every position is in {0, 1, 2} and compute_root(leaf, path) == root.
template <std::size_t Depth>
[[nodiscard]] bool verify_path(const Fr& root, const Fr& leaf, const BasicMerklePath<Depth>& path);

using MerklePath = BasicMerklePath<16>;
using MerkleTree = BasicMerkleTree<16>;

// Instantiated once, in src/tree/merkle_tree.cpp.
extern template struct BasicMerklePath<16>;
extern template class BasicMerkleTree<16>;
extern template Fr compute_root<16>(const Fr&, const MerklePath&);
extern template bool verify_path<16>(const Fr&, const Fr&, const MerklePath&);

}  // namespace bucketpay
