#pragma once
#include <string>
#include <vector>

namespace swarmdial {

// `swarmdial demo`: a temporary torrent, an emulated swarm on loopback, and a
// seeding run into it, ending with a report (text, JSON and an SVG chart).
int run_demo_command(const std::vector<std::string>& args);

}  // namespace swarmdial
