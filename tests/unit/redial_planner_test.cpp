// The seeder's re-dial schedule, driven by a scripted clock: backoff with
// jitter, the give-up limit, and the peers that must not be dialled again.
#include "engine/redial_planner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace swarmdial {
namespace {

constexpr int64_t kSec = 1'000'000'000;

Endpoint peer(uint8_t last, uint16_t port = 6881) {
  Endpoint e;
  e.ip.bytes = {127, 0, 0, last};
  e.port = port;
  return e;
}

// Runs the clock forward in 10 ms steps until the planner hands a peer out.
int64_t next_redial_at(RedialPlanner& p, int64_t from, int64_t limit) {
  for (int64_t t = from; t <= limit; t += 10'000'000) {
    if (p.take_due(t, [](const DialTarget&) { return true; }) > 0) return t;
  }
  return -1;
}

TEST(RedialPlanner, RefusedPeerIsDialledAgainWithDoublingJitteredDelays) {
  RedialPlanner p({.max_redials = 4, .first_delay_ns = kSec, .max_delay_ns = 60 * kSec});
  int64_t now = 0;
  for (int n = 1; n <= 4; ++n) {
    p.on_connect_failed(peer(3), Outcome::kRefused, now);
    int64_t at = next_redial_at(p, now, now + 100 * kSec);
    ASSERT_GE(at, 0) << "re-dial " << n << " never came";
    double expected = static_cast<double>(kSec << (n - 1));
    EXPECT_GE(at - now, expected * 0.8 - 1e7) << "re-dial " << n;
    EXPECT_LE(at - now, expected * 1.2 + 1e7) << "re-dial " << n;
    now = at;
  }
  EXPECT_EQ(p.counts().redials[static_cast<size_t>(RedialCause::kRefused)], 4u);
  // The fifth failure in a row is one too many.
  p.on_connect_failed(peer(3), Outcome::kRefused, now);
  EXPECT_EQ(next_redial_at(p, now, now + 200 * kSec), -1);
  EXPECT_EQ(p.counts().given_up[static_cast<size_t>(RedialCause::kRefused)], 1u);
  EXPECT_EQ(p.counts().given_up_total(), 1u);
  EXPECT_EQ(p.counts().pending, 0u);
}

TEST(RedialPlanner, DelayIsCapped) {
  RedialPlanner p({.max_redials = 30, .first_delay_ns = kSec, .max_delay_ns = 5 * kSec});
  int64_t now = 0;
  for (int n = 1; n <= 10; ++n) {
    p.on_connect_failed(peer(4), Outcome::kTimeout, now);
    int64_t at = next_redial_at(p, now, now + 100 * kSec);
    ASSERT_GE(at, 0);
    EXPECT_LE(at - now, 6 * kSec + 1e7) << "re-dial " << n;
    now = at;
  }
}

TEST(RedialPlanner, PeerThatClosedEarlyIsDialledAgainButACompletePeerIsNot) {
  RedialPlanner p({});
  p.on_session_end(peer(5), {Disconnect::kPeerClosed, false, 0}, 0);
  p.on_session_end(peer(6), {Disconnect::kPeerClosed, true, 0}, 0);
  p.on_session_end(peer(7), {Disconnect::kBothSeeds, false, 0}, 0);
  std::vector<Endpoint> dialled;
  p.take_due(10 * kSec, [&](const DialTarget& e) {
    dialled.push_back(e.target);
    return true;
  });
  ASSERT_EQ(dialled.size(), 1u);
  EXPECT_EQ(dialled[0], peer(5));
  EXPECT_EQ(p.counts().complete, 2u);
  EXPECT_EQ(p.counts().redials[static_cast<size_t>(RedialCause::kPeerClosed)], 1u);
}

TEST(RedialPlanner, MisbehavingPeerIsNotInvitedBack) {
  RedialPlanner p({});
  p.on_session_end(peer(8), {Disconnect::kRequestFlood, false, 0}, 0);
  p.on_session_end(peer(9), {Disconnect::kUnknownInfoHash, false, 0}, 0);
  p.on_session_end(peer(10), {Disconnect::kShutdown, false, 0}, 0);
  EXPECT_EQ(p.take_due(100 * kSec, [](const DialTarget&) { return true; }), 0u);
  EXPECT_EQ(p.counts().not_redialled, 3u);
  EXPECT_EQ(p.counts().redials_total(), 0u);
}

TEST(RedialPlanner, SessionThatServedDataStartsTheCountOver) {
  RedialPlanner p({.max_redials = 2});
  p.on_connect_failed(peer(11), Outcome::kRefused, 0);
  p.on_connect_failed(peer(11), Outcome::kRefused, 0);
  EXPECT_EQ(p.failures(peer(11)), 2u);
  p.on_session_end(peer(11), {Disconnect::kPeerClosed, false, 16384}, 0);
  EXPECT_EQ(p.failures(peer(11)), 1u);  // this close is the first failure of a new run
  EXPECT_EQ(p.counts().given_up_total(), 0u);
}

TEST(RedialPlanner, ZeroLimitNeverRedials) {
  RedialPlanner p({.max_redials = 0});
  p.on_connect_failed(peer(12), Outcome::kUnreachable, 0);
  EXPECT_EQ(p.take_due(100 * kSec, [](const DialTarget&) { return true; }), 0u);
  EXPECT_EQ(p.counts().given_up[static_cast<size_t>(RedialCause::kUnreachable)], 1u);
}

TEST(RedialPlanner, AFullFeedKeepsThePeerDueForLater) {
  RedialPlanner p({});
  p.on_connect_failed(peer(13), Outcome::kRefused, 0);
  EXPECT_EQ(p.take_due(10 * kSec, [](const DialTarget&) { return false; }), 0u);
  EXPECT_EQ(p.counts().pending, 1u);
  EXPECT_LE(p.next_due_ns(), 10 * kSec);
  EXPECT_EQ(p.take_due(10 * kSec, [](const DialTarget&) { return true; }), 1u);
  EXPECT_EQ(p.next_due_ns(), INT64_MAX);
}

TEST(RedialPlanner, OnePeerInTwoTorrentsIsTwoPeers) {
  // A client seeding two of our torrents: its failures for one do not cost
  // it the other, and each re-dial keeps the torrent it was for.
  RedialPlanner p({});
  DialTarget a{peer(9), 1}, b{peer(9), 2};
  p.on_connect_failed(a, Outcome::kRefused, 0);
  p.on_connect_failed(a, Outcome::kRefused, 0);
  p.on_connect_failed(b, Outcome::kRefused, 0);
  EXPECT_EQ(p.failures(a), 2u);
  EXPECT_EQ(p.failures(b), 1u);
  std::vector<DialTarget> dialled;
  p.take_due(1000 * kSec, [&](const DialTarget& d) {
    dialled.push_back(d);
    return true;
  });
  ASSERT_EQ(dialled.size(), 3u);
  EXPECT_EQ(std::count(dialled.begin(), dialled.end(), a), 2);
  EXPECT_EQ(std::count(dialled.begin(), dialled.end(), b), 1);
}

}  // namespace
}  // namespace swarmdial
