#include "run_stats.hpp"

namespace swarmdial {

RunView snapshot_run(std::span<const ShardStats> shards) {
  RunView v;
  for (const ShardStats& s : shards) {
    ShardView sv{s.syn_sent.get(),         s.half_open.get(), s.half_open_high_water.get(),
                 s.half_open_budget.get(), s.syn_rate.get(),  s.budget_reason.get(),
                 s.budget_decreases.get()};
    v.shards.push_back(sv);
    v.syn_sent += sv.syn_sent;
    v.half_open += sv.half_open;
    v.budget += sv.budget;
    v.syn_rate += sv.syn_rate;
    v.retries += s.retries.get();
    v.handed_off += s.handed_off.get();
    for (int i = 0; i < kOutcomeCount; ++i) v.outcomes[i] += s.outcomes[i].get();
    for (int i = 0; i < kWireCounterCount; ++i) v.wire[i] += s.wire[i].get();
    v.latency.merge(s.connect_latency.snapshot());
  }
  return v;
}

}  // namespace swarmdial
