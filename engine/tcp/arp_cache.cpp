#include "arp_cache.hpp"

#include <bit>

namespace swarmdial {
namespace {
constexpr uint32_t kWays = 4;

uint32_t set_of(uint32_t ip, uint32_t mask) {
  // Neighbouring addresses must not all land in one set.
  return (ip * 0x9e3779b1u >> 7) & mask;
}
}  // namespace

ArpCache::ArpCache(uint32_t min_entries) {
  uint32_t sets = std::bit_ceil(std::max<uint32_t>(16, (min_entries + kWays - 1) / kWays));
  entries_.resize(size_t{sets} * kWays);
  set_mask_ = sets - 1;
}

ArpEntry* ArpCache::find(uint32_t ip) {
  ArpEntry* set = &entries_[size_t{set_of(ip, set_mask_)} * kWays];
  for (uint32_t w = 0; w < kWays; ++w)
    if (set[w].used && set[w].ip == ip) return &set[w];
  return nullptr;
}

void ArpCache::forget(ArpEntry& e) {
  if (e.used && !e.resolved) --resolving_;
  e = ArpEntry{};
}

ArpEntry* ArpCache::lookup_or_insert(uint32_t ip, int64_t now) {
  ArpEntry* set = &entries_[size_t{set_of(ip, set_mask_)} * kWays];
  ArpEntry* victim = nullptr;
  for (uint32_t w = 0; w < kWays; ++w) {
    ArpEntry& e = set[w];
    if (e.used && e.ip == ip) {
      if (e.resolved && now - e.stamp_ns > kLifetimeNs) {
        victim = &e;  // stale: resolve again in place
        break;
      }
      return &e;
    }
    if (!e.used) {
      if (!victim || victim->used) victim = &e;
    } else if (e.resolved && (!victim || (victim->used && e.stamp_ns < victim->stamp_ns))) {
      victim = &e;
    }
  }
  if (!victim) return nullptr;
  forget(*victim);
  victim->used = true;
  victim->ip = ip;
  victim->stamp_ns = now;
  victim->next_request_ns = now;  // ask at once
  ++resolving_;
  return victim;
}

ArpEntry* ArpCache::learn(uint32_t ip, const MacAddress& mac, int64_t now, bool create) {
  ArpEntry* e = create ? lookup_or_insert(ip, now) : find(ip);
  if (!e) return nullptr;
  if (!e->resolved) --resolving_;
  e->resolved = true;
  e->mac = mac;
  e->stamp_ns = now;
  e->requests = 0;
  return e;
}

}  // namespace swarmdial
