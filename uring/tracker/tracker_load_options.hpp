#pragma once
// What the tracker load generator is asked to do: a plain struct, filled by
// the `tracker-load` command from its flags.
#include <cstdint>
#include <vector>

#include "engine/tracker/tracker_url.hpp"

namespace swarmdial {

struct TrackerLoadOptions {
  std::vector<TrackerUrl> trackers;  // one udp:// and/or one http://; requests alternate
  double rate = 1000;                // announces/s, scheduled open-loop
  double duration_s = 10;
  uint32_t torrents = 100;
  uint32_t peers = 100;       // per torrent
  uint32_t connections = 16;  // UDP sockets (each with its connection id) / HTTP connections
  int64_t timeout_ms = 5000;  // a request unanswered this long is a timeout
  int32_t numwant = 50;
  uint32_t part = 0, parts = 1;  // --partition K/N: peers p with p % N == K
};

}  // namespace swarmdial
