#pragma once
// UDP tracker protocol (BEP 15) messages, sans-I/O: build the connect,
// announce and scrape requests; parse and validate any reply against the
// transaction id and action we are waiting for.
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "announce.hpp"
#include "http_announce.hpp"

namespace swarmdial {

enum class UdpAction : uint32_t { kConnect = 0, kAnnounce = 1, kScrape = 2, kError = 3 };

std::string udp_connect_request(uint32_t transaction_id);
std::string udp_announce_request(uint64_t connection_id, uint32_t transaction_id,
                                 const AnnounceRequest& r);
constexpr size_t kUdpAnnounceSize = 98;
// The same, into a caller's buffer: no allocation (the load generator's path).
void udp_announce_request_into(uint8_t out[kUdpAnnounceSize], uint64_t connection_id,
                               uint32_t transaction_id, const AnnounceRequest& r);
std::string udp_scrape_request(uint64_t connection_id, uint32_t transaction_id,
                               std::span<const InfoHash> hashes);
// Into a caller's buffer of at least 16 + 20 x hashes bytes (connect: 16);
// both return the length written.
size_t udp_scrape_request_into(uint8_t* out, uint64_t connection_id, uint32_t transaction_id,
                               std::span<const InfoHash> hashes);
constexpr size_t kUdpConnectSize = 16;
size_t udp_connect_request_into(uint8_t out[kUdpConnectSize], uint32_t transaction_id);

struct UdpConnectReply {
  uint64_t connection_id;
};
struct ScrapeEntry {
  uint32_t seeders, completed, leechers;
};
struct UdpScrapeReply {
  std::vector<ScrapeEntry> entries;
};
// A datagram that is not the reply we wait for: BEP 15 says drop it and
// keep waiting (the retransmission timer covers a lost reply).
struct UdpIgnored {
  std::string why;
};

using UdpReply =
    std::variant<UdpConnectReply, AnnounceResponse, UdpScrapeReply, TrackerFailure, UdpIgnored>;

// `expect` is the action of the request in flight; `v6` selects 18-byte
// peers (BEP 15 over IPv6). An action 3 reply with our id is a TrackerFailure.
UdpReply parse_udp_reply(std::span<const uint8_t> datagram, uint32_t transaction_id,
                         UdpAction expect, bool v6 = false, const TrackerReplyLimits& limits = {});

}  // namespace swarmdial
