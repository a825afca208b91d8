#pragma once
// Renders the Prometheus text exposition of a run (the /metrics page).
#include <string>

#include "run_stats.hpp"

namespace swarmdial {

struct PeerGauges {
  uint64_t outbound = 0;  // established flows currently held or served
  uint64_t inbound = 0;
};

std::string render_prometheus(const RunView& view, const PeerGauges& peers);

}  // namespace swarmdial
