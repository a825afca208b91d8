#pragma once
// Human-readable sizes for status lines and closing reports.
#include <string>

namespace swarmdial {

// Compact count: 999, 1.2k, 71.2k, 3.4M.
std::string human_count(double n);
// Bytes in SI units: 512 B, 41.8 MB, 1.4 GB.
std::string human_bytes(double bytes);

}  // namespace swarmdial
