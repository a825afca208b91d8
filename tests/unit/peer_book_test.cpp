// The seeder's book of peers, driven by the re-dial planner's real decisions
// and a scripted clock: sources merge, states move with each dial and
// session, counts stay per torrent, given-up peers are forgotten on time
// and a later list brings them back.
#include "engine/peer_book.hpp"

#include <gtest/gtest.h>

namespace swarmdial {
namespace {

constexpr int64_t kSec = 1'000'000'000;

DialTarget peer(uint8_t last, uint32_t torrent = 0) {
  Endpoint e;
  e.ip.bytes = {127, 0, 0, last};
  e.port = 6881;
  return {e, torrent};
}

size_t in(const PeerBook& b, uint32_t torrent, PeerBookState s) {
  return b.counts(torrent).by_state[static_cast<size_t>(s)];
}

TEST(PeerBook, ANewPeerIsDialledOnceAndItsSourcesMerge) {
  PeerBook b({}, 1);
  EXPECT_TRUE(b.listed(peer(2), PeerSource::kFile, 0));
  EXPECT_FALSE(b.listed(peer(2), PeerSource::kTracker, 5 * kSec));  // known: refreshed only
  const PeerRecord* r = b.find(peer(2));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->sources,
            static_cast<uint8_t>(PeerSource::kFile) | static_cast<uint8_t>(PeerSource::kTracker));
  EXPECT_EQ(r->last_listed_ns, 5 * kSec);
  EXPECT_EQ(r->state, PeerBookState::kQueued);
  EXPECT_FALSE(r->dialled);
  EXPECT_EQ(b.counts(0).total(), 1u);
}

TEST(PeerBook, StatesFollowThePlannersDecisions) {
  RedialPlanner planner({.max_redials = 2, .first_delay_ns = kSec, .max_delay_ns = 4 * kSec});
  PeerBook b({}, 1);
  DialTarget p = peer(3);
  ASSERT_TRUE(b.listed(p, PeerSource::kTracker, 0));

  // Refused: backoff, then its re-dial is queued.
  b.on_dial_result(p, Outcome::kRefused, planner.on_connect_failed(p, Outcome::kRefused, 0), 0);
  EXPECT_EQ(b.find(p)->state, PeerBookState::kBackoff);
  EXPECT_EQ(b.find(p)->fails, 1u);
  EXPECT_EQ(b.find(p)->last_outcome, Outcome::kRefused);
  size_t handed = planner.take_due(10 * kSec, [&](const DialTarget& d) {
    b.on_redial(d, 10 * kSec);
    return true;
  });
  EXPECT_EQ(handed, 1u);
  EXPECT_EQ(b.find(p)->state, PeerBookState::kQueued);

  // Established: connected, and the failures in a row start over.
  b.on_dial_result(p, Outcome::kEstablished, RedialDecision::kNone, 11 * kSec);
  EXPECT_EQ(b.find(p)->state, PeerBookState::kConnected);
  EXPECT_EQ(b.find(p)->fails, 0u);
  EXPECT_EQ(b.find(p)->attempts, 2u);
  EXPECT_EQ(in(b, 0, PeerBookState::kConnected), 1u);

  // It leaves holding every piece: a seed, done, never dialled again.
  SessionEnd end{.reason = Disconnect::kBothSeeds, .peer_complete = true};
  b.on_session_end(p, true, planner.on_session_end(p, end, 20 * kSec), 20 * kSec);
  EXPECT_EQ(b.find(p)->state, PeerBookState::kDone);
  EXPECT_TRUE(b.find(p)->seed);
  EXPECT_EQ(b.counts(0).seeds, 1u);
  EXPECT_EQ(in(b, 0, PeerBookState::kConnected), 0u);
  EXPECT_EQ(b.counts(0).total(), 1u);
}

TEST(PeerBook, AMisbehavingPeerIsGivenUpAndShutdownIsNot) {
  RedialPlanner planner({.max_redials = 8});
  PeerBook b({}, 1);
  DialTarget bad = peer(4), fine = peer(5);
  b.listed(bad, PeerSource::kTracker, 0);
  b.listed(fine, PeerSource::kTracker, 0);
  b.on_dial_result(bad, Outcome::kEstablished, RedialDecision::kNone, 0);
  b.on_dial_result(fine, Outcome::kEstablished, RedialDecision::kNone, 0);
  b.on_session_end(bad, false,
                   planner.on_session_end(bad, {.reason = Disconnect::kRequestFlood}, kSec), kSec);
  b.on_session_end(fine, false,
                   planner.on_session_end(fine, {.reason = Disconnect::kShutdown}, kSec), kSec);
  EXPECT_EQ(b.find(bad)->state, PeerBookState::kGivenUp);
  EXPECT_EQ(b.find(fine)->state, PeerBookState::kDone);
}

TEST(PeerBook, GivenUpPeersAreForgottenOnTimeAndALaterListBringsThemBack) {
  RedialPlanner planner({.max_redials = 1, .first_delay_ns = kSec, .max_delay_ns = kSec});
  PeerBook b({.forget_after_ns = 60 * kSec}, 2);
  DialTarget dead = peer(6, 1);
  b.listed(dead, PeerSource::kTracker, 0);
  b.on_dial_result(dead, Outcome::kTimeout, planner.on_connect_failed(dead, Outcome::kTimeout, 0),
                   0);
  planner.take_due(2 * kSec, [&](const DialTarget& d) {
    b.on_redial(d, 2 * kSec);
    return true;
  });
  RedialDecision d = planner.on_connect_failed(dead, Outcome::kTimeout, 5 * kSec);
  ASSERT_EQ(d, RedialDecision::kGiveUp);
  b.on_dial_result(dead, Outcome::kTimeout, d, 5 * kSec);
  EXPECT_EQ(in(b, 1, PeerBookState::kGivenUp), 1u);
  EXPECT_EQ(in(b, 0, PeerBookState::kGivenUp), 0u);  // the other torrent's counts

  // The tracker's next list names it again: refreshed, not dialled.
  EXPECT_FALSE(b.listed(dead, PeerSource::kTracker, 30 * kSec));
  EXPECT_EQ(b.forget(64 * kSec), 0u);  // 59 s after giving up
  EXPECT_EQ(b.forget(65 * kSec), 1u);
  EXPECT_EQ(b.find(dead), nullptr);
  EXPECT_EQ(b.counts(1).forgotten, 1u);
  EXPECT_EQ(b.counts(1).total(), 0u);
  // Forgotten: a later list is news again.
  EXPECT_TRUE(b.listed(dead, PeerSource::kTracker, 70 * kSec));
  EXPECT_EQ(b.find(dead)->fails, 0u);
}

TEST(PeerBook, AFullBookTakesNoMorePeersAndSaysSo) {
  PeerBook b({.max_peers = 2}, 1);
  EXPECT_TRUE(b.listed(peer(1), PeerSource::kFlag, 0));
  EXPECT_TRUE(b.listed(peer(2), PeerSource::kFlag, 0));
  EXPECT_FALSE(b.listed(peer(3), PeerSource::kFlag, 0));
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.counts(0).refused_full, 1u);
}

