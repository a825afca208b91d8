#pragma once
// One seeding run: dial the given peers through the engine's shards and
// serve every flow (dialed or accepted) from the peer-wire pool until the
// stop flag, the duration or the caller's `done` says so. `seed` and `demo`
// both drive it; they differ only in what they print and write.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/dial_scheduler.hpp"
#include "engine/dial_target.hpp"
#include "engine/endpoint.hpp"
#include "engine/metrics_text.hpp"
#include "engine/peer_book.hpp"
#include "engine/peerwire/metainfo.hpp"
#include "engine/redial_planner.hpp"
#include "engine/run_flags.hpp"
#include "engine/run_stats.hpp"
#include "engine/spsc_queue.hpp"
#include "engine/target_feed.hpp"
#include "tools/swarmdial/listen_counters.hpp"
#include "tools/swarmdial/options/seed_config.hpp"
#include "uring/peers/peer_pool.hpp"
#include "uring/peers/piece_store.hpp"

namespace swarmdial {

struct SeedTick {
  double t_s = 0;       // since the start of the run
  double up_rate = 0;   // bytes/s since the previous tick
  double est_rate = 0;  // established/s since the previous tick
  RunView view;
  PoolTotals pool;
  RedialCounts redial;
  PeerBookCounts peer_book;  // over every torrent
};

// Peers heard of while the run goes (a tracker's reply), from any thread;
// the run loop takes them every 10 ms into its peer book, which decides
// whether each is news to dial. A mutex: it is per tracker reply, not per
// packet.
class PeerInbox {
 public:
  void push(const DialTarget& d) {
    std::lock_guard lock(mu_);
    peers_.push_back(d);
  }
  std::vector<DialTarget> take() {
    std::lock_guard lock(mu_);
    return std::exchange(peers_, {});
  }

 private:
  std::mutex mu_;
  std::vector<DialTarget> peers_;
};

class TorrentSlots;

struct SeedHooks {
  bool dynamic_targets = false;  // shards keep running for targets pushed to the feed
  // The pool is serving, the shards are running; peers found later (a
  // tracker's) are added to the scheduler.
  std::function<void(PeerInbox&)> on_started;
  // Before the pool and the shards stop, e.g. announce `stopped` while still
  // serving; forced (a forced exit): end what uses the run at once, no goodbyes.
  std::function<void(bool forced)> before_stop;
  std::function<void(SeedCounters&)> add_metrics;
  std::function<void(const SeedTick&)> every_second;
  std::function<bool(const SeedTick&)> done;     // checked every 10 ms; true ends the run
  std::function<void(const ResultRow&)> on_row;  // rows of flows that did not connect
  std::function<void(uint16_t listen_port)> on_listening;
  // Once a second on the file watcher's thread, after it looked at the data
  // files: e.g. add and remove torrents (it may take its time; hashing a
  // new torrent's data stalls only the file checks).
  std::function<void(TorrentSlots&)> on_files_look;
};

// One torrent of a run: what it is, and its store (verified).
struct SeedTorrent {
  const Metainfo* meta = nullptr;
  PieceStore* store = nullptr;
};

// A torrent's figures when it stopped being seeded.
struct RemovedTorrent {
  TorrentTotals totals;
  PeerBookCounts peer_book;
};

// Torrents added to and removed from a running seed (--torrents-dir). Asked
// from any thread; the run loop carries each request out on its next tick.
// A torrent has a slot (the tag of its dials) for as long as it is seeded,
// and a slot freed is not given out again for a while: a dial of the
// torrent that had it may still be on its way.
class TorrentSlots {
 public:
  TorrentSlots(uint32_t slots, const std::vector<SeedTorrent>& first, int64_t quarantine_ns);

  // A slot for a new torrent, or none (all in use, or freed too recently).
  std::optional<uint32_t> reserve(int64_t now_ns);
  // A slot reserved and not used after all.
  void unreserve(uint32_t slot);
  // Seeds the torrent in a reserved slot from the next tick on, and dials
  // these peers for it.
  void add(uint32_t slot, SeedTorrent t, std::vector<DialTarget> dials,
           std::vector<PeerSource> sources);
  // Stops seeding it: its waiting dials are dropped, its peers closed. Waits
  // until no worker holds its store, and returns its final figures; none
  // when the run ended first (its figures are then the run's).
  std::optional<RemovedTorrent> remove(uint32_t slot);
  // The removed torrent is all gone (its store too, its `stopped` sent).
  void release(uint32_t slot, int64_t now_ns);
  // The stores seeded now, for the file watcher (the thread that removes
  // torrents, so a store it gets here stays while it looks).
  std::vector<PieceStore*> stores() const;
  uint32_t size() const { return static_cast<uint32_t>(state_.size()); }
  uint32_t seeded() const;

 private:
  friend class SlotKeeper;
  enum class State : uint8_t { kFree, kReserved, kSeeded, kRemoving, kRemoved };
  struct Request {
    bool add = false;
    uint32_t slot = 0;
    SeedTorrent torrent;
    std::vector<DialTarget> dials;
    std::vector<PeerSource> sources;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t quarantine_ns_;
  std::vector<State> state_;
  std::vector<int64_t> freed_at_;
  std::vector<PieceStore*> stores_;
  std::vector<Request> requests_;
  std::vector<std::optional<RemovedTorrent>> removed_;  // by slot, for remove()'s caller
  bool ended_ = false;
};

struct SeedResult {
  RunView view;
  PoolTotals pool;
  std::vector<TorrentTotals> torrents;  // by slot
  RedialCounts redial;
  std::vector<PeerBookCounts> peer_book;  // by slot
  double duration_s = 0;
  uint64_t files_changed = 0;    // data files that changed on disk while seeding
  uint32_t pieces_withheld = 0;  // at the end: changed and not verified again
  // Turned away by the kernel at the listener over the run (the namespace's
  // counters; absent when /proc/net/netstat could not be read).
  std::optional<ListenCounters> kernel_listen;
  uint64_t dials_waiting = 0, dials_dropped = 0;  // the dial scheduler's, at the end
};

// Returns 0, or 1 with a one-line reason on stderr (a listener or the
// metrics endpoint could not be opened).
// torrents: in slots 0..n-1; cfg.max_torrents slots in all (at least n).
// dial_list: peers to dial, each for the torrent its tag names (an index
// into torrents).
// dial_sources: where each of dial_list came from (none: all from flags).
int run_seeding(const SeedConfig& cfg, const std::vector<SeedTorrent>& torrents,
                const PeerId& peer_id, const std::vector<DialTarget>& dial_list, RunFlags flags,
                const SeedHooks& hooks, SeedResult& result,
                const std::vector<PeerSource>* dial_sources = nullptr);

}  // namespace swarmdial
