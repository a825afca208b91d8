#pragma once
#include <string>
#include <vector>

namespace swarmdial {

// `swarmdial seed ...`; returns the process exit code.
int run_seed_command(const std::vector<std::string>& args);

}  // namespace swarmdial
