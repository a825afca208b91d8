#include "announce_gate.hpp"

#include <algorithm>

namespace swarmdial {

AnnounceGate::Ticket AnnounceGate::enqueue(const std::string& tracker, int64_t due_ns) {
  Ticket t = next_++;
  trackers_[tracker].waiting.push_back({t, due_ns});
  waiting_.insert(t);
  ++queued_;
  return t;
}

// Drops the cancelled waiters at the head of a tracker's queue, so that its
// head is a live one (or it is empty).
void AnnounceGate::skip_cancelled(Tracker& tr) {
  while (!tr.waiting.empty() && !waiting_.contains(tr.waiting.front().ticket))
    tr.waiting.pop_front();
}

std::vector<AnnounceGate::Ticket> AnnounceGate::admit(int64_t now_ns) {
  std::vector<Ticket> out;
  // Oldest first over the trackers with room: a waiter whose tracker is full
  // does not hold back one for another tracker, so one slow tracker cannot
  // stall the rest.
  while (in_flight_total_ < limits_.total) {
    decltype(trackers_)::iterator pick = trackers_.end();
    for (auto it = trackers_.begin(); it != trackers_.end(); ++it) {
      Tracker& tr = it->second;
      skip_cancelled(tr);
      if (tr.waiting.empty() || tr.in_flight >= limits_.per_tracker) continue;
      if (pick == trackers_.end() ||
          tr.waiting.front().ticket < pick->second.waiting.front().ticket)
        pick = it;
    }
    if (pick == trackers_.end()) break;
    Waiter w = pick->second.waiting.front();
    pick->second.waiting.pop_front();
    waiting_.erase(w.ticket);
    ++pick->second.in_flight;
    --queued_;
    ++in_flight_total_;
    ++started_;
    if (now_ns - w.due_ns > limits_.late_after_ns) ++late_;
    running_.emplace(w.ticket, pick->first);
    out.push_back(w.ticket);
  }
  return out;
}

void AnnounceGate::finish(Ticket t) {
  auto it = running_.find(t);
  if (it == running_.end()) return;
  auto tr = trackers_.find(it->second);
  if (tr != trackers_.end()) {
    --tr->second.in_flight;
    skip_cancelled(tr->second);
    if (tr->second.in_flight == 0 && tr->second.waiting.empty()) trackers_.erase(tr);
  }
  --in_flight_total_;
  running_.erase(it);
}

// O(1): thousands of queued announces give up together at shutdown, so the
// queue is not searched; admit() drops a cancelled waiter when it reaches
// the head, and finish() a tracker's queue once nothing live is in it.
void AnnounceGate::cancel(Ticket t) {
  if (waiting_.erase(t)) --queued_;
}

bool AnnounceGate::admitted(Ticket t) const {
  return running_.contains(t);
}

uint64_t AnnounceGate::in_flight_to(const std::string& tracker) const {
  auto it = trackers_.find(tracker);
  return it == trackers_.end() ? 0 : it->second.in_flight;
}

}  // namespace swarmdial
