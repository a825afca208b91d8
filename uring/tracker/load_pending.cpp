#include "load_pending.hpp"

#include <algorithm>

namespace swarmdial {

PendingTable::PendingTable(size_t capacity, LoadCounters& counters, int32_t numwant)
    : counters_(counters), pend_(std::min<size_t>(capacity, kSlotMask + 1)), numwant_(numwant) {
  free_.reserve(pend_.size());
  for (size_t i = pend_.size(); i-- > 0;) free_.push_back(static_cast<uint32_t>(i));
}

std::optional<uint32_t> PendingTable::open(uint64_t k, int64_t due, LoadKind kind, bool ipv6) {
  if (free_.empty()) {
    error(LoadError::kOverload);
    return std::nullopt;
  }
  uint32_t slot = free_.back();
  free_.pop_back();
  PendingRequest& p = pend_[slot];
  p.due = due;
  p.k = k;
  p.kind = kind;
  p.ipv6 = ipv6;
  p.hashes = 0;
  p.gen = (p.gen + 1) & ((1u << (32 - kSlotBits)) - 1);
  p.used = true;
  p.resent = false;
  p.http_channel = -1;
  ++inflight_;
  fifo_.emplace_back(slot, p.gen);
  return slot;
}

void PendingTable::finish(uint32_t slot, uint32_t gen, std::optional<LoadError> err, int64_t now) {
  PendingRequest& p = pend_[slot];
  if (!p.used || p.gen != gen) {
    counters_.stray_replies.add();
    return;
  }
  if (err) {
    error(*err);
  } else {
    counters_.ok.add();
    counters_.kind_ok[static_cast<size_t>(p.kind)].add();
    counters_.family_ok[p.ipv6].add();
    counters_.latency.record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.due) / 1000));
  }
  if (reannounce_ && p.kind == LoadKind::kAnnounce) {
    if (err)
      reannounce_->failed(p.k, now);
    else
      reannounce_->answered(p.k, answer_interval_s_, now);
  }
  answer_interval_s_ = -1;
  // The run lasts until the last answer; waiting out timeouts is not load.
  if (err != LoadError::kTimeout) last_done_ = now;
  p.used = false;
  p.http_channel = -1;
  free_.push_back(slot);
  --inflight_;
}

void PendingTable::finish(uint32_t slot, uint32_t gen, const ReplyFacts& f, int64_t now) {
  if (f.verdict == ReplyVerdict::kOk && live(slot, gen) &&
      pend_[slot].kind == LoadKind::kAnnounce) {
    counters_.peers_received.add(f.peers);
    counters_.peers6_received.add(f.peers6);
    if (withholds_peers(f, numwant_)) counters_.peers_withheld.add();
    auto interval = static_cast<uint64_t>(f.interval_s);
    uint64_t lo = counters_.interval_min.get();
    if (lo == 0 || interval < lo) counters_.interval_min.set(interval);
    if (interval > counters_.interval_max.get()) counters_.interval_max.set(interval);
  }
  answer_interval_s_ = f.interval_s;
  std::optional<LoadError> err;
  if (f.verdict == ReplyVerdict::kTrackerError) err = LoadError::kTrackerError;
  if (f.verdict == ReplyVerdict::kBadReply) err = LoadError::kBadReply;
  finish(slot, gen, err, now);
}

void PendingTable::sent(uint32_t slot, int64_t now) {
  const PendingRequest& p = pend_[slot];
  counters_.sent.add();
  counters_.kind_sent[static_cast<size_t>(p.kind)].add();
  counters_.family_sent[p.ipv6].add();
  counters_.send_lag.record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.due) / 1000));
}

}  // namespace swarmdial
