// Micro benchmarks of the per-attempt hot path pieces (Google Benchmark).
// Each pairs the engine's piece with the naive alternative it replaces, so
// the output reads as a ratio measured in one run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_set>
#include <vector>

#include "engine/cyclic_permutation.hpp"
#include "engine/half_open_budget.hpp"
#include "engine/latency_histogram.hpp"
#include "engine/pacer.hpp"
#include "engine/result_format.hpp"
#include "engine/target_set.hpp"
#include "engine/tracker/load_plan.hpp"

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

// tracker-load's aquatic model: which of a million Zipf(1) torrents a
// membership is in, once per announce. Memberships are far apart, as
// consecutive announces' are, so the table is not in cache.
static LoadModel aquatic_like() {
  LoadModel m;
  m.torrents = 1'000'000;
  m.peers = 2;
  m.zipf = 1.0;
  return m;
}

static void BM_ZipfTorrentOfGuided(benchmark::State& state) {
  LoadPlan plan(aquatic_like());
  uint64_t m = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(plan.torrent_of(m));
    m += 104'729;
  }
}
BENCHMARK(BM_ZipfTorrentOfGuided);

// Baseline: a binary search over the whole cumulative table.
static void BM_ZipfFullSearchBaseline(benchmark::State& state) {
  std::vector<double> cum(1'000'000);
  double sum = 0;
  for (size_t i = 0; i < cum.size(); ++i) cum[i] = sum += 1.0 / double(i + 1);
  for (double& c : cum) c /= sum;
  uint64_t m = 0;
  for (auto _ : state) {
    double u = std::fmod((double(m) + 0.5) * 0.6180339887498949, 1.0);
    benchmark::DoNotOptimize(std::upper_bound(cum.begin(), cum.end(), u));
    m += 104'729;
  }
}
BENCHMARK(BM_ZipfFullSearchBaseline);

BENCHMARK_MAIN();
