#include <gtest/gtest.h>

#include <vector>

#include "bucketpay/merkle_tree.h"
#include "bucketpay/poseidon2.h"
#include "merkle_tree_impl.h"  // small depths for the capacity tests

namespace bucketpay {
namespace {

// The reference: rebuilds every level in full from the leaves, padding each level to a multiple of
// three with the empty subtree of that height (computed here, not with zero_subtree()).
Fr naive_root(std::vector<Fr> level, std::size_t depth) {
  Fr zero = Fr::zero();
  for (std::size_t k = 0; k < depth; ++k) {
    if (level.empty()) level.push_back(zero);
    while (level.size() % 3 != 0) level.push_back(zero);
    std::vector<Fr> next;
    for (std::size_t j = 0; j < level.size(); j += 3) {
      next.push_back(poseidon2::hash3(level[j], level[j + 1], level[j + 2]));
    }
    zero = poseidon2::hash3(zero, zero, zero);
    level = std::move(next);
  }
  EXPECT_EQ(level.size(), 1u);
  return level[0];
}

std::vector<Fr> random_leaves(std::size_t n) {
  std::vector<Fr> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(Fr::random());
  return out;
}

TEST(TreeTest, ConstantsMatchTheProtocol) {
  EXPECT_EQ(MerkleTree::kArity, 3u);
  EXPECT_EQ(MerkleTree::kDepth, 16u);
  EXPECT_EQ(MerkleTree::kCapacity, 43046721u);
}

TEST(TreeTest, ZeroSubtrees) {
  Fr z = Fr::zero();
  for (std::size_t k = 0; k <= 16; ++k) {
    EXPECT_EQ(zero_subtree(k), z) << k;
    z = poseidon2::hash3(z, z, z);
  }
  EXPECT_EQ(MerkleTree().root(), zero_subtree(16));
}

TEST(TreeTest, RootMatchesNaiveRecomputationAndEveryPathVerifies) {
  const std::vector<Fr> leaves = random_leaves(1000);
  const std::vector<std::size_t> checkpoints = {0, 1, 2, 3, 4, 8, 9, 10, 27, 28, 100, 1000};
  MerkleTree tree;
  std::size_t appended = 0;
  for (std::size_t n : checkpoints) {
    for (; appended < n; ++appended) {
      auto idx = tree.append(leaves[appended]);
      ASSERT_TRUE(idx.ok()) << idx.status().to_string();
      EXPECT_EQ(*idx, appended);
    }
    ASSERT_EQ(tree.size(), n);
    const std::vector<Fr> prefix(leaves.begin(), leaves.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(tree.root(), naive_root(prefix, 16)) << "n = " << n;
    for (std::uint64_t i = 0; i < n; ++i) {
      auto path = tree.path(i);
      ASSERT_TRUE(path.ok());
      EXPECT_EQ(path->index(), i);
      EXPECT_TRUE(verify_path(tree.root(), leaves[i], *path)) << "n = " << n << ", i = " << i;
      auto leaf = tree.leaf(i);
      ASSERT_TRUE(leaf.ok());
      EXPECT_EQ(*leaf, leaves[i]);
    }
    EXPECT_EQ(tree.path(n).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(tree.leaf(n).status().code(), StatusCode::kNotFound);
  }
}

TEST(TreeTest, AppendManyEqualsRepeatedAppend) {
  const std::vector<Fr> leaves = random_leaves(700);
  MerkleTree one_by_one;
  for (const Fr& leaf : leaves) ASSERT_TRUE(one_by_one.append(leaf).ok());

  // Uneven batches, including empty ones and ones that straddle subtree boundaries.
  const std::vector<std::size_t> batches = {0, 1, 5, 0, 21, 2, 243, 100, 327, 1};
  MerkleTree batched;
  std::size_t done = 0;
  for (std::size_t b : batches) {
    auto first = batched.append_many(std::span<const Fr>(leaves).subspan(done, b));
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(*first, done);
    done += b;
    MerkleTree reference;
    ASSERT_TRUE(reference.append_many(std::span<const Fr>(leaves).first(done)).ok());
    EXPECT_EQ(batched.root(), reference.root());
  }
  ASSERT_EQ(done, leaves.size());
  EXPECT_EQ(batched.root(), one_by_one.root());
  EXPECT_EQ(batched.root(), naive_root(leaves, 16));
  for (std::uint64_t i = 0; i < leaves.size(); i += 37) {
    EXPECT_EQ(*batched.path(i), *one_by_one.path(i));
  }
}

TEST(TreeTest, PathLayoutMatchesTheCircuitConvention) {
  const Fr a = Fr::from_u64(11), b = Fr::from_u64(22), c = Fr::from_u64(33), d = Fr::from_u64(44);
  MerkleTree tree;
  ASSERT_TRUE(tree.append_many(std::vector<Fr>{a, b, c, d}).ok());
  const Fr z0 = Fr::zero();
  const Fr z1 = poseidon2::hash3(z0, z0, z0);

  // Leaf 1 (position 1 at level 0): siblings are [a, c]; at level 1 the node H(a, b, c) is at
  // position 0 with siblings [H(d, 0, 0), Z_1].
  auto p1 = tree.path(1);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->positions[0], 1);
  EXPECT_EQ(p1->siblings[0][0], a);
  EXPECT_EQ(p1->siblings[0][1], c);
  EXPECT_EQ(p1->positions[1], 0);
  EXPECT_EQ(p1->siblings[1][0], poseidon2::hash3(d, z0, z0));
  EXPECT_EQ(p1->siblings[1][1], z1);

  // Leaf 3 = 10 in base 3: position 0 at level 0, 1 at level 1, 0 above.
  auto p3 = tree.path(3);
  ASSERT_TRUE(p3.ok());
  EXPECT_EQ(p3->positions[0], 0);
  EXPECT_EQ(p3->siblings[0][0], z0);
  EXPECT_EQ(p3->siblings[0][1], z0);
  EXPECT_EQ(p3->positions[1], 1);
  EXPECT_EQ(p3->siblings[1][0], poseidon2::hash3(a, b, c));
  EXPECT_EQ(p3->siblings[1][1], z1);
  for (std::size_t k = 2; k < 16; ++k) EXPECT_EQ(p3->positions[k], 0) << k;

  // Leaf 2: position 2, siblings [a, b].
  auto p2 = tree.path(2);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->positions[0], 2);
  EXPECT_EQ(p2->siblings[0][0], a);
  EXPECT_EQ(p2->siblings[0][1], b);
}

TEST(TreeTest, PositionsAreBase3LeastSignificantFirst) {
  MerklePath path;
  // 5 = 2 + 1*3.
  path.positions[0] = 2;
  path.positions[1] = 1;
  EXPECT_EQ(path.index(), 5u);
  path.positions.fill(2);
  EXPECT_EQ(path.index(), MerkleTree::kCapacity - 1);
}

TEST(TreeTest, TamperedPathsFail) {
  const std::vector<Fr> leaves = random_leaves(100);
  MerkleTree tree;
  ASSERT_TRUE(tree.append_many(leaves).ok());
  const Fr root = tree.root();
  for (std::uint64_t i : {0u, 1u, 2u, 3u, 41u, 99u}) {
    const MerklePath good = *tree.path(i);
    ASSERT_TRUE(verify_path(root, leaves[i], good));
    EXPECT_FALSE(verify_path(root, leaves[i] + Fr::one(), good));
    EXPECT_FALSE(verify_path(root, leaves[(i + 1) % 100], good));
    EXPECT_FALSE(verify_path(root + Fr::one(), leaves[i], good));
    for (std::size_t k : {0u, 1u, 4u, 15u}) {
      for (std::size_t s = 0; s < 2; ++s) {
        MerklePath bad = good;
        bad.siblings[k][s] += Fr::one();
        EXPECT_FALSE(verify_path(root, leaves[i], bad)) << i << " " << k << " " << s;
      }
      MerklePath swapped = good;
      std::swap(swapped.siblings[k][0], swapped.siblings[k][1]);
      // At high levels both siblings may be the same empty subtree, so a swap changes nothing.
      if (swapped.siblings[k][0] != swapped.siblings[k][1]) {
        EXPECT_FALSE(verify_path(root, leaves[i], swapped)) << i << " " << k;
      }
      for (std::uint8_t pos = 0; pos < 3; ++pos) {
        if (pos == good.positions[k]) continue;
        MerklePath bad = good;
        bad.positions[k] = pos;
        // Detectable because the path's node never equals a sibling here (random leaves).
        EXPECT_FALSE(verify_path(root, leaves[i], bad)) << i << " " << k << " pos " << int(pos);
      }
      MerklePath out_of_range = good;
      out_of_range.positions[k] = 3;
      EXPECT_FALSE(verify_path(root, leaves[i], out_of_range));
    }
  }
}

TEST(TreeTest, FullTreeRejectsAppends) {
  BasicMerkleTree<2> tree;
  static_assert(BasicMerkleTree<2>::kCapacity == 9);
  const std::vector<Fr> leaves = random_leaves(10);
  EXPECT_EQ(tree.append_many(leaves).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.root(), zero_subtree(2));

  ASSERT_TRUE(tree.append_many(std::span<const Fr>(leaves).first(5)).ok());
  EXPECT_EQ(tree.append_many(std::span<const Fr>(leaves).subspan(5, 5)).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(tree.size(), 5u);
  ASSERT_TRUE(tree.append_many(std::span<const Fr>(leaves).subspan(5, 3)).ok());
  auto last = tree.append(leaves[8]);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 8u);

  const Fr full_root = tree.root();
  EXPECT_EQ(full_root, naive_root(std::vector<Fr>(leaves.begin(), leaves.begin() + 9), 2));
  EXPECT_EQ(tree.append(leaves[9]).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(tree.append_many({}).ok());
  EXPECT_EQ(tree.size(), 9u);
  EXPECT_EQ(tree.root(), full_root);
  for (std::uint64_t i = 0; i < 9; ++i) {
    auto path = tree.path(i);
    ASSERT_TRUE(path.ok());
    EXPECT_TRUE(verify_path(full_root, leaves[i], *path));
  }
}

TEST(TreeTest, DepthOneTree) {
  BasicMerkleTree<1> tree;
  const std::vector<Fr> leaves = random_leaves(3);
  ASSERT_TRUE(tree.append(leaves[0]).ok());
  EXPECT_EQ(tree.root(), poseidon2::hash3(leaves[0], Fr::zero(), Fr::zero()));
  ASSERT_TRUE(tree.append_many(std::span<const Fr>(leaves).subspan(1)).ok());
  EXPECT_EQ(tree.root(), poseidon2::hash3(leaves[0], leaves[1], leaves[2]));
  EXPECT_FALSE(tree.append(leaves[0]).ok());
}

TEST(TreeTest, ReserveDoesNotChangeContents) {
  const std::vector<Fr> leaves = random_leaves(50);
  MerkleTree a, b;
  b.reserve(1000);
  const std::size_t reserved = b.memory_bytes();
  ASSERT_TRUE(a.append_many(leaves).ok());
  ASSERT_TRUE(b.append_many(leaves).ok());
  EXPECT_EQ(a.root(), b.root());
  EXPECT_EQ(b.memory_bytes(), reserved);
  // 1000 leaves: 32 bytes * (1000 + 334 + 112 + 38 + 13 + 5 + 2 + 1 * 9) plus the object itself.
  EXPECT_GE(reserved, 32u * 1513u);
}

}  // namespace
}  // namespace bucketpay
