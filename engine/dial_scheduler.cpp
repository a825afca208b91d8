#include "dial_scheduler.hpp"

#include <algorithm>
#include <utility>

namespace swarmdial {

DialScheduler::DialScheduler(uint32_t torrents, DialOrder order, size_t per_torrent_cap)
    : order_(order), cap_(per_torrent_cap), queues_(torrents), fifo_waiting_(torrents, 0) {}

bool DialScheduler::add(const DialTarget& d) {
  std::lock_guard lock(mu_);
  if (d.tag >= queues_.size()) return false;
  if (order_ == DialOrder::kFifo) {
    if (fifo_waiting_[d.tag] >= cap_) {
      ++dropped_;
      return false;
    }
    ++fifo_waiting_[d.tag];
    arrivals_.push_back(d);
    ++waiting_;
    return true;
  }
  std::deque<DialTarget>& q = queues_[d.tag];
  if (q.size() >= cap_) {
    ++dropped_;
    return false;
  }
  // A torrent that had nothing waiting joins the round just before the one
  // whose turn it is, so it is served last in this round, not first.
  if (q.empty()) {
    next_ = active_.empty() ? 0 : next_ % active_.size();
    active_.insert(active_.begin() + static_cast<std::ptrdiff_t>(next_), d.tag);
    if (active_.size() > 1) ++next_;
  }
  q.push_back(d);
  ++waiting_;
  return true;
}

size_t DialScheduler::clear(uint32_t torrent) {
  std::lock_guard lock(mu_);
  if (torrent >= queues_.size()) return 0;
  if (order_ == DialOrder::kFifo) {
    size_t n = std::erase_if(arrivals_, [&](const DialTarget& d) { return d.tag == torrent; });
    fifo_waiting_[torrent] = 0;
    waiting_ -= n;
    return n;
  }
  size_t n = std::exchange(queues_[torrent], {}).size();
  waiting_ -= n;
  if (auto it = std::find(active_.begin(), active_.end(), torrent); it != active_.end()) {
    size_t at = static_cast<size_t>(it - active_.begin());
    active_.erase(it);
    if (at < next_) --next_;  // the turn stays with the torrent that had it
  }
  return n;
}

size_t DialScheduler::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

size_t DialScheduler::waiting(uint32_t torrent) const {
  std::lock_guard lock(mu_);
  if (torrent >= queues_.size()) return 0;
  return order_ == DialOrder::kFifo ? fifo_waiting_[torrent] : queues_[torrent].size();
}

uint64_t DialScheduler::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace swarmdial
