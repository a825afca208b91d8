#pragma once
// SYN/s pacing as a virtual-time token bucket (GCRA): each grant advances a
// theoretical arrival time by exactly one interval, so a caller that polls
// late still gets the exact long-run rate, while after an idle period at most
// `burst` SYNs go out back to back. Time is passed in: exact and testable.
#include <algorithm>
#include <cstdint>

namespace swarmdial {

class Pacer {
 public:
  // rate_per_s == 0 means unlimited. burst >= 1.
  Pacer(double rate_per_s, uint32_t burst, int64_t now_ns)
      : unlimited_(rate_per_s <= 0),
        interval_ns_(unlimited_ ? 0 : 1e9 / rate_per_s),
        window_ns_(interval_ns_ * std::max<uint32_t>(burst, 1)),
        tat_ns_(static_cast<double>(now_ns)) {}

  bool try_take(int64_t now_ns) {
    if (unlimited_) return true;
    double now = static_cast<double>(now_ns);
    // Lateness under one burst window is carried over (exact rate); an
    // earlier arrival time means idleness, which buys at most `burst` grants.
    tat_ns_ = std::max(tat_ns_, now - window_ns_ + 1);
    if (tat_ns_ > now) return false;
    tat_ns_ += interval_ns_;
    return true;
  }

  // Nanoseconds until try_take() can succeed (0 if it can now).
  int64_t wait_ns(int64_t now_ns) const {
    if (unlimited_) return 0;
    double now = static_cast<double>(now_ns);
    double tat = std::max(tat_ns_, now - window_ns_ + 1);
    return tat <= now ? 0 : static_cast<int64_t>(tat - now) + 1;
  }

  bool unlimited() const { return unlimited_; }

  // The time the next grant is scheduled for. With an unbounded burst the
  // pacer never forgives lateness, so this is the open-loop timetable.
  int64_t due_ns() const { return static_cast<int64_t>(tat_ns_); }

  // A new rate from now on (--half-open auto); 0 = unlimited. The burst is
  // a millisecond's worth of SYNs, at least one.
  void set_rate(double rate_per_s) {
    unlimited_ = rate_per_s <= 0;
    interval_ns_ = unlimited_ ? 0 : 1e9 / rate_per_s;
    window_ns_ = interval_ns_ * std::max(1.0, rate_per_s / 1000.0);
  }

 private:
  bool unlimited_;
  double interval_ns_;
  double window_ns_;
  double tat_ns_;
};

}  // namespace swarmdial
