#pragma once
// What a client tells a tracker and what it hears back, independent of the
// transport (HTTP BEP 3/23/7, UDP BEP 15).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/endpoint.hpp"
#include "engine/peerwire/bt_handshake.hpp"

namespace swarmdial {

enum class AnnounceEvent : uint8_t { kNone = 0, kCompleted = 1, kStarted = 2, kStopped = 3 };
std::string_view event_name(AnnounceEvent e);

struct AnnounceRequest {
  InfoHash info_hash{};
  PeerId peer_id{};
  uint16_t port = 0;
  uint64_t uploaded = 0, downloaded = 0, left = 0;
  AnnounceEvent event = AnnounceEvent::kNone;
  int32_t numwant = 200;
  uint32_t key = 0;
  std::string tracker_id;  // echoed back once a tracker gave one (HTTP)
};

struct AnnounceResponse {
  int64_t interval_s = 1800;
  int64_t min_interval_s = 0;  // 0: not given
  std::string tracker_id;
  std::string warning;
  uint64_t seeders = 0, leechers = 0;
  std::vector<Endpoint> peers;
};

// Limits every reply parser applies.
struct TrackerReplyLimits {
  size_t max_body = 1 << 20;
  size_t max_peers = 10'000;
};

}  // namespace swarmdial
