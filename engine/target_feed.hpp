#pragma once
// Targets found while a run goes on (tracker peers, re-dials), routed to the
// shard that owns them, as the static target list is (hash of the address).
// Two threads produce (the tracker announcer and the run loop), a few times a
// second, so the producer side takes a lock; the shard's side stays a
// lock-free SPSC pop.
#include <mutex>
#include <vector>

#include "dial_target.hpp"
#include "spsc_queue.hpp"

namespace swarmdial {

class TargetFeed {
 public:
  explicit TargetFeed(std::vector<SpscQueue<DialTarget>*> queues) : queues_(std::move(queues)) {}
  // False when the owning shard's queue is full, or there are no shards.
  // A shard is chosen by the address alone, as the static list's are.
  bool push(const Endpoint& e, uint32_t tag = 0) {
    std::lock_guard lock(producers_);
    return !queues_.empty() && queues_[endpoint_hash(e) % queues_.size()]->try_push({e, tag});
  }

  // The same, unless the owning shard already has max_queued waiting: a
  // short queue stays a fair mix of what a scheduler in front of it chose.
  bool push_if_room(const Endpoint& e, uint32_t tag, size_t max_queued) {
    std::lock_guard lock(producers_);
    if (queues_.empty()) return false;
    SpscQueue<DialTarget>* q = queues_[endpoint_hash(e) % queues_.size()];
    return q->size_from_producer() < max_queued && q->try_push({e, tag});
  }

 private:
  std::mutex producers_;
  std::vector<SpscQueue<DialTarget>*> queues_;
};

}  // namespace swarmdial
