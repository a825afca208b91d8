#pragma once
// Delay before retry n (n >= 1) of a timed-out attempt: base * 2^(n-1),
// capped, with up to +/- 25% jitter so retries of one burst don't re-synchronise.
#include <algorithm>
#include <cstdint>

namespace swarmdial {

struct Backoff {
  int64_t base_ns;
  int64_t cap_ns;

  int64_t delay_ns(uint32_t retry, uint64_t jitter_seed) const {
    uint32_t shift = std::min<uint32_t>(retry == 0 ? 0 : retry - 1, 30);
    int64_t d = base_ns > (cap_ns >> shift) ? cap_ns : std::min(cap_ns, base_ns << shift);
    // jitter in [-d/4, +d/4], from a cheap hash of the seed
    uint64_t h = (jitter_seed + retry) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    int64_t quarter = d / 4;
    if (quarter > 0)
      d += static_cast<int64_t>(h % static_cast<uint64_t>(2 * quarter + 1)) - quarter;
    return d;
  }
};

}  // namespace swarmdial
