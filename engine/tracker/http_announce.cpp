#include "http_announce.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/peerwire/bencode.hpp"

namespace swarmdial {

std::string_view event_name(AnnounceEvent e) {
  switch (e) {
    case AnnounceEvent::kNone:
      return "";
    case AnnounceEvent::kCompleted:
      return "completed";
    case AnnounceEvent::kStarted:
      return "started";
    case AnnounceEvent::kStopped:
      return "stopped";
  }
  return "";
}

void url_encode(std::string& out, std::string_view bytes) {
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : bytes) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

std::string http_announce_target(const TrackerUrl& url, const AnnounceRequest& r) {
  std::string t = url.target;
  t.reserve(t.size() + 256);
  t += t.find('?') == std::string::npos ? '?' : '&';
  t += "info_hash=";
  url_encode(t, {reinterpret_cast<const char*>(r.info_hash.data()), r.info_hash.size()});
  t += "&peer_id=";
  url_encode(t, {reinterpret_cast<const char*>(r.peer_id.data()), r.peer_id.size()});
  char buf[192];
  std::snprintf(buf, sizeof buf,
                "&port=%u&uploaded=%llu&downloaded=%llu&left=%llu&compact=1&numwant=%d&key=%08x",
                r.port, static_cast<unsigned long long>(r.uploaded),
                static_cast<unsigned long long>(r.downloaded),
                static_cast<unsigned long long>(r.left), r.numwant, r.key);
  t += buf;
  if (r.event != AnnounceEvent::kNone) {
    t += "&event=";
    t += event_name(r.event);
  }
  if (!r.tracker_id.empty()) {
    t += "&trackerid=";
    url_encode(t, r.tracker_id);
  }
  return t;
}

namespace {

TrackerFailure malformed(std::string text) {
  return {false, std::move(text)};
}

bool add_compact(std::string_view blob, size_t stride, AnnounceResponse& out,
                 const TrackerReplyLimits& limits, std::string& error) {
  if (blob.size() % stride != 0) {
    error = (stride == 6 ? "peers" : "peers6") + std::string(" blob of ") +
            std::to_string(blob.size()) + " bytes is not a multiple of " + std::to_string(stride);
    return false;
  }
  for (size_t off = 0; off < blob.size() && out.peers.size() < limits.max_peers; off += stride) {
    Endpoint e;
    const auto* p = reinterpret_cast<const uint8_t*>(blob.data() + off);
    size_t addr = stride - 2;
    e.ip.family = addr == 4 ? AF_INET : AF_INET6;
    for (size_t i = 0; i < addr; ++i) e.ip.bytes[i] = p[i];
    e.port = static_cast<uint16_t>(p[addr] << 8 | p[addr + 1]);
    if (e.port != 0) out.peers.push_back(e);  // port 0 cannot be dialed
  }
  return true;
}

}  // namespace

std::variant<AnnounceResponse, TrackerFailure> parse_http_announce(
    std::string_view body, const TrackerReplyLimits& limits) {
  if (body.size() > limits.max_body) return malformed("reply larger than the limit");
  BencodeError err;
  BencodeLimits bl;
  bl.max_size = limits.max_body;
  bl.max_depth = 8;
  bl.max_tokens = static_cast<uint32_t>(limits.max_peers * 8 + 64);
  bl.require_sorted_keys = false;  // trackers in the wild don't all sort
  auto doc = BDocument::decode(body, err, bl);
  if (!doc) return malformed("bad bencode at byte " + std::to_string(err.offset) + ": " + err.what);
  BNode root = doc->root();
  if (!root.is_dict()) return malformed("reply is not a dictionary");
  if (auto f = root.find_string("failure reason")) {
    // An empty reason is still a failure, and every failure must say
    // something in the summary and the log (found by fuzz_http_announce).
    if (f->empty()) return TrackerFailure{true, "failure with an empty reason"};
    return TrackerFailure{true, std::string(f->substr(0, 200))};
  }
  AnnounceResponse r;
  auto interval = root.find_int("interval");
  if (!interval) return malformed("no interval");
  // Clamp to sane bounds: a hostile tracker must not make us spin or go silent.
  r.interval_s = std::clamp<int64_t>(*interval, 10, 24 * 3600);
  if (auto mi = root.find_int("min interval"))
    r.min_interval_s = std::clamp<int64_t>(*mi, 0, 24 * 3600);
  if (auto w = root.find_string("warning message")) r.warning = w->substr(0, 200);
  if (auto id = root.find_string("tracker id")) r.tracker_id = id->substr(0, 200);
  if (auto c = root.find_int("complete"); c && *c >= 0) r.seeders = static_cast<uint64_t>(*c);
  if (auto c = root.find_int("incomplete"); c && *c >= 0) r.leechers = static_cast<uint64_t>(*c);
  std::string error;
  BNode peers = root.dict_find("peers");
  if (peers.is_string()) {
    if (!add_compact(peers.string(), 6, r, limits, error)) return malformed(error);
  } else if (peers.is_list()) {
    bool ok = true;
    peers.for_each_item([&](BNode p) {
      if (r.peers.size() >= limits.max_peers) return false;
      auto ip = p.find_string("ip");
      auto port = p.find_int("port");
      if (!ip || !port || *port <= 0 || *port > 65535) {
        ok = false;
        error = "a peer entry lacks a valid ip or port";
        return false;
      }
      auto addr = parse_ip(*ip);
      if (addr) r.peers.push_back({*addr, static_cast<uint16_t>(*port)});  // names are skipped
      return true;
    });
    if (!ok) return malformed(error);
  } else if (peers) {
    return malformed("peers is neither a string nor a list");
  }
  if (auto p6 = root.find_string("peers6"))
    if (!add_compact(*p6, 18, r, limits, error)) return malformed(error);
  return r;
}

}  // namespace swarmdial
