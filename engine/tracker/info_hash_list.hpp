#pragma once
// `tracker-load --infohashes FILE`: the torrents a whitelisting tracker
// serves, one hex info-hash per line ('#' comments and blank lines allowed).
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/peerwire/bt_handshake.hpp"

namespace swarmdial {

struct InfoHashListError {
  int line = 0;  // 1-based; 0 for the file as a whole
  std::string what;
};

// At most `max_hashes` hashes; a repeated one is an error (it would skew
// the popularity the run is asked for).
std::variant<std::vector<InfoHash>, InfoHashListError> parse_info_hash_list(
    std::string_view text, size_t max_hashes = 1'000'000);

}  // namespace swarmdial
