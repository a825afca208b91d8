#pragma once
// `swarmdial swarm` settings (flags or the same keys in an INI --config).
#include <optional>
#include <string>
#include <vector>

#include "engine/endpoint.hpp"
#include "tools/swarm/swarm_plan.hpp"

namespace swarmdial {

// The behaviour mix and its addresses; shared by `swarm` and `demo`.
struct SwarmShape {
  SwarmCounts counts;
  IpAddress base;  // peers count up from here, inside 127.0.0.0/8
  uint16_t port = 6881;
  uint32_t pipeline = 32;
  int64_t slow_accept_ms = 2000;
  double slow_rate = 256 * 1024;  // bytes/s
  uint64_t seed = 1;
};

struct SwarmConfig {
  std::string torrent_file;
  SwarmShape shape;
  std::string peers_file;             // write the peers' addr:port lines here
  std::string view_file;              // write the ground truth JSON here at exit
  std::vector<std::string> trackers;  // announce every live peer here
  double duration_s = 0;              // 0 = until a signal (or --until-complete)
  bool until_complete = false;
  bool quiet = false;
  bool status = false;
};

std::optional<SwarmConfig> parse_swarm_args(const std::vector<std::string>& args,
                                            std::string& help_out);

}  // namespace swarmdial
