#include "choker.hpp"

#include <algorithm>

namespace swarmdial {

std::vector<uint32_t> Choker::decide(std::vector<ChokerPeer> peers, int64_t now_ns) {
  std::vector<uint32_t> unchoke;
  std::erase_if(peers, [](const ChokerPeer& p) { return !p.interested; });
  if (peers.empty() || slots_ == 0) return unchoke;
  if (peers.size() <= slots_) {
    for (const auto& p : peers) unchoke.push_back(p.id);
    return unchoke;
  }
  std::sort(peers.begin(), peers.end(), [](const ChokerPeer& a, const ChokerPeer& b) {
    return a.upload_rate != b.upload_rate ? a.upload_rate > b.upload_rate : a.id < b.id;
  });
  uint32_t regular = slots_ > 1 ? slots_ - 1 : slots_;
  for (uint32_t i = 0; i < regular; ++i) unchoke.push_back(peers[i].id);
  if (slots_ == 1) return unchoke;
  // The optimistic slot: keep it for its interval, then hand it to the next
  // peer (round-robin over those not already unchoked).
  bool still_there = std::any_of(peers.begin() + regular, peers.end(),
                                 [&](const ChokerPeer& p) { return p.id == optimistic_id_; });
  if (!still_there || now_ns - last_rotation_ns_ >= optimistic_interval_ns_) {
    size_t candidates = peers.size() - regular;
    optimistic_id_ = peers[regular + (rotation_++ % candidates)].id;
    last_rotation_ns_ = now_ns;
  }
  unchoke.push_back(optimistic_id_);
  return unchoke;
}

}  // namespace swarmdial
