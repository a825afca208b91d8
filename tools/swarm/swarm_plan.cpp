#include "swarm_plan.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace swarmdial {

std::string_view behaviour_name(PeerBehaviour b) {
  switch (b) {
    case PeerBehaviour::kLeecher:
      return "leecher";
    case PeerBehaviour::kSlow:
      return "slow";
    case PeerBehaviour::kDead:
      return "dead";
    case PeerBehaviour::kBlackhole:
      return "blackhole";
  }
  return "?";
}

std::vector<SwarmPeer> plan_swarm(const SwarmCounts& counts, const IpAddress& base, uint16_t port,
                                  uint64_t seed) {
  if (!base.is_v4() || base.bytes[0] != 127)
    throw std::invalid_argument("the swarm's base address must be in 127.0.0.0/8");
  std::vector<PeerBehaviour> roles;
  roles.reserve(counts.total());
  roles.insert(roles.end(), counts.leechers, PeerBehaviour::kLeecher);
  roles.insert(roles.end(), counts.slow, PeerBehaviour::kSlow);
  roles.insert(roles.end(), counts.dead, PeerBehaviour::kDead);
  roles.insert(roles.end(), counts.blackhole, PeerBehaviour::kBlackhole);
  std::mt19937_64 rng(seed);
  std::shuffle(roles.begin(), roles.end(), rng);

  uint32_t ip = uint32_t{base.bytes[0]} << 24 | uint32_t{base.bytes[1]} << 16 |
                uint32_t{base.bytes[2]} << 8 | base.bytes[3];
  std::vector<SwarmPeer> peers;
  peers.reserve(roles.size());
  for (PeerBehaviour role : roles) {
    do {
      ++ip;
    } while ((ip & 0xff) == 0 || (ip & 0xff) == 0xff);
    if ((ip >> 24) != 127) throw std::invalid_argument("the swarm does not fit in 127.0.0.0/8");
    SwarmPeer p;
    p.addr.ip.family = AF_INET;
    for (int i = 0; i < 4; ++i) p.addr.ip.bytes[i] = static_cast<uint8_t>(ip >> (24 - 8 * i));
    p.addr.port = port;
    p.behaviour = role;
    peers.push_back(p);
  }
  return peers;
}

}  // namespace swarmdial
