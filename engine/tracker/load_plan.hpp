#pragma once
// The synthetic swarm `tracker-load` announces: --torrents x --peers, each
// request's torrent, peer and event derived from its sequence number, and
// the open-loop timetable (request k is due at start + k / rate, whatever
// the tracker does). Pure, so tests and benchmarks can recompute it.
#include <cstdint>
#include <string>

#include "announce.hpp"

namespace swarmdial {

// SHA-1 of "swarmdial-load-torrent-<i>": what a whitelisting tracker
// (opentracker as Debian builds it) must be told to accept.
InfoHash load_info_hash(uint32_t torrent);

class LoadPlan {
 public:
  // --partition K/N: this generator is the peers p with p % N == K, so N
  // generators together are the whole swarm, each peer in one of them.
  LoadPlan(uint32_t torrents, uint32_t peers_per_torrent, int32_t numwant, uint32_t part = 0,
           uint32_t parts = 1);
  // Request k walks every (torrent, peer) pair of this part once before
  // repeating, so the first swarm_size() requests are each peer's `started`.
  AnnounceRequest request(uint64_t k) const;
  uint32_t torrents() const { return torrents_; }
  uint64_t swarm_size() const { return uint64_t{torrents_} * part_peers_; }

 private:
  uint32_t torrents_, part_, parts_, part_peers_;
  int32_t numwant_;
  std::vector<InfoHash> hashes_;
};

class OpenLoopSchedule {
 public:
  OpenLoopSchedule(double rate, double duration_s, int64_t start_ns)
      : rate_(rate), start_(start_ns), total_(static_cast<uint64_t>(rate * duration_s)) {}
  // When request k is due.
  int64_t due_at(uint64_t k) const {
    return start_ + static_cast<int64_t>(static_cast<double>(k) * 1e9 / rate_);
  }
  // How many requests are due by `now` (never more than the total).
  uint64_t due_by(int64_t now) const {
    if (now < start_) return 0;
    auto n = static_cast<uint64_t>(static_cast<double>(now - start_) * rate_ / 1e9) + 1;
    return n < total_ ? n : total_;
  }
  uint64_t total() const { return total_; }
  int64_t start() const { return start_; }

 private:
  double rate_;
  int64_t start_;
  uint64_t total_;
};

}  // namespace swarmdial
