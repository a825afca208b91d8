#pragma once
// `swarmdial demo` settings: the emulated swarm's shape plus the seeding run.
#include <optional>
#include <string>
#include <vector>

#include "swarm_config.hpp"

namespace swarmdial {

struct DemoConfig {
  SwarmShape shape;
  uint64_t size_bytes = 64ull << 20;  // random data in the demo torrent
  uint32_t piece_length = 256 * 1024;
  uint32_t shards = 1;
  uint32_t half_open = 64;
  double rate = 2000;  // SYN/s
  int64_t timeout_ms = 1000;
  uint32_t workers = 1;
  uint32_t unchoke_slots = 32;
  std::string out_dir = "swarmdial-demo";
  double max_seconds = 50;  // the run ends here even if leechers are still downloading
  bool quiet = false;
  bool status = false;
};

std::optional<DemoConfig> parse_demo_args(const std::vector<std::string>& args,
                                          std::string& help_out);

}  // namespace swarmdial
