#include "reannounce_schedule.hpp"

#include <algorithm>
#include <climits>
#include <functional>

namespace swarmdial {

ReannounceSchedule::ReannounceSchedule(uint64_t members, double join_rate, int64_t start_ns,
                                       double scale)
    : members_(std::min(members, kMaxMembers)),
      join_rate_(join_rate),
      start_ns_(start_ns),
      scale_(scale),
      backoff_(members_) {
  heap_.reserve(members_);
}

int64_t ReannounceSchedule::join_due(uint64_t i) const {
  return start_ns_ + static_cast<int64_t>(static_cast<double>(i) * 1e9 / join_rate_);
}

void ReannounceSchedule::push(uint64_t announce, int64_t due_ns) {
  heap_.push_back({due_ns, announce});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
}

int64_t ReannounceSchedule::next_due_ns() const {
  int64_t join = joined_ < members_ ? join_due(joined_) : INT64_MAX;
  return heap_.empty() ? join : std::min(join, heap_.front().due_ns);
}

std::optional<ReannounceSchedule::Due> ReannounceSchedule::next(int64_t now_ns) {
  int64_t join = joined_ < members_ ? join_due(joined_) : INT64_MAX;
  bool heap_first = !heap_.empty() && heap_.front().due_ns <= join;
  if (heap_first) {
    if (heap_.front().due_ns > now_ns) return std::nullopt;
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    Entry e = heap_.back();
    heap_.pop_back();
    ++reannounces_;
    return Due{e.announce, e.due_ns};
  }
  if (join > now_ns) return std::nullopt;
  return Due{joined_++, join};
}

void ReannounceSchedule::answered(uint64_t a, int64_t interval_s, int64_t now_ns) {
  uint64_t i = a % members_;
  backoff_[i] = 0;
  if (interval_s > 0) last_interval_ns_ = interval_s * 1'000'000'000;
  int64_t wait = interval_s > 0 ? interval_s * 1'000'000'000 : last_interval_ns_;
  push(a + members_, now_ns + static_cast<int64_t>(static_cast<double>(wait) * scale_));
}

void ReannounceSchedule::failed(uint64_t a, int64_t now_ns) {
  uint64_t i = a % members_;
  // 15 s, 30 s, 60 s, ... never past the tracker's interval: the retry of
  // the same announce (same round, same event).
  int64_t wait = std::min(kFirstRetryNs << std::min<uint8_t>(backoff_[i], 10), last_interval_ns_);
  if (backoff_[i] < UINT8_MAX) ++backoff_[i];
  ++retries_;
  push(a, now_ns + static_cast<int64_t>(static_cast<double>(wait) * scale_));
}

}  // namespace swarmdial
