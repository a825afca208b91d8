#pragma once
// `tracker-load --reannounce interval`: when each peer of the synthetic
// swarm announces, timed as a real client times it. Sans-I/O: times and
// answers in, the next announce out.
//
// Peers join at the join rate (membership i's `started` is due at
// start + i / rate); after that each one announces again the tracker's
// interval after its last answer (scaled by --interval-scale, so a test or
// a compressed run need not wait 30 minutes), and after a failure (no
// answer, an error) it retries sooner with a doubling back-off, as
// libtorrent does. So the load is what the swarm's size and the tracker's
// own interval make it, not a rate someone picked; the latency of each
// announce still runs from the time it was due.
//
// Announce a is membership a % members in round a / members (the numbering
// LoadPlan::request takes). Everything is preallocated: one heap entry and
// one back-off byte per membership.
#include <cstdint>
#include <optional>
#include <vector>

namespace swarmdial {

class ReannounceSchedule {
 public:
  static constexpr uint64_t kMaxMembers = 4'000'000;  // 68 MB of state at most
  static constexpr int64_t kFirstRetryNs = 15'000'000'000;
  static constexpr int64_t kDefaultIntervalNs = 1800'000'000'000;  // the tracker never said

  struct Due {
    uint64_t announce;
    int64_t due_ns;
  };

  // members: the swarm (this partition's part of it); join_rate: started
  // announces a second; scale: tracker intervals and back-offs are
  // multiplied by it.
  ReannounceSchedule(uint64_t members, double join_rate, int64_t start_ns, double scale);

  // The earliest announce due by `now`, taken off the schedule; nullopt when
  // none is.
  std::optional<Due> next(int64_t now_ns);
  // When the next announce is due (INT64_MAX: none pending).
  int64_t next_due_ns() const;
  // Announce `a` was answered with the tracker's interval (seconds; <= 0:
  // none given) or failed; its membership's next announce is scheduled.
  void answered(uint64_t a, int64_t interval_s, int64_t now_ns);
  void failed(uint64_t a, int64_t now_ns);

  uint64_t joined() const { return joined_; }            // started announces issued
  uint64_t reannounces() const { return reannounces_; }  // later ones issued, retries included
  uint64_t retries() const { return retries_; }          // failures scheduled again

 private:
  struct Entry {
    int64_t due_ns;
    uint64_t announce;
    bool operator>(const Entry& o) const { return due_ns > o.due_ns; }
  };
  int64_t join_due(uint64_t i) const;
  void push(uint64_t announce, int64_t due_ns);

  uint64_t members_;
  double join_rate_;
  int64_t start_ns_;
  double scale_;
  uint64_t joined_ = 0, reannounces_ = 0, retries_ = 0;
  int64_t last_interval_ns_ = kDefaultIntervalNs;  // the tracker's, for retries' cap
  std::vector<Entry> heap_;       // min-heap by due time, reserved for every membership
  std::vector<uint8_t> backoff_;  // failures in a row, per membership
};

}  // namespace swarmdial
