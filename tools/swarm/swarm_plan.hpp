#pragma once
// The emulated swarm's ground truth: which loopback address plays which
// behaviour. Pure, so the emulator, `demo` and the tests agree on it.
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/endpoint.hpp"

namespace swarmdial {

enum class PeerBehaviour : uint8_t {
  kLeecher,    // downloads everything with the project's own leech session
  kSlow,       // a leecher that accepts late and reads slowly
  kDead,       // nothing listens: the kernel answers RST (refused)
  kBlackhole,  // a listener whose accept queue is full: SYNs are dropped (timeout)
};
constexpr size_t kBehaviourCount = 4;
std::string_view behaviour_name(PeerBehaviour b);

struct SwarmCounts {
  uint32_t leechers = 0, slow = 0, dead = 0, blackhole = 0;
  uint32_t total() const { return leechers + slow + dead + blackhole; }
};

struct SwarmPeer {
  Endpoint addr;
  PeerBehaviour behaviour;
};

// One distinct address per peer, counting up from base (an IPv4 address in
// 127.0.0.0/8; host parts .0 and .255 are skipped), all on `port`. The
// behaviours are shuffled by `seed` so no behaviour clusters in one range.
// Throws std::invalid_argument when base is not loopback or the swarm would
// leave 127.0.0.0/8.
std::vector<SwarmPeer> plan_swarm(const SwarmCounts& counts, const IpAddress& base, uint16_t port,
                                  uint64_t seed);

}  // namespace swarmdial
