#pragma once
// Peers that many torrents want dialled, handed to the shards fairly. A node
// seeding thousands of torrents shares one half-open budget and one SYN
// rate: taken first come, first served, a torrent whose tracker returned
// 5,000 dead peers would hold every slot for a timeout at a time while the
// live peers of the others wait behind them. So each torrent has its own
// queue, and dials leave round robin over the torrents with a peer waiting
// (deficit round robin with equal quanta of one dial), into shard queues
// kept short so that what is queued there is always a fair mix.
//
// Fed by the tracker threads and the run loop (a lock: a few times a
// second, a batch at a time); drained by the run loop.
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "dial_target.hpp"

namespace swarmdial {

enum class DialOrder : uint8_t {
  kFair,  // round robin over torrents
  kFifo,  // as peers arrive, whatever their torrent (to compare against)
};

class DialScheduler {
 public:
  // per_torrent_cap: peers queued per torrent at most (more are dropped and counted).
  DialScheduler(uint32_t torrents, DialOrder order, size_t per_torrent_cap = 100'000);

  // A peer torrent d.tag wants dialled. False when its queue is full.
  bool add(const DialTarget& d);

  // Hands dials to push(d) (false: that dial's shard has no room now; it
  // stays first in its torrent's queue) until every torrent with a peer
  // waiting was refused once in a row, or nothing waits. Returns how many left.
  template <class Push>
  size_t drain(Push&& push) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    if (order_ == DialOrder::kFifo) {
      while (!arrivals_.empty() && push(arrivals_.front())) {
        --fifo_waiting_[arrivals_.front().tag];
        arrivals_.pop_front();
        ++n;
      }
      waiting_ -= n;
      return n;
    }
    // Round robin, from where the last call stopped.
    size_t refused_in_a_row = 0;
    while (!active_.empty() && refused_in_a_row < active_.size()) {
      next_ %= active_.size();
      uint32_t t = active_[next_];
      std::deque<DialTarget>& q = queues_[t];
      if (!push(q.front())) {
        ++refused_in_a_row;
        ++next_;
        continue;
      }
      refused_in_a_row = 0;
      q.pop_front();
      ++n;
      --waiting_;
      if (q.empty()) {
        active_.erase(active_.begin() +
                      static_cast<std::ptrdiff_t>(next_));  // next_ now names the next one
      } else {
        ++next_;
      }
    }
    return n;
  }

  // The torrent is no longer seeded: what it had waiting is dropped (not
  // counted as dropped for a full queue). Returns how many.
  size_t clear(uint32_t torrent);

  size_t waiting() const;
  size_t waiting(uint32_t torrent) const;
  uint64_t dropped() const;

 private:
  mutable std::mutex mu_;
  DialOrder order_;
  size_t cap_;
  std::vector<std::deque<DialTarget>> queues_;  // kFair: per torrent
  std::vector<uint32_t> active_;                // kFair: torrents with a peer waiting, in turn
  size_t next_ = 0;
  std::deque<DialTarget> arrivals_;  // kFifo
  std::vector<size_t> fifo_waiting_;
  uint64_t dropped_ = 0;
  size_t waiting_ = 0;  // over every torrent, kept as it changes (read on every run-loop tick)
};

}  // namespace swarmdial
