#pragma once
// One seeding run: dial the given peers through the engine's shards and
// serve every flow (dialed or accepted) from the peer-wire pool until the
// stop flag, the duration or the caller's `done` says so. `seed` and `demo`
// both drive it; they differ only in what they print and write.
#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/endpoint.hpp"
#include "engine/metrics_text.hpp"
#include "engine/peerwire/metainfo.hpp"
#include "engine/redial_planner.hpp"
#include "engine/run_stats.hpp"
#include "engine/spsc_queue.hpp"
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
};

// Targets found while the run goes on (tracker peers, re-dials), routed to
// the shard that owns them. Two threads produce (the tracker announcer and
// the run loop), at most a few times a second, so the producer side takes a
// lock; the shard's side stays a lock-free SPSC pop.
class TargetFeed {
 public:
  explicit TargetFeed(std::vector<SpscQueue<Endpoint>*> queues) : queues_(std::move(queues)) {}
  // False when the owning shard's queue is full.
  bool push(const Endpoint& e) {
    std::lock_guard lock(producers_);
    return !queues_.empty() && queues_[endpoint_hash(e) % queues_.size()]->try_push(e);
  }

 private:
  std::mutex producers_;
  std::vector<SpscQueue<Endpoint>*> queues_;
};

struct SeedHooks {
  bool dynamic_targets = false;  // shards keep running for targets pushed to the feed
  std::function<void(TargetFeed&)> on_started;  // the pool is serving, the shards are running
  std::function<void()> before_stop;            // e.g. announce `stopped` while still serving
  std::function<void(SeedCounters&)> add_metrics;
  std::function<void(const SeedTick&)> every_second;
  std::function<bool(const SeedTick&)> done;     // checked every 50 ms; true ends the run
  std::function<void(const ResultRow&)> on_row;  // rows of flows that did not connect
  std::function<void(uint16_t listen_port)> on_listening;
};

struct SeedResult {
  RunView view;
  PoolTotals pool;
  RedialCounts redial;
  double duration_s = 0;
};

// stop ends the run gracefully; abort (a forced exit) skips what may take
// long: the tracker's `stopped` announces and the shards' settling.
struct RunFlags {
  std::atomic<bool>& stop;
  std::atomic<bool>& abort;
};

// Returns 0, or 1 with a one-line reason on stderr (a listener or the
// metrics endpoint could not be opened).
int run_seeding(const SeedConfig& cfg, const Metainfo& meta, const PieceStore& store,
                const PeerId& peer_id, const std::vector<Endpoint>& dial_list, RunFlags flags,
                const SeedHooks& hooks, SeedResult& result);

// "0:07 peers 12 (out 12 in 0) up 41.8 MB/s served 1.2k pieces syn 100 est 40 half-open 32/64"
std::string seed_status_line(const SeedTick& t);
std::string human_bytes(double bytes);
std::vector<std::pair<std::string, uint64_t>> disconnect_list(const PoolTotals& t);
// Re-dials and peers given up, by cause, for the summary.
nlohmann::json redial_json(const RedialCounts& r);

}  // namespace swarmdial
