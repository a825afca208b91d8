#pragma once
// The swarm-shape flags `swarm` and `demo` share, with their defaults.
#include <boost/program_options.hpp>

#include "swarm_config.hpp"
#include "tools/swarm/emulated_swarm.hpp"

namespace swarmdial {

struct ShapeDefaults {
  int64_t leechers = 20, slow = 0, dead = 0, blackhole = 0;
  const char* base = "127.77.0.0";
};

boost::program_options::options_description swarm_shape_options(const ShapeDefaults& d = {});
// Throws UsageError naming the flag.
SwarmShape swarm_shape_from(const boost::program_options::variables_map& vm);

// What the emulated swarm is given, from the shape flags.
SwarmOptions swarm_options(const SwarmShape& shape, const Metainfo& meta,
                           const std::vector<SwarmPeer>& plan);

}  // namespace swarmdial
