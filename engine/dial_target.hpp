#pragma once
// A target and who asked for it. `seed` serves many torrents through one set
// of shards: the tag (the torrent's index) rides with the attempt to its
// result row and its handoff, so an established flow reaches the torrent
// that dialled it. Targets from a list carry tag 0.
#include <cstdint>

#include "endpoint.hpp"

namespace swarmdial {

struct DialTarget {
  DialTarget() = default;
  DialTarget(const Endpoint& e, uint32_t t = 0) : target(e), tag(t) {}  // NOLINT: a list's target
  Endpoint target;
  uint32_t tag = 0;
  bool operator==(const DialTarget&) const = default;
};

inline uint64_t dial_target_hash(const DialTarget& d) {
  return endpoint_hash(d.target) ^ (uint64_t{d.tag} * 0x9e3779b97f4a7c15ULL);
}

}  // namespace swarmdial
