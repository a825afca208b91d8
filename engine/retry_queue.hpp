#pragma once
// Timed-out targets waiting for their backoff to pass. A fixed-capacity binary
// heap on the due time: no allocation after construction.
#include <cstdint>
#include <vector>

#include "endpoint.hpp"

namespace swarmdial {

struct PendingRetry {
  int64_t due_ns;
  Endpoint target;
  uint32_t attempts;  // attempts made so far
  uint32_t tag = 0;
};

class RetryQueue {
 public:
  explicit RetryQueue(size_t capacity) { heap_.reserve(capacity); }

  bool full() const { return heap_.size() == heap_.capacity(); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  size_t capacity() const { return heap_.capacity(); }

  bool push(const PendingRetry& r) {
    if (full()) return false;
    heap_.push_back(r);
    size_t i = heap_.size() - 1;
    while (i > 0) {
      size_t parent = (i - 1) / 2;
      if (heap_[parent].due_ns <= heap_[i].due_ns) break;
      std::swap(heap_[parent], heap_[i]);
      i = parent;
    }
    return true;
  }

  const PendingRetry& top() const { return heap_.front(); }

  PendingRetry pop() {
    PendingRetry out = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    size_t i = 0;
    for (;;) {
      size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < heap_.size() && heap_[l].due_ns < heap_[m].due_ns) m = l;
      if (r < heap_.size() && heap_[r].due_ns < heap_[m].due_ns) m = r;
      if (m == i) break;
      std::swap(heap_[m], heap_[i]);
      i = m;
    }
    return out;
  }

 private:
  std::vector<PendingRetry> heap_;
};

}  // namespace swarmdial
