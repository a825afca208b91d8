#include "load_timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "engine/usage_error.hpp"
#include "gnuplot.hpp"

namespace swarmdial {

namespace {

uint64_t error_total(const LoadCounters& c) {
  uint64_t n = 0;
  for (const auto& e : c.errors) n += e.get();
  return n;
}

LatencyHistogram::Snapshot minus(const LatencyHistogram::Snapshot& now,
                                 const LatencyHistogram::Snapshot& before) {
  LatencyHistogram::Snapshot d;
  for (size_t i = 0; i < d.counts.size(); ++i) d.counts[i] = now.counts[i] - before.counts[i];
  d.total = now.total - before.total;
  d.sum_us = now.sum_us - before.sum_us;
  d.max_us = now.max_us;  // an upper bound for the second; the percentiles are exact
  return d;
}

}  // namespace

void LoadTimeline::sample(const LoadCounters& c, double t_s) {
  if (!rows_.empty() && t_s - last_t_ < 0.05) return;  // the closing sample right after a row
  uint64_t sent = c.sent.get(), ok = c.ok.get(), err = error_total(c);
  LatencyHistogram::Snapshot lat = c.latency.snapshot();
  LatencyHistogram::Snapshot second = minus(lat, last_latency_);
  double dt = std::max(1e-3, t_s - last_t_);
  auto pct = [&](double q) { return second.total ? second.percentile_us(q) : 0; };
  // What the timetable asked for in this stretch: nothing once it has run out.
  double due_s = std::max(0.0, std::min(t_s, duration_s_) - std::min(last_t_, duration_s_));
  uint64_t due = c.due.get();
  double offered =
      target_rate_ > 0 ? target_rate_ * due_s / dt : static_cast<double>(due - last_due_) / dt;
  rows_.push_back({{"t_s", std::round(t_s * 1000) / 1000},
                   {"offered_per_s", offered},
                   {"sent_per_s", static_cast<double>(sent - last_sent_) / dt},
                   {"ok_per_s", static_cast<double>(ok - last_ok_) / dt},
                   {"errors_per_s", static_cast<double>(err - last_err_) / dt},
                   {"p50_us", pct(0.5)},
                   {"p99_us", pct(0.99)},
                   {"p999_us", pct(0.999)}});
  last_t_ = t_s;
  last_due_ = due;
  last_sent_ = sent;
  last_ok_ = ok;
  last_err_ = err;
  last_latency_ = lat;
}

nlohmann::json LoadTimeline::json() const {
  return nlohmann::json(rows_);
}

nlohmann::json latency_spectrum(const LatencyHistogram::Snapshot& s) {
  nlohmann::json out = nlohmann::json::array();
  if (!s.total) return out;
  for (int n = 1; n <= 30; ++n) {
    double q = 1 - std::ldexp(1.0, -n);
    // Past the rank the count can tell apart, the next point is the maximum.
    if ((1 - q) * static_cast<double>(s.total) < 1) break;
    out.push_back({{"q", q}, {"us", s.percentile_us(q)}});
  }
  out.push_back({{"q", 1.0}, {"us", s.max_us}});
  return out;
}

std::string write_load_plot(const nlohmann::json& s, const std::string& svg_path) {
  std::ostringstream d;
  d << "# t offered sent ok errors p50_ms p99_ms p999_ms\n";
  auto ms = [](uint64_t us) {
    return us ? fmt::format("{}", std::max(0.001, us / 1000.0)) : std::string("NaN");
  };
  for (const auto& r : s.value("timeline", nlohmann::json::array()))
    d << r.value("t_s", 0.0) << ' ' << r.value("offered_per_s", 0.0) << ' '
      << r.value("sent_per_s", 0.0) << ' ' << r.value("ok_per_s", 0.0) << ' '
      << r.value("errors_per_s", 0.0) << ' ' << ms(r.value("p50_us", uint64_t{0})) << ' '
      << ms(r.value("p99_us", uint64_t{0})) << ' ' << ms(r.value("p999_us", uint64_t{0})) << '\n';
  std::string title;
  for (const auto& t : s.value("trackers", nlohmann::json::array()))
    title += (title.empty() ? "" : " + ") + t.get<std::string>();
  std::replace(title.begin(), title.end(), '\'', ' ');
  std::string script =
      "set terminal svg size 900,620 dynamic font 'sans,11'\n"
      "set output SVG\n"
      "set multiplot layout 2,1 title 'swarmdial tracker-load: " +
      title +
      "'\n"
      "set grid\nset key top left\nset xlabel 'seconds'\n"
      "set ylabel 'requests/s'\n"
      "plot DATA using 1:2 with lines dt 3 lw 2 title 'offered', DATA using 1:4 with lines lw 2 "
      "title 'answered', DATA using 1:5 with lines lw 2 title 'errors'\n"
      "set ylabel 'latency ms (from the timetable)'\nset logscale y\n"
      "plot DATA using 1:6 with lines lw 2 title 'p50', DATA using 1:7 with lines lw 2 title "
      "'p99', DATA using 1:8 with lines lw 2 title 'p99.9'\n"
      "unset multiplot\n";
  return run_gnuplot(script, d.str(), svg_path);
}

namespace {

nlohmann::json read_load_summary(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("--compare " + path + ": cannot read");
  nlohmann::json s = nlohmann::json::parse(in, nullptr, false);
  if (s.is_discarded() || !s.is_object())
    throw UsageError("--compare " + path + ": not a JSON summary");
  if (s.value("command", "") != "tracker-load")
    throw UsageError("--compare " + path + ": not a tracker-load summary");
  return s;
}

double at(const nlohmann::json& s, std::initializer_list<const char*> keys) {
  const nlohmann::json* j = &s;
  for (const char* k : keys) {
    if (!j->is_object() || !j->contains(k)) return NAN;
    j = &(*j)[k];
  }
  return j->is_number() ? j->get<double>() : NAN;
}

}  // namespace

std::string compare_load_summaries(const std::string& a_path, const std::string& b_path) {
  nlohmann::json a = read_load_summary(a_path), b = read_load_summary(b_path);
  struct Row {
    const char* name;
    std::initializer_list<const char*> keys;
  };
  const Row rows[] = {
      {"target rate /s", {"target_rate"}},
      {"achieved /s", {"achieved_rate"}},
      {"sent", {"sent"}},
      {"ok", {"ok"}},
      {"errors", {"error_total"}},
      {"  timeouts", {"errors", "timeout"}},
      {"  bad replies", {"errors", "bad_reply"}},
      {"  tracker errors", {"errors", "tracker_error"}},
      {"stray replies", {"stray_replies"}},
      {"announces ok", {"requests", "announce", "ok"}},
      {"scrapes ok", {"requests", "scrape", "ok"}},
      {"peers withheld", {"requests", "announce", "peers_withheld"}},
      {"latency p50 us", {"latency_us", "p50"}},
      {"latency p90 us", {"latency_us", "p90"}},
      {"latency p99 us", {"latency_us", "p99"}},
      {"latency p99.9 us", {"latency_us", "p999"}},
      {"latency max us", {"latency_us", "max"}},
      {"send lag p99 us", {"send_lag_us", "p99"}},
      {"generator us/request", {"cpu", "us_per_announce"}},
  };
  auto cell = [](double v) {
    if (std::isnan(v)) return std::string("-");
    if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
    return fmt::format("{:.2f}", v);
  };
  std::string out = fmt::format("{:<22} {:>14} {:>14} {:>8}\n", "", "A", "B", "B/A");
  out += fmt::format("{:<22} {}\n{:<22} {}\n", "A", a_path, "B", b_path);
  for (const Row& r : rows) {
    double va = at(a, r.keys), vb = at(b, r.keys);
    std::string ratio =
        (std::isnan(va) || std::isnan(vb) || va == 0) ? "-" : fmt::format("{:.3g}x", vb / va);
    out += fmt::format("{:<22} {:>14} {:>14} {:>8}\n", r.name, cell(va), cell(vb), ratio);
  }
  return out;
}

}  // namespace swarmdial
