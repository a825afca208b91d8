#pragma once
// The emulated swarm's ground truth as JSON: what `swarm --view` writes and
// what `demo` folds into its report.
#include <nlohmann/json.hpp>
#include <string>

#include "tools/swarm/emulated_swarm.hpp"

namespace swarmdial {

nlohmann::json swarm_view_json(const EmulatedSwarm& swarm, bool with_peers);
// "leechers 12/20 done, slow 0/10, verified 812.0 MB, connections 30"
std::string swarm_status(const EmulatedSwarm& swarm);
// Writes addr:port lines, one per peer, in plan order; throws std::runtime_error.
void write_peers_file(const std::string& path, const std::vector<SwarmPeer>& peers);

}  // namespace swarmdial
