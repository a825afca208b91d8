#pragma once
// What the tracker load generator is asked to do: a plain struct, filled by
// the `tracker-load` command from its flags.
#include <cstdint>
#include <vector>

#include "engine/tracker/load_plan.hpp"
#include "engine/tracker/tracker_url.hpp"

namespace swarmdial {

struct TrackerLoadOptions {
  std::vector<TrackerUrl> trackers;  // one udp:// and/or one http://; requests alternate
  double rate = 1000;                // announces/s, scheduled open-loop
  double duration_s = 10;
  LoadModel swarm;            // torrents, peers, popularity, events, partition
  uint32_t connections = 16;  // UDP sockets (each with its connection id) / HTTP connections
  int64_t timeout_ms = 5000;  // a request unanswered this long is a timeout
  // --reannounce interval: `rate` is the join rate, and each peer announces
  // again the tracker's interval (times interval_scale) after its answer.
  bool reannounce_interval = false;
  double interval_scale = 1.0;
  bool udp_gso = true;  // runs of equal-sized UDP requests leave as one GSO send
};

}  // namespace swarmdial
