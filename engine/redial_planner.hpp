#pragma once
// Which outbound peers a seeder dials again, and when. A peer that failed to
// connect, or closed before it had every piece, is dialled again after an
// exponential backoff with jitter, until it has failed `max_redials` times in
// a row. This is what real clients do (libtorrent's failcount, Transmission's
// reconnect interval): a leecher's listening socket is often open before it
// has loaded the torrent, so its first connection is turned away, and a peer
// that dropped may be back in a moment. Sans-I/O: events and time in, due
// peers out. One thread owns it (the run loop), so it may allocate.
#include <array>
#include <cstdint>
#include <queue>
#include <random>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dial_target.hpp"
#include "endpoint.hpp"
#include "outcome.hpp"
#include "peerwire/peer_session.hpp"

namespace swarmdial {

struct RedialPolicy {
  uint32_t max_redials = 8;  // consecutive failures re-dialled before giving up; 0 = never
  int64_t first_delay_ns = 1'000'000'000;
  int64_t max_delay_ns = 60'000'000'000;
  uint64_t seed = 0;  // jitter
};

// Why a peer is dialled again: how its last attempt or session ended.
enum class RedialCause : uint8_t {
  kRefused,
  kTimeout,
  kUnreachable,
  kConnectError,
  kPeerClosed,
  kHandshakeTimeout,
  kIdleTimeout,
  kIoError,
  kCount
};
std::string_view redial_cause_name(RedialCause c);

// How an outbound peer-wire session ended, as the pool saw it.
struct SessionEnd {
  Disconnect reason = Disconnect::kNone;
  bool peer_complete = false;  // HAVE_ALL or a full bitfield (with our HAVEs)
  uint64_t bytes_up = 0;       // piece bytes we sent it in this session
};

// What the planner made of a failure or an ended session.
enum class RedialDecision : uint8_t {
  kRedial,      // dialled again after its backoff
  kGiveUp,      // failed too often in a row
  kNotInvited,  // it misbehaved (a protocol violation)
  kComplete,    // it has every piece: nothing to serve
  kShutdown,    // ended by our own shutdown
  kNone,        // established: nothing to decide
};

struct RedialCounts {
  static constexpr size_t kCauses = static_cast<size_t>(RedialCause::kCount);
  std::array<uint64_t, kCauses> redials{};   // re-dials scheduled, by cause
  std::array<uint64_t, kCauses> given_up{};  // peers dropped after max_redials, by last cause
  uint64_t pending = 0;                      // waiting for their backoff to pass
  uint64_t complete = 0;                     // sessions that ended with the peer holding everything
  uint64_t not_redialled = 0;  // misbehaved (protocol violations) or ended by shutdown
  uint64_t redials_total() const;
  uint64_t given_up_total() const;
};

class RedialPlanner {
 public:
  explicit RedialPlanner(RedialPolicy policy);

  RedialDecision on_connect_failed(const DialTarget& peer, Outcome outcome, int64_t now_ns);
  RedialDecision on_session_end(const DialTarget& peer, const SessionEnd& end, int64_t now_ns);

  // Hands every peer whose backoff has passed to dial(peer), earliest first.
  // dial returns false when it cannot take the peer now (a full queue); the
  // peer then stays due and comes first next time.
  template <class Dial>
  size_t take_due(int64_t now_ns, Dial&& dial) {
    size_t n = 0;
    while (!due_.empty() && due_.top().due_ns <= now_ns) {
      if (!dial(due_.top().peer)) break;
      due_.pop();
      ++n;
    }
    counts_.pending = due_.size();
    return n;
  }

  // Earliest pending re-dial, or INT64_MAX.
  int64_t next_due_ns() const { return due_.empty() ? INT64_MAX : due_.top().due_ns; }
  const RedialCounts& counts() const { return counts_; }
  // Consecutive failures recorded for a peer (0 once it made progress).
  uint32_t failures(const DialTarget& peer) const;

 private:
  struct Due {
    int64_t due_ns;
    DialTarget peer;
    bool operator>(const Due& o) const { return due_ns > o.due_ns; }
  };
  struct Hasher {
    size_t operator()(const DialTarget& d) const { return dial_target_hash(d); }
  };

  RedialDecision schedule(const DialTarget& peer, RedialCause cause, int64_t now_ns);
  int64_t delay_ns(uint32_t failures);

  RedialPolicy policy_;
  std::mt19937_64 rng_;
  std::unordered_map<DialTarget, uint32_t, Hasher> failures_;  // per torrent and peer
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  RedialCounts counts_;
};

}  // namespace swarmdial
