#include "load_plan.hpp"

#include <openssl/sha.h>

namespace swarmdial {

InfoHash load_info_hash(uint32_t torrent) {
  std::string name = "swarmdial-load-torrent-" + std::to_string(torrent);
  InfoHash h;
  SHA1(reinterpret_cast<const uint8_t*>(name.data()), name.size(), h.data());
  return h;
}

LoadPlan::LoadPlan(uint32_t torrents, uint32_t peers, int32_t numwant, uint32_t part,
                   uint32_t parts)
    : torrents_(torrents),
      part_(part),
      parts_(parts == 0 ? 1 : parts),
      part_peers_(peers > part ? (peers - part + parts_ - 1) / parts_ : 0),
      numwant_(numwant) {
  hashes_.reserve(torrents);
  for (uint32_t i = 0; i < torrents; ++i) hashes_.push_back(load_info_hash(i));
}

AnnounceRequest LoadPlan::request(uint64_t k) const {
  uint64_t pair = k % swarm_size();
  auto torrent = static_cast<uint32_t>(pair % torrents_);
  auto peer = static_cast<uint32_t>(pair / torrents_) * parts_ + part_;
  AnnounceRequest r;
  r.info_hash = hashes_[torrent];
  // A peer is the same client in every torrent it joins: id and port derive
  // from its number only.
  r.peer_id = make_peer_id(0x5eed0000ULL + peer);
  r.port = static_cast<uint16_t>(1024 + peer % 64000);
  r.left = peer % 4 == 0 ? 0 : 1'000'000;  // a quarter of the swarm seeds
  r.event = k < swarm_size() ? AnnounceEvent::kStarted : AnnounceEvent::kNone;
  r.numwant = numwant_;
  r.key = peer;
  return r;
}

}  // namespace swarmdial
