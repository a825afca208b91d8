#pragma once
// The demo's temporary torrent: a file of random bytes and its .torrent.
#include <cstdint>
#include <string>

#include "engine/peerwire/metainfo.hpp"

namespace swarmdial {

struct DemoTorrent {
  std::string data_path;     // the single data file
  std::string torrent_path;  // its .torrent
  Metainfo meta;
};

// Writes both into `dir`; throws std::runtime_error with the failing path.
DemoTorrent make_demo_torrent(const std::string& dir, uint64_t size, uint32_t piece_length,
                              uint64_t seed);

}  // namespace swarmdial
