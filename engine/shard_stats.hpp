#pragma once
// Everything a shard counts, written only by its thread and read by the
// status line, metrics and summary. Cache-line aligned so shards never share
// a line.
#include <array>

#include "latency_histogram.hpp"
#include "outcome.hpp"
#include "relaxed_counter.hpp"
#include "wire_counters.hpp"

namespace swarmdial {

struct alignas(64) ShardStats {
  RelaxedCounter syn_sent;                             // every attempt, retries included
  RelaxedCounter retries;                              // attempts beyond the first
  std::array<RelaxedCounter, kOutcomeCount> outcomes;  // final, one per target
  RelaxedCounter half_open;                            // slots held right now
  RelaxedCounter half_open_high_water;
  RelaxedCounter half_open_budget;  // in force now (auto: it moves)
  RelaxedCounter syn_rate;          // SYN/s in force now, 0 = unlimited
  RelaxedCounter budget_reason;  // auto: 1 + the BudgetReason of the last change; 0 = fixed budget
  RelaxedCounter budget_decreases;  // auto: congestion responses
  RelaxedCounter handed_off;
  RelaxedCounter done;               // 1 once the shard loop has exited
  LatencyHistogram connect_latency;  // established attempts only
  // `ceiling` steps (open loop): attempts scheduled inside the measured window.
  RelaxedCounter step_sent, step_answered, step_unanswered, step_errors;
  RelaxedCounter step_budget_full;  // loop passes where a SYN was due and no slot was free
  LatencyHistogram step_latency;    // answered attempts, from their scheduled time
  LatencyHistogram step_lag;        // scheduled time -> sent: the generator's own delay
  std::array<RelaxedCounter, kWireCounterCount> wire;  // dpdk only
};

}  // namespace swarmdial
