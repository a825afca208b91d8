#pragma once
#include <string>
#include <vector>

namespace swarmdial {

// `swarmdial tracker-load`: open-loop announce load against one tracker.
int run_tracker_load_command(const std::vector<std::string>& args);

}  // namespace swarmdial
