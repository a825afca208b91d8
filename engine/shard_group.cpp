#include "shard_group.hpp"

#include <algorithm>

#include "thread_name.hpp"

namespace swarmdial {

ShardGroup::ShardGroup(ShardPlan plan, DialerFactory factory, RunFlags flags, int64_t start_ns)
    : plan_(std::move(plan)),
      flags_(flags),
      // One set of stats even with no shard, so a report always has a row.
      stats_(std::max(1u, plan_.shards)),
      errors_(plan_.shards) {
  uint32_t n = plan_.shards;
  std::vector<SpscQueue<DialTarget>*> feed_ptrs;
  for (uint32_t i = 0; i < n; ++i) {
    rows_.push_back(std::make_unique<SpscQueue<ResultRow>>(plan_.row_queue));
    if (plan_.handoff) handoffs_.push_back(std::make_unique<HandoffQueue>(plan_.handoff_queue));
    if (plan_.feeds) {
      feeds_.push_back(std::make_unique<SpscQueue<DialTarget>>(1 << 14));
      feed_ptrs.push_back(feeds_.back().get());
    }
  }
  feed_ = std::make_unique<TargetFeed>(feed_ptrs);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (uint32_t i = 0; i < n; ++i) {
    ShardConfig sc;
    sc.index = i;
    sc.shard_count = n;
    sc.half_open = plan_.half_open;
    sc.rate = plan_.rate / n;
    sc.timeout_ns = plan_.timeout_ns;
    sc.retries = plan_.retries;
    sc.backoff = Backoff{plan_.timeout_ns, plan_.timeout_ns * 64};
    sc.max_targets = plan_.max_targets;
    sc.seed = plan_.seed;
    sc.partition = plan_.partition;
    sc.stop_at_ns = plan_.stop_at_ns;
    sc.cpu = plan_.pin && n <= cores ? static_cast<int>(i % cores) : -1;
    sc.targets = plan_.targets;
    sc.exclude = plan_.exclude;
    sc.sources = plan_.sources;
    sc.feed = plan_.feeds ? feeds_[i].get() : nullptr;
    sc.forwarding_done = &forwarding_done_;
    sc.open_loop = plan_.open_loop;
    if (plan_.adaptive) {
      AdaptivePolicy ap;
      ap.min = plan_.half_open_min;
      ap.max = plan_.half_open;
      ap.max_rate = sc.rate;
      ap.timeout_ns = plan_.timeout_ns;
      sc.adaptive = ap;
    }
    shards_.push_back(std::make_unique<Shard>(sc, factory, stats_[i], *rows_[i],
                                              plan_.handoff ? handoffs_[i].get() : nullptr,
                                              flags_.stop, flags_.abort, start_ns));
  }
}

ShardGroup::~ShardGroup() {
  finish();
}

void ShardGroup::start() {
  for (uint32_t i = 0; i < shards_.size(); ++i)
    threads_.emplace_back([this, i] {
      name_this_thread("sd-shard", i);
      errors_[i] = shards_[i]->run();
    });
}

bool ShardGroup::dialing_done() const {
  for (uint32_t i = 0; i < shards_.size(); ++i)
    if (!stats_[i].done.get()) return false;
  return true;
}

std::vector<SpscQueue<ResultRow>*> ShardGroup::row_queues() const {
  std::vector<SpscQueue<ResultRow>*> out;
  for (const auto& q : rows_) out.push_back(q.get());
  return out;
}

std::vector<HandoffQueue*> ShardGroup::handoff_queues() const {
  std::vector<HandoffQueue*> out;
  for (const auto& q : handoffs_) out.push_back(q.get());
  return out;
}

std::string ShardGroup::finish() {
  forwarding_done_.store(true, std::memory_order_release);
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  for (const auto& e : errors_)
    if (!e.empty()) return e;
  return {};
}

}  // namespace swarmdial
