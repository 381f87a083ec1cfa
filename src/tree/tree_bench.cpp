// Merkle tree throughput and memory at a million leaves.
//   build/tree_bench   (or --benchmark_filter=Path etc.)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bucketpay/merkle_tree.h"

namespace bucketpay {
namespace {

constexpr std::uint64_t kLeaves = std::uint64_t{1} << 20;

std::vector<Fr> make_leaves(std::uint64_t n, std::uint64_t salt) {
  std::vector<Fr> leaves;
  leaves.reserve(n);
  const Fr step = Fr::random();
  Fr x = Fr::from_u64(salt);
  for (std::uint64_t i = 0; i < n; ++i) {
    leaves.push_back(x += step);
  }
  return leaves;
}

// A tree of kLeaves leaves, built once and shared by the benchmarks that need one.
MerkleTree& big_tree() {
  static MerkleTree* tree = [] {
    auto* t = new MerkleTree();
    const std::vector<Fr> leaves = make_leaves(kLeaves, 1);
    if (!t->append_many(leaves).ok()) {
      std::abort();
    }
    return t;
  }();
  return *tree;
}

// Bulk load of 2^20 leaves into an empty tree, with and without reserve().
void BM_AppendMany1M(benchmark::State& state) {
  const bool reserve = state.range(0) != 0;
  const std::vector<Fr> leaves = make_leaves(kLeaves, 2);
  std::size_t bytes = 0;
  for (auto _ : state) {
    MerkleTree tree;
    if (reserve) {
      tree.reserve(kLeaves);
    }
    if (!tree.append_many(leaves).ok()) {
      state.SkipWithError("append_many failed");
    }
    benchmark::DoNotOptimize(tree.root());
    bytes = tree.memory_bytes();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kLeaves));
  state.counters["bytes_per_leaf"] = static_cast<double>(bytes) / static_cast<double>(kLeaves);
}
BENCHMARK(BM_AppendMany1M)->Arg(0)->Arg(1)->ArgName("reserve")->Unit(benchmark::kMillisecond)->Iterations(2);

// One leaf at a time onto a tree that already holds 2^20 leaves (16 hashes each, root kept current).
void BM_AppendSingleAt1M(benchmark::State& state) {
  MerkleTree& tree = big_tree();
  Fr leaf = Fr::from_u64(7);
  for (auto _ : state) {
    leaf += Fr::one();
    auto idx = tree.append(leaf);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendSingleAt1M);

// Batches of 64 leaves (e.g. one block's deposits) onto a tree of 2^20 leaves.
void BM_AppendBatch64At1M(benchmark::State& state) {
  MerkleTree& tree = big_tree();
  const std::vector<Fr> batch = make_leaves(64, 3);
  for (auto _ : state) {
    auto idx = tree.append_many(batch);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_AppendBatch64At1M);

void BM_PathAt1M(benchmark::State& state) {
  const MerkleTree& tree = big_tree();
  std::uint64_t i = 0;
  for (auto _ : state) {
    i = (i + 524287) % kLeaves;
    auto path = tree.path(i);
    benchmark::DoNotOptimize(path);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PathAt1M);

void BM_VerifyPathAt1M(benchmark::State& state) {
  const MerkleTree& tree = big_tree();
  const MerklePath path = *tree.path(123456);
  const Fr leaf = *tree.leaf(123456);
  for (auto _ : state) {
    bool ok = verify_path(tree.root(), leaf, path);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyPathAt1M);

}  // namespace
}  // namespace bucketpay

BENCHMARK_MAIN();
