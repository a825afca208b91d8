#pragma once
// A point-in-time view over all shards' stats, for the status line, the
// metrics page and the summary.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "latency_histogram.hpp"
#include "shard_stats.hpp"

namespace swarmdial {

struct ShardView {
  uint64_t syn_sent, half_open, high_water, budget;
  uint64_t syn_rate;          // SYN/s in force, 0 = unlimited
  uint64_t budget_reason;     // --half-open auto: 1 + BudgetReason of the last change; 0 = fixed
  uint64_t budget_decreases;  // --half-open auto: congestion responses
};

struct BtCounts {
  uint64_t ok = 0, mismatch = 0, timeout = 0, closed = 0, invalid = 0;
};

struct RunView {
  std::vector<ShardView> shards;
  uint64_t syn_sent = 0, retries = 0, half_open = 0, budget = 0, handed_off = 0;
  uint64_t syn_rate = 0;  // over all shards
  std::array<uint64_t, kOutcomeCount> outcomes{};
  LatencyHistogram::Snapshot latency;
  WireCounts wire{};
  uint64_t final_rows() const {
    uint64_t n = 0;
    for (auto v : outcomes) n += v;
    return n;
  }
};

RunView snapshot_run(std::span<const ShardStats> shards);

}  // namespace swarmdial
