#include "load_pending.hpp"

#include <algorithm>

namespace swarmdial {

PendingTable::PendingTable(size_t capacity, LoadCounters& counters)
    : counters_(counters), pend_(std::min<size_t>(capacity, kSlotMask + 1)) {
  free_.reserve(pend_.size());
  for (size_t i = pend_.size(); i-- > 0;) free_.push_back(static_cast<uint32_t>(i));
}

std::optional<uint32_t> PendingTable::open(uint64_t k, int64_t due) {
  if (free_.empty()) {
    error(LoadError::kOverload);
    return std::nullopt;
  }
  uint32_t slot = free_.back();
  free_.pop_back();
  PendingRequest& p = pend_[slot];
  p.due = due;
  p.k = k;
  p.gen = (p.gen + 1) & ((1u << (32 - kSlotBits)) - 1);
  p.used = true;
  p.resent = false;
  p.http_channel = -1;
  ++inflight_;
  fifo_.emplace_back(slot, p.gen);
  return slot;
}

void PendingTable::finish(uint32_t slot, uint32_t gen, std::optional<LoadError> err, int64_t now) {
  PendingRequest& p = pend_[slot];
  if (!p.used || p.gen != gen) {
    counters_.stray_replies.add();
    return;
  }
  if (err) {
    error(*err);
  } else {
    counters_.ok.add();
    counters_.latency.record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.due) / 1000));
  }
  // The run lasts until the last answer; waiting out timeouts is not load.
  if (err != LoadError::kTimeout) last_done_ = now;
  p.used = false;
  p.http_channel = -1;
  free_.push_back(slot);
  --inflight_;
}

}  // namespace swarmdial
