// Micro benchmarks of the per-attempt hot path pieces (Google Benchmark).
// Each pairs the engine's piece with the naive alternative it replaces, so
// the output reads as a ratio measured in one run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <unordered_set>
#include <vector>

#include "engine/cyclic_permutation.hpp"
#include "engine/half_open_budget.hpp"
#include "engine/latency_histogram.hpp"
#include "engine/pacer.hpp"
#include "engine/result_format.hpp"
#include "engine/target_set.hpp"

using namespace swarmdial;

static void BM_CyclicPermutationNext(benchmark::State& state) {
  CyclicPermutation perm(uint64_t{1} << 24, 7);
  for (auto _ : state) {
    auto v = perm.next();
    if (!v) perm = CyclicPermutation(uint64_t{1} << 24, 7);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_CyclicPermutationNext);

// Baseline: a shuffled index vector (what you'd write without a cyclic group);
// it costs memory proportional to the range and a full shuffle up front.
static void BM_ShuffledVectorBaseline(benchmark::State& state) {
  std::vector<uint32_t> order(1 << 24);
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(order[i]);
    if (++i == order.size()) i = 0;
  }
}
BENCHMARK(BM_ShuffledVectorBaseline);

static void BM_TargetCursorRange(benchmark::State& state) {
  auto set = *TargetSet::from_range(*parse_target_range("127.0.0.0/12:6881-6889"));
  TargetCursor cur(set, nullptr, 0, 2, UINT64_MAX, 3);
  for (auto _ : state) benchmark::DoNotOptimize(cur.next());
}
BENCHMARK(BM_TargetCursorRange);

static void BM_BudgetAcquireRelease(benchmark::State& state) {
  HalfOpenBudget b(4096);
  for (auto _ : state) {
    auto s = b.acquire();
    benchmark::DoNotOptimize(s);
    b.release(*s);
  }
}
BENCHMARK(BM_BudgetAcquireRelease);

static void BM_PacerTryTake(benchmark::State& state) {
  Pacer p(1e6, 1000, 0);
  int64_t t = 0;
  for (auto _ : state) {
    t += 1000;
    benchmark::DoNotOptimize(p.try_take(t));
  }
}
BENCHMARK(BM_PacerTryTake);

static void BM_HistogramRecord(benchmark::State& state) {
  LatencyHistogram h;
  uint64_t v = 1;
  for (auto _ : state) {
    h.record(v);
    v = (v * 31 + 7) % 2'000'000;
  }
}
BENCHMARK(BM_HistogramRecord);

static void BM_FormatCsvRow(benchmark::State& state) {
  RowFormatter f(false, false);
  ResultRow r;
  r.target = *parse_endpoint("127.0.12.34:6881");
  r.outcome = Outcome::kEstablished;
  r.rtt_us = 123;
  r.attempts = 1;
  fmt::memory_buffer buf;
  for (auto _ : state) {
    f.append(r, buf);
    if (buf.size() > (1 << 20)) buf.clear();
  }
}
BENCHMARK(BM_FormatCsvRow);

BENCHMARK_MAIN();
