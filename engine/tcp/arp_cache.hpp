#pragma once
// A shard's neighbour table: IPv4 → MAC with expiry, plus, for addresses
// still being resolved, the slots waiting on them (an intrusive list through
// the caller's slot array, so waiting costs no allocation). Fixed size,
// 4-way set associative; a full set evicts its oldest resolved entry, and
// refuses (the caller fails the attempt) when every way is still resolving.
#include <array>
#include <cstdint>
#include <vector>

#include "frame_layout.hpp"

namespace swarmdial {

inline constexpr uint32_t kNoSlot = UINT32_MAX;

struct ArpEntry {
  uint32_t ip = 0;
  bool used = false;
  bool resolved = false;
  MacAddress mac;
  int64_t stamp_ns = 0;         // resolved: when learned; resolving: first request
  int64_t next_request_ns = 0;  // resolving: when to ask again
  uint32_t requests = 0;
  uint32_t first_waiter = kNoSlot;
};

class ArpCache {
 public:
  static constexpr int64_t kLifetimeNs = 60'000'000'000;  // re-resolve after a minute
  static constexpr int64_t kRetryNs = 1'000'000'000;
  static constexpr uint32_t kMaxRequests = 3;  // then the neighbour is unreachable, as Linux

  explicit ArpCache(uint32_t min_entries);

  // The entry for ip, creating a resolving one if absent or expired;
  // nullptr when its set is full of entries still resolving.
  ArpEntry* lookup_or_insert(uint32_t ip, int64_t now);
  ArpEntry* find(uint32_t ip);
  // Records a mapping seen on the wire; returns the entry (its waiters are
  // still attached: the caller drains them), or nullptr if not cached.
  ArpEntry* learn(uint32_t ip, const MacAddress& mac, int64_t now, bool create);

  // Resolving entries (for retries and failure), visited in set order.
  template <typename F>
  void for_each_resolving(F&& f) {
    for (auto& e : entries_)
      if (e.used && !e.resolved) f(e);
  }
  uint32_t resolving_count() const { return resolving_; }
  void forget(ArpEntry& e);

 private:
  std::vector<ArpEntry> entries_;
  uint32_t set_mask_ = 0;
  uint32_t resolving_ = 0;
};

}  // namespace swarmdial
