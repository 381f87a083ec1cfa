// Planning a payment from a wallet's inventory: the work between "pay" and the signed transaction.
#include <benchmark/benchmark.h>

#include <random>

#include "bucketpay/planner.h"

namespace bucketpay {
namespace {

void BM_PlanFromBucketInventory(benchmark::State& state) {
  std::vector<PlanNote> notes;
  std::int64_t id = 1;
  for (Cents b : kBuckets) {
    for (int k = 0; k < 4; ++k) notes.push_back({id++, b});
  }
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto plan = plan_payment(notes, (rng() % 20000) + 1);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanFromBucketInventory);

void BM_PlanExactMixedNotes(benchmark::State& state) {
  std::vector<PlanNote> notes;
  std::mt19937_64 rng(2);
  for (std::int64_t i = 0; i < 60; ++i) notes.push_back({i + 1, (rng() % 5000) + 1});
  for (auto _ : state) {
    auto plan = plan_payment(notes, (rng() % 20000) + 1);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanExactMixedNotes);

}  // namespace
}  // namespace bucketpay

BENCHMARK_MAIN();
