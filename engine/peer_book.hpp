#pragma once
// What a seeding node knows of each peer it may dial, per torrent, as real
// clients keep it (libtorrent's peer_list, Transmission's peer atoms): where
// it was heard of, how its last attempt ended, how many times in a row it
// failed, whether it is a seed, and its state. A tracker that lists a peer
// again refreshes it; a peer given up is forgotten after a while, so that a
// later list may bring it back, but not on every re-announce.
//
// Sans-I/O: events and time in, decisions and counts out. The seed's run
// loop owns it (one thread); it allocates per peer heard of, never per packet.
#include <array>
#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dial_target.hpp"
#include "outcome.hpp"
#include "redial_planner.hpp"

namespace swarmdial {

enum class PeerSource : uint8_t { kFlag = 1, kFile = 2, kTracker = 4 };

enum class PeerBookState : uint8_t {
  kQueued,     // waiting for a dial: new, or a re-dial whose backoff passed
  kConnected,  // its session is open
  kBackoff,    // failed or dropped; a re-dial is scheduled
  kGivenUp,    // failed too often in a row, or not invited back; forgotten later
  kDone,       // a seed too (nothing to serve), or ended by our shutdown
  kCount
};
std::string_view peer_book_state_name(PeerBookState s);

struct PeerRecord {
  uint8_t sources = 0;  // PeerSource bits
  PeerBookState state = PeerBookState::kQueued;
  bool seed = false;  // it said it has every piece
  bool dialled = false;
  Outcome last_outcome = Outcome::kEstablished;  // meaningful once dialled
  uint32_t fails = 0;                            // in a row
  uint32_t attempts = 0;
  int64_t last_attempt_ns = 0;  // when its last dial ended
  int64_t last_listed_ns = 0;   // when a source last named it
  int64_t state_since_ns = 0;
};

struct PeerBookPolicy {
  int64_t forget_after_ns = 1'800'000'000'000;  // 30 min after giving up
  uint32_t max_peers = 1'000'000;               // over all torrents; more are not taken
};

struct PeerBookCounts {
  std::array<uint64_t, static_cast<size_t>(PeerBookState::kCount)> by_state{};
  uint64_t seeds = 0;
  uint64_t forgotten = 0;     // given up, then dropped from the book
  uint64_t refused_full = 0;  // heard of while the book was full
  uint64_t total() const;
};

class PeerBook {
 public:
  PeerBook(PeerBookPolicy policy, uint32_t torrents);

  // A source named the peer. True when it should be dialled now: it is new
  // to the book. A known peer is only refreshed (its sources, last listed).
  bool listed(const DialTarget& peer, PeerSource source, int64_t now_ns);
  // Its dial ended: established, or failed and what the planner decided.
  void on_dial_result(const DialTarget& peer, Outcome outcome, RedialDecision d, int64_t now_ns);
  // Its session ended: whether it was a seed, and what the planner decided.
  void on_session_end(const DialTarget& peer, bool peer_complete, RedialDecision d, int64_t now_ns);
  // Its re-dial is on its way to the shards.
  void on_redial(const DialTarget& peer, int64_t now_ns);
  // Drops peers given up more than forget_after ago; returns how many.
  size_t forget(int64_t now_ns);
  // The torrent is no longer seeded: drops every peer of it and returns its
  // counts as they were (the torrent's final figures).
  PeerBookCounts drop_torrent(uint32_t torrent);

  const PeerRecord* find(const DialTarget& peer) const;
  const PeerBookCounts& counts(uint32_t torrent) const { return counts_.at(torrent); }
  // Over every torrent, kept as they change: the run loop reads it on every
  // tick, and a node of thousands of torrents should not sum them each time.
  const PeerBookCounts& totals() const { return totals_; }
  size_t size() const { return peers_.size(); }

 private:
  struct Hasher {
    size_t operator()(const DialTarget& d) const { return dial_target_hash(d); }
  };
  PeerRecord* touch(const DialTarget& peer);  // a record we were told of, or null
  void move(const DialTarget& peer, PeerRecord& r, PeerBookState to, int64_t now_ns);

  // Applies one change to a torrent's counts and to the totals alike.
  template <class Change>
  void update(uint32_t torrent, Change&& change) {
    change(counts_[torrent]);
    change(totals_);
  }

  PeerBookPolicy policy_;
  std::unordered_map<DialTarget, PeerRecord, Hasher> peers_;
  std::vector<PeerBookCounts> counts_;  // per torrent
  PeerBookCounts totals_;
  // Given-up peers in the order they were given up; an entry whose record
  // moved on since is skipped.
  struct GaveUp {
    int64_t at_ns;
    DialTarget peer;
  };
  std::deque<GaveUp> given_up_;
};

}  // namespace swarmdial
