#pragma once
// The tracker load generator's table of requests in flight, shared by its
// UDP and HTTP channels: one slot per request, reused under a new generation
// so a late reply to an old request is told apart (the UDP transaction id
// is generation << 22 | slot), and a FIFO in due order for timeouts.
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "engine/tracker/load_plan.hpp"
#include "engine/tracker/load_reply_check.hpp"
#include "engine/tracker/reannounce_schedule.hpp"
#include "tracker_load_driver.hpp"

namespace swarmdial {

struct PendingRequest {
  int64_t due = 0;  // the scheduled send time: latency runs from here
  uint64_t k = 0;   // the request's index in the load plan
  uint32_t gen = 0;
  LoadKind kind = LoadKind::kAnnounce;
  bool ipv6 = false;          // from an IPv6 peer, over IPv6
  uint8_t hashes = 0;         // a scrape's info-hashes: its reply must have as many entries
  int32_t http_channel = -1;  // the connection carrying it, -1 while queued or UDP
  bool used = false;
  bool resent = false;  // already re-sent once after a kept-alive connection closed under it
};

class PendingTable {
 public:
  static constexpr uint32_t kSlotBits = 22;
  static constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;

  // numwant: what announces ask for, to tell a reply that withholds peers.
  PendingTable(size_t capacity, LoadCounters& counters, int32_t numwant = 0);

  // A slot for request k due at `due`; nullopt (counted as overload) when full.
  std::optional<uint32_t> open(uint64_t k, int64_t due, LoadKind kind, bool ipv6 = false);
  PendingRequest& at(uint32_t slot) { return pend_[slot]; }
  bool valid_slot(uint32_t slot) const { return slot < pend_.size(); }
  bool live(uint32_t slot, uint32_t gen) const {
    return pend_[slot].used && pend_[slot].gen == gen;
  }
  // A reply (or a failure) for the request in `slot` of generation `gen`; a
  // reply to a request that is no longer there is counted as stray.
  void finish(uint32_t slot, uint32_t gen, std::optional<LoadError> err, int64_t now);
  // The same, from what the reply check found (and its announce facts counted).
  void finish(uint32_t slot, uint32_t gen, const ReplyFacts& facts, int64_t now);
  // A request left: counted as sent, its send lag recorded.
  void sent(uint32_t slot, int64_t now);
  // Times out what is older than timeout_ns; on_timeout(http_channel, ipv6) for each.
  template <class OnTimeout>
  void expire(int64_t now, int64_t timeout_ns, OnTimeout&& on_timeout) {
    while (!fifo_.empty()) {
      auto [slot, gen] = fifo_.front();
      if (live(slot, gen)) {
        if (now - pend_[slot].due < timeout_ns) return;
        int32_t ch = pend_[slot].http_channel;
        bool ipv6 = pend_[slot].ipv6;
        finish(slot, gen, LoadError::kTimeout, now);
        on_timeout(ch, ipv6);
      }
      fifo_.pop_front();
    }
  }
  uint64_t inflight() const { return inflight_; }
  // The last answer (not a timeout): the run lasts until then.
  int64_t last_done() const { return last_done_; }
  void set_last_done(int64_t t) { last_done_ = t; }
  void error(LoadError e) { counters_.errors[static_cast<size_t>(e)].add(); }
  LoadCounters& counters() { return counters_; }
  // --reannounce interval: each finished announce schedules its peer's next.
  void set_reannounce(ReannounceSchedule* s) { reannounce_ = s; }

 private:
  LoadCounters& counters_;
  std::vector<PendingRequest> pend_;
  std::vector<uint32_t> free_;
  std::deque<std::pair<uint32_t, uint32_t>> fifo_;  // (slot, gen) in due order
  uint64_t inflight_ = 0;
  int64_t last_done_ = 0;
  int32_t numwant_ = 0;
  ReannounceSchedule* reannounce_ = nullptr;
  int64_t answer_interval_s_ = -1;  // of the reply being finished
};

}  // namespace swarmdial
