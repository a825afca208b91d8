#pragma once
// BitTorrent v1 metainfo (BEP 3, BEP 12 announce-list): files, piece
// geometry and the info-hash (SHA-1 of the info dictionary's exact bytes).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bt_handshake.hpp"

namespace swarmdial {

struct TorrentFile {
  std::string path;  // relative, '/'-separated, sanitised
  uint64_t length = 0;
  uint64_t offset = 0;  // within the torrent's byte stream
  bool pad = false;     // BEP 47 padding file: zeros, never on disk
};

struct Metainfo {
  std::string name;
  InfoHash info_hash{};
  uint32_t piece_length = 0;
  uint32_t num_pieces = 0;
  uint64_t total_length = 0;
  bool multi_file = false;
  std::vector<TorrentFile> files;
  std::vector<std::array<uint8_t, 20>> piece_hashes;
  std::vector<std::vector<std::string>> announce_tiers;  // announce-list, or {{announce}}

  uint32_t piece_size(uint32_t piece) const {
    if (piece + 1 < num_pieces) return piece_length;
    return static_cast<uint32_t>(total_length - uint64_t{piece_length} * (num_pieces - 1));
  }
};

struct MetainfoLimits {
  size_t max_torrent_bytes = 64 << 20;
  size_t max_files = 1'000'000;
  size_t max_path_bytes = 4096;
  uint64_t max_total_length = uint64_t{1} << 50;
};

// Returns the metainfo or a one-line reason.
std::variant<Metainfo, std::string> parse_metainfo(std::string_view torrent_bytes,
                                                   const MetainfoLimits& limits = {});

// A path component is safe when it is not empty, ".", "..", and has no '/',
// '\\' or NUL: a torrent must never write outside its directory.
bool is_safe_path_component(std::string_view c);

std::string info_hash_hex(const InfoHash& h);

}  // namespace swarmdial
