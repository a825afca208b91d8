#pragma once
// The once-a-second status line, e.g.
// "0:07 syn 71.2k (10.1k/s) est 52.0k (7.4k/s) refused 12.1k timeout 6.9k half-open 511/512"
#include <string>

#include "run_stats.hpp"

namespace swarmdial {

// Compact count: 999, 1.2k, 71.2k, 3.4M.
std::string human_count(double n);

std::string format_status_line(double elapsed_s, const RunView& now, const RunView& prev,
                               double interval_s);

}  // namespace swarmdial
