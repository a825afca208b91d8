#pragma once
// Renders the Prometheus text exposition of a run (the /metrics page).
#include <string>
#include <utility>
#include <vector>

#include "peer_book.hpp"
#include "run_stats.hpp"

namespace swarmdial {

struct PeerGauges {
  uint64_t outbound = 0;  // established flows currently held or served
  uint64_t inbound = 0;
};

// Seeding counters; absent for `dial`.
struct SeedCounters {
  uint64_t inbound_accepted = 0, inbound_rejected_full = 0, inbound_rejected_rate = 0;
  uint64_t inbound_accept_failed_fds = 0;  // accept() hit EMFILE/ENFILE
  uint64_t upload_bytes = 0, pieces_served = 0;
  std::vector<std::pair<std::string, uint64_t>> disconnects;  // reason -> count
  std::vector<std::pair<std::string, uint64_t>> redials;      // cause -> re-dials scheduled
  std::vector<std::pair<std::string, uint64_t>> given_up;     // cause -> peers given up
  struct Tracker {
    std::string url;
    uint64_t ok = 0, failed = 0;
  };
  std::vector<Tracker> trackers;
  uint64_t torrents = 0;              // seeded by this process
  bool with_torrent_changes = false;  // --torrents-dir is watched
  uint64_t torrents_added = 0, torrents_removed = 0;
  uint64_t dials_waiting = 0, dials_dropped = 0;  // the dial scheduler's
  bool with_announces = false;                    // any tracker: the announce queue's
  uint64_t announces_queued = 0, announces_in_flight = 0, announces_started = 0, announces_late = 0;
  bool with_peer_book = false;  // the run's book of peers to dial, over every torrent
  PeerBookCounts peer_book;
};

// Completions the kernel could not post (CQ overflow) and submissions it
// dropped, over every io_uring in the process: nonzero means a ring was too
// small for its load, which a soak watches for.
struct RingCounters {
  uint64_t cq_overflow = 0, sq_dropped = 0;
};

std::string render_prometheus(const RunView& view, const PeerGauges& peers,
                              const SeedCounters* seed = nullptr,
                              const RingCounters* rings = nullptr);

}  // namespace swarmdial