// A torrent that stops being seeded takes its peers with it, and only its
// own: its counts come back as its final figures, the others' stay, and a
// given-up entry of it that falls due later is skipped.
TEST(PeerBook, DroppingATorrentForgetsOnlyItsPeers) {
  PeerBook b({.forget_after_ns = 10 * kSec}, 2);
  EXPECT_TRUE(b.listed(peer(2, 0), PeerSource::kFile, 0));
  EXPECT_TRUE(b.listed(peer(3, 0), PeerSource::kTracker, 0));
  EXPECT_TRUE(b.listed(peer(2, 1), PeerSource::kFile, 0));
  b.on_dial_result(peer(3, 0), Outcome::kRefused, RedialDecision::kGiveUp, kSec);
  PeerBookCounts gone = b.drop_torrent(0);
  EXPECT_EQ(gone.total(), 2u);
  EXPECT_EQ(gone.by_state[static_cast<size_t>(PeerBookState::kGivenUp)], 1u);
  EXPECT_EQ(b.counts(0).total(), 0u);
  EXPECT_EQ(b.counts(1).total(), 1u);
  EXPECT_EQ(b.find(peer(2, 0)), nullptr);
  ASSERT_NE(b.find(peer(2, 1)), nullptr);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.totals().total(), 1u);  // the totals lose what it had, and only that
  EXPECT_EQ(b.totals().by_state[static_cast<size_t>(PeerBookState::kGivenUp)], 0u);
  EXPECT_EQ(b.forget(20 * kSec), 0u);  // its given-up entry has no record behind it
  EXPECT_EQ(b.counts(0).forgotten, 0u);
  EXPECT_TRUE(b.listed(peer(2, 0), PeerSource::kTracker, 21 * kSec));  // new again
  EXPECT_EQ(b.drop_torrent(5).total(), 0u);                            // no such torrent
}

// The totals are kept as counts change, not summed: after every kind of
// event over three torrents they still equal the sum of the torrents' counts.
TEST(PeerBook, TotalsFollowEveryChange) {
  PeerBook b({.forget_after_ns = 5 * kSec, .max_peers = 20}, 3);
  auto check = [&] {
    PeerBookCounts sum;
    for (uint32_t t = 0; t < 3; ++t) {
      const PeerBookCounts& c = b.counts(t);
      for (size_t i = 0; i < sum.by_state.size(); ++i) sum.by_state[i] += c.by_state[i];
      sum.seeds += c.seeds;
      sum.forgotten += c.forgotten;
      sum.refused_full += c.refused_full;
    }
    EXPECT_EQ(b.totals().by_state, sum.by_state);
    EXPECT_EQ(b.totals().seeds, sum.seeds);
    EXPECT_EQ(b.totals().forgotten, sum.forgotten);
    EXPECT_EQ(b.totals().refused_full, sum.refused_full);
  };
  for (uint8_t i = 0; i < 24; ++i) b.listed(peer(i, i % 3), PeerSource::kTracker, 0);  // 4 refused
  check();
  for (uint8_t i = 0; i < 20; ++i) {
    DialTarget p = peer(i, i % 3);
    if (i % 4 == 0) {
      b.on_dial_result(p, Outcome::kEstablished, RedialDecision::kNone, kSec);
      b.on_session_end(p, true, RedialDecision::kComplete, 2 * kSec);
    } else if (i % 4 == 1) {
      b.on_dial_result(p, Outcome::kTimeout, RedialDecision::kGiveUp, kSec);
    } else if (i % 4 == 2) {
      b.on_dial_result(p, Outcome::kRefused, RedialDecision::kRedial, kSec);
      b.on_redial(p, 2 * kSec);
    }
  }
  check();
  EXPECT_GT(b.forget(10 * kSec), 0u);
  check();
  b.drop_torrent(1);
  check();
  EXPECT_EQ(b.totals().refused_full, b.counts(0).refused_full + b.counts(2).refused_full);
}

}  // namespace
}  // namespace swarmdial
