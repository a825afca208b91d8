#pragma once
// The end-of-run summary JSON (--summary FILE).
#include <nlohmann/json.hpp>

#include "run_stats.hpp"

namespace swarmdial {

struct SummaryContext {
  std::string command = "dial";
  std::string backend;
  double duration_s = 0;
  bool interrupted = false;
  bool forced = false;  // a later signal cut the settling short
  bool with_bt = false;
  bool with_wire = false;  // the backend handles packets itself (dpdk)
  BtCounts bt;
  bool with_hold = false;
  uint64_t held = 0;           // flows kept open under --hold
  uint64_t hold_overflow = 0;  // flows closed because no fd was left to hold them
};

nlohmann::json build_summary(const RunView& view, const SummaryContext& ctx);

}  // namespace swarmdial
