#pragma once
// `swarmdial tracker-load` settings (flags or the same keys in an INI --config).
#include <optional>
#include <string>
#include <vector>

#include "tracker/tracker_url.hpp"

namespace swarmdial {

struct TrackerLoadConfig {
  std::vector<TrackerUrl> trackers;  // one udp:// and/or one http://; requests alternate
  double rate = 1000;                // announces/s, scheduled open-loop
  double duration_s = 10;
  uint32_t torrents = 100;
  uint32_t peers = 100;  // per torrent
  uint32_t connections =
      16;  // UDP sockets (each with its connection id) / HTTP keep-alive connections
  int64_t timeout_ms = 5000;  // a request unanswered this long is a timeout
  int32_t numwant = 50;
  std::string summary_file;
  bool quiet = false;
  bool status = false;
};

std::optional<TrackerLoadConfig> parse_tracker_load_args(const std::vector<std::string>& args,
                                                         std::string& help_out);

}  // namespace swarmdial
