#pragma once
// A counter with exactly one writer thread (its shard) and any number of
// readers (status line, metrics, summary). The writer does a plain load+store,
// not a locked read-modify-write, so counting costs no more than a normal
// increment while readers still see torn-free values.
#include <atomic>
#include <cstdint>

namespace swarmdial {

class RelaxedCounter {
 public:
  void add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

}  // namespace swarmdial
