// Bucket decompositions per second (the seed claims 1.1 million/s).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "bucketpay/amount.h"

namespace bucketpay {
namespace {

void BM_Decompose(benchmark::State& state) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<Cents> dist(1, kMaxPaymentCents);
  std::vector<Cents> amounts(4096);
  for (auto& a : amounts) a = dist(rng);
  std::size_t i = 0;
  for (auto _ : state) {
    Decomposition d = decompose(amounts[i++ & 4095]);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decompose);

void BM_ParseAmount(benchmark::State& state) {
  const char* inputs[] = {"12.34", "0.01", "1310.71", "99.99", "655.36"};
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = parse_amount(inputs[i++ % 5]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseAmount);

}  // namespace
}  // namespace bucketpay

BENCHMARK_MAIN();
