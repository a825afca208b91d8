#include "ceiling_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "gnuplot.hpp"
#include "summaries.hpp"

namespace swarmdial {

namespace {

double ms(uint64_t us) {
  return static_cast<double>(us) / 1000.0;
}

std::string verdict_text(const CeilingSearch& s, const CeilingRunInfo& info) {
  const char* unit = ceiling_unit(info);
  double lo = s.ceiling(), hi = s.failed_at();
  switch (s.state()) {
    case CeilingState::kFound:
      return fmt::format("ceiling {:.0f} {} (passes at {:.0f}, fails at {:.0f}: within {:.1f}%)",
                         lo, unit, lo, hi, 100 * (hi - lo) / lo);
    case CeilingState::kAboveMax:
      return fmt::format("ceiling at least {:.0f} {}: --max-rate passed; raise it to search on", lo,
                         unit);
    case CeilingState::kBelowStart:
      return fmt::format(
          "ceiling under the start rate: the first step ({:.0f} {}) already failed: {}", hi, unit,
          s.steps().front().why);
    case CeilingState::kGeneratorLimited:
      return fmt::format(
          "the generator, not the target, gave out at {:.0f} {} ({}); the target's ceiling is at "
          "least {:.0f}",
          s.steps().back().m.offered_rate, unit, s.steps().back().why, lo);
    case CeilingState::kNoBaseline:
      return "no ceiling: nothing answered at the start rate (" + s.steps().front().why + ")";
    case CeilingState::kInterrupted:
      if (lo > 0 && hi > 0)
        return fmt::format("interrupted: the ceiling lies between {:.0f} and {:.0f} {}", lo, hi,
                           unit);
      if (lo > 0) return fmt::format("interrupted: the ceiling is at least {:.0f} {}", lo, unit);
      return "interrupted before a step passed";
    case CeilingState::kSearching:
      break;
  }
  return "searching";
}

}  // namespace

const char* ceiling_unit(const CeilingRunInfo& info) {
  return info.tracker_mode ? "announces/s" : "connections/s";
}

std::string ceiling_step_line(size_t index, const StepRecord& r) {
  return fmt::format(
      "step {}: {:.0f}/s offered, {:.0f}/s sent, {:.0f}/s answered ({:.1f}%), p50 {:.2f} ms p99 "
      "{:.2f} ms, lag p99 {:.2f} ms: {} ({})",
      index + 1, r.m.offered_rate, r.sent_rate, r.achieved_rate, 100 * r.answered_fraction,
      ms(r.m.latency.percentile_us(0.5)), ms(r.m.latency.percentile_us(0.99)),
      ms(r.m.lag.percentile_us(0.99)), verdict_name(r.verdict), r.why);
}

std::string ceiling_table(const CeilingSearch& s, const CeilingRunInfo& info) {
  std::ostringstream out;
  out << fmt::format("{:>4} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n", "step",
                     "offered/s", "sent/s", "answered/s", "answered", "p50 ms", "p90 ms", "p99 ms",
                     "p99.9 ms", "lag p99", "verdict");
  for (size_t i = 0; i < s.steps().size(); ++i) {
    const StepRecord& r = s.steps()[i];
    const auto& l = r.m.latency;
    out << fmt::format(
        "{:>4} {:>10.0f} {:>10.0f} {:>10.0f} {:>8.1f}% {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} "
        "{:>9.2f}  {}\n",
        i + 1, r.m.offered_rate, r.sent_rate, r.achieved_rate, 100 * r.answered_fraction,
        ms(l.percentile_us(0.5)), ms(l.percentile_us(0.9)), ms(l.percentile_us(0.99)),
        ms(l.percentile_us(0.999)), ms(r.m.lag.percentile_us(0.99)), verdict_name(r.verdict));
  }
  out << verdict_text(s, info) << "\n";
  if (info.advice)
    out << fmt::format(
        "to run just under it: --rate {:.0f} --half-open {} (per shard, {} shard{}; an attempt "
        "held its slot {:.1f} ms on average at the ceiling)\n",
        info.advice->rate, info.advice->half_open_per_shard, info.shards,
        info.shards == 1 ? "" : "s", info.advice->hold_ms);
  return out.str();
}

nlohmann::json ceiling_summary(const CeilingSearch& s, const CeilingRunInfo& info) {
  const CeilingLimits& l = s.limits();
  nlohmann::json steps = nlohmann::json::array();
  for (const StepRecord& r : s.steps())
    steps.push_back({{"offered_rate", r.m.offered_rate},
                     {"window_s", r.m.window_s},
                     {"scheduled", r.m.scheduled},
                     {"sent", r.m.sent},
                     {"sent_rate", r.sent_rate},
                     {"answered", r.m.answered},
                     {"unanswered", r.m.unanswered},
                     {"local_errors", r.m.local_errors},
                     {"answered_fraction", r.answered_fraction},
                     {"achieved_rate", r.achieved_rate},
                     {"latency_us", latency_json(r.m.latency)},
                     {"generator_lag_us", latency_json(r.m.lag)},
                     {"generator_note", r.m.generator_note},
                     {"verdict", verdict_name(r.verdict)},
                     {"why", r.why}});
  nlohmann::json ceiling = {
      {"state", ceiling_state_name(s.state())},
      {"rate", s.ceiling()},
      {"failed_at", s.failed_at() > 0 ? nlohmann::json(s.failed_at()) : nlohmann::json(nullptr)},
      {"unit", ceiling_unit(info)},
      {"text", verdict_text(s, info)}};
  nlohmann::json out = {
      {"command", "ceiling"},
      {"mode", info.tracker_mode ? "tracker" : "dial"},
      {"target", info.target},
      {"interrupted", info.interrupted},
      {"forced_exit", info.forced},
      {"timeout_ms", info.timeout_ms},
      {"warmup_s", info.warmup_s},
      {"step_duration_s", info.step_duration_s},
      {"limits",
       {{"start_rate", l.start_rate},
        {"max_rate", l.max_rate},
        {"precision", l.precision},
        {"max_answer_drop", l.max_answer_drop},
        {"max_p99_ms", l.max_p99_ms},
        {"min_send_share", l.min_send_share}}},
      {"baseline_answered_fraction",
       s.baseline() >= 0 ? nlohmann::json(s.baseline()) : nlohmann::json(nullptr)},
      {"steps", steps},
      {"ceiling", ceiling},
  };
  if (!info.tracker_mode) {
    out["backend"] = info.backend;
    out["shards"] = info.shards;
  }
  if (info.advice)
    out["configure"] = {{"rate", info.advice->rate},
                        {"half_open_per_shard", info.advice->half_open_per_shard},
                        {"shards", info.shards},
                        {"hold_ms", info.advice->hold_ms},
                        {"flags", fmt::format("--rate {:.0f} --half-open {}", info.advice->rate,
                                              info.advice->half_open_per_shard)}};
  return out;
}

std::string write_ceiling_plot(const CeilingSearch& s, const CeilingRunInfo& info,
                               const std::string& svg_path) {
  std::vector<const StepRecord*> by_rate;
  for (const auto& r : s.steps()) by_rate.push_back(&r);
  std::sort(by_rate.begin(), by_rate.end(), [](const StepRecord* a, const StepRecord* b) {
    return a->m.offered_rate < b->m.offered_rate;
  });
  std::ostringstream d;
  d << "# offered achieved answered_pct p50_ms p90_ms p99_ms p999_ms pass\n";
  for (const StepRecord* r : by_rate) {
    const auto& l = r->m.latency;
    // Latency on a log axis: a step with no answers has no point there.
    auto lat = [&](double q) {
      return l.total ? fmt::format("{}", std::max(0.001, ms(l.percentile_us(q)))) : "NaN";
    };
    d << r->m.offered_rate << ' ' << r->achieved_rate << ' ' << 100 * r->answered_fraction << ' '
      << lat(0.5) << ' ' << lat(0.9) << ' ' << lat(0.99) << ' ' << lat(0.999) << ' '
      << (r->verdict == StepVerdict::kPass ? 1 : 0) << '\n';
  }
  std::string unit = ceiling_unit(info);
  std::string title = info.target;  // inside a quoted gnuplot string
  std::replace(title.begin(), title.end(), '\'', ' ');
  std::string mark;
  if (s.ceiling() > 0)
    mark = fmt::format(
        "set arrow from {0},graph 0 to {0},graph 1 nohead dt 2 lw 2 lc rgb '#c0392b'\n"
        "set label 'ceiling {0:.0f}' at {0},graph 0.95 offset 0.5,0 tc rgb '#c0392b'\n",
        s.ceiling());
  std::string script =
      "set terminal svg size 900,760 dynamic font 'sans,11'\n"
      "set output SVG\n"
      "set multiplot layout 3,1 title '" +
      fmt::format("swarmdial ceiling: {}", title) +
      "'\n"
      "set grid\nset key top left\nset logscale x\nset xlabel 'offered " +
      unit + "'\n" + mark +
      "set ylabel 'per second'\n"
      "plot DATA using 1:2 with linespoints lw 2 pt 7 title 'answered/s', DATA using 1:1 with "
      "lines dt 3 title 'offered'\n"
      "set ylabel 'answered %'\nset yrange [0:105]\n"
      "plot DATA using 1:3 with linespoints lw 2 pt 7 title 'answered share'\n"
      "set yrange [*:*]\nset logscale y\nset ylabel 'ms from scheduled time'\n"
      "plot DATA using 1:4 with linespoints pt 7 title 'p50', DATA using 1:5 with linespoints pt "
      "7 title 'p90', DATA using 1:6 with linespoints pt 7 title 'p99', DATA using 1:7 with "
      "linespoints pt 7 title 'p99.9'\n"
      "unset multiplot\n";
  return run_gnuplot(script, d.str(), svg_path);
}

}  // namespace swarmdial
