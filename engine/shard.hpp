#pragma once
// One dialing shard: a pinned thread that owns its budget, pacer, retry queue,
// dialer and stats, and talks to the rest only through SPSC rings.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "adaptive_budget.hpp"
#include "backoff.hpp"
#include "dial_target.hpp"
#include "dialer.hpp"
#include "handoff.hpp"
#include "result_row.hpp"
#include "shard_stats.hpp"
#include "spsc_queue.hpp"
#include "target_set.hpp"

namespace swarmdial {

struct ShardConfig {
  uint32_t index = 0;
  uint32_t shard_count = 1;
  uint32_t half_open = 1;  // the shard's half-open budget: slots in flight at most
  // --half-open auto: the budget and rate adapt between adaptive->min and
  // half_open (which sizes the slab); rate is then their cap.
  std::optional<AdaptivePolicy> adaptive;
  double rate = 0;  // SYN/s for this shard; 0 = unlimited
  int64_t timeout_ns = 0;
  uint32_t retries = 0;
  Backoff backoff{};
  uint64_t max_targets = UINT64_MAX;
  uint64_t seed = 0;
  Partition partition;     // --partition K/N: this node's slice of the seeded order
  int64_t stop_at_ns = 0;  // absolute monotonic time to stop new SYNs; 0 = none
  int cpu = -1;            // core to pin to, -1 = don't pin
  const TargetSet* targets = nullptr;
  const ExcludeList* exclude = nullptr;
  std::vector<IpAddress> sources;  // round-robin source pool; empty = kernel's choice
  // Targets that arrive while the shard runs (tracker peers). With a feed,
  // the shard runs until stopped instead of ending when its list is done.
  SpscQueue<DialTarget>* feed = nullptr;
  // `ceiling`: an open-loop step. SYNs leave on the rate's timetable
  // whatever comes back (a late generator catches up instead of skipping),
  // the targets are dialled round and round, and attempts scheduled in
  // [from, to) are counted into the stats' step_* fields.
  struct OpenLoopWindow {
    int64_t measure_from_ns = 0, measure_to_ns = 0;
  };
  std::optional<OpenLoopWindow> open_loop;
  // A dialer that forwards packets for handed-off flows (dpdk's exception
  // path) keeps its loop running after dialing ends, until this is set.
  const std::atomic<bool>* forwarding_done = nullptr;
};

class Shard {
 public:
  Shard(ShardConfig config, DialerFactory factory, ShardStats& stats, SpscQueue<ResultRow>& rows,
        HandoffQueue* handoff, const std::atomic<bool>& stop, const std::atomic<bool>& abort,
        int64_t run_start_ns);

  ~Shard();

  // Runs to completion on the calling thread. Returns an error text if the
  // dialer could not be created, else empty.
  std::string run();

 private:
  struct Attempt {
    Endpoint target;
    uint32_t attempts;
    int64_t started_ns;
    uint32_t tag = 0;
    int64_t scheduled_ns = 0;  // open loop: its place on the timetable
    bool measured = false;     // open loop: scheduled inside the measured window
  };

  void launch(int64_t now);
  void complete(const DialCompletion& c, int64_t now, bool stopping);
  void publish_wire_counts();
  void linger_forwarding(std::span<DialCompletion> scratch);
  void finish_pending_retries(int64_t now);
  void emit(const ResultRow& row);
  void hand_off(const Handoff& h);
  int64_t idle_wait_ns(int64_t now) const;
  void adapt(int64_t now);
  void record_step(const Attempt& a, Outcome outcome, int64_t rtt_ns, int64_t now);

  struct Runtime;
  std::unique_ptr<Runtime> rt_;

  ShardConfig cfg_;
  DialerFactory factory_;
  ShardStats& stats_;
  SpscQueue<ResultRow>& rows_;
  HandoffQueue* handoff_;
  const std::atomic<bool>& stop_;
  const std::atomic<bool>& abort_;
  int64_t run_start_ns_;
};

}  // namespace swarmdial
