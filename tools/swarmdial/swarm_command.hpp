#pragma once
#include <string>
#include <vector>

namespace swarmdial {

// `swarmdial swarm`: runs an emulated swarm on loopback until a signal, the
// duration, or (--until-complete) every leecher has the torrent.
int run_swarm_command(const std::vector<std::string>& args);

}  // namespace swarmdial
