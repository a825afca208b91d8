#pragma once
// Admission for announces when one node runs thousands of torrents against
// the same few trackers: at most `per_tracker` announces in flight to one
// tracker and `total` over all of them, the rest wait in arrival order. An
// announce that starts well after the time its schedule asked for counts as
// late, which is what an operator watches to know the caps are too tight.
// Sans-I/O: the caller owns the clock and wakes the announces admit() names.
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace swarmdial {

struct AnnounceLimits {
  uint32_t per_tracker = 8;
  uint32_t total = 64;
  int64_t late_after_ns = 5'000'000'000;  // started this long after it was due
};

class AnnounceGate {
 public:
  using Ticket = uint64_t;

  explicit AnnounceGate(AnnounceLimits limits) : limits_(limits) {}

  // An announce to `tracker` that its schedule wanted at `due_ns`. It waits
  // until admit() names it.
  Ticket enqueue(const std::string& tracker, int64_t due_ns);
  // The waiting announces that may start now, oldest first; each counts as
  // in flight until finish().
  std::vector<Ticket> admit(int64_t now_ns);
  void finish(Ticket t);
  // A waiting announce that gave up (its deadline passed, or shutdown).
  void cancel(Ticket t);
  bool admitted(Ticket t) const;

  uint64_t queued() const { return queued_; }
  uint64_t in_flight() const { return in_flight_total_; }
  uint64_t started() const { return started_; }
  uint64_t late() const { return late_; }
  uint64_t in_flight_to(const std::string& tracker) const;

 private:
  struct Waiter {
    Ticket ticket;  // tickets grow, so the smallest head is the oldest waiter
    int64_t due_ns;
  };
  struct Tracker {
    std::deque<Waiter> waiting;
    uint32_t in_flight = 0;
  };
  AnnounceLimits limits_;
  Ticket next_ = 1;
  // Trackers are few (tens) and waiters many (thousands at a node's start):
  // a queue per tracker keeps admit() at one pass over the trackers.
  std::unordered_map<std::string, Tracker> trackers_;
  std::unordered_map<Ticket, std::string> running_;  // ticket -> its tracker
  std::unordered_set<Ticket> waiting_;               // queued and not cancelled
  void skip_cancelled(Tracker& tr);
  uint64_t queued_ = 0, in_flight_total_ = 0, started_ = 0, late_ = 0;
};

}  // namespace swarmdial
