#pragma once
// Bounded single-producer single-consumer ring. The only way shards talk to
// other threads: no locks, no allocation after construction. Indices are
// cached on each side to keep the shared cache lines quiet.
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace swarmdial {

template <typename T>
class SpscQueue {
 public:
  explicit SpscQueue(size_t capacity_pow2_at_least)
      : mask_(round_up(capacity_pow2_at_least) - 1), slots_(new T[mask_ + 1]) {}

  size_t capacity() const { return mask_ + 1; }

  bool try_push(const T& value) {
    size_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_cache_ > mask_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head - tail_cache_ > mask_) return false;
    }
    slots_[head & mask_] = value;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  std::optional<T> try_pop() {
    size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail == head_cache_) return std::nullopt;
    }
    T value = slots_[tail & mask_];
    tail_.store(tail + 1, std::memory_order_release);
    return value;
  }

  // Entries queued, as the producer sees it (the consumer may have taken more).
  size_t size_from_producer() const {
    return head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_acquire);
  }

  bool empty() const {
    return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
  }

 private:
  static size_t round_up(size_t n) {
    size_t c = 2;
    while (c < n) c <<= 1;
    return c;
  }

  const size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(64) std::atomic<size_t> head_{0};
  size_t tail_cache_ = 0;  // producer's view of tail
  alignas(64) std::atomic<size_t> tail_{0};
  size_t head_cache_ = 0;  // consumer's view of head
};

}  // namespace swarmdial
