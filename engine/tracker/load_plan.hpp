#pragma once
// The synthetic swarm `tracker-load` announces, and the open-loop timetable
// (request k is due at start + k / rate, whatever the tracker does). Every
// request is a pure function of its sequence number, so tests, benchmarks
// and the generators of a partitioned run can recompute any of them.
//
// The swarm is torrents x peers memberships (a peer in a torrent). How they
// spread over torrents is the popularity: uniform (each torrent exactly
// --peers) or Zipf with exponent s (the torrent of rank r has a share
// proportional to 1 / r^s, as measured swarms roughly do). Each membership
// announces in rounds: `started` first, then re-announces, with a share that
// leave (`stopped`, then `started` again the round after) and leechers that
// finish (`completed` once, then left = 0).
//
// Requests are announces, scrapes and (UDP) connects in a fixed pattern of
// their weights, so every share is exact over each pattern's length.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "announce.hpp"

namespace swarmdial {

// SHA-1 of "swarmdial-load-torrent-<i>": the synthetic torrents, which a
// whitelisting tracker (opentracker as Debian builds it) must be told of.
InfoHash load_info_hash(uint32_t torrent);

struct LoadModel {
  uint32_t torrents = 100;
  uint32_t peers = 100;   // per torrent; with Zipf, the mean
  double zipf = 0;        // popularity exponent; 0 = uniform
  double seeders = 0.75;  // share of memberships that start as seeds
  double completed = 0;   // per round, the chance a leecher finishes
  double stopped = 0;     // per re-announce, the chance a peer leaves
  int32_t numwant = 30;
  // The request mix, aquatic's load test's weights by default.
  uint32_t announce_weight = 100, scrape_weight = 1, connect_weight = 1;
  uint32_t scrape_max = 10;  // info-hashes per scrape: 1 .. this, by popularity
  // Share of the peers that are IPv6 peers (announce over IPv6, BEP 7 and
  // BEP 15's IPv6 form); a peer keeps its family in every torrent it joins.
  double ipv6 = 0;
  // Real info-hashes (--infohashes) instead of the synthetic ones; then
  // `torrents` is their number.
  std::shared_ptr<const std::vector<InfoHash>> info_hashes;
  uint32_t part = 0, parts = 1;  // --partition K/N: memberships m with m % N == K
};

enum class LoadKind : uint8_t { kAnnounce, kScrape, kConnect };
struct LoadStep {
  LoadKind kind;
  uint64_t index;  // the how-manieth of its kind
};

class LoadPlan {
 public:
  static constexpr size_t kMaxScrapeHashes = 74;  // what one BEP 15 datagram holds

  explicit LoadPlan(const LoadModel& model);
  // What request k of the run is.
  LoadStep step(uint64_t k) const;
  // Announce a walks every membership of this part once per round, so the
  // first swarm_size() announces are each membership's `started`.
  AnnounceRequest request(uint64_t a) const;
  // Scrape s: its info-hashes (1 .. scrape_max distinct ones, drawn by popularity).
  size_t scrape_hashes(uint64_t s, std::span<InfoHash, kMaxScrapeHashes> out) const;
  // Whether request k (of any kind) comes from an IPv6 peer: an announce
  // from its peer's family, a scrape or connect by the same share.
  bool ipv6_request(uint64_t k) const;
  // Which torrent a membership (0 .. torrents x peers - 1) belongs to.
  uint32_t torrent_of(uint64_t membership) const;
  uint32_t torrents() const { return torrents_; }
  uint64_t swarm_size() const { return part_members_; }
  // The same, without building the plan.
  static uint64_t swarm_size_of(const LoadModel& model);

 private:
  struct Member {
    uint64_t m, client, round;
    uint32_t torrent;
  };
  Member member_of(uint64_t announce) const;
  bool ipv6_client(uint64_t client) const;
  bool stops(uint64_t m, uint64_t round) const;
  bool left_before(uint64_t m, uint64_t round) const;

  uint32_t torrents_, part_, parts_, pattern_;
  uint64_t members_, part_members_;
  LoadModel model_;
  std::shared_ptr<const std::vector<InfoHash>> hashes_;
  std::vector<double> cumulative_;  // Zipf: share of torrents 0..i, empty when uniform
  // Zipf: guide_[b] = the first torrent whose cumulative share passes b / G,
  // G = guide_.size() - 1. A lookup searches only between two neighbours of
  // its bucket: two cache misses, where a binary search over a million
  // torrents took twenty.
  std::vector<uint32_t> guide_;
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
