#pragma once
// Token bucket on SYNs per second. Time is passed in, so the pacer is exact
// and testable without a clock. Tokens are kept in nanosecond units to avoid
// drift from rounding at odd rates.
#include <algorithm>
#include <cstdint>

namespace swarmdial {

class Pacer {
 public:
  // rate_per_s == 0 means unlimited. burst is the most SYNs that may go out
  // back to back after an idle period (at least 1).
  Pacer(double rate_per_s, uint32_t burst, int64_t now_ns)
      : unlimited_(rate_per_s <= 0),
        ns_per_token_(unlimited_ ? 0 : 1e9 / rate_per_s),
        capacity_ns_(ns_per_token_ * std::max<uint32_t>(burst, 1)),
        level_ns_(ns_per_token_),  // start with one token so the first SYN leaves at once
        last_ns_(now_ns) {}

  bool try_take(int64_t now_ns) {
    if (unlimited_) return true;
    refill(now_ns);
    if (level_ns_ + 1e-3 < ns_per_token_) return false;
    level_ns_ -= ns_per_token_;
    return true;
  }

  // Nanoseconds until the next token is available (0 if one is ready).
  int64_t wait_ns(int64_t now_ns) const {
    if (unlimited_) return 0;
    double level = level_ns_;
    if (now_ns > last_ns_) level = std::min(capacity_ns_, level + static_cast<double>(now_ns - last_ns_));
    double missing = ns_per_token_ - level;
    return missing <= 0 ? 0 : static_cast<int64_t>(missing) + 1;
  }

  bool unlimited() const { return unlimited_; }

 private:
  void refill(int64_t now_ns) {
    if (now_ns > last_ns_) {
      level_ns_ = std::min(capacity_ns_, level_ns_ + static_cast<double>(now_ns - last_ns_));
      last_ns_ = now_ns;
    }
  }

  bool unlimited_;
  double ns_per_token_;
  double capacity_ns_;
  double level_ns_;
  int64_t last_ns_;
};

}  // namespace swarmdial
