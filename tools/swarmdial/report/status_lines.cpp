#include "status_lines.hpp"

#include <fmt/format.h>

#include "engine/adaptive_budget.hpp"

namespace swarmdial {

namespace {
uint64_t outcome(const RunView& v, Outcome o) {
  return v.outcomes[static_cast<int>(o)];
}
std::string clock(double t_s) {
  int secs = static_cast<int>(t_s);
  return fmt::format("{}:{:02d}", secs / 60, secs % 60);
}
std::string count(uint64_t n) {
  return human_count(static_cast<double>(n));
}
// --half-open auto: " auto 1.2k/s (loss)", the rate in force and why the
// budget last changed (shard 0's reason).
std::string adaptive_suffix(const RunView& v) {
  if (v.shards.empty() || v.shards[0].budget_reason == 0) return {};
  return fmt::format(" auto {}/s ({})", human_count(static_cast<double>(v.syn_rate)),
                     budget_reason_name(static_cast<BudgetReason>(v.shards[0].budget_reason - 1)));
}
}  // namespace

std::string format_status_line(double elapsed_s, const RunView& now, const RunView& prev,
                               double interval_s) {
  auto per_s = [&](uint64_t a, uint64_t b) {
    return interval_s > 0 ? static_cast<double>(a - b) / interval_s : 0.0;
  };
  uint64_t est = outcome(now, Outcome::kEstablished);
  std::string line =
      fmt::format("{} syn {} ({}/s) est {} ({}/s) refused {} timeout {}", clock(elapsed_s),
                  count(now.syn_sent), human_count(per_s(now.syn_sent, prev.syn_sent)), count(est),
                  human_count(per_s(est, outcome(prev, Outcome::kEstablished))),
                  count(outcome(now, Outcome::kRefused)), count(outcome(now, Outcome::kTimeout)));
  uint64_t unreachable = outcome(now, Outcome::kUnreachable);
  uint64_t errors = outcome(now, Outcome::kError);
  if (unreachable) line += fmt::format(" unreach {}", count(unreachable));
  if (errors) line += fmt::format(" error {}", count(errors));
  line += fmt::format(" half-open {}/{}", now.half_open, now.budget);
  return line + adaptive_suffix(now);
}

std::string seed_status_line(const SeedTick& t) {
  std::string line = fmt::format(
      "{} peers {} (out {} in {}) up {}/s served {} pieces syn {} est {} refused {} timeout {} "
      "half-open {}/{}",
      clock(t.t_s), t.pool.peers_outbound + t.pool.peers_inbound, t.pool.peers_outbound,
      t.pool.peers_inbound, human_bytes(t.up_rate), count(t.pool.pieces_served),
      count(t.view.syn_sent), count(outcome(t.view, Outcome::kEstablished)),
      count(outcome(t.view, Outcome::kRefused)), count(outcome(t.view, Outcome::kTimeout)),
      t.view.half_open, t.view.budget);
  line += adaptive_suffix(t.view);
  if (t.redial.redials_total() || t.redial.given_up_total())
    line += fmt::format(" redials {} given up {}", count(t.redial.redials_total()),
                        count(t.redial.given_up_total()));
  // The book of peers to dial, when there is one: its size and where they are.
  if (uint64_t known = t.peer_book.total()) {
    auto in = [&](PeerBookState s) { return count(t.peer_book.by_state[static_cast<size_t>(s)]); };
    line += fmt::format(" book {} (queued {} conn {} backoff {} gone {})", count(known),
                        in(PeerBookState::kQueued), in(PeerBookState::kConnected),
                        in(PeerBookState::kBackoff), in(PeerBookState::kGivenUp));
  }
  return line;
}

uint64_t load_error_total(const LoadCounters& c) {
  uint64_t n = 0;
  for (const auto& e : c.errors) n += e.get();
  return n;
}

std::string tracker_load_status_line(const LoadCounters& c, double t_s, double rate_now,
                                     double target) {
  auto lat = c.latency.snapshot();
  return fmt::format(
      "{} sent {} ok {} errors {} (timeout {}) rate {}/s of {}/s p50 {} us p99 {} us", clock(t_s),
      count(c.sent.get()), count(c.ok.get()), count(load_error_total(c)),
      count(c.errors[static_cast<size_t>(LoadError::kTimeout)].get()), human_count(rate_now),
      human_count(target), lat.percentile_us(0.5), lat.percentile_us(0.99));
}

}  // namespace swarmdial
