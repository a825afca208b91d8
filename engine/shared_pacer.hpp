#pragma once
// The Pacer's virtual-time token bucket (GCRA), shared by several threads
// through one atomic word. Used where a limit is global but its users are
// spread over workers (upload bytes, inbound accepts): splitting the limit
// per worker would cap a single busy connection at rate / workers. One CAS
// per 16 KiB block or per accept is far off any per-packet path.
#include <algorithm>
#include <atomic>
#include <cstdint>

namespace swarmdial {

class SharedPacer {
 public:
  SharedPacer(double rate_per_s, uint32_t burst, int64_t now_ns)
      : interval_ns_(static_cast<int64_t>(1e9 / rate_per_s)),
        window_ns_(interval_ns_ * std::max<uint32_t>(burst, 1)),
        tat_ns_(now_ns) {}

  bool try_take(int64_t now_ns) {
    int64_t tat = tat_ns_.load(std::memory_order_relaxed);
    for (;;) {
      int64_t t = std::max(tat, now_ns - window_ns_ + 1);
      if (t > now_ns) return false;
      if (tat_ns_.compare_exchange_weak(tat, t + interval_ns_, std::memory_order_relaxed))
        return true;
    }
  }

 private:
  int64_t interval_ns_;
  int64_t window_ns_;
  std::atomic<int64_t> tat_ns_;
};

}  // namespace swarmdial
