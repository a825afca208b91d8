#pragma once
// Writes a single-file v1 .torrent (BEP 3, BEP 12 announce-list) from
// geometry and piece hashes the caller computed: what `demo` and the tests
// seed. Pure: no file access.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace swarmdial {

struct TorrentSpec {
  std::string name;
  uint32_t piece_length = 256 * 1024;
  uint64_t length = 0;
  std::vector<std::array<uint8_t, 20>> piece_hashes;
  std::vector<std::vector<std::string>> announce_tiers;  // empty: no tracker
};

std::string write_torrent(const TorrentSpec& spec);

}  // namespace swarmdial
