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
  bool with_bt = false;
  BtCounts bt;
};

nlohmann::json build_summary(const RunView& view, const SummaryContext& ctx);

}  // namespace swarmdial
