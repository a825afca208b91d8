#pragma once
// The once-a-second status line of every command, e.g.
// "0:07 syn 71.2k (10.1k/s) est 52.0k (7.4k/s) refused 12.1k timeout 6.9k half-open 511/512"
#include <string>

#include "engine/run_stats.hpp"
#include "human.hpp"
#include "tools/swarmdial/seed_run.hpp"
#include "uring/tracker/tracker_load_driver.hpp"

namespace swarmdial {

// dial: counts since the start and rates over the last interval.
std::string format_status_line(double elapsed_s, const RunView& now, const RunView& prev,
                               double interval_s);
// seed and demo: "0:07 peers 12 (out 12 in 0) up 41.8 MB/s served 1.2k pieces syn 100 ..."
std::string seed_status_line(const SeedTick& t);
// tracker-load: "0:02 sent 6.0k ok 6.0k errors 0 (timeout 0) rate 3.0k/s of 3.0k/s p50 ..."
std::string tracker_load_status_line(const LoadCounters& c, double t_s, double rate_now,
                                     double target);
uint64_t load_error_total(const LoadCounters& c);

}  // namespace swarmdial
