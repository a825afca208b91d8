#pragma once
// A shard's strict half-open budget: a fixed slab of slot indices. A SYN may be
// issued only while holding a slot; the slot comes back only when the attempt
// is final and its socket is closed or handed off. Single-threaded by design:
// only the owning shard touches it. With --half-open auto the limit moves
// below the slab's capacity; lowering it under the slots in use only stops
// new acquisitions until enough come back.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <optional>
#include <vector>

namespace swarmdial {

class HalfOpenBudget {
 public:
  explicit HalfOpenBudget(uint32_t capacity)
      : free_(capacity), held_(capacity, false), limit_(capacity) {
    // Hand out low indices first so a lightly used budget touches little memory.
    for (uint32_t i = 0; i < capacity; ++i) free_[i] = capacity - 1 - i;
  }

  std::optional<uint32_t> acquire() {
    if (free_.empty() || in_use_ >= limit_) return std::nullopt;
    uint32_t slot = free_.back();
    free_.pop_back();  // never reallocates: capacity was reserved up front
    held_[slot] = true;
    if (++in_use_ > high_water_) high_water_ = in_use_;
    return slot;
  }

  // Returns false (and changes nothing) for a slot that is not held, so a
  // double release is caught instead of silently inflating the budget.
  bool release(uint32_t slot) {
    if (slot >= held_.size() || !held_[slot]) return false;
    held_[slot] = false;
    free_.push_back(slot);
    --in_use_;
    return true;
  }

  uint32_t capacity() const { return static_cast<uint32_t>(held_.size()); }
  uint32_t in_use() const { return in_use_; }
  uint32_t available() const { return limit_ > in_use_ ? limit_ - in_use_ : 0; }
  uint32_t limit() const { return limit_; }
  // At most the capacity, at least one.
  void set_limit(uint32_t limit) { limit_ = std::clamp<uint32_t>(limit, 1, capacity()); }
  uint32_t high_water() const { return high_water_; }
  bool held(uint32_t slot) const { return slot < held_.size() && held_[slot]; }

 private:
  std::vector<uint32_t> free_;
  std::vector<bool> held_;
  uint32_t limit_;
  uint32_t in_use_ = 0;
  uint32_t high_water_ = 0;
};

}  // namespace swarmdial
