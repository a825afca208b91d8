#include "udp_messages.hpp"

#include <algorithm>

namespace swarmdial {

namespace {
constexpr uint64_t kProtocolId = 0x41727101980ULL;

void put(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t get(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
  return v;
}
}  // namespace

std::string udp_connect_request(uint32_t tid) {
  std::string out;
  put(out, kProtocolId, 8);
  put(out, static_cast<uint32_t>(UdpAction::kConnect), 4);
  put(out, tid, 4);
  return out;
}

void udp_announce_request_into(uint8_t out[kUdpAnnounceSize], uint64_t cid, uint32_t tid,
                               const AnnounceRequest& r) {
  auto put_at = [&](size_t off, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out[off + i] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
  };
  put_at(0, cid, 8);
  put_at(8, static_cast<uint32_t>(UdpAction::kAnnounce), 4);
  put_at(12, tid, 4);
  std::copy(r.info_hash.begin(), r.info_hash.end(), out + 16);
  std::copy(r.peer_id.begin(), r.peer_id.end(), out + 36);
  put_at(56, r.downloaded, 8);
  put_at(64, r.left, 8);
  put_at(72, r.uploaded, 8);
  put_at(80, static_cast<uint32_t>(r.event), 4);
  put_at(84, 0, 4);  // ip: the sender's
  put_at(88, r.key, 4);
  put_at(92, static_cast<uint32_t>(r.numwant), 4);
  put_at(96, r.port, 2);
}

std::string udp_announce_request(uint64_t cid, uint32_t tid, const AnnounceRequest& r) {
  uint8_t buf[kUdpAnnounceSize];
  udp_announce_request_into(buf, cid, tid, r);
  return std::string(reinterpret_cast<const char*>(buf), sizeof buf);
}

namespace {
void put_be(uint8_t* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
}
}  // namespace

size_t udp_scrape_request_into(uint8_t* out, uint64_t cid, uint32_t tid,
                               std::span<const InfoHash> hashes) {
  put_be(out, cid, 8);
  put_be(out + 8, static_cast<uint32_t>(UdpAction::kScrape), 4);
  put_be(out + 12, tid, 4);
  size_t off = 16;
  for (const auto& h : hashes) {
    std::copy(h.begin(), h.end(), out + off);
    off += h.size();
  }
  return off;
}

size_t udp_connect_request_into(uint8_t out[kUdpConnectSize], uint32_t tid) {
  put_be(out, kProtocolId, 8);
  put_be(out + 8, static_cast<uint32_t>(UdpAction::kConnect), 4);
  put_be(out + 12, tid, 4);
  return kUdpConnectSize;
}

std::string udp_scrape_request(uint64_t cid, uint32_t tid, std::span<const InfoHash> hashes) {
  std::string out;
  put(out, cid, 8);
  put(out, static_cast<uint32_t>(UdpAction::kScrape), 4);
  put(out, tid, 4);
  for (const auto& h : hashes) out.append(reinterpret_cast<const char*>(h.data()), 20);
  return out;
}

UdpReply parse_udp_reply(std::span<const uint8_t> d, uint32_t tid, UdpAction expect, bool v6,
                         const TrackerReplyLimits& limits) {
  if (d.size() < 8) return UdpIgnored{"truncated reply of " + std::to_string(d.size()) + " bytes"};
  auto action = static_cast<UdpAction>(get(d.data(), 4));
  if (get(d.data() + 4, 4) != tid) return UdpIgnored{"wrong transaction id"};
  if (action == UdpAction::kError) {
    std::string msg(reinterpret_cast<const char*>(d.data() + 8),
                    std::min<size_t>(d.size() - 8, 200));
    return TrackerFailure{true, msg.empty() ? "error reply" : msg};
  }
  if (action != expect)
    return UdpIgnored{"action " + std::to_string(static_cast<uint32_t>(action)) + " instead of " +
                      std::to_string(static_cast<uint32_t>(expect))};
  switch (action) {
    case UdpAction::kConnect:
      if (d.size() < 16) return UdpIgnored{"truncated connect reply"};
      return UdpConnectReply{get(d.data() + 8, 8)};
    case UdpAction::kAnnounce: {
      if (d.size() < 20) return UdpIgnored{"truncated announce reply"};
      AnnounceResponse r;
      r.interval_s = std::clamp<int64_t>(static_cast<int64_t>(get(d.data() + 8, 4)), 10, 24 * 3600);
      r.leechers = get(d.data() + 12, 4);
      r.seeders = get(d.data() + 16, 4);
      size_t stride = v6 ? 18 : 6, addr = stride - 2;
      // A trailing partial entry is ignored: the datagram boundary is the
      // length, and a short last record cannot be a peer.
      for (size_t off = 20; off + stride <= d.size() && r.peers.size() < limits.max_peers;
           off += stride) {
        Endpoint e;
        e.ip.family = v6 ? AF_INET6 : AF_INET;
        for (size_t i = 0; i < addr; ++i) e.ip.bytes[i] = d[off + i];
        e.port = static_cast<uint16_t>(get(d.data() + off + addr, 2));
        if (e.port != 0) r.peers.push_back(e);
      }
      return r;
    }
    case UdpAction::kScrape: {
      UdpScrapeReply s;
      for (size_t off = 8; off + 12 <= d.size(); off += 12)
        s.entries.push_back({static_cast<uint32_t>(get(d.data() + off, 4)),
                             static_cast<uint32_t>(get(d.data() + off + 4, 4)),
                             static_cast<uint32_t>(get(d.data() + off + 8, 4))});
      return s;
    }
    case UdpAction::kError:
      break;
  }
  return UdpIgnored{"unknown action"};
}

}  // namespace swarmdial
