#pragma once
// `seed --peers-file`: peers to dial, one a line, each for every torrent
// the node seeds or for the one named after it:
//   198.18.0.2:6881                                           # every torrent
//   198.18.0.3:51413 0123456789abcdef0123456789abcdef01234567 # this one
// (a peer list exported per torrent, as a seeding node gets them from its
// trackers, keeps each peer to its swarm).
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "endpoint.hpp"
#include "peerwire/bt_handshake.hpp"
#include "target_set.hpp"

namespace swarmdial {

struct ListedPeer {
  Endpoint peer;
  std::optional<InfoHash> torrent;  // none: every torrent
};

// At most ten million peers; a bad line is named by its number.
std::variant<std::vector<ListedPeer>, TargetParseError> parse_peer_list(std::string_view body);

}  // namespace swarmdial
