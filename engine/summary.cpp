#include "summary.hpp"

namespace swarmdial {

nlohmann::json build_summary(const RunView& v, const SummaryContext& ctx) {
  using nlohmann::json;
  json outcomes = json::object();
  for (int o = 0; o < kOutcomeCount; ++o)
    outcomes[std::string(outcome_name(static_cast<Outcome>(o)))] = v.outcomes[o];
  uint64_t established = v.outcomes[static_cast<int>(Outcome::kEstablished)];
  json shards = json::array();
  for (size_t i = 0; i < v.shards.size(); ++i)
    shards.push_back({{"shard", i},
                      {"syn_sent", v.shards[i].syn_sent},
                      {"half_open_budget", v.shards[i].budget},
                      {"half_open_high_water", v.shards[i].high_water}});
  double d = ctx.duration_s > 0 ? ctx.duration_s : 1e-9;
  json s = {
      {"command", ctx.command},
      {"backend", ctx.backend},
      {"duration_s", ctx.duration_s},
      {"interrupted", ctx.interrupted},
      {"forced_exit", ctx.forced},
      {"targets", v.final_rows()},
      {"syn_sent", v.syn_sent},
      {"retries", v.retries},
      {"outcomes", outcomes},
      {"rates",
       {{"syn_per_s", static_cast<double>(v.syn_sent) / d},
        {"established_per_s", static_cast<double>(established) / d}}},
      {"connect_rtt_us",
       {{"count", v.latency.total},
        {"p50", v.latency.percentile_us(0.50)},
        {"p90", v.latency.percentile_us(0.90)},
        {"p99", v.latency.percentile_us(0.99)},
        {"max", v.latency.max_us}}},
      {"shards", shards},
  };
  if (ctx.with_bt)
    s["bt"] = {{"bt_ok", ctx.bt.ok},
               {"bt_mismatch", ctx.bt.mismatch},
               {"bt_timeout", ctx.bt.timeout},
               {"bt_closed", ctx.bt.closed},
               {"bt_invalid", ctx.bt.invalid}};
  if (ctx.with_wire) {
    json wire = json::object();
    for (int i = 0; i < kWireCounterCount; ++i) wire[std::string(kWireCounterNames[i])] = v.wire[i];
    s["wire"] = wire;
  }
  if (ctx.with_hold)
    s["hold"] = {{"held", ctx.held}, {"closed_for_lack_of_fds", ctx.hold_overflow}};
  return s;
}

}  // namespace swarmdial
