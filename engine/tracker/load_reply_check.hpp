#pragma once
// What the tracker load generator checks in every reply, sans-I/O: a
// tracker that answers fast but wrong must not win. An announce reply must
// carry a positive interval and whole peer records; a scrape reply one
// entry per info-hash asked for; an HTTP body must decode (bencode, with
// limits) to a dictionary of the right shape.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace swarmdial {

enum class ReplyVerdict : uint8_t { kOk, kTrackerError, kBadReply };

struct ReplyFacts {
  ReplyVerdict verdict = ReplyVerdict::kBadReply;
  uint32_t peers = 0;       // announce: peer records received
  uint32_t peers6 = 0;      // ... of which IPv6 (BEP 7 peers6, or BEP 15 over IPv6)
  uint64_t swarm = 0;       // announce: seeders + leechers the tracker says it has
  int64_t interval_s = -1;  // announce: the interval the tracker asked for
};

// `d` is the whole datagram, already matched to its request by transaction id.
ReplyFacts check_udp_announce_reply(std::span<const uint8_t> d, bool v6 = false);
ReplyFacts check_udp_scrape_reply(std::span<const uint8_t> d, size_t hashes);
ReplyFacts check_http_announce_body(std::string_view body);
ReplyFacts check_http_scrape_body(std::string_view body, size_t hashes);

// A well-formed announce reply that gives no peers although the tracker
// counts others in the swarm and some were asked for: a tracker losing
// peers, not a fast one.
inline bool withholds_peers(const ReplyFacts& f, int32_t numwant) {
  return f.verdict == ReplyVerdict::kOk && numwant > 0 && f.peers == 0 && f.swarm > 1;
}

}  // namespace swarmdial
