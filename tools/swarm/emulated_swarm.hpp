#pragma once
// The emulated swarm's sockets: one epoll loop on its own thread serving
// every planned peer on loopback. Leechers and slow peers listen and run the
// project's LeechSession on each connection; black holes are listen(fd, 0)
// sockets whose single accept-queue slot the swarm fills itself, so the
// kernel drops every further SYN; dead peers have no socket at all, so the
// kernel answers RST. Counters are readable from any thread while it runs.
#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "engine/peerwire/leech_session.hpp"
#include "engine/relaxed_counter.hpp"
#include "tools/swarm/swarm_plan.hpp"

namespace swarmdial {

struct SwarmOptions {
  const Metainfo* meta = nullptr;
  std::vector<SwarmPeer> peers;
  uint32_t pipeline = 32;                     // block requests in flight per leecher
  int64_t slow_accept_ns = 2'000'000'000;     // slow peers start talking this late
  double slow_read_bytes_per_s = 256 * 1024;  // and read no faster than this
  uint64_t seed = 1;                          // peer ids
};

// What one behaviour class did, live.
struct BehaviourCounters {
  RelaxedCounter connections, completed, failed, bytes_verified, hash_failures;
};

// The ground truth after (or during) a run, per peer.
struct SwarmPeerResult {
  SwarmPeer peer;
  uint32_t connections = 0;
  bool completed = false;
  uint64_t bytes_verified = 0;
  uint32_t hash_failures = 0;
  LeechEnd end = LeechEnd::kNone;
  std::string seeder_client;
  double seconds_to_complete = -1;  // from its first connection
};

class EmulatedSwarm {
 public:
  explicit EmulatedSwarm(SwarmOptions opts);
  ~EmulatedSwarm();
  EmulatedSwarm(const EmulatedSwarm&) = delete;
  EmulatedSwarm& operator=(const EmulatedSwarm&) = delete;

  // Binds every listener and fills the black holes; throws std::runtime_error
  // naming the address that failed. Then runs the loop on its own thread.
  void start();
  // Closes every socket and joins the thread. Safe to call twice.
  void stop();

  const BehaviourCounters& counters(PeerBehaviour b) const {
    return counters_[static_cast<size_t>(b)];
  }
  uint32_t planned(PeerBehaviour b) const;
  // Leechers (fast and slow) that verified the whole torrent.
  uint64_t completed() const;
  // Per-peer results; call after stop().
  std::vector<SwarmPeerResult> results() const;

 private:
  struct Conn;
  void run();
  void accept_all(uint32_t peer);
  void service(Conn& c, int64_t now, bool readable);
  void finish(Conn& c, int64_t now);

  SwarmOptions opts_;
  LeechConfig leech_cfg_;
  int epfd_ = -1;
  std::vector<int> listeners_;  // per peer, -1 for dead peers
  std::vector<int> fillers_;    // the connections that keep black holes full
  std::vector<SwarmPeerResult> results_;
  std::vector<int64_t> first_connect_ns_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::array<BehaviourCounters, kBehaviourCount> counters_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace swarmdial
