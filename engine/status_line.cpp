#include "status_line.hpp"

#include <fmt/format.h>

namespace swarmdial {

std::string human_count(double n) {
  if (n < 1000) return fmt::format("{:.0f}", n);
  if (n < 1e6) return fmt::format("{:.1f}k", n / 1e3);
  if (n < 1e9) return fmt::format("{:.1f}M", n / 1e6);
  return fmt::format("{:.1f}G", n / 1e9);
}

std::string format_status_line(double elapsed_s, const RunView& now, const RunView& prev,
                               double interval_s) {
  auto per_s = [&](uint64_t a, uint64_t b) {
    return interval_s > 0 ? static_cast<double>(a - b) / interval_s : 0.0;
  };
  auto est = [](const RunView& v) { return v.outcomes[static_cast<int>(Outcome::kEstablished)]; };
  auto count = [](const RunView& v, Outcome o) { return v.outcomes[static_cast<int>(o)]; };
  int secs = static_cast<int>(elapsed_s);
  std::string line = fmt::format(
      "{}:{:02d} syn {} ({}/s) est {} ({}/s) refused {} timeout {}", secs / 60, secs % 60,
      human_count(static_cast<double>(now.syn_sent)),
      human_count(per_s(now.syn_sent, prev.syn_sent)), human_count(static_cast<double>(est(now))),
      human_count(per_s(est(now), est(prev))),
      human_count(static_cast<double>(count(now, Outcome::kRefused))),
      human_count(static_cast<double>(count(now, Outcome::kTimeout))));
  uint64_t unreachable = count(now, Outcome::kUnreachable), errors = count(now, Outcome::kError);
  if (unreachable)
    line += fmt::format(" unreach {}", human_count(static_cast<double>(unreachable)));
  if (errors) line += fmt::format(" error {}", human_count(static_cast<double>(errors)));
  line += fmt::format(" half-open {}/{}", now.half_open, now.budget);
  return line;
}

}  // namespace swarmdial
