#include "redial_planner.hpp"

#include <algorithm>

namespace swarmdial {

std::string_view redial_cause_name(RedialCause c) {
  switch (c) {
    case RedialCause::kRefused:
      return "refused";
    case RedialCause::kTimeout:
      return "timeout";
    case RedialCause::kUnreachable:
      return "unreachable";
    case RedialCause::kConnectError:
      return "connect_error";
    case RedialCause::kPeerClosed:
      return "peer_closed";
    case RedialCause::kHandshakeTimeout:
      return "handshake_timeout";
    case RedialCause::kIdleTimeout:
      return "idle_timeout";
    case RedialCause::kIoError:
      return "io_error";
    case RedialCause::kCount:
      break;
  }
  return "unknown";
}

uint64_t RedialCounts::redials_total() const {
  uint64_t n = 0;
  for (uint64_t v : redials) n += v;
  return n;
}

uint64_t RedialCounts::given_up_total() const {
  uint64_t n = 0;
  for (uint64_t v : given_up) n += v;
  return n;
}

RedialPlanner::RedialPlanner(RedialPolicy policy) : policy_(policy), rng_(policy.seed) {}

uint32_t RedialPlanner::failures(const DialTarget& peer) const {
  auto it = failures_.find(peer);
  return it == failures_.end() ? 0 : it->second;
}

RedialDecision RedialPlanner::on_connect_failed(const DialTarget& peer, Outcome outcome,
                                                int64_t now_ns) {
  RedialCause cause = RedialCause::kConnectError;
  if (outcome == Outcome::kEstablished) return RedialDecision::kNone;
  if (outcome == Outcome::kRefused) cause = RedialCause::kRefused;
  if (outcome == Outcome::kTimeout) cause = RedialCause::kTimeout;
  if (outcome == Outcome::kUnreachable) cause = RedialCause::kUnreachable;
  return schedule(peer, cause, now_ns);
}

RedialDecision RedialPlanner::on_session_end(const DialTarget& peer, const SessionEnd& end,
                                             int64_t now_ns) {
  // Both sides seeds: nothing to serve, and dialling it again would only be
  // turned away once more (the session ends in kBothSeeds).
  if (end.peer_complete || end.reason == Disconnect::kBothSeeds) {
    ++counts_.complete;
    failures_.erase(peer);
    return RedialDecision::kComplete;
  }
  // A session that carried piece data was worth having: the peer starts over.
  if (end.bytes_up > 0) failures_.erase(peer);
  RedialCause cause;
  switch (end.reason) {
    case Disconnect::kNone:
    case Disconnect::kPeerClosed:
      cause = RedialCause::kPeerClosed;
      break;
    case Disconnect::kHandshakeTimeout:
      cause = RedialCause::kHandshakeTimeout;
      break;
    case Disconnect::kIdleTimeout:
      cause = RedialCause::kIdleTimeout;
      break;
    case Disconnect::kIoError:
      cause = RedialCause::kIoError;
      break;
    default:
      // A protocol violation (wrong info-hash, flooding, bad messages...) is
      // not bad luck; such a peer is not invited back. Shutdown is ours.
      ++counts_.not_redialled;
      failures_.erase(peer);
      return end.reason == Disconnect::kShutdown ? RedialDecision::kShutdown
                                                 : RedialDecision::kNotInvited;
  }
  return schedule(peer, cause, now_ns);
}

int64_t RedialPlanner::delay_ns(uint32_t failures) {
  uint32_t shift = std::min<uint32_t>(failures - 1, 40);
  int64_t d = policy_.first_delay_ns;
  for (uint32_t i = 0; i < shift && d < policy_.max_delay_ns; ++i) d *= 2;
  d = std::min(d, policy_.max_delay_ns);
  // +/- 20%: peers that failed together (one tracker reply, one outage) do
  // not all come back in the same millisecond.
  std::uniform_int_distribution<int64_t> jitter(-d / 5, d / 5);
  return std::max<int64_t>(1, d + jitter(rng_));
}

RedialDecision RedialPlanner::schedule(const DialTarget& peer, RedialCause cause, int64_t now_ns) {
  uint32_t& fails = failures_[peer];
  ++fails;
  size_t c = static_cast<size_t>(cause);
  if (fails > policy_.max_redials) {
    ++counts_.given_up[c];
    failures_.erase(peer);
    return RedialDecision::kGiveUp;
  }
  ++counts_.redials[c];
  due_.push({now_ns + delay_ns(fails), peer});
  counts_.pending = due_.size();
  return RedialDecision::kRedial;
}

}  // namespace swarmdial
