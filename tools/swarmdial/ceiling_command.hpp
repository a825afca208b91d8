#pragma once
#include <string>
#include <vector>

namespace swarmdial {

// `swarmdial ceiling`: the highest sustainable connection (or announce) rate.
int run_ceiling_command(const std::vector<std::string>& args);

}  // namespace swarmdial
