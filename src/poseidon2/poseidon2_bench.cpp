// Poseidon2 and field multiplication throughput on one core.
//
// Run: build/bin/poseidon2_bench (scripts/bench_poseidon2.sh compares with the JS implementation).
#include <benchmark/benchmark.h>

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
