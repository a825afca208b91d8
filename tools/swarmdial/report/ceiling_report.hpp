#pragma once
// What `swarmdial ceiling` prints and writes: a status line per step, the
// table on stdout, the summary JSON (every step, the ceiling with its bounds,
// the budget to configure) and the SVG plot.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/ceiling_search.hpp"

namespace swarmdial {

struct CeilingRunInfo {
  bool tracker_mode = false;
  std::string target;   // what was measured: the range or file, or the tracker URLs
  std::string backend;  // dial mode
  uint32_t shards = 1;
  int64_t timeout_ms = 0;
  double warmup_s = 0, step_duration_s = 0;
  bool interrupted = false, forced = false;
  std::optional<BudgetAdvice> advice;  // dial mode, once a rate passed
};

// "connections/s" or "announces/s".
const char* ceiling_unit(const CeilingRunInfo& info);
std::string ceiling_step_line(size_t index, const StepRecord& r);
std::string ceiling_table(const CeilingSearch& search, const CeilingRunInfo& info);
nlohmann::json ceiling_summary(const CeilingSearch& search, const CeilingRunInfo& info);
// Returns an empty string or a one-line reason.
std::string write_ceiling_plot(const CeilingSearch& search, const CeilingRunInfo& info,
                               const std::string& svg_path);

}  // namespace swarmdial
