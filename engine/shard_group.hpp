#pragma once
// The one way a run assembles its dialing shards: from a small plan it
// builds each shard's config, owns the queues between the shards and the
// rest of the run (result rows, handed-off flows, targets that arrive late),
// starts the threads, and owns the shutdown order. `dial`, `seed` and `demo`
// all go through it.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dialer.hpp"
#include "exclude_list.hpp"
#include "handoff.hpp"
#include "result_row.hpp"
#include "run_flags.hpp"
#include "run_stats.hpp"
#include "shard.hpp"
#include "shard_stats.hpp"
#include "spsc_queue.hpp"
#include "target_feed.hpp"
#include "target_set.hpp"

namespace swarmdial {

struct ShardPlan {
  uint32_t shards = 1;
  uint32_t half_open = 64;  // per shard (adaptive: the most it may grow to)
  bool adaptive = false;    // --half-open auto
  uint32_t half_open_min = 8;
  double rate = 0;  // SYN/s over all shards; 0 = unlimited
  int64_t timeout_ns = 3'000'000'000;
  uint32_t retries = 0;  // timed-out attempts retried (backoff from timeout_ns)
  uint64_t max_targets = UINT64_MAX;
  uint64_t seed = 0;       // the target permutation
  Partition partition;     // --partition K/N
  int64_t stop_at_ns = 0;  // absolute; 0 = none
  bool pin = false;        // one core per shard, while there are enough cores
  const TargetSet* targets = nullptr;
  const ExcludeList* exclude = nullptr;
  std::vector<IpAddress> sources;
  bool feeds = false;    // targets also arrive while the shards run: they run until stopped
  bool handoff = false;  // established flows go to a consumer instead of being closed
  // `ceiling`: an open-loop step measured over [from, to); stop_at_ns ends it.
  std::optional<ShardConfig::OpenLoopWindow> open_loop;
  size_t row_queue = 1 << 16;
  size_t handoff_queue = 1 << 14;
};

class ShardGroup {
 public:
  ShardGroup(ShardPlan plan, DialerFactory factory, RunFlags flags, int64_t start_ns);
  // Ends forwarding and joins, if finish() was not called.
  ~ShardGroup();
  ShardGroup(const ShardGroup&) = delete;
  ShardGroup& operator=(const ShardGroup&) = delete;

  void start();
  uint32_t size() const { return static_cast<uint32_t>(shards_.size()); }
  // Every shard has stopped dialing (its targets are done, or it was stopped).
  bool dialing_done() const;
  RunView snapshot() const { return snapshot_run(stats_); }
  const std::vector<ShardStats>& stats() const { return stats_; }

  std::vector<SpscQueue<ResultRow>*> row_queues() const;
  std::vector<HandoffQueue*> handoff_queues() const;  // empty without plan.handoff
  size_t handoff_queue_capacity() const { return plan_.handoff_queue; }
  TargetFeed& feed() { return *feed_; }  // pushes nowhere without plan.feeds

  // The shutdown order. Call once every consumer of handed-off flows is
  // done with them: a dpdk shard forwards those flows' packets until now.
  // Joins the shards; returns the first shard's error, if any.
  std::string finish();

 private:
  ShardPlan plan_;
  RunFlags flags_;
  std::vector<ShardStats> stats_;
  std::vector<std::unique_ptr<SpscQueue<ResultRow>>> rows_;
  std::vector<std::unique_ptr<HandoffQueue>> handoffs_;
  std::vector<std::unique_ptr<SpscQueue<DialTarget>>> feeds_;
  std::unique_ptr<TargetFeed> feed_;
  std::atomic<bool> forwarding_done_{false};
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::string> errors_;
  std::vector<std::thread> threads_;
};

}  // namespace swarmdial
