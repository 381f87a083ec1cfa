// Poseidon2 and field multiplication throughput on one core.
//
// Run: build/bin/poseidon2_bench (scripts/bench_poseidon2.sh compares with the JS implementation).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bucketpay/field.h"
#include "bucketpay/poseidon2.h"

namespace bucketpay {
namespace {

// Each iteration feeds the previous output back in, so iterations cannot overlap or be skipped.
void BM_Permutation(benchmark::State& bench) {
  poseidon2::State s = {Fr::random(), Fr::random(), Fr::random(), Fr::random()};
  for (auto _ : bench) {
    poseidon2::permute(s);
    benchmark::DoNotOptimize(s);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_Permutation);

// Throughput of permute_many() on a batch of independent states (a tree level, say), permuted again
// in place each iteration. items_per_second counts permutations.
void BM_PermuteMany(benchmark::State& bench) {
  std::vector<poseidon2::State> states(static_cast<std::size_t>(bench.range(0)));
  for (auto& s : states) s = {Fr::random(), Fr::random(), Fr::random(), Fr::random()};
  for (auto _ : bench) {
    poseidon2::permute_many(states);
    benchmark::DoNotOptimize(states.data());
    benchmark::ClobberMemory();
  }
  bench.SetItemsProcessed(bench.iterations() * bench.range(0));
  bench.SetLabel(std::string(poseidon2::permute_many_backend()));
}
BENCHMARK(BM_PermuteMany)->Arg(8)->Arg(64)->Arg(1024);

void BM_Hash3(benchmark::State& bench) {
  Fr a = Fr::random();
  const Fr b = Fr::random();
  const Fr c = Fr::random();
  for (auto _ : bench) {
    a = poseidon2::hash3(a, b, c);
    benchmark::DoNotOptimize(a);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_Hash3);

// Latency of a dependent chain of multiplications.
void BM_FrMul(benchmark::State& bench) {
  Fr a = Fr::random();
  const Fr b = Fr::random();
  for (auto _ : bench) {
    a = a * b;
    benchmark::DoNotOptimize(a);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_FrMul);

void BM_FrSquare(benchmark::State& bench) {
  Fr a = Fr::random();
  for (auto _ : bench) {
    a = a.square();
    benchmark::DoNotOptimize(a);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_FrSquare);

void BM_FrAdd(benchmark::State& bench) {
  Fr a = Fr::random();
  const Fr b = Fr::random();
  for (auto _ : bench) {
    a = a + b;
    benchmark::DoNotOptimize(a);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_FrAdd);

void BM_FrInverse(benchmark::State& bench) {
  Fr a = Fr::random();
  for (auto _ : bench) {
    a = a.inverse() + Fr::one();
    benchmark::DoNotOptimize(a);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_FrInverse);

}  // namespace
}  // namespace bucketpay

BENCHMARK_MAIN();
