#pragma once
// `swarmdial ceiling` settings: what to measure (dial's targets and engine,
// or --tracker and its synthetic swarm), the search and its thresholds.
#include <optional>
#include <string>
#include <vector>

#include "dial_config.hpp"
#include "engine/ceiling_search.hpp"
#include "uring/tracker/tracker_load_options.hpp"

namespace swarmdial {

struct CeilingConfig {
  bool tracker_mode = false;      // --tracker: announces/s instead of connections/s
  DialConfig dial;                // targets and engine (not tracker mode)
  TrackerLoadOptions tracker;     // tracker mode: the swarm and the timeout
  uint32_t half_open_max = 4096;  // per shard: the most slots a step may hold
  CeilingLimits limits;
  double step_duration_s = 5;
  double warmup_s = 2;
  std::string target_text;  // the --range, --targets file or tracker URLs, for reports
  std::string summary_file;
  std::string plot_file;
  bool quiet = false;
  bool status = false;
};

// Returns nullopt when --help was asked for (help text already in help_out).
std::optional<CeilingConfig> parse_ceiling_args(const std::vector<std::string>& args,
                                                std::string& help_out);

}  // namespace swarmdial
