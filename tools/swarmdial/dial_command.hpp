#pragma once
#include <string>
#include <vector>

namespace swarmdial {

// `swarmdial dial ...`; returns the process exit code.
int run_dial_command(const std::vector<std::string>& args);

}  // namespace swarmdial
