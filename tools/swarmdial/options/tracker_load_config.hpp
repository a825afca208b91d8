#pragma once
// `swarmdial tracker-load` settings (flags or the same keys in an INI --config).
#include <optional>
#include <string>
#include <vector>

#include "uring/tracker/tracker_load_options.hpp"

namespace swarmdial {

struct TrackerLoadConfig {
  TrackerLoadOptions load;
  std::string summary_file;
  bool quiet = false;
  bool status = false;
};

std::optional<TrackerLoadConfig> parse_tracker_load_args(const std::vector<std::string>& args,
                                                         std::string& help_out);

}  // namespace swarmdial
