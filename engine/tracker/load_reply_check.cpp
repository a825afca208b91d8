#include "load_reply_check.hpp"

#include <algorithm>

#include "engine/peerwire/bencode.hpp"

namespace swarmdial {

namespace {

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

constexpr uint32_t kActionAnnounce = 1, kActionScrape = 2, kActionError = 3;

// A reply body is small: bound what decoding it may cost.
BencodeLimits reply_limits() {
  BencodeLimits l;
  l.max_size = 1 << 20;
  l.max_depth = 8;
  l.max_tokens = 100'000;
  l.require_sorted_keys = false;  // trackers in the wild do not all sort
  return l;
}

// The body as a dictionary that is not a refusal: nullopt with `f` saying
// which (malformed, or the tracker's "failure reason").
std::optional<BDocument> decode_answer(std::string_view body, ReplyFacts& f) {
  BencodeError err;
  auto doc = BDocument::decode(body, err, reply_limits());
  if (!doc || !doc->root().is_dict()) return std::nullopt;
  if (doc->root().dict_find("failure reason")) {
    f.verdict = ReplyVerdict::kTrackerError;
    return std::nullopt;
  }
  return doc;
}

}  // namespace

ReplyFacts check_udp_announce_reply(std::span<const uint8_t> d, bool v6) {
  ReplyFacts f;
  if (d.size() >= 8 && be32(d.data()) == kActionError) {
    f.verdict = ReplyVerdict::kTrackerError;
    return f;
  }
  size_t stride = v6 ? 18 : 6;
  if (d.size() < 20 || be32(d.data()) != kActionAnnounce || (d.size() - 20) % stride != 0) return f;
  f.interval_s = be32(d.data() + 8);
  f.swarm = uint64_t{be32(d.data() + 12)} + be32(d.data() + 16);
  f.peers = static_cast<uint32_t>((d.size() - 20) / stride);
  if (v6) f.peers6 = f.peers;
  if (f.interval_s > 0) f.verdict = ReplyVerdict::kOk;
  return f;
}

ReplyFacts check_udp_scrape_reply(std::span<const uint8_t> d, size_t hashes) {
  ReplyFacts f;
  if (d.size() >= 8 && be32(d.data()) == kActionError)
    f.verdict = ReplyVerdict::kTrackerError;
  else if (d.size() == 8 + 12 * hashes && be32(d.data()) == kActionScrape)
    f.verdict = ReplyVerdict::kOk;
  return f;
}

ReplyFacts check_http_announce_body(std::string_view body) {
  ReplyFacts f;
  auto doc = decode_answer(body, f);
  if (!doc) return f;
  BNode root = doc->root();
  auto interval = root.find_int("interval");
  BNode peers = root.dict_find("peers");
  if (!interval || !peers) return f;
  f.interval_s = *interval;
  f.swarm = static_cast<uint64_t>(std::max<int64_t>(0, root.find_int("complete").value_or(0))) +
            static_cast<uint64_t>(std::max<int64_t>(0, root.find_int("incomplete").value_or(0)));
  if (peers.is_string()) {
    if (peers.string().size() % 6 != 0) return f;
    f.peers = static_cast<uint32_t>(peers.string().size() / 6);
  } else if (peers.is_list()) {
    f.peers = peers.size();
  } else {
    return f;
  }
  if (BNode six = root.dict_find("peers6"); six && six.is_string()) {
    if (six.string().size() % 18 != 0) return f;
    f.peers6 = static_cast<uint32_t>(six.string().size() / 18);
    f.peers += f.peers6;
  }
  if (f.interval_s > 0) f.verdict = ReplyVerdict::kOk;
  return f;
}

ReplyFacts check_http_scrape_body(std::string_view body, size_t hashes) {
  ReplyFacts f;
  auto doc = decode_answer(body, f);
  if (!doc) return f;
  BNode root = doc->root();
  BNode files = root.dict_find("files");
  if (!files || !files.is_dict()) return f;
  // A tracker leaves out torrents it does not know; what it lists must be
  // ones we asked for, each with its three counts.
  bool shape = files.size() <= hashes;
  files.for_each_pair([&](std::string_view key, BNode v) {
    shape = shape && key.size() == 20 && v.is_dict() && v.find_int("complete") &&
            v.find_int("incomplete") && v.find_int("downloaded");
    return shape;
  });
  if (shape) f.verdict = ReplyVerdict::kOk;
  return f;
}

}  // namespace swarmdial
