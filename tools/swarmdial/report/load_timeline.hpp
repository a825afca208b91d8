#pragma once
// tracker-load's view over time and across runs: a row per second (what
// was due, sent, answered and failed, and that second's latency
// percentiles, from the difference of two histogram snapshots), the
// HdrHistogram-style percentile spectrum of the whole run, the SVG plot,
// and `--compare A.json B.json`.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/latency_histogram.hpp"
#include "uring/tracker/tracker_load_driver.hpp"

namespace swarmdial {

class LoadTimeline {
 public:
  // target_rate 0: what was offered is read off the requests that fell due
  // (--reannounce interval has no timetable of its own).
  LoadTimeline(double target_rate, double duration_s)
      : target_rate_(target_rate), duration_s_(duration_s) {}
  // Called about once a second by the watcher thread; `t_s` since the start.
  void sample(const LoadCounters& c, double t_s);
  nlohmann::json json() const;
  const nlohmann::json& last_row() const { return rows_.back(); }
  bool empty() const { return rows_.empty(); }

 private:
  double target_rate_, duration_s_;
  double last_t_ = 0;
  uint64_t last_due_ = 0, last_sent_ = 0, last_ok_ = 0, last_err_ = 0;
  LatencyHistogram::Snapshot last_latency_;
  std::vector<nlohmann::json> rows_;
};

// Percentiles at 1 - 2^-n (50%, 75%, 87.5%, ...) up to the last one the
// count resolves, then the maximum: the shape of the tail at a glance.
nlohmann::json latency_spectrum(const LatencyHistogram::Snapshot& s);

// Returns an empty string or a one-line reason.
std::string write_load_plot(const nlohmann::json& summary, const std::string& svg_path);

// Side by side, with B/A; throws UsageError naming a file that is not a
// tracker-load summary.
std::string compare_load_summaries(const std::string& a_path, const std::string& b_path);

}  // namespace swarmdial
