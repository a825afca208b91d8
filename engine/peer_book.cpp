#include "peer_book.hpp"

#include <utility>

namespace swarmdial {

std::string_view peer_book_state_name(PeerBookState s) {
  switch (s) {
    case PeerBookState::kQueued:
      return "queued";
    case PeerBookState::kConnected:
      return "connected";
    case PeerBookState::kBackoff:
      return "backoff";
    case PeerBookState::kGivenUp:
      return "given_up";
    case PeerBookState::kDone:
      return "done";
    case PeerBookState::kCount:
      break;
  }
  return "unknown";
}

uint64_t PeerBookCounts::total() const {
  uint64_t n = 0;
  for (uint64_t v : by_state) n += v;
  return n;
}

PeerBook::PeerBook(PeerBookPolicy policy, uint32_t torrents)
    : policy_(policy), counts_(std::max<uint32_t>(1, torrents)) {}

bool PeerBook::listed(const DialTarget& peer, PeerSource source, int64_t now_ns) {
  if (peer.tag >= counts_.size()) return false;
  auto it = peers_.find(peer);
  if (it != peers_.end()) {
    it->second.sources |= static_cast<uint8_t>(source);
    it->second.last_listed_ns = now_ns;
    return false;
  }
  if (peers_.size() >= policy_.max_peers) {
    update(peer.tag, [](PeerBookCounts& c) { ++c.refused_full; });
    return false;
  }
  PeerRecord r;
  r.sources = static_cast<uint8_t>(source);
  r.last_listed_ns = r.state_since_ns = now_ns;
  peers_.emplace(peer, r);
  update(peer.tag,
         [](PeerBookCounts& c) { ++c.by_state[static_cast<size_t>(PeerBookState::kQueued)]; });
  return true;
}

PeerRecord* PeerBook::touch(const DialTarget& peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

void PeerBook::move(const DialTarget& peer, PeerRecord& r, PeerBookState to, int64_t now_ns) {
  update(peer.tag, [&](PeerBookCounts& c) {
    --c.by_state[static_cast<size_t>(r.state)];
    ++c.by_state[static_cast<size_t>(to)];
  });
  r.state = to;
  r.state_since_ns = now_ns;
  if (to == PeerBookState::kGivenUp) given_up_.push_back({now_ns, peer});
}

namespace {
PeerBookState after(RedialDecision d) {
  switch (d) {
    case RedialDecision::kRedial:
      return PeerBookState::kBackoff;
    case RedialDecision::kGiveUp:
    case RedialDecision::kNotInvited:
      return PeerBookState::kGivenUp;
    case RedialDecision::kComplete:
    case RedialDecision::kShutdown:
      return PeerBookState::kDone;
    case RedialDecision::kNone:
      break;
  }
  return PeerBookState::kConnected;
}
}  // namespace

void PeerBook::on_dial_result(const DialTarget& peer, Outcome outcome, RedialDecision d,
                              int64_t now_ns) {
  PeerRecord* r = touch(peer);
  if (!r) return;  // dialled from a list the book was not told of
  r->dialled = true;
  ++r->attempts;
  r->last_outcome = outcome;
  r->last_attempt_ns = now_ns;
  if (outcome == Outcome::kEstablished) {
    r->fails = 0;
    move(peer, *r, PeerBookState::kConnected, now_ns);
  } else {
    ++r->fails;
    move(peer, *r, after(d), now_ns);
  }
}

void PeerBook::on_session_end(const DialTarget& peer, bool peer_complete, RedialDecision d,
                              int64_t now_ns) {
  PeerRecord* r = touch(peer);
  if (!r) return;
  if (peer_complete && !r->seed) {
    r->seed = true;
    update(peer.tag, [](PeerBookCounts& c) { ++c.seeds; });
  }
  if (d == RedialDecision::kRedial || d == RedialDecision::kGiveUp) ++r->fails;
  move(peer, *r, after(d), now_ns);
}

void PeerBook::on_redial(const DialTarget& peer, int64_t now_ns) {
  if (PeerRecord* r = touch(peer)) move(peer, *r, PeerBookState::kQueued, now_ns);
}

PeerBookCounts PeerBook::drop_torrent(uint32_t torrent) {
  if (torrent >= counts_.size()) return {};
  // Its given-up entries stay queued: without a record behind them they are skipped.
  std::erase_if(peers_, [&](const auto& kv) { return kv.first.tag == torrent; });
  PeerBookCounts gone = std::exchange(counts_[torrent], {});
  for (size_t i = 0; i < gone.by_state.size(); ++i) totals_.by_state[i] -= gone.by_state[i];
  totals_.seeds -= gone.seeds;
  totals_.forgotten -= gone.forgotten;
  totals_.refused_full -= gone.refused_full;
  return gone;
}

size_t PeerBook::forget(int64_t now_ns) {
  size_t n = 0;
  while (!given_up_.empty() && now_ns - given_up_.front().at_ns >= policy_.forget_after_ns) {
    GaveUp g = given_up_.front();
    given_up_.pop_front();
    auto it = peers_.find(g.peer);
    // Given up again later, or moved on: a newer entry stands for it.
    if (it == peers_.end() || it->second.state != PeerBookState::kGivenUp ||
        it->second.state_since_ns != g.at_ns)
      continue;
    bool seed = it->second.seed;
    update(g.peer.tag, [&](PeerBookCounts& c) {
      --c.by_state[static_cast<size_t>(PeerBookState::kGivenUp)];
      if (seed) --c.seeds;
      ++c.forgotten;
    });
    peers_.erase(it);
    ++n;
  }
  return n;
}

const PeerRecord* PeerBook::find(const DialTarget& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

}  // namespace swarmdial
